"""``certvc surveillance record|list``: surveillance activities on certifications (ISO/IEC
17024 §9.6), with their attachments, audited (:mod:`issuer.services.surveillance`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from ..db.models import SurveillanceKind, SurveillanceOutcome
from ..errors import FieldError
from ..services import catalog
from ..services import surveillance as service
from .common import now
from .opened import (
    OpenedInstance,
    cli_actor,
    echo_result,
    instance_option,
    json_option,
    reports_instance_errors,
)


@click.group("surveillance")
def surveillance() -> None:
    """Surveillance of certified persons: record an activity, list a certification's."""


def max_attachment_bytes() -> int:
    """``CERTVC_SURVEILLANCE_MAX_ATTACHMENT_BYTES`` (default 5 MiB), as the web app reads it.

    :raises FieldError: not a positive whole number.
    """
    raw = os.environ.get("CERTVC_SURVEILLANCE_MAX_ATTACHMENT_BYTES", "")
    if not raw:
        return service.DEFAULT_MAX_ATTACHMENT_BYTES
    if not raw.isdigit() or int(raw) < 1:
        raise FieldError("CERTVC_SURVEILLANCE_MAX_ATTACHMENT_BYTES", "must be a number of bytes")
    return int(raw)


def _uploads(paths: tuple[Path, ...], limit: int) -> list[service.Upload]:
    uploads = []
    for path in paths:
        with path.open("rb") as handle:
            uploads.append(service.Upload(path.name, handle.read(limit + 1)))
    return uploads


def _text(data: dict[str, Any]) -> str:
    status = data["status"]
    due = {
        "not-required": "no surveillance in this scheme",
        "closed": "no surveillance (withdrawn or expired)",
        "recertification": f"recertification before {status['due']} instead",
    }.get(status["state"], f"next surveillance {status['state']}: {status['due']}")
    lines = [f"{data['certification']}: {due}"]
    for record in data["records"]:
        files = ", ".join(a["filename"] for a in record["attachments"])
        lines.append(
            f"  {record['date']} {record['kind']}: {record['outcome']}"
            f"{' (' + files + ')' if files else ''} — {record['recordedBy']}"
        )
        if record["notes"]:
            lines.append(f"    {record['notes']}")
    return "\n".join(lines)


@surveillance.command("record")
@instance_option
@click.argument("number")
@click.option("--date", "day", required=True, help="When it took place: YYYY-MM-DD.")
@click.option(
    "--kind", required=True, type=click.Choice([k.value for k in SurveillanceKind]), help="What."
)
@click.option(
    "--outcome",
    required=True,
    type=click.Choice([o.value for o in SurveillanceOutcome]),
    help="What staff concluded.",
)
@click.option("--notes", default="", help="What was checked and found.")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A PDF, PNG, JPEG or text file to keep with it (repeatable).",
)
@click.option("--reason", default=None, help="Recorded in the audit log (default: the record).")
@json_option
@reports_instance_errors
def record(
    instance_dir: Path,
    number: str,
    day: str,
    kind: str,
    outcome: str,
    notes: str,
    attachments: tuple[Path, ...],
    reason: str | None,
    as_json: bool,
) -> None:
    """Record a surveillance activity on certification NUMBER. An outcome other than
    satisfactory changes nothing by itself: decide with suspend, withdraw or reduce-scope."""
    activity = service.parse_activity(
        {"date": day, "kind": kind, "outcome": outcome, "notes": notes}
    )
    limit = max_attachment_bytes()
    uploads = _uploads(attachments, limit)
    moment = now()

    def work(session: Any) -> dict[str, Any]:
        saved = service.record_surveillance(
            session,
            number,
            activity,
            uploads,
            max_bytes=limit,
            reason=reason,
            actor=cli_actor(),
            now=moment,
        )
        cert = catalog.get_certification(session, number)
        return {
            "record": service.record_json(saved),
            "followUps": [a.value for a in service.follow_ups(saved, cert, moment)],
            **service.surveillance_json(cert, service.records_of(session, cert), moment),
        }

    with OpenedInstance.open(instance_dir) as opened:
        data = opened.write(work)
    text = _text(data)
    if data["followUps"]:
        text += (
            f"\noutcome {data['record']['outcome']}: nothing was changed; decide with certvc "
            + " | ".join(data["followUps"])
            + f" {data['certification']} --reason ..."
        )
    echo_result(as_json, data, text)


@surveillance.command("list")
@instance_option
@click.argument("number")
@json_option
@reports_instance_errors
def list_(instance_dir: Path, number: str, as_json: bool) -> None:
    """The surveillance records of certification NUMBER and its next due date."""
    moment = now()
    with OpenedInstance.open(instance_dir) as opened, opened.writer() as session:
        cert = catalog.get_certification(session, number)
        data = service.surveillance_json(cert, service.records_of(session, cert), moment)
    echo_result(as_json, data, _text(data))
