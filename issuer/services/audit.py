"""The audit log: append-only and tamper-evident.

Each event carries the SHA-256 of the previous one (``prev_hash``) and its own hash over every
field, so changing, removing or reordering any event breaks the chain from there on. Writers
lock the single ``audit_head`` row, so concurrent actions append one after the other instead of
forking the chain. Appending is the last step of every action, so the head lock is held only
from there to the commit.

A database writer can recompute the whole chain with :func:`event_hash`, so each event also
carries a MAC of its hash with a key the database does not hold (:mod:`.audit_mac`; the session
factories of the app, the CLI and ``certvc init`` are bound to it with :func:`bind_mac_key`),
and :func:`verify_chain` also checks signed checkpoints (:class:`Checkpoint`, written by
:mod:`issuer.services.audit_checkpoints`): each pins an event's hash with the instance's
signing key, so an outsider holding them can tell the log was rolled back or truncated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from keys.did import find_verification_method
from keys.errors import DidError

from ..db import insert_rows
from ..db.models import Action, AuditEvent, AuditHead
from ..errors import FieldError, InstanceNotReady, ReasonRequired
from .audit_mac import MacKey, MacKeySource

GENESIS = "0" * 64
MAX_REASON = 2000
#: The key of :attr:`Session.info` that holds the session's :class:`MacKeySource`.
MAC_SOURCE = "certvc.audit_mac"


def bind_mac_key(factory: sessionmaker[Session], source: MacKeySource) -> sessionmaker[Session]:
    """Every session of ``factory`` MACs the events it appends with ``source``'s key. A session
    without one appends events with no MAC, which :func:`verify_chain` refuses from the key's
    first event on: every process that writes must be bound."""
    factory.configure(info={MAC_SOURCE: source})
    return factory


def _mac_key(session: Session, next_seq: int) -> MacKey | None:
    source: MacKeySource | None = session.info.get(MAC_SOURCE)
    return None if source is None else source.key(next_seq)


def ensure_mac_key(session: Session) -> MacKey | None:
    """The session's MAC key, created now (covering the next event on) if there is none yet;
    None when the session is not bound to one. Locks the chain head, so no event is appended
    between reading it and writing the key file (``certvc init``).

    :raises InstanceNotReady: no head row. :raises KeyMaterialError: the key cannot be read
        or made (passphrase).
    """
    head = _head(session)
    return _mac_key(session, head.seq + 1)


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
    key = _mac_key(session, head.seq + 1)
    event = AuditEvent(
        **_next(head.seq, head.hash, Draft(action, subject, details), actor, reason, now, key)
    )
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


# The chain head's statements, built once (every issuance runs them).
_HEAD_TABLE = AuditHead.__table__
_HEAD_LOCKED = (
    select(_HEAD_TABLE.c.seq, _HEAD_TABLE.c.hash).where(_HEAD_TABLE.c.id == 1).with_for_update()
)
_MOVE_HEAD = (
    update(_HEAD_TABLE)
    .where(_HEAD_TABLE.c.id == 1)
    .values(seq=bindparam("seq"), hash=bindparam("hash"))
)


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
    # Statements on the head's table, not its mapped row and a flush (the unit of work cost a
    # twentieth of an HTTP issuance). A mapped head the session holds is refreshed by the next
    # _head (populate_existing); record() flushes its own change, so none is pending here.
    head = session.execute(_HEAD_LOCKED).one_or_none()
    if head is None:
        raise InstanceNotReady("the audit log has no head row: run certvc init")
    key = _mac_key(session, head.seq + 1)
    rows = []
    seq, previous = head.seq, head.hash
    for draft in drafts:
        row = _next(seq, previous, draft, actor, reason, now, key)
        rows.append(row)
        seq, previous = row["seq"], row["hash"]
    insert_rows(session, AuditEvent.__table__, rows)
    session.execute(_MOVE_HEAD, {"seq": seq, "hash": previous})


def lock_head(session: Session) -> AuditHead:
    """The chain head, locked until the transaction ends (no event is appended meanwhile).

    :raises InstanceNotReady: no head row.
    """
    return _head(session)


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
    seq: int,
    previous: str,
    draft: Draft,
    actor: str,
    reason: str,
    now: datetime,
    key: MacKey | None,
) -> dict[str, Any]:
    """The columns of the event that follows event ``seq`` whose hash is ``previous`` (with
    its MAC when there is a key)."""
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
        "mac": None if key is None else key.mac(digest),
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
    """The outcome of :func:`verify_chain`: ``ok``, how many events, where it broke and why;
    whether the events' MACs were checked and from which event they are required; with
    checkpoints, how many were checked, the latest one and the first that failed."""

    ok: bool
    events: int
    broken_at: int | None = None
    message: str = ""
    checkpoints: int = 0
    last_checkpoint: int | None = None
    checkpoint_failed: int | None = None
    mac_checked: bool = False
    mac_from: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.events,
            "brokenAt": self.broken_at,
            "message": self.message,
            "checkpoints": self.checkpoints,
            "lastCheckpoint": self.last_checkpoint,
            "checkpointFailed": self.checkpoint_failed,
            "macChecked": self.mac_checked,
            "macFrom": self.mac_from,
        }


def verify_chain(
    session: Session,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    did_document: Mapping[str, Any] | None = None,
    mac_key: MacKey | None = None,
    batch: int = 1000,
) -> ChainReport:
    """Recompute every hash and link and, with ``mac_key``, every MAC (required from the key's
    first event on), then check every signed checkpoint (its signature with the keys of
    ``did_document``, and that its event is still there with the same hash); never raises for
    a broken chain or a failed checkpoint, reports them."""
    result = session.execute(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    )
    try:
        count, last_hash, broken = _walk(result.scalars(), mac_key)
    finally:
        result.close()  # a server-side cursor on PostgreSQL: close it even when stopping early
    chain = broken or _head_report(session.get(AuditHead, 1), count, last_hash, mac_key)
    if mac_key is not None:
        chain = replace(chain, mac_checked=True, mac_from=mac_key.from_seq)

    def hashes(seqs: list[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        for start in range(0, len(seqs), batch):
            part = seqs[start : start + batch]
            rows = session.execute(
                select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.in_(part))
            )
            found.update({seq: digest for seq, digest in rows})
        return found

    return with_checkpoints(chain, checkpoints, did_document, hashes)


def _head_report(
    head: AuditHead | None, count: int, last_hash: str, mac_key: MacKey | None
) -> ChainReport:
    if head is None:
        return ChainReport(False, count, None, "the chain head is missing")
    if head.seq != count or head.hash != last_hash:
        return ChainReport(
            False, count, count + 1, "the chain head does not match the last event (truncated?)"
        )
    if mac_key is not None and count < mac_key.from_seq - 1:
        # The key was made with the head at from_seq - 1, and the head never moves back.
        message = (
            f"the log ends at event {count}, but it had reached event {mac_key.from_seq - 1} "
            "when its MAC key was made (truncated or rolled back)"
        )
        return ChainReport(False, count, count + 1, message)
    macs = "" if mac_key is None else ", MACs hold"
    return ChainReport(True, count, None, f"{count} events, chain intact{macs}")


def verify_events(
    rows: Sequence[AuditEvent],
    checkpoints: Sequence[Checkpoint],
    did_document: Mapping[str, Any],
) -> ChainReport:
    """:func:`verify_chain` over events held in memory (an exported bundle): no head row, the
    last event is the head."""
    count, _last, broken = _walk(rows, None)
    chain = broken or ChainReport(True, count, None, f"{count} events, chain intact")
    by_seq = {row.seq: row.hash for row in rows}
    return with_checkpoints(
        chain,
        checkpoints,
        did_document,
        lambda seqs: {seq: by_seq[seq] for seq in seqs if seq in by_seq},
    )


# --- signed checkpoints ---------------------------------------------------------------------

#: Signed bytes start with this, so a checkpoint's signature means nothing anywhere else.
CHECKPOINT_DOMAIN = b"certvc-audit-checkpoint/1\n"


def canonical(value: Any) -> bytes:
    """The one JSON serialization certvc signs: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    """Strict base64url without padding: any other spelling of the same bytes is refused.

    :raises ValueError: not canonical base64url.
    """
    try:
        data = base64.b64decode(
            text.translate(_TO_STANDARD) + "=" * (-len(text) % 4), validate=True
        )
    except binascii.Error as error:
        raise ValueError(f"not base64url: {error}") from error
    if b64url(data) != text:
        raise ValueError("not canonical base64url")
    return data


_TO_STANDARD = str.maketrans("-_", "+/")


@dataclass(frozen=True)
class Checkpoint:
    """Event ``seq`` had hash ``hash`` at time ``at``: signed by ``key_id`` (detached
    signature, base64url, over :data:`CHECKPOINT_DOMAIN` and the canonical JSON of the rest)."""

    seq: int
    hash: str
    at: str
    key_id: str
    signature: str

    def signed_bytes(self) -> bytes:
        return CHECKPOINT_DOMAIN + canonical(
            {"seq": self.seq, "hash": self.hash, "at": self.at, "keyId": self.key_id}
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "hash": self.hash,
            "at": self.at,
            "keyId": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_json(cls, value: object) -> Checkpoint:
        """:raises ValueError: not a checkpoint object."""
        if not isinstance(value, dict) or set(value) != {"seq", "hash", "at", "keyId", "signature"}:
            raise ValueError("a checkpoint is an object of seq, hash, at, keyId and signature")
        seq = value["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("a checkpoint's seq is a positive integer")
        texts = [value[name] for name in ("hash", "at", "keyId", "signature")]
        if not all(isinstance(item, str) for item in texts):
            raise ValueError("a checkpoint's hash, at, keyId and signature are strings")
        return cls(seq, *texts)

    def check_signature(self, did_document: Mapping[str, Any]) -> str | None:
        """Why the signature does not hold with the keys of ``did_document`` (None: it holds)."""
        return check_signature(did_document, self.key_id, self.signature, self.signed_bytes())


def check_signature(
    did_document: Mapping[str, Any], key_id: str, signature: str, data: bytes
) -> str | None:
    """Why ``signature`` (base64url) by ``key_id`` of ``did_document`` does not hold over
    ``data`` (None: it holds). Retired keys count: they stay in the document."""
    try:
        public, _controller = find_verification_method(did_document, key_id)
        raw = unb64url(signature)
    except (DidError, ValueError) as error:
        return f"signature cannot be checked: {error}"
    if not public.verify(raw, data):
        return "signature does not verify"
    return None


def with_checkpoints(
    chain: ChainReport,
    checkpoints: Sequence[Checkpoint],
    did_document: Mapping[str, Any] | None,
    hashes: Callable[[list[int]], dict[int, str]],
) -> ChainReport:
    """``chain`` with every checkpoint checked: signed by a key of ``did_document``, its event
    present with the same hash (``hashes`` maps event numbers to hashes)."""
    unique = sorted(set(checkpoints), key=lambda item: (item.seq, item.at))
    if not unique:
        return chain
    if did_document is None:
        raise ValueError("checking checkpoints needs the DID document of the signing keys")
    found = hashes(sorted({item.seq for item in unique}))
    failed: tuple[Checkpoint, str] | None = None
    for item in unique:
        problem = item.check_signature(did_document)
        problem = problem and f"its {problem}"
        if problem is None and item.seq not in found:
            problem = f"event {item.seq} is missing (the log was truncated or rolled back)"
        elif problem is None and found[item.seq] != item.hash:
            problem = f"event {item.seq} no longer has the signed hash (rewritten or reordered)"
        if problem is not None:
            failed = (item, problem)
            break
    last = unique[-1].seq
    if failed is None:
        message = f"{chain.message}; {len(unique)} checkpoint(s) hold, the last at event {last}"
        return replace(chain, message=message, checkpoints=len(unique), last_checkpoint=last)
    item, problem = failed
    message = f"checkpoint of event {item.seq} signed at {item.at} fails: {problem}"
    if not chain.ok:
        message = f"{chain.message}; {message}"
    return replace(
        chain,
        ok=False,
        message=message,
        checkpoints=len(unique),
        last_checkpoint=last,
        checkpoint_failed=item.seq,
    )


def _walk(
    rows: Iterable[AuditEvent], mac_key: MacKey | None
) -> tuple[int, str, ChainReport | None]:
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
        problem = None if mac_key is None else _mac_problem(mac_key, event)
        if problem:
            return count, expected_prev, ChainReport(False, count, event.seq, problem)
        expected_prev = event.hash
    return count, expected_prev, None


def _mac_problem(key: MacKey, event: AuditEvent) -> str | None:
    """Why ``event``'s MAC does not hold (None: it holds, or the event predates the key)."""
    if event.mac is None:
        if event.seq < key.from_seq:
            return None
        return f"it has no MAC, but every event from {key.from_seq} on has one (rewritten?)"
    if not key.holds(event.hash, event.mac):
        return "its MAC does not match (rewritten without the audit key)"
    return None


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
