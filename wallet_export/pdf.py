"""The PDF certificate: one page, A4 or Letter, with the QR codes that verify it.

Made with fpdf2 (maintained, pure Python, LGPL-3.0): it embeds TrueType and CFF OpenType fonts
as subsets with a ToUnicode map (the text stays selectable and searchable), shapes complex
scripts with HarfBuzz (uharfbuzz) and applies the Unicode bidirectional algorithm, so an Arabic
name is joined and ordered right to left; fallback fonts fill the primary face's gaps (Arabic,
CJK). It also writes embedded files, which carry the signed credential inside the PDF so
``certvc verify`` can check a certificate without scanning it. ReportLab was the alternative;
its shaping support is newer and bidi needs a separate library, for no gain here.

Output is deterministic: the same view, QR and ``created`` give the same bytes.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import Enum
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos
from PIL import Image, UnidentifiedImageError

from contexts.errors import CertvcError
from verifier.qr_symbol import QUIET_ZONE, ErrorCorrection, make_symbol, render_svg

from .errors import WalletCode
from .fonts import FontSet, default_fonts
from .view import Branding, CertificateView, certificate_view

MAX_LOGO_PIXELS = 4096 * 4096
INK = (31, 58, 95)  # the frame and headings
GREY = (90, 90, 90)
CODE_GAP_MM = 6.0  # between the two codes, and between the codes and the details
CAPTION_MM = 6.0  # a code's caption, below it


class Paper(Enum):
    """Portrait page sizes in millimetres."""

    A4 = (210.0, 297.0)
    LETTER = (215.9, 279.4)


@dataclass(frozen=True)
class Labels:
    """The fixed wording, so a body can print its certificates in its own language."""

    title: str = "Certificate"
    subtitle: str = "of personnel certification"
    certify: str = "This is to certify that"
    certified_as: str = "has been certified as"
    scope: str = "Scope"
    number: str = "Certificate number"
    effective: str = "Effective date"
    expiry: str = "Expiry date"
    body: str = "Certification body"
    scheme: str = "Scheme"
    scan: str = "Scan to verify"
    offline: str = "Signed credential, checks offline"
    attached: str = "The signed credential is attached to this PDF as"
    no_expiry: str = "no expiry"


@dataclass(frozen=True)
class Attachment:
    """The credential carried inside the PDF, with its file name and media type."""

    name: str
    media_type: str
    content: bytes


@dataclass(frozen=True)
class PrintedQr:
    """How one QR code is printed: its side in millimetres (quiet zone included), its error
    correction and its quiet zone in modules."""

    size_mm: float
    error_correction: ErrorCorrection = ErrorCorrection.L
    quiet_zone: int = QUIET_ZONE


@dataclass(frozen=True)
class QrLayout:
    """The printed codes: the primary one a phone scans, and the optional secondary one that
    holds the signed credential itself (docs/qr-format.md, "Printed certificates")."""

    primary: PrintedQr
    secondary: PrintedQr | None = None


#: Measured with bench/print_qr.py (docs/qr-format.md, "Printed certificates").
PRINT_LAYOUT = QrLayout(
    primary=PrintedQr(40.0, ErrorCorrection.M),
    secondary=PrintedQr(30.0, ErrorCorrection.L),
)


def credential_attachment(credential: Mapping[str, Any] | str) -> Attachment:
    """``credential.json`` (``application/vc``) or ``credential.jwt`` (``application/vc+jwt``)."""
    if isinstance(credential, str):
        return Attachment("credential.jwt", "application/vc+jwt", credential.encode("ascii"))
    text = json.dumps(credential, ensure_ascii=False, indent=2) + "\n"
    return Attachment("credential.json", "application/vc", text.encode("utf-8"))


def _format_date(value: date | None, fallback: str) -> str:
    return value.strftime("%d %B %Y").lstrip("0") if value else fallback


def _rtl(text: str) -> bool:
    """Whether the first strong character is right-to-left (UAX #9 rules P2-P3)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return True
        if kind == "L":
            return False
    return False


def _check_logo(logo: bytes) -> None:
    try:
        with Image.open(io.BytesIO(logo)) as image:
            if image.format not in ("PNG", "JPEG"):
                raise CertvcError(
                    f"the logo must be PNG or JPEG, not {image.format}",
                    code=WalletCode.IMAGE_INVALID,
                )
            width, height = image.size
    except (UnidentifiedImageError, OSError) as cause:
        raise CertvcError(
            "the logo is not a readable PNG or JPEG image", code=WalletCode.IMAGE_INVALID
        ) from cause
    if width * height > MAX_LOGO_PIXELS:
        raise CertvcError(
            f"the logo is too large ({width}x{height} pixels)", code=WalletCode.IMAGE_INVALID
        )


class _Page:
    """Layout helpers over one fpdf2 page (millimetres)."""

    def __init__(self, paper: Paper, fonts: FontSet, texts: list[str]) -> None:
        self.width, self.height = paper.value
        self.pdf = FPDF(orientation="P", unit="mm", format=paper.value)
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(20, 20, 20)
        # Only the faces the texts need are loaded: parsing a CJK face costs a second.
        faces = fonts.faces_for(" ".join(texts))
        for face in faces:
            self.pdf.add_font(face.family, "", str(face.regular))
            if face.bold is not None:  # else fpdf2 falls back to the regular face
                self.pdf.add_font(face.family, "B", str(face.bold))
        self.primary = faces[0].family
        if len(faces) > 1:
            self.pdf.set_fallback_fonts([f.family for f in faces[1:]], exact_match=False)
        self.pdf.add_page()

    def text(
        self,
        text: str,
        y: float,
        size: float,
        *,
        bold: bool = False,
        color: tuple[int, int, int] = (0, 0, 0),
        width: float | None = None,
        x: float | None = None,
        align: Align = Align.C,
        max_lines: int | None = None,
    ) -> float:
        """Write ``text`` wrapped in a centred box; returns the y below it."""
        pdf = self.pdf
        width = width or self.width - 40
        x = (self.width - width) / 2 if x is None else x
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if _rtl(text) else "ltr")
        pdf.set_text_color(*color)
        while True:
            pdf.set_font(self.primary, "B" if bold else "", size)
            lines = pdf.multi_cell(width, size * 0.45, text, dry_run=True, output="LINES")
            if max_lines is None or len(lines) <= max_lines or size <= 6:
                break
            size -= 0.5
        pdf.set_xy(x, y)
        pdf.multi_cell(width, size * 0.45, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        return pdf.get_y()

    def rule(self, x1: float, x2: float, y: float, width: float = 0.3) -> None:
        self.pdf.set_draw_color(*INK)
        self.pdf.set_line_width(width)
        self.pdf.line(x1, y, x2, y)


def _frame(page: _Page) -> None:
    pdf = page.pdf
    pdf.set_draw_color(*INK)
    pdf.set_line_width(1.2)
    pdf.rect(9, 9, page.width - 18, page.height - 18)
    pdf.set_line_width(0.3)
    pdf.rect(12, 12, page.width - 24, page.height - 24)


def _header(page: _Page, view: CertificateView, branding: Branding) -> float:
    y = 20.0
    if branding.logo:
        with Image.open(io.BytesIO(branding.logo)) as image:
            ratio = image.size[0] / image.size[1]
        height = min(22.0, 60.0 / ratio)
        page.pdf.image(
            io.BytesIO(branding.logo), x=(page.width - height * ratio) / 2, y=y, h=height
        )
        y += height + 4
    return page.text(view.body_name, y, 13, bold=True, color=INK) + 8


def _details(page: _Page, view: CertificateView, labels: Labels, y: float, width: float) -> None:
    rows = [
        (labels.number, view.certificate_number),
        (labels.effective, _format_date(view.valid_from, "")),
        (labels.expiry, _format_date(view.valid_until, labels.no_expiry)),
        (labels.body, view.body_name),
    ]
    for label, value in rows:
        if not value:
            continue
        y = page.text(label, y, 8.5, color=GREY, width=width, x=22, align=Align.L)
        y = page.text(value, y + 0.5, 11.5, width=width, x=22, align=Align.L, max_lines=2) + 2.5


def _qr(page: _Page, qr: str | bytes, printed: PrintedQr, caption: str, x: float, y: float) -> None:
    if isinstance(qr, str):
        symbol = make_symbol(qr, printed.error_correction, border=printed.quiet_zone)
        image: bytes = render_svg(symbol, title=None)
    else:
        image = qr
    size = printed.size_mm
    page.pdf.image(io.BytesIO(image), x=x, y=y, w=size, h=size)
    page.text(caption, y + size + 1, 8 if size < 36 else 9, color=GREY, width=size, x=x)


def render_pdf(
    view: CertificateView,
    *,
    qr: str | bytes,
    secondary_qr: str | None = None,
    layout: QrLayout = PRINT_LAYOUT,
    attachment: Attachment | None = None,
    paper: Paper = Paper.A4,
    branding: Branding = Branding(),  # noqa: B008 - a frozen, empty value
    labels: Labels = Labels(),
    fonts: FontSet | None = None,
    created: datetime | None = None,
) -> bytes:
    """Render the one-page certificate.

    ``qr`` is the primary QR payload text (drawn as vector paths) or a ready PNG/SVG image of
    it: the code a phone scans. ``secondary_qr`` is an optional second, smaller code beside it,
    the embed-mode payload that holds the credential itself, for a verifier that cannot reach
    this instance. ``layout`` sets their printed sizes and error correction (the default was
    chosen by measurement: bench/print_qr.py). ``attachment`` is the signed credential to
    embed. ``created`` is the PDF's creation date (defaults to the start of the effective date,
    so output depends only on the inputs).

    :raises CertvcError: ``font_missing_glyph``, ``image_invalid`` (logo),
        ``qr_payload_too_large``.
    """
    fonts = fonts or default_fonts()
    texts = [view.person_name, view.certification_name, view.body_name, view.scope or ""]
    texts += [view.certificate_number, branding.accreditation or view.body_description or ""]
    texts += [view.scheme_code or "", *view.standards, view.credential_id or ""]
    texts += [str(value) for value in vars(labels).values()]
    for text in texts:
        fonts.check(text)
    if branding.logo:
        _check_logo(branding.logo)

    page = _Page(paper, fonts, texts)
    pdf = page.pdf
    pdf.set_title(f"{labels.title}: {view.person_name}, {view.certification_name}")
    pdf.set_author(view.body_name)
    pdf.set_subject(f"{view.certification_name} ({view.certificate_number})")
    pdf.set_creator("certvc")
    when = created or datetime.combine(view.valid_from or date(2000, 1, 1), time(), UTC)
    pdf.set_creation_date(when)

    _frame(page)
    y = _header(page, view, branding)
    y = page.text(labels.title.upper(), y, 30, bold=True, color=INK)
    y = page.text(labels.subtitle, y + 1, 12, color=GREY) + 10
    y = page.text(labels.certify, y, 11, color=GREY) + 3
    y = page.text(view.person_name, y, 26, max_lines=2) + 1
    page.rule(page.width / 2 - 60, page.width / 2 + 60, y)
    y = page.text(labels.certified_as, y + 5, 11, color=GREY) + 3
    y = page.text(view.certification_name, y, 17, bold=True, color=INK, max_lines=2) + 1
    scheme = [f"{labels.scheme} {view.scheme_code}"] if view.scheme_code else []
    scheme += list(view.standards)
    if scheme:
        y = page.text(" · ".join(scheme), y, 11, color=GREY)
    if view.scope:
        scope = view.scope
        if not scope.casefold().startswith(labels.scope.casefold()):
            scope = f"{labels.scope}: {scope}"
        y = page.text(scope, y + 5, 10, width=150, max_lines=5)

    bottom = page.height - 22
    footer_y = bottom - 10
    # The codes and their captions end above the footer (accreditation, attachment note).
    codes_bottom = footer_y - 9 - CAPTION_MM - 3
    block_top = max(y + 10, min(bottom - 78, codes_bottom - layout.primary.size_mm))
    x = page.width - 22 - layout.primary.size_mm
    _qr(page, qr, layout.primary, labels.scan, x, block_top)
    if secondary_qr is not None and layout.secondary is not None:
        x -= CODE_GAP_MM + layout.secondary.size_mm
        lower = block_top + layout.primary.size_mm - layout.secondary.size_mm  # captions in line
        _qr(page, secondary_qr, layout.secondary, labels.offline, x, max(block_top, lower))
    _details(page, view, labels, block_top, width=min(100.0, x - CODE_GAP_MM - 22))

    accreditation = branding.accreditation or view.body_description
    if accreditation:
        page.text(accreditation, footer_y - 9, 8.5, color=GREY, max_lines=2)
    if attachment is not None:
        note = f"{labels.attached} {attachment.name}"
        if view.credential_id:
            note += f" ({view.credential_id})"
        page.text(note, footer_y, 7, color=GREY, max_lines=2)
        pdf.embed_file(
            bytes=attachment.content,
            basename=attachment.name,
            mime_type=attachment.media_type,
            desc="Verifiable credential (W3C VC 2.0, Open Badges 3.0)",
            modification_date=when,
        )
    return bytes(pdf.output())


def certificate_pdf(
    credential: Mapping[str, Any] | str,
    *,
    qr: str | bytes,
    secondary_qr: str | None = None,
    layout: QrLayout = PRINT_LAYOUT,
    paper: Paper = Paper.A4,
    branding: Branding = Branding(),  # noqa: B008 - a frozen, empty value
    labels: Labels = Labels(),
    fonts: FontSet | None = None,
    created: datetime | None = None,
) -> bytes:
    """The certificate of a signed credential (JSON or vc+jwt), with the credential attached.

    The entry point for adapters: ``certificate_pdf(signed, qr=link_payload,
    secondary_qr=embed_payload)`` (see :func:`render_pdf`).
    """
    return render_pdf(
        certificate_view(credential),
        qr=qr,
        secondary_qr=secondary_qr,
        layout=layout,
        attachment=credential_attachment(credential),
        paper=paper,
        branding=branding,
        labels=labels,
        fonts=fonts,
        created=created,
    )
