"""Wallet export in the issuer's app: wiring, and what the API, admin UI and page share.

:func:`init_wallet` (called by ``create_app``) builds the instance's own verifier (the public
page's live verification, :mod:`issuer.services.live_verify`) and, when the public URL is https, the
OpenID4VCI service with its endpoints (``/.well-known/openid-credential-issuer``,
``/.well-known/oauth-authorization-server``, ``/oid4vci/...``), ``create_app`` registers the
API routes, the admin routes and the public credential page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app
from markupsafe import Markup

from contexts.errors import CertvcError
from verifier import qr as qr_format
from verifier.qr_symbol import make_symbol, render_svg
from verifier.service import Verifier
from wallet_export import Download, add_to_profile_url, certificate_view
from wallet_export.oid4vci import Oid4vciService
from wallet_export.oid4vci.web import make_blueprint

from ..db.models import Certification
from ..services import catalog, fields, oid4vci, wallet_files
from ..services.lifecycle import credential_document
from ..services.live_verify import instance_verifier
from ..services.wallet_files import ExportFormat, PaperSize, QrMode
from .extensions import database, issuer, now

EXTENSION = "certvc.wallet"

#: The export formats in the order the admin page offers them, with their labels.
FORMAT_LABELS = {
    ExportFormat.PDF: "PDF certificate",
    ExportFormat.BADGE_PNG: "Badge (PNG)",
    ExportFormat.BADGE_SVG: "Badge (SVG)",
    ExportFormat.QR_PNG: "QR code (PNG)",
    ExportFormat.QR_SVG: "QR code (SVG)",
    ExportFormat.JSON: "Credential (JSON)",
    ExportFormat.JWT: "Credential (vc+jwt)",
}


@dataclass(frozen=True)
class WalletState:
    verifier: Verifier
    oid4vci: Oid4vciService | None


def init_wallet(app: Flask) -> None:
    """Build the wallet export's state on the issuer app (after the database and issuer
    extensions) and mount OpenID4VCI on https instances; ``create_app`` registers the API, admin
    and page blueprints, which import this module (so this module imports none of them)."""
    state = app.extensions["certvc.db"]
    ctx = app.extensions["certvc.issuer"]
    service = None
    if ctx.public_url.startswith("https://"):
        with state.reader() as session:
            name = catalog.get_body(session).name
        service = oid4vci.make_service(ctx, state.writer, clock=now, display_name=name)
        app.register_blueprint(make_blueprint(service))
    app.extensions[EXTENSION] = WalletState(instance_verifier(state.reader, ctx, now), service)


def wallet_state() -> WalletState:
    return current_app.extensions[EXTENSION]


def parse_export(args: Any) -> tuple[ExportFormat, PaperSize, QrMode]:
    """``format`` (required), ``paper`` (a4), ``mode`` (embed) from a query or form.

    :raises FieldError:
    """
    return (
        fields.choice(args, "format", ExportFormat),
        fields.choice(args, "paper", PaperSize, default=PaperSize.A4),
        fields.choice(args, "mode", QrMode, default=QrMode.EMBED),
    )


def export(key: str, args: Any, actor: str) -> Download:
    """The export of ``key`` as the request asks (one short transaction, then rendering)."""
    form, paper, mode = parse_export(args)
    ctx, moment = issuer.context(), now()
    source = database.write(
        lambda session: wallet_files.prepare(session, ctx, key, form, actor=actor, now=moment)
    )
    return wallet_files.render(
        source,
        form,
        verifier_url=wallet_files.verifier_page(ctx),
        paper=paper,
        mode=mode,
    )


def send(download: Download, *, inline: bool = False) -> Response:
    """A file response: its media type, an attachment name, no sniffing, no active content."""
    response = Response(download.content, mimetype=download.media_type)
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{download.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@dataclass(frozen=True)
class WalletPanel:
    """What the admin page shows for a certification's current credential."""

    qr_svg: Markup | None
    formats: dict[ExportFormat, str]
    linkedin: str | None
    public_url: str | None
    oid4vci: bool
    note: str | None = None


def verification_url(cert: Certification) -> str | None:
    """Where a person can send others to check the certificate: its public page when on,
    else this verifier's page with the credential in the link (https instances only)."""
    current = cert.current_credential
    ctx = issuer.context()
    if current is None or not ctx.public_url.startswith("https://"):
        return None
    if cert.public_page:
        return current.credential_id
    payload = qr_format.encode_credential(credential_document(current))
    return qr_format.deep_link(wallet_files.verifier_page(ctx), payload)


def wallet_panel(cert: Certification) -> WalletPanel:
    """The QR code, the downloads, LinkedIn and the offer button of the admin page."""
    current = cert.current_credential
    if current is None:
        return WalletPanel(None, {}, None, None, False, "no credential yet")
    ctx = issuer.context()
    document = credential_document(current)
    note = None
    try:
        text = qr_format.deep_link(
            wallet_files.verifier_page(ctx), qr_format.encode_credential(document)
        )
        title = f"QR code of certificate {cert.number}"
        svg = Markup(render_svg(make_symbol(text), title=title).decode("utf-8"))
    except CertvcError as error:  # too large a credential for one QR code, say
        svg, note = None, f"{error.code}: {error.message}"
    linkedin = None
    url = verification_url(cert)
    if url is not None:
        try:
            linkedin = add_to_profile_url(certificate_view(document), verification_url=url)
        except CertvcError as error:
            note = f"{error.code}: {error.message}"
    return WalletPanel(
        qr_svg=svg,
        formats=FORMAT_LABELS,
        linkedin=linkedin,
        public_url=current.credential_id if cert.public_page else None,
        oid4vci=wallet_state().oid4vci is not None,
        note=note,
    )
