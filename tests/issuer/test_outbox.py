"""The outbox: queued in the caller's transaction, once per dedupe key, claimed by one sender."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from issuer.db.models import OutboxMessage, OutboxState
from issuer.errors import FieldError, IssuerCode
from issuer.services import outbox

from .support import BACKENDS, NOW


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every backend: the unique key and the row locks are the database's."""
    return request.param


def _queue(env, key: str = "k1", **changes):  # type: ignore[no-untyped-def]
    values = {
        "recipient": "ada@example.org",
        "subject": "Your certificate",
        "text": "hello",
        "html": "<p>hello</p>",
        "kind": "claim",
        "dedupe_key": key,
        "now": NOW,
    }
    values.update(changes)
    return env.write(lambda s: outbox.enqueue(s, **values))


def _count(env) -> int:  # type: ignore[no-untyped-def]
    with env.read() as session:
        return session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()


def test_enqueue_is_idempotent_on_the_dedupe_key(env) -> None:  # type: ignore[no-untyped-def]
    first = _queue(env)
    assert first is not None and first.state is OutboxState.PENDING
    assert _queue(env) is None
    assert _queue(env, text="other") is None
    assert _count(env) == 1


def test_enqueue_rolls_back_with_its_transaction(env) -> None:  # type: ignore[no-untyped-def]
    def work(session):  # type: ignore[no-untyped-def]
        outbox.enqueue(
            session,
            recipient="ada@example.org",
            subject="s",
            text="t",
            html=None,
            kind="claim",
            dedupe_key="rolled-back",
            now=NOW,
        )
        raise RuntimeError("the action failed")

    with pytest.raises(RuntimeError):
        env.write(work)
    assert _count(env) == 0


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"recipient": "not-an-address"}, IssuerCode.EMAIL_INVALID),
        ({"recipient": "ada@example.org\r\nBcc: eve@example.org"}, IssuerCode.EMAIL_INVALID),
        ({"subject": "Hi\r\nBcc: eve@example.org"}, IssuerCode.EMAIL_INVALID),
        ({"kind": ""}, IssuerCode.FIELD_INVALID),
    ],
)
def test_enqueue_refuses_bad_headers(env, changes, code) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(FieldError) as caught:
        _queue(env, **changes)
    assert caught.value.code is code
    assert _count(env) == 0


def test_a_claimed_message_is_not_claimed_again(env) -> None:  # type: ignore[no-untyped-def]
    _queue(env)
    taken = env.write(lambda s: [m.id for m in outbox.claim_due(s, "w1", NOW)])
    assert len(taken) == 1
    assert env.write(lambda s: outbox.claim_due(s, "w2", NOW)) == []
    # the lease ran out (w1 died): w2 takes it, and w1's late report is ignored
    later = NOW + outbox.LEASE + timedelta(seconds=1)
    assert env.write(lambda s: [m.id for m in outbox.claim_due(s, "w2", later)]) == taken
    assert env.write(lambda s: outbox.mark_sent(s, taken[0], "w1", later)) is False
    assert env.write(lambda s: outbox.mark_sent(s, taken[0], "w2", later)) is True
    with env.read() as session:
        message = session.get(OutboxMessage, taken[0])
        assert message is not None
        assert message.state is OutboxState.SENT and message.attempts == 2


def test_failures_back_off_then_fail_and_staff_resend(env) -> None:  # type: ignore[no-untyped-def]
    message = _queue(env)
    moment = NOW
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        taken = env.write(lambda s, m=moment: [x.id for x in outbox.claim_due(s, "w", m)])
        assert taken == [message.id]
        env.write(
            lambda s, m=moment: outbox.mark_failed(s, message.id, "w", m, "421 busy", final=False)
        )
        # not due again before its back-off
        assert env.write(lambda s, m=moment: outbox.claim_due(s, "w", m)) == []
        moment += outbox.backoff(attempt)
    with env.read() as session:
        failed = session.get(OutboxMessage, message.id)
        assert failed is not None
        assert failed.state is OutboxState.FAILED and failed.last_error == "421 busy"
    env.write(lambda s: outbox.resend(s, message.id, actor="staff", reason="again", now=moment))
    assert [m.id for m in env.write(lambda s: outbox.claim_due(s, "w", moment))] == [message.id]


def test_backoff_doubles_up_to_its_cap() -> None:
    assert [outbox.backoff(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert outbox.backoff(50) == outbox.MAX_WAIT
