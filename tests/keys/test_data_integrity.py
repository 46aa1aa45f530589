"""Data Integrity proof options and the verifier's proof rules (Data Integrity 1.0 §4.2–4.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from contexts.errors import Code
from contexts.loader import default_store
from keys.did import LocalResolver
from keys.errors import DidError, KeyCode, ProofError
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, REGISTRY, ProofOptions, create_proof, verify_proof
from verifier.engine import VerifierPolicy, verify_credential
from verifier.result import Check, CheckStatus, Verdict
from verifier.samples import certification_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)
EDDSA = REGISTRY["eddsa-rdfc-2022"].cryptosuite
ECDSA = REGISTRY["ecdsa-rdfc-2019"].cryptosuite


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


def _signed(pair: KeyPair, **options) -> dict:
    credential = certification_credential(pair.public_key.did_key, valid_from=NOW)
    return create_proof(
        EDDSA,
        credential,
        pair.signer(),
        ProofOptions(created=NOW, **options),
        default_store(),
        canonicalizer=FAST,
    )


def _verify(document: dict, **kw):
    proof = document["proof"]
    return verify_proof(
        EDDSA,
        document,
        proof,
        resolver=LocalResolver(),
        store=default_store(),
        now=NOW,
        **{"canonicalizer": FAST, **kw},
    )


def test_proof_fields(pair) -> None:
    """§2.1: type, cryptosuite, created, verificationMethod, proofPurpose, proofValue 'z...'."""
    proof = _signed(pair)["proof"]
    assert proof["type"] == "DataIntegrityProof"
    assert proof["cryptosuite"] == "eddsa-rdfc-2022"
    assert proof["created"] == "2026-06-01T00:00:00Z"
    assert proof["verificationMethod"] == pair.public_key.did_key_method_id
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["proofValue"].startswith("z")


def test_expires_in_the_past_fails(pair) -> None:
    """§4.3: a proof whose `expires` has passed does not verify."""
    document = _signed(pair, expires=NOW - timedelta(seconds=1))
    with pytest.raises(ProofError) as caught:
        _verify(document)
    assert caught.value.code is KeyCode.PROOF_EXPIRED
    fresh = _signed(pair, expires=NOW + timedelta(days=1))
    assert fresh["proof"]["expires"] == "2026-06-02T00:00:00Z"
    _verify(fresh)


def test_domain_and_challenge_must_match_when_expected(pair) -> None:
    """§4.3: INVALID_DOMAIN_ERROR / INVALID_CHALLENGE_ERROR when the verifier sets them."""
    document = _signed(pair, domain="https://employer.example", challenge="n-0S6_WzA2Mj")
    _verify(document, domain="https://employer.example", challenge="n-0S6_WzA2Mj")
    with pytest.raises(ProofError) as caught:
        _verify(document, domain="https://other.example")
    assert caught.value.code is KeyCode.INVALID_DOMAIN
    with pytest.raises(ProofError) as caught:
        _verify(document, challenge="replayed")
    assert caught.value.code is KeyCode.INVALID_CHALLENGE


def test_proof_purpose_must_be_the_expected_one(pair) -> None:
    document = _signed(pair, proof_purpose="authentication")
    with pytest.raises(ProofError) as caught:
        _verify(document)
    assert caught.value.code is KeyCode.PROOF_PURPOSE_MISMATCH


def test_method_not_listed_for_the_purpose_is_refused(pair) -> None:
    """The verification method must be listed under assertionMethod in its controller document."""
    document = _signed(pair)
    doc = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": "did:web:body.example",
        "verificationMethod": [
            pair.public_key.multikey_document("did:web:body.example", "did:web:body.example#k1")
        ],
        "authentication": ["did:web:body.example#k1"],
    }
    document["proof"]["verificationMethod"] = "did:web:body.example#k1"
    with pytest.raises(DidError):
        verify_proof(
            EDDSA,
            document,
            document["proof"],
            resolver=LocalResolver({"did:web:body.example": doc}),
            store=default_store(),
            now=NOW,
            canonicalizer=FAST,
        )


def test_wrong_key_type_for_cryptosuite(pair) -> None:
    """eddsa-rdfc-2022 takes only Ed25519 keys; ecdsa-rdfc-2019 only P-256/P-384."""
    p256 = KeyPair.generate(KeyType.P256)
    with pytest.raises(ProofError):
        create_proof(
            EDDSA,
            {"@context": []},
            p256.signer(),
            ProofOptions(created=NOW),
            default_store(),
            canonicalizer=FAST,
        )
    with pytest.raises(ProofError):
        create_proof(
            ECDSA,
            {"@context": []},
            pair.signer(),
            ProofOptions(created=NOW),
            default_store(),
            canonicalizer=FAST,
        )


def test_unknown_cryptosuite_fails_with_a_clear_code(pair) -> None:
    document = _signed(pair)
    document["proof"]["cryptosuite"] = "bbs-2023"
    result = verify_credential(
        document, VerifierPolicy(default_store(), LocalResolver(), canonicalizer=FAST), now=NOW
    )
    assert result.check(Check.PROOF).code is KeyCode.SUITE_NOT_ALLOWED


def test_suite_outside_the_allow_list_is_refused(pair) -> None:
    """The verifier's allowed_suites is an allow-list: no fallback to another suite. A refused
    suite is not checked, which says nothing about the signature: UNSUPPORTED_PROOF, never
    VALID and never called forged (issue 11/14)."""
    policy = VerifierPolicy(
        default_store(),
        LocalResolver(),
        allowed_suites=frozenset({"ecdsa-rdfc-2019"}),
        canonicalizer=FAST,
    )
    result = verify_credential(_signed(pair), policy, now=NOW)
    assert result.check(Check.PROOF).code is KeyCode.SUITE_NOT_ALLOWED
    assert result.verdict is Verdict.UNSUPPORTED_PROOF and not result.verified


def test_proof_set_every_proof_must_verify(pair) -> None:
    """§4.4 proof sets: two proofs (Ed25519 and P-256) both verify; a bad second one fails all."""
    store = default_store()
    p256 = KeyPair.generate(KeyType.P256)
    credential = certification_credential(pair.public_key.did_key, valid_from=NOW)
    one = create_proof(
        EDDSA, credential, pair.signer(), ProofOptions(created=NOW), store, canonicalizer=FAST
    )
    both = create_proof(
        ECDSA, one, p256.signer(), ProofOptions(created=NOW), store, canonicalizer=FAST
    )
    assert len(both["proof"]) == 2
    policy = VerifierPolicy(store, LocalResolver(), canonicalizer=FAST)
    result = verify_credential(both, policy, now=NOW)
    assert result.check(Check.PROOF).status is CheckStatus.PASSED
    # the P-256 key is not the issuer's: a co-signer, named; the issuer's own proof asserts it
    issuer = result.check(Check.ISSUER)
    assert issuer.status is CheckStatus.PASSED
    assert f"also signed by {p256.public_key.did_key}" in issuer.message
    both["proof"][1]["proofValue"] = one["proof"]["proofValue"]
    assert verify_credential(both, policy, now=NOW).check(Check.PROOF).status is CheckStatus.FAILED


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"proofValue": "uAAAA"}, KeyCode.MALFORMED_PROOF),
        ({"proofValue": "z0OIl"}, KeyCode.MALFORMED_PROOF),
        ({"type": "Ed25519Signature2020"}, KeyCode.MALFORMED_PROOF),
        ({"verificationMethod": 42}, KeyCode.MALFORMED_PROOF),
        ({"created": "yesterday"}, KeyCode.MALFORMED_PROOF),
    ],
    ids=["not-base58btc", "bad-base58", "proof-type", "method-type", "created"],
)
def test_malformed_proofs(pair, change: dict, code: Code) -> None:
    document = _signed(pair)
    document["proof"].update(change)
    with pytest.raises(ProofError) as caught:
        _verify(document)
    assert caught.value.code is code


#: A proof of a type certvc does not verify (its values are not checked). Ed25519Signature2020
#: is verified since issue 14 (tests/verifier/test_ed25519_signature_2020.py).
LEGACY_PROOF = {
    "type": "RsaSignature2018",
    "created": "2026-01-01T00:00:00Z",
    "verificationMethod": "did:key:z6MkLegacy#z6MkLegacy",
    "proofPurpose": "assertionMethod",
    "proofValue": "z3FXQqFwbZxKBxGxqFpCDabgVKhhVaxABtnEn8pK1Kr5V",
}


def _engine(document: dict) -> object:
    policy = VerifierPolicy(default_store(), LocalResolver(), canonicalizer=FAST)
    return verify_credential(document, policy, now=NOW)


def test_a_proof_of_an_unknown_type_is_not_checked_and_never_a_forgery(pair) -> None:
    """Data Integrity §4.4 proof sets, certvc's rule (docs/verifier.md): every proof of a type
    certvc checks must verify; a proof of another type is named and not checked; with no proof
    certvc can check, the verdict is UNSUPPORTED_PROOF (proof_type_unsupported), not
    INVALID_SIGNATURE."""
    signed = _signed(pair)
    alone = {**signed, "proof": dict(LEGACY_PROOF)}
    result = _engine(alone)
    assert result.verdict is Verdict.UNSUPPORTED_PROOF and not result.verified
    proof = result.check(Check.PROOF)
    assert proof.code is KeyCode.PROOF_TYPE_UNSUPPORTED and "RsaSignature2018" in proof.message
    dual = {**signed, "proof": [signed["proof"], dict(LEGACY_PROOF)]}
    both = _engine(dual)
    assert both.check(Check.PROOF).status is CheckStatus.PASSED
    assert "not checked (type not supported)" in both.check(Check.PROOF).message
    assert both.check(Check.ISSUER).status is CheckStatus.PASSED
    assert both.verdict is not Verdict.INVALID_SIGNATURE
    tampered = {**dual, "validUntil": "2099-01-01T00:00:00Z"}
    assert _engine(tampered).verdict is Verdict.INVALID_SIGNATURE  # the checked proof fails
