"""The fonts certificates and badges are set in, and a check that they cover a text.

A certificate carrying a person's name in tofu boxes is worse than no certificate: before
rendering, every character must be covered by one of the faces, or rendering is refused with
``font_missing_glyph`` naming the characters (an operator can then add a face).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont

from contexts.errors import CertvcError

from .errors import WalletCode

FONT_DIR = Path(__file__).resolve().parent / "fonts"


@dataclass(frozen=True)
class FontFace:
    """One family: a regular file and, optionally, a bold one (else regular stands in)."""

    family: str
    regular: Path
    bold: Path | None = None


@dataclass(frozen=True)
class FontSet:
    """Faces in order of preference: the first sets the text, the others fill its gaps."""

    faces: tuple[FontFace, ...]

    def __post_init__(self) -> None:
        if not self.faces:
            raise ValueError("a font set needs at least one face")

    @property
    def primary(self) -> FontFace:
        return self.faces[0]

    def face_covering(self, text: str) -> FontFace | None:
        """The first face that covers every character of ``text`` on its own."""
        needed = _needed(text)
        for face in self.faces:
            if needed <= _coverage(face.regular):
                return face
        return None

    def faces_for(self, text: str) -> tuple[FontFace, ...]:
        """The primary face and the fallbacks ``text`` needs, in order of preference."""
        left = _needed(text) - _coverage(self.primary.regular)
        chosen = [self.primary]
        for face in self.faces[1:]:
            if left & _coverage(face.regular):
                chosen.append(face)
                left -= _coverage(face.regular)
        return tuple(chosen)

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` that no face covers (whitespace and format marks aside)."""
        covered: set[int] = set()
        for face in self.faces:
            covered |= _coverage(face.regular)
        return sorted({chr(c) for c in _needed(text) - covered})

    def check(self, text: str) -> None:
        """:raises CertvcError: ``font_missing_glyph``, naming the characters."""
        missing = self.missing(text)
        if missing:
            named = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in missing[:10])
            raise CertvcError(
                f"no font can render {named}; add a font face covering it",
                code=WalletCode.FONT_MISSING_GLYPH,
            )


def _needed(text: str) -> frozenset[int]:
    return frozenset(
        ord(c)
        for c in unicodedata.normalize("NFC", text)
        if not c.isspace() and unicodedata.category(c) not in ("Cc", "Cf")
    )


@functools.lru_cache(maxsize=16)
def _coverage(path: Path) -> frozenset[int]:
    font = TTFont(path, lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def default_fonts() -> FontSet:
    """Noto Sans (Latin, Greek, Cyrillic), Noto Sans Arabic, Noto Sans CJK SC (shipped)."""
    return FontSet(
        (
            FontFace("NotoSans", FONT_DIR / "NotoSans-Regular.ttf", FONT_DIR / "NotoSans-Bold.ttf"),
            FontFace(
                "NotoSansArabic",
                FONT_DIR / "NotoSansArabic-Regular.ttf",
                FONT_DIR / "NotoSansArabic-Bold.ttf",
            ),
            FontFace("NotoSansCJK", FONT_DIR / "NotoSansCJKsc-Regular.otf"),
        )
    )
