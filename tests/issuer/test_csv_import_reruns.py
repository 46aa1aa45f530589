"""``certvc import-csv`` of one file, run again and again on one SQLite instance (issue 15: the
3rd of 6 runs of a 3,000-row file died of a segmentation fault, exit 139, no traceback).

Each run is a real process, as an operator runs it: it must exit 0, the first import takes every
row, later ones find every row already present, and the instance ends with exactly one person
and one certification per row, each credential with its two status entries, and an intact audit
chain. Two runs are started at the same time once, which must neither crash nor import a row
twice. PYTHONFAULTHANDLER is on, so a native crash leaves its Python stack in the failure message.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select

from issuer import db
from issuer.db.models import Certification, IssuedCredential, Person, StatusEntry
from issuer.services import audit

ROOT = Path(__file__).resolve().parents[2]

#: Two chunks (csv_import.CHUNK is 500), so a run commits more than one transaction.
ROWS = 520
#: Sequential re-runs after the first import (issue 15 crashed on the 3rd run of 6).
RERUNS = 6


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    env["CERTVC_INSTANCE"] = str(instance)
    # The code under test is this checkout, whatever the venv's editable install points at.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PYTHONFAULTHANDLER"] = "1"
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "issuer", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], what: str) -> dict[str, Any]:
    out, err = process.communicate(timeout=180)
    code = process.returncode
    if code != 0:
        died = f" (killed by {signal.Signals(-code).name})" if code < 0 else ""
        raise AssertionError(f"{what}: exit {code}{died}\n{err[-4000:]}")
    report: dict[str, Any] = json.loads(out)
    return report


def _write_csv(path: Path) -> list[str]:
    references = [f"RR-{n:05d}" for n in range(ROWS)]
    names = ("Zoë Ångström", 'Jean "JJ" Dupont', "O'Brien, Siobhán", "Ōtsuka Haruki")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "reference", "scheme", "scope"])
        for n, reference in enumerate(references):
            writer.writerow([f"{names[n % len(names)]} {n}", reference, "CWI-2", f"group {n % 9}"])
    return references


def test_import_csv_reruns_exit_0_and_certify_each_row_once(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = _environment(instance)
    init = subprocess.run(
        [sys.executable, "-m", "issuer", "init", "--dev"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert init.returncode == 0, init.stderr
    data = tmp_path / "persons.csv"
    references = _write_csv(data)
    command = ("import-csv", str(data), "--reason", "re-run test", "--json")

    # The first import, twice at once: one process takes each chunk, the other finds it done.
    pair = [_finish(p, "concurrent import") for p in [_start(env, *command) for _ in range(2)]]
    assert sum(r["imported"] for r in pair) == ROWS, pair
    assert sum(r["alreadyPresent"] for r in pair) == ROWS, pair
    assert sum(r["certifications"] for r in pair) == ROWS, pair
    assert all(r["rows"] == ROWS and not r["errors"] for r in pair), pair

    for run in range(1, RERUNS + 1):
        report = _finish(_start(env, *command), f"re-run {run} of {RERUNS}")
        assert report == {
            "rows": ROWS,
            "imported": 0,
            "alreadyPresent": ROWS,
            "persons": 0,
            "certifications": 0,
            "errors": [],
        }, f"re-run {run}"

    engine = db.make_engine(db.sqlite_url(instance))
    try:
        with db.session_factory(engine)() as session:
            persons = session.execute(select(Person.id, Person.reference)).all()
            certified = session.execute(select(Certification.person_id)).scalars().all()
            credentials = session.execute(select(IssuedCredential.id)).scalars().all()
            entries = session.execute(select(StatusEntry.list_id, StatusEntry.status_index)).all()
            chain = audit.verify_chain(session)
    finally:
        engine.dispose()
    assert sorted(reference or "" for _, reference in persons) == references
    per_person = Counter(certified)
    assert per_person == Counter({person_id: 1 for person_id, _ in persons})
    assert len(credentials) == ROWS
    assert len(entries) == len(set(entries)) == 2 * ROWS
    assert chain.ok, chain
