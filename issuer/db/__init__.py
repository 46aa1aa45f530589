"""Database plumbing: the declarative base, engines, and the transaction runner adapters use.

SQLite (embedded, in the instance folder) and PostgreSQL (psycopg 3) are both first-class.
On SQLite every transaction starts with ``BEGIN IMMEDIATE`` so two writers never both read a
status list and then collide on the upgrade to a write lock (SQLITE_BUSY_SNAPSHOT); on
PostgreSQL the services lock rows with ``SELECT ... FOR UPDATE`` instead.

A process forked after using an engine (a worker pool, a pre-loading server) starts with the
engine's pool emptied: it opens its own connections and never touches its parent's.
"""

from __future__ import annotations

import logging
import os
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import DateTime, MetaData, Table, create_engine, event, insert
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from ..errors import Conflict

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Constraint names are part of the schema the migrations must reproduce exactly.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DATABASE_FILE = "certvc.db"

# Every engine of this process, so a forked child can let go of their pooled connections.
_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()


def _forget_pools_in_child() -> None:
    """After fork, in the child: empty every pool without closing (SQLAlchemy's recipe for
    os.fork). A pooled connection belongs to the parent: SQLite forbids using a connection
    opened before fork() in the child (its locks and page cache are per process), and a
    PostgreSQL socket used by two processes mixes their messages. ``close=False`` because
    closing would act on the parent's connections too (a PostgreSQL terminate message)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_pools_in_child)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (stored naive UTC: SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError("naive datetime: the issuer stores aware UTC datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def sqlite_url(instance: Path) -> str:
    return f"sqlite:///{Path(instance).resolve() / DATABASE_FILE}"


def make_engine(url: str, *, immediate: bool = True, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL, a busy timeout and, for writers,
    BEGIN IMMEDIATE (``immediate=False`` gives a reader engine whose transactions never take
    the write lock)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
        _ENGINES.add(engine)
        return engine
    kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
    engine = create_engine(url, **kwargs)
    _ENGINES.add(engine)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if parsed.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


#: Bound parameters per ``IN (...)`` query: well under SQLite's and PostgreSQL's limits.
IN_BATCH = 900


def in_batches(values: Sequence[T]) -> list[Sequence[T]]:
    """``values`` in slices an ``IN (...)`` query can take one at a time."""
    return [values[start : start + IN_BATCH] for start in range(0, len(values), IN_BATCH)]


def insert_keyed(
    session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert ``rows`` and return their ids in order, matched by the unique column ``key``.

    RETURNING in parameter order makes SQLAlchemy insert row by row on SQLite (no sentinel it
    trusts); unordered RETURNING is one statement per batch, and a unique column tells which id
    is whose.
    """
    returned = session.execute(_insert_returning(table, key, "id"), rows)
    ids = {value: pk for value, pk in returned}
    return [ids[row[key]] for row in rows]


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` in as few statements as the driver allows, one compiled statement for
    any number of rows (SQLAlchemy's "insertmanyvalues": multi-row INSERTs of up to 1,000 rows,
    so a refused row fails one statement, not psycopg's executemany pipeline, which logs an
    "error ignored terminating pipeline" for every such retry). A statement built with
    ``.values(rows)`` would be compiled anew for every batch: a tenth of an HTTP issuance.
    """
    if rows:
        session.execute(_insert_returning(table, *(c.name for c in table.primary_key)), rows)


#: The INSERT ... RETURNING statements of :func:`insert_keyed` and :func:`insert_rows`, by
#: table and returned columns, built once (every issuance runs them; building one is not free).
_INSERTS: dict[tuple[str, ...], Any] = {}


def _insert_returning(table: Table, *columns: str) -> Any:
    statement = _INSERTS.get((table.name, *columns))
    if statement is None:
        statement = insert(table).returning(*(table.c[name] for name in columns))
        _INSERTS[(table.name, *columns)] = statement
    return statement


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# PostgreSQL deadlock_detected, serialization_failure; SQLite "database is locked".
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})


def _retryable(error: DBAPIError) -> bool:
    sqlstate = getattr(error.orig, "sqlstate", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(error, OperationalError) and "database is locked" in str(error.orig)


#: ``session.info`` key: the attempt (1, 2, ...) of :func:`run_transaction` running the session's
#: work. A service seeing it may leave a lost race to a whole retry instead of a savepoint.
ATTEMPT = "certvc.attempt"


class LostRace(Exception):
    """Raised inside :func:`run_transaction`'s work: a concurrent writer took what the work
    drew without asking (a random index, a number); run the whole transaction again."""


def attempt_of(session: Session) -> int | None:
    """The :func:`run_transaction` attempt this session runs in; None outside it."""
    value = session.info.get(ATTEMPT)
    return value if isinstance(value, int) else None


@contextmanager
def raced(session: Session) -> Iterator[None]:
    """A block whose inserts a concurrent writer may beat to a unique value (a drawn number or
    index, a new reference). On the first attempt of :func:`run_transaction` it runs without a
    savepoint (two round trips saved) and a refused insert raises :class:`LostRace`: the whole
    transaction runs again. Otherwise it runs in a savepoint, and the ``IntegrityError`` is the
    caller's to retry (the savepoint rolled back, the rest of the transaction kept).
    """
    if attempt_of(session) == 1:
        try:
            yield
        except IntegrityError as error:
            raise LostRace from error
    else:
        with session.begin_nested():
            yield


def run_transaction(
    factory: Callable[[], Session], work: Callable[[Session], T], *, attempts: int = 5
) -> T:
    """Run ``work`` in one transaction and commit; retry the whole of it on a lost race.

    This is the adapters' one way to write: a service never commits, so either everything an
    action wrote (record, status allocation, audit event) is committed, or nothing is.

    :raises Conflict: the database kept refusing for concurrency reasons.
    """
    for attempt in range(1, attempts + 1):
        with factory() as session:
            session.info[ATTEMPT] = attempt
            try:
                with session.begin():
                    return work(session)
            except LostRace as race:
                if attempt == attempts:
                    raise Conflict("concurrent writers kept taking the same values") from race
                log.info("transaction lost a race (attempt %d), retrying", attempt)
                continue
            except DBAPIError as error:
                if not _retryable(error) or attempt == attempts:
                    if _retryable(error):
                        raise Conflict("the database is busy; try again") from error
                    raise
                log.info("transaction lost a race (attempt %d), retrying", attempt)
                time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
