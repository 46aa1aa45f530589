"""Fixtures of the issuer's tests (shared with tests/e2e through tests.issuer.support)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from issuer import db
from issuer.app import create_app
from issuer.db.models import Scope
from issuer.services import accounts, audit

from .support import (
    BACKENDS,
    NOW,
    app_config,
    context,
    fresh_database,
    init,
)

#: Service and API tests run on SQLite; modules where the database engine matters (locks,
#: migrations, the audit chain, allocation) ask for every backend with ``both_backends``.
BACKEND_PARAMS = ["sqlite"]

from tests.issuer.support import clean_environment  # noqa: E402, F401 - autouse fixture

# pg_database and database_url: tests/conftest.py


@pytest.fixture(params=BACKEND_PARAMS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Env:
    """An initialised instance for service tests: its folder, context and session factory."""

    def __init__(self, folder: Path, url: str, public_url: str = "http://127.0.0.1:8000") -> None:
        init(folder, url, public_url=public_url)
        self.folder = folder
        self.url = url
        self.engine = db.make_engine(url)
        self.ctx = context(folder)
        # Bound to the audit key as the app's and the CLI's writers are (events carry MACs).
        self.factory = audit.bind_mac_key(
            db.session_factory(self.engine), self.ctx.keyring.audit_key()
        )

    def write(self, work: Callable[[Session], Any]) -> Any:
        return db.run_transaction(self.factory, work)

    def read(self) -> Session:
        return self.factory()


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    environment = Env(tmp_path / "instance", database_url)
    yield environment
    environment.engine.dispose()


class AppEnv(Env):
    """An instance with its Flask app, a test client and one token per scope."""

    def __init__(
        self, folder: Path, url: str, public_url: str = "http://127.0.0.1:8000", **config: Any
    ) -> None:
        super().__init__(folder, url, public_url)
        self.app = create_app(app_config(folder, url, **config))
        self.client = self.app.test_client()
        self.tokens = {}
        for scope in Scope:
            self.tokens[scope.value] = self.write(
                lambda s, scope=scope: accounts.create_token(
                    s, name=f"{scope.value}-token", scopes=frozenset({scope}), actor="t", now=NOW
                )[1]
            )

    def auth(self, scope: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}


@pytest.fixture
def app_env(database_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    environment = AppEnv(tmp_path / "instance", database_url)
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def shared_app_env(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str | None,
) -> Iterator[AppEnv]:
    """One app for a module's read-mostly tests (each checks that it changed nothing)."""
    folder = tmp_path_factory.mktemp("shared")
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("CERTVC_"):
                patch.delenv(name)
        with fresh_database(request.param, folder, pg_database) as url:
            environment = AppEnv(folder / "instance", url)
            yield environment
            environment.engine.dispose()
            environment.app.extensions["certvc.db"].engine.dispose()


#: An https instance: OpenID4VCI is served only there (the Credential Issuer is https).
HTTPS_URL = "https://certs.example-body.org"


@pytest.fixture
def https_env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    environment = Env(tmp_path / "instance", database_url, HTTPS_URL)
    yield environment
    environment.engine.dispose()


@pytest.fixture
def https_app_env(database_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    environment = AppEnv(tmp_path / "instance", database_url, HTTPS_URL)
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()
