"""A default badge image (PNG and SVG) for a scheme that has none of its own.

A round medal: a coloured ring, "CERTIFIED" above, the scheme code large in the middle and the
scheme name below. The colour is derived from the code, so each scheme keeps one colour.
The PNG is drawn with Pillow (text shaped by libraqm when Pillow has it, so Arabic joins) at
twice the size and scaled down for smooth edges; the SVG is text and shapes, no raster.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Callable
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont, features

from contexts.errors import CertvcError

from .fonts import FontFace, FontSet, default_fonts

PALETTE = ("#1f3a5f", "#0b6e4f", "#7a1f3d", "#5b2a86", "#8a4b08", "#1d5c73")
SVG_FONTS = "'Noto Sans', 'Noto Sans Arabic', 'Noto Sans CJK SC', 'DejaVu Sans', sans-serif"


def badge_color(code: str) -> str:
    """The scheme's colour: stable for a given code."""
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def _labels(name: str, code: str | None) -> tuple[str, str]:
    name = _clean(name)
    if not name:
        raise CertvcError("a badge needs the scheme's name")
    return name, _clean(code or "") or name.split()[0][:8]


def _wrap(text: str, fits: Callable[[str], bool], max_lines: int) -> list[str]:
    """Greedy wrap by words; a word too wide alone (or CJK text) breaks between characters."""
    pieces: list[str] = []  # each piece carries the separator before it
    for index, word in enumerate(text.split(" ")):
        sep = " " if index else ""
        if fits(word):
            pieces.append(sep + word)
        else:
            pieces.extend([sep + word[0], *word[1:]])
    lines: list[str] = []
    current = ""
    for piece in pieces:
        if current and not fits(current + piece):
            lines.append(current)
            current = piece.lstrip(" ")
        else:
            current += piece
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(" .") + "…"
    return lines


# --- PNG ------------------------------------------------------------------------------------


def _font(fonts: FontSet, text: str, size: int, bold: bool) -> ImageFont.FreeTypeFont:
    fonts.check(text)
    face: FontFace | None = fonts.face_covering(text)
    if face is None:  # mixed scripts: the CJK face also covers Latin
        face = fonts.faces[-1]
    path = face.bold if bold and face.bold else face.regular
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(str(path), size, layout_engine=engine)


def default_badge_png(
    name: str, code: str | None = None, *, size: int = 512, fonts: FontSet | None = None
) -> bytes:
    """A ``size`` x ``size`` PNG medal for the scheme ``name`` (code ``code``).

    :raises CertvcError: ``font_missing_glyph`` when no font covers the name.
    """
    if not 64 <= size <= 2048:
        raise CertvcError("the badge size must be between 64 and 2048 pixels")
    fonts = fonts or default_fonts()
    name, code = _labels(name, code)
    scale = 2
    full = size * scale
    color = badge_color(code)
    image = Image.new("RGBA", (full, full), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = full * 0.03
    draw.ellipse((margin, margin, full - margin, full - margin), fill=color)
    inner = full * 0.11
    draw.ellipse((inner, inner, full - inner, full - inner), fill="#ffffff")
    ring = full * 0.135
    draw.ellipse((ring, ring, full - ring, full - ring), outline=color, width=max(2, full // 200))
    centre = full / 2

    label_font = _font(fonts, "CERTIFIED", int(full * 0.055), bold=True)
    draw.text((centre, full * 0.27), "CERTIFIED", font=label_font, fill=color, anchor="mm")

    code_size = int(full * (0.17 if len(code) <= 6 else 0.12))
    code_font = _font(fonts, code, code_size, bold=True)
    while code_font.getlength(code) > full * 0.62 and code_size > full * 0.05:
        code_size = int(code_size * 0.9)
        code_font = _font(fonts, code, code_size, bold=True)
    draw.text((centre, full * 0.46), code, font=code_font, fill=color, anchor="mm")

    name_font = _font(fonts, name, int(full * 0.05), bold=False)
    lines = _wrap(name, lambda t: name_font.getlength(t) <= full * 0.56, max_lines=3)
    step = full * 0.062
    for index, line in enumerate(lines):
        draw.text((centre, full * 0.62 + index * step), line, font=name_font, fill="#222222",
                  anchor="mm")  # fmt: skip
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


# --- SVG ------------------------------------------------------------------------------------


def default_badge_svg(name: str, code: str | None = None) -> bytes:
    """An SVG medal (viewBox 512) for the scheme ``name``; text left to the viewer's fonts."""
    name, code = _labels(name, code)
    color = badge_color(code)
    code_size = 87 if len(code) <= 6 else max(28, int(87 * 6 / len(code)))
    # about 0.55 em a character in Noto Sans: wrap the name to ~24 characters a line
    lines = _wrap(name, lambda t: len(t) <= 24, max_lines=3)
    name_lines = "".join(
        f'<text x="256" y="{317 + i * 32}" font-size="25.6" fill="#222">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="512" '
        'height="512">'
        f"<title>{escape(code)}: {escape(name)}</title>"
        f'<circle cx="256" cy="256" r="240.6" fill="{color}"/>'
        '<circle cx="256" cy="256" r="199.7" fill="#fff"/>'
        f'<circle cx="256" cy="256" r="186" fill="none" stroke="{color}" stroke-width="2.6"/>'
        f'<g font-family="{SVG_FONTS}" text-anchor="middle" dominant-baseline="middle">'
        f'<text x="256" y="138" font-size="28" font-weight="bold" fill="{color}" '
        'letter-spacing="2">CERTIFIED</text>'
        f'<text x="256" y="236" font-size="{code_size}" font-weight="bold" '
        f'fill="{color}">{escape(code)}</text>'
        f"{name_lines}</g></svg>\n"
    )
    return svg.encode("utf-8")
