"""``certvc schemes list|show|create|update|retire``: the certification schemes a body runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..db.models import AchievementType, SecuringSuite
from ..services import catalog, scheme_admin
from .common import now
from .opened import (
    OpenedInstance,
    cli_actor,
    echo_result,
    instance_option,
    json_option,
    reason_option,
    reports_instance_errors,
)


@click.group("schemes")
def schemes() -> None:
    """Certification schemes: what a body certifies, for how long, under which standard."""


def _line(data: dict[str, Any]) -> str:
    retired = f" (retired {data['retired'][:10]})" if data["retired"] else ""
    period = f"{data['validityDays']} days"
    return f"{data['code']:12} {data['name']} — {data['standard']}, {period}{retired}"


def _text(data: dict[str, Any]) -> str:
    rows = [
        ("code", data["code"]),
        ("name", data["name"]),
        ("description", data["description"]),
        ("criteria", data["criteria"]),
        ("standard", " ".join(p for p in (data["standard"], data["standardUrl"] or "") if p)),
        ("validity", f"{data['validityDays']} days"),
        (
            "surveillance",
            f"every {data['surveillanceMonths']} months" if data["surveillanceMonths"] else None,
        ),
        (
            "reminders",
            ", ".join(f"{d} days" for d in data["reminderDays"]) + " before expiry"
            if data["reminderDays"]
            else "none",
        ),
        ("recertification", data["recertification"]),
        ("achievement type", data["achievementType"]),
        ("suite", data["suite"]),
        ("retired", data["retired"]),
    ]
    return "\n".join(f"{label:17} {value}" for label, value in rows if value)


@schemes.command("list")
@instance_option
@json_option
@reports_instance_errors
def list_(instance_dir: Path, as_json: bool) -> None:
    """List the schemes (retired ones marked)."""
    with OpenedInstance.open(instance_dir) as opened, opened.writer() as session:
        rows = [catalog.scheme_json(s) for s in catalog.list_schemes(session)]
    echo_result(as_json, {"schemes": rows}, "\n".join(_line(r) for r in rows) or "no schemes")


@schemes.command("show")
@instance_option
@click.argument("code")
@json_option
@reports_instance_errors
def show(instance_dir: Path, code: str, as_json: bool) -> None:
    """Show one scheme."""
    with OpenedInstance.open(instance_dir) as opened, opened.writer() as session:
        data = catalog.scheme_json(catalog.get_scheme(session, code))
    echo_result(as_json, data, _text(data))


_FIELDS = (
    ("name", "name", str, "Name shown on credentials."),
    ("description", "description", str, "What the scheme certifies."),
    ("criteria", "criteria", str, "Requirements for certification (the criteria narrative)."),
    ("standard", "standard", str, "The standard it follows (e.g. ISO 9712:2021)."),
    ("standard_url", "standardUrl", str, "A link to the standard."),
    ("validity_days", "validityDays", int, "Certification period in days."),
    ("surveillance_months", "surveillanceMonths", int, "Surveillance interval in months."),
    (
        "reminder_days",
        "reminderDays",
        str,
        "Days before expiry the person is reminded, e.g. 90,30,7 ('' for none; default 90,30,7).",
    ),
    ("recertification", "recertification", str, "What recertification requires."),
    (
        "achievement_type",
        "achievementType",
        click.Choice([t.value for t in AchievementType]),
        "Open Badges achievement type (default Certification).",
    ),
    (
        "suite",
        "suite",
        click.Choice(sorted(s.value for s in SecuringSuite)),
        "How its credentials are secured (default eddsa-rdfc-2022).",
    ),
)


def _with_fields(command: Any) -> Any:
    for option, _field, kind, help_text in reversed(_FIELDS):
        command = click.option(f"--{option.replace('_', '-')}", option, type=kind, help=help_text)(
            command
        )
    return command


def _data(values: dict[str, Any]) -> dict[str, Any]:
    return {
        field: values[option] for option, field, _k, _h in _FIELDS if values.get(option) is not None
    }


@schemes.command("create")
@instance_option
@click.option("--code", required=True, help="Short code, never changed (e.g. CWI-2).")
@_with_fields
@reason_option
@json_option
@reports_instance_errors
def create(instance_dir: Path, code: str, reason: str, as_json: bool, **values: Any) -> None:
    """Define a scheme (--name, --criteria, --standard and --validity-days are required)."""
    data = {"code": code, **_data(values), "reason": reason}
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        result = opened.write(
            lambda session: catalog.scheme_json(
                catalog.create_scheme(session, data, actor=cli_actor(), now=moment)
            )
        )
    echo_result(as_json, result, _text(result))


@schemes.command("update")
@instance_option
@click.argument("code")
@_with_fields
@reason_option
@json_option
@reports_instance_errors
def update(instance_dir: Path, code: str, reason: str, as_json: bool, **values: Any) -> None:
    """Change a scheme: new credentials carry the change; those issued keep what they say."""
    data = _data(values)
    moment = now()

    def work(session: Any) -> dict[str, Any]:
        scheme, changed = scheme_admin.update_scheme(
            session, code, data, reason=reason, actor=cli_actor(), now=moment
        )
        return {"scheme": catalog.scheme_json(scheme), "changed": sorted(changed)}

    with OpenedInstance.open(instance_dir) as opened:
        result = opened.write(work)
    text = "changed: " + (", ".join(result["changed"]) or "nothing (the same values)")
    echo_result(as_json, result, f"{_text(result['scheme'])}\n{text}")


@schemes.command("retire")
@instance_option
@click.argument("code")
@reason_option
@json_option
@reports_instance_errors
def retire(instance_dir: Path, code: str, reason: str, as_json: bool) -> None:
    """Retire a scheme: it certifies nobody new; its certifications run their course."""
    moment = now()
    with OpenedInstance.open(instance_dir) as opened:
        result = opened.write(
            lambda session: catalog.scheme_json(
                scheme_admin.retire_scheme(
                    session, code, reason=reason, actor=cli_actor(), now=moment
                )
            )
        )
    echo_result(as_json, result, _text(result))
