"""The one QR symbol module: PNG and SVG decode back to the text in both payload modes (link and
embed), segments follow the payload format, error correction L unless asked, a 4-module quiet
zone, and the limits refused with their codes."""

from __future__ import annotations

import io

import pytest
import qrcode
import zxingcpp
from lxml import etree
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM, QRData

from contexts.errors import ErrorCode, InputError
from verifier import qr
from verifier.errors import VerifierCode
from verifier.qr_symbol import (
    MAX_MODULE_PX,
    QUIET_ZONE,
    ErrorCorrection,
    make_symbol,
    render_png,
    render_svg,
)

VERIFIER = "https://certs.example-body.org/v"
LINK_ONLY = qr.deep_link(VERIFIER, qr.encode_link("https://certs.example-body.org/c/CB-2026-4217"))
# an embed-mode text: a lowercase URL, then a fragment of the QR alphanumeric set only
EMBED = VERIFIER + "#1C" + "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43UOV3HO6DZPI" * 16


def _decode(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code found"
    return found[0].text


@pytest.mark.parametrize("text", [LINK_ONLY, EMBED], ids=["link", "embed"])
def test_png_decodes_to_the_text(text: str) -> None:
    assert _decode(render_png(make_symbol(text), module_px=4)) == text


@pytest.mark.parametrize("text", [LINK_ONLY, EMBED], ids=["link", "embed"])
def test_svg_decodes_to_the_text(text: str) -> None:
    """The SVG is drawn from the same modules: rasterised from its path alone, it decodes."""
    symbol = make_symbol(text)
    svg = render_svg(symbol, size_mm=45)
    root = etree.fromstring(svg)
    assert root.get("width") == "45mm" and root.get("shape-rendering") == "crispEdges"
    assert root.get("viewBox") == f"0 0 {symbol.size} {symbol.size}"
    runs = []
    for segment in root.find("{http://www.w3.org/2000/svg}path").get("d").split("M")[1:]:
        start, rest = segment.split("h", 1)
        x, y = (int(v) for v in start.split(","))
        runs.append((x, y, int(rest.split("v")[0])))
    assert runs == symbol.dark_runs()
    image = Image.new("L", (symbol.size, symbol.size), 255)
    for x, y, w in runs:
        for dx in range(w):
            image.putpixel((x + dx, y), 0)
    scaled = image.resize((symbol.size * 4,) * 2, Image.Resampling.NEAREST)
    out = io.BytesIO()
    scaled.save(out, format="PNG")
    assert _decode(out.getvalue()) == text


def test_svg_is_one_path_of_runs_with_an_optional_title() -> None:
    """Runs, not one square a module: the SVG stays a few KB; the title is escaped, or left out
    inside a PDF."""
    symbol = make_symbol(EMBED)
    svg = render_svg(symbol, title="Scan <me> & verify").decode()
    assert "<title>Scan &lt;me&gt; &amp; verify</title>" in svg
    assert svg.count("M") == len(symbol.dark_runs()) < sum(row.count(True) for row in symbol.rows)
    assert "<title>" not in render_svg(symbol, title=None).decode()
    assert etree.fromstring(render_svg(symbol)).get("width") is None  # scales to its container


def test_segments_follow_the_payload_format() -> None:
    """The URL up to '#' in byte mode, the payload alphanumeric (docs/qr-format.md): the same
    symbol as building those two segments by hand, and smaller than byte mode alone."""
    prefix, payload = EMBED.split("#")
    by_hand = qrcode.QRCode(error_correction=ErrorCorrection.L.value, border=QUIET_ZONE)
    by_hand.add_data(QRData(f"{prefix}#".encode(), mode=MODE_8BIT_BYTE), optimize=0)
    by_hand.add_data(QRData(payload.encode(), mode=MODE_ALPHA_NUM), optimize=0)
    by_hand.make(fit=True)
    symbol = make_symbol(EMBED)
    assert symbol.rows == tuple(tuple(bool(c) for c in row) for row in by_hand.get_matrix())
    bytes_only = qrcode.QRCode(error_correction=ErrorCorrection.L.value)
    bytes_only.add_data(QRData(EMBED.encode(), mode=MODE_8BIT_BYTE), optimize=0)
    bytes_only.make(fit=True)
    assert symbol.version < bytes_only.version


def test_error_correction_is_l_unless_asked() -> None:
    """L by default: at a given printed size the smallest symbol has the largest modules, which
    is what decides whether a photo reads (docs/qr-format.md, "Printed certificates"). The
    former print default (the highest of H/Q/M within version 20) made the link code denser."""
    levels = {level: make_symbol(LINK_ONLY, level) for level in ErrorCorrection}
    default = make_symbol(LINK_ONLY)
    assert default.error_correction is ErrorCorrection.L and default == levels[ErrorCorrection.L]
    versions = [levels[level].version for level in ErrorCorrection]
    assert versions == sorted(versions) and versions[0] < versions[-1]
    assert make_symbol(EMBED, ErrorCorrection.M).error_correction is ErrorCorrection.M


def test_quiet_zone_is_four_modules_at_least() -> None:
    symbol = make_symbol(LINK_ONLY)
    assert symbol.border == QUIET_ZONE and symbol.modules == 17 + 4 * symbol.version
    assert symbol.size == symbol.modules + 2 * QUIET_ZONE
    edge = symbol.rows[:QUIET_ZONE] + symbol.rows[-QUIET_ZONE:]
    assert not any(any(row) for row in edge)
    assert not any(any(row[:QUIET_ZONE]) or any(row[-QUIET_ZONE:]) for row in symbol.rows)
    assert any(symbol.rows[QUIET_ZONE])  # the finder pattern starts right after it
    assert make_symbol(LINK_ONLY, border=6).size == symbol.size + 4
    with pytest.raises(InputError):
        make_symbol(LINK_ONLY, border=2)


def test_module_size_at_a_print_width() -> None:
    """``module_mm`` is for a print with the quiet zone outside (the CLI's 30 mm figure)."""
    symbol = make_symbol(LINK_ONLY)
    assert symbol.module_mm(30) == pytest.approx(30 / (17 + 4 * symbol.version))


@pytest.mark.parametrize("text", ["x" * 8000, VERIFIER + "#1C" + "A" * 5000])
def test_too_large_a_text_is_refused_with_its_code(text: str) -> None:
    """One code for "does not fit", whoever asks (it was ``qr_payload_invalid`` from the CLI's
    encoder, which is the code for an unreadable payload)."""
    with pytest.raises(InputError) as caught:
        make_symbol(text)
    assert caught.value.code is VerifierCode.QR_PAYLOAD_TOO_LARGE


def test_empty_text_is_refused() -> None:
    with pytest.raises(InputError) as caught:
        make_symbol("")
    assert caught.value.code is ErrorCode.INPUT_UNUSABLE


def test_png_is_one_bit_black_on_white() -> None:
    symbol = make_symbol(LINK_ONLY)
    image = Image.open(io.BytesIO(render_png(symbol, module_px=3)))
    assert image.mode == "1"
    assert image.size == (symbol.size * 3,) * 2
    assert Image.open(io.BytesIO(render_png(symbol))).size == (symbol.size * 10,) * 2
    for bad in (0, MAX_MODULE_PX + 1):
        with pytest.raises(InputError):
            render_png(symbol, module_px=bad)
