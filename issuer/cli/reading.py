"""Read-only sessions for the commands that only read (exports, reports)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from sqlalchemy.orm import Session

from .. import db
from ..services import instance
from .opened import OpenedInstance


@contextlib.contextmanager
def read_session(opened: OpenedInstance) -> Iterator[Session]:
    """A session on its own engine whose SQLite transactions begin deferred, never taking the
    write lock, so a long export or report does not hold up the lifecycle commands (the
    instance's writer begins IMMEDIATE)."""
    url = instance.database_url(opened.folder, os.environ.get("CERTVC_DATABASE_URL"))
    engine = db.make_engine(url, immediate=False)
    try:
        with db.session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()
