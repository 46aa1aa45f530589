"""Probes for load balancers and orchestrators: ``GET /healthz`` and ``GET /readyz``.

``/healthz`` answers 200 while the process serves requests; it touches nothing else, so a
database outage never gets a healthy node restarted. ``/readyz`` answers 200 only when this
node can do its work now: the database answers (on a connection of its own, opened for the
probe, so a pool of dead connections cannot hide an outage or a recovery), its schema is at
the revision this code expects, and the keys sign (a probe signature, checked with the public
key). Otherwise 503 with the first failure's stable code (``database_unavailable``,
``instance_not_ready`` for a schema behind or ahead, or the key store's own code) and a
message. Each probe is bounded by ``READY_TIMEOUT_SECONDS``: a database that does not answer
in time is unready, however long its connection attempt goes on in the background.
"""

from __future__ import annotations

import concurrent.futures
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Blueprint, Flask, Response, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from contexts.errors import CertvcError, Code, ErrorCode

from .. import db
from ..db import migrate
from ..errors import IssuerCode
from ..services import operations
from .extensions import issuer

T = TypeVar("T")

bp = Blueprint("health", __name__)

EXTENSION = "certvc.health"
OK = "ok"
SKIPPED = "skipped"


class Unready(Exception):
    """One failed readiness check: its stable code and what to tell the operator."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Prober:
    """The database probe of one process: its own engine (no pool: every probe connects, so an
    outage and a recovery both show on the next probe) and a small thread pool that bounds a
    probe's time whatever the driver does."""

    engine: Engine
    timeout: float
    head: str
    _pool: concurrent.futures.ThreadPoolExecutor | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _executor(self) -> concurrent.futures.ThreadPoolExecutor:
        # Made on first use: threads do not survive a fork (gunicorn's workers are forked).
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    max_workers=4, thread_name_prefix="certvc-readyz"
                )
            return self._pool

    def database(self) -> str | None:
        """The schema revision, read within the timeout.

        :raises Unready: the database cannot be reached in time.
        """
        return self.run(operations.schema_revision)

    def run(self, read: Callable[[Session], T]) -> T:
        """``read`` in a read-only transaction of its own, within the timeout.

        :raises Unready: the database cannot be reached in time (``read`` may go on in the
            background until the connection attempt gives up).
        """
        future = self._executor().submit(self._read, read)
        try:
            return future.result(timeout=self.timeout)
        except concurrent.futures.TimeoutError as error:
            raise Unready(
                IssuerCode.DATABASE_UNAVAILABLE,
                f"the database did not answer within {self.timeout:g} s",
            ) from error
        except SQLAlchemyError as error:
            raise Unready(
                IssuerCode.DATABASE_UNAVAILABLE,
                f"the database cannot be reached ({type(error).__name__})",
            ) from error

    def _read(self, read: Callable[[Session], T]) -> T:
        with Session(self.engine) as session, session.begin():
            if self.engine.dialect.name == "postgresql":
                milliseconds = max(1, int(self.timeout * 1000))
                session.execute(text(f"SET LOCAL statement_timeout = {milliseconds}"))
            return read(session)


def _probe_engine(app: Flask, timeout: float) -> Engine:
    state = app.extensions["certvc.db"]
    if state.engine.dialect.name == "sqlite":
        return state.reader.kw["bind"]  # a local file: the reader engine is as good a probe
    url = state.engine.url.render_as_string(hide_password=False)
    return db.make_engine(
        url,
        poolclass=NullPool,
        pool_pre_ping=False,
        connect_args={"connect_timeout": max(2, math.ceil(timeout))},  # libpq's least is 2
    )


def init_health(app: Flask) -> None:
    """Register the probes (after the database and the issuer extensions)."""
    timeout = float(app.config["READY_TIMEOUT_SECONDS"])
    app.extensions[EXTENSION] = _Prober(
        _probe_engine(app, timeout), timeout, migrate.head_revision()
    )
    app.register_blueprint(bp)


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and serving (nothing else is looked at)."""
    return _no_store(jsonify({"status": "ok"}))


@bp.get("/readyz")
def readyz() -> Response:
    """200 when the database, its schema and the keys are all usable; else 503 and why."""
    prober: _Prober = current_app.extensions[EXTENSION]
    checks: dict[str, str] = {"database": SKIPPED, "migrations": SKIPPED, "keys": SKIPPED}
    failure: Unready | None = None
    try:
        revision = prober.database()
        checks["database"] = OK
        if revision != prober.head:
            raise Unready(
                IssuerCode.INSTANCE_NOT_READY,
                f"the database is at revision {revision or 'none'}, this code expects "
                f"{prober.head}: run certvc init (it migrates)",
            )
        checks["migrations"] = OK
    except Unready as error:
        checks["database" if checks["database"] != OK else "migrations"] = error.code
        failure = error
    try:
        operations.check_keys(issuer.context().keyring)
        checks["keys"] = OK
    except CertvcError as error:
        checks["keys"] = str(error.code)
        failure = failure or Unready(error.code, f"the keys are not usable: {error.message}")
    except Exception as error:  # noqa: BLE001 - an HSM or key file failing any way is unready
        checks["keys"] = str(ErrorCode.INTERNAL_ERROR)
        failure = failure or Unready(
            ErrorCode.INTERNAL_ERROR, f"the keys are not usable ({type(error).__name__})"
        )
    body: dict[str, Any] = {"status": "ready" if failure is None else "unready", "checks": checks}
    if failure is not None:
        body["reason"] = str(failure.code)
        body["message"] = failure.message
    response = jsonify(body)
    response.status_code = 200 if failure is None else 503
    return _no_store(response)
