"""CSV imports started from the admin UI, run in a background thread, polled for progress.

Progress lives in the ``import_jobs`` row, so any worker can show it; the thread commits one
chunk (and its progress) per transaction, which is also what lets the page see it move.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app

from contexts.errors import CertvcError

from ... import db
from ...db.models import ImportJob, JobState
from ...services import csv_import
from ..extensions import database, issuer

log = logging.getLogger(__name__)


def start(text: str, *, source: str, reason: str, actor: str, now: datetime) -> int:
    """Record the job and run it (in a thread unless IMPORT_IN_BACKGROUND is off)."""
    total = max(0, sum(1 for line in text.splitlines() if line.strip()) - 1)

    def create(session: Any) -> int:
        job = ImportJob(
            actor=actor,
            filename=source[:300],
            state=JobState.RUNNING,
            total=total,
            processed=0,
            imported=0,
            report="[]",
            created_at=now,
        )
        session.add(job)
        session.flush()
        return job.id

    job_id = database.write(create)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    args = (app, job_id, text, source, reason, actor)
    if app.config["IMPORT_IN_BACKGROUND"]:
        threading.Thread(target=_run, args=args, name=f"import-{job_id}", daemon=True).start()
    else:
        _run(*args)
    return job_id


def _run(app: Flask, job_id: int, text: str, source: str, reason: str, actor: str) -> None:
    with app.app_context():
        ctx = issuer.context()
        writer = database.writer()
        try:
            for chunk in csv_import.chunks(csv_import.parse(text)):

                def work(session: Any, chunk: list[Any] = chunk) -> csv_import.ImportReport:
                    moment = datetime.now(UTC)
                    report = csv_import.import_chunk(
                        session, ctx, chunk, source=source, reason=reason, actor=actor, now=moment
                    )
                    job = session.get(ImportJob, job_id)
                    job.processed += report.rows
                    job.imported += report.rows - len(report.errors) - len(report.present)
                    refused = [error.to_json() for error in report.errors]
                    job.report = json.dumps(json.loads(job.report) + refused)
                    return report

                db.run_transaction(writer, work)
            _finish(writer, job_id, JobState.DONE, None)
        except CertvcError as error:
            _finish(writer, job_id, JobState.FAILED, error.message)
        except Exception:
            log.exception("import job %s failed", job_id)
            _finish(writer, job_id, JobState.FAILED, "internal error (logged)")


def _finish(writer: Any, job_id: int, state: JobState, message: str | None) -> None:
    def work(session: Any) -> None:
        job = session.get(ImportJob, job_id)
        job.state = state
        job.finished_at = datetime.now(UTC)
        if message:
            report = json.loads(job.report)
            report.insert(0, {"line": 0, "error": message})
            job.report = json.dumps(report)

    db.run_transaction(writer, work)
