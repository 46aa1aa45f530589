"""Proof chains: ``previousProof`` on signing and verifying (Data Integrity 1.0 §2.1.2 "Proof
Chains", §4.3 "Add Proof Set/Chain", §4.5 "Verify Proof Sets and Chains").

A chained proof covers the document and the proofs it names; every proof of the set must verify.
The W3C vc-di-eddsa proof-set-chain vector is replayed byte for byte; the rest signs its own
chains with both RDF cryptosuites.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contexts.loader import ContextStore, default_store
from keys.base58btc import b58decode
from keys.dates import parse_datetime_stamp
from keys.did import LocalResolver
from keys.errors import KeyCode, ProofError
from keys.fastpath import FastCanonicalizer
from keys.keypair import KeyPair, KeyType
from keys.suites import (
    FAST,
    REGISTRY,
    Canonicalizer,
    ProofOptions,
    RdfcCryptosuite,
    canonize,
    create_proof,
    previous_proof_ids,
    proof_input_document,
    verify_proof,
)
from tests.vectors.conftest import vector_store
from verifier.engine import MAX_PROOFS, VerifierPolicy, verify_credential
from verifier.result import Check, CheckStatus, Verdict
from verifier.samples import certification_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EDDSA = REGISTRY["eddsa-rdfc-2022"].cryptosuite
ECDSA = REGISTRY["ecdsa-rdfc-2019"].cryptosuite
A_ID = "urn:uuid:0a4c9b1e-6f0e-4c55-9a8e-8d1f3b2a7c01"
B_ID = "urn:uuid:5e2d7f40-1b9c-4e3a-8f6d-2c7b9a0e4d12"
C_ID = "urn:uuid:9c1f2e3d-4b5a-4c6d-8e7f-0a1b2c3d4e23"
MISSING_ID = "urn:uuid:ffffffff-0000-4000-8000-000000000000"

SUITES = [
    pytest.param((EDDSA, KeyType.ED25519), id="eddsa-rdfc-2022"),
    pytest.param((ECDSA, KeyType.P256), id="ecdsa-rdfc-2019-p256"),
    pytest.param((ECDSA, KeyType.P384), id="ecdsa-rdfc-2019-p384"),
]


@pytest.fixture(scope="module")
def store() -> ContextStore:
    return default_store()


@pytest.fixture(scope="module", params=SUITES)
def suite_key(request) -> tuple[RdfcCryptosuite, KeyPair]:
    suite, key_type = request.param
    return suite, KeyPair.generate(key_type)


def _credential(pair: KeyPair) -> dict[str, Any]:
    return certification_credential(pair.public_key.did_key, valid_from=NOW)


def _chain(
    suite: RdfcCryptosuite, pair: KeyPair, store: ContextStore, canonicalizer: Canonicalizer = FAST
) -> dict[str, Any]:
    """Proof A (with an id), then proof B chained to A, both by the issuer's key."""
    first = ProofOptions(created=NOW, id=A_ID)
    one = create_proof(suite, _credential(pair), pair.signer(), first, store, canonicalizer)
    options = ProofOptions(created=NOW + timedelta(hours=1), id=B_ID, previous_proof=A_ID)
    return create_proof(suite, one, pair.signer(), options, store, canonicalizer)


def _verify(suite: RdfcCryptosuite, document: dict, proof: dict, store: ContextStore, **kw):
    return verify_proof(
        suite,
        document,
        proof,
        resolver=LocalResolver(),
        store=store,
        now=NOW,
        **{"canonicalizer": FAST, **kw},
    )


def _failure(suite, document, proof, store) -> ProofError:
    with pytest.raises(ProofError) as caught:
        _verify(suite, document, proof, store)
    return caught.value


def _engine(document: dict, store: ContextStore):
    return verify_credential(
        document, VerifierPolicy(store, LocalResolver(), canonicalizer=FAST), now=NOW
    )


# -- signing ---------------------------------------------------------------------------------


def test_chained_proof_fields(suite_key, store) -> None:
    """§2.1: the new proof carries its `id` and `previousProof`; A stays as it was."""
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    first, second = chained["proof"]
    assert first["id"] == A_ID and "previousProof" not in first
    assert second["id"] == B_ID
    assert second["previousProof"] == A_ID
    assert second["cryptosuite"] == suite.name
    assert second["proofValue"].startswith("z")


def test_previous_proof_must_name_a_proof_of_the_document(suite_key, store) -> None:
    """§4.3 step 4-5: a previousProof that names no proof is PROOF_GENERATION_ERROR."""
    suite, pair = suite_key
    signed = create_proof(
        suite,
        _credential(pair),
        pair.signer(),
        ProofOptions(created=NOW, id=A_ID),
        store,
        canonicalizer=FAST,
    )
    for document, previous in [
        (signed, MISSING_ID),
        (signed, [A_ID, MISSING_ID]),
        (_credential(pair), A_ID),  # no proof at all
    ]:
        with pytest.raises(ProofError) as caught:
            create_proof(
                suite,
                document,
                pair.signer(),
                ProofOptions(created=NOW, previous_proof=previous),
                store,
                canonicalizer=FAST,
            )
        assert caught.value.code is KeyCode.PROOF_GENERATION
        assert MISSING_ID in caught.value.message or "no proof" in caught.value.message


@pytest.mark.parametrize(
    "previous", [[], [""], [A_ID, 7], ""], ids=["empty-list", "blank-item", "int-item", "blank"]
)
def test_previous_proof_option_must_be_ids(previous, store) -> None:
    """ProofOptions.previous_proof is one id or a non-empty list of ids."""
    pair = KeyPair.generate(KeyType.ED25519)
    signed = create_proof(
        EDDSA,
        _credential(pair),
        pair.signer(),
        ProofOptions(created=NOW, id=A_ID),
        store,
        canonicalizer=FAST,
    )
    with pytest.raises(ProofError) as caught:
        create_proof(
            EDDSA,
            signed,
            pair.signer(),
            ProofOptions(created=NOW, previous_proof=previous),
            store,
            canonicalizer=FAST,
        )
    assert caught.value.code is KeyCode.PROOF_GENERATION


def test_signing_refuses_duplicate_proof_ids(store) -> None:
    """A new proof may not reuse an id of the set, and may not chain to an id two proofs carry
    **(policy)**: the chain would not say which proof it covers."""
    pair = KeyPair.generate(KeyType.ED25519)
    signed = create_proof(
        EDDSA,
        _credential(pair),
        pair.signer(),
        ProofOptions(created=NOW, id=A_ID),
        store,
        canonicalizer=FAST,
    )
    with pytest.raises(ProofError) as caught:
        create_proof(
            EDDSA,
            signed,
            pair.signer(),
            ProofOptions(created=NOW, id=A_ID),
            store,
            canonicalizer=FAST,
        )
    assert caught.value.code is KeyCode.PROOF_GENERATION
    doubled = copy.deepcopy(signed)
    doubled["proof"] = [signed["proof"], copy.deepcopy(signed["proof"])]
    with pytest.raises(ProofError) as caught:
        create_proof(
            EDDSA,
            doubled,
            pair.signer(),
            ProofOptions(created=NOW, previous_proof=A_ID),
            store,
            canonicalizer=FAST,
        )
    assert caught.value.code is KeyCode.PROOF_GENERATION
    assert "2 proofs" in caught.value.message


def test_chained_proof_covers_only_the_named_proofs(store) -> None:
    """§4.3 step 6: the input document holds the named proofs, not the whole set."""
    pair = KeyPair.generate(KeyType.ED25519)
    document = _credential(pair)
    for proof_id in (A_ID, B_ID):
        document = create_proof(
            EDDSA,
            document,
            pair.signer(),
            ProofOptions(created=NOW, id=proof_id),
            store,
            canonicalizer=FAST,
        )
    chained = create_proof(
        EDDSA,
        document,
        pair.signer(),
        ProofOptions(created=NOW, previous_proof=B_ID),
        store,
        canonicalizer=FAST,
    )
    a, b, c = chained["proof"]
    assert proof_input_document(chained, c)["proof"] == [b]
    # A is not covered: without it, C still verifies; without B, C is refused.
    _verify(EDDSA, {**chained, "proof": [b, c]}, c, store)
    error = _failure(EDDSA, {**chained, "proof": [a, c]}, c, store)
    assert error.code is KeyCode.MALFORMED_PROOF


# -- verifying -------------------------------------------------------------------------------


def test_chain_verifies(suite_key, store) -> None:
    """§4.5: A verifies alone; B verifies over the document with A in `proof`."""
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    first, second = chained["proof"]
    _verify(suite, chained, first, store)
    checked = _verify(suite, chained, second, store)
    assert checked.verification_method == pair.public_key.did_key_method_id
    result = _engine(chained, store)
    assert result.verdict is Verdict.VALID
    proof_check = result.check(Check.PROOF)
    assert proof_check.status is CheckStatus.PASSED
    assert f"after {A_ID}" in proof_check.message


def test_chained_proof_signed_over_the_previous_proof(suite_key, store) -> None:
    """B's signature covers A: checked over the document alone (as a set member), it fails."""
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    second = chained["proof"][1]
    as_set_member = {k: v for k, v in second.items() if k != "previousProof"}
    document = {**chained, "proof": [chained["proof"][0], as_set_member]}
    assert _failure(suite, document, as_set_member, store).code is KeyCode.SIGNATURE_INVALID


def test_tampered_previous_proof_fails_both(suite_key, store) -> None:
    """One changed character in A fails A, and B too, because B covers A."""
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    tampered = copy.deepcopy(chained)
    tampered["proof"][0]["created"] = "2026-06-01T00:00:01Z"
    first, second = tampered["proof"]
    assert _failure(suite, tampered, first, store).code is KeyCode.SIGNATURE_INVALID
    assert _failure(suite, tampered, second, store).code is KeyCode.SIGNATURE_INVALID
    result = _engine(tampered, store)
    assert result.check(Check.PROOF).status is CheckStatus.FAILED
    assert result.check(Check.PROOF).code is KeyCode.SIGNATURE_INVALID
    assert result.verdict is Verdict.INVALID_SIGNATURE


def test_swapped_previous_proof_fails_the_chained_one(suite_key, store) -> None:
    """A replaced by another valid proof with the same id (same key, other `created`): the new A
    verifies on its own, B does not, since it signed the original A."""
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    other = create_proof(
        suite,
        _credential(pair),
        pair.signer(),
        ProofOptions(created=NOW + timedelta(days=1), id=A_ID),
        store,
        canonicalizer=FAST,
    )["proof"]
    swapped = {**chained, "proof": [other, chained["proof"][1]]}
    _verify(suite, swapped, other, store)
    assert _failure(suite, swapped, swapped["proof"][1], store).code is (KeyCode.SIGNATURE_INVALID)
    result = _engine(swapped, store)
    assert result.check(Check.PROOF).code is KeyCode.SIGNATURE_INVALID
    assert result.check(Check.PROOF).message.startswith(f"proof 2 of 2 ({B_ID}): ")


def test_tampered_credential_fails_both(suite_key, store) -> None:
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    tampered = copy.deepcopy(chained)
    tampered["credentialSubject"]["name"] = "Mallory"
    for proof in tampered["proof"]:
        assert _failure(suite, tampered, proof, store).code is KeyCode.SIGNATURE_INVALID


def test_previous_proof_missing_from_the_set(suite_key, store) -> None:
    """§4.5 step 3.2: an id naming no proof of the set fails with a clear code, naming it."""
    suite, pair = suite_key
    chained = _chain(suite, pair, store)
    alone = {**chained, "proof": [chained["proof"][1]]}
    error = _failure(suite, alone, chained["proof"][1], store)
    assert error.code is KeyCode.MALFORMED_PROOF
    assert A_ID in error.message
    result = _engine(alone, store)
    assert len(result.checks) == len(Check)
    assert result.check(Check.PROOF).code is KeyCode.MALFORMED_PROOF
    assert A_ID in result.check(Check.PROOF).message
    assert result.check(Check.ISSUER).status is CheckStatus.SKIPPED
    assert result.verdict is Verdict.INVALID_SIGNATURE


def test_previous_proof_naming_two_proofs_fails(store) -> None:
    """Duplicate ids: the reference is ambiguous, so the chained proof fails **(policy)**."""
    pair = KeyPair.generate(KeyType.ED25519)
    chained = _chain(EDDSA, pair, store)
    first, second = chained["proof"]
    doubled = {**chained, "proof": [first, copy.deepcopy(first), second]}
    error = _failure(EDDSA, doubled, second, store)
    assert error.code is KeyCode.MALFORMED_PROOF
    assert "2 proofs" in error.message
    result = _engine(doubled, store)
    assert result.check(Check.PROOF).code is KeyCode.MALFORMED_PROOF
    assert result.check(Check.PROOF).message.startswith(f"proof 3 of 3 ({B_ID}): ")


def test_duplicate_ids_nobody_chains_to_still_verify(store) -> None:
    """A proof set whose proofs share an id verifies as before when no proof names that id."""
    pair = KeyPair.generate(KeyType.ED25519)
    signed = create_proof(
        EDDSA,
        _credential(pair),
        pair.signer(),
        ProofOptions(created=NOW, id=A_ID),
        store,
        canonicalizer=FAST,
    )
    doubled = {**signed, "proof": [signed["proof"], copy.deepcopy(signed["proof"])]}
    assert _engine(doubled, store).check(Check.PROOF).status is CheckStatus.PASSED


@pytest.mark.parametrize("shape", ["self", "two", "three"])
def test_cycles_fail_cleanly(shape: str, store) -> None:
    """A proof whose chain leads back to itself could never have been made: refused by name,
    and the engine reports it as a failed proof check, never an exception."""
    pair = KeyPair.generate(KeyType.ED25519)
    chained = _chain(EDDSA, pair, store)
    document = copy.deepcopy(chained)
    first, second = document["proof"]
    if shape == "self":
        first["previousProof"] = A_ID
        cycle = [first]
    elif shape == "two":
        first["previousProof"] = B_ID
        cycle = [first, second]
    else:
        third = create_proof(
            EDDSA,
            chained,
            pair.signer(),
            ProofOptions(created=NOW, id=C_ID, previous_proof=B_ID),
            store,
            canonicalizer=FAST,
        )["proof"][2]
        document["proof"].append(third)
        first["previousProof"] = [C_ID]
        cycle = [first, second, third]
    for proof in cycle:
        error = _failure(EDDSA, document, proof, store)
        assert error.code is KeyCode.MALFORMED_PROOF
        assert "itself" in error.message or "cycle" in error.message
    result = _engine(document, store)
    assert len(result.checks) == len(Check)
    assert result.check(Check.PROOF).code is KeyCode.MALFORMED_PROOF
    assert result.verdict is Verdict.INVALID_SIGNATURE


@pytest.mark.parametrize(
    "value", [42, [], "", [A_ID, None], {"id": A_ID}], ids=["int", "empty", "blank", "none", "obj"]
)
def test_malformed_previous_proof(value, store) -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    chained = _chain(EDDSA, pair, store)
    chained["proof"][1]["previousProof"] = value
    with pytest.raises(ProofError) as caught:
        previous_proof_ids(chained["proof"][1])
    assert caught.value.code is KeyCode.MALFORMED_PROOF
    assert _failure(EDDSA, chained, chained["proof"][1], store).code is KeyCode.MALFORMED_PROOF
    assert _engine(chained, store).check(Check.PROOF).code is KeyCode.MALFORMED_PROOF


def test_previous_proof_list_is_unordered(store) -> None:
    """§2.1: previousProof is an unordered list; C names B and A in either order."""
    pair = KeyPair.generate(KeyType.ED25519)
    document = _credential(pair)
    for proof_id in (A_ID, B_ID):
        document = create_proof(
            EDDSA,
            document,
            pair.signer(),
            ProofOptions(created=NOW, id=proof_id),
            store,
            canonicalizer=FAST,
        )
    for previous in ([A_ID, B_ID], [B_ID, A_ID]):
        options = ProofOptions(created=NOW, id=C_ID, previous_proof=previous)
        chained = create_proof(EDDSA, document, pair.signer(), options, store, canonicalizer=FAST)
        assert chained["proof"][2]["previousProof"] == previous
        assert proof_input_document(chained, chained["proof"][2])["proof"] == chained["proof"][:2]
        assert _engine(chained, store).verdict is Verdict.VALID


def test_proof_set_without_chains_still_works(store) -> None:
    """§2.1.1: proofs without previousProof cover the document only; each verifies alone."""
    ed = KeyPair.generate(KeyType.ED25519)
    p256 = KeyPair.generate(KeyType.P256)
    one = create_proof(
        EDDSA, _credential(ed), ed.signer(), ProofOptions(created=NOW), store, canonicalizer=FAST
    )
    both = create_proof(
        ECDSA, one, p256.signer(), ProofOptions(created=NOW), store, canonicalizer=FAST
    )
    first, second = both["proof"]
    assert "id" not in first and "previousProof" not in second
    assert proof_input_document(both, second) == _credential(ed)
    _verify(EDDSA, both, first, store)
    _verify(ECDSA, both, second, store)
    _verify(ECDSA, {**both, "proof": second}, second, store)  # A gone: B does not cover it
    assert _engine(both, store).check(Check.PROOF).status is CheckStatus.PASSED


def test_chain_across_suites(store) -> None:
    """An ecdsa-rdfc-2019 proof chained to an eddsa-rdfc-2022 proof (another signer, such as
    an endorser): the proof check passes; the issuer's own proof asserts the credential, so the
    issuer check passes and names the other key (Data Integrity §2.1.2, VC 2.0 §4.7)."""
    ed = KeyPair.generate(KeyType.ED25519)
    p384 = KeyPair.generate(KeyType.P384)
    one = create_proof(
        EDDSA,
        _credential(ed),
        ed.signer(),
        ProofOptions(created=NOW, id=A_ID),
        store,
        canonicalizer=FAST,
    )
    chained = create_proof(
        ECDSA,
        one,
        p384.signer(),
        ProofOptions(created=NOW, previous_proof=A_ID),
        store,
        canonicalizer=FAST,
    )
    _verify(ECDSA, chained, chained["proof"][1], store)
    result = _engine(chained, store)
    assert result.check(Check.PROOF).status is CheckStatus.PASSED
    assert result.check(Check.ISSUER).status is CheckStatus.PASSED
    assert f"{p384.public_key.did_key} (not the issuer)" in result.check(Check.ISSUER).message


# -- the fast canonicalizer ------------------------------------------------------------------


def test_fast_path_is_byte_identical_for_chained_documents(store) -> None:
    """keys.fastpath writes the chained input document (a proof graph inside) exactly as the
    plain pyld path does, also once the shape is compiled into a template."""
    fast = FastCanonicalizer(compile_after=1)
    pair = KeyPair.generate(KeyType.ED25519)
    for day in range(4):
        credential = certification_credential(
            pair.public_key.did_key, valid_from=NOW + timedelta(days=day)
        )
        one = create_proof(
            EDDSA, credential, pair.signer(), ProofOptions(created=NOW, id=A_ID), store, fast
        )
        options = ProofOptions(created=NOW, id=f"{B_ID}{day}", previous_proof=A_ID)
        chained = create_proof(EDDSA, one, pair.signer(), options, store, fast)
        covered = proof_input_document(chained, chained["proof"][1])
        hits = fast.stats().hits
        assert fast(covered, store) == canonize(covered, store)
        if day >= 2:  # compiled after the first sightings: now written from the template
            assert fast.stats().hits == hits + 1
        # Ed25519 is deterministic: both paths sign the same bytes.
        plain = create_proof(EDDSA, one, pair.signer(), options, store, canonize)
        assert plain["proof"][1]["proofValue"] == chained["proof"][1]["proofValue"]
        _verify(EDDSA, chained, chained["proof"][1], store, canonicalizer=canonize)
        _verify(EDDSA, plain, plain["proof"][1], store, canonicalizer=fast)


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_fast_and_plain_paths_verify_each_others_ecdsa_chains(key_type, store) -> None:
    pair = KeyPair.generate(key_type)
    by_fast = _chain(ECDSA, pair, store, FastCanonicalizer(compile_after=1))
    by_plain = _chain(ECDSA, pair, store, canonize)
    _verify(ECDSA, by_fast, by_fast["proof"][1], store, canonicalizer=canonize)
    _verify(ECDSA, by_plain, by_plain["proof"][1], store, canonicalizer=FastCanonicalizer())


# -- the W3C vector --------------------------------------------------------------------------

# w3c/vc-di-eddsa TestVectors/proof-set-chain/signedProofChain2.json at commit
# 702cea77a02a750746b6d9ca5e8c3d9a6b0d4fd2 (two proofs as a set, a third chained to both, a
# fourth chained to the third), and the secret keys of multiKeyPairs.json at f4cc8c66cf15b34e.
W3C_SECRET_KEYS = {
    "z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7": (
        "z3u2W4YnTstS1nSSBAgZcYSJF43JuZ9uLV6bF38B1Bf8NugW"
    ),
    "z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E": (
        "z3u2cfp4Q17kMGhNCh348a3yw3cUBiWK6RXRzyJE54sixMFn"
    ),
    "z6MkmEq87wkHCYnWnNZkigeDMGTN7oUw1upkhzd77KuXERS1": (
        "z3u2Zr3tcDLBDQKGxVa9SRDFNLqNqPWsa8p9rWPvCEH6bADB"
    ),
}


def _w3c_method(key: str) -> str:
    return f"did:key:{key}#{key}"


W3C_CHAIN: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        "https://www.w3.org/ns/credentials/examples/v2",
    ],
    "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
    "type": ["VerifiableCredential", "AlumniCredential"],
    "name": "Alumni Credential",
    "description": "A minimum viable example of an Alumni Credential.",
    "issuer": "https://vc.example/issuers/5678",
    "validFrom": "2023-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
    "proof": [
        {
            "type": "DataIntegrityProof",
            "id": "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": _w3c_method("z6MktgKTsu1QhX6QPbyqG6geXdw6FQCZBPq7uQpieWbiQiG7"),
            "proofPurpose": "assertionMethod",
            "proofValue": "z66vWyqwAghu52WbpRkCwFRTu6Msn92ArtjpJ3gGMSVoU5RADwBfszoDt1QWY8owqLPz4n"
            "Tj7hAwV7xFti1p93zdr",
        },
        {
            "type": "DataIntegrityProof",
            "id": "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-24T23:36:38Z",
            "verificationMethod": _w3c_method("z6MkhWqdDBPojHA7cprTGTt5yHv5yUi1B8cnXn8ReLumkw6E"),
            "proofPurpose": "assertionMethod",
            "proofValue": "z2scr94SNNrGpP2bE7ajvKWeUHm7HJ2edDkxpARvFAQ8V3USzwEzibqrXKaLHBrWostsws"
            "fvg82twQR88BgtnsrXY",
        },
        {
            "type": "DataIntegrityProof",
            "id": "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-26T22:06:38Z",
            "verificationMethod": _w3c_method("z6MkmEq87wkHCYnWnNZkigeDMGTN7oUw1upkhzd77KuXERS1"),
            "proofPurpose": "assertionMethod",
            "previousProof": [
                "urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544",
                "urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54",
            ],
            "proofValue": "zWaPeEvBAkhQpNQj8pknuvg5STcKnt3cvM9t4kAYeJETFjvVMSXEEjadC4uxC9fKCn6JHb"
            "jt6fj2fhoaVNynBm6J",
        },
        {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2023-02-26T22:16:38Z",
            "verificationMethod": _w3c_method("z6MkmEq87wkHCYnWnNZkigeDMGTN7oUw1upkhzd77KuXERS1"),
            "proofPurpose": "assertionMethod",
            "previousProof": "urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23",
            "proofValue": "z21Royb2jnpDY8GkvsTn3pwWxXiXRMEwNLSzrfERHb1TNtDBydnFqwtxY9Vypv2mwMPygJ"
            "huxbKs2QLyGHx9DBjmY",
        },
    ],
}
W3C_NOW = datetime(2024, 1, 1, tzinfo=UTC)


def test_w3c_proof_chain_vector_verifies() -> None:
    """VC-DI-EdDSA proof-set-chain vector: every proof verifies, by both canonicalizers; the
    engine's proof check passes (its issuer check fails: the vector's issuer is not a key)."""
    store = vector_store()
    for proof in W3C_CHAIN["proof"]:
        for canonicalizer in (canonize, FastCanonicalizer()):
            verify_proof(
                EDDSA,
                W3C_CHAIN,
                proof,
                resolver=LocalResolver(),
                store=store,
                now=W3C_NOW,
                canonicalizer=canonicalizer,
            )
    result = verify_credential(
        W3C_CHAIN, VerifierPolicy(store, LocalResolver(), canonicalizer=FAST), now=W3C_NOW
    )
    assert result.check(Check.PROOF).status is CheckStatus.PASSED
    assert result.check(Check.PROOF).message.count(" after ") == 2


def test_w3c_proof_chain_vector_signed_byte_for_byte() -> None:
    """Signing the vector's steps again with its keys gives its four proofs exactly (Ed25519 is
    deterministic): the two set proofs, then the chained ones over the named proofs."""
    store = vector_store()
    document = {k: v for k, v in W3C_CHAIN.items() if k != "proof"}
    for want in W3C_CHAIN["proof"]:
        public = want["verificationMethod"].split("#")[1]
        pair = KeyPair.from_multikey(
            {"publicKeyMultibase": public, "secretKeyMultibase": W3C_SECRET_KEYS[public]}
        )
        options = ProofOptions(
            created=parse_datetime_stamp(want["created"]),
            id=want.get("id"),
            previous_proof=want.get("previousProof"),
        )
        document = create_proof(EDDSA, document, pair.signer(), options, store, canonicalizer=FAST)
    assert document == W3C_CHAIN


def test_w3c_chain_tampered_first_proof_breaks_the_chain() -> None:
    """Changing proof 1 fails proof 1 and proof 3 (which covers it); proofs 2 and 4 still hold
    (4 covers 3 as written, not what 3 covers)."""
    store = vector_store()
    tampered = copy.deepcopy(W3C_CHAIN)
    tampered["proof"][0]["created"] = "2023-02-24T23:36:39Z"
    outcomes = []
    for proof in tampered["proof"]:
        try:
            verify_proof(
                EDDSA,
                tampered,
                proof,
                resolver=LocalResolver(),
                store=store,
                now=W3C_NOW,
                canonicalizer=FAST,
            )
            outcomes.append(None)
        except ProofError as error:
            outcomes.append(error.code)
    assert outcomes == [KeyCode.SIGNATURE_INVALID, None, KeyCode.SIGNATURE_INVALID, None]
    result = verify_credential(
        tampered, VerifierPolicy(store, LocalResolver(), canonicalizer=FAST), now=W3C_NOW
    )
    assert result.check(Check.PROOF).code is KeyCode.SIGNATURE_INVALID


def test_w3c_chain_hash_data_by_hand() -> None:
    """The fourth proof's signature checked from first principles: SHA-256 of the canonical
    proof configuration and of the document holding only proof 3 (§4.5 step 3.3)."""
    store = vector_store()
    third, fourth = W3C_CHAIN["proof"][2], W3C_CHAIN["proof"][3]
    covered = {k: v for k, v in W3C_CHAIN.items() if k != "proof"}
    covered["proof"] = [third]
    config = {k: v for k, v in fourth.items() if k != "proofValue"}
    config["@context"] = W3C_CHAIN["@context"]
    data = (
        hashlib.sha256(canonize(config, store).encode()).digest()
        + hashlib.sha256(canonize(covered, store).encode()).digest()
    )
    public = KeyPair.from_multikey(
        {
            "publicKeyMultibase": "z6MkmEq87wkHCYnWnNZkigeDMGTN7oUw1upkhzd77KuXERS1",
            "secretKeyMultibase": W3C_SECRET_KEYS[
                "z6MkmEq87wkHCYnWnNZkigeDMGTN7oUw1upkhzd77KuXERS1"
            ],
        }
    ).public_key
    assert public.verify(b58decode(fourth["proofValue"][1:]), data)
    assert not public.verify(b58decode(fourth["proofValue"][1:]), data[:32] + bytes(32))


def test_a_set_past_the_proof_limit_fails_without_verifying(store) -> None:
    """Policy: at most MAX_PROOFS proofs are verified; past that, one clear failure."""
    suite, pair = EDDSA, KeyPair.generate(KeyType.ED25519)
    document = _credential(pair)
    for number in range(MAX_PROOFS):
        options = ProofOptions(created=NOW, id=f"urn:uuid:{number}")
        document = create_proof(suite, document, pair.signer(), options, store, canonicalizer=FAST)
    assert _engine(document, store).verified  # exactly at the limit: every proof checked

    options = ProofOptions(created=NOW, id="urn:uuid:one-too-many")
    document = create_proof(suite, document, pair.signer(), options, store, canonicalizer=FAST)
    proof = _engine(document, store).check(Check.PROOF)
    assert proof.status is CheckStatus.FAILED and proof.code is KeyCode.MALFORMED_PROOF
    assert f"at most {MAX_PROOFS}" in proof.message
