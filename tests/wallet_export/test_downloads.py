"""Downloads: the credential as ``application/vc`` JSON and as ``application/vc+jwt``, named
after the certificate number (VC 2.0 §6.1 media types; VC-JOSE-COSE §6.1.1)."""

from __future__ import annotations

import json

import pytest

from contexts.errors import CertvcError
from verifier.result import Verdict
from wallet_export.downloads import credential_download, file_stem, json_download, jwt_download


def test_json_download_verifies(sign, verify) -> None:
    signed = sign()
    content, media_type, filename = credential_download(signed)
    assert (media_type, filename) == ("application/vc", "CB-2026-004217.json")
    assert json.loads(content) == signed
    assert verify(content).verdict is Verdict.VALID


def test_jwt_download_verifies(sign, verify) -> None:
    token = sign(suite="vc+jwt")
    download = credential_download(token)
    assert download.media_type == "application/vc+jwt"
    assert download.filename == "CB-2026-004217.jwt"
    assert download.content == token.encode("ascii")
    assert verify(download.content).verdict is Verdict.VALID


@pytest.mark.parametrize(
    ("number", "stem"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ('A "B"\r\nC', "A-B-C"),
        ("", "credential"),
        ("李-1", "1"),
    ],
)
def test_file_names_are_safe(number: str, stem: str) -> None:
    assert file_stem({"credentialSubject": {"licenseNumber": number}}) == stem


def test_wrong_shapes_are_refused() -> None:
    with pytest.raises(CertvcError):
        json_download({"no": "context"})
    with pytest.raises(CertvcError):
        jwt_download("not a token")
