"""What issue 14 lets in and keeps out, each test citing the normative statement it checks.

VC Data Model 1.1 credentials (their own dates and status forms), Ed25519Signature2020 (verified,
never made), Status List 2021, ``relatedResource`` (VC 2.0 §5.3), presentations (VC 2.0 §4.13)
and the issuer rule of proof sets and chains (Data Integrity §2.1, VC 2.0 §4.7).
"""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contexts import default_store
from contexts.errors import ErrorCode, ShapeError
from issuer.signing import sign_credential
from keys.base58btc import b58encode
from keys.did import LocalResolver, find_verification_method
from keys.errors import DidError, KeyCode, ProofError
from keys.keypair import KeyPair, KeyType
from keys.suites import (
    ALL_SUITES,
    FAST,
    REGISTRY,
    ProofOptions,
    create_proof,
    ed25519_signature_2020,
    eddsa_rdfc_2022,
    secure,
)
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.fetch import FetchError, FetchResponse
from verifier.model.shape import DataModel, Mode, data_model, shape_problems
from verifier.model.status_list import (
    Bitstring,
    StatusPurpose,
    parse_status_list_2021_entry,
    parse_status_list_credential,
)
from verifier.presentation import verify_presentation
from verifier.result import Check, CheckStatus, Verdict
from verifier.status import BitstringStatusChecker, StatusListCache

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
EXAMPLES_V1 = "https://www.w3.org/2018/credentials/examples/v1"
SL2021 = "https://w3id.org/vc/status-list/2021/v1"
#: A VC 1.1 credential secured with a DataIntegrityProof carries the Data Integrity context (the
#: 1.1 context does not define its terms; the reference's ``vc.issue`` appends it alike).
DI_V2 = "https://w3id.org/security/data-integrity/v2"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STORE = default_store()
EDDSA = eddsa_rdfc_2022.SUITE
#: The legacy suite with signing switched on, for tests only: proofs made exactly as the
#: verify-only suite checks them (the real ones are in tests/fixtures/wild).
ED2020_SIGNING = dataclasses.replace(ed25519_signature_2020.SUITE, verify_only=False)


@pytest.fixture(scope="module")
def key() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


def v1_credential(issuer: str, **changes: Any) -> dict[str, Any]:
    credential: dict[str, Any] = {
        "@context": [V1, EXAMPLES_V1, DI_V2],
        "id": "http://example.edu/credentials/1872",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": issuer,
        "issuanceDate": "2010-01-01T19:23:24Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "alumniOf": "<span lang='en'>Example University</span>",
        },
    }
    credential.update(changes)
    return {k: v for k, v in credential.items() if v is not ...}


def _policy(**changes: Any) -> VerifierPolicy:
    return VerifierPolicy(STORE, LocalResolver(), canonicalizer=FAST, **changes)


def _sign(document: dict[str, Any], key: KeyPair, suite: Any = EDDSA, **options: Any) -> Any:
    return create_proof(
        suite, document, key.signer(), ProofOptions(created=NOW, **options), STORE, FAST
    )


# --- VC Data Model 1.1 -------------------------------------------------------------------------


def test_data_model_is_read_from_the_base_context() -> None:
    """VC 1.1 §4.1 and VC 2.0 §4.3: the first @context names the data model."""
    assert data_model(v1_credential("did:example:1")) is DataModel.V1_1
    assert data_model({"@context": [V2]}) is DataModel.V2_0
    assert data_model({"@context": ["https://example.org/v3"]}) is None


@pytest.mark.parametrize("mode", list(Mode))
def test_a_vc_1_1_credential_passes_the_shared_shape_rules(mode: Mode) -> None:
    """VC 1.1 §4: the generic signer and the verifier take 1.1 credentials (issue 14)."""
    assert shape_problems(v1_credential("did:example:1"), mode) == ()


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"issuanceDate": ...}, "/issuanceDate"),  # VC 1.1 §4.6 "MUST have an issuanceDate"
        ({"issuanceDate": "2010-01-01T19:23:24"}, "/issuanceDate"),  # RFC 3339: a zone
        ({"expirationDate": "yesterday"}, "/expirationDate"),  # VC 1.1 §4.7
        ({"expirationDate": "2009-01-01T00:00:00Z"}, "/expirationDate"),  # before issuance
        (
            {"credentialStatus": {"type": "CredentialStatusList2017"}},  # VC 1.1 §4.9: an id
            "/credentialStatus/id",
        ),
    ],
    ids=["no-issuance-date", "no-zone", "bad-expiration", "expires-first", "status-without-id"],
)
def test_vc_1_1_rules_fail_when_broken(changes: dict[str, Any], path: str) -> None:
    problems = shape_problems(v1_credential("did:example:1", **changes), Mode.VERIFY)
    assert problems and problems[0].path == path


def test_vc_1_1_credential_verifies_with_its_own_dates(key: KeyPair) -> None:
    """VC 1.1 §4.6-4.7: valid from issuanceDate, expired after expirationDate (the reference
    implementation's reading); signed with eddsa-rdfc-2022 over the 1.1 contexts."""
    issuer = key.public_key.did_key
    current = _sign(v1_credential(issuer, expirationDate="2099-01-01T00:00:00Z"), key)
    result = verify_credential(current, _policy(), now=NOW)
    assert result.verdict is Verdict.VALID
    assert result.check(Check.SHAPE).message == "VC Data Model 1.1 shape"
    expired = _sign(v1_credential(issuer, expirationDate="2020-01-01T00:00:00Z"), key)
    result = verify_credential(expired, _policy(), now=NOW)
    assert result.verdict is Verdict.EXPIRED
    assert "expirationDate" in result.check(Check.VALIDITY).message
    future = _sign(v1_credential(issuer, issuanceDate="2099-01-01T00:00:00Z"), key)
    assert verify_credential(future, _policy(), now=NOW).verdict is Verdict.NOT_YET_VALID


# --- Ed25519Signature2020: verified, never made -----------------------------------------------


def test_ed25519_signature_2020_is_verify_only(key: KeyPair) -> None:
    """certvc signs only with the suites of REGISTRY; the legacy suite is in the verifier's
    allow-list alone, and no signing path takes it."""
    assert ed25519_signature_2020.NAME not in REGISTRY
    assert ed25519_signature_2020.NAME in ALL_SUITES
    credential = v1_credential(key.public_key.did_key)
    with pytest.raises(ProofError) as caught:
        secure(
            credential,
            key.signer(),
            ed25519_signature_2020.NAME,
            store=STORE,
            options=ProofOptions(created=NOW),
            canonicalizer=FAST,
        )
    assert caught.value.code is KeyCode.SUITE_NOT_ALLOWED
    with pytest.raises(ProofError) as caught:
        _sign(credential, key, ed25519_signature_2020.SUITE)
    assert caught.value.code is KeyCode.PROOF_GENERATION


def _legacy(key: KeyPair, document: dict[str, Any]) -> dict[str, Any]:
    document = {**document, "@context": [*document["@context"], ED2020]}
    signed: dict[str, Any] = _sign(document, key, ED2020_SIGNING)
    assert set(signed["proof"]) == {
        "type",
        "created",
        "verificationMethod",
        "proofPurpose",
        "proofValue",
    }
    return signed


def test_ed25519_signature_2020_verifies_and_fails_like_any_proof(key: KeyPair) -> None:
    """Ed25519Signature2020 (W3C CCG report §3; jsonld-signatures): a genuine proof verifies;
    a changed value is INVALID_SIGNATURE; outside the allow-list it is UNSUPPORTED_PROOF."""
    signed = _legacy(key, v1_credential(key.public_key.did_key))
    result = verify_credential(signed, _policy(), now=NOW)
    assert result.verdict is Verdict.VALID, [c.to_json() for c in result.checks]
    assert result.check(Check.PROOF).message.startswith("Ed25519Signature2020 by")
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["alumniOf"] += "!"
    result = verify_credential(tampered, _policy(), now=NOW)
    assert result.verdict is Verdict.INVALID_SIGNATURE
    assert result.check(Check.PROOF).code is KeyCode.SIGNATURE_INVALID
    narrow = _policy(allowed_suites=frozenset(REGISTRY))
    assert verify_credential(signed, narrow, now=NOW).verdict is Verdict.UNSUPPORTED_PROOF


def test_ed25519_verification_key_2020_must_hold_an_ed25519_key() -> None:
    """Ed25519VerificationKey2020 (the suite's key type) is an Ed25519 key: anything else in
    it is refused, not used."""
    p256 = KeyPair.generate(KeyType.P256).public_key
    document = {
        "id": "did:web:example.org",
        "assertionMethod": [
            {
                "id": "did:web:example.org#k",
                "type": "Ed25519VerificationKey2020",
                "controller": "did:web:example.org",
                "publicKeyMultibase": p256.multibase,
            }
        ],
    }
    with pytest.raises(DidError):
        find_verification_method(document, "did:web:example.org#k")
    ed = KeyPair.generate(KeyType.ED25519).public_key
    document["assertionMethod"][0]["publicKeyMultibase"] = ed.multibase
    found, controller = find_verification_method(document, "did:web:example.org#k")
    assert found.multibase == ed.multibase and controller == "did:web:example.org"


# --- proof sets and chains: whose proofs count for the issuer ----------------------------------


def test_an_endorsement_chain_whose_first_proof_is_another_partys_verifies(key: KeyPair) -> None:
    """Data Integrity §2.1.2 (proof chains) and VC 2.0 §4.7: an endorser signs first, the
    issuer chains its proof to the endorser's; the issuer's proof asserts the credential, so
    the issuer check passes and names the endorser."""
    endorser = KeyPair.generate(KeyType.P256)
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": key.public_key.did_key,
        "credentialSubject": {"id": "did:example:1", "name": "Ada"},
    }
    first = _sign(credential, endorser, REGISTRY["ecdsa-rdfc-2019"].cryptosuite, id="urn:uuid:a")
    chained = _sign(first, key, previous_proof="urn:uuid:a")
    result = verify_credential(chained, _policy(), now=NOW)
    assert result.verdict is Verdict.VALID, [c.to_json() for c in result.checks]
    assert f"{endorser.public_key.did_key} (not the issuer)" in result.check(Check.ISSUER).message
    only_endorser = {**first}
    result = verify_credential(only_endorser, _policy(), now=NOW)
    assert result.verdict is Verdict.INVALID_SIGNATURE
    assert result.check(Check.ISSUER).code is VerifierCode.ISSUER_MISMATCH


# --- relatedResource (VC 2.0 §5.3) ---------------------------------------------------------------


def _sri(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def _multibase_sha256(data: bytes) -> str:
    return "z" + b58encode(bytes([0x12, 0x20]) + hashlib.sha256(data).digest())


def _with_related(resources: Any) -> dict[str, Any]:
    return {
        "@context": [V2],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {"id": "did:example:2"},
        "relatedResource": resources,
    }


def test_related_resources_of_pinned_contexts_have_their_digests_checked() -> None:
    """VC 2.0 §5.3: a related resource's digest must match; for a context certvc pins, the
    pinned bytes are the resource (digestSRI and digestMultibase alike)."""
    raw = STORE.raw(V2)
    good = [
        {"id": V2, "digestSRI": _sri("sha384", raw)},
        {"id": "https://example.org/logo.png", "digestMultibase": _multibase_sha256(b"png")},
    ]
    assert shape_problems(_with_related(good), Mode.VERIFY, store=STORE) == ()
    assert (
        shape_problems(
            _with_related({"id": V2, "digestMultibase": _multibase_sha256(raw)}),
            Mode.ISSUE,
            store=STORE,
        )
        == ()
    )
    bad = [{"id": V2, "digestSRI": _sri("sha256", raw + b" ")}]
    (problem,) = shape_problems(_with_related(bad), Mode.VERIFY, store=STORE)
    assert problem.code is VerifierCode.RELATED_RESOURCE_DIGEST_MISMATCH
    assert problem.path == "/relatedResource/0/digestSRI"
    # without a store the digest of a context cannot be compared (the shape still holds)
    assert shape_problems(_with_related(bad), Mode.VERIFY) == ()


@pytest.mark.parametrize(
    ("resources", "path"),
    [
        ("https://example.org/x", "/relatedResource"),  # not an object
        ([], "/relatedResource"),
        ([{"digestSRI": "sha256-AAAA"}], "/relatedResource/0/id"),
        ([{"id": "https://e.org/a"}], "/relatedResource/0"),  # no digest
        (
            [
                {"id": "https://e.org/a", "digestSRI": "sha256-AAAA"},
                {"id": "https://e.org/a", "digestSRI": "sha256-AAAA"},
            ],
            "/relatedResource/1/id",
        ),
        ([{"id": "https://e.org/a", "digestSRI": "md5-AAAA"}], "/relatedResource/0/digestSRI"),
        (
            [{"id": "https://e.org/a", "digestMultibase": "zzz"}],
            "/relatedResource/0/digestMultibase",
        ),
    ],
    ids=["string", "empty", "no-id", "no-digest", "duplicate-id", "bad-sri", "bad-multibase"],
)
@pytest.mark.parametrize("mode", list(Mode))
def test_related_resource_fails_when_malformed(resources: Any, path: str, mode: Mode) -> None:
    """VC 2.0 §5.3: one or more objects, each with an id unique among them and a digestSRI
    or digestMultibase; refused before signing and on verification."""
    problems = shape_problems(_with_related(resources), mode)
    assert problems and problems[0].path == path


def test_a_wrong_digest_of_a_pinned_context_is_malformed_on_verify(key: KeyPair) -> None:
    credential = _with_related([{"id": V2, "digestSRI": _sri("sha384", b"other bytes")}])
    credential["issuer"] = key.public_key.did_key
    result = verify_credential(_sign(credential, key), _policy(), now=NOW)
    assert result.verdict is Verdict.MALFORMED
    assert result.check(Check.SHAPE).code is VerifierCode.RELATED_RESOURCE_DIGEST_MISMATCH


# --- Status List 2021 -----------------------------------------------------------------------------


class _Lists:
    """A ``Fetcher`` over status list credentials built here (no network)."""

    def __init__(self, lists: dict[str, dict[str, Any]]) -> None:
        import json

        self._bodies = {url: json.dumps(doc).encode() for url, doc in lists.items()}

    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        if url not in self._bodies:
            raise FetchError(f"offline: {url}", code=VerifierCode.FETCH_OFFLINE)
        return FetchResponse(url, 200, self._bodies[url], "application/json")


def test_status_list_2021_entries_are_read(key: KeyPair) -> None:
    """Status List 2021 §2.1-2.3 (the status form of VC 1.1 credentials in the wild): the entry
    and its StatusList2021Credential (a VC 1.1 credential, ``encodedList`` base64url of the
    GZIP bitstring without a multibase prefix) give REVOKED for a set bit, VALID otherwise."""
    issuer = key.public_key.did_key
    list_url = "https://status.example.org/lists/1"
    bits = Bitstring(131072)
    bits.set(94567, 1)
    status_list = v1_credential(
        issuer,
        **{
            "@context": [V1, SL2021, DI_V2],
            "id": list_url,
            "type": ["VerifiableCredential", "StatusList2021Credential"],
            "credentialSubject": {
                "id": f"{list_url}#list",
                "type": "StatusList2021",
                "statusPurpose": "revocation",
                "encodedList": bits.encode()[1:],
            },
        },
    )
    subject = parse_status_list_credential(status_list)
    assert subject.purposes == (StatusPurpose.REVOCATION,)
    assert Bitstring.decode(subject.encoded_list).get(94567) == 1
    fetcher = _Lists({list_url: _sign(status_list, key)})
    checker = BitstringStatusChecker(fetcher, _policy(), cache=StatusListCache())
    for index, verdict in (("94567", Verdict.REVOKED), ("7", Verdict.VALID)):
        entry = {
            "id": f"{list_url}#{index}",
            "type": "StatusList2021Entry",
            "statusPurpose": "revocation",
            "statusListIndex": index,
            "statusListCredential": list_url,
        }
        assert parse_status_list_2021_entry(entry).index == int(index)
        credential = v1_credential(issuer, **{"@context": [V1, EXAMPLES_V1, SL2021, DI_V2]})
        credential["credentialStatus"] = entry
        result = verify_credential(_sign(credential, key), _policy(status_checker=checker), now=NOW)
        assert result.verdict is verdict, [c.to_json() for c in result.checks]


@pytest.mark.parametrize(
    "change",
    [
        {"statusPurpose": "refresh"},  # Status List 2021 has revocation and suspension only
        {"statusListIndex": "-1"},
        {"statusListCredential": "lists/1"},
        {"id": "https://status.example.org/lists/1"},  # the entry is not the list
    ],
    ids=["purpose", "index", "relative-list", "id-is-list"],
)
def test_status_list_2021_entry_fails_when_malformed(change: dict[str, str]) -> None:
    entry = {
        "id": "https://status.example.org/lists/1#3",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "3",
        "statusListCredential": "https://status.example.org/lists/1",
        **change,
    }
    credential = v1_credential("did:example:1", credentialStatus=entry)
    problems = shape_problems(credential, Mode.ISSUE)
    assert problems and problems[0].code is VerifierCode.STATUS_VERIFICATION


# --- presentations (VC 2.0 §4.13) ------------------------------------------------------------


def _verify_one(item: Any, now: datetime) -> Any:
    return verify_credential(item, _policy(), now=now)


@pytest.mark.parametrize(
    "item",
    [
        '{"@context": ["https://www.w3.org/ns/credentials/v2"]}',
        "eyJhbGciOiJFZERTQSJ9.e30.c2ln",
        "https://example.org/credentials/1",
    ],
    ids=["json-text", "jws", "url"],
)
def test_a_credential_given_as_a_string_in_a_presentation_is_refused(item: str) -> None:
    """VC 2.0 §4.13: verifiableCredential values "MUST NOT be non-object values such as
    numbers, strings, or URLs" (a vc+jwt travels as an EnvelopedVerifiableCredential)."""
    presentation = {
        "@context": [V2],
        "type": "VerifiablePresentation",
        "verifiableCredential": item,
    }
    result = verify_presentation(presentation, _policy(), _verify_one, now=NOW)
    assert not result.verified
    assert [e.code for e in result.errors] == [ErrorCode.CREDENTIAL_MALFORMED]


def test_a_vc_1_1_presentation_is_read(key: KeyPair) -> None:
    """VC 1.1 §4.10: a presentation under the 1.1 context, holding a 1.1 credential, signed
    by its holder for authentication."""
    credential = _sign(v1_credential(key.public_key.did_key), key)
    presentation = {
        "@context": [V1, DI_V2],
        "type": ["VerifiablePresentation"],
        "holder": key.public_key.did_key,
        "verifiableCredential": [credential],
    }
    signed = _sign(presentation, key, proof_purpose="authentication", challenge="c-1")
    result = verify_presentation(signed, _policy(), _verify_one, now=NOW, challenge="c-1")
    assert result.verified, result.errors
    assert result.credentials[0].verdict is Verdict.VALID


def test_status_and_validity_checks_of_a_1_1_list_use_its_dates(key: KeyPair) -> None:
    """VC 1.1 §4.7: a status list credential past its expirationDate is not used."""
    issuer = key.public_key.did_key
    list_url = "https://status.example.org/lists/2"
    status_list = v1_credential(
        issuer,
        **{
            "@context": [V1, SL2021, DI_V2],
            "id": list_url,
            "type": ["VerifiableCredential", "StatusList2021Credential"],
            "expirationDate": (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "credentialSubject": {
                "id": f"{list_url}#list",
                "type": "StatusList2021",
                "statusPurpose": "revocation",
                "encodedList": Bitstring(131072).encode()[1:],
            },
        },
    )
    checker = BitstringStatusChecker(
        _Lists({list_url: _sign(status_list, key)}), _policy(), cache=StatusListCache()
    )
    credential = v1_credential(issuer, **{"@context": [V1, EXAMPLES_V1, SL2021, DI_V2]})
    credential["credentialStatus"] = {
        "id": f"{list_url}#1",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "1",
        "statusListCredential": list_url,
    }
    result = verify_credential(_sign(credential, key), _policy(status_checker=checker), now=NOW)
    assert result.verdict is Verdict.STATUS_UNAVAILABLE
    assert result.check(Check.STATUS).status is CheckStatus.FAILED


def test_shape_error_names_the_first_problem() -> None:
    from verifier.model.shape import validate_credential_shape

    with pytest.raises(ShapeError) as caught:
        validate_credential_shape(v1_credential("did:example:1", issuanceDate=...), Mode.ISSUE)
    assert caught.value.path == "/issuanceDate"


@pytest.mark.parametrize("suite", ["eddsa-rdfc-2022", "vc+jwt"])
def test_signing_refuses_a_wrong_digest_of_a_pinned_context(key: KeyPair, suite: str) -> None:
    """VC 2.0 §5.3: certvc never signs a relatedResource digest of a pinned context that its
    verifier would refuse (STYLE §8: one set of shape rules)."""
    credential = _with_related([{"id": V2, "digestSRI": _sri("sha384", b"other bytes")}])
    credential["issuer"] = key.public_key.did_key
    with pytest.raises(ShapeError) as caught:
        sign_credential(
            credential,
            key.signer(),
            suite,
            store=STORE,
            options=ProofOptions(created=NOW),
            canonicalizer=FAST,
        )
    assert caught.value.code is VerifierCode.RELATED_RESOURCE_DIGEST_MISMATCH
    credential["relatedResource"] = [{"id": V2, "digestSRI": _sri("sha384", STORE.raw(V2))}]
    assert sign_credential(
        credential,
        key.signer(),
        suite,
        store=STORE,
        options=ProofOptions(created=NOW),
        canonicalizer=FAST,
    )
