"""End-to-end fixtures: a fresh database per test (SQLite; PostgreSQL when
CERTVC_TEST_DATABASE_URL is set) and the issuer served over real HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer import accounts, db
from issuer.app import create_app
from issuer.models import Scope
from tests.issuer.support import (
    BACKENDS,
    NOW,
    PG_URL,
    app_config,
    fresh_database,
    init,
    live_server,
    pg_test_database,
)

BACKEND_PARAMS = BACKENDS


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads CERTVC_* variables; a developer's own must not leak into a test."""
    for name in list(os.environ):
        if name.startswith("CERTVC_"):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """One PostgreSQL database per test run (each test gets its own schema in it)."""
    if PG_URL is None:
        yield None
        return
    with pg_test_database() as url:
        yield url


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def database_url(backend: str, tmp_path: Path, pg_database: str | None) -> Iterator[str]:
    with fresh_database(backend, tmp_path, pg_database) as url:
        yield url


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """The issuer served over real HTTP on 127.0.0.1, with an admin token."""
    folder = tmp_path / "instance"
    state: dict[str, Any] = {}

    def make_app(base_url: str) -> Any:
        init(folder, database_url, public_url=base_url)
        app = create_app(app_config(folder, database_url))
        engine = db.make_engine(database_url)
        state["engine"] = engine
        state["token"] = db.run_transaction(
            db.session_factory(engine),
            lambda s: accounts.create_token(
                s, name="e2e", scopes=frozenset({Scope.ADMIN}), actor="t", now=NOW
            )[1],
        )
        return app

    with live_server(make_app) as live:
        live.token = state["token"]  # type: ignore[attr-defined]
        live.engine = state["engine"]  # type: ignore[attr-defined]
        yield live
        live.app.extensions["certvc.db"].engine.dispose()
        state["engine"].dispose()
