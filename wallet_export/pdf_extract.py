"""Find the credential inside a PDF certificate: the attached file, else the printed QR code.

certvc's certificates carry the signed credential as an embedded file; that is read first
(pypdf). A PDF that lost its attachment (printed and scanned, or re-saved by a tool that drops
embedded files) still shows the QR code: page 1 is rendered with ``pdftoppm`` (Debian
``poppler-utils``, run as a separate process with a timeout and a pixel budget) and the code is
decoded with zxing-cpp. The QR text is the verifier's QR payload, which the verifier decodes.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import zxingcpp
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from contexts.errors import CertvcError, ErrorCode, InputError
from keys.suites import vc_jwt
from verifier import qr
from verifier.inputs import MAX_INPUT_BYTES, loads_limited

from .errors import WalletCode

MAX_PDF_BYTES = 32 * 1024 * 1024
RENDER_PIXELS = 3000  # the longer side of page 1, whatever size the page claims
RENDER_TIMEOUT_S = 10.0  # a certificate page renders in well under a second
#: Renders at once in this process: a public verifier must not let a burst of uploaded PDFs
#: take every core (the per-client rate limit does not bound several clients together).
MAX_CONCURRENT_RENDERS = 2
RENDER_WAIT_S = 5.0
_RENDERS = threading.BoundedSemaphore(MAX_CONCURRENT_RENDERS)

#: Renders page 1 of a PDF to PNG bytes.
Rasterizer = Callable[[bytes], bytes]


class Source(Enum):
    ATTACHMENT = "attachment"
    QR_CODE = "qr-code"


@dataclass(frozen=True)
class PdfFinding:
    """What was found: a credential (JSON or vc+jwt) attached, or the QR payload printed."""

    source: Source
    text: str
    name: str | None = None


def _credential_text(content: bytes) -> str | None:
    if len(content) > MAX_INPUT_BYTES:
        return None
    try:
        text = content.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    if vc_jwt.looks_like_jwt(text):
        return text
    try:
        value = loads_limited(text)
    except CertvcError:
        return None
    if isinstance(value, dict) and ("@context" in value or "type" in value):
        return text
    return None


def attached_credentials(data: bytes) -> list[tuple[str, str]]:
    """``(file name, text)`` of each embedded file that holds a credential.

    A PDF pypdf cannot read yields no attachment (the QR code may still be readable).
    """
    try:
        attachments = PdfReader(io.BytesIO(data)).attachments
        found = [
            (name, text)
            for name in sorted(attachments)
            for content in attachments[name]
            if (text := _credential_text(content)) is not None
        ]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError):
        return []
    # our own name first, then any other
    return sorted(found, key=lambda item: not item[0].startswith("credential."))


def pdftoppm_first_page(data: bytes) -> bytes:
    """Page 1 as PNG, scaled to fit ``RENDER_PIXELS`` square.

    :raises CertvcError: ``tool_unavailable`` without pdftoppm; ``input_unusable`` when it fails;
        ``rate_limited`` when ``MAX_CONCURRENT_RENDERS`` are running for ``RENDER_WAIT_S``.
    """
    executable = shutil.which("pdftoppm")
    if executable is None:
        raise CertvcError(
            "the PDF has no attached credential, and reading its QR code needs pdftoppm "
            "(Debian package poppler-utils), which is not installed",
            code=WalletCode.TOOL_UNAVAILABLE,
        )
    command = [executable, "-png", "-singlefile", "-f", "1", "-l", "1"]
    command += ["-scale-to", str(RENDER_PIXELS), "-"]  # stdin in, PNG on stdout
    if not _RENDERS.acquire(timeout=RENDER_WAIT_S):
        raise CertvcError(
            "too many PDF certificates are being read right now; try again shortly",
            code=ErrorCode.RATE_LIMITED,
        )
    try:
        done = subprocess.run(
            command, input=data, capture_output=True, timeout=RENDER_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as cause:
        raise CertvcError("rendering the PDF took too long") from cause
    finally:
        _RENDERS.release()
    if done.returncode != 0 or not done.stdout:
        raise CertvcError(f"pdftoppm could not render the PDF (exit {done.returncode})")
    return done.stdout


def _holds_credential(text: str) -> bool:
    payload = qr.payload_of(text)
    return payload is not None and payload[1:2].upper() != qr.PayloadKind.LINK.value


def decode_qr(png: bytes) -> str | None:
    """The text of a QR code in an image, or None.

    Of several codes, the first that holds the credential itself: a certificate prints a
    link-mode code beside an embed-mode one, and the embed-mode one verifies without the
    issuing instance.
    """
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.size[0] * image.size[1] > RENDER_PIXELS * RENDER_PIXELS:
                return None
            image.load()
            found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, OSError):
        return None
    texts = [barcode.text for barcode in found if barcode.text]
    return max(texts, key=_holds_credential) if texts else None


def find_in_pdf(
    data: bytes, *, rasterize: Rasterizer | None = pdftoppm_first_page
) -> PdfFinding | None:
    """The attached credential, else the QR payload on page 1 (``rasterize=None`` skips it).

    :raises InputError: not a PDF, or too large.
    :raises CertvcError: ``tool_unavailable`` when the QR code must be read and pdftoppm is
        missing.
    """
    if len(data) > MAX_PDF_BYTES:
        raise InputError(f"PDF larger than {MAX_PDF_BYTES} bytes", code=ErrorCode.INPUT_TOO_LARGE)
    if b"%PDF-" not in data[:1024]:
        raise InputError("not a PDF file")
    attached = attached_credentials(data)
    if attached:
        name, text = attached[0]
        return PdfFinding(Source.ATTACHMENT, text, name)
    if rasterize is None:
        return None
    text = decode_qr(rasterize(data))
    return PdfFinding(Source.QR_CODE, text) if text else None


def extract_from_pdf(data: bytes) -> str | None:
    """The credential attached to a PDF certificate, or else the payload of its QR code.

    An attachment is credential JSON or a vc+jwt; a QR payload goes to the verifier's QR
    decoder. None when the PDF holds neither.
    """
    finding = find_in_pdf(data)
    return finding.text if finding else None
