"""Uploaded images: scheme badge images and the body's logo, uploaded by admins in the admin
UI (CSRF, login, a reason, audited with the SHA-256), checked strictly (refusals carry their
code and store nothing), served at stable public URLs, named in new credentials, and used by
the baked badges and the PDF certificate, which still verify."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from contexts.errors import ErrorCode
from contexts.loader import default_store
from issuer.db.models import Action, AuditEvent, Role, StoredImage
from issuer.services import accounts, catalog
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.result import Verdict
from wallet_export.badge import unbake_png, unbake_svg
from wallet_export.errors import WalletCode
from wallet_export.pdf_extract import extract_from_pdf

from .conftest import AppEnv
from .support import BACKENDS, NOW, fresh_database

PASSWORD = "correct horse battery"
PUBLIC = "http://127.0.0.1:8000"
SVG_NS = 'xmlns="http://www.w3.org/2000/svg"'


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str | None,
) -> Iterator[AppEnv]:
    """An instance with an admin and an officer, on every backend (bytes go to a BLOB/bytea)."""
    folder = tmp_path_factory.mktemp("images")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        with fresh_database(request.param, folder, pg_database) as url:
            environment = AppEnv(folder / "instance", url)
            for name, role in (("adam", Role.ADMIN), ("olga", Role.OFFICER)):
                environment.write(
                    lambda s, name=name, role=role: accounts.create_user(
                        s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
                    )
                )
            yield environment
            environment.engine.dispose()
            environment.app.extensions["certvc.db"].engine.dispose()


# --- helpers --------------------------------------------------------------------------------


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _admin(site: AppEnv, username: str = "adam") -> tuple[Any, str]:
    """A fresh browser signed in as ``username`` and its CSRF token."""
    client = site.app.test_client()
    page = client.get("/admin/login").data
    reply = client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 302
    return client, _csrf(client.get("/admin/").data)


def _scheme(site: AppEnv, code: str) -> str:
    data = {
        "code": code,
        "name": f"Scheme {code}",
        "criteria": "Passed the examination",
        "standard": "EN ISO 9712",
        "validityDays": 365,
    }
    site.write(lambda s: catalog.create_scheme(s, data, actor="t", now=NOW))
    return code


def _png(size: tuple[int, int] = (256, 256), *, seed: int = 1, text: bool = False) -> bytes:
    """A PNG with distinct pixels (and, when asked, a tEXt chunk and EXIF: metadata)."""
    image = Image.new("RGBA", size)
    image.putdata(
        [
            ((x * 7 + seed) % 256, (y * 5) % 256, (x ^ y) % 256, 255)
            for y in range(size[1])
            for x in range(size[0])
        ]  # fmt: skip
    )
    out = io.BytesIO()
    if text:
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Author", "a secret name")
        exif = Image.Exif()
        exif[0x010E] = "GPS somewhere"
        image.save(out, format="PNG", pnginfo=info, exif=exif)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def _pixels(png: bytes) -> bytes:
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA").tobytes()


def _chunk_types(png: bytes) -> list[bytes]:
    kinds, offset = [], 8
    while offset < len(png):
        length = int.from_bytes(png[offset : offset + 4], "big")
        kinds.append(png[offset + 4 : offset + 8])
        offset += 12 + length
    return kinds


def _upload(client: Any, token: str, url: str, data: bytes, name: str, **form: str) -> Any:
    """A multipart POST encoded here: werkzeug's test client spools a large one to a
    temporary file it never closes (a ResourceWarning under ``filterwarnings = error``)."""
    boundary = "certvc-test-boundary-7f3a"
    parts = []
    for key, value in {"csrf_token": token, "reason": "design committee", **form}.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _stored(site: AppEnv, code: str | None) -> StoredImage | None:
    with site.read() as session:
        if code is None:
            image = catalog.get_body(session).logo
        else:
            image = catalog.get_scheme(session, code).image
        if image is not None:
            _ = image.content  # load the deferred bytes before the session closes
        return image


def _events(site: AppEnv, action: Action) -> list[AuditEvent]:
    with site.read() as session:
        return list(
            session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def _audit_count(site: AppEnv) -> int:
    with site.read() as session:
        return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()


def _certify(site: AppEnv, scheme: str) -> dict[str, Any]:
    reply = site.client.post(
        "/api/v1/certifications",
        json={
            "scheme": scheme,
            "scope": "visual testing",
            "person": {"name": "Ada"},
            "reason": "r",
        },
        headers=site.auth("issue"),
    )
    assert reply.status_code == 201, reply.json
    return reply.json


def _export(site: AppEnv, number: str, form: str) -> bytes:
    reply = site.client.get(
        f"/api/v1/certifications/{number}/export",
        query_string={"format": form},
        headers=site.auth("issue"),
    )
    assert reply.status_code == 200, reply.data[:300]
    return reply.data


def _verified(site: AppEnv, credential: Any) -> None:
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({site.ctx.did: site.ctx.keyring.did_document()}),
        canonicalizer=FAST,
    )
    result = verify_credential(credential, policy, now=datetime.now(UTC))
    assert result.verdict is Verdict.VALID, result.to_json()


# --- who may upload -------------------------------------------------------------------------


def test_only_admins_have_the_images_page(site) -> None:
    officer, token = _admin(site, "olga")
    assert b"/admin/images" not in officer.get("/admin/").data
    assert officer.get("/admin/images").status_code == 403
    before = _audit_count(site)
    reply = _upload(officer, token, "/admin/images/logo", _png(), "logo.png")
    assert reply.status_code == 403 and b"auth_forbidden" in reply.data
    assert _audit_count(site) == before
    admin, _ = _admin(site)
    assert b"/admin/images" in admin.get("/admin/").data
    page = admin.get("/admin/images")
    assert page.status_code == 200 and b"CWI-2" in page.data
    assert site.app.test_client().get("/admin/images").status_code == 302  # signed out: login


def test_an_upload_without_the_csrf_token_is_refused_and_stores_nothing(site) -> None:
    code = _scheme(site, "CSRF-1")
    admin, _ = _admin(site)
    before = _audit_count(site)
    for token in ("", "forged-token"):
        reply = _upload(admin, token, f"/admin/images/schemes/{code}", _png(), "b.png")
        assert reply.status_code == 403 and b"csrf_invalid" in reply.data
    assert _stored(site, code) is None and _audit_count(site) == before


# --- a PNG badge ----------------------------------------------------------------------------


def test_a_png_badge_is_stored_clean_audited_served_named_and_baked(site) -> None:
    code = _scheme(site, "PNG-1")
    earlier = _certify(site, code)["verifiableCredential"]
    uploaded = _png(text=True)
    admin, token = _admin(site)
    reply = _upload(admin, token, f"/admin/images/schemes/{code}", uploaded, "badge.png")
    assert reply.status_code == 302, reply.data[:500]

    stored = _stored(site, code)
    assert stored is not None and stored.media_type.value == "image/png"
    assert stored.sha256 == hashlib.sha256(stored.content).hexdigest()
    assert _pixels(stored.content) == _pixels(uploaded)  # same picture ...
    assert b"tEXt" in _chunk_types(uploaded) and b"eXIf" in _chunk_types(uploaded)
    assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf"} & set(_chunk_types(stored.content))
    assert b"a secret name" not in stored.content  # ... without its metadata

    [event] = [e for e in _events(site, Action.SCHEME_IMAGE) if e.subject == code]
    details = json.loads(event.details)
    assert details["sha256"] == stored.sha256 and details["mediaType"] == "image/png"
    assert event.actor == "user:adam" and event.reason == "design committee"
    assert len(event.details) < 400  # the digest, not the bytes

    served = site.client.get(f"/schemes/{code}/badge.png")
    assert served.status_code == 200 and served.data == stored.content
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["ETag"] == f'"{stored.sha256}"'
    assert served.headers["Cache-Control"] == "public, max-age=300"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    again = site.client.get(
        f"/schemes/{code}/badge.png", headers={"If-None-Match": f'"{stored.sha256}"'}
    )
    assert again.status_code == 304
    assert site.client.get(f"/schemes/{code}/badge.svg").status_code == 404
    assert site.client.get("/schemes/NO-SUCH/badge.png").status_code == 404

    created = _certify(site, code)
    signed = created["verifiableCredential"]
    achievement = signed["credentialSubject"]["achievement"]
    assert achievement["image"] == {"id": f"{PUBLIC}/schemes/{code}/badge.png", "type": "Image"}
    _verified(site, signed)
    number = created["certification"]["number"]
    png = _export(site, number, "badge-png")
    assert json.loads(unbake_png(png)) == signed
    assert _pixels(png) == _pixels(uploaded)  # the uploaded art, baked
    svg = _export(site, number, "badge-svg")
    assert json.loads(unbake_svg(svg)) == signed
    inline = re.search(rb'href="data:image/png;base64,([^"]+)"', svg)
    assert inline and _pixels(base64.b64decode(inline.group(1))) == _pixels(uploaded)

    # a credential issued before the upload says what it said
    number_before = earlier["credentialSubject"]["licenseNumber"]
    reply = site.client.get(
        f"/api/v1/certifications/{number_before}/export",
        query_string={"format": "json"},
        headers=site.auth("issue"),
    )
    assert json.loads(reply.data) == earlier
    assert "image" not in earlier["credentialSubject"]["achievement"]


def test_a_new_upload_replaces_the_old_one_and_says_so_in_the_audit_log(site) -> None:
    code = _scheme(site, "PNG-2")
    admin, token = _admin(site)
    first, second = _png(seed=1), _png(seed=99)
    for data in (first, second):
        reply = _upload(admin, token, f"/admin/images/schemes/{code}", data, "b.png")
        assert reply.status_code == 302
    stored = _stored(site, code)
    assert _pixels(stored.content) == _pixels(second)
    events = [
        json.loads(e.details) for e in _events(site, Action.SCHEME_IMAGE) if e.subject == code
    ]
    assert len(events) == 2 and events[1]["replaces"] == events[0]["sha256"] != stored.sha256
    with site.read() as session:
        count = session.execute(
            select(func.count()).select_from(StoredImage).where(StoredImage.scheme_id.is_not(None))
        ).scalar_one()
        schemes_with_images = sum(1 for s in catalog.list_schemes(session) if s.image is not None)
    assert count == schemes_with_images  # one row per scheme, replaced in place


# --- an SVG badge ---------------------------------------------------------------------------

SAFE_SVG = (
    f'<?xml version="1.0" encoding="UTF-8"?>\n<svg {SVG_NS} '
    'xmlns:xlink="http://www.w3.org/1999/xlink" width="200" height="200" viewBox="0 0 200 200">'
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#123"/></linearGradient></defs>'
    "<style>.ring { stroke: #1f3a5f; fill: url(#g); }</style>"
    '<circle id="uploaded-art" class="ring" cx="100" cy="100" r="90"/>'
    '<use xlink:href="#uploaded-art"/></svg>'
).encode()


def test_an_svg_badge_is_kept_served_with_a_policy_and_baked_into_the_svg_badge(site) -> None:
    code = _scheme(site, "SVG-1")
    admin, token = _admin(site)
    reply = _upload(admin, token, f"/admin/images/schemes/{code}", SAFE_SVG, "badge.svg")
    assert reply.status_code == 302, reply.data[:500]
    stored = _stored(site, code)
    assert stored.media_type.value == "image/svg+xml" and stored.content == SAFE_SVG

    served = site.client.get(f"/schemes/{code}/badge.svg")
    assert served.data == SAFE_SVG and served.headers["Content-Type"].startswith("image/svg+xml")
    assert (
        served.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    )
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["ETag"] == f'"{hashlib.sha256(SAFE_SVG).hexdigest()}"'
    assert site.client.get(f"/schemes/{code}/badge.png").status_code == 404

    created = _certify(site, code)
    signed = created["verifiableCredential"]
    image = signed["credentialSubject"]["achievement"]["image"]
    assert image == {"id": f"{PUBLIC}/schemes/{code}/badge.svg", "type": "Image"}
    _verified(site, signed)
    number = created["certification"]["number"]
    svg = _export(site, number, "badge-svg")
    assert json.loads(unbake_svg(svg)) == signed and b'id="uploaded-art"' in svg
    png = _export(site, number, "badge-png")  # PNG baking needs a PNG: the drawn badge
    assert json.loads(unbake_png(png)) == signed
    with Image.open(io.BytesIO(png)) as drawn:
        assert drawn.size == (512, 512)


# --- refusals -------------------------------------------------------------------------------


def _huge_png() -> bytes:
    out = io.BytesIO()
    Image.new("L", (4096, 200)).save(out, format="PNG")
    return out.getvalue()


def _tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, format="PNG")
    return out.getvalue()


def _bad_png() -> bytes:
    png = _png()
    return png[:60] + bytes(200) + png[260:]  # the image data corrupted


def _gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (200, 200)).save(out, format="GIF")
    return out.getvalue()


def _svg(body: str, head: str = "") -> bytes:
    return f'{head}<svg {SVG_NS} xmlns:xlink="http://www.w3.org/1999/xlink">{body}</svg>'.encode()


REFUSED = {
    "png-not-decodable": (_bad_png, WalletCode.IMAGE_INVALID, 400),
    "png-truncated": (lambda: _png()[:100], WalletCode.IMAGE_INVALID, 400),
    "png-huge-dimensions": (_huge_png, ErrorCode.INPUT_TOO_LARGE, 413),
    "png-too-small": (_tiny_png, WalletCode.IMAGE_INVALID, 400),
    "png-over-2-mib": (
        lambda: _png()[:-12] + b"\0" * (2 * 1024 * 1024) + _png()[-12:],
        ErrorCode.INPUT_TOO_LARGE,
        413,
    ),
    "gif": (_gif, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415),
    "svg-script": (
        lambda: _svg("<script>alert(document.cookie)</script>"),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-onload": (lambda: _svg('<rect onload="alert(1)"/>'), WalletCode.IMAGE_INVALID, 400),
    "svg-onload-on-root": (
        lambda: f'<svg {SVG_NS} onload="alert(1)"/>'.encode(),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-external-href": (
        lambda: _svg('<image href="https://tracker.example/p.png"/>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-external-xlink-href": (
        lambda: _svg('<use xlink:href="https://evil.example/s.svg#x"/>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-javascript-link": (
        lambda: _svg('<a href="javascript:alert(1)"><text>x</text></a>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-animated-href": (
        lambda: _svg('<a><set attributeName="href" to="javascript:alert(1)"/></a>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-foreign-object": (
        lambda: _svg("<foreignObject><div xmlns='http://www.w3.org/1999/xhtml'/></foreignObject>"),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-css-import": (
        lambda: _svg("<style>@import 'https://evil.example/x.css';</style>"),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-css-external-url": (
        lambda: _svg('<rect style="fill: url(https://evil.example/p.svg#g)"/>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-stylesheet-instruction": (
        lambda: _svg("", '<?xml-stylesheet href="https://evil.example/x.css"?>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-entities": (
        lambda: _svg("<text>&x;</text>", '<!DOCTYPE svg [<!ENTITY x "boom">]>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-not-svg-namespace": (
        lambda: b"<svg><rect/></svg>",
        WalletCode.IMAGE_INVALID,
        400,
    ),
    # Past a deny-list (issue found in review): CSS escapes, escaped at-rules, image sets,
    # upper-case elements an HTML parser would lower-case, other namespaces, xml:base, and
    # javascript: URLs split by a tab.
    "svg-css-escaped-url": (
        lambda: _svg('<rect style="fill:u\\72l(https://evil.example/x.svg#a)"/>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-css-escaped-import": (
        lambda: _svg('<style>@\\69mport "https://evil.example/x.css";</style>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-css-image-set": (
        lambda: _svg("<rect style=\"fill:image-set('https://evil.example/p.png' 1x)\"/>"),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-upper-case-style": (
        lambda: _svg("<STYLE>rect { fill: red }</STYLE>"),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-xhtml-img": (
        lambda: _svg(
            '<h:img xmlns:h="http://www.w3.org/1999/xhtml" src="https://evil.example/p"/>'
        ),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-xml-base": (
        lambda: _svg('<g xml:base="https://evil.example/"><use href="#a"/></g>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-set-element": (
        lambda: _svg('<rect><set attributeName="fill" to="red"/></rect>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-tab-split-javascript": (
        lambda: _svg('<use href="java\tscript:alert(1)"/>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-external-image-data-svg": (
        lambda: _svg('<use href="data:image/svg+xml;base64,PHN2Zy8+"/>'),
        WalletCode.IMAGE_INVALID,
        400,
    ),
    "svg-over-512-kib": (
        lambda: _svg("<!--" + "x" * (512 * 1024) + "-->"),
        ErrorCode.INPUT_TOO_LARGE,
        413,
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_badge_upload_has_its_code_and_stores_nothing(site, case: str) -> None:
    make, code, status = REFUSED[case]
    scheme = _scheme(site, f"REF-{list(REFUSED).index(case)}")
    admin, token = _admin(site)
    before = _audit_count(site)
    reply = _upload(admin, token, f"/admin/images/schemes/{scheme}", make(), "upload")
    assert reply.status_code == status, reply.data[:800]
    assert code.value.encode() in reply.data
    assert _stored(site, scheme) is None and _audit_count(site) == before
    assert site.client.get(f"/schemes/{scheme}/badge.png").status_code == 404
    assert site.client.get(f"/schemes/{scheme}/badge.svg").status_code == 404


def test_an_upload_without_a_reason_or_a_file_is_refused(site) -> None:
    scheme = _scheme(site, "NOREASON-1")
    admin, token = _admin(site)
    reply = _upload(admin, token, f"/admin/images/schemes/{scheme}", _png(), "b.png", reason="")
    assert reply.status_code == 400 and b"reason_required" in reply.data
    reply = admin.post(f"/admin/images/schemes/{scheme}", data={"csrf_token": token, "reason": "r"})
    assert reply.status_code == 400 and b"field_invalid" in reply.data
    assert _stored(site, scheme) is None
    assert (
        admin.post("/admin/images/schemes/NO-SUCH", data={"csrf_token": token}).status_code == 404
    )


# --- the body's logo ------------------------------------------------------------------------


def test_the_logo_is_png_only_served_named_and_printed_on_the_pdf(site) -> None:
    admin, token = _admin(site)
    before = _audit_count(site)
    reply = _upload(admin, token, "/admin/images/logo", SAFE_SVG, "logo.svg")
    assert reply.status_code == 415 and b"unsupported_media_type" in reply.data
    assert _stored(site, None) is None and _audit_count(site) == before

    logo = _png((400, 160), seed=5)
    reply = _upload(admin, token, "/admin/images/logo", logo, "logo.png")
    assert reply.status_code == 302, reply.data[:500]
    stored = _stored(site, None)
    assert stored is not None and _pixels(stored.content) == _pixels(logo)
    [event] = _events(site, Action.BODY_LOGO)
    assert json.loads(event.details)["sha256"] == stored.sha256
    assert event.subject == site.ctx.did

    served = site.client.get("/body/logo.png")
    assert served.status_code == 200 and served.data == stored.content
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["ETag"] == f'"{stored.sha256}"'
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "public" in served.headers["Cache-Control"]

    created = _certify(site, "CWI-2")
    signed = created["verifiableCredential"]
    assert signed["issuer"]["image"] == {"id": f"{PUBLIC}/body/logo.png", "type": "Image"}
    _verified(site, signed)
    pdf = _export(site, created["certification"]["number"], "pdf")
    [placed] = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert placed.image.size == (400, 160)
    assert _pixels_rgb(placed.image) == _pixels_rgb(Image.open(io.BytesIO(logo)))
    attached = extract_from_pdf(pdf)
    assert attached is not None and json.loads(attached) == signed
    _verified(site, json.loads(attached))


def _pixels_rgb(image: Image.Image) -> bytes:
    return image.convert("RGB").tobytes()


def test_a_pdf_without_an_uploaded_logo_has_no_image(tmp_path) -> None:
    """Control for the test above: the image on the page is the logo, nothing else."""
    with fresh_database("sqlite", tmp_path) as url:
        bare = AppEnv(tmp_path / "instance", url)
    try:
        created = _certify(bare, "CWI-2")
        assert "image" not in created["verifiableCredential"]["issuer"]
        pdf = _export(bare, created["certification"]["number"], "pdf")
        assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 0
        assert bare.client.get("/body/logo.png").status_code == 404
    finally:
        bare.engine.dispose()
        bare.app.extensions["certvc.db"].engine.dispose()
