"""Concurrent clients over HTTP: status allocation and status changes are race-free.

Must show (PostgreSQL): 500 issuances from 8 concurrent clients get 500 distinct status
indexes; 200 concurrent status changes all appear in the published list, none lost. On
PostgreSQL the clients share two server *processes* (as gunicorn workers would), so the race is
between processes and not only threads; the same runs at a smaller scale on SQLite in-process
(where writers queue behind BEGIN IMMEDIATE).
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from issuer import db
from issuer.db.models import Scope, StatusEntry
from issuer.services import accounts, audit
from tests.issuer.support import NOW, PG_ONLY_REASON, PG_URL, entries, http, init, list_bit
from verifier.model.status_list import Bitstring, StatusPurpose, parse_status_list_credential

CLIENTS = 8


def _issue(server, n: int) -> dict:
    body = {
        "scheme": "CWI-2",
        "scope": "steel",
        "person": {"name": f"Person {n}", "reference": f"R-{n}"},
        "reason": "batch decision",
    }
    reply = http("POST", server.url("/api/v1/certifications"), body=body, token=server.token)
    assert reply.status == 201, reply.body
    return reply.json


def _suspend(server, number: str) -> int:
    reply = http(
        "POST",
        server.url(f"/api/v1/certifications/{number}/suspend"),
        body={"reason": "surveillance finding"},
        token=server.token,
    )
    return reply.status


def _run(server, issuances: int, changes: int) -> None:
    with ThreadPoolExecutor(CLIENTS) as pool:
        issued = list(pool.map(lambda n: _issue(server, n), range(issuances)))
    by_purpose = {
        purpose: set() for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
    }
    for item in issued:
        for purpose, place in entries(item["verifiableCredential"]).items():
            by_purpose[purpose].add(place)
    assert all(len(places) == issuances for places in by_purpose.values())
    with db.session_factory(server.engine)() as session:
        rows = session.execute(select(StatusEntry.list_id, StatusEntry.status_index)).all()
    assert len(rows) == len(set(rows)) == 2 * issuances

    chosen = issued[:changes]
    with ThreadPoolExecutor(CLIENTS) as pool:
        statuses = list(
            pool.map(lambda item: _suspend(server, item["certification"]["number"]), chosen)
        )
    assert statuses == [200] * changes
    lists: dict[str, list[int]] = {}
    for item in chosen:
        url, index = entries(item["verifiableCredential"])[StatusPurpose.SUSPENSION]
        lists.setdefault(url, []).append(index)
    for url, indexes in lists.items():
        reply = http("GET", url)
        bits = Bitstring.decode(parse_status_list_credential(reply.json).encoded_list)
        assert all(bits.get(index) == 1 for index in indexes)  # none lost
        assert sum(1 for _ in bits.set_indexes()) == len(indexes)
    untouched = issued[changes]
    url, index = entries(untouched["verifiableCredential"])[StatusPurpose.SUSPENSION]
    assert list_bit(server, url, index) == 0
    with db.session_factory(server.engine)() as session:
        report = audit.verify_chain(session)
    assert report.ok, report


@dataclass
class _Workers:
    """Two `python -m issuer serve` processes on one instance and one database."""

    base_urls: list[str]
    token: str
    engine: Any
    turn: itertools.count

    def url(self, path: str) -> str:
        base = self.base_urls[next(self.turn) % len(self.base_urls)]
        return f"{base}/{path.lstrip('/')}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def workers(database_url: str, tmp_path: Path) -> Iterator[_Workers]:
    folder = tmp_path / "instance"
    ports = [_free_port(), _free_port()]
    init(folder, database_url, public_url=f"http://127.0.0.1:{ports[0]}")
    engine = db.make_engine(database_url)
    token = db.run_transaction(
        db.session_factory(engine),
        lambda s: accounts.create_token(
            s, name="load", scopes=frozenset({Scope.ADMIN}), actor="t", now=NOW
        )[1],
    )
    # Two nodes of one instance behind one public URL (a load balancer's): said explicitly, as
    # serve refuses a development instance on an address that is not its own (issue 19).
    env = {
        **os.environ,
        "CERTVC_INSTANCE": str(folder),
        "CERTVC_DATABASE_URL": database_url,
        "CERTVC_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "issuer", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        base_urls = [f"http://127.0.0.1:{port}" for port in ports]
        for base in base_urls:
            for _ in range(300):
                try:
                    if http("GET", f"{base}/.well-known/did.json").status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.05)
            else:
                raise AssertionError(f"the server at {base} did not start")
        yield _Workers(base_urls, token, engine, itertools.count())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        engine.dispose()


@pytest.mark.skipif(PG_URL is None, reason=PG_ONLY_REASON)
@pytest.mark.parametrize("backend", ["postgresql"])
def test_500_concurrent_issuances_and_200_status_changes_on_postgresql(workers) -> None:
    _run(workers, issuances=500, changes=200)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_concurrent_issuances_and_status_changes_on_sqlite(server) -> None:
    _run(server, issuances=48, changes=24)
