"""The trust list: bodies the verifier vouches for, and what happens without one."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from contexts.loader import default_store
from keys.did import LocalResolver, VerificationMethodEntry, did_web_document
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.result import Check, CheckStatus, Verdict
from verifier.samples import certification_credential
from verifier.trust import TrustList, TrustListError

from .world import NOW, new_pair, sign


@pytest.fixture(scope="module")
def body():
    return new_pair()


@pytest.fixture(scope="module")
def secured(body):
    unsigned = certification_credential(body.public_key.did_key, valid_from=NOW - timedelta(1))
    del unsigned["credentialStatus"]
    return sign(unsigned, body)


def _list(*bodies: dict) -> TrustList:
    return TrustList.from_json(json.dumps({"certvcTrustList": 1, "bodies": list(bodies)}))


def _verify(secured, trust) -> object:
    policy = VerifierPolicy(
        store=default_store(), resolver=LocalResolver(), trust=trust, canonicalizer=FAST
    )
    return verify_credential(secured, policy, now=NOW)


def test_listed_body_passes_with_its_name_and_accreditation(body, secured) -> None:
    trust = _list(
        {
            "did": body.public_key.did_key,
            "name": "Example Personnel Certification Body",
            "accreditation": {"body": "DAkkS", "id": "D-ZP-12345", "standard": "ISO/IEC 17024"},
        }
    )
    result = _verify(secured, trust)
    assert result.verdict is Verdict.VALID
    assert "Example Personnel Certification Body" in result.check(Check.TRUST).message
    assert "DAkkS D-ZP-12345 (ISO/IEC 17024)" in result.check(Check.TRUST).message


def test_unlisted_issuer_is_untrusted(secured) -> None:
    trust = _list({"did": new_pair().public_key.did_key, "name": "Another Body"})
    result = _verify(secured, trust)
    assert result.verdict is Verdict.UNTRUSTED_ISSUER
    trust_check = result.check(Check.TRUST)
    assert trust_check.status is CheckStatus.FAILED
    assert trust_check.code is VerifierCode.ISSUER_NOT_TRUSTED


def test_without_a_trust_list_the_check_is_skipped(secured) -> None:
    result = _verify(secured, None)
    assert result.check(Check.TRUST).status is CheckStatus.SKIPPED
    assert result.verdict is Verdict.VALID


def test_pinned_documents_are_offered_to_the_resolver(body) -> None:
    did = "did:web:certs.example-body.org"
    document = did_web_document(did, [VerificationMethodEntry(f"{did}#key-1", body.public_key)])
    trust = _list({"did": did, "name": "Body", "didDocument": document})
    assert LocalResolver(trust.pinned_documents()).resolve(did) == document
    assert trust.body(did) is not None and trust.body("did:web:other.example") is None


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b"[]",
        json.dumps({"bodies": []}).encode(),
        json.dumps({"certvcTrustList": 2, "bodies": []}).encode(),
        json.dumps({"certvcTrustList": 1, "bodies": {}}).encode(),
        json.dumps({"certvcTrustList": 1, "bodies": [{"did": "did:web:x.example"}]}).encode(),
        json.dumps(
            {"certvcTrustList": 1, "bodies": [{"did": "did:example:123", "name": "X"}]}
        ).encode(),
        json.dumps(
            {"certvcTrustList": 1, "bodies": [{"did": "did:web:10.0.0.1", "name": "X"}]}
        ).encode(),
        json.dumps(
            {"certvcTrustList": 1, "bodies": [{"did": "did:web:a.example", "name": "X"}] * 2}
        ).encode(),
        json.dumps(
            {
                "certvcTrustList": 1,
                "bodies": [
                    {"did": "did:web:a.example", "name": "X", "didDocument": {"id": "did:web:b"}}
                ],
            }
        ).encode(),
        json.dumps(
            {"certvcTrustList": 1, "bodies": [{"did": "did:web:a.example", "name": "X", "x": 1}]}
        ).encode(),
    ],
    ids=[
        "not-json",
        "array",
        "no-version",
        "wrong-version",
        "bodies-object",
        "no-name",
        "unsupported-did",
        "ip-did-web",
        "duplicate",
        "pinned-id-mismatch",
        "unknown-property",
    ],
)
def test_invalid_trust_lists_are_refused(content, tmp_path: Path) -> None:
    path = tmp_path / "trust.json"
    path.write_bytes(content)
    with pytest.raises(TrustListError) as caught:
        TrustList.from_file(path)
    assert caught.value.code is VerifierCode.TRUST_LIST_INVALID


def test_missing_file_is_a_trust_list_error(tmp_path: Path) -> None:
    with pytest.raises(TrustListError, match="cannot read"):
        TrustList.from_file(tmp_path / "absent.json")


def _accredited(body, **dates: str) -> TrustList:
    accreditation = {"body": "DAkkS", "id": "D-ZP-12345", **dates}
    return _list({"did": body.public_key.did_key, "name": "Body", "accreditation": accreditation})


@pytest.mark.parametrize(
    ("dates", "why"),
    [
        ({"validUntil": "2026-01-01T00:00:00Z"}, "ended on 2026-01-01T00:00:00Z"),
        ({"validFrom": "2027-01-01T00:00:00Z"}, "starts on 2027-01-01T00:00:00Z"),
    ],
    ids=["ended", "not-yet"],
)
def test_a_body_outside_its_accreditation_is_not_vouched_for(body, secured, dates, why) -> None:
    assert NOW.year == 2026 and NOW.month > 1  # the dates above sit either side of NOW
    result = _verify(secured, _accredited(body, **dates))
    assert result.verdict is Verdict.UNTRUSTED_ISSUER
    trust_check = result.check(Check.TRUST)
    assert trust_check.status is CheckStatus.FAILED
    assert trust_check.code is VerifierCode.ACCREDITATION_NOT_CURRENT
    assert why in trust_check.message and "DAkkS D-ZP-12345" in trust_check.message


def test_a_body_inside_its_accreditation_is_vouched_for(body, secured) -> None:
    trust = _accredited(body, validFrom="2024-03-01T00:00:00Z", validUntil="2029-02-28T23:59:59Z")
    result = _verify(secured, trust)
    assert result.verdict is Verdict.VALID
    assert result.check(Check.TRUST).status is CheckStatus.PASSED


@pytest.mark.parametrize(
    "dates",
    [
        {"validUntil": "2029-02-28"},  # a date, not a dateTimeStamp
        {"validFrom": "2029-01-01T00:00:00Z", "validUntil": "2024-01-01T00:00:00Z"},
        {"validUntil": 20290228},
    ],
    ids=["no-time", "reversed", "number"],
)
def test_bad_accreditation_dates_are_refused(body, dates) -> None:
    with pytest.raises(TrustListError) as caught:
        _accredited(body, **dates)
    assert caught.value.code is VerifierCode.TRUST_LIST_INVALID
