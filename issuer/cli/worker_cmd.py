"""``certvc worker``: run background jobs (admin CSV imports) and send the outbox's e-mail
(when ``CERTVC_SMTP_URL`` is set) in a process of their own, on any host that shares the
instance's database; ``certvc jobs``: what the jobs are doing."""

from __future__ import annotations

import logging
import os
import signal
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click
from sqlalchemy import select

from ..db.models import Job
from ..services import jobs
from ..worker import Worker
from .opened import (
    OpenedInstance,
    echo_result,
    instance_option,
    json_option,
    passphrase_option,
    reports_instance_errors,
)


@click.command("worker")
@instance_option
@passphrase_option
@click.option("--once", is_flag=True, help="Run the jobs there are now, then exit (cron, tests).")
@click.option(
    "--poll",
    type=click.FloatRange(0.1, 3600),
    default=5.0,
    show_default=True,
    help="Seconds between looks for new jobs.",
)
@click.option(
    "--lease",
    type=click.FloatRange(1, 86400),
    default=jobs.LEASE.total_seconds(),
    show_default=True,
    help="Seconds a job stays this worker's without a heartbeat (a chunk commits each).",
)
@click.option(
    "--cycle-every",
    type=click.FloatRange(0, 86400),
    default=600,
    show_default=True,
    help="Seconds between runs of the certification cycle (certvc cycle run); 0: never.",
)
@reports_instance_errors
def worker(
    instance_dir: Path,
    passphrase_file: Path | None,
    once: bool,
    poll: float,
    lease: float,
    cycle_every: float,
) -> None:
    """Run background jobs from the database until stopped (SIGTERM or Ctrl-C lets the job in
    hand commit its chunk and hands it back). Any number of workers may run, on any host."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        public_url = os.environ.get("CERTVC_PUBLIC_URL") or opened.settings.public_url
        runner = Worker(
            writer=opened.writer,
            context=opened.context,
            lease=timedelta(seconds=lease),
            instance_folder=opened.folder,
            cycle_every=timedelta(seconds=cycle_every) if cycle_every > 0 else None,
            public_url=public_url,
            mail=opened.mail(),
        )

        def stop(_signal: int, _frame: FrameType | None) -> None:
            runner.stopping.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        click.echo(f"certvc worker {runner.name}: looking for jobs", err=True)
        if once:
            runner.run_pending()
        else:
            runner.run_forever(poll)
        click.echo(f"certvc worker {runner.name}: stopped", err=True)


@click.command("jobs")
@instance_option
@click.argument("job_id", type=click.IntRange(1, 2**62), required=False)
@json_option
@reports_instance_errors
def jobs_command(instance_dir: Path, job_id: int | None, as_json: bool) -> None:
    """List the background jobs (newest first), or show JOB_ID with its refused rows."""
    with OpenedInstance.open(instance_dir) as opened, opened.writer() as session:
        if job_id is not None:
            data = jobs.job_json(jobs.get(session, job_id))
            refused = [f"  line {r['line']}: {r['error']}" for r in data["refused"]]
            echo_result(as_json, data, "\n".join([_line(data), *refused]))
            return
        rows = session.execute(select(Job).order_by(Job.id.desc()).limit(50)).scalars()
        listed = [jobs.job_json(job) for job in rows]
    for item in listed:
        item.pop("refused")
    echo_result(as_json, listed, "\n".join(_line(item) for item in listed) or "no jobs")


def _line(data: dict[str, object]) -> str:
    text = (
        f"{data['id']} {data['kind']} {data['state']}: {data['title']} "
        f"{data['processed']}/{data['total']} rows, {data['imported']} imported, "
        f"{data['alreadyPresent']} already present"
    )
    if data["message"]:
        text += f" ({data['message']})"
    return text
