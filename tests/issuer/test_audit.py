"""The audit log is append-only and tamper-evident: each event hashes the previous one."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text, update

from issuer.db.models import Action, AuditEvent
from issuer.services import audit

from .support import BACKENDS, NOW


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """This module runs on every backend (the engine's behaviour is what it tests)."""
    return request.param


def _append(env, count: int) -> None:
    for number in range(count):
        env.write(
            lambda s, n=number: audit.record(
                s, action=Action.SUSPEND, actor="t", subject=f"S-{n}", reason=f"r{n}", now=NOW
            )
        )


def test_chain_links_every_event_to_the_previous(env) -> None:
    _append(env, 5)
    with env.read() as session:
        rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        report = audit.verify_chain(session)
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert report.ok and report.events == len(rows)


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_events SET reason = 'nothing happened' WHERE seq = 3",
        "UPDATE audit_events SET actor = 'someone else' WHERE seq = 3",
        "DELETE FROM audit_events WHERE seq = 3",
        "DELETE FROM audit_events WHERE seq = (SELECT MAX(seq) FROM audit_events)",
    ],
    ids=["reason-changed", "actor-changed", "event-removed", "last-event-removed"],
)
def test_any_change_breaks_the_chain(env, tamper: str) -> None:
    _append(env, 5)
    with env.engine.begin() as connection:
        connection.execute(text(tamper))
    with env.read() as session:
        report = audit.verify_chain(session)
    assert not report.ok and report.broken_at is not None
    assert report.broken_at <= 3 or "head" in report.message


def test_rewriting_an_event_with_a_fresh_hash_still_breaks_the_link(env) -> None:
    """Recomputing the tampered event's own hash does not help: the next event's link fails."""
    _append(env, 4)
    with env.read() as session:
        event = session.get(AuditEvent, 2)
        forged = audit.event_hash(
            seq=2,
            at=event.at,
            actor="x",
            action=event.action,
            subject=event.subject,
            reason=event.reason,
            details=event.details,
            prev_hash=event.prev_hash,
        )
    with env.engine.begin() as connection:
        connection.execute(
            update(AuditEvent.__table__).where(AuditEvent.seq == 2).values(actor="x", hash=forged)
        )
    with env.read() as session:
        report = audit.verify_chain(session)
    assert not report.ok and report.broken_at == 3


def test_the_orm_refuses_to_change_or_delete_events(env) -> None:
    _append(env, 1)
    with env.read() as session:
        event = session.execute(select(AuditEvent)).scalars().first()
        event.reason = "rewritten"
        with pytest.raises(TypeError, match="append-only"):
            session.flush()
        session.rollback()
        session.delete(session.execute(select(AuditEvent)).scalars().first())
        with pytest.raises(TypeError, match="append-only"):
            session.flush()


def test_concurrent_writers_do_not_fork_the_chain(env) -> None:
    """Writers lock the chain head: 4 threads x 10 events make one chain of 40 more."""
    with env.read() as session:
        start = audit.verify_chain(session).events
    threads = [threading.Thread(target=_append, args=(env, 10)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with env.read() as session:
        report = audit.verify_chain(session)
    assert report.ok and report.events == start + 40
