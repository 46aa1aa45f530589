"""Bulk issuance from CSV, end to end: N rows that each certify, time and rate.

Run: ``.venv/bin/python bench/issuer_import.py [--rows N] [--database-url URL] [--persons-only]
[--jobs N] [--json]``. ``--database-url`` must name an empty database the run may fill.
A fresh development instance is initialised in a temporary folder, a CSV of N rows is written
(``name,reference,scheme,scope``: names with accents, quotes and commas; each row creates a
person *and* certifies them, i.e. a credential signed with the instance's key and two status
entries allocated), and ``certvc import-csv`` runs as a subprocess; the time covers process
start, parsing, validation, signing, the chunked transactions and their audit events. Then the
result is checked: N persons and N certifications, every credential's proof verifies against the
instance's DID document, every status index is unique, the audit chain is intact.
``--persons-only`` writes ``name,reference`` rows (no signing: not the issuance workload).
Exits non-zero under the goal of issue 15 (1,500 certifications/s on SQLite, 1,000/s on
PostgreSQL).
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
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, func, inspect, select

from contexts.loader import default_store
from issuer import db
from issuer.db.models import Certification, IssuedCredential, Person, StatusEntry
from issuer.services import audit, instance
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.result import Check, CheckStatus

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
    parser.add_argument("--persons-only", action="store_true", help="rows that do not certify")
    parser.add_argument("--jobs", type=int, default=1, help="signing processes (import-csv)")
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
            certify = not args.persons_only
            writer.writerow(["name", "reference", *(["scheme", "scope"] if certify else [])])
            for n in range(args.rows):
                person = [f"{NAMES[n % len(NAMES)]} {n}", f"P-{n:06d}"]
                writer.writerow([*person, *(["CWI-2", f"VT-2, group {n % 9}"] if certify else [])])
        load_before = round(os.getloadavg()[0], 2)
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "import-csv", str(data), "--reason", "benchmark", "--json"]
            + ["--jobs", str(args.jobs)],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        elapsed = time.perf_counter() - started
        report = json.loads(done.stdout)
        settings = instance.read_settings(folder)
        document = instance.open_keyring(folder, settings, None, now=datetime.now(UTC))
        did_document = document.did_document()
        engine = db.make_engine(args.database_url or db.sqlite_url(folder))
        with db.session_factory(engine)() as session:
            persons = session.execute(select(func.count()).select_from(Person)).scalar_one()
            certifications = session.execute(
                select(func.count()).select_from(Certification)
            ).scalar_one()
            entries = session.execute(select(StatusEntry.list_id, StatusEntry.status_index)).all()
            documents = session.execute(select(IssuedCredential.document)).scalars().all()
            chain = audit.verify_chain(session)
        engine.dispose()
    assert persons == args.rows == report["imported"], (persons, report["imported"])
    assert chain.ok, chain
    expected = 0 if args.persons_only else args.rows
    assert certifications == len(documents) == expected, (certifications, len(documents))
    assert len(entries) == len(set(entries)) == 2 * expected, "status indexes not unique"
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({did_document["id"]: did_document}),
        canonicalizer=FAST,
    )
    for text in documents:
        result = verify_credential(text, policy, now=datetime.now(UTC))
        for check in (Check.SHAPE, Check.CONTEXT, Check.PROOF, Check.ISSUER):
            assert result.check(check).status is CheckStatus.PASSED, result.check(check)
    database = "postgresql" if args.database_url else "sqlite"
    goal = (1500 if database == "sqlite" else 1000) if expected else None
    rate = args.rows / elapsed
    figures = {
        "rows": args.rows,
        "workload": "persons only" if args.persons_only else "rows that certify and sign",
        "database": database,
        "jobs": args.jobs,
        "load_average_before": load_before,
        "seconds": round(elapsed, 2),
        "rows_per_second": round(rate),
        "goal_per_second": goal,
        "met": goal is None or rate >= goal,
        "credentials_verified": len(documents),
        "audit_events": chain.events,
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        target = f"goal {goal}/s: {'met' if figures['met'] else 'MISSED'}" if goal else "no goal"
        print(
            f"imported {args.rows} rows ({figures['workload']}) in {elapsed:.2f} s "
            f"({figures['rows_per_second']}/s, {database}, --jobs {args.jobs}, load average "
            f"{load_before} before); {target}; "
            f"{len(documents)} credentials verified, status indexes unique, "
            f"audit chain intact ({chain.events} events)"
        )
    return 0 if figures["met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
