"""Bulk status changes: suspend, reinstate or withdraw every certification a selection finds,
with a dry run that says exactly what would change and what would be refused, and why.

A :class:`Selection` combines optional filters (all of them must hold): a scheme, a shown
state, a list of certificate numbers, a list of person references and an expiry bound. The
dry run (:func:`plan`) reads only. The real run (:func:`apply`) resolves the selection again
and works through it in chunks of :data:`CHUNK` certifications, one transaction each
(:func:`.lifecycle.transition_many`: all or nothing per chunk, each status list the chunk
touches re-signed once, one audit event per certification). Each certification is checked
again on its locked row, so one that changed since the dry run is refused with its reason.

``expect``: the dry run's :attr:`Report.fingerprint`. The real run compares it with the plan
it makes before writing and refuses to start (``conflict``) when they differ, so what it does
is what the person confirming saw (a certification issued meanwhile into a scheme-wide
selection is not swept in unseen).

Only the moves that set status bits are bulk: renewing and reducing a scope are decisions
about one person. Services never commit: :func:`apply` takes the adapter's transaction runner
(``issuer.db.run_transaction`` bound to its session factory) and calls it once per chunk.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session, selectinload

from contexts.errors import CertvcError

from ..db.models import Action, Certification, Person, Scheme, State
from ..errors import Conflict, FieldError, UnknownReference
from . import audit, fields, lifecycle, register
from .issuing_context import IssuerContext

T = TypeVar("T")
#: The adapter's transaction runner: runs the work in one transaction and commits it.
Transaction = Callable[[Callable[[Session], T]], T]

#: The moves a bulk change may make (renew and reduce scope are per person).
BULK_ACTIONS = (Action.SUSPEND, Action.REINSTATE, Action.WITHDRAW)
#: The most certifications one bulk change may select (and numbers or references it may list).
MAX_SELECTION = 10_000
#: Certifications per transaction of a real run.
CHUNK = 200
#: Values per ``IN (...)`` (SQLite's old limit on bound parameters is 999).
_IN_BATCH = 900
_NOT_FOUND = "not_found"


@dataclass(frozen=True)
class Selection:
    """Which certifications: every filter optional, all of them together; at least one."""

    scheme: str | None = None
    #: The shown state (``expired``: live past the expiry), as the register computes it.
    state: State | None = None
    #: Certificate numbers; one that does not exist is reported refused (``not_found``).
    numbers: tuple[str, ...] = ()
    #: Persons' references (the body's own ids): every certification of each person.
    references: tuple[str, ...] = ()
    #: Certifications whose expiry is before this moment (expired ones included).
    expiring_before: datetime | None = None

    @property
    def empty(self) -> bool:
        return (
            self.scheme is None
            and self.state is None
            and not self.numbers
            and not self.references
            and self.expiring_before is None
        )


@dataclass(frozen=True)
class Refusal:
    """A certification (or a listed number or reference) the action does not change, and why:
    ``code`` is a public error code (``transition_not_allowed``, ``not_found``)."""

    number: str | None
    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class Report:
    """What a bulk change did, or would do (``dry_run``): the same shape for both."""

    action: Action
    dry_run: bool
    #: How many certifications the selection found (listed numbers or references that found
    #: nothing are in ``refused`` but not counted here).
    selected: int
    changed: tuple[str, ...]
    refused: tuple[Refusal, ...]
    chunks: int = 0

    @property
    def fingerprint(self) -> str:
        """A digest of what changes and what is refused, and why: the dry run's is passed to the
        real run as ``expect``."""
        payload = json.dumps(
            [
                self.action.value,
                list(self.changed),
                [[r.number, r.code, r.message] for r in self.refused],
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action.value,
            "dryRun": self.dry_run,
            "selected": self.selected,
            "changed": list(self.changed),
            "refused": [r.to_json() for r in self.refused],
            "fingerprint": self.fingerprint,
        }


# --- reading a selection from untrusted input ---------------------------------------------


def parse_action(value: object) -> Action:
    """:raises FieldError: not one of suspend, reinstate, withdraw."""
    allowed = ", ".join(a.value for a in BULK_ACTIONS)
    if not isinstance(value, str) or not value:
        raise FieldError("action", f"is required: one of {allowed}")
    try:
        action = Action(value)
    except ValueError:
        action = None
    if action not in BULK_ACTIONS:
        raise FieldError(
            "action", f"must be one of: {allowed} (renew and reduce-scope are per person)"
        )
    assert action is not None
    return action


def parse_lines(text: str) -> list[tuple[int, str]]:
    """One value a line, with its line number; blank lines and ``#`` comments ignored (a
    numbers file, a textarea)."""
    values = []
    for number, line in enumerate(text.splitlines(), 1):
        value = line.split("#", 1)[0].strip()
        if value:
            values.append((number, value))
    return values


def _listed(raw: object, name: str) -> list[tuple[str, str]]:
    """A list of strings, or a text with one a line: each value with how to name it in an
    error (``numbers[2]``, ``numbers: line 7``)."""
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        return [(f"{name}: line {line}", value) for line, value in parse_lines(raw)]
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise FieldError(name, "must be a list of strings (or a text with one a line)")
    return [(f"{name}[{i}]", v.strip()) for i, v in enumerate(raw, 1) if v.strip()]


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def parse_selection(data: Mapping[str, Any]) -> Selection:
    """A selection from untrusted input named as in the API: ``scheme``, ``state``,
    ``numbers``, ``references`` (lists, or texts with one a line), ``expiringBefore`` (a date
    or a date-time).

    :raises FieldError: a malformed value (naming the field and, in a list, the entry or the
        line), a list longer than :data:`MAX_SELECTION`, or no filter at all.
    """
    state = data.get("state")
    listed_numbers = _listed(data.get("numbers"), "numbers")
    listed_references = _listed(data.get("references"), "references")
    for name, values in (("numbers", listed_numbers), ("references", listed_references)):
        if len(values) > MAX_SELECTION:
            raise FieldError(
                name,
                f"lists {len(values)} values; at most {MAX_SELECTION:,} per bulk change: split it",
            )
    for label, number in listed_numbers:
        fields.code({label: number}, label)
    for label, reference in listed_references:
        fields.text({label: reference}, label, max_length=100)
    numbers = _unique(value for _, value in listed_numbers)
    references = _unique(value for _, value in listed_references)
    selection = Selection(
        scheme=fields.code(data, "scheme", required=False),
        state=fields.choice(data, "state", State) if state not in (None, "") else None,
        numbers=numbers,
        references=references,
        expiring_before=fields.moment(data, "expiringBefore"),
    )
    if selection.empty:
        raise FieldError(
            "selection",
            "is empty: give a scheme, a state, certificate numbers, person references or an "
            "expiry date",
        )
    return selection


# --- resolving a selection ----------------------------------------------------------------


@dataclass
class _Resolved:
    """The certifications a selection finds (ids, in id order) and the listed numbers or
    references that found nothing."""

    ids: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def _clauses(selection: Selection, now: datetime) -> list[ColumnElement[bool]]:
    clauses = register.state_clauses(selection.state, now)
    if selection.scheme is not None:
        clauses.append(Scheme.code == selection.scheme)
    if selection.expiring_before is not None:
        clauses.append(Certification.expires < selection.expiring_before)
    return clauses


def _base(clauses: Sequence[ColumnElement[bool]]) -> Select[int, str]:
    return (
        select(Certification.id, Certification.number)
        .join(Certification.scheme)
        .join(Certification.person)
        .where(*clauses)
    )


def _batches(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), _IN_BATCH):
        yield values[start : start + _IN_BATCH]


def _resolve(session: Session, selection: Selection, now: datetime, limit: int) -> _Resolved:
    """:raises UnknownReference: the scheme does not exist. :raises FieldError: more than
    ``limit`` certifications."""
    if (
        selection.scheme is not None
        and session.execute(select(Scheme.id).where(Scheme.code == selection.scheme)).first()
        is None
    ):
        raise UnknownReference("scheme", f"no scheme with code {selection.scheme!r}")
    clauses = _clauses(selection, now)
    found: dict[int, str] = {}
    resolved = _Resolved()
    if selection.numbers or selection.references:
        by_number: dict[int, str] = {}
        for batch in _batches(selection.numbers):
            statement = _base([*clauses, Certification.number.in_(batch)])
            by_number.update((row[0], row[1]) for row in session.execute(statement))
        by_reference: dict[int, str] = {}
        reference_of: dict[int, str] = {}
        for batch in _batches(selection.references):
            with_reference = (
                select(Certification.id, Certification.number, Person.reference)
                .join(Certification.scheme)
                .join(Certification.person)
                .where(*clauses, Person.reference.in_(batch))
            )
            for cert_id, number, reference in session.execute(with_reference):
                by_reference[cert_id] = number
                reference_of[cert_id] = reference or ""
        if selection.numbers and selection.references:
            # Both lists: the certifications both find (like every other filter).
            found = {k: v for k, v in by_number.items() if k in by_reference}
        else:
            found = by_number or by_reference
        matched_references = {reference_of[k] for k in found if k in reference_of}
        resolved.refused += _not_found_numbers(session, selection, set(found.values()))
        resolved.refused += _not_found_references(session, selection, matched_references)
    else:
        total = session.execute(
            select(func.count()).select_from(_base(clauses).subquery())
        ).scalar_one()
        _check_size(total, limit)
        found.update((row[0], row[1]) for row in session.execute(_base(clauses)))
    _check_size(len(found), limit)
    resolved.ids = sorted(found)
    return resolved


def _check_size(total: int, limit: int) -> None:
    if total > limit:
        raise FieldError(
            "selection",
            f"finds {total:,} certifications; at most {limit:,} per bulk change: narrow it "
            "(a scheme, a state, an expiry date) or split the list",
        )


def _not_found_numbers(session: Session, selection: Selection, matched: set[str]) -> list[Refusal]:
    """Listed numbers the selection does not find: unknown, or excluded by another filter."""
    missing = [n for n in selection.numbers if n not in matched]
    existing: set[str] = set()
    for batch in _batches(missing):
        existing.update(
            session.execute(select(Certification.number).where(Certification.number.in_(batch)))
            .scalars()
            .all()
        )
    return [
        Refusal(
            number,
            _NOT_FOUND,
            f"certification {number} does not match the other filters of the selection"
            if number in existing
            else f"no certification with number {number}",
        )
        for number in missing
    ]


def _not_found_references(
    session: Session, selection: Selection, matched: set[str]
) -> list[Refusal]:
    missing = [r for r in selection.references if r not in matched]
    existing: set[str] = set()
    for batch in _batches(missing):
        existing.update(
            r
            for r in session.execute(select(Person.reference).where(Person.reference.in_(batch)))
            .scalars()
            .all()
            if r is not None
        )
    return [
        Refusal(
            None,
            _NOT_FOUND,
            f"the person with reference {reference!r} has no certification matching the "
            "other filters"
            if reference in existing
            else f"no person with reference {reference!r}",
        )
        for reference in missing
    ]


# --- the dry run and the real run ---------------------------------------------------------


def _refused(number: str, error: CertvcError) -> Refusal:
    return Refusal(number, str(error.code), error.message)


def _check_action(action: Action) -> None:
    if action not in BULK_ACTIONS:
        parse_action(action.value)  # raises, naming the allowed actions


def _plan(
    session: Session, selection: Selection, action: Action, now: datetime, limit: int
) -> tuple[Report, list[int]]:
    """The dry run's report and the ids of the certifications it would change."""
    _check_action(action)
    resolved = _resolve(session, selection, now, limit)
    changed: list[str] = []
    changing: list[int] = []
    refused: list[Refusal] = []
    for start in range(0, len(resolved.ids), CHUNK):
        certs = session.execute(
            select(Certification)
            .where(Certification.id.in_(resolved.ids[start : start + CHUNK]))
            .order_by(Certification.id)
            .options(selectinload(Certification.credentials))
        ).scalars()
        for cert in certs:
            error = lifecycle.refusal(cert, action, now)
            if error is None:
                changed.append(cert.number)
                changing.append(cert.id)
            else:
                refused.append(_refused(cert.number, error))
    report = Report(
        action=action,
        dry_run=True,
        selected=len(resolved.ids),
        changed=tuple(changed),
        refused=(*refused, *resolved.refused),
    )
    return report, changing


def plan(
    session: Session,
    selection: Selection,
    action: Action,
    now: datetime,
    *,
    limit: int = MAX_SELECTION,
) -> Report:
    """The dry run: what ``action`` would change and what it would refuse, and why. Reads only.

    :raises FieldError: too many certifications, or not a bulk action.
    :raises UnknownReference: unknown scheme.
    """
    return _plan(session, selection, action, now, limit)[0]


def apply(
    write: Transaction[Any],
    ctx: IssuerContext,
    selection: Selection,
    action: Action,
    *,
    reason: str,
    actor: str,
    now: datetime,
    expect: str | None = None,
    limit: int = MAX_SELECTION,
    chunk_size: int = CHUNK,
) -> Report:
    """The real run: ``action`` applied to what the plan made now would change,
    ``chunk_size`` certifications per transaction (``write``), each chunk all or nothing.
    Reports as :func:`plan` does; a certification that changed since the plan (meanwhile,
    elsewhere) is refused with its reason.

    :raises ReasonRequired: :raises FieldError: too many certifications, not a bulk action.
    :raises UnknownReference: unknown scheme. :raises Conflict: ``expect`` is not the
        fingerprint of the plan made now: nothing was changed.
    """
    _check_action(action)
    reason = audit.check_reason(reason)
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    planned, changing = write(lambda s: _plan(s, selection, action, now, limit))
    if expect is not None and expect != planned.fingerprint:
        raise Conflict(
            "the selection no longer gives what the dry run showed (certifications changed "
            "since): nothing was done; run the dry run again and check it"
        )
    changed: list[str] = []
    late: list[Refusal] = []
    chunks = 0
    for start in range(0, len(changing), chunk_size):
        ids = changing[start : start + chunk_size]

        def work(session: Session, ids: list[int] = ids) -> list[tuple[str, Refusal | None]]:
            outcomes = lifecycle.transition_many(
                session, ctx, ids, action, reason=reason, actor=actor, now=now
            )
            return [
                (cert.number, None if error is None else _refused(cert.number, error))
                for cert, error in outcomes
            ]

        for number, refusal in write(work):
            if refusal is None:
                changed.append(number)
            else:
                late.append(refusal)
        chunks += 1
    # What the plan would change and no chunk found (deleted meanwhile) is refused too.
    seen = {*changed, *(r.number for r in late)}
    late += [
        Refusal(n, _NOT_FOUND, f"certification {n} no longer exists")
        for n in planned.changed
        if n not in seen
    ]
    return Report(
        action=action,
        dry_run=False,
        selected=planned.selected,
        changed=tuple(changed),
        refused=(*planned.refused, *late),
        chunks=chunks,
    )
