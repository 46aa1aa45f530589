"""The documents the issuer builds pass the verifier's own shape rules and JSON-LD safe mode."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contexts.errors import ShapeError
from contexts.jsonld import to_dataset
from contexts.loader import default_store
from verifier.model.credentials import (
    BodyProfile,
    SchemeInfo,
    StatusRef,
    certification_credential,
    check_own_credential,
    status_list_credential,
)
from verifier.model.shape import Mode, shape_problems
from verifier.model.status_list import Bitstring, StatusPurpose, parse_status_entry

from ..issuer.support import NOW

BODY = BodyProfile(
    did="did:web:certs.example-body.org",
    name="Example Body",
    url="https://certs.example-body.org",
    accreditation="ISO/IEC 17024 accredited, no. PCB-0042",
    logo_url="https://certs.example-body.org/logo.png",
)
SCHEME = SchemeInfo(
    code="CWI-2",
    url="https://certs.example-body.org/schemes/CWI-2",
    name="Certified Welding Inspector — Level 2",
    description="Visual inspection of welds",
    criteria="Passed the examinations",
    standard_name="ISO 9712:2021",
    standard_url="https://www.iso.org/standard/74831.html",
    achievement_type="Certification",
)
LIST = "https://certs.example-body.org/status/3"


def _credential(**changes: object) -> dict:
    arguments = dict(
        credential_id="https://certs.example-body.org/credentials/1",
        body=BODY,
        scheme=SCHEME,
        person_name='Zoë "Ångström" <Ōtsuka>\\',
        number="CWI-2-2026-000001",
        scope="steel groups 1, 2 and 8",
        valid_from=NOW,
        valid_until=NOW + timedelta(days=1095),
        status=[
            StatusRef(StatusPurpose.REVOCATION, LIST, 94567),
            StatusRef(StatusPurpose.SUSPENSION, LIST.replace("3", "4"), 31337),
        ],
    )
    arguments.update(changes)
    return certification_credential(**arguments)  # type: ignore[arg-type]


def test_certification_credential_carries_what_iso_17024_requires() -> None:
    """ISO/IEC 17024 certificate content: name, unique number, body, scheme and standard,
    scope, effective date and expiry (Open Badges 3.0 under VC 2.0)."""
    credential = _credential()
    subject = credential["credentialSubject"]
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert subject["identifier"][0]["identityHash"] == 'Zoë "Ångström" <Ōtsuka>\\'
    assert subject["licenseNumber"] == "CWI-2-2026-000001"
    assert credential["issuer"]["id"] == BODY.did and credential["issuer"]["name"] == BODY.name
    assert credential["issuer"]["image"] == {"id": BODY.logo_url, "type": "Image"}
    assert subject["achievement"]["humanCode"] == "CWI-2"
    assert subject["achievement"]["alignment"][0]["targetName"] == "ISO 9712:2021"
    assert "steel groups 1, 2 and 8" in subject["achievement"]["description"]
    assert credential["validFrom"] == "2026-11-27T12:00:00Z"
    assert credential["validUntil"] == "2029-11-26T12:00:00Z"


def test_what_the_issuer_issues_is_the_sample_and_compresses_as_it() -> None:
    """One builder: the sample of the demo and the benchmarks is built by it, and the keys come
    in the QR dictionary's order (an issued credential's QR code is as small as the sample's)."""
    from verifier import qr
    from verifier.qr_dictionary import V1
    from verifier.samples import certification_credential as sample

    alignment = _credential()["credentialSubject"]["achievement"]["alignment"][0]
    assert list(alignment) == ["type", "targetName", "targetUrl", "targetType"]
    assert V1.find(b'"targetName":"","targetUrl":') >= 0
    built = sample("did:key:z6MkSample", valid_from=NOW)
    assert list(built["credentialSubject"]["achievement"]["alignment"][0]) == list(alignment)
    reordered = dict(alignment)
    reordered["targetUrl"] = reordered.pop("targetUrl")  # the old order: url last
    worse = _credential()
    worse["credentialSubject"]["achievement"]["alignment"] = [reordered]
    assert len(qr.encode_credential(_credential())) < len(qr.encode_credential(worse))


def test_certification_credential_passes_shape_and_safe_mode() -> None:
    """VC Data Model 2.0: every property defined by a context (safe mode), shape rules in
    ISSUE mode: what the issuer builds, its verifier accepts."""
    credential = _credential()
    assert shape_problems(credential, Mode.ISSUE) == ()
    to_dataset(credential, default_store())


def test_each_credential_has_revocation_and_suspension_entries() -> None:
    """Bitstring Status List 1.0 §2.1: BitstringStatusListEntry with purpose, a decimal
    string index and the list URL; the entry id is not the list URL."""
    entries = [parse_status_entry(e) for e in _credential()["credentialStatus"]]
    assert [(e.purpose, e.index) for e in entries] == [
        (StatusPurpose.REVOCATION, 94567),
        (StatusPurpose.SUSPENSION, 31337),
    ]
    assert all(e.id != e.list_url for e in entries)


def test_status_list_credential_passes_shape_and_safe_mode_with_ttl() -> None:
    """BSL 2.2: BitstringStatusListCredential with a BitstringStatusList subject, encodedList
    and ttl (milliseconds)."""
    document = status_list_credential(
        list_url=LIST,
        issuer_did=BODY.did,
        purpose=StatusPurpose.SUSPENSION,
        encoded_list=Bitstring(131_072).encode(),
        valid_from=NOW,
        ttl_ms=60_000,
    )
    assert document["credentialSubject"]["ttl"] == 60_000
    assert document["issuer"] == BODY.did
    assert shape_problems(document, Mode.ISSUE) == ()
    to_dataset(document, default_store())


@pytest.mark.parametrize("logo", [None, "https://x.example/l.png"])
def test_optional_profile_parts(logo: str | None) -> None:
    body = BodyProfile(BODY.did, BODY.name, BODY.url, "", logo)
    credential = _credential(body=body)
    assert ("image" in credential["issuer"]) is (logo is not None)
    assert "description" not in credential["issuer"]
    to_dataset(credential, default_store())


def test_certvcs_own_credential_keeps_the_stricter_rules() -> None:
    """Issue 14: the generic rules take an id-only subject (VC 2.0 §4.8) and VC 1.1; certvc's
    own certification credential is VC 2.0 and its subject always makes claims."""
    own = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:body",
        "credentialSubject": {"id": "did:example:person"},
    }
    assert shape_problems(own, Mode.ISSUE) == ()  # the generic signer would sign it
    with pytest.raises(ShapeError) as caught:
        check_own_credential(own)
    assert caught.value.path == "/credentialSubject"
    with pytest.raises(ShapeError) as caught:
        check_own_credential({**own, "@context": ["https://www.w3.org/2018/credentials/v1"]})
    assert caught.value.path == "/@context"
    check_own_credential({**own, "credentialSubject": {"id": "did:example:p", "name": "Ada"}})
