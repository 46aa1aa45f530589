"""Durable jobs (issue 15): background imports survive the process that runs them.

A worker killed mid-job is found out by its lease and the job resumed where it got to, with
exactly one certification per row; a job whose workers keep dying ends failed with the exact
row count, never "running" for ever; two worker processes on PostgreSQL never run the same job.
Workers here are real ``certvc worker`` processes, killed with SIGKILL.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from issuer import db
from issuer.db.models import Action, AuditEvent, Certification, Job, JobKind, JobState, Person
from issuer.services import audit, jobs

from .conftest import Env
from .support import BACKENDS, NOW, PG_ONLY_REASON

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Leases and row locks are what is tested: every backend."""
    return request.param


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    environment = Env(tmp_path / "instance", database_url)
    yield environment
    environment.engine.dispose()


def _csv(rows: int, prefix: str = "J") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", "reference", "scheme", "scope"])
    for n in range(rows):
        writer.writerow([f"Zoë Ångström {n}", f"{prefix}-{n:05d}", "CWI-2", f"group {n % 9}"])
    return out.getvalue()


def _enqueue(env: Env, rows: int, *, chunk: int, prefix: str = "J") -> int:
    return env.write(
        lambda s: (
            jobs.enqueue(
                s,
                kind=JobKind.CSV_IMPORT,
                actor="user:officer",
                title=f"{prefix}.csv",
                payload=_csv(rows, prefix),
                params={"reason": "exam session", "chunk": chunk},
                total=rows,
                now=NOW,
            ).id
        )
    )


def _job(env: Env, job_id: int) -> Job:
    """The job as a reader sees it (on SQLite a reader never waits for the worker's writes)."""
    engine = db.make_engine(env.url, immediate=False)
    try:
        with db.session_factory(engine)() as session:
            return jobs.get(session, job_id)
    finally:
        engine.dispose()


def test_a_lease_keeps_a_job_to_one_worker_until_it_runs_out(env) -> None:
    job_id = _enqueue(env, 3, chunk=1)
    lease = timedelta(seconds=30)
    first = env.write(lambda s: jobs.claim(s, "a", NOW, lease=lease).id)
    assert first == job_id
    assert env.write(lambda s: jobs.claim(s, "b", NOW + timedelta(seconds=29), lease=lease)) is None
    # "a" is silent past its lease: "b" takes the job over, and "a" may no longer commit for it.
    later = NOW + timedelta(seconds=31)
    taken = env.write(lambda s: jobs.claim(s, "b", later, lease=lease).lease_owner)
    assert taken == "b"
    with pytest.raises(jobs.LeaseLost):
        env.write(lambda s: jobs.hold(s, job_id, "a", later, lease=lease))
    held = env.write(lambda s: jobs.hold(s, job_id, "b", later, lease=lease).lease_until)
    assert held == later + lease
    assert _job(env, job_id).attempts == 2


def test_a_job_whose_workers_keep_dying_ends_failed_with_its_row_count(env) -> None:
    job_id = _enqueue(env, 3, chunk=1)
    lease = timedelta(seconds=10)
    moment = NOW
    for worker in ("a", "b", "c"):
        assert env.write(lambda s, w=worker, m=moment: jobs.claim(s, w, m, lease=lease)) is not None
        if worker == "a":  # the first one commits a row before dying
            env.write(
                lambda s, m=moment: setattr(
                    jobs.hold(s, job_id, "a", m, lease=lease), "processed", 1
                )
            )
        moment += timedelta(seconds=11)
    assert env.write(lambda s: jobs.claim(s, "d", moment, lease=lease)) is None
    job = _job(env, job_id)
    assert job.state is JobState.FAILED and job.attempts == jobs.MAX_ATTEMPTS
    assert "stopped 3 times" in job.message and "1 of 3 rows" in job.message
    assert job.lease_owner is None and job.finished_at == moment


def _environment(env: Env) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    environment["CERTVC_INSTANCE"] = str(env.folder)
    environment["CERTVC_DATABASE_URL"] = env.url
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    return environment


def _worker(env: Env, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "issuer", "worker", "--once", *args],
        env=_environment(env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _counts(env: Env) -> tuple[int, int]:
    with env.read() as session:
        persons = session.execute(select(func.count()).select_from(Person)).scalar_one()
        certs = session.execute(select(func.count()).select_from(Certification)).scalar_one()
    return persons, certs


def test_a_worker_killed_mid_job_is_resumed_by_the_next_with_one_of_everything(env) -> None:
    rows, chunk = 3000, 100
    job_id = _enqueue(env, rows, chunk=chunk)
    first = _worker(env, "--lease", "2")
    deadline = time.monotonic() + 120
    while _job(env, job_id).cursor < 2:
        assert first.poll() is None, first.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the first worker made no progress"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)  # reaps it and closes its pipes
    stopped = _job(env, job_id)
    assert stopped.state is JobState.RUNNING and 2 <= stopped.cursor < rows // chunk
    assert stopped.processed == stopped.cursor * chunk  # progress commits with its chunk
    time.sleep(2.2)  # the dead worker's lease runs out: it is taken for dead
    second = _worker(env, "--lease", "2")
    out, err = second.communicate(timeout=180)
    assert second.returncode == 0, err[-3000:]
    job = _job(env, job_id)
    assert job.state is JobState.DONE, job.message
    assert job.attempts == 2 and job.cursor == rows // chunk
    assert (job.processed, job.imported, job.present) == (rows, rows, 0)
    assert _counts(env) == (rows, rows)
    with env.read() as session:
        chunks = session.execute(
            select(AuditEvent.details).where(AuditEvent.action == Action.IMPORT)
        ).scalars()
        workers = Counter(json.loads(details)["job"].split("@", 1)[1] for details in chunks)
        assert len(workers) == 2 and sum(workers.values()) == rows // chunk
        assert audit.verify_chain(session).ok


@pytest.mark.skipif("postgresql" not in BACKENDS, reason=PG_ONLY_REASON)
def test_two_workers_on_postgresql_never_run_the_same_job(tmp_path: Path, pg_database) -> None:
    from .support import fresh_database

    with fresh_database("postgresql", tmp_path, pg_database) as url:
        env = Env(tmp_path / "instance", url)
        try:
            ids = [_enqueue(env, 300, chunk=50, prefix=f"W{n}") for n in range(8)]
            workers = [_worker(env), _worker(env)]
            for process in workers:
                out, err = process.communicate(timeout=300)
                assert process.returncode == 0, err[-3000:]
            with env.read() as session:
                done = session.execute(select(Job.state, Job.attempts).where(Job.id.in_(ids)))
                assert set(done) == {(JobState.DONE, 1)}
                runs: dict[str, Counter[str]] = {}
                for details in session.execute(
                    select(AuditEvent.details).where(AuditEvent.action == Action.IMPORT)
                ).scalars():
                    job, worker = json.loads(details)["job"].split("@", 1)
                    runs.setdefault(job, Counter())[worker] += 1
                assert audit.verify_chain(session).ok
            # Every job ran in one worker, each chunk once; and both workers had work.
            assert {job: list(count.values()) for job, count in runs.items()} == {
                str(job_id): [6] for job_id in ids
            }
            assert len({worker for count in runs.values() for worker in count}) == 2
            assert _counts(env) == (8 * 300, 8 * 300)
        finally:
            env.engine.dispose()
