"""Replay the W3C vc-di-eddsa and vc-di-ecdsa vectors exactly (VC-DI-EdDSA, VC-DI-ECDSA §3.3)."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, REGISTRY, ProofOptions, canonize, create_proof
from verifier.engine import VerifierPolicy, verify_credential
from verifier.result import Check, CheckStatus

from .conftest import CITIZENSHIP_V4RC1, EXAMPLES_V2, VECTOR_SETS, VECTORS, VectorSet

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ids = [v.name for v in VECTOR_SETS]


@pytest.mark.parametrize("vs", VECTOR_SETS, ids=ids)
def test_canonical_document_is_byte_identical(vs: VectorSet, store) -> None:
    """RDFC-1.0 canonical N-Quads of the unsigned document equal the vector's canonDoc."""
    assert canonize(vs.unsigned, store) == vs.canonical_document


@pytest.mark.parametrize("vs", VECTOR_SETS, ids=ids)
def test_canonical_proof_configuration_is_byte_identical(vs: VectorSet, store) -> None:
    """The proof configuration (with the document's @context) canonicalizes to proofCanon."""
    assert canonize(vs.proof_config, store) == vs.canonical_proof_config


@pytest.mark.parametrize("vs", VECTOR_SETS, ids=ids)
def test_hashes_match(vs: VectorSet) -> None:
    """hashData = H(proof config) || H(document) (VC-DI-EdDSA §3.3.4, VC-DI-ECDSA §3.3.4)."""
    proof_hash = hashlib.new(vs.hash_name, vs.canonical_proof_config.encode()).hexdigest()
    doc_hash = hashlib.new(vs.hash_name, vs.canonical_document.encode()).hexdigest()
    assert proof_hash == vs.proof_hash
    assert doc_hash == vs.document_hash
    assert proof_hash + doc_hash == vs.combined_hash


def _options(vs: VectorSet) -> ProofOptions:
    return ProofOptions(
        created=datetime.fromisoformat(vs.proof_config["created"].replace("Z", "+00:00")),
        verification_method=vs.proof_config["verificationMethod"],
    )


@pytest.mark.parametrize(
    "vs", [v for v in VECTOR_SETS if v.cryptosuite == "eddsa-rdfc-2022"], ids=lambda v: v.name
)
def test_eddsa_signing_reproduces_the_signed_vector(vs: VectorSet, store) -> None:
    """Ed25519 is deterministic: same key and options give the identical proofValue."""
    pair = KeyPair.from_multikey(vs.key_pair)
    signer = pair.signer(vs.proof_config["verificationMethod"])
    suite = REGISTRY["eddsa-rdfc-2022"].cryptosuite
    signed = create_proof(suite, vs.unsigned, signer, _options(vs), store, canonicalizer=FAST)
    assert signed["proof"]["proofValue"] == vs.proof_value
    assert signed == vs.signed
    assert signer.sign(bytes.fromhex(vs.combined_hash)).hex() == vs.signature_hex


@pytest.mark.parametrize("vs", VECTOR_SETS, ids=ids)
def test_signed_vector_proof_verifies(vs: VectorSet, store) -> None:
    """The vector's proof verifies; its issuer is not the key's controller, so `issuer` fails."""
    result = verify_credential(
        vs.signed,
        VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST),
        now=NOW,
    )
    assert result.check(Check.SHAPE).status is CheckStatus.PASSED
    assert result.check(Check.CONTEXT).status is CheckStatus.PASSED
    assert result.check(Check.PROOF).status is CheckStatus.PASSED, result.check(Check.PROOF)
    issuer = vs.signed["issuer"]
    issuer = issuer["id"] if isinstance(issuer, dict) else issuer
    if issuer == vs.proof_config["verificationMethod"].split("#")[0]:
        assert result.check(Check.ISSUER).status is CheckStatus.PASSED
    else:
        assert result.check(Check.ISSUER).status is CheckStatus.FAILED


@pytest.mark.parametrize(
    "vs", [v for v in VECTOR_SETS if v.cryptosuite == "ecdsa-rdfc-2019"], ids=lambda v: v.name
)
def test_ecdsa_vector_signature_and_fresh_signature_verify(vs: VectorSet, store) -> None:
    """ECDSA signatures are randomized: check the given one, and that ours verifies too."""
    pair = KeyPair.from_multikey(vs.key_pair)
    assert pair.public_key.verify(bytes.fromhex(vs.signature_hex), bytes.fromhex(vs.combined_hash))
    suite = REGISTRY["ecdsa-rdfc-2019"].cryptosuite
    signer = pair.signer(vs.proof_config["verificationMethod"])
    ours = create_proof(suite, vs.unsigned, signer, _options(vs), store, canonicalizer=FAST)
    assert {k: v for k, v in ours["proof"].items() if k != "proofValue"} == {
        k: v for k, v in vs.signed["proof"].items() if k != "proofValue"
    }
    result = verify_credential(
        ours, VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST), now=NOW
    )
    assert result.check(Check.PROOF).status is CheckStatus.PASSED


def _leaf_paths(value: Any, path: tuple = ()) -> Iterator[tuple]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaf_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaf_paths(v, (*path, i))
    elif isinstance(value, str) and value:
        yield path


def _mutate(doc: dict, path: tuple) -> dict:
    changed = copy.deepcopy(doc)
    target = changed
    for key in path[:-1]:
        target = target[key]
    text = target[path[-1]]
    i = len(text) // 2
    target[path[-1]] = text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1 :]
    return changed


def _tamper_cases() -> Iterator[Any]:
    for vs in VECTOR_SETS:
        for path in _leaf_paths(vs.signed):
            yield pytest.param(vs, path, id=f"{vs.name}:{'.'.join(map(str, path))}")


@pytest.mark.parametrize(("vs", "path"), list(_tamper_cases()))
def test_changing_one_character_fails_the_proof(vs: VectorSet, path: tuple, store) -> None:
    """Any signed value, any proof option and the proofValue itself are covered by the proof."""
    result = verify_credential(
        _mutate(vs.signed, path),
        VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST),
        now=NOW,
    )
    assert result.check(Check.PROOF).status is CheckStatus.FAILED
    assert not result.verified


def _cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    exe = Path(sys.executable).with_name("certvc")
    return subprocess.run([str(exe), *args], input=stdin, capture_output=True, timeout=60)


def test_certvc_sign_reproduces_the_eddsa_vector() -> None:
    """Through the CLI too: same key, created and method give the signed vector byte for byte."""
    vs = VECTOR_SETS[0]
    folder = VECTORS / "eddsa-rdfc-2022"
    done = _cli(
        "sign",
        "--key",
        str(folder / "keyPair.json"),
        "--suite",
        "eddsa-rdfc-2022",
        "--created",
        vs.proof_config["created"],
        "--verification-method",
        vs.proof_config["verificationMethod"],
        "--context",
        f"{EXAMPLES_V2}={VECTORS / 'contexts' / 'www.w3.org_ns_credentials_examples_v2.jsonld'}",
        "--context",
        f"{CITIZENSHIP_V4RC1}={VECTORS / 'contexts' / 'w3id.org_citizenship_v4rc1.jsonld'}",
        str(folder / "unsigned.json"),
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout) == vs.signed


# -- proof chains and the issuer (issue 14) --------------------------------------------------

_EDDSA_SETS = [v for v in VECTOR_SETS if v.cryptosuite == "eddsa-rdfc-2022"]


@pytest.mark.parametrize("vs", _EDDSA_SETS, ids=lambda v: v.name)
def test_a_notary_chained_to_the_vector_proof_does_not_make_it_the_issuers(
    vs: VectorSet, store
) -> None:
    """Data Integrity §2.1.2 / §4.5 and VC 2.0 §4.7: the vector's proof (its key is not the
    issuer's) with a notary's proof chained to it: both verify, the chain holds, and the issuer
    check still fails: no proof asserts the credential in its issuer's name."""
    notary = KeyPair.generate(KeyType.ED25519)
    # the vector's document and key, its proof given an id (the id is part of the proof
    # configuration, so the proof is made again) for the notary to chain to
    first = create_proof(
        REGISTRY["eddsa-rdfc-2022"].cryptosuite,
        vs.unsigned,
        KeyPair.from_multikey(vs.key_pair).signer(vs.proof_config["verificationMethod"]),
        ProofOptions(
            created=datetime.fromisoformat(vs.proof_config["created"]), id="urn:uuid:vector"
        ),
        store,
        FAST,
    )
    chained = create_proof(
        REGISTRY["eddsa-rdfc-2022"].cryptosuite,
        first,
        notary.signer(),
        ProofOptions(created=NOW, previous_proof="urn:uuid:vector"),
        store,
        FAST,
    )
    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST)
    result = verify_credential(chained, policy, now=NOW)
    assert result.check(Check.PROOF).status is CheckStatus.PASSED, result.check(Check.PROOF)
    assert result.check(Check.ISSUER).status is CheckStatus.FAILED


@pytest.mark.parametrize("vs", _EDDSA_SETS, ids=lambda v: v.name)
def test_the_issuer_first_and_the_vector_key_as_notary_verifies(vs: VectorSet, store) -> None:
    """Data Integrity §2.1.2's proof-chain example: the issuer's proof, then a notary's proof
    (here the W3C vector key) naming it in previousProof: VALID apart from trust, the notary
    named as a co-signer, not failed."""
    issuer = KeyPair.generate(KeyType.ED25519)
    unsigned = {**copy.deepcopy(vs.unsigned), "issuer": issuer.public_key.did_key}
    suite = REGISTRY["eddsa-rdfc-2022"].cryptosuite
    first = create_proof(
        suite, unsigned, issuer.signer(), ProofOptions(created=NOW, id="urn:uuid:1"), store, FAST
    )
    vector_key = KeyPair.from_multikey(vs.key_pair)
    chained = create_proof(
        suite,
        first,
        vector_key.signer(),
        ProofOptions(created=NOW, previous_proof="urn:uuid:1"),
        store,
        FAST,
    )
    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST)
    result = verify_credential(chained, policy, now=NOW)
    assert result.check(Check.PROOF).status is CheckStatus.PASSED
    issuer_check = result.check(Check.ISSUER)
    assert issuer_check.status is CheckStatus.PASSED
    assert f"{vector_key.public_key.did_key} (not the issuer)" in issuer_check.message
