"""Signing and verifying through the fast path give what the plain path gives.

Data Integrity (VC-DI-EdDSA 3.3, VC-DI-ECDSA 3.3): the same hashData, so the same Ed25519
``proofValue``; the verifier (STYLE 5): the same checks, codes and verdict on valid, tampered and
unsafe credentials; vc+jwt signing (VC-JOSE-COSE 3.1.1): the same JSON-LD safety refusals.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contexts import CertvcError, ContextStore, default_store
from issuer.signing import sign_credential
from keys.did import LocalResolver
from keys.fastpath import FastCanonicalizer
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions, canonize, check_jsonld_safe
from tests.interop.credentials import awkward_open_badge
from verifier.engine import VerifierPolicy, verify_credential
from verifier.samples import certification_credential

NOW = datetime(2026, 3, 1, tzinfo=UTC)
SUITES = [
    ("eddsa-rdfc-2022", KeyType.ED25519),
    ("ecdsa-rdfc-2019", KeyType.P256),
    ("ecdsa-rdfc-2019", KeyType.P384),
    ("vc+jwt", KeyType.ED25519),
    ("vc+jwt", KeyType.P256),
]


@pytest.fixture(scope="module")
def keys() -> dict[KeyType, KeyPair]:
    return {key_type: KeyPair.generate(key_type) for key_type in KeyType}


def _credentials(did: str) -> list[dict[str, Any]]:
    awkward = awkward_open_badge(did)
    return [
        certification_credential(did, valid_from=NOW),
        certification_credential(did, valid_from=NOW, person_name='Ōno \u0000 "x" \\ 🎓'),
        certification_credential(did, valid_from=NOW - timedelta(days=1), certificate_number="1"),
        {**awkward, "issuer": {**awkward["issuer"], "id": did}},
    ]


def test_ed25519_signatures_are_identical(keys: dict[KeyType, KeyPair]) -> None:
    """Ed25519 is deterministic: fast and plain paths sign to the same bytes, every time."""
    pair = keys[KeyType.ED25519]
    canonicalizer = FastCanonicalizer(compile_after=1)
    store = default_store()
    options = ProofOptions(created=NOW)
    for credential in _credentials(pair.public_key.did_key) * 2:
        plain = sign_credential(
            credential,
            pair.signer(),
            "eddsa-rdfc-2022",
            store=store,
            options=options,
            canonicalizer=canonize,
        )
        fast = sign_credential(
            credential,
            pair.signer(),
            "eddsa-rdfc-2022",
            store=store,
            options=options,
            canonicalizer=canonicalizer,
        )
        assert fast == plain
    assert canonicalizer.stats().hits > 0


def _tampered(signed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    def changed(**changes: Any) -> dict[str, Any]:
        document = copy.deepcopy(signed)
        document.update(changes)
        return document

    subject = signed["credentialSubject"]
    proof = signed["proof"]
    return {
        "valid": signed,
        "name": changed(name=signed["name"] + "."),
        "undefined-term": changed(credentialSubject={**subject, "grade": "A"}),
        "relative-id": changed(id="credentials/1"),
        "blank-id": changed(id="_:b0"),
        "proof-created": changed(proof={**proof, "created": "2020-01-01T00:00:00Z"}),
        "proof-purpose": changed(proof={**proof, "proofPurpose": "authentication"}),
        "proof-value": changed(proof={**proof, "proofValue": "z" + "1" * 10}),
        "unpinned-context": changed(**{"@context": [*signed["@context"], "https://x.example/c"]}),
        "expired": changed(validUntil="2020-01-01T00:00:00Z"),
    }


@pytest.mark.parametrize(("suite", "key_type"), SUITES[:3], ids=["ed25519", "p256", "p384"])
def test_verification_results_are_identical(
    keys: dict[KeyType, KeyPair], suite: str, key_type: KeyType
) -> None:
    """Every check, code, message and the verdict, for valid, tampered and unsafe credentials,
    with the shape compiled by earlier verifications (the context check and the proof)."""
    pair = keys[key_type]
    store = default_store()
    credential = certification_credential(pair.public_key.did_key, valid_from=NOW)
    signed = sign_credential(
        credential,
        pair.signer(),
        suite,
        store=store,
        options=ProofOptions(created=NOW),
        canonicalizer=FAST,
    )
    assert isinstance(signed, dict)
    fast = VerifierPolicy(
        store=store, resolver=LocalResolver(), canonicalizer=FastCanonicalizer(compile_after=1)
    )
    plain = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=canonize)
    for _ in range(2):
        for name, document in _tampered(signed).items():
            expected = verify_credential(document, plain, now=NOW).to_json()
            assert verify_credential(document, fast, now=NOW).to_json() == expected, name
    assert verify_credential(signed, fast, now=NOW).verified
    assert fast.canonicalizer.stats().hits > 0  # type: ignore[attr-defined]


def _refusal(run: Any) -> tuple[Any, ...] | None:
    try:
        run()
    except CertvcError as error:
        return (type(error).__name__, error.code, getattr(error, "term", None), error.message)
    return None


@pytest.mark.parametrize(("suite", "key_type"), SUITES, ids=[f"{s}-{k.value}" for s, k in SUITES])
def test_signing_refuses_what_the_plain_path_refuses(
    keys: dict[KeyType, KeyPair], suite: str, key_type: KeyType
) -> None:
    """certvc never signs what its verifier rejects, in every suite, with either path."""
    pair = keys[key_type]
    store = default_store()
    canonicalizer = FastCanonicalizer(compile_after=1)
    base = certification_credential(pair.public_key.did_key, valid_from=NOW)
    documents = [
        base,
        base,
        {**base, "id": "relative"},
        {**base, "credentialSubject": {**base["credentialSubject"], "grade": "A"}},
        {**base, "name": "x\ud800"},
        base,
    ]
    for document in documents:

        def sign(c: Any, document: dict[str, Any] = document) -> Any:
            return sign_credential(
                document,
                pair.signer(),
                suite,
                store=store,
                options=ProofOptions(created=NOW),
                canonicalizer=c,
            )

        assert _refusal(lambda: sign(canonicalizer)) == _refusal(lambda: sign(canonize))
    # ecdsa-rdfc-2019 with P-384 labels blank nodes with SHA-384 (the reference
    # implementation's choice): the fast path, compiled for SHA-256 labelings, is not used.
    sha384 = suite == "ecdsa-rdfc-2019" and key_type is KeyType.P384
    assert (canonicalizer.stats().hits > 0) is not sha384


def test_safety_check_through_a_plain_canonicalizer_runs_safe_mode(
    keys: dict[KeyType, KeyPair],
) -> None:
    """A canonicalizer without a cheaper verdict gets the full safe-mode conversion."""
    store: ContextStore = default_store()
    document = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": "urn:x", "foo": 1}
    refused = _refusal(lambda: check_jsonld_safe(document, store, canonize))
    assert refused is not None and refused[2] == "foo"
    assert _refusal(lambda: check_jsonld_safe(document, store, FastCanonicalizer())) == refused
