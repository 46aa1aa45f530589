"""A process forked after an engine was used never uses its parent's pooled connections
(SQLite forbids carrying a connection across fork()): its pool starts empty, it opens its own,
and the parent's connection still works afterwards."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import QueuePool

from issuer import db


def test_a_forked_child_opens_its_own_connections(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'fork.db'}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (who TEXT)"))
            connection.execute(text("INSERT INTO t VALUES ('parent')"))
        assert isinstance(engine.pool, QueuePool)
        assert engine.pool.checkedin() == 1  # the parent's connection, pooled
        child = os.fork()
        if child == 0:  # pragma: no cover - the child reports through its exit status
            status = 1
            try:
                pool = engine.pool
                if isinstance(pool, QueuePool) and pool.checkedin() == 0:
                    with engine.begin() as connection:
                        connection.execute(text("INSERT INTO t VALUES ('child')"))
                    status = 0
            finally:
                os._exit(status)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "the child saw its parent's pool"
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT who FROM t ORDER BY rowid")).scalars().all()
        assert rows == ["parent", "child"]
    finally:
        engine.dispose()
