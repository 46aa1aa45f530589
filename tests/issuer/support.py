"""What the issuer's tests share: databases (SQLite, and PostgreSQL when
CERTVC_TEST_DATABASE_URL is set), instances, apps, a live HTTP server, the production verifier
pointed at it."""

from __future__ import annotations

import json
import os
import random
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.engine import Engine, make_url
from werkzeug.serving import make_server

from contexts.loader import default_store
from issuer import db
from issuer.db.models import Action, AuditEvent, AuditHead
from issuer.services import audit, instance
from issuer.services.issuing_context import IssuerContext
from keys.suites import FAST
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.model.status_list import (
    Bitstring,
    StatusPurpose,
    parse_status_entry,
    parse_status_list_credential,
)
from verifier.service import Verifier
from verifier.status import StatusPolicy
from verifier.trust import TrustedBody, TrustList

#: Read once at import: the tests clear CERTVC_* from the environment they run in.
PG_URL = os.environ.get("CERTVC_TEST_DATABASE_URL") or None
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
PG_ONLY_REASON = "needs PostgreSQL: set CERTVC_TEST_DATABASE_URL (CI does)"
#: A Redis for the rate limits shared between processes (CI sets it; Redis runs on the machine).
REDIS_URL = os.environ.get("CERTVC_TEST_REDIS_URL") or None
REDIS_ONLY_REASON = "needs Redis: set CERTVC_TEST_REDIS_URL=redis://127.0.0.1:6379 (CI does)"


@contextmanager
def pg_test_database() -> Iterator[str]:
    """A PostgreSQL database for this test run, dropped at the end (its URL)."""
    assert PG_URL is not None
    base = make_url(PG_URL)
    name = f"certvc_test_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def fresh_database(backend: str, folder: Path, pg_database: str | None = None) -> Iterator[str]:
    """A new, empty database: a SQLite file, or a fresh schema in the run's PostgreSQL
    database (first on the search_path), dropped after the test."""
    if backend == "sqlite":
        yield db.sqlite_url(folder)
        return
    assert pg_database is not None
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    # The schema's name is also its connections' application_name: the teardown below ends only
    # this test's connections (tests run in parallel, each in its own schema of one database).
    url = make_url(pg_database).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            # A connection a test left in a transaction (an unread streamed response keeps its
            # cursor open until collected) would make the drop wait for ever: end it first.
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = "
                    "current_database() AND pid <> pg_backend_pid() "
                    "AND state = 'idle in transaction' AND application_name = :schema"
                ),
                {"schema": schema},
            )
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def init(folder: Path, url: str, *, public_url: str = "http://127.0.0.1:8000") -> Any:
    engine = db.make_engine(url)
    try:
        return instance.init_instance(
            folder,
            engine=engine,
            database=url,
            public_url=public_url,
            dev_mode=True,
            passphrase=None,
            now=NOW,
        )
    finally:
        engine.dispose()


def context(folder: Path, *, seed: int = 7, **kwargs: Any) -> IssuerContext:
    settings = instance.read_settings(folder)
    keyring = instance.open_keyring(folder, settings, None, now=NOW)
    return IssuerContext(
        settings.public_url,
        keyring,
        default_store(),
        random.Random(seed),
        **{"canonicalizer": FAST, **kwargs},
    )


def app_config(folder: Path, url: str, **extra: Any) -> dict[str, Any]:
    # No worker thread that outlives the test polling its database: a thread runs only while
    # an upload's job is pending (tests that need the persistent one pass it).
    config = {
        "INSTANCE": str(folder),
        "DATABASE_URL": url,
        "TESTING": True,
        "JOB_WORKER_THREAD": False,
    }
    config.update(extra)
    return config


# --- a live server ------------------------------------------------------------------------


@dataclass
class LiveServer:
    base_url: str
    app: Any

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"


@contextmanager
def live_server(make_app: Any) -> Iterator[LiveServer]:
    """werkzeug's threaded server on 127.0.0.1 (a free port); ``make_app(base_url)`` builds
    the app once the port is known (the public URL goes into credentials)."""
    holder: dict[str, Any] = {}

    def dispatch(environ: Any, start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    holder["app"] = make_app(base_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(base_url, holder["app"])
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    *,
    body: Any = None,
    token: str | None = None,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One request to the loopback server; never raises for 4xx/5xx."""
    assert url.startswith("http://127.0.0.1:"), "tests talk to loopback only"
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())


# --- verifying over HTTP ------------------------------------------------------------------


def production_verifier(server: LiveServer) -> Verifier:
    """certvc's own verifier as a relying party runs it (verifier.service.Verifier): status
    lists fetched over HTTP by the safe fetcher (the server's loopback origin allow-listed, in
    development mode since it is plain http), each verified before its bit is read; the body's
    DID document pinned in a trust list, as an offline desk does (a loopback instance's
    did:web names https://localhost, which this plain-http server does not serve)."""
    did_document = http("GET", server.url("/.well-known/did.json")).json
    trust = TrustList([TrustedBody(did_document["id"], "the body under test", None, did_document)])
    fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({server.base_url}), dev_mode=True))
    return Verifier(
        store=default_store(),
        fetcher=fetcher,
        clock=lambda: datetime.now(UTC),
        trust=trust,
        status_policy=StatusPolicy(refresh=True),
        canonicalizer=FAST,
    )


def list_bit(server: LiveServer, list_url: str, index: int) -> int:
    reply = http("GET", list_url)
    assert reply.status == 200, reply.body
    subject = parse_status_list_credential(reply.json)
    return Bitstring.decode(subject.encoded_list).get(index)


def entries(credential: Mapping[str, Any]) -> dict[StatusPurpose, tuple[str, int]]:
    found = {}
    for raw in credential["credentialStatus"]:
        entry = parse_status_entry(raw)
        found[entry.purpose] = (entry.list_url, entry.index)
    return found


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads CERTVC_* variables; a developer's own must not leak into a test.

    Autouse in the folders whose conftest imports it (tests/issuer, tests/e2e).
    """
    for name in list(os.environ):
        if name.startswith("CERTVC_"):
            monkeypatch.delenv(name)


def rewrite_audit_chain(engine: Engine, change: Callable[[list[dict[str, Any]]], None]) -> None:
    """The attacker with database access: read the audit events, ``change`` them, recompute
    every hash and the head with ``issuer.services.audit.event_hash`` (the MAC key is not in
    the database, so the MACs stay as they were)."""
    table = AuditEvent.__table__
    with engine.begin() as connection:
        rows = [dict(r._mapping) for r in connection.execute(select(table).order_by(table.c.seq))]
        change(rows)
        previous = audit.GENESIS
        for row in rows:
            row["prev_hash"] = previous
            row["hash"] = previous = audit.event_hash(
                seq=row["seq"],
                at=row["at"],
                actor=row["actor"],
                action=Action(row["action"]),
                subject=row["subject"],
                reason=row["reason"],
                details=row["details"],
                prev_hash=previous,
            )
        for row in rows:  # every hash is unique: move them aside first
            connection.execute(
                update(table).where(table.c.seq == row["seq"]).values(hash=f"x{row['seq']}")
            )
        for row in rows:
            connection.execute(
                update(table)
                .where(table.c.seq == row["seq"])
                .values({k: v for k, v in row.items() if k != "seq"})
            )
        connection.execute(
            update(AuditHead.__table__).where(AuditHead.id == 1).values(hash=previous)
        )
