"""Certificates and badges that look right: rendered to PNG and saved under tests/artifacts/
(for a person to look at), with the non-Latin names checked in the PDF's text and the printed
QR code decoded from the rendered page."""

from __future__ import annotations

import subprocess
import unicodedata
from pathlib import Path

import pytest

from verifier.result import Verdict
from wallet_export.badge import bake_png, bake_svg, unbake_png, unbake_svg
from wallet_export.badge_image import default_badge_png, default_badge_svg
from wallet_export.pdf import Paper, certificate_pdf
from wallet_export.pdf_extract import decode_qr, pdftoppm_first_page

from .conftest import NAMES

PAYLOAD = "https://certs.example-body.org/v#" + "6BFOXN*TS0BI$ZDFRH" * 40
CASES = [(NAMES[0], Paper.A4), (NAMES[1], Paper.LETTER), (NAMES[2], Paper.A4)]


def _plain(text: str) -> str:
    """pdftotext marks right-to-left runs with bidi controls; compare without them."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


@pytest.mark.parametrize(("name", "paper"), CASES, ids=["latin", "cjk-letter", "arabic"])
def test_certificate_renders_the_name_and_a_readable_qr(
    sign, name: str, paper: Paper, artifacts: Path, poppler: None
) -> None:
    pdf = certificate_pdf(sign(name), qr=PAYLOAD, paper=paper)
    stem = f"certificate-{paper.name.lower()}-{['latin', 'cjk', 'arabic'][NAMES.index(name)]}"
    (artifacts / f"{stem}.pdf").write_bytes(pdf)
    png = pdftoppm_first_page(pdf)
    (artifacts / f"{stem}.png").write_bytes(png)

    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    lines = [_plain(line).strip() for line in text.stdout.decode("utf-8").splitlines()]
    assert name in lines  # the name is one line of its own, in logical order
    assert decode_qr(png) == PAYLOAD


@pytest.mark.parametrize("name", NAMES, ids=["latin", "cjk", "arabic"])
def test_baked_badges_render_and_unbake_to_a_valid_credential(
    sign, verify, name: str, artifacts: Path
) -> None:
    signed = sign(name)
    scheme = signed["credentialSubject"]["achievement"]
    png = bake_png(default_badge_png(scheme["name"], scheme["humanCode"], size=256), signed)
    svg = bake_svg(default_badge_svg(scheme["name"], scheme["humanCode"]), signed)
    tag = ["latin", "cjk", "arabic"][NAMES.index(name)]
    (artifacts / f"badge-{tag}.png").write_bytes(png)
    (artifacts / f"badge-{tag}.svg").write_bytes(svg)
    for text in (unbake_png(png), unbake_svg(svg)):
        assert verify(text).verdict is Verdict.VALID
