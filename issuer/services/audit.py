"""The audit log: append-only and tamper-evident.

Each event carries the SHA-256 of the previous one (``prev_hash``) and its own hash over every
field, so changing, removing or reordering any event breaks the chain from there on. Writers
lock the single ``audit_head`` row, so concurrent actions append one after the other instead of
forking the chain. Appending is the last step of every action, so the head lock is held only
from there to the commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..db.models import Action, AuditEvent, AuditHead
from ..errors import FieldError, InstanceNotReady, ReasonRequired

GENESIS = "0" * 64
MAX_REASON = 2000


def check_reason(reason: object) -> str:
    """A reason is mandatory for every recorded action.

    :raises ReasonRequired: missing, blank or not text.
    """
    if not isinstance(reason, str) or not reason.strip():
        raise ReasonRequired()
    reason = reason.strip()
    if len(reason) > MAX_REASON:
        raise FieldError("reason", f"at most {MAX_REASON} characters")
    return reason


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def event_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: Action,
    subject: str,
    reason: str,
    details: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON of every field of the event, the previous hash included."""
    payload = json.dumps(
        [seq, _stamp(at), actor, action.value, subject, reason, details, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Draft:
    """An event to append: what was done to what, with its details (actor, reason and time are
    the action's)."""

    action: Action
    subject: str
    details: Mapping[str, Any] | None = None


def record(
    session: Session,
    *,
    action: Action,
    actor: str,
    subject: str,
    reason: str,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event (locks the chain head until the transaction ends).

    :raises ReasonRequired: no reason.
    """
    reason = check_reason(reason)
    head = _head(session)
    event = AuditEvent(
        **_next(head.seq, head.hash, Draft(action, subject, details), actor, reason, now)
    )
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


def record_many(
    session: Session,
    drafts: Sequence[Draft],
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> None:
    """Append several events of one action, in order, under one lock of the chain head and
    with one multi-row insert (a bulk issuance appends one event per certification).

    :raises ReasonRequired: no reason.
    """
    reason = check_reason(reason)
    if not drafts:
        return
    head = _head(session)
    rows = []
    seq, previous = head.seq, head.hash
    for draft in drafts:
        row = _next(seq, previous, draft, actor, reason, now)
        rows.append(row)
        seq, previous = row["seq"], row["hash"]
    head.seq, head.hash = seq, previous
    session.execute(insert(AuditEvent.__table__), rows)
    session.flush()


def _head(session: Session) -> AuditHead:
    """The chain head, locked until the transaction ends."""
    head = session.execute(
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if head is None:
        raise InstanceNotReady("the audit log has no head row: run certvc init")
    return head


def _next(
    seq: int, previous: str, draft: Draft, actor: str, reason: str, now: datetime
) -> dict[str, Any]:
    """The columns of the event that follows event ``seq`` whose hash is ``previous``."""
    at = now.astimezone(UTC)
    text = json.dumps(dict(draft.details or {}), ensure_ascii=False, sort_keys=True, default=str)
    digest = event_hash(
        seq=seq + 1,
        at=at,
        actor=actor,
        action=draft.action,
        subject=draft.subject,
        reason=reason,
        details=text,
        prev_hash=previous,
    )
    return {
        "seq": seq + 1,
        "at": at,
        "actor": actor,
        "action": draft.action,
        "subject": draft.subject,
        "reason": reason,
        "details": text,
        "prev_hash": previous,
        "hash": digest,
    }


def record_changes(
    session: Session,
    target: Any,
    values: Mapping[str, Any],
    *,
    action: Action,
    subject: str,
    actor: str,
    reason: str,
    now: datetime,
) -> dict[str, list[Any]]:
    """Set the attributes ``values`` names on ``target`` and, when any changed, stamp its
    ``updated_at`` and append one event naming each changed field with its old and new value.
    Returns what changed (nothing recorded when nothing did)."""
    changed: dict[str, list[Any]] = {}
    for column, value in values.items():
        old = getattr(target, column)
        if old != value:
            changed[column] = [_plain(old), _plain(value)]
            setattr(target, column, value)
    if changed:
        target.updated_at = now
        record(
            session,
            action=action,
            actor=actor,
            subject=subject,
            reason=reason,
            now=now,
            details={"changed": changed},
        )
    return changed


def _plain(value: Any) -> Any:
    """A value as the event's JSON details hold it (dates as ISO 8601, enums by value)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return getattr(value, "value", value)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`: ``ok``, how many events, where it broke and why."""

    ok: bool
    events: int
    broken_at: int | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "brokenAt": self.broken_at,
            "message": self.message,
        }


def verify_chain(session: Session, *, batch: int = 1000) -> ChainReport:
    """Recompute every hash and link; never raises for a broken chain, reports it."""
    result = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    )
    try:
        count, last_hash, broken = _walk(result.scalars())
    finally:
        result.close()  # a server-side cursor on PostgreSQL: close it even when stopping early
    if broken is not None:
        return broken
    head = session.get(AuditHead, 1)
    if head is None:
        return ChainReport(False, count, None, "the chain head is missing")
    if head.seq != count or head.hash != last_hash:
        return ChainReport(
            False, count, count + 1, "the chain head does not match the last event (truncated?)"
        )
    return ChainReport(True, count, None, f"{count} events, chain intact")


def _walk(rows: Iterable[AuditEvent]) -> tuple[int, str, ChainReport | None]:
    expected_prev = GENESIS
    count = 0
    for event in rows:
        count += 1
        if event.seq != count:
            return (
                count,
                expected_prev,
                ChainReport(False, count, count, f"event {count} is missing"),
            )
        if event.prev_hash != expected_prev:
            report = ChainReport(False, count, event.seq, "does not link to the previous hash")
            return count, expected_prev, report
        digest = event_hash(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            reason=event.reason,
            details=event.details,
            prev_hash=event.prev_hash,
        )
        if digest != event.hash:
            report = ChainReport(False, count, event.seq, "its content does not match its hash")
            return count, expected_prev, report
        expected_prev = event.hash
    return count, expected_prev, None


def events(
    session: Session, *, limit: int = 100, offset: int = 0, subject: str | None = None
) -> tuple[list[AuditEvent], int]:
    query = select(AuditEvent)
    counter = select(func.count()).select_from(AuditEvent)
    if subject:
        query = query.where(AuditEvent.subject == subject)
        counter = counter.where(AuditEvent.subject == subject)
    rows = session.execute(
        query.order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    ).scalars()
    return list(rows), session.execute(counter).scalar_one()


def event_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": event.at.isoformat().replace("+00:00", "Z"),
        "actor": event.actor,
        "action": event.action.value,
        "subject": event.subject,
        "reason": event.reason,
        "details": json.loads(event.details),
        "prevHash": event.prev_hash,
        "hash": event.hash,
    }
