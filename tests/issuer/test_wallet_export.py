"""Wallet export in the issuer, through Flask's test client: the export API (every format, its
media type and file name), the other securing signed once and audited, offers, the opt-in
public credential page with its live verification, and the admin UI's QR code, downloads,
"Send to wallet" and public page switch. (Over real HTTPS with the production verifier and a
wallet library: tests/e2e/test_wallet_export_https.py.)"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import zxingcpp
from lxml import etree
from PIL import Image
from sqlalchemy import select

from contexts.loader import default_store
from issuer.db.models import Action, AuditEvent, Role, Scope
from issuer.services import accounts
from keys.did import LocalResolver
from keys.suites import FAST, vc_jwt
from verifier import qr
from verifier.engine import VerifierPolicy, verify_credential
from verifier.result import Verdict
from wallet_export.badge import unbake_png, unbake_svg
from wallet_export.pdf_extract import pdftoppm_first_page

from .conftest import HTTPS_URL, AppEnv
from .support import NOW, fresh_database

PASSWORD = "correct horse battery"
CERTIFY = {
    "scheme": "CWI-2",
    "scope": "visual testing of welds",
    "person": {"name": "Zoë Ångström-Ōtsuka", "reference": "P-SECRET-REF-7"},
    "reason": "committee decision",
}
MEDIA = {
    "pdf": ("application/pdf", ".pdf"),
    "badge-png": ("image/png", "-badge.png"),
    "badge-svg": ("image/svg+xml", "-badge.svg"),
    "qr-png": ("image/png", "-qr.png"),
    "qr-svg": ("image/svg+xml", "-qr.svg"),
    "json": ("application/vc", ".json"),
    "jwt": ("application/vc+jwt", ".jwt"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppEnv]:
    """An https instance (OpenID4VCI on) with an officer and an auditor, for the module."""
    folder = tmp_path_factory.mktemp("wallet")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        with fresh_database("sqlite", folder) as url:
            environment = AppEnv(folder / "instance", url, HTTPS_URL)
            for name, role in (("olga", Role.OFFICER), ("aude", Role.AUDITOR)):
                environment.write(
                    lambda s, name=name, role=role: accounts.create_user(
                        s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
                    )
                )
            yield environment
            environment.engine.dispose()
            environment.app.extensions["certvc.db"].engine.dispose()


def _certify(site, **changes) -> dict:
    reply = site.client.post(
        "/api/v1/certifications", json={**CERTIFY, **changes}, headers=site.auth("issue")
    )
    assert reply.status_code == 201, reply.json
    return reply.json


def _export(site, number, scope="issue", **query):
    return site.client.get(
        f"/api/v1/certifications/{number}/export", query_string=query, headers=site.auth(scope)
    )


def _policy(site) -> VerifierPolicy:
    return VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({site.ctx.did: site.ctx.keyring.did_document()}),
        canonicalizer=FAST,
    )


def _events(site, action: Action) -> list[AuditEvent]:
    with site.read() as session:
        return list(
            session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def _decode_png(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code"
    return found[0].text


def _decode_svg(svg: bytes) -> str:
    """Our QR SVG is one path of unit runs: draw it module by module and read it."""
    root = etree.fromstring(svg)
    size = int(root.get("viewBox").split()[2])
    image = Image.new("L", (size, size), 255)
    for segment in root.find("{http://www.w3.org/2000/svg}path").get("d").split("M")[1:]:
        start, rest = segment.split("h", 1)
        x, y = (int(v) for v in start.split(","))
        for dx in range(int(rest.split("v")[0])):
            image.putpixel((x + dx, y), 0)
    out = io.BytesIO()
    image.resize((size * 4, size * 4), Image.Resampling.NEAREST).save(out, format="PNG")
    return _decode_png(out.getvalue())


# --- the export API -------------------------------------------------------------------------


def test_every_format_with_its_media_type_name_and_content(site) -> None:
    """Each format from the API: the right media type, an attachment named after the
    certificate number, and content that gives the credential back (verified offline here;
    status over HTTP is the e2e test's)."""
    created = _certify(site)
    number = created["certification"]["number"]
    signed = created["verifiableCredential"]
    policy = _policy(site)
    files = {}
    for form, (media_type, suffix) in MEDIA.items():
        reply = _export(site, number, format=form)
        assert reply.status_code == 200, reply.data[:300]
        assert reply.mimetype == media_type
        assert reply.headers["Content-Disposition"] == f'attachment; filename="{number}{suffix}"'
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        files[form] = reply.data
    assert files["pdf"].startswith(b"%PDF-")
    assert json.loads(files["json"]) == signed
    for text in (unbake_png(files["badge-png"]), unbake_svg(files["badge-svg"])):
        assert json.loads(text) == signed
    for text in (_decode_png(files["qr-png"]), _decode_svg(files["qr-svg"])):
        assert text.startswith(f"{HTTPS_URL}/v#1C")
        assert json.loads(qr.decode_payload(text).unverified_text) == signed
    token = files["jwt"].decode()
    assert vc_jwt.parse(token).unverified_payload["id"] == signed["id"]
    for credential in (signed, token):
        result = verify_credential(credential, policy, now=datetime.now(UTC))
        assert result.verdict is Verdict.VALID, result.to_json()
    letter = _export(site, number, format="pdf", paper="letter").data
    assert (
        b"/MediaBox [0 0 612.00 792.00]" in letter
        and b"/MediaBox [0 0 595.28 841.89]" in files["pdf"]
    )


def test_the_pdf_prints_a_link_code_that_needs_no_public_page_and_the_credential(site) -> None:
    """The printed certificate (docs/qr-format.md, "Printed certificates"): the primary code
    links this instance's verifier page to the credential's id, also while the public page is
    off (a link-mode QR export is refused then), and the second code holds the credential.
    Whatever mode is asked, the PDF prints both."""
    created = _certify(site)
    number, signed = created["certification"]["number"], created["verifiableCredential"]
    assert _export(site, number, format="qr-png", mode="link").status_code == 400
    for mode in ("embed", "link"):
        reply = _export(site, number, format="pdf", mode=mode)
        assert reply.status_code == 200
        page = Image.open(io.BytesIO(pdftoppm_first_page(reply.data)))
        texts = {barcode.text for barcode in zxingcpp.read_barcodes(page)}
        assert f"{HTTPS_URL}/v#1L{signed['id']}" in texts
        [embed] = [text for text in texts if text.startswith(f"{HTTPS_URL}/v#1C")]
        assert json.loads(qr.decode_payload(embed).unverified_text) == signed
        assert len(texts) == 2


def test_the_other_securing_is_the_same_credential_signed_once_and_audited(site) -> None:
    """vc+jwt of a Data Integrity credential (and Data Integrity of a vc+jwt one): same id,
    same status entries; signed on the first export, recorded, then served as stored."""
    site.client.post(
        "/api/v1/schemes",
        json={
            "code": "JWT-1",
            "name": "Inspector (vc+jwt)",
            "criteria": "exam",
            "standard": "ISO 9712:2021",
            "validityDays": 365,
            "suite": "vc+jwt",
        },
        headers=site.auth("admin"),
    )
    for scheme, asked in (("CWI-2", "jwt"), ("JWT-1", "json")):
        created = _certify(site, scheme=scheme, person={"name": "李小龍"})
        number = created["certification"]["number"]
        before = len(_events(site, Action.CREDENTIAL_SECURE))
        first, again = (_export(site, number, format=asked).data for _ in range(2))
        assert first == again
        assert len(_events(site, Action.CREDENTIAL_SECURE)) == before + 1
        native = created["verifiableCredential"]
        native = native if isinstance(native, dict) else vc_jwt.parse(native).unverified_payload
        other = (
            json.loads(first)
            if asked == "json"
            else vc_jwt.parse(first.decode()).unverified_payload
        )
        assert other["id"] == native["id"]
        assert other["credentialStatus"] == native["credentialStatus"]
        result = verify_credential(
            first.decode() if asked == "jwt" else other, _policy(site), now=datetime.now(UTC)
        )
        assert result.verdict is Verdict.VALID, result.to_json()


def test_export_refusals_are_clean_4xx(site) -> None:
    number = _certify(site)["certification"]["number"]
    cases = [
        (_export(site, number, format="docx"), 400, "field_invalid"),
        (_export(site, number, format="pdf", paper="a3"), 400, "field_invalid"),
        (_export(site, number, format="qr-png", mode="link"), 400, "field_invalid"),
        (_export(site, "NO-SUCH-1", format="pdf"), 404, "not_found"),
        (_export(site, number, scope="status", format="json"), 403, "auth_forbidden"),
        (
            site.client.get(f"/api/v1/certifications/{number}/export?format=json"),
            401,
            "auth_required",
        ),
    ]
    for reply, status, code in cases:
        assert (reply.status_code, reply.json["error"]["code"]) == (status, code)
    site.client.post(
        f"/api/v1/certifications/{number}/withdraw",
        json={"reason": "fraud"},
        headers=site.auth("status"),
    )
    refused = _export(site, number, format="jwt")  # nothing new is signed for it
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "transition_not_allowed")
    assert _export(site, number, format="json").status_code == 200  # as issued: fine


# --- offers ---------------------------------------------------------------------------------


def test_offers_from_the_api(site) -> None:
    number = _certify(site)["certification"]["number"]
    url = f"/api/v1/certifications/{number}/offer"
    reply = site.client.post(
        url, json={"txCode": True, "byReference": True}, headers=site.auth("issue")
    )
    assert reply.status_code == 201 and reply.headers["Cache-Control"] == "no-store"
    offer = reply.json
    assert offer["link"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert re.fullmatch(r"\d{6}", offer["txCode"])
    by_reference = site.client.get(offer["offerUri"].removeprefix(HTTPS_URL))
    assert by_reference.json == offer["offer"] and "txCode" not in json.dumps(by_reference.json)
    plain = site.client.post(url, headers=site.auth("issue"))
    assert plain.status_code == 201 and plain.json["txCode"] is None
    assert plain.json["link"].startswith("openid-credential-offer://?credential_offer=")
    metadata = site.client.get("/.well-known/openid-credential-issuer").json
    assert metadata["credential_issuer"] == HTTPS_URL
    assert set(metadata["credential_configurations_supported"]) == {
        "CertificationCredential_ldp_vc",
        "CertificationCredential_jwt_vc_json",
    }
    bad = site.client.post(url, json={"txCode": "yes"}, headers=site.auth("issue"))
    assert (bad.status_code, bad.json["error"]["code"]) == (400, "field_invalid")
    site.client.post(
        f"/api/v1/certifications/{number}/suspend",
        json={"reason": "r"},
        headers=site.auth("status"),
    )
    refused = site.client.post(url, headers=site.auth("issue"))
    assert (refused.status_code, refused.json["error"]["code"]) == (409, "transition_not_allowed")


def test_an_http_instance_has_no_openid4vci(app_env) -> None:
    number = app_env.client.post(
        "/api/v1/certifications", json=CERTIFY, headers=app_env.auth("issue")
    ).json["certification"]["number"]
    assert app_env.client.get("/.well-known/openid-credential-issuer").status_code == 404
    reply = app_env.client.post(
        f"/api/v1/certifications/{number}/offer", headers=app_env.auth("issue")
    )
    assert (reply.status_code, reply.json["error"]["code"]) == (503, "instance_not_ready")


# --- the public credential page -------------------------------------------------------------


def _page_switch(site, number, enabled, reason="the holder asked for it"):
    return site.client.post(
        f"/api/v1/certifications/{number}/public-page",
        json={"enabled": enabled, "reason": reason},
        headers=site.auth("issue"),
    )


def test_the_public_page_is_opt_in_audited_and_shows_only_the_certificate(site) -> None:
    created = _certify(site)
    number = created["certification"]["number"]
    signed = created["verifiableCredential"]
    path = signed["id"].removeprefix(HTTPS_URL)
    assert path.startswith("/credentials/")
    assert site.client.get(path).status_code == 404  # off by default
    missing = _page_switch(site, number, True, reason="")
    assert missing.json["error"]["code"] == "reason_required"
    assert _page_switch(site, number, True).json == {
        "number": number,
        "publicPage": True,
        "url": signed["id"],
    }
    assert _page_switch(site, number, True).status_code == 409  # already on

    page = site.client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.data.decode()
    assert "Zoë Ångström-Ōtsuka" in html and number in html
    assert 'id="verdict">VALID<' in html  # the live verification
    assert "P-SECRET-REF-7" not in html  # no personal data beyond the certificate
    assert "linkedin.com/profile/add" in html and "/v#1C" in html
    machine = site.client.get(path, headers={"Accept": "application/vc"})
    assert machine.mimetype == "application/vc" and json.loads(machine.data) == signed
    assert machine.headers["Vary"] == "Accept"
    badge = site.client.get(f"{path}/badge.png")
    assert badge.mimetype == "image/png" and json.loads(unbake_png(badge.data)) == signed
    link = _decode_png(_export(site, number, format="qr-png", mode="link").data)
    assert qr.decode_payload(link).unverified_text == signed["id"]

    site.client.post(
        f"/api/v1/certifications/{number}/suspend",
        json={"reason": "r"},
        headers=site.auth("status"),
    )
    assert 'id="verdict">SUSPENDED<' in site.client.get(path).data.decode()

    assert _page_switch(site, number, False).json["publicPage"] is False
    assert site.client.get(path).status_code == 404
    assert site.client.get(f"{path}/badge.png").status_code == 404
    events = [
        e
        for e in _events(site, Action.PAGE_PUBLISH) + _events(site, Action.PAGE_UNPUBLISH)
        if e.subject == number
    ]
    assert [e.action for e in sorted(events, key=lambda e: e.seq)] == [
        Action.PAGE_PUBLISH,
        Action.PAGE_UNPUBLISH,
    ]
    assert all(e.reason == "the holder asked for it" for e in events)
    for nonsense in (
        "/credentials/not-a-uuid",
        "/credentials/00000000-0000-4000-8000-000000000000",
    ):
        assert site.client.get(nonsense).status_code == 404


# --- the admin UI ---------------------------------------------------------------------------


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _login(client, username="olga") -> str:
    page = client.get("/admin/login").data
    reply = client.post(
        "/admin/login", data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert reply.status_code == 302
    return _csrf(client.get("/admin/").data)


def test_the_certification_page_has_the_qr_code_downloads_and_linkedin(site) -> None:
    created = _certify(site)
    number = created["certification"]["number"]
    auditor = site.app.test_client()
    _login(auditor, "aude")
    page = auditor.get(f"/admin/certifications/{number}").data.decode()
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    text = _decode_svg(svg.encode())
    assert json.loads(qr.decode_payload(text).unverified_text) == created["verifiableCredential"]
    for form in MEDIA:
        assert f"/admin/certifications/{number}/export?format={form}" in page.replace("&amp;", "&")
    assert "linkedin.com/profile/add" in page
    assert "Send to wallet" not in page  # officers only
    download = auditor.get(f"/admin/certifications/{number}/export?format=badge-svg")
    assert download.mimetype == "image/svg+xml"
    assert json.loads(unbake_svg(download.data)) == created["verifiableCredential"]


def test_an_officer_sends_to_a_wallet_and_publishes_the_page(site) -> None:
    number = _certify(site)["certification"]["number"]
    officer = site.app.test_client()
    token = _login(officer)
    assert "Send to wallet" in officer.get(f"/admin/certifications/{number}").data.decode()
    offer = officer.post(
        f"/admin/certifications/{number}/offer", data={"csrf_token": token, "tx_code": "on"}
    )
    assert offer.status_code == 200 and offer.headers["Cache-Control"] == "no-store"
    html = offer.data.decode()
    tx_code = re.search(r'id="tx-code">(\d{6})<', html).group(1)
    link = re.search(r'id="offer-link" readonly value="([^"]+)"', html).group(1)
    assert _decode_svg(re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0).encode()) == (
        link.replace("&amp;", "&")
    )
    assert tx_code not in json.dumps([e.details for e in _events(site, Action.OFFER_CREATE)])
    forged = officer.post(f"/admin/certifications/{number}/offer", data={"csrf_token": "x"})
    assert forged.status_code == 403

    no_reason = officer.post(
        f"/admin/certifications/{number}/public-page",
        data={"csrf_token": token, "enabled": "on", "reason": ""},
    )
    assert no_reason.status_code == 400 and b"reason_required" in no_reason.data
    done = officer.post(
        f"/admin/certifications/{number}/public-page",
        data={"csrf_token": token, "enabled": "on", "reason": "consent form 12"},
    )
    assert done.status_code == 302
    page = officer.get(f"/admin/certifications/{number}").data.decode()
    assert 'id="public-page"' in page and "Turn the public page off" in page


def test_the_openapi_document_lists_the_wallet_routes(site) -> None:
    paths = site.client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/api/v1/certifications/{number}/export",
        "/api/v1/certifications/{number}/offer",
        "/api/v1/certifications/{number}/public-page",
        "/credentials/{credential_uuid}",
        "/.well-known/openid-credential-issuer",
    ):
        assert path in paths
    assert (
        paths["/api/v1/certifications/{number}/offer"]["post"]["x-certvc-scope"]
        == Scope.ISSUE.value
    )
