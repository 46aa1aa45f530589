"""CSV imports started from the admin UI: queued as durable jobs, run by a worker.

The upload is stored with the job (``issuer.services.jobs``), so any worker can run it: this
process's worker thread (woken at once), another server process, or ``certvc worker`` on
another host. A server process that stops mid-import leaves the job to the next worker, which
resumes it at the first chunk not committed once its lease has run out.

With ``JOB_WORKER_THREAD`` on (the default) each server process runs one worker thread from its
first request on, so jobs left behind by a stopped process are resumed without a new upload.
With ``IMPORT_IN_BACKGROUND`` off the upload's request runs the job itself before answering.
"""

from __future__ import annotations

import atexit
import logging
import threading
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app

from ...db.models import JobKind
from ...services import csv_import, jobs
from ...worker import Worker
from ..extensions import database, issuer

log = logging.getLogger(__name__)

_KEY = "certvc.worker"


class _AppWorker:
    """The app's worker and its thread (started on demand, stopped at exit)."""

    def __init__(self, app: Flask) -> None:
        ctx = app.extensions["certvc.issuer"]
        self.worker = Worker(
            writer=app.extensions["certvc.db"].writer,
            context=lambda: ctx,
            lease=timedelta(seconds=float(app.config["JOB_LEASE_SECONDS"])),
            instance_folder=Path(app.config["INSTANCE"]),
            cycle_every=_every(app.config["CYCLE_INTERVAL_SECONDS"]),
            public_url=ctx.public_url,
            mail=app.extensions["certvc.mail"],
        )
        self.poll = float(app.config["JOB_POLL_SECONDS"])
        #: Keep looking for jobs (JOB_WORKER_THREAD), or end once none is left.
        self.persistent = bool(app.config["JOB_WORKER_THREAD"])
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self.registered = False

    def start(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name=f"certvc-jobs-{self.worker.name}", daemon=True
                )
                self.thread.start()
                if not self.registered:
                    atexit.register(self.stop)
                    self.registered = True
        self.wake.set()

    def _run(self) -> None:
        if self.persistent:
            self.worker.run_forever(self.poll, self.wake)
        else:
            self.worker.run_pending()

    def stop(self, timeout: float = 10.0) -> None:
        """Let the job in hand commit its chunk and hand the job back, then end the thread."""
        self.worker.stopping.set()
        self.wake.set()
        thread = self.thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)


def _every(seconds: object) -> timedelta | None:
    """``CYCLE_INTERVAL_SECONDS``: 0 turns the cycle off in this process."""
    value = float(str(seconds))
    return timedelta(seconds=value) if value > 0 else None


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = _AppWorker(app)
    if app.config["JOB_WORKER_THREAD"]:
        app.before_request(_start_once)


def _start_once() -> None:
    runner: _AppWorker = current_app.extensions[_KEY]
    if runner.thread is None:
        runner.start()


def start(text: str, *, source: str, reason: str, actor: str, now: datetime) -> int:
    """Queue the import and have it run: by the worker thread, or right here when
    IMPORT_IN_BACKGROUND is off. Returns the job's id (its page is /admin/import/<id>)."""
    total = csv_import.count_rows(text)
    job_id = database.write(
        lambda session: (
            jobs.enqueue(
                session,
                kind=JobKind.CSV_IMPORT,
                actor=actor,
                title=source,
                payload=text,
                params={"reason": reason, "chunk": csv_import.CHUNK},
                total=total,
                now=now,
            ).id
        )
    )
    runner: _AppWorker = current_app.extensions[_KEY]
    if current_app.config["IMPORT_IN_BACKGROUND"]:
        runner.start()
    else:
        issuer.context()  # the keys are open (the worker asks for them outside a request)
        runner.worker.run_pending()
    return job_id
