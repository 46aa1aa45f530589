"""QR code images (PNG and SVG) of a payload text, made for print.

The payload is whatever the verifier's QR format produced (a link-only URL, or a URL whose
fragment holds the compressed credential); this module only draws it. Choices for paper:

- Mixed segments (ISO/IEC 18004 §7.4): a run of 20 or more characters of the alphanumeric set
  (``0-9 A-Z $%*+-./:`` and space) is encoded in alphanumeric mode (5.5 bits a character instead
  of 8), so an uppercase base45 tail after a lowercase URL keeps the symbol small.
- Error correction chosen per payload: the highest level (H, Q, then M) that keeps the symbol at
  version 20 or below (97 modules: 0.45 mm modules in a 45 mm square, comfortably above what a
  phone camera resolves on a laser print); a larger payload gets M at whatever version fits, and
  only then L. A fixed level can be asked for instead.
- The quiet zone is the 4 modules ISO/IEC 18004 §9.1 requires.
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

from contexts.errors import CertvcError

from .errors import WalletCode

QUIET_ZONE = 4
MIXED_SEGMENT_MINIMUM = 20
PRINT_MAX_VERSION = 20


class ErrorCorrection(Enum):
    """QR error-correction levels, with the share of codewords each can restore."""

    L = qrcode.constants.ERROR_CORRECT_L  # ~7 %
    M = qrcode.constants.ERROR_CORRECT_M  # ~15 %
    Q = qrcode.constants.ERROR_CORRECT_Q  # ~25 %
    H = qrcode.constants.ERROR_CORRECT_H  # ~30 %


@dataclass(frozen=True)
class QrMatrix:
    """The modules of a symbol, quiet zone included (``True`` is dark)."""

    version: int
    error_correction: ErrorCorrection
    border: int
    rows: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        """Modules per side, quiet zone included."""
        return len(self.rows)


def _plan(payload: str, level: ErrorCorrection, border: int) -> qrcode.QRCode:
    """A symbol sized for ``payload`` at ``level``, not yet masked (that is the costly part)."""
    code = qrcode.QRCode(version=None, error_correction=level.value, border=border)
    code.add_data(payload, optimize=MIXED_SEGMENT_MINIMUM)
    code.version = code.best_fit()
    return code


def qr_matrix(
    payload: str, *, error_correction: ErrorCorrection | None = None, border: int = QUIET_ZONE
) -> QrMatrix:
    """Encode ``payload``; ``error_correction=None`` picks the level for print (module doc).

    :raises CertvcError: ``qr_payload_too_large`` when no version 40 symbol holds it,
        ``input_unusable`` for an empty payload.
    """
    if not isinstance(payload, str) or not payload:
        raise CertvcError("the QR payload must be a non-empty text")
    if border < QUIET_ZONE:
        raise CertvcError(f"the quiet zone must be at least {QUIET_ZONE} modules")
    if error_correction is not None:
        levels = [error_correction]
    else:
        levels = [ErrorCorrection.H, ErrorCorrection.Q, ErrorCorrection.M, ErrorCorrection.L]
    built: list[tuple[ErrorCorrection, qrcode.QRCode]] = []
    for level in levels:
        try:
            built.append((level, _plan(payload, level, border)))
        except (DataOverflowError, ValueError):  # best_fit reports "version 41" as ValueError
            continue
    if not built:
        raise CertvcError(
            f"the payload ({len(payload)} characters) does not fit in a QR code",
            code=WalletCode.QR_PAYLOAD_TOO_LARGE,
        )
    chosen = next(
        (
            (level, code)
            for level, code in built
            if code.version <= PRINT_MAX_VERSION and level is not ErrorCorrection.L
        ),
        None,
    )
    if error_correction is not None:
        chosen = built[0]
    if chosen is None:
        at_least_m = [(lv, c) for lv, c in built if lv is not ErrorCorrection.L]
        chosen = at_least_m[-1] if at_least_m else built[-1]
    level, code = chosen
    code.make(fit=False)
    rows = tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())
    return QrMatrix(code.version, level, border, rows)


def qr_png(
    payload: str,
    *,
    module_px: int = 10,
    error_correction: ErrorCorrection | None = None,
    border: int = QUIET_ZONE,
) -> bytes:
    """A black-on-white 1-bit PNG, ``module_px`` pixels a module (no smoothing)."""
    if not 1 <= module_px <= 64:
        raise CertvcError("module_px must be between 1 and 64")
    return matrix_png(
        qr_matrix(payload, error_correction=error_correction, border=border), module_px
    )


def matrix_png(matrix: QrMatrix, module_px: int = 10) -> bytes:
    size = matrix.size
    small = Image.new("1", (size, size), 1)
    small.putdata([0 if dark else 1 for row in matrix.rows for dark in row])
    image = small.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def qr_svg(
    payload: str,
    *,
    size_mm: float | None = None,
    title: str = "QR code",
    error_correction: ErrorCorrection | None = None,
    border: int = QUIET_ZONE,
) -> bytes:
    """A standalone SVG: one path of dark modules on a white square, crisp edges.

    ``size_mm`` sets the printed size; without it the SVG scales to its container.
    """
    matrix = qr_matrix(payload, error_correction=error_correction, border=border)
    return matrix_svg(matrix, size_mm=size_mm, title=title)


def matrix_svg(
    matrix: QrMatrix, *, size_mm: float | None = None, title: str | None = "QR code"
) -> bytes:
    size = matrix.size
    dimensions = f' width="{size_mm:g}mm" height="{size_mm:g}mm"' if size_mm else ""
    path = "".join(f"M{x},{y}h{w}v1h-{w}z" for x, y, w in dark_runs(matrix))
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}"{dimensions} '
        'shape-rendering="crispEdges">'
    )
    label = f"<title>{escape(title)}</title>" if title else ""
    body = f'<rect width="{size}" height="{size}" fill="#fff"/><path fill="#000" d="{path}"/>'
    svg = f"{head}{label}{body}</svg>\n"
    return svg.encode("utf-8")


def dark_runs(matrix: QrMatrix) -> list[tuple[int, int, int]]:
    """Horizontal runs of dark modules as ``(x, y, width)``: few shapes to draw."""
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(matrix.rows):
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
