"""QR images: drawing the reference encoding (PNG, SVG) and reading a QR code from a photo.

Drawing uses ``qrcode`` with explicit segments (:func:`verifier.qr.qr_segments`) so the payload
really goes in alphanumeric mode; reading uses zxing-cpp, a maintained decoder, on a Pillow image.
Untrusted images are capped in bytes and pixels *before* they are decoded, and only PNG and JPEG
are opened: an image is attacker data that can ask for gigabytes once inflated.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import Enum

import qrcode
import zxingcpp
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from contexts.errors import ErrorCode, InputError

from .errors import VerifierCode
from .qr import qr_segments

MAX_IMAGE_BYTES = 12 * 1024 * 1024
#: 50 megapixels: above any phone camera's still photo today, far below Pillow's bomb limit.
MAX_IMAGE_PIXELS = 50_000_000
#: Larger images are scaled down to this side before decoding (a QR code in a photo stays
#: readable, and decoding time stays bounded).
DECODE_MAX_SIDE = 2048
QUIET_ZONE = 4  # modules of white border, ISO/IEC 18004 §6.3.8

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


class ErrorLevel(Enum):
    """QR error correction (ISO/IEC 18004 §6.5.1): share of codewords that may be lost."""

    L = qrcode.constants.ERROR_CORRECT_L  # ~7 %
    M = qrcode.constants.ERROR_CORRECT_M  # ~15 %
    Q = qrcode.constants.ERROR_CORRECT_Q  # ~25 %
    H = qrcode.constants.ERROR_CORRECT_H  # ~30 %


@dataclass(frozen=True)
class QrSymbol:
    """A laid-out QR code: ``modules`` is its side without the quiet zone."""

    version: int
    modules: int
    error_level: ErrorLevel
    matrix: tuple[tuple[bool, ...], ...]  # with the quiet zone

    def module_mm(self, print_mm: float) -> float:
        """Module size when the symbol (without quiet zone) is printed ``print_mm`` wide."""
        return print_mm / self.modules


def make_symbol(text: str, error_level: ErrorLevel = ErrorLevel.L) -> QrSymbol:
    """Lay out ``text`` in the smallest QR version that holds it.

    :raises InputError: ``qr_payload_invalid`` when the text does not fit in version 40.
    """
    code = qrcode.QRCode(error_correction=error_level.value, border=QUIET_ZONE)
    for segment, alphanumeric in qr_segments(text):
        mode = MODE_ALPHA_NUM if alphanumeric else MODE_8BIT_BYTE
        code.add_data(QRData(segment.encode("utf-8"), mode=mode), optimize=0)
    try:
        code.make(fit=True)
    except (qrcode.exceptions.DataOverflowError, ValueError) as cause:  # past version 40
        raise InputError(
            "the payload does not fit in a QR code (version 40)",
            code=VerifierCode.QR_PAYLOAD_INVALID,
        ) from cause
    matrix = tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
    assert code.version is not None
    return QrSymbol(code.version, code.modules_count, error_level, matrix)


def render_png(symbol: QrSymbol, *, module_px: int = 8) -> bytes:
    """A black-on-white PNG, ``module_px`` pixels per module (1-bit, so it stays small)."""
    side = len(symbol.matrix)
    image = Image.new("1", (side, side), 1)
    image.putdata([0 if dark else 1 for row in symbol.matrix for dark in row])
    image = image.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(symbol: QrSymbol, *, module_mm: float | None = None) -> str:
    """An SVG with one path; ``module_mm`` sets a physical size for print."""
    side = len(symbol.matrix)
    path = "".join(
        f"M{x} {y}h1v1h-1z"
        for y, row in enumerate(symbol.matrix)
        for x, dark in enumerate(row)
        if dark
    )
    size = f' width="{side * module_mm:g}mm" height="{side * module_mm:g}mm"' if module_mm else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"{size} '
        f'shape-rendering="crispEdges"><rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path fill="#000" d="{path}"/></svg>\n'
    )


def is_image(data: bytes) -> bool:
    return data.startswith((_PNG_MAGIC, _JPEG_MAGIC))


def _unsupported(message: str) -> InputError:
    return InputError(message, code=VerifierCode.IMAGE_UNSUPPORTED)


def _open_capped(data: bytes, max_bytes: int, max_pixels: int) -> Image.Image:
    if len(data) > max_bytes:
        raise InputError(f"image larger than {max_bytes} bytes", code=ErrorCode.INPUT_TOO_LARGE)
    if not is_image(data):
        raise _unsupported("only PNG and JPEG images are read")
    try:
        # Image.open reads only the header. Pillow's own bomb check (89 Mpx) lies above our cap;
        # its warning is not filtered here (warning filters are process-global, not
        # thread-safe): where warnings are errors it is caught below, elsewhere we refuse next.
        image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
        width, height = image.size
        if width * height > max_pixels:
            raise InputError(
                f"image of {width}x{height} pixels is larger than {max_pixels} pixels",
                code=ErrorCode.INPUT_TOO_LARGE,
            )
        if image.format == "JPEG":
            image.draft("L", (DECODE_MAX_SIDE, DECODE_MAX_SIDE))  # DCT scaling: cheap
        image.load()
    except InputError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning) as cause:
        raise _unsupported(f"not a readable PNG or JPEG image ({type(cause).__name__})") from cause
    return image


def read_qr_texts(
    data: bytes, *, max_bytes: int = MAX_IMAGE_BYTES, max_pixels: int = MAX_IMAGE_PIXELS
) -> list[str]:
    """The text of every QR code zxing-cpp finds in a PNG or JPEG image.

    :raises InputError: ``input_too_large``, ``image_unsupported``, or ``qr_not_found``.
    """
    image = _open_capped(data, max_bytes, max_pixels)
    image = image.convert("L")
    if max(image.size) > DECODE_MAX_SIDE:
        image.thumbnail((DECODE_MAX_SIDE, DECODE_MAX_SIDE), Image.Resampling.BILINEAR)
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    texts = [barcode.text for barcode in found if barcode.valid and barcode.text]
    if not texts:
        raise InputError("no readable QR code in the image", code=VerifierCode.QR_NOT_FOUND)
    return texts
