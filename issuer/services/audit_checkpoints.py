"""Signed checkpoints of the audit chain, and the bundle an assessor takes away.

A database writer can rewrite the whole chain with certvc's own :func:`audit.event_hash` (the
events' MACs stop that, but only the key's holder can check them). A
checkpoint ("signed tree head") pins event ``seq`` and its hash with the instance's Ed25519
key, which lives in the key store, not the database. Each one is stored twice: in the
``audit_checkpoints`` table and appended (fsync'd) to ``<instance>/audit-checkpoints.jsonl``,
the copy a database writer cannot reach. ``certvc audit verify`` checks every event up to the
last checkpoint against it; events after it are only chained until the next checkpoint.

The export bundle is one canonical JSON document (the events, the checkpoints, the DID document
with the public keys) signed as a whole, so any changed byte makes :func:`verify_bundle` fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Action, AuditCheckpoint, AuditEvent, SecuringSuite
from ..errors import AuditChainBroken
from . import audit
from .audit_mac import MacKey
from .keyring import Keyring

FILE_NAME = "audit-checkpoints.jsonl"
#: Checkpoints and bundles are signed with the Ed25519 key, as the status lists are.
SUITE = SecuringSuite.EDDSA_RDFC_2022
BUNDLE_FORMAT = "certvc-audit-bundle/1"
BUNDLE_DOMAIN = b"certvc-audit-bundle/1\n"


def file_path(instance_folder: Path) -> Path:
    return Path(instance_folder) / FILE_NAME


def read_file(path: Path) -> list[audit.Checkpoint]:
    """The checkpoints of the file (none when it does not exist yet).

    :raises AuditChainBroken: a line that is not a checkpoint (the file was damaged).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            found.append(audit.Checkpoint.from_json(json.loads(line)))
        except ValueError as error:
            raise AuditChainBroken(f"{path} line {number} is not a checkpoint: {error}") from error
    return found


def stored(session: Session) -> list[audit.Checkpoint]:
    """The checkpoints of the table."""
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).scalars()
    return [
        audit.Checkpoint(row.seq, row.hash, _stamp(row.at), row.key_id, row.signature)
        for row in rows
    ]


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def checkpoint(
    session: Session, keyring: Keyring, instance_folder: Path, *, now: datetime
) -> audit.Checkpoint | None:
    """Sign the chain's head, store it in the table and append it to the file; None when the
    chain has not grown since the last checkpoint. The events since that checkpoint are checked
    first (their MACs too), so a broken chain is never signed. Holds the chain head's lock;
    never commits (the file line is written before the commit: a checkpoint of events already
    committed).

    :raises AuditChainBroken: the events since the last checkpoint do not link to it.
    """
    path = file_path(instance_folder)
    # The head's lock first, then the stored checkpoints: read before the lock, another
    # worker's checkpoint committed while this one waited would be missed, and this one would
    # sign the same head again (a duplicate key that ended a worker process on PostgreSQL).
    head = audit.lock_head(session)
    known = read_file(path) + stored(session)
    last = max(known, key=lambda item: item.seq, default=None)
    if head.seq == 0 or (last is not None and last.seq >= head.seq):
        return None
    _check_since(session, last, head.seq, head.hash, keyring.audit_key().load())
    signer = keyring.signer(SUITE)
    unsigned = audit.Checkpoint(head.seq, head.hash, _stamp(now), signer.key_id, "")
    signed = audit.Checkpoint(
        head.seq,
        head.hash,
        unsigned.at,
        signer.key_id,
        audit.b64url(signer.sign(unsigned.signed_bytes())),
    )
    session.add(
        AuditCheckpoint(
            seq=signed.seq,
            hash=signed.hash,
            at=now.astimezone(UTC),
            key_id=signed.key_id,
            signature=signed.signature,
        )
    )
    session.flush()
    _append(path, signed)
    return signed


def _check_since(
    session: Session,
    last: audit.Checkpoint | None,
    seq: int,
    digest: str,
    mac_key: MacKey | None,
) -> None:
    """The events after ``last`` link to it, carry valid MACs (with ``mac_key``) and end at
    the head (``seq``, ``digest``)."""
    start, previous = (0, audit.GENESIS) if last is None else (last.seq, last.hash)
    if last is not None:
        pinned = session.get(AuditEvent, last.seq)
        if pinned is None or pinned.hash != last.hash:
            raise AuditChainBroken(
                f"event {last.seq} no longer matches its checkpoint: run certvc audit verify"
            )
    rows = session.execute(
        select(AuditEvent).where(AuditEvent.seq > start).order_by(AuditEvent.seq)
    ).scalars()
    expected = start
    for event in rows:
        expected += 1
        if (
            event.seq != expected
            or event.prev_hash != previous
            or _hash(event) != event.hash
            or not _mac_holds(mac_key, event)
        ):
            raise AuditChainBroken(f"event {expected} is broken: run certvc audit verify")
        previous = event.hash
    if expected != seq or previous != digest:
        raise AuditChainBroken("the chain head does not match the last event")


def _hash(event: AuditEvent) -> str:
    return audit.event_hash(
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        action=event.action,
        subject=event.subject,
        reason=event.reason,
        details=event.details,
        prev_hash=event.prev_hash,
    )


def _mac_holds(key: MacKey | None, event: AuditEvent) -> bool:
    if key is None:
        return True
    if event.mac is None:
        return event.seq < key.from_seq
    return key.holds(event.hash, event.mac)


def _append(path: Path, item: audit.Checkpoint) -> None:
    """One line, written and fsync'd (the directory too when the file is new)."""
    line = json.dumps(item.to_json(), sort_keys=True, ensure_ascii=False) + "\n"
    new = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if new:
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def verify(
    session: Session, keyring: Keyring, instance_folder: Path, *, mac_key: MacKey | None
) -> audit.ChainReport:
    """The chain (its MACs with ``mac_key``), and every checkpoint of the file and the table,
    with the key ring's public keys (retired ones included).

    :raises AuditChainBroken: the checkpoint file is damaged.
    """
    known = read_file(file_path(instance_folder)) + stored(session)
    return audit.verify_chain(
        session, checkpoints=known, did_document=keyring.did_document(), mac_key=mac_key
    )


def published(session: Session, instance_folder: Path) -> list[audit.Checkpoint]:
    """Every checkpoint of the file and the table, once each, in order (what
    ``GET /audit/checkpoints`` serves and the bundle carries).

    :raises AuditChainBroken: the checkpoint file is damaged.
    """
    known = read_file(file_path(instance_folder)) + stored(session)
    return sorted(set(known), key=lambda item: (item.seq, item.at))


# --- the bundle -----------------------------------------------------------------------------


def _bundle_event(event: AuditEvent) -> dict[str, Any]:
    """An event with every field as hashed (details as the stored text), and its MAC (only
    the instance can check it; null before the instance had its audit key)."""
    return {
        "seq": event.seq,
        "at": event.at.astimezone(UTC).isoformat(),
        "actor": event.actor,
        "action": event.action.value,
        "subject": event.subject,
        "reason": event.reason,
        "details": event.details,
        "prevHash": event.prev_hash,
        "hash": event.hash,
        "mac": event.mac,
    }


def export_bundle(
    session: Session, keyring: Keyring, instance_folder: Path, *, now: datetime
) -> bytes:
    """The signed bundle of the whole log: canonical JSON bytes, to write as they are."""
    events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    checkpoints = published(session, instance_folder)
    signer = keyring.signer(SUITE)
    body = {
        "format": BUNDLE_FORMAT,
        "exportedAt": _stamp(now),
        "didDocument": keyring.did_document(),
        "events": [_bundle_event(event) for event in events],
        "checkpoints": [item.to_json() for item in checkpoints],
        "keyId": signer.key_id,
    }
    signature = audit.b64url(signer.sign(BUNDLE_DOMAIN + audit.canonical(body)))
    return audit.canonical({**body, "signature": signature}) + b"\n"


def verify_bundle(data: bytes) -> audit.ChainReport:
    """Check a bundle offline: exactly its canonical bytes, its signature, the chain of its
    events and every checkpoint. Never raises for a bad bundle, reports it."""
    try:
        bundle = json.loads(data.decode("utf-8"))
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            raise ValueError(f"not a {BUNDLE_FORMAT} document")
        if audit.canonical(bundle) + b"\n" != data:
            raise ValueError("not in its canonical form (changed since export?)")
        signature = bundle.pop("signature")
        document = bundle["didDocument"]
        if not isinstance(signature, str) or not isinstance(document, Mapping):
            raise ValueError("no signature or DID document")
        signed = BUNDLE_DOMAIN + audit.canonical(bundle)
        problem = audit.check_signature(document, str(bundle["keyId"]), signature, signed)
        if problem:
            raise ValueError(f"the bundle's {problem}")
        rows = [_row(item) for item in bundle["events"]]
        checkpoints = [audit.Checkpoint.from_json(item) for item in bundle["checkpoints"]]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as error:
        return audit.ChainReport(False, 0, None, f"the bundle is not valid: {error}")
    return audit.verify_events(rows, checkpoints, document)


def _row(item: Mapping[str, Any]) -> AuditEvent:
    """A bundle event as an (unsaved) event row, for the chain check.

    :raises ValueError, KeyError, TypeError: not an event.
    """
    return AuditEvent(
        seq=int(item["seq"]),
        at=datetime.fromisoformat(item["at"]),
        actor=str(item["actor"]),
        action=Action(item["action"]),
        subject=str(item["subject"]),
        reason=str(item["reason"]),
        details=str(item["details"]),
        prev_hash=str(item["prevHash"]),
        hash=str(item["hash"]),
    )
