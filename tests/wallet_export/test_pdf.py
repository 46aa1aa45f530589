"""The PDF certificate: A4 and Letter, text selectable, fonts embedded, the credential attached,
and the QR code and the attachment both lead back to a credential that verifies."""

from __future__ import annotations

import io
import json
import re
import subprocess
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from contexts.errors import CertvcError, InputError
from verifier import qr
from verifier.qr_symbol import make_symbol, render_png
from verifier.result import Verdict
from wallet_export.errors import WalletCode
from wallet_export.fonts import default_fonts
from wallet_export.pdf import PRINT_LAYOUT, Labels, Paper, certificate_pdf, render_pdf
from wallet_export.pdf_extract import Source, extract_from_pdf, find_in_pdf, pdftoppm_first_page
from wallet_export.view import Branding, certificate_view

from .conftest import NAMES

PAYLOAD = "https://certs.example-body.org/v/CB-2026-004217"
MM = 72 / 25.4


def _text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def signed(sign) -> dict[str, Any]:
    return sign(NAMES[0])


@pytest.fixture(scope="module")
def a4(signed: dict[str, Any]) -> bytes:
    return certificate_pdf(signed, qr=PAYLOAD)


@pytest.mark.parametrize("paper", list(Paper))
def test_page_size(signed: dict[str, Any], paper: Paper) -> None:
    page = PdfReader(io.BytesIO(certificate_pdf(signed, qr=PAYLOAD, paper=paper))).pages
    assert len(page) == 1
    width, height = paper.value
    assert float(page[0].mediabox.width) == pytest.approx(width * MM, abs=0.1)
    assert float(page[0].mediabox.height) == pytest.approx(height * MM, abs=0.1)


def test_text_is_selectable_and_says_what_iso_17024_asks(a4: bytes, poppler: None) -> None:
    """ISO/IEC 17024 certificate content: person, certificate id, scheme and scope, body,
    effective and expiry dates."""
    text = _text(a4)
    for expected in (
        NAMES[0],
        "CB-2026-004217",
        "Certified Welding Inspector — Level 2",
        "Scheme CWI-2 · ISO 9712:2021",
        "visual testing of welds, steel groups 1, 2 and 8",
        "Example Personnel Certification Body",
        "27 November 2026",
        "26 November 2029",
        "ISO/IEC 17024 accredited, no. PCB-0042",
    ):
        assert expected in text, expected


def test_fonts_are_embedded_subsets(a4: bytes, poppler: None) -> None:
    done = subprocess.run(["pdffonts", "-"], input=a4, capture_output=True, check=True)
    rows = done.stdout.decode().splitlines()[2:]
    assert rows
    for row in rows:
        columns = row.split()
        emb, sub, uni = columns[-5:-2]
        assert (emb, sub, uni) == ("yes", "yes", "yes"), row


def test_attached_credential_is_the_signed_one_and_verifies(a4: bytes, signed, verify) -> None:
    finding = find_in_pdf(a4, rasterize=None)
    assert finding is not None and finding.source is Source.ATTACHMENT
    assert finding.name == "credential.json"
    assert json.loads(finding.text) == signed
    assert verify(json.loads(extract_from_pdf(a4))).verdict is Verdict.VALID


def test_vc_jwt_is_attached_as_such(sign, verify) -> None:
    token = sign(NAMES[0], "vc+jwt")
    pdf = certificate_pdf(token, qr=PAYLOAD)
    finding = find_in_pdf(pdf, rasterize=None)
    assert finding is not None and finding.name == "credential.jwt"
    assert finding.text == token
    assert verify(finding.text).verdict is Verdict.VALID
    assert PdfReader(io.BytesIO(pdf)).attachments  # and pypdf sees it as an embedded file


def test_qr_code_is_read_when_there_is_no_attachment(signed, poppler: None) -> None:
    """A certificate re-saved without its embedded file still yields the QR payload."""
    pdf = render_pdf(certificate_view(signed), qr=PAYLOAD)
    finding = find_in_pdf(pdf)
    assert finding is not None and finding.source is Source.QR_CODE
    assert finding.text == PAYLOAD


def test_of_two_printed_codes_the_one_holding_the_credential_is_read(signed, poppler) -> None:
    """A certificate prints a link-mode code and an embed-mode one; without the attachment the
    embed-mode one is taken, as it verifies without the issuing instance."""
    link = "https://certs.example-body.org/v#1Lhttps://certs.example-body.org/credentials/1"
    embed = qr.deep_link("https://certs.example-body.org/v", qr.encode_credential(signed))
    pdf = render_pdf(certificate_view(signed), qr=link, secondary_qr=embed)
    finding = find_in_pdf(pdf)
    assert finding is not None and finding.source is Source.QR_CODE
    assert finding.text == embed


@pytest.mark.parametrize("paper", list(Paper))
def test_both_printed_codes_read_with_their_captions(signed, paper: Paper, poppler) -> None:
    """The two codes side by side, each with its caption, neither covered by other ink (a
    code under the footer or the details would not read)."""
    assert PRINT_LAYOUT.secondary is not None and PRINT_LAYOUT.primary.quiet_zone >= 4
    link = "https://certs.example-body.org/v#1Lhttps://certs.example-body.org/credentials/1"
    embed = qr.deep_link("https://certs.example-body.org/v", qr.encode_credential(signed))
    pdf = certificate_pdf(signed, qr=link, secondary_qr=embed, paper=paper)
    text = " ".join(_text(pdf).split())
    assert "Scan to verify" in text and "Signed credential, checks offline" in text
    page = Image.open(io.BytesIO(pdftoppm_first_page(pdf)))
    assert {code.text for code in zxingcpp.read_barcodes(page)} == {link, embed}


def test_without_pdftoppm_the_error_says_what_to_install(signed, monkeypatch, tmp_path) -> None:
    pdf = render_pdf(certificate_view(signed), qr=PAYLOAD)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CertvcError) as caught:
        extract_from_pdf(pdf)
    assert caught.value.code is WalletCode.TOOL_UNAVAILABLE
    assert "poppler-utils" in caught.value.message
    # an attached credential needs no tool at all
    assert extract_from_pdf(certificate_pdf(signed, qr=PAYLOAD)) is not None


def test_a_ready_qr_image_can_be_placed(signed, poppler: None) -> None:
    pdf = render_pdf(certificate_view(signed), qr=render_png(make_symbol(PAYLOAD), module_px=8))
    finding = find_in_pdf(pdf)
    assert finding is not None and finding.text == PAYLOAD


def test_not_a_pdf_is_unusable_input() -> None:
    with pytest.raises(InputError):
        extract_from_pdf(b"GIF89a not a pdf")


def test_a_broken_pdf_yields_nothing_rather_than_a_crash(poppler: None) -> None:
    assert (
        find_in_pdf(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF", rasterize=None) is None
    )


def test_output_is_deterministic(signed) -> None:
    assert certificate_pdf(signed, qr=PAYLOAD) == certificate_pdf(signed, qr=PAYLOAD)


def test_logo_and_own_wording(signed, poppler: None) -> None:
    logo = io.BytesIO()
    Image.new("RGB", (400, 120), (31, 58, 95)).save(logo, format="PNG")
    labels = Labels(title="Zertifikat", subtitle="über die Personenzertifizierung")
    branding = Branding(logo=logo.getvalue(), accreditation="Akkreditiert nach ISO/IEC 17024")
    pdf = certificate_pdf(signed, qr=PAYLOAD, branding=branding, labels=labels)
    text = _text(pdf)
    assert "ZERTIFIKAT" in text and "über die Personenzertifizierung" in text
    assert "Akkreditiert nach ISO/IEC 17024" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1


def _placed_images(pdf: bytes) -> list[tuple[float, float, float, float]]:
    """(x, y from the top, width, height) in millimetres of every image drawn on page 1."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    height_pt = float(page.mediabox.height)
    placed = []
    number = r"(-?[\d.]+)"
    pattern = rf"{number} 0 0 {number} {number} {number} cm\s*/I\w+ Do"
    for w, h, x, y in re.findall(pattern, content):
        w_pt, h_pt, x_pt, y_pt = (float(v) for v in (w, h, x, y))
        placed.append((x_pt / MM, (height_pt - y_pt - h_pt) / MM, w_pt / MM, h_pt / MM))
    return placed


@pytest.mark.parametrize("pixels", [(128, 128), (400, 120), (120, 400)])
def test_the_logo_is_drawn_once_at_the_top_at_a_sensible_size(signed, verify, pixels) -> None:
    """Square, wide and tall logos: at most 22 mm high and 60 mm wide, aspect kept, centred
    at the top inside the frame, and the certificate still carries a credential that verifies."""
    logo = io.BytesIO()
    Image.new("RGB", pixels, (31, 58, 95)).save(logo, format="PNG")
    pdf = certificate_pdf(signed, qr=PAYLOAD, branding=Branding(logo=logo.getvalue()))
    [(x, top, width, height)] = _placed_images(pdf)
    assert height <= 22.01 and width <= 60.01  # fpdf2 writes points to 2 decimals
    assert width / height == pytest.approx(pixels[0] / pixels[1], rel=1e-3)
    assert max(width, height) >= 20.0  # not a speck either
    assert top == pytest.approx(20.0, abs=0.01)  # inside the 12 mm frame, above the title
    assert x + width / 2 == pytest.approx(Paper.A4.value[0] / 2, abs=0.01)
    finding = find_in_pdf(pdf, rasterize=None)
    assert finding is not None and verify(json.loads(finding.text)).verdict is Verdict.VALID


def test_without_a_logo_no_image_is_drawn(a4: bytes) -> None:
    assert _placed_images(a4) == []  # the QR code is vector paths, not an image


def test_a_logo_that_is_not_png_or_jpeg_is_refused(signed) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, format="GIF")
    for logo in (gif.getvalue(), b"<svg/>"):
        with pytest.raises(CertvcError) as caught:
            certificate_pdf(signed, qr=PAYLOAD, branding=Branding(logo=logo))
        assert caught.value.code is WalletCode.IMAGE_INVALID


def test_a_name_no_font_covers_is_refused_not_printed_as_boxes(sign) -> None:
    name = "אברהם"  # Hebrew: not in the shipped faces
    assert default_fonts().missing(name)
    with pytest.raises(CertvcError) as caught:
        certificate_pdf(sign(name), qr=PAYLOAD)
    assert caught.value.code is WalletCode.FONT_MISSING_GLYPH
    assert "U+05D0" in caught.value.message
