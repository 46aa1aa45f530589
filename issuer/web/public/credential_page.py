"""The public credential page at a credential's id URL (opt-in; see
:mod:`issuer.services.public_page`).

``GET /credentials/<uuid>`` negotiates: a browser (``text/html``) gets the page, a verifier
(``application/vc``, ``application/vc+jwt``, JSON-LD) gets the signed credential as issued,
which is what a link-mode QR code leads to. ``GET /credentials/<uuid>/badge.png`` is the baked
badge. Off, or unknown: 404. The verdict on the page is computed on each request by the
production verifier (:mod:`issuer.services.live_verify`); nothing is cached by proxies.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request, url_for

from verifier import qr as qr_format
from verifier.result import Verdict
from wallet_export import add_to_profile_url, certificate_view

from ...db.models import CredentialFormat, IssuedCredential
from ...errors import NotFound
from ...services import public_page, wallet_files
from ...services.lifecycle import credential_document
from ...services.wallet_files import ExportFormat, ExportSource
from ..extensions import database, issuer
from ..wallet import send, wallet_state

bp = Blueprint("credential_page", __name__, template_folder="../../templates")

_JSON_TYPES = (
    "application/vc",
    "application/vc+ld+json",
    "application/ld+json",
    "application/json",
)
_JWT_TYPES = ("application/vc+jwt", "application/jwt")
VERDICT_TEXT = {
    Verdict.VALID: "Valid: issued by this body, within its dates, neither suspended nor revoked.",
    Verdict.SUSPENDED: "Suspended by the certification body.",
    Verdict.REVOKED: "No longer valid: withdrawn, or replaced by a newer certificate.",
    Verdict.SUPERSEDED: "Replaced by a newer certificate: this one is no longer valid.",
    Verdict.EXPIRED: "Expired.",
    Verdict.NOT_YET_VALID: "Not yet valid.",
}


def _published(credential_uuid: str) -> IssuedCredential:
    try:
        value = uuid.UUID(credential_uuid)
    except ValueError:
        raise NotFound("no public credential here") from None
    url = issuer.context().url(f"credentials/{value}")
    return public_page.published(database.session(), url)


def _headers(response: Response) -> Response:
    response.headers["Vary"] = "Accept"
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _machine_response(row: IssuedCredential) -> Response | None:
    """The credential itself when the client asks for a credential media type (not HTML)."""
    wanted = _JWT_TYPES if row.format is CredentialFormat.JWT_VC else _JSON_TYPES
    best = request.accept_mimetypes.best_match(["text/html", *wanted])
    if best is None or best == "text/html":
        return None
    document = credential_document(row)
    if isinstance(document, str):
        return Response(document, mimetype="application/vc+jwt")
    return Response(row.document, mimetype="application/vc")


def _share_links(page_url: str, view: Any) -> dict[str, str]:
    subject = f"{view.certification_name}: certificate {view.certificate_number}"
    links = {
        "E-mail": "mailto:?" + urlencode({"subject": subject, "body": page_url}, quote_via=quote),
    }
    if page_url.startswith("https://"):
        links["LinkedIn"] = add_to_profile_url(view, verification_url=page_url)
        links["LinkedIn post"] = "https://www.linkedin.com/sharing/share-offsite/?" + urlencode(
            {"url": page_url}
        )
    return links


@bp.get("/credentials/<credential_uuid>")
def page(credential_uuid: str) -> Any:
    row = _published(credential_uuid)
    machine = _machine_response(row)
    if machine is not None:
        return _headers(machine)
    document = credential_document(row)
    view = certificate_view(document)
    outcome = wallet_state().verifier.verify(
        document if isinstance(document, str) else dict(document)
    )
    ctx = issuer.context()
    embed = qr_format.deep_link(
        wallet_files.verifier_page(ctx), qr_format.encode_credential(document)
    )
    newer = public_page.newer(database.session(), row)
    html = render_template(
        "public/credential.html",
        view=view,
        row=row,
        result=outcome.result,
        verdict_text=VERDICT_TEXT.get(outcome.result.verdict, "Could not be verified."),
        verify_link=embed,
        share=_share_links(row.credential_id, view),
        newer=newer.credential_id if newer is not None else None,
        badge_url=url_for("credential_page.badge", credential_uuid=credential_uuid),
        body_name=view.body_name,
    )
    return _headers(Response(html))


@bp.get("/credentials/<credential_uuid>/badge.png")
def badge(credential_uuid: str) -> Response:
    row = _published(credential_uuid)
    art = wallet_files.artwork(database.session(), row, ExportFormat.BADGE_PNG)
    source = ExportSource(row.credential_id, credential_document(row), hosted=True, art=art)
    download = wallet_files.render(
        source,
        ExportFormat.BADGE_PNG,
        verifier_url=wallet_files.verifier_page(issuer.context()),
    )
    return _headers(send(download, inline=True))
