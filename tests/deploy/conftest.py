"""Deployment tests: real gunicorn nodes and HAProxy on loopback (tests/deploy/nodes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.issuer.support import (
    BACKENDS,
    clean_environment,  # noqa: F401 - autouse fixture
    fresh_database,
)


@pytest.fixture
def deploy_database(tmp_path: Path, pg_database: str | None) -> Iterator[str]:
    """PostgreSQL (a fresh schema) when the run has it, as production has; else SQLite."""
    backend = "postgresql" if "postgresql" in BACKENDS else "sqlite"
    with fresh_database(backend, tmp_path, pg_database) as url:
        yield url
