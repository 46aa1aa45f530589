"""Status lists: race-free allocation of random indexes, bit changes, re-signing.

Bitstring Status List 1.0 wants indexes chosen at random (herd privacy, BSL 6.1) in lists of at
least 131,072 entries. An index is taken by inserting its ``status_entries`` row: the unique
pair (list, index) makes a double allocation impossible. :func:`draw` picks random indexes and
checks them against the list in one query per round (a bulk issuance draws hundreds at once).
No list row is locked while the credential is signed, so issuances run in parallel (on
PostgreSQL a colliding insert waits for the other transaction, then fails and is drawn again).
When random picks keep colliding the list is nearly full: the free indexes are read and drawn
among; a list without any is marked full and the next allocation opens a new one (two writers
racing to open it collide on the unique (purpose, sequence) and the loser takes the winner's).

Bit changes lock the list row (``SELECT ... FOR UPDATE``; SQLite transactions begin
IMMEDIATE) so concurrent changes never lose each other's bit, and re-sign the list in the same
transaction: the published list and the records never disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from issuer.signing import sign_credential
from keys.suites import ProofOptions
from verifier.model.credentials import StatusRef, status_list_credential
from verifier.model.status_list import Bitstring, StatusPurpose

from ..db import in_batches, raced
from ..db.models import IssuedCredential, SecuringSuite, StatusEntry, StatusList
from ..errors import Conflict, NotFound
from .issuing_context import IssuerContext

#: Status lists are always signed with Data Integrity eddsa-rdfc-2022, whatever the scheme.
LIST_SUITE = SecuringSuite.EDDSA_RDFC_2022
PURPOSES = (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)

#: Random tries before reading the free indexes of a list (a list ~80% full gets there rarely).
_RANDOM_TRIES = 8
_ATTEMPTS = 64


def _locked(session: Session, list_id: int) -> StatusList:
    row = session.execute(
        select(StatusList)
        .where(StatusList.id == list_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no status list {list_id}")
    return row


def _open_list(
    session: Session, ctx: IssuerContext, purpose: StatusPurpose, now: datetime
) -> StatusList:
    """The first list of ``purpose`` not marked full; a new one when there is none."""
    for _ in range(_ATTEMPTS):
        row = session.execute(
            select(StatusList)
            .where(StatusList.purpose == purpose, StatusList.is_full.is_(False))
            .order_by(StatusList.sequence)
            .limit(1)
            # Not the bits nor the signed list (tens of KB): an allocation needs neither.
            .options(defer(StatusList.bits), defer(StatusList.signed))
        ).scalar_one_or_none()
        if row is not None:
            return row
        last = session.execute(
            select(func.max(StatusList.sequence)).where(StatusList.purpose == purpose)
        ).scalar_one()
        try:
            with session.begin_nested():
                row = StatusList(
                    purpose=purpose,
                    sequence=(last or 0) + 1,
                    size=ctx.list_size,
                    bits=bytes(ctx.list_size // 8),
                    is_full=False,
                    version=0,
                )
                session.add(row)
                session.flush()
                publish(session, ctx, row, now)
            return row
        except IntegrityError:
            continue  # another writer opened it first: take theirs
    raise Conflict(f"could not open a {purpose.value} status list")


# Built once: every issuance runs these, and building a statement and its cache key anew each
# time cost about as much as executing it.
_OPEN_LISTS = (
    select(StatusList)
    .where(
        StatusList.purpose.in_(bindparam("purposes", expanding=True)),
        StatusList.is_full.is_(False),
    )
    .order_by(StatusList.sequence)
    .options(defer(StatusList.bits), defer(StatusList.signed))
)
_ENTRIES = StatusEntry.__table__.c
_HELD = select(_ENTRIES.status_index).where(
    _ENTRIES.list_id == bindparam("list_id"),
    _ENTRIES.status_index.in_(bindparam("indexes", expanding=True)),
)


def open_lists(
    session: Session, ctx: IssuerContext, purposes: Sequence[StatusPurpose], now: datetime
) -> dict[StatusPurpose, StatusList]:
    """The open list of each purpose, read in one query (a new one where none is open)."""
    found: dict[StatusPurpose, StatusList] = {}
    for row in session.execute(_OPEN_LISTS, {"purposes": list(purposes)}).scalars():
        found.setdefault(row.purpose, row)
    for purpose in purposes:
        if purpose not in found:
            found[purpose] = _open_list(session, ctx, purpose, now)
    return found


def free_indexes(session: Session, row: StatusList) -> list[int]:
    """Indexes of ``row`` no entry holds (one query; used only when the list is nearly full)."""
    taken = bytearray(row.size // 8)
    for (index,) in session.execute(
        select(StatusEntry.status_index).where(StatusEntry.list_id == row.id)
    ):
        taken[index >> 3] |= 0x80 >> (index & 7)
    return [i for i in range(row.size) if not taken[i >> 3] & (0x80 >> (i & 7))]


def _held(session: Session, list_id: int, indexes: Iterable[int]) -> set[int]:
    """Which of ``indexes`` entries of ``list_id`` already hold (one query per batch)."""
    held: set[int] = set()
    for part in in_batches(list(indexes)):
        held.update(session.execute(_HELD, {"list_id": list_id, "indexes": list(part)}).scalars())
    return held


def draw(
    session: Session,
    ctx: IssuerContext,
    purpose: StatusPurpose,
    count: int,
    now: datetime,
    *,
    row: StatusList | None = None,
) -> list[tuple[int, int]]:
    """``count`` distinct free (list id, index) pairs for ``purpose``, in random order.

    Random indexes are drawn for the whole batch and checked in one query per round; the ones
    taken are drawn again. When a round finds most of its draws taken the list is nearly full:
    its free indexes are read and the rest drawn among them; a list that cannot give them all
    gives what it has, is marked full, and the next list opens. Nothing is inserted here: the
    caller inserts the entries, and on PostgreSQL a concurrent writer may take an index first
    (the unique (list, index) refuses the insert; the caller draws again). ``row``: the open
    list, when the caller read it already (:func:`open_lists`).

    Never unchecked: a list fills up to its last index, so half-way through its life an index
    drawn blind is taken one time in two, and the retry costs more than the check.
    """
    drawn: list[tuple[int, int]] = []
    while len(drawn) < count:
        if row is None or row.is_full:
            row = _open_list(session, ctx, purpose, now)
        chosen: list[int] = []
        seen: set[int] = set()
        need = count - len(drawn)
        held_total = 0
        for _ in range(_ATTEMPTS):
            missing = min(need - len(chosen), row.size - len(seen))
            # Most draws taken (the list is ~75% full or more): read its free indexes instead.
            crowded = held_total >= _RANDOM_TRIES and held_total * 4 > len(seen) * 3
            if missing <= 0 or crowded:
                break
            candidates: list[int] = []
            while len(candidates) < missing:
                index = ctx.rng.randrange(row.size)
                if index not in seen:
                    seen.add(index)
                    candidates.append(index)
            held = _held(session, row.id, candidates)
            held_total += len(held)
            chosen.extend(index for index in candidates if index not in held)
        if len(chosen) < need:
            taken = set(chosen)
            free = [i for i in free_indexes(session, row) if i not in taken]
            wanted = need - len(chosen)
            if len(free) > wanted:
                for _ in range(wanted):
                    chosen.append(free.pop(ctx.rng.randrange(len(free))))
            else:
                chosen.extend(free)
                session.execute(
                    update(StatusList).where(StatusList.id == row.id).values(is_full=True)
                )
                session.expire(row)
        drawn.extend((row.id, index) for index in chosen)
        row = None  # a next round (the list gave what it had) reads the next open list
    return drawn


def allocate(
    session: Session,
    ctx: IssuerContext,
    credential: IssuedCredential,
    purpose: StatusPurpose,
    now: datetime,
) -> StatusRef:
    """Take a random free index for ``credential`` in the open list for ``purpose``.

    :raises Conflict: no index could be taken (only under extreme contention).
    """
    (ref,) = _take(session, ctx, credential, (purpose,), now)
    return ref


def allocate_entries(
    session: Session, ctx: IssuerContext, credential: IssuedCredential, now: datetime
) -> list[StatusRef]:
    """A revocation and a suspension entry for one credential (BSL 2.1)."""
    return _take(session, ctx, credential, PURPOSES, now)


def _take(
    session: Session,
    ctx: IssuerContext,
    credential: IssuedCredential,
    purposes: Sequence[StatusPurpose],
    now: datetime,
) -> list[StatusRef]:
    """Insert an entry per purpose at indexes :func:`draw` checked (a concurrent writer may
    still take one first: the unique (list, index) refuses it and the indexes are drawn again,
    or the transaction runs again; see :func:`issuer.db.raced`)."""
    for attempt in range(_ATTEMPTS):
        opened = open_lists(session, ctx, purposes, now) if attempt == 0 else {}
        picks = [draw(session, ctx, p, 1, now, row=opened.get(p))[0] for p in purposes]
        entries = [
            StatusEntry(
                credential_pk=credential.id, purpose=purpose, list_id=list_id, status_index=i
            )
            for purpose, (list_id, i) in zip(purposes, picks, strict=True)
        ]
        try:
            with raced(session):
                session.add_all(entries)
                session.flush()
        except IntegrityError:
            continue  # another writer took an index first: draw again
        if "status_entries" not in inspect(credential).unloaded:  # else loaded when read
            held = [*credential.status_entries, *entries]
            set_committed_value(credential, "status_entries", held)
        return [
            StatusRef(purpose, ctx.status_list_url(list_id), index)
            for purpose, (list_id, index) in zip(purposes, picks, strict=True)
        ]
    raise Conflict("could not allocate status indexes; try again")


def set_bit(
    session: Session, ctx: IssuerContext, entry: StatusEntry, value: bool, now: datetime
) -> StatusList:
    """Set or clear one credential's bit and re-sign its list at once."""
    row = _locked(session, entry.list_id)
    bits = Bitstring.from_bytes(row.bits)
    bits.set(entry.status_index, 1 if value else 0)
    row.bits = bits.to_bytes()
    publish(session, ctx, row, now)
    return row


def set_bits(
    session: Session,
    ctx: IssuerContext,
    entries: Iterable[StatusEntry],
    value: bool,
    now: datetime,
) -> None:
    """Set or clear several credentials' bits (a credential and its wallet copies), each list
    locked in id order (no deadlock between two such changes) and re-signed once."""
    by_list: dict[int, list[int]] = {}
    for entry in entries:
        by_list.setdefault(entry.list_id, []).append(entry.status_index)
    for list_id in sorted(by_list):
        row = _locked(session, list_id)
        bits = Bitstring.from_bytes(row.bits)
        for index in by_list[list_id]:
            bits.set(index, 1 if value else 0)
        row.bits = bits.to_bytes()
        publish(session, ctx, row, now)


def bit(row: StatusList, index: int) -> bool:
    """The published value of ``index`` (BSL 2.2: index 0 is the first byte's top bit)."""
    return bool(row.bits[index >> 3] & (0x80 >> (index & 7)))


def publish(session: Session, ctx: IssuerContext, row: StatusList, now: datetime) -> None:
    """Sign the list as a BitstringStatusListCredential whose issuer is the body's DID."""
    document = status_list_credential(
        list_url=ctx.status_list_url(row.id),
        issuer_did=ctx.did,
        purpose=row.purpose,
        encoded_list=Bitstring.from_bytes(row.bits).encode(),
        valid_from=now,
        ttl_ms=ctx.status_ttl_ms,
    )
    signed = sign_credential(
        document,
        ctx.keyring.signer(LIST_SUITE),
        LIST_SUITE.value,
        store=ctx.store,
        options=ProofOptions(created=now),
        canonicalizer=ctx.canonicalizer,
    )
    text = json.dumps(signed, ensure_ascii=False, separators=(",", ":"))
    row.signed = text
    row.version = (row.version or 0) + 1
    row.etag = hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]
    row.published_at = now


def get_list(session: Session, list_id: int) -> StatusList:
    row = session.get(StatusList, list_id)
    if row is None or row.signed is None:
        raise NotFound(f"no status list {list_id}")
    return row


def all_lists(session: Session) -> Iterable[StatusList]:
    return session.execute(select(StatusList).order_by(StatusList.id)).scalars()
