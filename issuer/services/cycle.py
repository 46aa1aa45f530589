"""The certification cycle (ISO/IEC 17024 §9.6): reminders before expiry, surveillance due and
overdue, and what needs a decision. ``certvc cycle run`` and the job worker run it.

Each run looks at the live certifications and *notes* what is due today:

- ``expiry``: an active certification expires within one of its scheme's reminder days
  (``reminder_days``, 90, 30 and 7 by default). The note is for the smallest threshold
  reached, so a run after a pause sends one reminder, not three. The person is e-mailed when
  they have an address.
- ``surveillance-due``: a surveillance falls due within :data:`DUE_NOTICE_DAYS`;
  ``surveillance-overdue``: its due date has passed (:mod:`issuer.services.surveillance`).

Every note is a :class:`~issuer.db.models.ReminderLog` row, unique per certification, kind,
threshold and period (the expiry or due date), inserted ``ON CONFLICT DO NOTHING`` in the same
transaction as the e-mails it causes (the outbox): a note and its mail are committed together
or not at all, and a second run, on this host or another, at the same moment or later, finds
the row and sends nothing. Staff get one message per transaction listing the new notes (to the
body's e-mail address, when it has one) and see them on the admin UI's cycle page. On
PostgreSQL each transaction also takes an advisory lock, so concurrent runs take turns instead
of doing the same work; on SQLite every write transaction is exclusive already.

A run never changes a certification: what needs a decision (a surveillance overdue, an outcome
with findings not followed by a lifecycle move) is listed for staff, who decide.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased, joinedload

from ..db import in_batches
from ..db.models import (
    Action,
    AuditEvent,
    Certification,
    ReminderKind,
    ReminderLog,
    State,
    SurveillanceOutcome,
    SurveillanceRecord,
)
from . import catalog, mail_templates, outbox
from .surveillance import DUE_NOTICE_DAYS, DueState, due_status, latest_basis, midnight

T = TypeVar("T")
#: The adapter's transaction runner: runs the work in one transaction and commits it.
Transaction = Callable[[Callable[[Session], T]], T]

#: Certifications per transaction of a run.
BATCH = 200
#: "Expiring soon" on the admin home: active certifications expiring within this many days.
EXPIRING_SOON_DAYS = 90
#: The advisory lock PostgreSQL runs take per transaction ("cert" "cycl" in ASCII).
ADVISORY_LOCK = 0x63657274_6379636C
#: The outbox kinds of the cycle's messages.
MAIL_EXPIRY = "reminder.expiry"
MAIL_STAFF = "cycle.staff"
#: The lifecycle moves that count as a decision after a surveillance outcome.
DECISIONS = (
    Action.SUSPEND,
    Action.REINSTATE,
    Action.WITHDRAW,
    Action.RENEW,
    Action.REDUCE_SCOPE,
    Action.REISSUE,
)
_LIVE = (State.ACTIVE, State.SUSPENDED)


@dataclass(frozen=True)
class CyclePolicy:
    """What a run looks for (the defaults are the documented ones)."""

    notice_days: int = DUE_NOTICE_DAYS
    expiring_soon_days: int = EXPIRING_SOON_DAYS
    batch: int = BATCH
    #: The most entries listed under ``needsDecision`` (the count is always complete).
    list_limit: int = 1000


@dataclass(frozen=True)
class Note:
    """One thing the cycle notes for one certification (a :class:`ReminderLog` row to be)."""

    certification_id: int
    number: str
    kind: ReminderKind
    threshold: int
    #: The date it is about: the expiry, or the surveillance due date.
    day: date
    person: str
    email: str | None
    scheme: str
    scheme_name: str = ""

    @property
    def period(self) -> str:
        return self.day.isoformat()

    @property
    def key(self) -> tuple[int, ReminderKind, int, str]:
        return (self.certification_id, self.kind, self.threshold, self.period)

    def to_json(self) -> dict[str, Any]:
        return {
            "certification": self.number,
            "kind": self.kind.value,
            "threshold": self.threshold,
            "date": self.period,
            "person": self.person,
            "emailed": self.kind is ReminderKind.EXPIRY and self.email is not None,
            "scheme": self.scheme,
        }


def notes_for(
    cert: Certification,
    last_satisfactory: datetime | None,
    now: datetime,
    policy: CyclePolicy = CyclePolicy(),
) -> list[Note]:
    """What the cycle notes for ``cert`` at ``now`` (pure; the log decides what is new)."""
    notes = []

    def note(kind: ReminderKind, threshold: int, day: date) -> Note:
        return Note(
            certification_id=cert.id,
            number=cert.number,
            kind=kind,
            threshold=threshold,
            day=day,
            person=cert.person.name,
            email=cert.person.email or None,
            scheme=cert.scheme.code,
            scheme_name=cert.scheme.name,
        )

    if cert.state_at(now) is State.ACTIVE:
        left = cert.expires - now
        reached = [t for t in cert.scheme.reminder_thresholds if left <= timedelta(days=t)]
        if reached:
            notes.append(note(ReminderKind.EXPIRY, min(reached), cert.expires.date()))
    status = due_status(
        state=cert.state,
        effective=cert.effective,
        expires=cert.expires,
        months=cert.scheme.surveillance_months,
        last_satisfactory=last_satisfactory,
        now=now,
        notice_days=policy.notice_days,
    )
    if status.due is not None and status.state is DueState.DUE:
        notes.append(note(ReminderKind.SURVEILLANCE_DUE, policy.notice_days, status.due))
    elif status.due is not None and status.state is DueState.OVERDUE:
        notes.append(note(ReminderKind.SURVEILLANCE_OVERDUE, 0, status.due))
    return notes


# --- finding the candidates -----------------------------------------------------------------


def _satisfactory_since(moment: datetime) -> Any:
    """A satisfactory surveillance of the certification on or after ``moment``."""
    return exists().where(
        SurveillanceRecord.certification_id == Certification.id,
        SurveillanceRecord.outcome == SurveillanceOutcome.SATISFACTORY,
        SurveillanceRecord.performed_on >= moment,
    )


def _surveillance_clause(months: int, due_by: date) -> Any:
    """SQL: the certification's surveillance (``months`` interval) is due by ``due_by``: its
    basis (start, or last satisfactory surveillance) is on or before
    :func:`~issuer.services.surveillance.latest_basis`."""
    after = midnight(latest_basis(due_by, months) + timedelta(days=1))
    return and_(Certification.effective < after, ~_satisfactory_since(after))


def _live(now: datetime) -> list[Any]:
    return [Certification.state.in_(_LIVE), Certification.expires > now]


def candidate_ids(
    session: Session, now: datetime, policy: CyclePolicy = CyclePolicy()
) -> list[int]:
    """Certifications that may have a note today: active ones within their scheme's largest
    reminder days of expiry, and live ones whose surveillance is due within the notice days
    or overdue (an exact SQL filter; :func:`notes_for` then says precisely what)."""
    today = now.astimezone(UTC).date()
    ids: set[int] = set()
    for scheme in catalog.list_schemes(session):
        thresholds = scheme.reminder_thresholds
        if thresholds:
            ids.update(
                session.execute(
                    select(Certification.id).where(
                        Certification.scheme_id == scheme.id,
                        Certification.state == State.ACTIVE,
                        Certification.expires > now,
                        Certification.expires <= now + timedelta(days=max(thresholds)),
                    )
                ).scalars()
            )
        if scheme.surveillance_months:
            due_by = today + timedelta(days=policy.notice_days)
            ids.update(
                session.execute(
                    select(Certification.id).where(
                        Certification.scheme_id == scheme.id,
                        *_live(now),
                        _surveillance_clause(scheme.surveillance_months, due_by),
                    )
                ).scalars()
            )
    return sorted(ids)


def _load(session: Session, ids: Sequence[int]) -> list[tuple[Certification, datetime | None]]:
    """The certifications (person and scheme loaded) with their last satisfactory day."""
    certs = (
        session.execute(
            select(Certification)
            .where(Certification.id.in_(ids))
            .options(joinedload(Certification.person), joinedload(Certification.scheme))
            .order_by(Certification.id)
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )
    last = dict(
        session.execute(
            select(SurveillanceRecord.certification_id, func.max(SurveillanceRecord.performed_on))
            .where(
                SurveillanceRecord.certification_id.in_(ids),
                SurveillanceRecord.outcome == SurveillanceOutcome.SATISFACTORY,
            )
            .group_by(SurveillanceRecord.certification_id)
        ).all()
    )
    return [(cert, _aware(last.get(cert.id))) for cert in certs]


def _aware(moment: datetime | None) -> datetime | None:
    """An aggregate (``max``) bypasses the column type: SQLite gives naive UTC, or text."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _logged(session: Session, ids: Sequence[int]) -> set[tuple[int, ReminderKind, int, str]]:
    found: set[tuple[int, ReminderKind, int, str]] = set()
    for part in in_batches(list(ids)):
        found.update(
            (row.certification_id, row.kind, row.threshold, row.period)
            for row in session.execute(
                select(
                    ReminderLog.certification_id,
                    ReminderLog.kind,
                    ReminderLog.threshold,
                    ReminderLog.period,
                ).where(ReminderLog.certification_id.in_(part))
            )
        )
    return found


def pending_notes(
    session: Session, ids: Sequence[int], now: datetime, policy: CyclePolicy = CyclePolicy()
) -> list[Note]:
    """The notes of certifications ``ids`` at ``now`` not in the log yet."""
    notes: list[Note] = []
    for part in in_batches(list(ids)):
        for cert, last in _load(session, part):
            notes.extend(notes_for(cert, last, now, policy))
    logged = _logged(session, ids)
    return [n for n in notes if n.key not in logged]


# --- what needs a decision ------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """A certification staff should decide about, and why."""

    number: str
    person: str
    scheme: str
    state: State
    expires: datetime
    reasons: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "certification": self.number,
            "person": self.person,
            "scheme": self.scheme,
            "state": self.state.value,
            "expires": self.expires.date().isoformat(),
            "reasons": list(self.reasons),
        }


def _overdue(session: Session, now: datetime) -> list[tuple[Certification, date]]:
    """Live certifications whose surveillance is overdue, with the due date."""
    yesterday = now.astimezone(UTC).date() - timedelta(days=1)
    return _scan(session, now, DueState.OVERDUE, yesterday, DUE_NOTICE_DAYS)


def _scan(
    session: Session, now: datetime, wanted: DueState, due_by: date, notice_days: int
) -> list[tuple[Certification, date]]:
    """Live certifications of every scheme with an interval whose surveillance, due by
    ``due_by`` as far as the database can tell, is ``wanted`` (per :func:`due_status`)."""
    found: list[tuple[Certification, date]] = []
    for scheme in catalog.list_schemes(session):
        if not scheme.surveillance_months:
            continue
        ids = (
            session.execute(
                select(Certification.id).where(
                    Certification.scheme_id == scheme.id,
                    *_live(now),
                    _surveillance_clause(scheme.surveillance_months, due_by),
                )
            )
            .scalars()
            .all()
        )
        for part in in_batches(list(ids)):
            for cert, last in _load(session, part):
                status = due_status(
                    state=cert.state,
                    effective=cert.effective,
                    expires=cert.expires,
                    months=scheme.surveillance_months,
                    last_satisfactory=last,
                    now=now,
                    notice_days=notice_days,
                )
                if status.state is wanted and status.due is not None:
                    found.append((cert, status.due))
    return found


def _with_findings(
    session: Session, now: datetime
) -> list[tuple[Certification, SurveillanceRecord]]:
    """Live certifications whose latest surveillance found something and that no lifecycle
    move followed (recorded after it)."""
    later = aliased(SurveillanceRecord)
    newer = exists().where(
        later.certification_id == SurveillanceRecord.certification_id,
        (later.performed_on > SurveillanceRecord.performed_on)
        | (
            (later.performed_on == SurveillanceRecord.performed_on)
            & (later.id > SurveillanceRecord.id)
        ),
    )
    decided = exists().where(
        AuditEvent.subject == Certification.number,
        AuditEvent.action.in_(DECISIONS),
        AuditEvent.at >= SurveillanceRecord.recorded_at,
    )
    rows = session.execute(
        select(Certification, SurveillanceRecord)
        .join(SurveillanceRecord, SurveillanceRecord.certification_id == Certification.id)
        .where(
            *_live(now),
            SurveillanceRecord.outcome != SurveillanceOutcome.SATISFACTORY,
            ~newer,
            ~decided,
        )
        .options(joinedload(Certification.person), joinedload(Certification.scheme))
        .order_by(Certification.id)
    ).all()
    return [(cert, record) for cert, record in rows]


def needs_decision(session: Session, now: datetime) -> list[Decision]:
    """Every certification that needs a staff decision, by certificate number."""
    reasons: dict[int, list[dict[str, Any]]] = {}
    certs: dict[int, Certification] = {}
    for cert, due in _overdue(session, now):
        certs[cert.id] = cert
        reasons.setdefault(cert.id, []).append(
            {"code": "surveillance-overdue", "due": due.isoformat()}
        )
    for cert, record in _with_findings(session, now):
        certs[cert.id] = cert
        reasons.setdefault(cert.id, []).append(
            {
                "code": "surveillance-findings",
                "record": record.id,
                "date": record.performed_on.date().isoformat(),
                "outcome": record.outcome.value,
            }
        )
    return sorted(
        (
            Decision(
                number=cert.number,
                person=cert.person.name,
                scheme=cert.scheme.code,
                state=cert.state_at(now),
                expires=cert.expires,
                reasons=tuple(reasons[cert.id]),
            )
            for cert in certs.values()
        ),
        key=lambda d: d.number,
    )


# --- counts (the admin home) ----------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    expiring_soon: int
    surveillance_due: int
    surveillance_overdue: int
    #: The "expiring soon" window, in days.
    expiring_days: int = EXPIRING_SOON_DAYS

    def to_json(self) -> dict[str, int]:
        return {
            "expiringSoon": self.expiring_soon,
            "surveillanceDue": self.surveillance_due,
            "surveillanceOverdue": self.surveillance_overdue,
        }


def surveillance_list(
    session: Session, now: datetime, wanted: DueState, policy: CyclePolicy = CyclePolicy()
) -> list[tuple[Certification, date]]:
    """Live certifications whose surveillance is ``wanted`` (DUE or OVERDUE), with the due
    date, soonest first."""
    if wanted is DueState.OVERDUE:
        found = _overdue(session, now)
    else:
        due_by = now.astimezone(UTC).date() + timedelta(days=policy.notice_days)
        found = _scan(session, now, wanted, due_by, policy.notice_days)
    return sorted(found, key=lambda pair: (pair[1], pair[0].number))


def expiring_soon_count(session: Session, now: datetime, days: int = EXPIRING_SOON_DAYS) -> int:
    return session.execute(
        select(func.count())
        .select_from(Certification)
        .where(
            Certification.state == State.ACTIVE,
            Certification.expires > now,
            Certification.expires <= now + timedelta(days=days),
        )
    ).scalar_one()


def counts(session: Session, now: datetime, policy: CyclePolicy = CyclePolicy()) -> Counts:
    """The admin home's three numbers."""
    return Counts(
        expiring_soon=expiring_soon_count(session, now, policy.expiring_soon_days),
        surveillance_due=len(surveillance_list(session, now, DueState.DUE, policy)),
        surveillance_overdue=len(_overdue(session, now)),
        expiring_days=policy.expiring_soon_days,
    )


# --- the run --------------------------------------------------------------------------------


@dataclass
class CycleReport:
    """What a run did (or, dry, would do): the ``--json`` output of ``certvc cycle run``."""

    at: datetime
    dry_run: bool
    notes: list[Note] = field(default_factory=list)
    staff_messages: int = 0
    person_messages: int = 0
    decisions: list[Decision] = field(default_factory=list)
    counts: Counts | None = None
    list_limit: int = 1000

    def to_json(self) -> dict[str, Any]:
        by_kind = {kind: [n for n in self.notes if n.kind is kind] for kind in ReminderKind}
        return {
            "at": self.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "dryRun": self.dry_run,
            "reminders": [n.to_json() for n in by_kind[ReminderKind.EXPIRY]],
            "surveillanceDue": [n.to_json() for n in by_kind[ReminderKind.SURVEILLANCE_DUE]],
            "surveillanceOverdue": [
                n.to_json() for n in by_kind[ReminderKind.SURVEILLANCE_OVERDUE]
            ],
            "emails": {"persons": self.person_messages, "staff": self.staff_messages},
            "needsDecision": [d.to_json() for d in self.decisions[: self.list_limit]],
            "counts": {
                **(self.counts.to_json() if self.counts else {}),
                "needsDecision": len(self.decisions),
            },
        }


def _insert_note(session: Session, note: Note, now: datetime) -> int | None:
    """Insert the note's log row; its id, or None when it is there already (another run)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(ReminderLog)
        .values(
            certification_id=note.certification_id,
            kind=note.kind,
            threshold=note.threshold,
            period=note.period,
            recipient=note.email if note.kind is ReminderKind.EXPIRY else None,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["certification_id", "kind", "threshold", "period"])
        .returning(ReminderLog.id)
    )
    return session.execute(statement).scalar_one_or_none()


def _take_turn(session: Session) -> None:
    """PostgreSQL: one run's transaction at a time (released at commit or rollback)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})


def _apply(
    session: Session,
    ids: Sequence[int],
    now: datetime,
    policy: CyclePolicy,
    public_url: str | None,
) -> tuple[list[Note], int, int]:
    """One transaction: note what is new for ``ids``, with its e-mails; (notes, person
    messages, staff messages)."""
    _take_turn(session)
    fresh: list[tuple[int, Note]] = []
    for cert, last in _load(session, ids):
        for note in notes_for(cert, last, now, policy):
            row_id = _insert_note(session, note, now)
            if row_id is not None:
                fresh.append((row_id, note))
    if not fresh:
        return [], 0, 0
    body = catalog.get_body(session)
    sender = Sender.of(session, public_url)
    persons = 0
    for row_id, note in fresh:
        if note.kind is ReminderKind.EXPIRY and note.email is not None:
            subject, plain, rich = expiry_letter(note, sender)
            if outbox.enqueue(
                session,
                recipient=note.email,
                subject=subject,
                text=plain,
                html=rich,
                kind=MAIL_EXPIRY,
                dedupe_key=f"cycle:{row_id}",
                now=now,
            ):
                persons += 1
    staff = 0
    if body.email:
        subject, plain, rich = staff_letter([n for _, n in fresh], sender)
        first, last_id = fresh[0][0], fresh[-1][0]
        if outbox.enqueue(
            session,
            recipient=body.email,
            subject=subject,
            text=plain,
            html=rich,
            kind=MAIL_STAFF,
            dedupe_key=f"cycle-staff:{first}-{last_id}",
            now=now,
        ):
            staff = 1
    return [n for _, n in fresh], persons, staff


def plan(session: Session, now: datetime, policy: CyclePolicy = CyclePolicy()) -> CycleReport:
    """The dry run: what a run at ``now`` would note and send, and what needs a decision;
    reads only."""
    ids = candidate_ids(session, now, policy)
    return CycleReport(
        at=now,
        dry_run=True,
        notes=pending_notes(session, ids, now, policy),
        decisions=needs_decision(session, now),
        counts=counts(session, now, policy),
        list_limit=policy.list_limit,
    )


def run(
    write: Transaction[Any],
    now: datetime,
    policy: CyclePolicy = CyclePolicy(),
    *,
    public_url: str | None = None,
) -> CycleReport:
    """Note what is due at ``now`` and queue its e-mails, ``policy.batch`` certifications per
    transaction (``write``); safe to run from several processes at once (module docstring).
    ``public_url``: the instance's, for the body's logo and the admin UI's cycle page in the
    messages."""
    ids = write(lambda session: candidate_ids(session, now, policy))
    report = CycleReport(at=now, dry_run=False, list_limit=policy.list_limit)
    for start in range(0, len(ids), policy.batch):
        part = ids[start : start + policy.batch]
        notes, persons, staff = write(
            lambda session, part=part: _apply(session, part, now, policy, public_url)
        )
        report.notes.extend(notes)
        report.person_messages += persons
        report.staff_messages += staff
    report.decisions = write(lambda session: needs_decision(session, now))
    report.counts = write(lambda session: counts(session, now, policy))
    return report


def recent_notes(session: Session, *, limit: int = 100) -> list[tuple[ReminderLog, Certification]]:
    """The latest notes, newest first (the admin UI's cycle page)."""
    rows = session.execute(
        select(ReminderLog, Certification)
        .join(Certification, Certification.id == ReminderLog.certification_id)
        .options(joinedload(Certification.person))
        .order_by(ReminderLog.id.desc())
        .limit(limit)
    ).all()
    return [(log, cert) for log, cert in rows]


# --- the messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    """Who the messages are from: the body's name, site and logo (the claim messages' look,
    :mod:`issuer.services.mail_templates`), and the admin UI's cycle page for staff."""

    body_name: str
    body_url: str
    logo_url: str | None
    admin_url: str | None

    @classmethod
    def of(cls, session: Session, public_url: str | None) -> Sender:
        body = catalog.get_body(session, with_logo=True)
        base = public_url.rstrip("/") if public_url else None
        logo = catalog.body_logo_url(body, base) if base else None
        return cls(
            body_name=body.name,
            body_url=body.url,
            logo_url=logo or body.logo_url,
            admin_url=f"{base}/admin/cycle" if base else None,
        )


def expiry_letter(note: Note, sender: Sender) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the reminder to the certified person."""
    subject = f"Your certificate {note.number} expires on {note.period}: {note.scheme_name}"
    plain, rich = mail_templates.render(
        "reminder",
        {
            "subject": subject,
            "person_name": note.person,
            "certification_name": note.scheme_name,
            "number": note.number,
            "expires": note.period,
            "days": note.threshold,
            "body_name": sender.body_name,
            "body_url": sender.body_url,
            "logo_url": sender.logo_url,
        },
    )
    return subject[:300], plain, rich


_WHAT = {
    ReminderKind.EXPIRY: "expires",
    ReminderKind.SURVEILLANCE_DUE: "surveillance due",
    ReminderKind.SURVEILLANCE_OVERDUE: "surveillance OVERDUE since",
}


def staff_letter(notes: Iterable[Note], sender: Sender) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the staff message listing new notes."""
    listed = list(notes)
    counted: Mapping[ReminderKind, int] = {
        kind: sum(1 for n in listed if n.kind is kind) for kind in ReminderKind
    }
    subject = (
        f"{sender.body_name}: certification cycle, {counted[ReminderKind.EXPIRY]} expiring, "
        f"{counted[ReminderKind.SURVEILLANCE_DUE]} surveillance due, "
        f"{counted[ReminderKind.SURVEILLANCE_OVERDUE]} overdue"
    )
    lines = [
        f"{n.number} {n.person} ({n.scheme}): {_WHAT[n.kind]} {n.period}"
        + (" - the person was e-mailed" if n.kind is ReminderKind.EXPIRY and n.email else "")
        for n in listed
    ]
    plain, rich = mail_templates.render(
        "cycle_staff",
        {
            "subject": subject,
            "body_name": sender.body_name,
            "lines": lines,
            "admin_url": sender.admin_url,
        },
    )
    return subject[:300], plain, rich
