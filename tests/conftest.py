"""Fixtures shared across test folders.

``pg_database`` lives here, at the root, so one PostgreSQL database serves the whole run (each
test still gets its own schema); the issuer's and the end-to-end tests both use it. ``backend``
is defined by each folder (which database engines it runs on). ``softhsm`` is the run's one
SoftHSM2 token (tests/support/softhsm.py).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One fresh SoftHSM2 token for the whole test run, ``SOFTHSM2_CONF`` pointing at its
    temporary configuration (a process sees only the tokens that existed when it first loaded
    the module: tests/support/softhsm.py). Skipped where SoftHSM2 is not installed, except in
    CI, where .ci/run installs it and a missing one is a failure."""
    from tests.support import softhsm as support

    if not support.available():
        if os.environ.get("CI"):
            pytest.fail("SoftHSM2 is not installed (.ci/run installs softhsm2)")
        pytest.skip("SoftHSM2 is not installed (apt-get install softhsm2)")
    hsm = support.create_token(tmp_path_factory.mktemp("softhsm"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOFTHSM2_CONF", str(hsm.conf))
        yield hsm
