"""The default badge images: a PNG and an SVG medal made from the scheme's name and code."""

from __future__ import annotations

import io

import pytest
from lxml import etree
from PIL import Image

from contexts.errors import CertvcError
from wallet_export.badge_image import PALETTE, badge_color, default_badge_png, default_badge_svg
from wallet_export.errors import WalletCode


def test_png_is_a_square_transparent_medal_in_the_scheme_colour() -> None:
    image = Image.open(
        io.BytesIO(default_badge_png("Certified Welding Inspector", "CWI-2", size=200))
    )
    assert image.format == "PNG" and image.size == (200, 200) and image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # transparent corner
    ring = image.getpixel((100, 6))[:3]
    assert "#" + bytes(ring).hex() == badge_color("CWI-2")


def test_colour_is_stable_per_code_and_from_the_palette() -> None:
    assert badge_color("CWI-2") == badge_color("CWI-2") in PALETTE
    assert len({badge_color(f"S-{n}") for n in range(40)}) > 1


@pytest.mark.parametrize(
    "name", ["焊接检验师 二级认证", "مفتش اللحام المعتمد", "Ünïcödé Ïnspéctör"]
)
def test_non_latin_scheme_names_render(name: str) -> None:
    image = Image.open(io.BytesIO(default_badge_png(name, size=128)))
    assert image.size == (128, 128)


def test_uncovered_characters_are_refused() -> None:
    with pytest.raises(CertvcError) as caught:
        default_badge_png("בודק ריתוך", "X-1")
    assert caught.value.code is WalletCode.FONT_MISSING_GLYPH


def test_svg_escapes_the_names_and_keeps_them_as_text() -> None:
    svg = default_badge_svg('Inspector <script>alert("x")</script> & co', "A&B")
    root = etree.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "A&B" in texts and "CERTIFIED" in texts
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    assert any("<script>" in t for t in texts)


def test_a_badge_needs_a_name() -> None:
    with pytest.raises(CertvcError):
        default_badge_svg("   ")
