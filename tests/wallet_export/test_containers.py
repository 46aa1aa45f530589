"""``certvc verify`` on what a person has: a PDF certificate or a baked badge yields the
credential inside, which verifies; anything else is left to the verifier's own reader."""

from __future__ import annotations

import json
from importlib.metadata import entry_points

import pytest
from fpdf import FPDF

from contexts.errors import CertvcError, ErrorCode
from verifier.result import Verdict
from wallet_export import pdf_extract
from wallet_export.badge import bake_png, bake_svg
from wallet_export.badge_image import default_badge_png, default_badge_svg
from wallet_export.containers import Container, credential_text, extract_credential
from wallet_export.errors import WalletCode
from wallet_export.pdf import certificate_pdf, render_pdf
from wallet_export.view import certificate_view

PAYLOAD = "https://certs.example-body.org/v/CB-2026-004217"


@pytest.fixture(scope="module")
def signed(sign):
    return sign()


def test_every_container_yields_a_credential_that_verifies(signed, verify) -> None:
    files = {
        Container.PDF: certificate_pdf(signed, qr=PAYLOAD),
        Container.PNG_BADGE: bake_png(default_badge_png("CWI", "CWI-2", size=96), signed),
        Container.SVG_BADGE: bake_svg(default_badge_svg("CWI", "CWI-2"), signed),
    }
    for container, data in files.items():
        found = extract_credential(data)
        assert found is not None and found.container is container and not found.from_qr
        assert verify(found.text).verdict is Verdict.VALID


def test_a_pdf_without_attachment_yields_the_qr_payload(signed, poppler) -> None:
    found = extract_credential(render_pdf(certificate_view(signed), qr=PAYLOAD))
    assert found is not None and found.from_qr and found.text == PAYLOAD


def test_plain_credentials_are_not_containers(signed, sign) -> None:
    assert extract_credential(json.dumps(signed).encode()) is None
    assert extract_credential(sign(suite="vc+jwt").encode()) is None


def test_an_unbaked_badge_says_so() -> None:
    with pytest.raises(CertvcError) as caught:
        extract_credential(default_badge_png("CWI", "CWI-2", size=96))
    assert caught.value.code is WalletCode.BADGE_NOT_BAKED


def test_a_pdf_with_neither_attachment_nor_qr_code(poppler) -> None:
    blank = FPDF()
    blank.add_page()
    with pytest.raises(CertvcError) as caught:
        extract_credential(bytes(blank.output()))
    assert caught.value.code is WalletCode.CREDENTIAL_NOT_FOUND


def test_the_verifier_extractor_takes_containers_and_declines_the_rest(signed) -> None:
    """``credential_text`` (entry point of certvc.input_extractors): the text inside a PDF or
    a baked badge; None for a PNG without a credential (a QR photo goes on to the verifier's
    image reader) and for anything that is no container; a bare SVG says it is not baked."""
    text = json.dumps(signed, ensure_ascii=False, indent=2) + "\n"
    assert credential_text(certificate_pdf(signed, qr=PAYLOAD)).strip() == text.strip()
    assert json.loads(credential_text(bake_png(default_badge_png("C", "C-1", size=96), signed)))
    assert credential_text(default_badge_png("C", "C-1", size=96)) is None
    assert credential_text(b"\x89PNG\r\n\x1a\nbroken") is None
    assert credential_text(json.dumps(signed).encode()) is None
    with pytest.raises(CertvcError) as caught:
        credential_text(default_badge_svg("C", "C-1"))
    assert caught.value.code is WalletCode.BADGE_NOT_BAKED


def test_the_extractor_is_registered_for_the_verifier() -> None:
    """The verifier finds it through the entry-point group (it never imports wallet_export)."""
    found = {
        ep.value
        for ep in entry_points(group="certvc.input_extractors")
        if ep.name == "wallet_export"
    }
    assert found == {"wallet_export.containers:credential_text"}


def test_pdf_renders_are_bounded_and_a_busy_verifier_says_so(poppler, monkeypatch) -> None:
    """At most MAX_CONCURRENT_RENDERS pdftoppm processes: past that a request waits briefly,
    then gets ``rate_limited`` (HTTP 429 in the verifier) instead of piling up processes."""
    blank = FPDF()
    blank.add_page()
    monkeypatch.setattr(pdf_extract, "RENDER_WAIT_S", 0.05)
    held = [pdf_extract._RENDERS.acquire(blocking=False) for _ in range(8)]
    assert held.count(True) == pdf_extract.MAX_CONCURRENT_RENDERS  # every slot taken
    try:
        with pytest.raises(CertvcError) as caught:
            pdf_extract.pdftoppm_first_page(bytes(blank.output()))
        assert caught.value.code is ErrorCode.RATE_LIMITED
    finally:
        for _ in range(held.count(True)):
            pdf_extract._RENDERS.release()
    png = pdf_extract.pdftoppm_first_page(bytes(blank.output()))  # a free slot renders again
    assert png.startswith(b"\x89PNG")
