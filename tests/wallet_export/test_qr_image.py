"""QR images for print: PNG and SVG decode back to the payload, in both QR modes of the verifier
(link-only and self-contained), with mixed segments and a print-minded error-correction level."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from lxml import etree
from PIL import Image
from qrcode.util import MODE_8BIT_BYTE, MODE_ALPHA_NUM

from contexts.errors import CertvcError
from wallet_export.errors import WalletCode
from wallet_export.qr_image import (
    QUIET_ZONE,
    ErrorCorrection,
    _plan,
    dark_runs,
    qr_matrix,
    qr_png,
    qr_svg,
)

LINK_ONLY = "https://certs.example-body.org/v/CB-2026-004217"
# a self-contained payload: a lowercase URL whose fragment is an uppercase base45 text
SELF_CONTAINED = "https://certs.example-body.org/v#" + "6BFOXN*TS0BI$ZDFRH 0/D:+.%-" * 40


def _decode(png: bytes) -> str:
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert found, "no QR code found"
    return found[0].text


@pytest.mark.parametrize(
    "payload", [LINK_ONLY, SELF_CONTAINED], ids=["link-only", "self-contained"]
)
def test_png_decodes_to_the_payload(payload: str) -> None:
    assert _decode(qr_png(payload, module_px=4)) == payload


@pytest.mark.parametrize(
    "payload", [LINK_ONLY, SELF_CONTAINED], ids=["link-only", "self-contained"]
)
def test_svg_decodes_to_the_payload(payload: str) -> None:
    """The SVG is drawn from the same modules: rasterised module by module, it decodes."""
    svg = qr_svg(payload, size_mm=45)
    root = etree.fromstring(svg)
    assert root.get("width") == "45mm" and root.get("shape-rendering") == "crispEdges"
    matrix = qr_matrix(payload)
    assert root.get("viewBox") == f"0 0 {matrix.size} {matrix.size}"
    # rebuild the picture from the SVG path alone
    path = root.find("{http://www.w3.org/2000/svg}path").get("d")
    runs = []
    for segment in path.split("M")[1:]:
        start, rest = segment.split("h", 1)
        x, y = (int(v) for v in start.split(","))
        runs.append((x, y, int(rest.split("v")[0])))
    assert runs == dark_runs(matrix)
    image = Image.new("L", (matrix.size, matrix.size), 255)
    for x, y, w in runs:
        for dx in range(w):
            image.putpixel((x + dx, y), 0)
    scaled = image.resize((matrix.size * 4,) * 2, Image.Resampling.NEAREST)
    out = io.BytesIO()
    scaled.save(out, format="PNG")
    assert _decode(out.getvalue()) == payload


def test_uppercase_tail_is_encoded_in_alphanumeric_mode() -> None:
    """ISO/IEC 18004 §7.4 mixed segments: the base45 tail costs 5.5 bits, not 8, a character."""
    code = _plan(SELF_CONTAINED, ErrorCorrection.M, QUIET_ZONE)
    modes = [chunk.mode for chunk in code.data_list]
    assert modes == [MODE_8BIT_BYTE, MODE_ALPHA_NUM]
    assert code.data_list[1].data.decode() == SELF_CONTAINED.split("#", 1)[1]


def test_error_correction_is_chosen_for_print() -> None:
    """Short links get H; a big payload the highest of H/Q/M within version 20, else M."""
    small = qr_matrix(LINK_ONLY)
    assert small.error_correction is ErrorCorrection.H and small.version <= 20
    big = qr_matrix(SELF_CONTAINED)
    assert big.error_correction is ErrorCorrection.M
    assert (
        qr_matrix(LINK_ONLY, error_correction=ErrorCorrection.L).error_correction
        is ErrorCorrection.L
    )


def test_quiet_zone_is_four_modules() -> None:
    matrix = qr_matrix(LINK_ONLY)
    edge = matrix.rows[:QUIET_ZONE] + matrix.rows[-QUIET_ZONE:]
    assert not any(any(row) for row in edge)
    assert not any(any(row[:QUIET_ZONE]) or any(row[-QUIET_ZONE:]) for row in matrix.rows)
    assert any(matrix.rows[QUIET_ZONE])  # the finder pattern starts right after it
    with pytest.raises(CertvcError):
        qr_matrix(LINK_ONLY, border=2)


def test_too_large_a_payload_is_refused_with_its_code() -> None:
    with pytest.raises(CertvcError) as caught:
        qr_matrix("x" * 8000)
    assert caught.value.code is WalletCode.QR_PAYLOAD_TOO_LARGE


def test_png_is_one_bit_black_on_white() -> None:
    image = Image.open(io.BytesIO(qr_png(LINK_ONLY, module_px=3)))
    assert image.mode == "1"
    assert image.size == (qr_matrix(LINK_ONLY).size * 3,) * 2
