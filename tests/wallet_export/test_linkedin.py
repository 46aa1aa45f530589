"""LinkedIn "Add to profile": the documented parameters, percent-encoded."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from contexts.errors import CertvcError
from wallet_export.linkedin import add_to_profile_url
from wallet_export.view import certificate_view

VERIFY = "https://certs.example-body.org/credentials/CB-2026-004217"


def test_link_carries_the_certification(sign) -> None:
    url = add_to_profile_url(certificate_view(sign()), verification_url=VERIFY)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "www.linkedin.com", "/profile/add")
    assert parse_qs(parts.query) == {
        "startTask": ["CERTIFICATION_NAME"],
        "name": ["Certified Welding Inspector — Level 2"],
        "organizationName": ["Example Personnel Certification Body"],
        "issueYear": ["2026"],
        "issueMonth": ["11"],
        "expirationYear": ["2029"],
        "expirationMonth": ["11"],
        "certUrl": [VERIFY],
        "certId": ["CB-2026-004217"],
    }


def test_organization_id_replaces_the_name(sign) -> None:
    query = parse_qs(urlsplit(add_to_profile_url(
        certificate_view(sign()), verification_url=VERIFY, organization_id=1337
    )).query)  # fmt: skip
    assert query["organizationId"] == ["1337"] and "organizationName" not in query


def test_bad_inputs_are_refused(sign) -> None:
    view = certificate_view(sign())
    with pytest.raises(CertvcError):
        add_to_profile_url(view, verification_url="javascript:alert(1)")
    with pytest.raises(CertvcError):
        add_to_profile_url(view, verification_url=VERIFY, organization_id="12&x=1")
