"""The certification cycle (issue 13, ISO/IEC 17024 §9.6) driven by an injected clock: reminders
90, 30 and 7 days before expiry, each once; surveillance due, then overdue, then restarted by a
satisfactory one; what needs a decision; a dry run that changes nothing. On SQLite and
PostgreSQL (the log's unique key and the insert that ignores a conflict are the engine's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer.db.models import (
    Action,
    AuditEvent,
    OutboxMessage,
    ReminderKind,
    ReminderLog,
    State,
    SurveillanceKind,
    SurveillanceOutcome,
)
from issuer.services import catalog, cycle, lifecycle, surveillance
from issuer.services.issuance import IssueRequest
from issuer.services.surveillance import Activity, DueState, add_months, latest_basis
from issuer.worker import Worker

from .support import BACKENDS, NOW

STAFF = "office@example-body.org"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _certify(
    env: Any,
    *,
    expires_in: int = 100,
    email: str | None = "ann@example.org",
    months: int | None = None,
    staff: str | None = STAFF,
    reference: str = "P-1",
) -> str:
    def work(session: Any) -> str:
        scheme = catalog.get_scheme(session, "CWI-2")
        scheme.surveillance_months = months
        catalog.get_body(session).email = staff
        cert = lifecycle.issue(
            session,
            env.ctx,
            IssueRequest(
                scheme_code="CWI-2",
                scope="VT-2",
                person_name="Ann O'Neil",
                person_reference=reference,
                expires=NOW + timedelta(days=expires_in),
            ),
            reason="examination passed",
            actor="t",
            now=NOW,
        )
        cert.person.email = email
        return cert.number

    return str(env.write(work))


def _run(env: Any, at: datetime) -> cycle.CycleReport:
    return cycle.run(env.write, at, public_url="http://127.0.0.1:8000")


def _count(env: Any, model: Any, *where: Any) -> int:
    with env.read() as session:
        return session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _mail(env: Any, kind: str) -> list[OutboxMessage]:
    with env.read() as session:
        return list(
            session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            ).scalars()
        )


def test_reminders_go_90_30_and_7_days_before_expiry_each_once(env) -> None:
    number = _certify(env, expires_in=100)
    expires = (NOW + timedelta(days=100)).date().isoformat()
    sent: dict[int, int] = {}
    for day in range(0, 101):  # every day of the certification, twice a day
        for hour in (0, 12):
            report = _run(env, NOW + timedelta(days=day, hours=hour))
            for note in report.notes:
                assert note.kind is ReminderKind.EXPIRY and note.number == number
                sent[note.threshold] = day
    # 100 days ahead: 90 reached on day 10, 30 on day 70, 7 on day 93; never again.
    assert sent == {90: 10, 30: 70, 7: 93}
    letters = _mail(env, cycle.MAIL_EXPIRY)
    assert [m.recipient for m in letters] == ["ann@example.org"] * 3
    name = "Certified Welding Inspector — Level 2"
    assert all(
        m.subject == f"Your certificate {number} expires on {expires}: {name}" for m in letters
    )
    assert "in 90 days or less" in letters[0].text and "in 7 days or less" in letters[2].text
    assert "Dear Ann O'Neil," in letters[0].text  # plain text is not HTML-escaped
    assert letters[0].html is not None and "Dear Ann O&#39;Neil," in letters[0].html
    staff = _mail(env, cycle.MAIL_STAFF)
    assert [m.recipient for m in staff] == [STAFF] * 3
    assert number in staff[0].text and "http://127.0.0.1:8000/admin/cycle" in staff[0].text
    assert _count(env, ReminderLog) == 3
    # Past the expiry nothing more is sent.
    assert _run(env, NOW + timedelta(days=101)).notes == []


def test_a_run_after_a_pause_sends_only_the_most_urgent_reminder(env) -> None:
    _certify(env, expires_in=100)
    report = _run(env, NOW + timedelta(days=95))  # 5 days left, nothing sent before
    assert [(n.kind, n.threshold) for n in report.notes] == [(ReminderKind.EXPIRY, 7)]
    assert report.person_messages == 1 and report.staff_messages == 1
    assert _run(env, NOW + timedelta(days=96)).notes == []


def test_reminder_days_are_the_schemes_and_a_renewal_starts_a_new_period(env) -> None:
    number = _certify(env, expires_in=100)
    env.write(lambda s: setattr(catalog.get_scheme(s, "CWI-2"), "reminder_days", "60,14"))
    days = [
        day
        for day in range(0, 100)
        for note in _run(env, NOW + timedelta(days=day)).notes
        if note.kind is ReminderKind.EXPIRY
    ]
    assert days == [40, 86]
    env.write(
        lambda s: lifecycle.transition(
            s,
            env.ctx,
            number,
            Action.RENEW,
            reason="recertified",
            actor="t",
            now=NOW + timedelta(days=99),
        )
    )
    # The new period (3 years from day 99) gets its own reminders, 60 days before its end.
    renewed_end = NOW + timedelta(days=99 + 3 * 365)
    report = _run(env, renewed_end - timedelta(days=59))
    assert [(n.threshold, n.period) for n in report.notes] == [(60, renewed_end.date().isoformat())]
    env.write(lambda s: setattr(catalog.get_scheme(s, "CWI-2"), "reminder_days", ""))
    assert _run(env, renewed_end - timedelta(days=1)).notes == []


def test_a_person_without_an_address_is_noted_for_staff_only(env) -> None:
    _certify(env, expires_in=20, email=None, staff=None)
    report = _run(env, NOW)
    assert [n.threshold for n in report.notes] == [30]
    assert (report.person_messages, report.staff_messages) == (0, 0)
    assert _count(env, OutboxMessage) == 0
    with env.read() as session:
        (row,) = session.execute(select(ReminderLog)).scalars()
        assert row.recipient is None and row.kind is ReminderKind.EXPIRY


def test_surveillance_is_due_then_overdue_then_restarted_by_a_satisfactory_one(env) -> None:
    number = _certify(env, expires_in=3 * 365, months=12, reference="S-1")
    due = add_months(NOW.date(), 12)
    notes: list[tuple[ReminderKind, str, int]] = []
    for day in range(300, 380):
        notes += [
            (n.kind, n.period, day)
            for n in _run(env, NOW + timedelta(days=day)).notes
            if n.kind is not ReminderKind.EXPIRY
        ]
    first_due_day = (due - timedelta(days=30) - NOW.date()).days
    overdue_day = (due + timedelta(days=1) - NOW.date()).days
    assert notes == [
        (ReminderKind.SURVEILLANCE_DUE, due.isoformat(), first_due_day),
        (ReminderKind.SURVEILLANCE_OVERDUE, due.isoformat(), overdue_day),
    ]
    at = NOW + timedelta(days=380)
    with env.read() as session:
        assert [c.number for c, d in cycle.surveillance_list(session, at, DueState.OVERDUE)] == [
            number
        ]
        (decision,) = cycle.needs_decision(session, at)
        assert decision.number == number
        assert decision.reasons == ({"code": "surveillance-overdue", "due": due.isoformat()},)
        assert cycle.counts(session, at).surveillance_overdue == 1

    performed = (at - timedelta(days=2)).replace(hour=0)
    env.write(
        lambda s: surveillance.record_surveillance(
            s,
            number,
            Activity(performed, SurveillanceKind.ASSESSMENT, SurveillanceOutcome.SATISFACTORY, ""),
            actor="t",
            now=at,
        )
    )
    with env.read() as session:
        assert cycle.needs_decision(session, at) == []
        assert cycle.counts(session, at).surveillance_overdue == 0
        cert = catalog.get_certification(session, number)
        status = surveillance.status_of(cert, surveillance.records_of(session, cert), at)
    assert status.state is DueState.SCHEDULED
    assert status.due == add_months(performed.date(), 12)
    # The next period is noted again when it falls due.
    again = NOW + timedelta(days=(status.due - NOW.date()).days - 10)
    assert [(n.kind, n.period) for n in _run(env, again).notes] == [
        (ReminderKind.SURVEILLANCE_DUE, status.due.isoformat())
    ]


def test_surveillance_due_on_or_after_the_expiry_is_a_recertification(env) -> None:
    number = _certify(env, expires_in=365, months=12, email=None)
    at = NOW + timedelta(days=350)
    with env.read() as session:
        cert = catalog.get_certification(session, number)
        status = surveillance.status_of(cert, [], at)
        assert status.state is DueState.RECERTIFICATION
        assert cycle.surveillance_list(session, at, DueState.DUE) == []
    assert [n.kind for n in _run(env, at).notes] == [ReminderKind.EXPIRY]


def test_findings_need_a_decision_until_a_lifecycle_move_follows(env) -> None:
    number = _certify(env, expires_in=900, months=12, email=None)
    at = NOW + timedelta(days=40)
    saved = env.write(
        lambda s: (
            surveillance.record_surveillance(
                s,
                number,
                Activity(
                    NOW + timedelta(days=39),
                    SurveillanceKind.DOCUMENT_REVIEW,
                    SurveillanceOutcome.FINDINGS,
                    "CPD log incomplete",
                ),
                actor="t",
                now=at,
            ).id
        )
    )
    with env.read() as session:
        (decision,) = cycle.needs_decision(session, at)
    assert decision.reasons[0] == {
        "code": "surveillance-findings",
        "record": saved,
        "date": (NOW + timedelta(days=39)).date().isoformat(),
        "outcome": "findings",
    }
    # Recording changed nothing by itself: the certification is still active.
    with env.read() as session:
        assert catalog.get_certification(session, number).state_at(at).value == "active"
    env.write(
        lambda s: lifecycle.transition(
            s,
            env.ctx,
            number,
            Action.SUSPEND,
            reason="findings",
            actor="t",
            now=at + timedelta(hours=1),
        )
    )
    with env.read() as session:
        assert cycle.needs_decision(session, at + timedelta(hours=2)) == []


def _state(env: Any) -> tuple[int, ...]:
    return tuple(_count(env, model) for model in (ReminderLog, OutboxMessage, AuditEvent))


def test_a_dry_run_says_what_a_run_would_do_and_changes_nothing(env) -> None:
    _certify(env, expires_in=40, months=1)  # surveillance due on day 30
    before = _state(env)
    at = NOW + timedelta(days=20)
    with env.read() as session:
        planned = cycle.plan(session, at)
    assert _state(env) == before
    data = planned.to_json()
    assert data["dryRun"] is True
    assert [r["threshold"] for r in data["reminders"]] == [30]
    assert [r["kind"] for r in data["surveillanceDue"]] == ["surveillance-due"]
    done = _run(env, at).to_json()
    assert [(n["certification"], n["kind"], n["date"]) for n in done["reminders"]] == [
        (n["certification"], n["kind"], n["date"]) for n in data["reminders"]
    ]
    assert done["emails"] == {"persons": 1, "staff": 1}
    with env.read() as session:
        assert cycle.plan(session, at).notes == []  # nothing left to do


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 11, 27), 12, date(2027, 11, 27)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_months_last_day(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_latest_basis_is_exactly_what_the_sql_filter_needs() -> None:
    """For every day over four years and intervals of 1 to 24 months: ``b`` is due by ``d``
    exactly when ``b <= latest_basis(d, months)``."""
    start = date(2027, 1, 1)
    for months in (1, 2, 6, 12, 13, 24):
        for offset in range(0, 4 * 366, 3):
            due_by = start + timedelta(days=offset)
            basis = latest_basis(due_by, months)
            assert add_months(basis, months) <= due_by
            assert add_months(basis + timedelta(days=1), months) > due_by


def test_due_status_is_pure_and_closed_when_not_live() -> None:
    effective = datetime(2026, 1, 10, 9, tzinfo=UTC)
    expires = datetime(2029, 1, 10, 9, tzinfo=UTC)

    def status(now: datetime, **kwargs: Any) -> surveillance.DueStatus:
        values: dict[str, Any] = {
            "state": State.ACTIVE,
            "effective": effective,
            "expires": expires,
            "months": 12,
            "last_satisfactory": None,
            "now": now,
        }
        return surveillance.due_status(**{**values, **kwargs})

    assert status(datetime(2026, 12, 10, tzinfo=UTC)).state is DueState.SCHEDULED
    assert status(datetime(2026, 12, 11, tzinfo=UTC)).state is DueState.DUE
    assert status(datetime(2027, 1, 10, 23, tzinfo=UTC)).state is DueState.DUE
    assert status(datetime(2027, 1, 11, tzinfo=UTC)).state is DueState.OVERDUE
    assert status(datetime(2027, 1, 11, tzinfo=UTC), months=None).state is DueState.NOT_REQUIRED
    withdrawn = status(datetime(2027, 1, 11, tzinfo=UTC), state=State.WITHDRAWN)
    assert withdrawn.state is DueState.CLOSED
    later = status(
        datetime(2027, 1, 11, tzinfo=UTC), last_satisfactory=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert (later.state, later.due) == (DueState.SCHEDULED, date(2027, 12, 1))


def test_the_job_worker_runs_the_cycle_on_its_interval(env) -> None:
    _certify(env, expires_in=20)
    moments = iter([NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=11)])
    clock = {"now": NOW}
    worker = Worker(
        writer=env.factory,
        context=lambda: env.ctx,
        clock=lambda: clock["now"],
        cycle_every=timedelta(minutes=10),
    )
    clock["now"] = next(moments)
    first = worker.run_cycle()
    assert first is not None and [n.threshold for n in first.notes] == [30]
    clock["now"] = next(moments)
    assert worker.run_cycle() is None  # not time yet
    clock["now"] = next(moments)
    again = worker.run_cycle()
    assert again is not None and again.notes == []  # noted once only
    worker.run_pending()  # the worker's round runs it too, and the jobs; nothing new
    assert _count(env, ReminderLog) == 1
    assert Worker(writer=env.factory, context=lambda: env.ctx).run_cycle() is None  # off
