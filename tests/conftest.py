"""Fixtures shared across test folders.

``pg_database`` lives here, at the root, so one PostgreSQL database serves the whole run (each
test still gets its own schema); the issuer's and the end-to-end tests both use it. ``backend``
is defined by each folder (which database engines it runs on).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """One PostgreSQL database per test run (each test gets its own schema in it)."""
    from tests.issuer.support import PG_URL, pg_test_database

    if PG_URL is None:
        yield None
        return
    with pg_test_database() as url:
        yield url


@pytest.fixture
def database_url(backend: str, tmp_path: Path, pg_database: str | None) -> Iterator[str]:
    """A fresh, migrated database on ``backend`` (the requesting folder's parameter)."""
    from tests.issuer.support import fresh_database

    with fresh_database(backend, tmp_path, pg_database) as url:
        yield url
