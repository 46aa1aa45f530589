"""Changing and retiring certification schemes (ISO/IEC 17024 §8: the body maintains its schemes).

A change affects credentials issued from then on: those already issued are signed and keep
what they say. A retired scheme issues nothing new (no certification, no renewal) and keeps
its certifications: they can still be suspended, reinstated, withdrawn or reduced in scope,
and they expire on their date. Each change is audited with the fields it changed (old, new).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db.models import AchievementType, Action, Scheme, SecuringSuite
from ..errors import FieldError, TransitionNotAllowed
from . import audit, catalog, fields

#: Field (JSON name) -> column, for ``PATCH /api/v1/schemes/<code>`` and ``schemes update``.
EDITABLE = {
    "name": "name",
    "description": "description",
    "criteria": "criteria",
    "standard": "standard_name",
    "standardUrl": "standard_url",
    "validityDays": "validity_days",
    "achievementType": "achievement_type",
    "suite": "suite",
    "surveillanceMonths": "surveillance_months",
    "reminderDays": "reminder_days",
    "recertification": "recertification",
}


def _values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Column values for the fields ``data`` names. :raises FieldError:"""
    unknown = sorted(set(data) - set(EDITABLE) - {"reason", "code"})
    if unknown:
        raise FieldError(unknown[0], f"unknown field; known: {', '.join(sorted(EDITABLE))}")
    if "code" in data:
        raise FieldError("code", "a scheme's code never changes (credentials name it)")
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = fields.required_text(data, "name")
    if "description" in data:
        values["description"] = (
            fields.text(data, "description", required=False, max_length=2000) or ""
        )
    if "criteria" in data:
        values["criteria"] = fields.required_text(data, "criteria", max_length=4000, multiline=True)
    if "standard" in data:
        values["standard_name"] = fields.required_text(data, "standard")
    if "standardUrl" in data:
        values["standard_url"] = fields.url(data, "standardUrl", required=False)
    if "validityDays" in data:
        values["validity_days"] = fields.integer(
            data, "validityDays", minimum=1, maximum=catalog.MAX_VALIDITY_DAYS
        )
    if "achievementType" in data:
        values["achievement_type"] = fields.choice(data, "achievementType", AchievementType)
    if "suite" in data:
        values["suite"] = fields.choice(data, "suite", SecuringSuite)
    values.update(catalog.scheme_cycle_values(data))
    return values


def update_scheme(
    session: Session,
    code: str,
    data: Mapping[str, Any],
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> tuple[Scheme, dict[str, list[Any]]]:
    """Change the fields ``data`` names; the scheme and what changed (old, new).

    :raises NotFound: no such scheme. :raises FieldError: a bad field (nothing changed).
    :raises ReasonRequired:
    """
    reason = audit.check_reason(reason)
    scheme = catalog.get_scheme(session, code)
    values = _values(data)
    if not values:
        raise FieldError("scheme", "give at least one field to change")
    changed = audit.record_changes(
        session,
        scheme,
        values,
        action=Action.SCHEME_UPDATE,
        subject=scheme.code,
        actor=actor,
        reason=reason,
        now=now,
    )
    return scheme, changed


def retire_scheme(session: Session, code: str, *, reason: str, actor: str, now: datetime) -> Scheme:
    """:raises NotFound: :raises TransitionNotAllowed: retired already."""
    reason = audit.check_reason(reason)
    scheme = catalog.get_scheme(session, code)
    if scheme.retired_at is not None:
        raise TransitionNotAllowed(
            f"scheme {code} was retired on {scheme.retired_at.date().isoformat()}"
        )
    scheme.retired_at = now
    scheme.updated_at = now
    audit.record(
        session,
        action=Action.SCHEME_RETIRE,
        actor=actor,
        subject=scheme.code,
        reason=reason,
        now=now,
        details={},
    )
    return scheme
