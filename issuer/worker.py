"""The job worker: takes jobs from the database and runs them, one committed step at a time.

Runs as ``certvc worker`` (its own process, on any host sharing the database) or as a thread of
the issuer app (``JOB_WORKER_THREAD``). Each step is one transaction that also records the
job's progress and extends its lease, so a worker may die at any moment: the job's next worker
resumes at the first step not committed (see :mod:`issuer.services.jobs`).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from contexts.errors import CertvcError

from . import db
from .db.models import Job, JobKind, JobState
from .errors import AuditChainBroken
from .services import (
    audit_checkpoints,
    csv_import,
    cycle,
    jobs,
    lifecycle,
    mail_sender,
    staff_sessions,
)
from .services.issuing_context import IssuerContext
from .services.mail import MailSettings

log = logging.getLogger(__name__)


def worker_name() -> str:
    """``host:pid:random``: unique across hosts and restarts (a lease names its holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Worker:
    """Runs the jobs it can claim. ``context`` is called when a job first needs the keys."""

    writer: sessionmaker[Session]
    context: Callable[[], IssuerContext]
    name: str = field(default_factory=worker_name)
    lease: timedelta = jobs.LEASE
    clock: Callable[[], datetime] = _utc_now
    stopping: threading.Event = field(default_factory=threading.Event)
    #: The instance folder: when set, the audit chain gets a signed checkpoint at most once a
    #: minute when it grew (see :mod:`issuer.services.audit_checkpoints`).
    instance_folder: Path | None = None
    #: Run the certification cycle (reminders, surveillance due) this often; None: never.
    #: Every worker may: each reminder is sent once however many run it (services.cycle).
    cycle_every: timedelta | None = None
    #: The instance's public URL: the body's logo and the admin UI's cycle page in the
    #: cycle's messages.
    public_url: str | None = None
    #: Where the outbox's messages go (``CERTVC_SMTP_URL``); None: none is sent.
    mail: MailSettings | None = None
    _swept: datetime | None = field(default=None, repr=False)
    _cycled: datetime | None = field(default=None, repr=False)

    def run_pending(self) -> int:
        """Apply the renewals that have started, run every job there is to claim, one after
        the other, run the certification cycle when it is time, then send the outbox's due
        messages (the cycle's among them); how many jobs were taken."""
        self.supersede_due()
        self._housekeeping()
        taken = 0
        while not self.stopping.is_set():
            job_id = db.run_transaction(self.writer, self._claim)
            if job_id is None:
                break
            taken += 1
            self.run(job_id)
        if not self.stopping.is_set():
            self.run_cycle()
            self.send_mail()
        return taken

    def send_mail(self) -> int:
        """Send the outbox's due messages (:mod:`issuer.services.mail_sender`); how many."""
        if self.mail is None:
            return 0
        return mail_sender.send_due(
            self.writer,
            self.mail,
            worker=self.name,
            clock=self.clock,
            public_url=self.context().public_url,
        )

    def supersede_due(self) -> int:
        """Supersede the credentials whose renewal has started (see lifecycle.supersede_due)."""
        moment = self.clock()
        with self.writer() as session:
            if not lifecycle.supersession_due(session, moment):
                return 0
        return db.run_transaction(
            self.writer, lambda session: lifecycle.supersede_due(session, self.context(), moment)
        )

    def _housekeeping(self) -> None:
        """Forget expired staff sessions and old sign-in attempts, and sign a checkpoint of the
        audit chain when it grew, at most once a minute."""
        moment = self.clock()
        if self._swept is not None and moment - self._swept < timedelta(minutes=1):
            return
        self._swept = moment
        db.run_transaction(self.writer, lambda session: staff_sessions.purge(session, moment))
        folder = self.instance_folder
        if folder is None:
            return
        try:
            db.run_transaction(
                self.writer,
                lambda session: audit_checkpoints.checkpoint(
                    session, self.context().keyring, folder, now=moment
                ),
            )
        except AuditChainBroken as error:  # the jobs go on; the log says why none is signed
            log.error("audit checkpoint refused: %s", error.message)

    def run_cycle(self) -> cycle.CycleReport | None:
        """Run the certification cycle when :attr:`cycle_every` has passed since this worker
        last did; its report, or None when it was not time."""
        moment = self.clock()
        every = self.cycle_every
        if every is None or (self._cycled is not None and moment - self._cycled < every):
            return None
        self._cycled = moment
        report = cycle.run(
            lambda work: db.run_transaction(self.writer, work),
            moment,
            public_url=self.public_url,
        )
        if report.notes:
            log.info("certification cycle: %d new note(s)", len(report.notes))
        return report

    def run_forever(self, poll: float, wake: threading.Event | None = None) -> None:
        """Run jobs until :attr:`stopping` is set, looking for new ones every ``poll`` seconds
        (or as soon as ``wake`` is set)."""
        wake = wake or threading.Event()
        while not self.stopping.is_set():
            try:
                self.run_pending()
            except Exception:  # the database is down, say: try again at the next poll
                log.exception("job worker %s: looking for jobs failed", self.name)
            wake.wait(poll)
            wake.clear()

    def _claim(self, session: Session) -> int | None:
        job = jobs.claim(session, self.name, self.clock(), lease=self.lease)
        if job is None:
            return None
        log.info(
            "job %s (%s) taken by %s, attempt %d", job.id, job.kind.value, self.name, job.attempts
        )
        return job.id

    def run(self, job_id: int) -> None:
        """Run a job this worker has claimed, from its first uncommitted step."""
        with self.writer() as session:
            job = jobs.get(session, job_id)
            kind, payload, params, cursor = (
                job.kind,
                job.payload,
                json.loads(job.params),
                job.cursor,
            )
        try:
            if kind is not JobKind.CSV_IMPORT:  # pragma: no cover - every kind has its runner
                raise AssertionError(f"no runner for {kind}")
            if self._csv_import(job_id, payload, params, cursor):
                self._end(job_id, JobState.DONE, "")
            else:  # stopping: hand the job back at once rather than when the lease runs out
                self._end(job_id, JobState.QUEUED, "")
        except jobs.LeaseLost:
            log.warning("job %s: %s lost its lease (taken for dead); stopping", job_id, self.name)
        except CertvcError as error:  # the input itself is unusable: nothing to retry
            self._end(job_id, JobState.FAILED, error.message)
        except Exception:
            # Left running: the lease runs out and a worker retries it (MAX_ATTEMPTS in all).
            log.exception("job %s failed in %s; it will be retried", job_id, self.name)

    def _csv_import(self, job_id: int, text: str, params: dict[str, str], cursor: int) -> bool:
        """Import the chunks from ``cursor`` on; False when stopped before the end."""
        size = int(params.get("chunk", csv_import.CHUNK))
        chunks = csv_import.chunks(csv_import.parse(text), size)
        for chunk in islice(chunks, cursor, None):
            if self.stopping.is_set():
                return False
            step = functools.partial(self._import_step, job_id, chunk, params, self.clock())
            db.run_transaction(self.writer, step)
        return True

    def _import_step(
        self,
        job_id: int,
        chunk: list[csv_import.Row | csv_import.RowError],
        params: dict[str, str],
        moment: datetime,
        session: Session,
    ) -> None:
        job = jobs.hold(session, job_id, self.name, moment, lease=self.lease)
        certifies = any(isinstance(row, csv_import.Row) and row.scheme for row in chunk)
        report = csv_import.import_chunk(
            session,
            self.context() if certifies else None,
            chunk,
            source=job.title,
            reason=params["reason"],
            actor=job.actor,
            now=moment,
            job=f"{job_id}@{self.name}",
        )
        _advance(job, report)

    def _end(self, job_id: int, state: JobState, message: str) -> None:
        def work(session: Session) -> None:
            job = jobs.hold(session, job_id, self.name, self.clock(), lease=self.lease)
            if state is JobState.QUEUED:
                jobs.release(job)
            else:
                jobs.finish(job, state, self.clock(), message)

        try:
            db.run_transaction(self.writer, work)
        except jobs.LeaseLost:
            log.warning("job %s: %s lost its lease before it ended", job_id, self.name)


def _advance(job: Job, report: csv_import.ImportReport) -> None:
    """Record one committed chunk in the job (same transaction as the chunk)."""
    job.cursor += 1
    job.processed += report.rows
    job.imported += report.rows - len(report.errors) - len(report.present)
    job.present += len(report.present)
    if report.errors:
        refused = json.loads(job.report) + [error.to_json() for error in report.errors]
        job.report = json.dumps(refused, ensure_ascii=False)
