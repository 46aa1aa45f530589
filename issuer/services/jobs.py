"""Background jobs kept in the database: they survive the process that runs them.

A job holds its input and how far it got (``cursor``: the steps committed). A worker *claims*
a job by taking its lease (``lease_owner``, ``lease_until``) and commits each step together
with the job's progress, after checking it still holds the lease (:func:`hold`), which it
extends as it goes (the heartbeat). So:

- a worker that dies mid-job stops extending its lease; once the lease has run out another
  worker claims the job and resumes at the next uncommitted step: nothing done twice, nothing
  skipped;
- a worker that was only slow and finds its lease taken stops (:class:`LeaseLost`) and its
  uncommitted step is rolled back;
- a job whose workers kept dying is marked failed with the rows done so far after
  :data:`MAX_ATTEMPTS` claims, never left "running" for ever.

Claiming locks the job row with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers in
several processes or on several hosts never take the same job; on SQLite every write
transaction is exclusive (``BEGIN IMMEDIATE``), which gives the same guarantee on one host.
A hand-written table rather than a task library: the job queues of the field (procrastinate,
pgqueuer) are PostgreSQL-only, and the embedded SQLite instance must keep working.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from contexts.errors import CertvcError

from ..db.models import Job, JobKind, JobState
from ..errors import Conflict, NotFound

#: How long a claim lasts without a heartbeat. A step (a chunk of 500 rows) takes about a
#: second; a worker silent for this long is taken for dead.
LEASE = timedelta(seconds=60)
#: Claims before a job whose workers kept stopping is marked failed.
MAX_ATTEMPTS = 3


class LeaseLost(CertvcError):
    """Another worker holds the job now (this one was taken for dead): stop, commit nothing."""

    code = Conflict.code


def enqueue(
    session: Session,
    *,
    kind: JobKind,
    actor: str,
    title: str,
    payload: str,
    params: Mapping[str, Any],
    total: int,
    now: datetime,
) -> Job:
    job = Job(
        kind=kind,
        state=JobState.QUEUED,
        actor=actor,
        title=title[:300],
        payload=payload,
        params=json.dumps(dict(params), ensure_ascii=False),
        total=total,
        processed=0,
        imported=0,
        present=0,
        report="[]",
        cursor=0,
        attempts=0,
        message="",
        created_at=now,
    )
    session.add(job)
    session.flush()
    return job


def claim(session: Session, worker: str, now: datetime, *, lease: timedelta = LEASE) -> Job | None:
    """Take the oldest job that is queued or whose lease ran out; None when there is none.

    A job found with its lease run out after :data:`MAX_ATTEMPTS` claims is marked failed
    (and the next one looked at).
    """
    while True:
        job = session.execute(
            select(Job)
            .where(
                or_(
                    Job.state == JobState.QUEUED,
                    (Job.state == JobState.RUNNING) & (Job.lease_until < now),
                )
            )
            .order_by(Job.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).scalar_one_or_none()
        if job is None:
            return None
        if job.state is JobState.RUNNING and job.attempts >= MAX_ATTEMPTS:
            finish(
                job,
                JobState.FAILED,
                now,
                f"its worker stopped {job.attempts} times; {job.processed} of {job.total} "
                "rows were done (kept) and the rest not; upload the file again to finish "
                "(rows done are reported as already present)",
            )
            session.flush()
            continue
        job.state = JobState.RUNNING
        job.attempts += 1
        job.lease_owner = worker
        job.lease_until = now + lease
        job.started_at = job.started_at or now
        session.flush()
        return job


def hold(
    session: Session, job_id: int, worker: str, now: datetime, *, lease: timedelta = LEASE
) -> Job:
    """The job, locked until the transaction ends, its lease extended (the heartbeat).

    :raises LeaseLost: another worker claimed it (this one's lease ran out), or it ended.
    """
    job = session.execute(
        select(Job)
        .where(Job.id == job_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if job is None:
        raise NotFound(f"no job {job_id}")
    if job.state is not JobState.RUNNING or job.lease_owner != worker:
        raise LeaseLost(f"job {job_id} is held by another worker now")
    job.lease_until = now + lease
    return job


def finish(job: Job, state: JobState, now: datetime, message: str = "") -> None:
    job.state = state
    job.finished_at = now
    job.lease_owner = None
    job.lease_until = None
    if message:
        job.message = message


def release(job: Job) -> None:
    """Hand a job back (its worker is stopping): queued again, resumed where it got to."""
    job.state = JobState.QUEUED
    job.lease_owner = None
    job.lease_until = None


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind.value,
        "state": job.state.value,
        "title": job.title,
        "total": job.total,
        "processed": job.processed,
        "imported": job.imported,
        "alreadyPresent": job.present,
        "refused": json.loads(job.report),
        "attempts": job.attempts,
        "message": job.message,
    }
