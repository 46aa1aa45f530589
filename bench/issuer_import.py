"""Bulk import of 10,000 persons from CSV, end to end: time and rate (goal: under 30 s on SQLite).

Run: ``.venv/bin/python bench/issuer_import.py [--rows N] [--database-url URL] [--json]``.
``--database-url`` must name an empty database the run may fill.
A fresh development instance is initialised in a temporary folder, a CSV of N persons (names
with accents, quotes and commas) is written, and ``python -m issuer import-csv`` (the same
command as ``certvc import-csv``) runs as a subprocess; the time covers process start,
parsing, validation, the chunked transactions and their audit events. The import is then
checked: N persons in the database and an intact audit chain.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select

from issuer import audit, db
from issuer.models import Person

NAMES = ("Zoë Ångström", 'Jean "JJ" Dupont', "O'Brien, Siobhán", "Ōtsuka Haruki", "Łukasz Żak")


def _require_empty(url: str) -> None:
    """The benchmark initialises the database it is given: refuse one that holds anything."""
    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise SystemExit(f"--database-url must name an empty, throw-away database ({url})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--database-url", help="default: SQLite in the instance folder")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.database_url:
        _require_empty(args.database_url)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "instance"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
        env["CERTVC_INSTANCE"] = str(folder)
        if args.database_url:
            env["CERTVC_DATABASE_URL"] = args.database_url
        command = [sys.executable, "-m", "issuer"]
        subprocess.run([*command, "init", "--dev"], env=env, check=True, capture_output=True)
        data = Path(temp) / "persons.csv"
        with data.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["name", "reference"])
            for n in range(args.rows):
                writer.writerow([f"{NAMES[n % len(NAMES)]} {n}", f"P-{n:06d}"])
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "import-csv", str(data), "--reason", "benchmark", "--json"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        report = json.loads(done.stdout)
        engine = db.make_engine(args.database_url or db.sqlite_url(folder))
        with db.session_factory(engine)() as session:
            persons = session.execute(select(func.count()).select_from(Person)).scalar_one()
            chain = audit.verify_chain(session)
        engine.dispose()
    assert persons == args.rows == report["imported"], (persons, report["imported"])
    assert chain.ok, chain
    figures = {
        "rows": args.rows,
        "database": "postgresql" if args.database_url else "sqlite",
        "seconds": round(elapsed, 2),
        "rows_per_second": round(args.rows / elapsed),
        "goal_seconds": 30,
        "met": elapsed < 30,
        "audit_events": chain.events,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(
            f"imported {args.rows} persons in {elapsed:.2f} s ({figures['rows_per_second']}/s, "
            f"{figures['database']}), goal < 30 s: {'met' if figures['met'] else 'MISSED'}; "
            f"audit chain intact ({chain.events} events)"
        )
    return 0 if figures["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
