"""Exports of an issued credential: PDF certificate, baked badges, QR codes, JSON and vc+jwt.

Two steps so that no database transaction is held while a PDF renders: :func:`prepare` reads
the record (and, for JSON or vc+jwt of a credential issued the other way, signs and records
the alternate securing: :mod:`issuer.services.securing`) inside the adapter's transaction;
:func:`render` is pure and calls :mod:`wallet_export`.

QR codes (docs/qr-format.md) open this instance's verifier page ``<public URL>/v``: in
``embed`` mode the signed credential travels in the code; in ``link`` mode the code holds the
credential's id URL, which this instance serves only while the certification's public page is
on (an officer's audited opt-in; see :mod:`issuer.services.public_page`). The PDF prints two codes
whatever the asked mode (:func:`pdf_codes`, measured in bench/print_qr.py): a large link-mode
code, which survives a phone photo of the whole page and which this instance's own verifier
page resolves from its database (so it does not need the public page), and a smaller
embed-mode code that any verifier reads without this instance; it also carries the credential
as an attachment. Badges are the scheme's badge with the credential baked in, as issued.

Uploaded images (:mod:`issuer.services.images.store`) are used when there are some: the body's
logo on the PDF, the scheme's badge image for the badges. A PNG badge needs a PNG, so an SVG
upload leaves the PNG badge drawn from the scheme's name and code (``default_badge_png``); an
SVG badge of a PNG upload is an SVG wrapping it (``<image href="data:image/png;base64,...">``),
so both downloads show the uploaded art. Without uploads both are drawn, as before.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from contexts.errors import InputError
from verifier import qr as qr_format
from verifier.qr_symbol import make_symbol, render_png, render_svg
from wallet_export import (
    Branding,
    Download,
    Paper,
    bake_png,
    bake_svg,
    certificate_pdf,
    certificate_view,
    credential_download,
    default_badge_png,
    default_badge_svg,
)
from wallet_export.downloads import file_stem
from wallet_export.view import unverified_credential

from ..db.models import Certification, CredentialFormat, IssuedCredential
from ..errors import FieldError, NotFound
from . import catalog
from .images.check import ImageType
from .issuing_context import IssuerContext
from .lifecycle import credential_document
from .securing import secured_as

QR_SVG_SIZE_MM = 45
BADGE_PIXELS = 512


class ExportFormat(Enum):
    PDF = "pdf"
    BADGE_PNG = "badge-png"
    BADGE_SVG = "badge-svg"
    QR_PNG = "qr-png"
    QR_SVG = "qr-svg"
    JSON = "json"
    JWT = "jwt"


class QrMode(Enum):
    EMBED = "embed"
    LINK = "link"


class PaperSize(Enum):
    A4 = "a4"
    LETTER = "letter"

    @property
    def paper(self) -> Paper:
        return Paper[self.name]


_SECURED = {ExportFormat.JSON: CredentialFormat.LDP_VC, ExportFormat.JWT: CredentialFormat.JWT_VC}


@dataclass(frozen=True)
class Artwork:
    """The uploaded images an export uses: the scheme's badge image (PNG or SVG) and the
    body's logo (PNG); None where nothing was uploaded."""

    badge: bytes | None = None
    badge_type: ImageType | None = None
    logo: bytes | None = None

    def __repr__(self) -> str:
        kind = self.badge_type.value if self.badge_type else None
        return f"Artwork(badge={kind}, logo={self.logo is not None})"


@dataclass(frozen=True)
class ExportSource:
    """What rendering needs: the credential as issued, the asked securing (JSON and vc+jwt
    formats), whether its id URL is served (link-mode QR codes need that), and the uploaded
    images."""

    credential_id: str
    document: Mapping[str, Any] | str
    secured: Mapping[str, Any] | str | None = None
    hosted: bool = False
    art: Artwork = field(default_factory=Artwork)

    def __repr__(self) -> str:
        return f"ExportSource({self.credential_id!r}, hosted={self.hosted})"


def resolve(session: Session, key: str) -> IssuedCredential:
    """A certificate number's current credential, or the credential with that id.

    :raises NotFound:
    """
    cert = session.execute(
        select(Certification).where(Certification.number == key)
    ).scalar_one_or_none()
    if cert is not None:
        current = cert.current_credential
        if current is None:
            raise NotFound(f"certification {key} has no credential")
        return current
    row = session.execute(
        select(IssuedCredential).where(IssuedCredential.credential_id == key)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no certification with number or credential id {key!r}")
    return row


def hosted(row: IssuedCredential) -> bool:
    """Whether ``GET <credential id>`` serves this credential (see
    :mod:`issuer.services.public_page`)."""
    return row.certification is not None and row.certification.public_page and not row.is_copy


def artwork(session: Session, row: IssuedCredential, form: ExportFormat | None = None) -> Artwork:
    """The uploaded images the export of ``row`` in ``form`` needs (None: every format's).

    The badge is the scheme's of the credential's certification (a credential issued through
    the VC API has none: its badge is drawn); the logo is the body's.
    """
    badge = badge_type = logo = None
    if form in (None, ExportFormat.BADGE_PNG, ExportFormat.BADGE_SVG) and row.certification:
        image = row.certification.scheme.image
        if image is not None:
            badge, badge_type = image.content, image.media_type
    if form in (None, ExportFormat.PDF):
        stored = catalog.get_body(session).logo
        logo = stored.content if stored is not None else None
    return Artwork(badge, badge_type, logo)


def prepare(
    session: Session,
    ctx: IssuerContext,
    key: str,
    form: ExportFormat,
    *,
    actor: str,
    now: datetime,
) -> ExportSource:
    """Read what the export of ``key`` needs (may sign and record the alternate securing).

    :raises NotFound: :raises TransitionNotAllowed: the other securing of a revoked credential.
    """
    row = resolve(session, key)
    secured = None
    if form in _SECURED:
        secured = secured_as(session, ctx, row, _SECURED[form], actor=actor, now=now)
    art = artwork(session, row, form)
    return ExportSource(row.credential_id, credential_document(row), secured, hosted(row), art)


def qr_text(source: ExportSource, verifier_url: str, mode: QrMode) -> str:
    """The QR code's text: ``<verifier>#1C…``/``#1J…`` (embed) or ``#1L<credential id>``.

    :raises FieldError: link mode for a credential whose id URL is not served.
    """
    if mode is QrMode.LINK:
        if not source.hosted:
            raise FieldError(
                "mode",
                "link mode points at the credential's public page, which is off for this "
                "certification: turn the public page on, or use embed mode",
            )
        return qr_format.deep_link(verifier_url, qr_format.encode_link(source.credential_id))
    return qr_format.deep_link(verifier_url, qr_format.encode_credential(source.document))


def pdf_codes(source: ExportSource, verifier_url: str) -> tuple[str, str | None]:
    """The PDF's printed codes: ``(primary, secondary)``.

    The primary is ``<verifier>#1L<credential id>``: short, so it prints with large modules
    that a phone reads from a photo of the whole page (docs/qr-format.md, "Printed
    certificates"). It opens this instance's verifier page, which resolves its own credentials
    from its database, so unlike a link-mode QR export it works while the public page is off.
    The secondary is the embed-mode code, for a verifier that cannot reach this instance. A
    credential whose id is not an http(s) URL (VC API issuance may choose one) prints the
    embed-mode code alone, as the primary.
    """
    embed = qr_format.deep_link(verifier_url, qr_format.encode_credential(source.document))
    try:
        link = qr_format.encode_link(source.credential_id)
    except InputError:
        return embed, None
    return qr_format.deep_link(verifier_url, link), embed


def render(
    source: ExportSource,
    form: ExportFormat,
    *,
    verifier_url: str,
    paper: PaperSize = PaperSize.A4,
    mode: QrMode = QrMode.EMBED,
) -> Download:
    """The file: content, media type and a file name from the certificate number.

    ``mode`` is the QR exports' (qr-png, qr-svg); the PDF prints :func:`pdf_codes`.

    :raises CertvcError: from the renderers (``qr_payload_too_large``, ``font_missing_glyph``,
        ``credential_malformed`` for a credential that is not a certificate ...).
    """
    if form in _SECURED:
        assert source.secured is not None
        return credential_download(source.secured)
    stem = file_stem(unverified_credential(source.document))
    if form is ExportFormat.PDF:
        primary, secondary = pdf_codes(source, verifier_url)
        pdf = certificate_pdf(
            source.document,
            qr=primary,
            secondary_qr=secondary,
            paper=paper.paper,
            branding=Branding(logo=source.art.logo),
        )
        return Download(pdf, "application/pdf", f"{stem}.pdf")
    if form in (ExportFormat.QR_PNG, ExportFormat.QR_SVG):
        symbol = make_symbol(qr_text(source, verifier_url, mode))
        if form is ExportFormat.QR_PNG:
            return Download(render_png(symbol), "image/png", f"{stem}-qr.png")
        svg = render_svg(symbol, size_mm=QR_SVG_SIZE_MM, title="Scan to verify")
        return Download(svg, "image/svg+xml", f"{stem}-qr.svg")
    view = certificate_view(source.document)
    art = source.art
    if form is ExportFormat.BADGE_PNG:
        if art.badge is not None and art.badge_type is ImageType.PNG:
            image = art.badge
        else:
            image = default_badge_png(view.certification_name, view.scheme_code, size=BADGE_PIXELS)
        return Download(bake_png(image, source.document), "image/png", f"{stem}-badge.png")
    if art.badge is not None and art.badge_type is ImageType.SVG:
        image = art.badge
    elif art.badge is not None:
        image = png_in_svg(art.badge, view.certification_name)
    else:
        image = default_badge_svg(view.certification_name, view.scheme_code)
    return Download(bake_svg(image, source.document), "image/svg+xml", f"{stem}-badge.svg")


def png_in_svg(png: bytes, title: str) -> bytes:
    """An SVG showing ``png`` (one of ours: re-encoded, IHDR first) at its own size, so an
    uploaded PNG badge also makes the SVG badge."""
    width, height = struct.unpack(">II", png[16:24])  # IHDR (PNG §11.2.2)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>'
        f'<image width="{width}" height="{height}" href="data:image/png;base64,{data}"/></svg>'
    ).encode()


def verifier_page(ctx: IssuerContext) -> str:
    """This instance's verifier page, where its QR codes lead."""
    return ctx.url("v")
