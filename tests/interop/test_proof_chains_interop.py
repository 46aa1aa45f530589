"""Proof chains (``previousProof``) against the reference implementation (Data Integrity 1.0
§2.1.2 "Proof Chains", §4.3 "Add Proof Set/Chain", §4.5 "Verify Proof Sets and Chains").

The reference versions pinned in ``js/package.json`` do not implement ``previousProof``:
jsonld-signatures 11.6.0 ships ``lib/ProofChain.js`` as a stub, and
@digitalbazaar/data-integrity 2.5.0 verifies every proof over the document without any proof.
So the reference cannot verify a chain; what it can check is every byte a chain adds to the
signing input:

- ``jsonld.canonize`` gives our canonical N-Quads for the chained input document (the document
  with the named proofs back under ``proof``, a ``@graph`` container) and for the proof
  configuration holding ``previousProof`` (an ``@id``-typed term), for chains we sign with both
  suites and for the W3C vc-di-eddsa proof-chain vector;
- each chained proof's signature verifies over hashData computed from the reference's N-Quads.

The divergence itself is pinned (``test_known_divergence_reference_ignores_previous_proof``):
when upstream implements ``previousProof``, that test fails; then turn it into "they verify our
chains". Chains are signed in-process: the ``certvc sign`` command has no previous-proof option.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from contexts.jsonld import to_dataset
from contexts.loader import ContextStore, default_store
from keys.base58btc import b58decode
from keys.dates import parse_datetime_stamp
from keys.keypair import KeyPair, PublicKey
from keys.rdfc import canonicalize
from keys.suites import FAST, REGISTRY, ProofOptions, canonize, create_proof
from tests.interop.credentials import CREATED, CREDENTIALS, KEYS, InteropKey
from tests.interop.harness import Reference
from tests.keys.test_proof_chains import W3C_CHAIN
from tests.vectors.conftest import vector_store

pytestmark = pytest.mark.interop

A_ID = "urn:uuid:7d1e5c2a-3b4f-4a6e-9c8d-1f2e3a4b5c6d"
B_ID = "urn:uuid:2b8f9e1d-6c5a-4d3b-8a7e-9f0e1d2c3b4a"
CHAIN_CREDENTIALS = ("plain_vc", "awkward")


def _our_chain(key: InteropKey, name: str) -> dict[str, Any]:
    """A (with an id) then B chained to A, both by ``key``, on credential ``name``."""
    suite = REGISTRY[key.suite].cryptosuite
    assert suite is not None
    store = default_store()
    signer = KeyPair.from_multikey(key.key_pair()).signer()
    created = parse_datetime_stamp(CREATED)
    one = create_proof(
        suite,
        CREDENTIALS[name](key.did),
        signer,
        ProofOptions(created=created, id=A_ID),
        store,
        canonicalizer=FAST,
    )
    options = ProofOptions(created=created, id=B_ID, previous_proof=A_ID)
    return create_proof(suite, one, signer, options, store, canonicalizer=FAST)


def _covered(document: dict[str, Any], proof: dict[str, Any]) -> tuple[dict, dict, dict]:
    """What a chained proof signs, built here from §4.5 steps 3.2-3.3 rather than by certvc:
    the document with only the named proofs under ``proof``, and the proof configuration;
    then the document with no proof (what a proof-set member would sign)."""
    named = proof["previousProof"]
    ids = [named] if isinstance(named, str) else named
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    covered = {**unsecured, "proof": [p for p in document["proof"] if p.get("id") in ids]}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return covered, config, unsecured


def _cases() -> list[tuple[str, dict[str, Any], dict[str, Any], ContextStore]]:
    """(name, secured document, chained proof, our context store)."""
    cases = []
    for key in KEYS:
        for name in CHAIN_CREDENTIALS:
            chained = _our_chain(key, name)
            cases.append((f"{key.name}-{name}", chained, chained["proof"][1], default_store()))
    for index in (2, 3):
        cases.append(
            (f"w3c-proof-{index + 1}", W3C_CHAIN, W3C_CHAIN["proof"][index], vector_store())
        )
    return cases


@pytest.fixture(scope="module")
def reference_nquads(reference: Reference) -> list[tuple[Any, ...]]:
    """Every case with the reference's N-Quads of its three inputs (one node call)."""
    cases = _cases()
    jobs = [
        {"document": part, "messageDigestAlgorithm": _digest(proof).upper().replace("SHA", "SHA-")}
        for _, doc, proof, _ in cases
        for part in _covered(doc, proof)
    ]
    results = reference.run("canonize.mjs", jobs)
    out = []
    for i, (name, document, proof, store) in enumerate(cases):
        nquads = []
        for result in results[3 * i : 3 * i + 3]:
            assert "nquads" in result, f"{name}: the reference refused an input: {result}"
            nquads.append(result["nquads"])
        out.append((name, document, proof, store, *nquads))
    return out


def _digest(proof: Any) -> str:
    """The hash the proof's suite uses with its key (and RDFC-1.0 labels blank nodes with)."""
    public = PublicKey.from_multibase(proof["verificationMethod"].split("#", 1)[1])
    return public.key_type.hash_name


def test_reference_canonizes_chained_inputs_as_we_do(reference_nquads) -> None:
    """Byte-identical N-Quads for the document holding the previous proofs and for the proof
    configuration with previousProof, by our product path (fast) and our plain path (P-384:
    the plain path labelling with SHA-384, as ecdsa-rdfc-2019 does with that curve)."""
    for name, document, proof, store, ref_covered, ref_config, _ in reference_nquads:
        covered, config, _ = _covered(document, proof)
        assert "https://w3id.org/security#proof" in ref_covered, name
        assert "https://w3id.org/security#previousProof" in ref_config, name
        digest = _digest(proof)
        canonicalizers = (FAST, canonize) if digest == "sha256" else (_with(digest),)
        for canonicalizer in canonicalizers:
            assert canonicalizer(covered, store) == ref_covered, name
            assert canonicalizer(config, store) == ref_config, name


def _with(digest: str) -> Any:
    def canonicalizer(document: Any, store: Any) -> str:
        return canonicalize(to_dataset(document, store), hash_algorithm=digest)

    return canonicalizer


def test_chained_signature_verifies_over_the_reference_canonical_forms(reference_nquads) -> None:
    """A verifier that canonicalizes with the reference and follows §4.5 accepts our chains
    and the W3C vector's: hashData = H(config) || H(document with the previous proofs). Over
    the document without them (as for a proof-set member) the signature fails."""
    for name, _, proof, _, ref_covered, ref_config, ref_unsecured in reference_nquads:
        public = PublicKey.from_multibase(proof["verificationMethod"].split("#", 1)[1])
        h = public.key_type.hash_name
        config_hash = hashlib.new(h, ref_config.encode("utf-8")).digest()
        signature = b58decode(proof["proofValue"][1:])
        chained = config_hash + hashlib.new(h, ref_covered.encode("utf-8")).digest()
        alone = config_hash + hashlib.new(h, ref_unsecured.encode("utf-8")).digest()
        assert public.verify(signature, chained), name
        assert not public.verify(signature, alone), name


def test_known_divergence_reference_ignores_previous_proof(reference: Reference) -> None:
    """The reference verifies each proof over the document without proofs: proof A of our
    chain verifies, chained proof B fails as "Invalid signature." (the set as a whole still
    verifies there: jsonld-signatures passes a proof set when any proof verifies)."""
    jobs = [
        {"credential": _our_chain(key, "plain_vc"), "now": "2025-01-01T00:00:00Z"} for key in KEYS
    ]
    for key, job, result in zip(KEYS, jobs, reference.run("verify_proofs.mjs", jobs), strict=True):
        first, second = job["credential"]["proof"]
        by_value = {p["proofValue"]: p for p in result["proofs"]}
        assert by_value[first["proofValue"]]["verified"] is True, key.name
        assert by_value[second["proofValue"]]["verified"] is False, key.name
        assert by_value[second["proofValue"]]["error"]["message"] == "Invalid signature."
        assert result["verified"] is True, key.name
