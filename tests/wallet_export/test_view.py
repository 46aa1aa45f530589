"""Reading what a certificate shows from the credential (Open Badges 3.0 shape)."""

from __future__ import annotations

from datetime import date

import pytest

from contexts.errors import CertvcError, ErrorCode
from wallet_export.view import certificate_view


def test_view_of_the_sample(sign) -> None:
    view = certificate_view(sign())
    assert view.person_name == "Zoë Ångström-Ōtsuka"
    assert view.certificate_number == "CB-2026-004217"
    assert view.certification_name == "Certified Welding Inspector — Level 2"
    assert view.scheme_code == "CWI-2" and view.standards == ("ISO 9712:2021",)
    assert view.valid_from == date(2026, 11, 27) and view.valid_until == date(2029, 11, 26)
    assert view.body_name == "Example Personnel Certification Body"
    assert view.credential_id == "https://certs.example-body.org/credentials/CB-2026-004217"


def test_vc_jwt_gives_the_same_view(sign) -> None:
    assert certificate_view(sign(suite="vc+jwt")) == certificate_view(sign())


def test_language_value_objects_and_nfc(sign) -> None:
    signed = dict(sign())
    signed["issuer"] = {**signed["issuer"], "name": [{"@value": "Organisme", "@language": "fr"}]}
    signed["credentialSubject"] = {
        **signed["credentialSubject"],
        "identifier": [{"identityType": "name", "hashed": False, "identityHash": "Zoe\u0308"}],
    }
    view = certificate_view(signed)
    assert view.body_name == "Organisme" and view.person_name == "Zoë"


@pytest.mark.parametrize("drop", ["licenseNumber", "identifier"])
def test_missing_essentials_are_refused(sign, drop: str) -> None:
    signed = dict(sign())
    signed["credentialSubject"] = {
        k: v for k, v in signed["credentialSubject"].items() if k != drop
    }
    with pytest.raises(CertvcError) as caught:
        certificate_view(signed)
    assert caught.value.code is ErrorCode.CREDENTIAL_MALFORMED


def test_a_hashed_name_is_not_printed(sign) -> None:
    signed = dict(sign())
    subject = dict(signed["credentialSubject"])
    subject["identifier"] = [{"identityType": "name", "hashed": True, "identityHash": "sha256$ab"}]
    signed["credentialSubject"] = subject
    with pytest.raises(CertvcError):
        certificate_view(signed)
