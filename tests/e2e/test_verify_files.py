"""``certvc verify`` on what a certified person actually hands over: a baked badge (PNG or
SVG) or a PDF certificate, exported by the running issuer; the verifier finds the credential
(or the printed QR code) inside through the ``certvc.input_extractors`` entry point that
wallet_export registers, and checks it like any other input.

The issuer serves plain HTTP on loopback, so the command runs as a development desk would:
``CERTVC_DEV_MODE=1`` with the server's origin in ``CERTVC_ALLOW_ORIGINS`` (status lists are
fetched from it), and a trust list pinning the body's DID document (``--trust``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuer.cli import main
from tests.issuer.support import http
from verifier.inputs import registered_extractors
from verifier.qr import looks_like_qr_payload
from wallet_export.badge_image import default_badge_svg
from wallet_export.pdf import render_pdf
from wallet_export.pdf_extract import decode_qr
from wallet_export.view import certificate_view

CERTIFY = {
    "scheme": "CWI-2",
    "scope": "visual testing of welds",
    "person": {"name": "李小龍"},
    "reason": "certification committee decision",
}


def _verify(server, trust: Path, tmp_path: Path, path: Path, code: int) -> dict:
    env = {
        "CERTVC_DEV_MODE": "1",
        "CERTVC_ALLOW_ORIGINS": server.base_url,
        "CERTVC_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = CliRunner().invoke(
        main, ["verify", "--json", "--refresh", "--trust", str(trust), str(path)], env=env
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_certvc_verify_reads_badges_and_pdf_certificates(server, tmp_path: Path) -> None:
    created = http("POST", server.url("/api/v1/certifications"), body=CERTIFY, token=server.token)
    assert created.status == 201, created.body
    number = created.json["certification"]["number"]
    signed = created.json["verifiableCredential"]
    did_document = http("GET", server.url("/.well-known/did.json")).json
    trust = tmp_path / "trust.json"
    body = {"did": did_document["id"], "name": "Body under test", "didDocument": did_document}
    trust.write_text(json.dumps({"certvcTrustList": 1, "bodies": [body]}))

    files = {}
    for form, name in (("badge-png", "badge.png"), ("badge-svg", "badge.svg"), ("pdf", "c.pdf")):
        reply = http(
            "GET",
            server.url(f"/api/v1/certifications/{number}/export?format={form}"),
            token=server.token,
        )
        assert reply.status == 200
        files[form] = tmp_path / name
        files[form].write_bytes(reply.body)
    # a scanned certificate: the same page, no attachment: only its printed QR code is left
    qr_text = decode_qr(
        http(
            "GET",
            server.url(f"/api/v1/certifications/{number}/export?format=qr-png"),
            token=server.token,
        ).body
    )
    assert qr_text is not None and looks_like_qr_payload(qr_text)
    files["scan"] = tmp_path / "scan.pdf"
    files["scan"].write_bytes(render_pdf(certificate_view(signed), qr=qr_text))

    for path in files.values():
        result = _verify(server, trust, tmp_path, path, code=0)
        assert result["verdict"] == "VALID", (path.name, result)
        assert {c["check"]: c["status"] for c in result["checks"]}["status"] == "passed"

    suspended = http(
        "POST",
        server.url(f"/api/v1/certifications/{number}/suspend"),
        body={"reason": "surveillance"},
        token=server.token,
    )
    assert suspended.status == 200
    assert _verify(server, trust, tmp_path, files["badge-svg"], code=1)["verdict"] == "SUSPENDED"


def test_a_badge_without_a_credential_is_unusable_input(tmp_path: Path) -> None:
    """Exit 2 with one line naming the code: never a traceback."""
    path = tmp_path / "plain.svg"
    path.write_bytes(default_badge_svg("Inspector", "CWI-2"))
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("certvc: error: badge_not_baked: ")


@pytest.fixture(autouse=True)
def _extractor_registered() -> None:
    names = [name for name, _ in registered_extractors()]
    assert "wallet_export" in names, (
        "wallet_export's certvc.input_extractors entry point is not installed "
        "(pyproject.toml; pip install -e .)"
    )
