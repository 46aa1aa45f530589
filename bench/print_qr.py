"""Which printed QR layout survives a phone photo of the whole certificate: the decode matrix.

    .venv/bin/python bench/print_qr.py [--quick] [--json] [--paper a4|letter] [--jobs N]

The PDF certificate of a realistic signed certification credential (verifier/samples.py, an
id under the instance's ``/credentials/<uuid>``, eddsa-rdfc-2022, a fixed public bench key) is
rendered by the product (``wallet_export.pdf.render_pdf``) in each layout below, rasterised by
``pdftoppm`` at 150 and 300 dpi, then "photographed" with Pillow: scaled (40-100 %), rotated
(0-10 degrees) with or without a mild perspective (the top edge 6 % narrower, as from a phone
held below the page), put on a grey desk, blurred (Gaussian, 0-1.5 px) and saved as JPEG
(quality 50-90). Each photo is read by the verifier's own image path
(``verifier.qr_image.read_qr_texts``: zxing-cpp). A cell counts for a layout when its primary
code is read back exactly.

The grid is deterministic: every dpi x scale x blur x rotation x perspective (256 cells), the
JPEG quality cycling with the level indices (each quality meets each level of every other
factor equally often); the tester's cell (150 dpi, 60 %, 7 degrees, perspective, blur 1 px,
JPEG 60) is one of them. ``--quick`` runs 33 cells. Then the quick cells again for a longer
credential (five-line scope, long name, ECDSA P-384 proof): an embed-mode code grows with the
credential, a link-mode code does not. Criterion (issue 11): the chosen layout reads >= 95 %
of the 300 dpi cells today's layout reads, and the tester's cell.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contexts.errors import InputError
from contexts.loader import default_store
from issuer.signing import sign_credential
from keys import multikey
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from verifier import qr
from verifier.qr_image import read_qr_texts
from verifier.qr_symbol import ErrorCorrection, make_symbol
from verifier.samples import certification_credential
from wallet_export.pdf import (
    PRINT_LAYOUT,
    Paper,
    PrintedQr,
    QrLayout,
    render_pdf,
)
from wallet_export.view import certificate_view

BASE_URL = "https://certs.example-body.org"
VERIFIER_URL = f"{BASE_URL}/v"
CREDENTIAL_ID = f"{BASE_URL}/credentials/3f6c1a52-8f0e-4d1b-9a7e-2c4b5d6e7f80"
WHEN = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

DPIS = (150, 300)
SCALES = (100, 80, 60, 40)  # per cent
BLURS = (0.0, 0.5, 1.0, 1.5)  # Gaussian radius, pixels of the photo
ROTATIONS = (0.0, 3.0, 7.0, 10.0)  # degrees
PERSPECTIVES = (True, False)
QUALITIES = (90, 75, 60, 50)  # JPEG
KEYSTONE = 0.06  # the top edge this much narrower than the bottom one
DESK = 128  # grey around the page


@dataclass(frozen=True)
class Cell:
    """One photo: how the page was rasterised and how the "camera" treated it."""

    dpi: int
    scale: int
    blur: float
    rotation: float
    perspective: bool
    jpeg: int

    @property
    def label(self) -> str:
        tilt = "persp" if self.perspective else "flat"
        return (
            f"{self.dpi:>3} dpi {self.scale:>3} % blur {self.blur:.1f} "
            f"{self.rotation:>4.0f}° {tilt:<5} q{self.jpeg}"
        )


#: The tester's photo (issue 11): today's layout does not read it.
NAMED = Cell(dpi=150, scale=60, blur=1.0, rotation=7.0, perspective=True, jpeg=60)


@dataclass(frozen=True)
class Candidate:
    """A printed layout: which payload the primary code holds, and its sizes."""

    name: str
    primary: str  # "embed" or "link"
    layout: QrLayout
    secondary: bool = False  # the embed-mode code beside the primary one


CANDIDATES = (
    Candidate("today", "embed", QrLayout(PrintedQr(48.0, ErrorCorrection.M))),
    Candidate("embed-L-64", "embed", QrLayout(PrintedQr(64.0, ErrorCorrection.L))),
    Candidate("embed-M-64", "embed", QrLayout(PrintedQr(64.0, ErrorCorrection.M))),
    Candidate("embed-M-72", "embed", QrLayout(PrintedQr(72.0, ErrorCorrection.M))),
    Candidate(
        "link-H-40+embed",
        "link",
        QrLayout(PrintedQr(40.0, ErrorCorrection.H), PRINT_LAYOUT.secondary),
        secondary=True,
    ),
    Candidate("chosen", "link", PRINT_LAYOUT, secondary=True),
)


def grid(quick: bool) -> list[Cell]:
    """Every dpi, scale, blur, rotation and perspective; the JPEG quality cycles with the sum
    of the level indices, so each quality meets each level of every other factor equally
    often. ``quick``: a corner of it, plus a hard cell."""
    cells = []
    levels = (DPIS, SCALES, BLURS, ROTATIONS, PERSPECTIVES)
    for index in product(*(range(len(level)) for level in levels)):
        dpi, scale, blur, rotation, perspective = (
            level[i] for level, i in zip(levels, index, strict=True)
        )
        jpeg = QUALITIES[sum(index[1:]) % len(QUALITIES)]
        cell = Cell(dpi, scale, blur, rotation, perspective, jpeg)
        if quick and not (scale in (100, 60) and blur in (0.0, 1.0) and rotation in (0.0, 7.0)):
            continue
        cells.append(cell)
    if quick:
        cells.append(Cell(300, 40, 1.5, 10.0, True, 50))
    assert NAMED in cells
    return cells


#: A longer credential than the sample: a five-line scope, a long name, an ECDSA P-384 proof.
LONG_SCOPE = (
    "Scope: visual testing of fusion welds in steel groups 1, 2, 3, 8 and 11 (ISO/TR 15608), "
    "plates, pipes and branch connections, all welding positions, thicknesses from 3 mm; "
    "acceptance to ISO 5817 levels B, C and D and EN ISO 10675-1; supervision of level 1 "
    "inspectors; pressure equipment (EN 13445, EN 13480) and structural steelwork (EN 1090-2)"
)
LONG_NAME = "María Fernanda de los Ángeles García-Villalobos Ruiz"


def bench_key(key_type: KeyType) -> KeyPair:
    """A fixed, public key (derived from a constant), so the run is repeatable: never a real
    issuer's key."""
    seed = hashlib.sha256(f"certvc bench/print_qr.py {key_type.value}".encode()).digest()
    if key_type is KeyType.P384:
        seed += seed[:16]  # P-384 secrets are 48 bytes
    return KeyPair.from_secret_multibase(multikey.encode_secret(key_type, seed))


def payloads(long: bool = False) -> tuple[dict[str, object], str, str]:
    """The signed credential and the texts of its embed-mode and link-mode codes."""
    pair = bench_key(KeyType.P384 if long else KeyType.ED25519)
    name = LONG_NAME if long else "Zoë Ångström-Ōtsuka"
    credential = certification_credential(
        pair.public_key.did_key, valid_from=WHEN, person_name=name
    )
    credential["id"] = CREDENTIAL_ID
    if long:
        credential["credentialSubject"]["achievement"]["description"] = LONG_SCOPE
    suite = "ecdsa-rdfc-2019" if long else "eddsa-rdfc-2022"
    signed = sign_credential(
        credential,
        pair.signer(),
        suite,
        store=default_store(),
        options=ProofOptions(created=WHEN),
        canonicalizer=FAST,
    )
    embed = qr.deep_link(VERIFIER_URL, qr.encode_credential(signed))
    link = qr.deep_link(VERIFIER_URL, qr.encode_link(CREDENTIAL_ID))
    return signed, embed, link


def rasterise(pdf: bytes, dpi: int) -> bytes:
    """Page 1 as a greyscale PNG at ``dpi`` (pdftoppm, as a print driver would see it)."""
    command = ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "-f", "1", "-l", "1"]
    return subprocess.run([*command, "-"], input=pdf, capture_output=True, check=True).stdout


def _solve(matrix: list[list[float]], values: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (8 unknowns: no numpy for that)."""
    size = len(values)
    rows = [[*row, value] for row, value in zip(matrix, values, strict=True)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        for r in range(size):
            if r != col:
                factor = rows[r][col] / rows[col][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    return [rows[i][size] / rows[i][i] for i in range(size)]


def _homography(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """Pillow's PERSPECTIVE coefficients: output pixel (``dst``) to input pixel (``src``)."""
    matrix, values = [], []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        matrix.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        matrix.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return _solve(matrix, values)


def tilt(image: Image.Image, degrees: float, perspective: bool) -> Image.Image:
    """The page as a camera sees it: rotated, its top edge narrower, on a grey desk."""
    width, height = image.size
    inset = KEYSTONE / 2 * width if perspective else 0.0
    corners = [(inset, 0.0), (width - inset, 0.0), (width, height), (0.0, height)]
    if perspective:  # foreshortened a little too
        corners = [(x, y * 0.97 + 0.03 * height * (y / height)) for x, y in corners]
    angle = math.radians(degrees)
    cx, cy = width / 2, height / 2
    turned = [
        (
            cx + (x - cx) * math.cos(angle) - (y - cy) * math.sin(angle),
            cy + (x - cx) * math.sin(angle) + (y - cy) * math.cos(angle),
        )
        for x, y in corners
    ]
    left, top = min(x for x, _ in turned) - 8, min(y for _, y in turned) - 8
    right, bottom = max(x for x, _ in turned) + 8, max(y for _, y in turned) + 8
    placed = [(x - left, y - top) for x, y in turned]
    page = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    coefficients = _homography(page, placed)
    size = (math.ceil(right - left), math.ceil(bottom - top))
    return image.transform(
        size, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC, fillcolor=DESK
    )


def photograph(page: Image.Image, cell: Cell) -> bytes:
    """The JPEG a phone would hand over (``page`` already scaled to ``cell.scale``)."""
    image = page
    if cell.rotation or cell.perspective:
        image = tilt(image, cell.rotation, cell.perspective)
    if cell.blur:
        image = image.filter(ImageFilter.GaussianBlur(cell.blur))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=cell.jpeg)
    return out.getvalue()


def read(photo: bytes) -> list[str]:
    """What the verifier's image path reads from the photo (nothing: an empty list)."""
    try:
        return read_qr_texts(photo)
    except InputError:
        return []


def _run_unit(png: bytes, scale: int, cells: list[Cell]) -> list[tuple[Cell, list[str]]]:
    """One rasterised page at one scale: photograph and read each of its cells."""
    with Image.open(io.BytesIO(png)) as opened:
        page = opened.convert("L")
    if scale != 100:
        size = (round(page.width * scale / 100), round(page.height * scale / 100))
        page = page.resize(size, Image.Resampling.LANCZOS)
    return [(cell, read(photograph(page, cell))) for cell in cells]


def _units(cells: list[Cell]) -> Iterator[tuple[int, int, list[Cell]]]:
    """Work for one process: one page at one scale and one rotation (a few seconds)."""
    for dpi, scale, rotation in product(DPIS, SCALES, ROTATIONS):
        chosen = [c for c in cells if (c.dpi, c.scale, c.rotation) == (dpi, scale, rotation)]
        if chosen:
            yield dpi, scale, chosen


def describe(candidate: Candidate, embed: str, link: str) -> str:
    """Mode, error correction, version, printed size and module size of each code."""
    parts = []
    codes = [(candidate.primary, candidate.layout.primary)]
    if candidate.secondary and candidate.layout.secondary is not None:
        codes.append(("embed", candidate.layout.secondary))
    for mode, printed in codes:
        symbol = make_symbol(
            embed if mode == "embed" else link, printed.error_correction, border=printed.quiet_zone
        )
        module = printed.size_mm / symbol.size
        parts.append(
            f"{mode} {symbol.error_correction.name} v{symbol.version} {printed.size_mm:g} mm "
            f"({module:.2f} mm modules, quiet zone {printed.quiet_zone})"
        )
    return " + ".join(parts)


@dataclass(frozen=True)
class Measured:
    """What each layout read in each cell, for one credential."""

    embed: str
    link: str
    cells: list[Cell]
    texts: dict[str, dict[Cell, list[str]]]

    def expected(self, candidate: Candidate) -> str:
        return self.embed if candidate.primary == "embed" else self.link

    def read(self, candidate: Candidate, cell: Cell) -> bool:
        """Whether the layout's primary code was read back exactly."""
        return self.expected(candidate) in self.texts[candidate.name][cell]


def measure(pool: ProcessPoolExecutor, long: bool, cells: list[Cell], paper: Paper) -> Measured:
    """Render every candidate for one credential, photograph and read every cell."""
    signed, embed, link = payloads(long)
    view = certificate_view(signed)
    texts: dict[str, dict[Cell, list[str]]] = {c.name: {} for c in CANDIDATES}
    rasters = {}
    for candidate in CANDIDATES:
        pdf = render_pdf(
            view,
            qr=embed if candidate.primary == "embed" else link,
            secondary_qr=embed if candidate.secondary else None,
            layout=candidate.layout,
            paper=paper,
        )
        for dpi in DPIS:
            rasters[candidate.name, dpi] = pool.submit(rasterise, pdf, dpi)
    futures = []
    for candidate in CANDIDATES:
        for dpi, scale, chosen in _units(cells):
            page = rasters[candidate.name, dpi].result()
            futures.append((candidate.name, pool.submit(_run_unit, page, scale, chosen)))
    for name, future in futures:
        texts[name].update(future.result())
    return Measured(embed, link, cells, texts)


def summarise(measured: Measured) -> list[dict[str, object]]:
    """Per layout: cells read, the share of today's 300 dpi cells kept, the tester's cell."""
    cells = measured.cells
    today_300 = [c for c in cells if c.dpi == 300 and measured.read(CANDIDATES[0], c)]
    rows: list[dict[str, object]] = []
    for candidate in CANDIDATES:
        read_cells = [c for c in cells if measured.read(candidate, c)]
        kept = sum(1 for c in today_300 if measured.read(candidate, c))
        embed_read = sum(1 for c in cells if measured.embed in measured.texts[candidate.name][c])
        rows.append(
            {
                "layout": candidate.name,
                "codes": describe(candidate, measured.embed, measured.link),
                "cells": len(cells),
                "decoded": len(read_cells),
                "decoded_150dpi": sum(1 for c in read_cells if c.dpi == 150),
                "decoded_300dpi": sum(1 for c in read_cells if c.dpi == 300),
                "today_300dpi_cells": len(today_300),
                "of_today_300dpi": round(100 * kept / len(today_300), 1) if today_300 else None,
                "named_cell": measured.read(candidate, NAMED),
                "embed_code_decoded": embed_read if candidate.secondary else None,
            }
        )
    return rows


def _print_summary(title: str, rows: list[dict[str, object]], width: int) -> None:
    print(f"{title}: {rows[0]['today_300dpi_cells']} cells at 300 dpi read with today's layout")
    for row in rows:
        embed_read = row["embed_code_decoded"]
        print(
            f"  {row['layout']:<{width}} {row['decoded']:>3}/{row['cells']} read "
            f"(150 dpi {row['decoded_150dpi']}, 300 dpi {row['decoded_300dpi']}), "
            f"{row['of_today_300dpi']} % of today's 300 dpi cells, tester's cell "
            f"{'✓' if row['named_cell'] else '✗'}"
            + (f"; its embed code read in {embed_read}" if embed_read is not None else "")
        )
        print(f"  {'':<{width}} {row['codes']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="33 cells instead of 256")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    parser.add_argument("--paper", choices=["a4", "letter"], default="a4")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    parser.add_argument("--jobs", type=int, default=min(2, cpus or 1))
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        sys.exit("pdftoppm missing: install the Debian package poppler-utils")

    started = time.perf_counter()
    paper = Paper[args.paper.upper()]
    cells = grid(args.quick)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        sample = measure(pool, False, cells, paper)
        long = measure(pool, True, grid(quick=True), paper)
    elapsed = time.perf_counter() - started
    if args.json:
        rows = [{**asdict(c), **{k.name: sample.read(k, c) for k in CANDIDATES}} for c in cells]
        report = {
            "paper": args.paper,
            "seconds": round(elapsed, 1),
            "summary": summarise(sample),
            "long_credential_quick_grid": summarise(long),
            "cells": rows,
        }
        print(json.dumps(report, ensure_ascii=False))
        return 0
    names = [c.name for c in CANDIDATES]
    width = max(len(n) for n in names) + 1
    print(f"{'cell':<44}" + "".join(f"{n:>{width}}" for n in names))
    for cell in cells:
        marks = ("✓" if sample.read(k, cell) else "✗" for k in CANDIDATES)
        print(f"{cell.label:<44}" + "".join(f"{m:>{width}}" for m in marks))
    print(f"\ntester's cell: {NAMED.label}")
    _print_summary(f"sample credential, {len(cells)} cells", summarise(sample), width)
    _print_summary(
        f"long credential (long scope and name, P-384 proof), {len(long.cells)} quick cells",
        summarise(long),
        width,
    )
    print(f"({paper.name}, {args.jobs} processes, {elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
