"""Reading QR codes from images: zxing-cpp, a maintained decoder, on a Pillow image.

Untrusted images are capped in bytes and pixels *before* they are decoded, and only PNG and JPEG
are opened: an image is attacker data that can ask for gigabytes once inflated.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from contexts.errors import ErrorCode, InputError

from .errors import VerifierCode

MAX_IMAGE_BYTES = 12 * 1024 * 1024
#: 50 megapixels: above any phone camera's still photo today, far below Pillow's bomb limit.
MAX_IMAGE_PIXELS = 50_000_000
#: Larger images are scaled down to this side before decoding (a QR code in a photo stays
#: readable, and decoding time stays bounded).
DECODE_MAX_SIDE = 2048

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"


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
