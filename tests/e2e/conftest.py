"""End-to-end fixtures: a fresh database per test (SQLite; PostgreSQL when
CERTVC_TEST_DATABASE_URL is set) and the issuer served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from issuer import db
from issuer.app import create_app
from issuer.db.models import Scope
from issuer.services import accounts
from tests.issuer.support import (
    BACKENDS,
    NOW,
    app_config,
    init,
    live_server,
)

BACKEND_PARAMS = BACKENDS

from tests.issuer.support import clean_environment  # noqa: E402, F401 - autouse fixture

# pg_database and database_url: tests/conftest.py


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


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
            app.extensions["certvc.db"].writer,  # bound to the audit key: the event has a MAC
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
