"""``certvc cycle run``: the certification cycle, from cron or by hand.

Reminds certified persons before expiry (by e-mail, through the outbox), notes surveillance
due and overdue for staff, and lists what needs a decision (:mod:`issuer.services.cycle`).
Safe to run every few minutes and from several hosts at once: each reminder is sent once.
``--dry-run`` says what a run would do and changes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..services import cycle as cycle_service
from .common import now
from .opened import (
    OpenedInstance,
    echo_result,
    instance_option,
    json_option,
    reports_instance_errors,
)
from .reading import read_session


@click.group("cycle")
def cycle() -> None:
    """The certification cycle: reminders before expiry, surveillance due and overdue."""


def _text(data: dict[str, Any]) -> str:
    verb = "would note" if data["dryRun"] else "noted"
    counts = data["counts"]
    lines = [
        f"certification cycle at {data['at']}: {verb} {len(data['reminders'])} expiry "
        f"reminder(s), {len(data['surveillanceDue'])} surveillance due, "
        f"{len(data['surveillanceOverdue'])} overdue",
    ]
    if not data["dryRun"]:
        emails = data["emails"]
        lines.append(f"e-mails queued: {emails['persons']} to persons, {emails['staff']} to staff")
    for key in ("reminders", "surveillanceDue", "surveillanceOverdue"):
        for note in data[key]:
            when = f"{note['threshold']} days" if note["threshold"] else "passed"
            lines.append(
                f"  {note['certification']} {note['kind']} {note['date']}"
                f" ({when}){', person e-mailed' if note['emailed'] else ''}"
            )
    lines.append(
        f"expiring soon {counts['expiringSoon']}, surveillance due {counts['surveillanceDue']}, "
        f"overdue {counts['surveillanceOverdue']}, needing a decision {counts['needsDecision']}"
    )
    for item in data["needsDecision"]:
        why = "; ".join(
            f"{r['code']} {r.get('due') or r.get('date') or ''}".strip() for r in item["reasons"]
        )
        lines.append(f"  decide: {item['certification']} {item['person']} ({why})")
    return "\n".join(lines)


@cycle.command("run")
@instance_option
@click.option("--dry-run", is_flag=True, help="Say what a run would do; change and send nothing.")
@json_option
@reports_instance_errors
def run(instance_dir: Path, dry_run: bool, as_json: bool) -> None:
    """Send the reminders due now, note surveillance due and overdue, list what needs a
    decision (for cron: every few minutes, from any number of hosts)."""
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        if dry_run:
            with read_session(opened) as session:
                report = cycle_service.plan(session, moment)
        else:
            public_url = os.environ.get("CERTVC_PUBLIC_URL") or opened.settings.public_url
            report = cycle_service.run(opened.write, moment, public_url=public_url)
    data = report.to_json()
    echo_result(as_json, data, _text(data))
