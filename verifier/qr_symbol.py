"""QR symbols: the one place that lays out QR text (``qrcode``) and draws it as PNG or SVG.

Every QR code certvc makes comes from here: ``certvc qr encode``, the PDF certificate, the QR
exports and the wallet pages, the tests and the benchmarks, so a decision about segments, error
correction or the quiet zone is made once. Choices:

- Segments follow the payload format (:func:`verifier.qr.qr_segments`, docs/qr-format.md): the
  URL up to ``#`` in byte mode, an all-alphanumeric payload in alphanumeric mode (ISO/IEC 18004
  §7.4.4, 5.5 bits a character instead of 8), anything else in one byte segment.
- Error correction L unless the caller asks for more: at a given printed size the smallest
  symbol has the largest modules, and module size decides whether a phone reads a print
  (bench/print_qr.py, docs/qr-format.md "Printed certificates").
- The smallest version that holds the text at that level; a quiet zone of at least 4 modules
  (ISO/IEC 18004 §6.3.8).

Reading QR codes from images is :mod:`verifier.qr_image`'s job.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import Enum
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
from PIL import Image
from qrcode.exceptions import DataOverflowError
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from contexts.errors import InputError

from .errors import VerifierCode
from .qr import qr_segments

QUIET_ZONE = 4  # modules of white border, ISO/IEC 18004 §6.3.8
#: PNG pixels a module unless asked otherwise, and the most we draw (a version 40 symbol at 64
#: px is 11,776 px a side: larger only costs memory).
PNG_MODULE_PX = 10
MAX_MODULE_PX = 64


class ErrorCorrection(Enum):
    """QR error correction (ISO/IEC 18004 §6.5.1): share of codewords that may be lost."""

    L = qrcode.constants.ERROR_CORRECT_L  # ~7 %
    M = qrcode.constants.ERROR_CORRECT_M  # ~15 %
    Q = qrcode.constants.ERROR_CORRECT_Q  # ~25 %
    H = qrcode.constants.ERROR_CORRECT_H  # ~30 %


@dataclass(frozen=True)
class QrSymbol:
    """A laid-out QR code; ``rows`` includes the quiet zone (``True`` is dark)."""

    version: int
    error_correction: ErrorCorrection
    border: int
    rows: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        """Modules a side, quiet zone included: what a drawing of it spans."""
        return len(self.rows)

    @property
    def modules(self) -> int:
        """Modules a side without the quiet zone (17 + 4 x version)."""
        return self.size - 2 * self.border

    def module_mm(self, print_mm: float) -> float:
        """Module size when the symbol (quiet zone outside) is printed ``print_mm`` wide."""
        return print_mm / self.modules

    def dark_runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(x, y, width)``: few shapes to draw."""
        runs: list[tuple[int, int, int]] = []
        for y, row in enumerate(self.rows):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    runs.append((start, y, x - start))
                else:
                    x += 1
        return runs


def make_symbol(
    text: str,
    error_correction: ErrorCorrection = ErrorCorrection.L,
    *,
    border: int = QUIET_ZONE,
) -> QrSymbol:
    """Lay out ``text`` in the smallest QR version that holds it at ``error_correction``.

    :raises InputError: ``qr_payload_too_large`` when the text does not fit in version 40,
        ``input_unusable`` for an empty text or a quiet zone under 4 modules.
    """
    if not text:
        raise InputError("the QR text must not be empty")
    if border < QUIET_ZONE:
        raise InputError(f"the quiet zone must be at least {QUIET_ZONE} modules")
    code = qrcode.QRCode(error_correction=error_correction.value, border=border)
    for segment, alphanumeric in qr_segments(text):
        mode = MODE_ALPHA_NUM if alphanumeric else MODE_8BIT_BYTE
        code.add_data(QRData(segment.encode("utf-8"), mode=mode), optimize=0)
    try:
        code.make(fit=True)
    except (DataOverflowError, ValueError) as cause:  # past version 40 ("version 41")
        raise InputError(
            f"the QR text ({len(text)} characters) does not fit in a QR code (version 40)",
            code=VerifierCode.QR_PAYLOAD_TOO_LARGE,
        ) from cause
    rows = tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
    assert code.version is not None
    return QrSymbol(code.version, error_correction, border, rows)


def render_png(symbol: QrSymbol, *, module_px: int = PNG_MODULE_PX) -> bytes:
    """A black-on-white 1-bit PNG, ``module_px`` pixels a module, no smoothing.

    :raises InputError: ``module_px`` outside 1 to :data:`MAX_MODULE_PX`.
    """
    if not 1 <= module_px <= MAX_MODULE_PX:
        raise InputError(f"module_px must be between 1 and {MAX_MODULE_PX}")
    side = symbol.size
    image = Image.new("1", (side, side), 1)
    image.putdata([0 if dark else 1 for row in symbol.rows for dark in row])
    image = image.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_svg(
    symbol: QrSymbol, *, size_mm: float | None = None, title: str | None = "QR code"
) -> bytes:
    """A standalone SVG: one path of dark runs on a white square, crisp edges.

    ``size_mm`` is the printed side, quiet zone included; without it the SVG scales to its
    container. ``title`` names it for screen readers (None: no title, as inside a PDF).
    """
    side = symbol.size
    dimensions = f' width="{size_mm:g}mm" height="{size_mm:g}mm"' if size_mm else ""
    path = "".join(f"M{x},{y}h{w}v1h-{w}z" for x, y, w in symbol.dark_runs())
    label = f"<title>{escape(title)}</title>" if title else ""
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"{dimensions} '
        f'shape-rendering="crispEdges">{label}'
        f'<rect width="{side}" height="{side}" fill="#fff"/><path fill="#000" d="{path}"/>'
        "</svg>\n"
    )
    return svg.encode("utf-8")
