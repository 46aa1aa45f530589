"""The outbox: e-mail written in the transaction of the action that causes it, sent later.

An action (issuing, renewing, a reminder) calls :func:`enqueue` inside its own transaction, so
the message exists if and only if the action was committed: a mail server outage loses nothing
and a rolled-back action sends nothing. ``dedupe_key`` is unique: queuing the same message
again (a re-run import, a reminder job run from two hosts) adds nothing.

A sender (the worker, :mod:`issuer.services.mail_sender`) takes due messages with
:func:`claim_due`: each row is locked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (every SQLite
write transaction is exclusive already) and marked ``sending`` with a lease, so two workers
never take one message. After talking to the mail server it records the outcome with
:func:`mark_sent` or :func:`mark_failed`; a failure is retried with exponential back-off
(:func:`backoff`) until :data:`MAX_ATTEMPTS`, then the message is ``failed`` with its last
error, and staff may :func:`resend` it. A sender that dies mid-send leaves a ``sending`` row
whose lease runs out: it is taken again (the one case a message may go out twice, as with any
mail system: the server may have accepted it before the sender died).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ..db.models import Action, OutboxMessage, OutboxState
from ..errors import FieldError, IssuerCode, NotFound, TransitionNotAllowed
from . import audit, fields

#: How long a sender holds a message it took (the SMTP dialogue is bounded by its timeout).
LEASE = timedelta(minutes=5)
#: Attempts before a message is marked failed (the last retry about 4 hours after the first
#: one with the back-off below).
MAX_ATTEMPTS = 8
#: The wait after the first failure; doubled after each further one, at most :data:`MAX_WAIT`.
FIRST_WAIT = timedelta(minutes=1)
MAX_WAIT = timedelta(hours=2)
#: The longest error text kept (a mail server's reply, shortened).
ERROR_LENGTH = 1000

_LINE_BREAK = re.compile(r"[\r\n]")


def _header(name: str, value: str, limit: int) -> str:
    """A header value: one line (a line break would start a header of its own)."""
    if _LINE_BREAK.search(value):
        raise FieldError(name, "must not contain a line break", code=IssuerCode.EMAIL_INVALID)
    if not value.strip() or len(value) > limit:
        raise FieldError(name, f"must be 1 to {limit} characters")
    return value


def enqueue(
    session: Session,
    *,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    kind: str,
    dedupe_key: str,
    now: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a message in the caller's transaction; None when ``dedupe_key`` is queued already.

    The insert is ``ON CONFLICT (dedupe_key) DO NOTHING``: two transactions queuing the same
    key at once add one row, and neither fails (the caller's transaction goes on). ``now``
    defaults to the wall clock for callers without an injected one.

    :raises FieldError: ``email_invalid`` for a malformed recipient or a line break in the
        recipient or subject; ``field_invalid`` for an empty or oversized kind or key.
    """
    checked = fields.email({"recipient": recipient}, "recipient", required=True)
    assert checked is not None
    _header("subject", subject, 300)
    _header("kind", kind, 40)
    _header("dedupe_key", dedupe_key, 200)
    moment = now or datetime.now(UTC)
    values: dict[str, Any] = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "recipient": checked,
        "subject": subject,
        "text": text,
        "html": html,
        "state": OutboxState.PENDING,
        "attempts": 0,
        "last_error": "",
        "next_attempt_at": moment,
        "created_at": moment,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxMessage)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(OutboxMessage.id)
    )
    new_id = session.execute(statement).scalar_one_or_none()
    if new_id is None:
        return None
    return session.get(OutboxMessage, new_id)


def backoff(attempts: int) -> timedelta:
    """The wait before the next attempt after ``attempts`` failed ones: 1, 2, 4, ... minutes,
    at most :data:`MAX_WAIT`."""
    exponent = min(max(attempts - 1, 0), 20)  # 2**20 minutes is past any cap already
    return min(FIRST_WAIT * 2**exponent, MAX_WAIT)


def claim_due(
    session: Session, worker: str, now: datetime, *, lease: timedelta = LEASE, limit: int = 20
) -> list[OutboxMessage]:
    """Take up to ``limit`` messages due now (pending, or sending with a lease run out) for
    ``worker``: each marked ``sending``, its attempt counted, until the transaction commits
    locked against every other sender."""
    rows = (
        session.execute(
            select(OutboxMessage)
            .where(
                or_(
                    (OutboxMessage.state == OutboxState.PENDING)
                    & (OutboxMessage.next_attempt_at <= now),
                    (OutboxMessage.state == OutboxState.SENDING)
                    & (OutboxMessage.lease_until < now),
                )
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for message in rows:
        message.state = OutboxState.SENDING
        message.attempts += 1
        message.lease_owner = worker
        message.lease_until = now + lease
    session.flush()
    return list(rows)


def _held(session: Session, message_id: int, worker: str) -> OutboxMessage | None:
    """The message, locked, if ``worker`` still holds it (else another sender took it over)."""
    message = session.execute(
        select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if message is None or message.state is not OutboxState.SENDING:
        return None
    return message if message.lease_owner == worker else None


def mark_sent(session: Session, message_id: int, worker: str, now: datetime) -> bool:
    """Record that the mail server accepted the message; False if ``worker`` lost it."""
    message = _held(session, message_id, worker)
    if message is None:
        return False
    message.state = OutboxState.SENT
    message.sent_at = now
    message.last_error = ""
    message.lease_owner = None
    message.lease_until = None
    return True


def mark_failed(
    session: Session, message_id: int, worker: str, now: datetime, error: str, *, final: bool
) -> bool:
    """Record a failed attempt: pending again after :func:`backoff`, or ``failed`` when
    ``final`` (the server refused the message itself) or after :data:`MAX_ATTEMPTS`."""
    message = _held(session, message_id, worker)
    if message is None:
        return False
    message.last_error = error[:ERROR_LENGTH]
    message.lease_owner = None
    message.lease_until = None
    if final or message.attempts >= MAX_ATTEMPTS:
        message.state = OutboxState.FAILED
    else:
        message.state = OutboxState.PENDING
        message.next_attempt_at = now + backoff(message.attempts)
    return True


def get(session: Session, message_id: int) -> OutboxMessage:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    return message


def resend(
    session: Session, message_id: int, *, actor: str, reason: str, now: datetime
) -> OutboxMessage:
    """Send a message again (a failed one, a sent one the person did not get, or a pending one
    now rather than after its back-off): pending now, its attempts counted afresh; audited.

    :raises NotFound: no such message. :raises TransitionNotAllowed: it is being sent now.
    """
    message = session.execute(
        select(OutboxMessage).where(OutboxMessage.id == message_id).with_for_update()
    ).scalar_one_or_none()
    if message is None:
        raise NotFound(f"no outbox message {message_id}")
    previous = message.state
    if previous is OutboxState.SENDING and message.lease_until and message.lease_until > now:
        raise TransitionNotAllowed(f"message {message_id} is being sent right now")
    message.state = OutboxState.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.lease_owner = None
    message.lease_until = None
    audit.record(
        session,
        action=Action.MAIL_RESEND,
        actor=actor,
        subject=f"outbox:{message.id}",
        reason=reason,
        now=now,
        details={"kind": message.kind, "previousState": previous.value},
    )
    return message


@dataclass(frozen=True)
class Page:
    messages: list[OutboxMessage]
    total: int
    counts: dict[OutboxState, int]


def list_messages(
    session: Session,
    *,
    state: OutboxState | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Page:
    """Newest first, optionally of one state, with the count of each state."""
    stmt = select(OutboxMessage)
    if state is not None:
        stmt = stmt.where(OutboxMessage.state == state)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    ).scalars()
    counted = session.execute(
        select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
    ).all()
    counts = {member: 0 for member in OutboxState}
    counts.update({row[0]: row[1] for row in counted})
    return Page(list(rows), total, counts)


def messages_for(session: Session, keys: Sequence[str]) -> list[OutboxMessage]:
    """The messages queued under any of ``keys`` (a certification page lists its own)."""
    if not keys:
        return []
    return list(
        session.execute(
            select(OutboxMessage)
            .where(OutboxMessage.dedupe_key.in_(list(keys)))
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def message_json(message: OutboxMessage) -> dict[str, Any]:
    """What the admin UI and API show of a message (never its body: it may hold a link)."""

    def stamp(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat().replace("+00:00", "Z")

    return {
        "id": message.id,
        "kind": message.kind,
        "recipient": message.recipient,
        "subject": message.subject,
        "state": message.state.value,
        "attempts": message.attempts,
        "lastError": message.last_error or None,
        "createdAt": stamp(message.created_at),
        "nextAttemptAt": stamp(message.next_attempt_at)
        if message.state is OutboxState.PENDING
        else None,
        "sentAt": stamp(message.sent_at),
    }
