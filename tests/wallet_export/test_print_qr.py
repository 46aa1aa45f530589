"""The printed certificate survives a phone photo: a few cells of bench/print_qr.py's matrix.

The tester's photo (150 dpi, 60 %, 7 degrees, perspective, blur 1 px, JPEG 60) and hard cells
that today's layout (one embed-mode code, 48 mm) failed must read with the printed layout
(``PRINT_LAYOUT``), through the verifier's own image path; a sharp photo reads the smaller
embed-mode code too. Same photo simulation as the bench (imported from it), so the test and the
published figures cannot drift apart.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PIL import Image

from verifier import qr
from wallet_export.pdf import Paper, render_pdf
from wallet_export.view import certificate_view

BENCH = Path(__file__).resolve().parents[2] / "bench" / "print_qr.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("print_qr_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _photos(bench: ModuleType, pdf: bytes, cells: list[Any]) -> dict[Any, list[str]]:
    pages = {dpi: bench.rasterise(pdf, dpi) for dpi in {cell.dpi for cell in cells}}
    read = {}
    for cell in cells:
        read.update(bench._run_unit(pages[cell.dpi], cell.scale, [cell]))
    return read


def _hard_cells(bench: ModuleType) -> list[Any]:
    cell = bench.Cell
    return [
        bench.NAMED,
        cell(dpi=150, scale=100, blur=1.5, rotation=7.0, perspective=False, jpeg=60),
        cell(dpi=150, scale=80, blur=1.5, rotation=7.0, perspective=True, jpeg=60),
        cell(dpi=150, scale=40, blur=0.5, rotation=3.0, perspective=False, jpeg=60),
        cell(dpi=300, scale=40, blur=1.5, rotation=10.0, perspective=False, jpeg=60),
    ]


@pytest.mark.parametrize("long", [False, True], ids=["sample", "long-credential"])
def test_the_printed_code_reads_from_photos_todays_layout_did_not(
    bench: ModuleType, long: bool, poppler: None
) -> None:
    """Fails if the printed layout regresses (smaller modules, a denser code, a code moved
    under other ink): the link-mode code is read back exactly, whatever the credential's
    length."""
    signed, embed, link = bench.payloads(long)
    cells = _hard_cells(bench)
    pdf = render_pdf(certificate_view(signed), qr=link, secondary_qr=embed)
    read = _photos(bench, pdf, cells)
    missed = [cell.label for cell in cells if link not in read[cell]]
    assert not missed, missed
    assert qr.decode_payload(link).unverified_text == bench.CREDENTIAL_ID


def test_todays_layout_fails_those_cells(bench: ModuleType, poppler: None) -> None:
    """The cells are hard: one embed-mode code at 48 mm (today's) does not read in them, so the
    test above measures the layout, not a lenient photo."""
    signed, embed, _ = bench.payloads()
    today = bench.CANDIDATES[0]
    assert today.name == "today"
    pdf = render_pdf(certificate_view(signed), qr=embed, layout=today.layout)
    read = _photos(bench, pdf, _hard_cells(bench))
    assert all(embed not in texts for texts in read.values())


@pytest.mark.parametrize("paper", list(Paper))
def test_a_sharp_photo_reads_both_codes(
    bench: ModuleType, paper: Paper, sign: Any, poppler: None
) -> None:
    """From a good photo or scan the smaller embed-mode code reads too, and holds the signed
    credential itself."""
    signed, embed, link = bench.payloads()
    pdf = render_pdf(certificate_view(signed), qr=link, secondary_qr=embed, paper=paper)
    cell = bench.Cell(dpi=300, scale=100, blur=0.5, rotation=3.0, perspective=True, jpeg=75)
    texts = _photos(bench, pdf, [cell])[cell]
    assert link in texts and embed in texts
    assert json.loads(qr.decode_payload(embed).unverified_text) == signed


def test_the_photo_is_a_whole_page_on_a_desk(bench: ModuleType, poppler: None) -> None:
    """The simulation is what it says: a tilted page, grey around it, the requested quality."""
    signed, embed, link = bench.payloads()
    pdf = render_pdf(certificate_view(signed), qr=link, secondary_qr=embed)
    page = Image.open(io.BytesIO(bench.rasterise(pdf, 150))).convert("L")
    cell = bench.Cell(dpi=150, scale=100, blur=1.0, rotation=7.0, perspective=True, jpeg=60)
    photo = Image.open(io.BytesIO(bench.photograph(page, cell)))
    assert photo.format == "JPEG"
    assert photo.width > page.width  # rotated: the bounding box grew
    assert abs(photo.convert("L").getpixel((2, 2)) - bench.DESK) < 12
