"""Status lists: random allocation, new lists when full, re-signing on every change."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from contexts.loader import default_store
from issuer import db
from issuer.db.models import (
    CredentialFormat,
    CredentialState,
    IssuedCredential,
    SecuringSuite,
    StatusEntry,
    StatusList,
)
from issuer.errors import Conflict
from issuer.services import lifecycle, status_lists
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.model.status_list import (
    MIN_BITS,
    Bitstring,
    StatusPurpose,
    parse_status_list_credential,
)

from .support import BACKENDS, NOW


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Allocation is about the database's locking: every backend."""
    return request.param


def _bare_credentials(session, count: int, start: int = 0) -> list[IssuedCredential]:
    rows = [
        IssuedCredential(
            credential_id=f"urn:uuid:{start + n}",
            format=CredentialFormat.LDP_VC,
            suite=SecuringSuite.EDDSA_RDFC_2022,
            key_id="k",
            document="{}",
            issued_at=NOW,
            state=CredentialState.ACTIVE,
            status_entries=[],
        )
        for n in range(count)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def test_allocation_gives_distinct_random_indexes(env) -> None:
    """BSL 6.1 herd privacy: indexes are random over the whole list, never sequential."""

    def work(session):
        return [
            status_lists.allocate(session, env.ctx, credential, StatusPurpose.REVOCATION, NOW)
            for credential in _bare_credentials(session, 400)
        ]

    refs = env.write(work)
    indexes = [ref.index for ref in refs]
    assert len(set(indexes)) == 400 and len({ref.list_url for ref in refs}) == 1
    quarters = Counter(index * 4 // MIN_BITS for index in indexes)
    assert set(quarters) == {0, 1, 2, 3} and min(quarters.values()) > 60
    assert indexes != sorted(indexes)


class _Replay(random.Random):
    """Randomness that first replays chosen numbers (to force collisions)."""

    def __init__(self, script: list[int]) -> None:
        super().__init__(5)
        self.script = list(script)

    def randrange(self, *args, **kwargs):  # type: ignore[override]
        return self.script.pop(0) if self.script else super().randrange(*args, **kwargs)


def test_a_taken_index_is_never_handed_out_again(env) -> None:
    """The unique (list, index) pair decides: a colliding pick is retried with another."""
    first = env.write(
        lambda s: status_lists.allocate(
            s, env.ctx, _bare_credentials(s, 1)[0], StatusPurpose.REVOCATION, NOW
        )
    )
    ctx = dataclasses.replace(env.ctx, rng=_Replay([first.index, first.index, 99]))
    second = env.write(
        lambda s: status_lists.allocate(
            s, ctx, _bare_credentials(s, 1, 10)[0], StatusPurpose.REVOCATION, NOW
        )
    )
    assert (second.list_url, second.index) == (first.list_url, 99)


def test_free_indexes_are_the_ones_no_entry_holds(env) -> None:
    def work(session):
        refs = [
            status_lists.allocate(session, env.ctx, credential, StatusPurpose.REVOCATION, NOW)
            for credential in _bare_credentials(session, 5)
        ]
        row = session.execute(select(StatusList)).scalars().first()
        return {ref.index for ref in refs}, status_lists.free_indexes(session, row), row.size

    taken, free, size = env.write(work)
    assert len(free) == size - 5 and not taken & set(free)
    assert free == sorted(free)


def test_a_nearly_full_list_draws_among_its_free_indexes_then_a_new_list_opens(
    env, monkeypatch
) -> None:
    """After repeated collisions the free indexes are read and one is drawn among them; a list
    with none left is marked full and list 2 of the same purpose opens (published at once).
    (Filling 131,072 real entries takes seconds: the free set is narrowed here instead.)"""
    held = env.write(
        lambda s: [
            status_lists.allocate(s, env.ctx, credential, StatusPurpose.SUSPENSION, NOW)
            for credential in _bare_credentials(s, 8)
        ]
    )
    taken = held[0]
    last_free = {17, env.ctx.list_size - 1}
    real_free = status_lists.free_indexes

    def narrowed(session, row):
        return [i for i in real_free(session, row) if i in last_free]

    monkeypatch.setattr(status_lists, "free_indexes", narrowed)
    # The first pick (unchecked) collides, then eight checked picks are all taken.
    collide = [taken.index] + [ref.index for ref in held]

    def take(session, n):
        ctx = dataclasses.replace(env.ctx, rng=_Replay(collide))
        credential = _bare_credentials(session, 1, 100 + n)[0]
        return status_lists.allocate(session, ctx, credential, StatusPurpose.SUSPENSION, NOW)

    got = [env.write(lambda s, n=n: take(s, n)) for n in range(3)]
    assert {(r.list_url, r.index) for r in got[:2]} == {(taken.list_url, i) for i in last_free}
    assert got[2].list_url != taken.list_url
    with env.read() as session:
        lists = (
            session.execute(
                select(StatusList)
                .where(StatusList.purpose == StatusPurpose.SUSPENSION)
                .order_by(StatusList.sequence)
            )
            .scalars()
            .all()
        )
        assert [(row.sequence, row.is_full) for row in lists] == [(1, True), (2, False)]
        assert env.ctx.status_list_url(lists[1].id) == got[2].list_url
        assert lists[1].signed is not None


def test_every_bit_change_re_signs_the_list(env) -> None:
    """The list is re-signed as soon as a bit changes: new version, new ETag, the bit set,
    a valid proof by the body's key."""

    def issue_entry(session):
        refs = status_lists.allocate_entries(
            session, env.ctx, _bare_credentials(session, 1)[0], now=NOW
        )
        return refs

    refs = env.write(issue_entry)
    revocation = refs[0]
    with env.read() as session:
        entry = session.execute(
            select(StatusEntry).where(StatusEntry.purpose == StatusPurpose.REVOCATION)
        ).scalar_one()
        before = session.get(StatusList, entry.list_id)
        version, etag = before.version, before.etag

    def flip(session):
        entry = session.execute(
            select(StatusEntry).where(StatusEntry.purpose == StatusPurpose.REVOCATION)
        ).scalar_one()
        status_lists.set_bit(session, env.ctx, entry, True, NOW)

    env.write(flip)
    with env.read() as session:
        after = session.get(StatusList, entry.list_id)
        assert after.version == version + 1 and after.etag != etag
        signed = json.loads(after.signed)
    subject = parse_status_list_credential(signed)
    assert Bitstring.decode(subject.encoded_list).get(revocation.index) == 1
    assert subject.ttl_ms == env.ctx.status_ttl_ms
    assert signed["issuer"] == env.ctx.did
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({env.ctx.did: env.ctx.keyring.did_document()}),
        canonicalizer=FAST,
    )
    assert verify_credential(signed, policy, now=NOW).verified


def test_the_same_index_cannot_be_recorded_twice(env) -> None:
    """The unique (list, index) pair backs the allocator up in the schema itself."""

    def twice(session):
        credential = _bare_credentials(session, 1)[0]
        refs = status_lists.allocate_entries(session, env.ctx, credential, NOW)
        entry = session.execute(select(StatusEntry)).scalars().first()
        session.add(
            StatusEntry(
                credential_pk=credential.id,
                purpose=StatusPurpose.MESSAGE,
                list_id=entry.list_id,
                status_index=entry.status_index,
            )
        )
        session.flush()
        return refs

    with pytest.raises(IntegrityError):
        env.write(twice)
    with env.read() as session:
        assert session.execute(select(func.count()).select_from(StatusEntry)).scalar_one() == 0


def test_a_lost_race_runs_the_whole_transaction_again_then_gives_up(env) -> None:
    """A service that drew without asking signals a collision with LostRace: the runner rolls
    the attempt back and runs the work again (told its attempt), and after five a 409."""
    attempts: list[int | None] = []

    def lose_twice(session):
        attempts.append(db.attempt_of(session))
        _bare_credentials(session, 1, 200 + len(attempts))
        if len(attempts) < 3:
            raise db.LostRace
        return "done"

    assert env.write(lose_twice) == "done"
    assert attempts == [1, 2, 3]
    with env.read() as session:  # the two lost attempts left nothing behind
        assert session.execute(select(func.count()).select_from(IssuedCredential)).scalar() == 1

    def always_lose(session):
        raise db.LostRace

    with pytest.raises(Conflict):
        env.write(always_lose)


def test_an_issuance_never_draws_a_taken_index_blind(env) -> None:
    """A list fills up to its last index, so half-way through its life one blind draw in two
    is taken: an issuance checks its draws, and a taken index costs a re-draw, not a second
    run of the whole transaction (nothing signed twice)."""
    held = env.write(
        lambda s: [
            status_lists.allocate(s, env.ctx, credential, purpose, NOW)
            for credential in _bare_credentials(s, 1)
            for purpose in status_lists.PURPOSES
        ]
    )
    attempts: list[int | None] = []
    # Numbers first (one scheme, no explicit number), then each purpose's first index: taken.
    ctx = dataclasses.replace(env.ctx, rng=_Replay([4242, *(ref.index for ref in held)]))

    def issue(session):
        attempts.append(db.attempt_of(session))
        request = lifecycle.IssueRequest("CWI-2", "steel", person_name="Ada Lovelace")
        return lifecycle.issue(session, ctx, request, reason="exam", actor="t", now=NOW).id

    cert_id = env.write(issue)
    assert attempts == [1]
    with env.read() as session:
        got = set(
            session.execute(
                select(StatusEntry.list_id, StatusEntry.status_index)
                .join(IssuedCredential)
                .where(IssuedCredential.certification_id == cert_id)
            ).all()
        )
    assert len(got) == 2
    assert not got & {(_list_id(env, ref), ref.index) for ref in held}


def _list_id(env, ref) -> int:
    return int(ref.list_url.rsplit("/", 1)[1])
