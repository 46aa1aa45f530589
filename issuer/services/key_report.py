"""What each signing key signed: the report a body reads before retiring a compromised key.

For every key of the instance's key ring (active and retired; and any key id found in the
records that the ring no longer holds) it counts the credentials signed with it by the state
shown today, gives the first and last signing dates, the holder-bound wallet copies, the
credentials it secured the other way (``credential.secure`` audit events: the alternate form
has no column of its own), and the status lists whose published signature it made (lists are
re-signed by the active Ed25519 key at every change, so a list keeps an old key's signature
until its next change). For one key it also lists the certifications whose current credential
it signed and that still hold (active or suspended, not expired): those need reissuing.

Read only: it takes the key records (``Keyring.records()``, no passphrase needed) and a
session, and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from keys.keystore import KeyRecord

from ..db.models import (
    Action,
    AuditEvent,
    Certification,
    CredentialState,
    IssuedCredential,
    StatusList,
)
from ..errors import NotFound

#: The credential states of the report: the stored ones, with ``expired`` for a live
#: credential past its ``validUntil``.
STATES = ("active", "suspended", "expired", "revoked", "superseded")
_LIVE = (CredentialState.ACTIVE, CredentialState.SUSPENDED)
BATCH = 1000


@dataclass(frozen=True)
class SignedList:
    id: int
    purpose: str
    sequence: int
    published_at: datetime | None


@dataclass
class KeyUse:
    """One key and what carries its signature."""

    key_id: str
    key_type: str | None
    #: ``active``, ``retired``, or ``unknown`` (in the records, not in the key ring).
    status: str
    created: datetime | None
    retired: datetime | None
    credentials: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    copies: int = 0
    first_signed: datetime | None = None
    last_signed: datetime | None = None
    alternates: int = 0
    status_lists: list[SignedList] = field(default_factory=list)
    #: Certifications whose current credential it signed and that still hold.
    to_reissue: int = 0

    @property
    def total(self) -> int:
        return sum(self.credentials.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "keyId": self.key_id,
            "type": self.key_type,
            "status": self.status,
            "created": _stamp(self.created),
            "retired": _stamp(self.retired),
            "credentials": {**self.credentials, "total": self.total},
            "walletCopies": self.copies,
            "firstSigned": _stamp(self.first_signed),
            "lastSigned": _stamp(self.last_signed),
            "alternateSecurings": self.alternates,
            "statusLists": [
                {
                    "id": s.id,
                    "purpose": s.purpose,
                    "sequence": s.sequence,
                    "publishedAt": _stamp(s.published_at),
                }
                for s in self.status_lists
            ],
            "certificationsToReissue": self.to_reissue,
        }


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _list_key(signed: str | None) -> str | None:
    if not signed:
        return None
    try:
        proof = json.loads(signed).get("proof")
    except ValueError:
        return None
    if isinstance(proof, list):
        proof = proof[0] if proof else None
    method = proof.get("verificationMethod") if isinstance(proof, dict) else None
    return method if isinstance(method, str) else None


def _current() -> Any:
    """Per certification, its current credential: the newest that is not a wallet copy
    (``Certification.current_credential``), as (certification id, credential pk)."""
    return (
        select(
            IssuedCredential.certification_id.label("certification_id"),
            func.max(IssuedCredential.id).label("credential_pk"),
        )
        .where(IssuedCredential.copy_of_id.is_(None))
        .group_by(IssuedCredential.certification_id)
        .subquery()
    )


def report(session: Session, records: Sequence[KeyRecord], *, now: datetime) -> list[KeyUse]:
    """Every key with what it signed (a handful of grouped queries, whatever the register's
    size)."""
    uses: dict[str, KeyUse] = {
        r.id: KeyUse(r.id, r.key_type.value, r.status.value, r.created, r.retired) for r in records
    }

    def use(key_id: str) -> KeyUse:
        if key_id not in uses:
            uses[key_id] = KeyUse(key_id, None, "unknown", None, None)
        return uses[key_id]

    # Grouped over a subquery: PostgreSQL does not match a CASE with its own bound ``now`` in
    # SELECT and GROUP BY.
    inner = select(
        IssuedCredential.key_id.label("key_id"),
        IssuedCredential.state.label("state"),
        case((IssuedCredential.valid_until <= now, 1), else_=0).label("past"),
        case((IssuedCredential.copy_of_id.is_(None), 0), else_=1).label("copy"),
        IssuedCredential.issued_at.label("issued_at"),
    ).subquery()
    grouped = session.execute(
        select(
            inner.c.key_id,
            inner.c.state,
            inner.c.past,
            inner.c.copy,
            func.count(),
            func.min(inner.c.issued_at),
            func.max(inner.c.issued_at),
        ).group_by(inner.c.key_id, inner.c.state, inner.c.past, inner.c.copy)
    ).all()
    for key_id, state, past, copy, number, first, last in grouped:
        if not key_id:
            continue
        entry = use(key_id)
        if copy:
            entry.copies += number
        else:
            shown = "expired" if state in _LIVE and past else state.value
            entry.credentials[shown] += number
        entry.first_signed = _earliest(entry.first_signed, first)
        entry.last_signed = _latest(entry.last_signed, last)

    current = _current()
    for key_id, number in session.execute(
        select(IssuedCredential.key_id, func.count())
        .join(current, current.c.credential_pk == IssuedCredential.id)
        .where(*_holds(now))
        .group_by(IssuedCredential.key_id)
    ):
        use(key_id).to_reissue = number

    for details in session.execute(
        select(AuditEvent.details).where(AuditEvent.action == Action.CREDENTIAL_SECURE)
    ).scalars():
        key_id = _detail(details, "keyId")
        if key_id:
            use(key_id).alternates += 1

    for row in session.execute(
        select(
            StatusList.id,
            StatusList.purpose,
            StatusList.sequence,
            StatusList.published_at,
            StatusList.signed,
        ).order_by(StatusList.id)
    ):
        key_id = _list_key(row.signed)
        if key_id:
            use(key_id).status_lists.append(
                SignedList(row.id, row.purpose.value, row.sequence, row.published_at)
            )
    return list(uses.values())


def _holds(now: datetime) -> list[Any]:
    return [
        IssuedCredential.state.in_(_LIVE),
        (IssuedCredential.valid_until.is_(None)) | (IssuedCredential.valid_until > now),
    ]


def _detail(details: str, name: str) -> str | None:
    try:
        value = json.loads(details).get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def find(uses: Sequence[KeyUse], key: str) -> KeyUse:
    """The key named by its full id or its fragment (``ed25519-1``).

    :raises NotFound:
    """
    for entry in uses:
        if key in (entry.key_id, entry.key_id.partition("#")[2]):
            return entry
    known = ", ".join(u.key_id.partition("#")[2] or u.key_id for u in uses) or "none"
    raise NotFound(f"no key {key!r} (keys: {known})")


def certifications_to_reissue(
    session: Session, key_id: str, *, now: datetime
) -> Iterator[dict[str, Any]]:
    """The certifications whose current credential ``key_id`` signed and that still hold
    (active or suspended, not expired), by number, fetched in batches."""
    current = _current()
    stmt = (
        select(
            Certification.number,
            Certification.state,
            Certification.expires,
            IssuedCredential.credential_id,
            IssuedCredential.state,
        )
        .join(current, current.c.certification_id == Certification.id)
        .join(IssuedCredential, IssuedCredential.id == current.c.credential_pk)
        .where(IssuedCredential.key_id == key_id, *_holds(now))
        .order_by(Certification.number)
        .execution_options(yield_per=BATCH)
    )
    for number, _state, expires, credential_id, credential_state in session.execute(stmt):
        yield {
            "number": number,
            "state": credential_state.value,
            "expires": _stamp(expires),
            "credentialId": credential_id,
        }
