"""The certification lifecycle: every legal move, every illegal one refused, all audited."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contexts.loader import default_store
from issuer.db.models import (
    Action,
    AuditEvent,
    Certification,
    CredentialState,
    IssuedCredential,
    State,
    StatusEntry,
    StatusList,
)
from issuer.errors import (
    AlreadyExists,
    FieldError,
    IssuerCode,
    ReasonRequired,
    TransitionNotAllowed,
    UnknownReference,
)
from issuer.services import audit, lifecycle, status_lists
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.model.status_list import StatusPurpose

from .support import NOW

LATER = NOW + timedelta(days=30)


def _issue(env, **changes):
    request = lifecycle.IssueRequest(
        scheme_code="CWI-2", scope="steel groups 1 and 2", person_name="Ada Lovelace", **changes
    )
    return env.write(
        lambda s: (
            lifecycle.issue(
                s, env.ctx, request, reason="committee 2026-11", actor="t", now=NOW
            ).number
        )
    )


def _act(env, number, action, *, now=LATER, reason="decided", **kwargs):
    return env.write(
        lambda s: lifecycle.certification_json(
            lifecycle.transition(
                s, env.ctx, number, action, reason=reason, actor="officer", now=now, **kwargs
            ),
            now,
        )
    )


def _bits(env, number):
    """{(credential id, purpose): bit} for every credential of the certification."""
    with env.read() as session:
        cert = session.execute(
            select(Certification).where(Certification.number == number)
        ).scalar_one()
        found = {}
        for credential in cert.credentials:
            for entry in credential.status_entries:
                row = session.get(StatusList, entry.list_id)
                found[(credential.credential_id, entry.purpose)] = status_lists.bit(
                    row, entry.status_index
                )
        return found


def test_issue_records_certification_credential_and_audit_event(env) -> None:
    number = _issue(env, number="CWI-2-2026-000042", person_reference="P-1")
    with env.read() as session:
        cert = session.execute(select(Certification)).scalar_one()
        assert (cert.number, cert.state, cert.scope) == (
            number,
            State.ACTIVE,
            "steel groups 1 and 2",
        )
        assert cert.expires - cert.effective == timedelta(days=cert.scheme.validity_days)
        credential = cert.current_credential
        assert credential.key_id.startswith(env.ctx.did + "#ed25519-")
        assert {e.purpose for e in credential.status_entries} == {
            StatusPurpose.REVOCATION,
            StatusPurpose.SUSPENSION,
        }
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.ISSUE)
        ).scalar_one()
        assert (event.subject, event.reason, event.actor) == (number, "committee 2026-11", "t")
        assert json.loads(event.details)["credentialId"] == credential.credential_id
        document = json.loads(credential.document)
    assert document["credentialSubject"]["licenseNumber"] == number
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({env.ctx.did: env.ctx.keyring.did_document()}),
        canonicalizer=FAST,
    )
    assert verify_credential(document, policy, now=LATER).verified


def test_suspend_reinstate_flip_the_suspension_bit(env) -> None:
    number = _issue(env)
    assert _act(env, number, Action.SUSPEND)["state"] == "suspended"
    credential_id = next(iter(_bits(env, number)))[0]
    assert _bits(env, number)[(credential_id, StatusPurpose.SUSPENSION)]
    assert _act(env, number, Action.REINSTATE)["state"] == "active"
    assert not _bits(env, number)[(credential_id, StatusPurpose.SUSPENSION)]
    assert not _bits(env, number)[(credential_id, StatusPurpose.REVOCATION)]


def test_withdraw_sets_the_revocation_bit_and_is_final(env) -> None:
    number = _issue(env)
    assert _act(env, number, Action.WITHDRAW)["state"] == "withdrawn"
    assert any(
        bit
        for (_, purpose), bit in _bits(env, number).items()
        if purpose is StatusPurpose.REVOCATION
    )
    for action in lifecycle.LIFECYCLE_ACTIONS:
        with pytest.raises(TransitionNotAllowed):
            _act(env, number, action, scope="less")


def test_renew_supersedes_the_old_credential(env) -> None:
    """ISO/IEC 17024 recertification: a new period, a new credential; the old one's revocation
    bit is set, its record says superseded and points at the new one (docs/lifecycle.md)."""
    number = _issue(env)
    renewed = _act(env, number, Action.RENEW, now=NOW + timedelta(days=1000))
    old, new = renewed["credentials"]
    assert old["state"] == "superseded" and new["state"] == "active"
    assert new["validFrom"] == "2029-08-23T12:00:00Z"
    assert new["validUntil"] > old["validUntil"]
    bits = _bits(env, number)
    assert (
        bits[(old["id"], StatusPurpose.REVOCATION)]
        and not bits[(new["id"], StatusPurpose.REVOCATION)]
    )
    with env.read() as session:
        rows = (
            session.execute(select(IssuedCredential).order_by(IssuedCredential.id)).scalars().all()
        )
        assert rows[0].superseded_by_id == rows[1].id
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.RENEW)
        ).scalar_one()
        assert json.loads(event.details)["superseded"] == old["id"]


def test_reduce_scope_withdraws_and_reissues_narrower(env) -> None:
    number = _issue(env)
    reduced = _act(env, number, Action.REDUCE_SCOPE, scope="steel group 1")
    old, new = reduced["credentials"]
    assert reduced["scope"] == "steel group 1" and reduced["state"] == "active"
    assert old["state"] == "superseded" and new["validUntil"] == old["validUntil"]
    with env.read() as session:
        document = json.loads(
            session.execute(
                select(IssuedCredential.document).where(IssuedCredential.credential_id == new["id"])
            ).scalar_one()
        )
    assert document["credentialSubject"]["achievement"]["description"] == "Scope: steel group 1"
    with pytest.raises(FieldError):
        _act(env, number, Action.REDUCE_SCOPE, scope="steel group 1")  # not narrower: the same


def test_expiry_is_shown_as_a_state_and_renew_is_allowed(env) -> None:
    number = _issue(env)
    after_expiry = NOW + timedelta(days=4 * 365)
    with env.read() as session:
        cert = session.execute(select(Certification)).scalar_one()
        assert cert.state is State.ACTIVE  # stored
        assert cert.state_at(after_expiry) is State.EXPIRED  # shown
    with pytest.raises(TransitionNotAllowed):
        _act(env, number, Action.SUSPEND, now=after_expiry)
    assert _act(env, number, Action.RENEW, now=after_expiry)["state"] == "active"


TABLE = [
    # (setup actions, action, allowed)
    ((), Action.SUSPEND, True),
    ((), Action.REINSTATE, False),
    ((), Action.WITHDRAW, True),
    ((), Action.RENEW, True),
    ((), Action.REDUCE_SCOPE, True),
    ((Action.SUSPEND,), Action.SUSPEND, False),
    ((Action.SUSPEND,), Action.REINSTATE, True),
    ((Action.SUSPEND,), Action.WITHDRAW, True),
    ((Action.SUSPEND,), Action.RENEW, False),
    ((Action.SUSPEND,), Action.REDUCE_SCOPE, False),
]


@pytest.mark.parametrize(("setup", "action", "allowed"), TABLE)
def test_transition_table(env, setup, action, allowed) -> None:
    """ISO/IEC 17024 §9.6: suspension is reversible, withdrawal is not; one function decides."""
    number = _issue(env)
    for step in setup:
        _act(env, number, step)
    with env.read() as session:
        events_before = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    if allowed:
        _act(env, number, action, scope="narrower")
    else:
        with pytest.raises(TransitionNotAllowed) as refused:
            _act(env, number, action, scope="narrower")
        assert refused.value.code is IssuerCode.TRANSITION_NOT_ALLOWED
        with env.read() as session:
            assert (
                session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
                == events_before
            )


@pytest.mark.parametrize("reason", ["", "   ", None, 42])
def test_every_action_needs_a_reason(env, reason) -> None:
    number = _issue(env)
    with pytest.raises(ReasonRequired):
        _act(env, number, Action.SUSPEND, reason=reason)
    with pytest.raises(ReasonRequired):
        env.write(
            lambda s: lifecycle.issue(
                s,
                env.ctx,
                lifecycle.IssueRequest("CWI-2", "x", person_name="B"),
                reason=reason,
                actor="t",
                now=NOW,
            )
        )


def test_issue_refuses_unknown_scheme_taken_number_and_bad_dates(env) -> None:
    number = _issue(env)
    unknown = lifecycle.IssueRequest("NOPE", "x", person_name="B")
    with pytest.raises(UnknownReference):
        env.write(lambda s: lifecycle.issue(s, env.ctx, unknown, reason="r", actor="t", now=NOW))
    with pytest.raises(AlreadyExists):
        _issue(env, number=number)
    with pytest.raises(FieldError):
        _issue(env, effective=NOW, expires=NOW - timedelta(days=1))


def test_a_failure_midway_leaves_nothing_half_written(env, monkeypatch) -> None:
    """No credential without its record, status allocation and audit event: a failure in the
    last step (the audit append) rolls back everything the action wrote."""
    number = _issue(env)

    def snapshot():
        with env.read() as session:
            lists = [
                (row.id, row.version, row.bits, row.signed)
                for row in session.execute(select(StatusList).order_by(StatusList.id)).scalars()
            ]
            counts = [
                session.execute(select(func.count()).select_from(model)).scalar_one()
                for model in (Certification, IssuedCredential, StatusEntry, AuditEvent)
            ]
            states = session.execute(select(Certification.state)).scalars().all()
            return lists, counts, states

    before = snapshot()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    monkeypatch.setattr(audit, "record_many", broken)
    with pytest.raises(RuntimeError):
        _issue(env)
    with pytest.raises(RuntimeError):
        _act(env, number, Action.RENEW)
    with pytest.raises(RuntimeError):
        _act(env, number, Action.SUSPEND)
    assert snapshot() == before


def test_vc_api_status_on_a_certification_credential_is_the_lifecycle_action(env) -> None:
    number = _issue(env)
    with env.read() as session:
        credential_id = session.execute(select(IssuedCredential.credential_id)).scalar_one()

    def set_(purpose, value):
        return env.write(
            lambda s: (
                lifecycle.set_credential_status(
                    s,
                    env.ctx,
                    credential_id,
                    purpose,
                    value,
                    reason="api",
                    actor="token:x",
                    now=LATER,
                ).state
            )
        )

    assert set_(StatusPurpose.SUSPENSION, True) is CredentialState.SUSPENDED
    with env.read() as session:
        assert session.execute(select(Certification.state)).scalar_one() is State.SUSPENDED
    assert set_(StatusPurpose.SUSPENSION, False) is CredentialState.ACTIVE
    assert set_(StatusPurpose.REVOCATION, True) is CredentialState.REVOKED
    with pytest.raises(TransitionNotAllowed):
        set_(StatusPurpose.REVOCATION, False)  # a revocation is final
    with env.read() as session:
        actions = [
            e.action for e in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        ]
    assert actions[-3:] == [Action.SUSPEND, Action.REINSTATE, Action.WITHDRAW]
    with env.read() as session:
        assert audit.verify_chain(session).ok
    assert number


def test_a_single_issuance_that_draws_taken_values_draws_again(env) -> None:
    """One issuance draws its number, credential id and status indexes without asking the
    database first (issue 15: fewer round trips); a collision is refused by the unique
    constraints and the issuance is drawn again, checked, and succeeds."""
    first = _issue(env)
    replay = dataclasses.replace(env.ctx, rng=random.Random(7))  # the same draws as env.ctx's
    again = dataclasses.replace(env.ctx, rng=random.Random(7))
    taken = env.write(
        lambda s: (
            lifecycle.issue(
                s,
                replay,
                lifecycle.IssueRequest("CWI-2", "steel", person_name="Grace Hopper"),
                reason="r",
                actor="t",
                now=NOW,
            ).number
        )
    )
    second = env.write(
        lambda s: (
            lifecycle.issue(
                s,
                again,
                lifecycle.IssueRequest("CWI-2", "steel", person_name="Alan Turing"),
                reason="r",
                actor="t",
                now=NOW,
            ).number
        )
    )
    assert len({first, taken, second}) == 3
    with env.read() as session:
        entries = session.execute(select(StatusEntry.list_id, StatusEntry.status_index)).all()
        assert len(entries) == len(set(entries)) == 6
        assert audit.verify_chain(session).ok
