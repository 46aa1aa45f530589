"""Credentials carried inside files: a PDF certificate, a baked PNG or SVG badge.

``certvc verify`` and the verifier's upload take whatever a person has; this finds the
credential in it, or says the file is not such a container (then it is credential JSON or a
vc+jwt, which the verifier reads itself). A text found in a PDF's QR code is the verifier's QR
payload (``from_qr``), to be decoded by the verifier's QR format before verification.

:func:`credential_text` is what this package registers in the verifier's entry-point group
``certvc.input_extractors``, so ``certvc verify`` reads these files without the verifier
importing this package.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from contexts.errors import CertvcError

from .badge import BadgeFormat, badge_format, unbake_png, unbake_svg
from .errors import WalletCode
from .pdf_extract import Source, find_in_pdf


class Container(Enum):
    PDF = "application/pdf"
    PNG_BADGE = "image/png"
    SVG_BADGE = "image/svg+xml"


@dataclass(frozen=True)
class Extracted:
    """The credential text (JSON or compact JWS) found in a container, or a QR payload."""

    container: Container
    text: str
    from_qr: bool = False


def extract_credential(data: bytes) -> Extracted | None:
    """The credential inside a PDF, PNG or SVG; None when ``data`` is none of those.

    :raises CertvcError: ``badge_not_baked`` / ``image_invalid`` for an image without a sound
        credential, ``credential_not_found`` for a PDF with neither attachment nor QR code,
        ``tool_unavailable`` when the PDF's QR code must be read and pdftoppm is missing.
    """
    if data[:1024].lstrip().startswith(b"%PDF-"):
        finding = find_in_pdf(data)
        if finding is None:
            raise CertvcError(
                "the PDF carries no credential and no readable QR code",
                code=WalletCode.CREDENTIAL_NOT_FOUND,
            )
        return Extracted(Container.PDF, finding.text, finding.source is Source.QR_CODE)
    kind = badge_format(data)
    if kind is BadgeFormat.PNG:
        return Extracted(Container.PNG_BADGE, unbake_png(data))
    if kind is BadgeFormat.SVG:
        return Extracted(Container.SVG_BADGE, unbake_svg(data))
    return None


def credential_text(data: bytes) -> str | None:
    """The ``certvc.input_extractors`` entry point: the credential (or QR) text inside a PDF
    certificate or a baked badge; None for anything else, including a PNG that carries no
    credential (a photo of a QR code, say: the verifier's image reader takes it from there).

    :raises CertvcError: a PDF without credential or readable QR code, a broken SVG badge.
    """
    try:
        found = extract_credential(data)
    except CertvcError as error:
        not_baked = error.code in (WalletCode.BADGE_NOT_BAKED, WalletCode.IMAGE_INVALID)
        if not_baked and badge_format(data) is BadgeFormat.PNG:
            return None
        raise
    return found.text if found is not None else None
