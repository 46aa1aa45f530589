"""The register of certified persons: filtered, counted, exported as CSV or JSON.

ISO/IEC 17024 §9.4 asks a body to keep (and on request confirm) who holds which certificate, for
what scope and until when. The register is that list, one row per certification with the state
shown today (``expired`` computed, never stored), read from the database in batches
(``yield_per``) so a register of 100,000 rows is written out without holding it in memory.

The export is personal data: every export is audited (``register.export``, with the filters
and the row count) before a row leaves. The CSV is for spreadsheets, so a cell that a
spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is prefixed with a single quote, as OWASP's "CSV Injection" page advises;
the JSON is data and is written as stored.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from ..db.models import Action, Certification, IssuedCredential, Person, Scheme, State
from ..errors import UnknownReference
from . import audit, fields

#: The longest "expiring within" window, in days (ten years: longer than any scheme's cycle).
MAX_EXPIRING_DAYS = 3660
#: Rows fetched per round trip while streaming.
BATCH = 1000
#: The columns of every export, in order (CSV header, JSON keys).
COLUMNS = (
    "number",
    "name",
    "reference",
    "scheme",
    "scope",
    "effective",
    "expires",
    "state",
    "credentialId",
    "updated",
)
#: A cell starting with one of these is a formula (or becomes one) in a spreadsheet.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_LIVE = (State.ACTIVE, State.SUSPENDED)


class ExportFormat(Enum):
    CSV = "csv"
    JSON = "json"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/json"


@dataclass(frozen=True)
class RegisterFilter:
    """Which certifications: every filter optional, all of them together."""

    scheme: str | None = None
    state: State | None = None
    #: Live (active or suspended) certifications whose expiry falls in the next N days.
    expiring_within: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "state": None if self.state is None else self.state.value,
            "expiringWithin": self.expiring_within,
        }


def parse_filter(data: Mapping[str, Any]) -> RegisterFilter:
    """A filter from untrusted input (query string, form, CLI options) named as in the API:
    ``scheme``, ``state``, ``expiringWithin`` (days).

    :raises FieldError: a malformed value, naming the field.
    """
    state = data.get("state")
    return RegisterFilter(
        scheme=fields.code(data, "scheme", required=False),
        state=fields.choice(data, "state", State) if state not in (None, "") else None,
        expiring_within=parse_days(data),
    )


def parse_days(data: Mapping[str, Any]) -> int | None:
    """``expiringWithin``: whole days from 0 to :data:`MAX_EXPIRING_DAYS` (blank: no filter).

    :raises FieldError:
    """
    raw = data.get("expiringWithin")
    return fields.integer(
        {"expiringWithin": None if raw in (None, "") else raw},
        "expiringWithin",
        minimum=0,
        maximum=MAX_EXPIRING_DAYS,
        required=False,
    )


def check_filter(session: Session, register_filter: RegisterFilter) -> None:
    """:raises UnknownReference: the scheme filter names no scheme (a typo, not an empty
    register)."""
    code = register_filter.scheme
    if (
        code is not None
        and session.execute(select(Scheme.id).where(Scheme.code == code)).first() is None
    ):
        raise UnknownReference("scheme", f"no scheme with code {code!r}")


def state_clauses(state: State | None, now: datetime) -> list[ColumnElement[bool]]:
    """The shown state as SQL: ``expired`` is a live certification past its expiry; active
    and suspended are those not yet past it."""
    if state is None:
        return []
    if state is State.EXPIRED:
        return [Certification.state.in_(_LIVE), Certification.expires <= now]
    if state in _LIVE:
        return [Certification.state == state, Certification.expires > now]
    return [Certification.state == state]


def expiring_clauses(days: int | None, now: datetime) -> list[ColumnElement[bool]]:
    """Live certifications not yet expired whose expiry is at most ``days`` days away."""
    if days is None:
        return []
    return [
        Certification.state.in_(_LIVE),
        Certification.expires > now,
        Certification.expires <= now + timedelta(days=days),
    ]


def _clauses(register_filter: RegisterFilter, now: datetime) -> list[ColumnElement[bool]]:
    clauses = state_clauses(register_filter.state, now)
    clauses += expiring_clauses(register_filter.expiring_within, now)
    if register_filter.scheme is not None:
        clauses.append(Scheme.code == register_filter.scheme)
    return clauses


def _query(register_filter: RegisterFilter, now: datetime) -> Select[Any]:
    # The current credential: the newest one that is not a wallet copy
    # (Certification.current_credential), found in one grouped subquery.
    current = (
        select(
            IssuedCredential.certification_id.label("certification_id"),
            func.max(IssuedCredential.id).label("credential_pk"),
        )
        .where(IssuedCredential.copy_of_id.is_(None))
        .group_by(IssuedCredential.certification_id)
        .subquery()
    )
    return (
        select(
            Certification.number,
            Person.name,
            Person.reference,
            Scheme.code,
            Certification.scope,
            Certification.effective,
            Certification.expires,
            Certification.state,
            IssuedCredential.credential_id,
            Certification.updated_at,
        )
        .join(Person, Person.id == Certification.person_id)
        .join(Scheme, Scheme.id == Certification.scheme_id)
        .outerjoin(current, current.c.certification_id == Certification.id)
        .outerjoin(IssuedCredential, IssuedCredential.id == current.c.credential_pk)
        .where(*_clauses(register_filter, now))
    )


def count(session: Session, register_filter: RegisterFilter, *, now: datetime) -> int:
    stmt = (
        select(func.count(Certification.id))
        .join(Scheme, Scheme.id == Certification.scheme_id)
        .where(*_clauses(register_filter, now))
    )
    return int(session.execute(stmt).scalar_one())


def _stamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def rows(
    session: Session, register_filter: RegisterFilter, *, now: datetime
) -> Iterator[dict[str, Any]]:
    """The register's rows (keys :data:`COLUMNS`), by certificate number, fetched
    :data:`BATCH` at a time."""
    stmt = _query(register_filter, now).order_by(Certification.number)
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    for (
        number,
        name,
        reference,
        scheme,
        scope,
        effective,
        expires,
        state,
        credential_id,
        updated,
    ) in result:
        shown = State.EXPIRED if state in _LIVE and now >= expires else state
        yield {
            "number": number,
            "name": name,
            "reference": reference,
            "scheme": scheme,
            "scope": scope,
            "effective": _stamp(effective),
            "expires": _stamp(expires),
            "state": shown.value,
            "credentialId": credential_id,
            "updated": _stamp(updated),
        }


def record_export(
    session: Session,
    register_filter: RegisterFilter,
    export_format: ExportFormat,
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> int:
    """Check the filter, count the rows and audit the export (before any row leaves): the
    number of rows it will hold.

    :raises UnknownReference: an unknown scheme. :raises FieldError: a reason too long.
    """
    check_filter(session, register_filter)
    total = count(session, register_filter, now=now)
    audit.record(
        session,
        action=Action.REGISTER_EXPORT,
        actor=actor,
        subject="register",
        reason=reason or "register exported",
        now=now,
        details={
            "format": export_format.value,
            "filters": register_filter.to_json(),
            "rows": total,
        },
    )
    return total


# --- writers ------------------------------------------------------------------------------


def neutralise(cell: str) -> str:
    """A CSV cell a spreadsheet will show as text: a leading ``'`` when it starts like a
    formula (OWASP, "CSV Injection")."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


class _Lines:
    """A file-like sink for :func:`csv.writer` that hands back what was written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        text, self.parts = "".join(self.parts), []
        return text


#: Excel reads a UTF-8 CSV as UTF-8 only after a byte-order mark.
CSV_BOM = "\ufeff"


def csv_chunks(records: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The CSV text, a batch of rows at a time: a BOM, the header, one line per row; every
    cell quoted and neutralised."""
    sink = _Lines()
    writer = csv.writer(sink, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    yield CSV_BOM + sink.take()
    pending = 0
    for record in records:
        writer.writerow([neutralise("" if record[c] is None else str(record[c])) for c in COLUMNS])
        pending += 1
        if pending == BATCH:
            yield sink.take()
            pending = 0
    yield sink.take()


def json_chunks(
    records: Iterable[Mapping[str, Any]], register_filter: RegisterFilter, *, now: datetime
) -> Iterator[str]:
    """One JSON object, ``{"generatedAt", "filters", "certifications": [...], "total"}``,
    written a batch of rows at a time (``total`` last: the rows actually written)."""
    head = {"generatedAt": _stamp(now), "filters": register_filter.to_json()}
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "certifications": ['
    total = 0
    parts: list[str] = []
    for record in records:
        parts.append(("," if total else "") + json.dumps(record, ensure_ascii=False))
        total += 1
        if len(parts) == BATCH:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + f'], "total": {total}}}\n'


def chunks(
    records: Iterable[Mapping[str, Any]],
    register_filter: RegisterFilter,
    export_format: ExportFormat,
    *,
    now: datetime,
) -> Iterator[str]:
    if export_format is ExportFormat.CSV:
        return csv_chunks(records)
    return json_chunks(records, register_filter, now=now)


def write(
    out: TextIO,
    session: Session,
    register_filter: RegisterFilter,
    export_format: ExportFormat,
    *,
    now: datetime,
) -> None:
    for chunk in chunks(
        rows(session, register_filter, now=now), register_filter, export_format, now=now
    ):
        out.write(chunk)


# --- counts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemeCounts:
    scheme: str
    counts: Mapping[State, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def counts(session: Session, *, now: datetime) -> list[SchemeCounts]:
    """Certifications per scheme and shown state (every scheme, with zeros), one query."""
    # Grouped over a subquery: PostgreSQL does not see two CASE expressions with their own
    # bound ``now`` as the same expression in SELECT and GROUP BY.
    inner = select(
        Certification.scheme_id.label("scheme_id"),
        Certification.state.label("state"),
        case((Certification.expires <= now, 1), else_=0).label("past"),
    ).subquery()
    grouped = session.execute(
        select(inner.c.scheme_id, inner.c.state, inner.c.past, func.count()).group_by(
            inner.c.scheme_id, inner.c.state, inner.c.past
        )
    ).all()
    found: dict[int, dict[State, int]] = {}
    for scheme_id, state, past, number in grouped:
        stored = State(state) if not isinstance(state, State) else state
        shown = State.EXPIRED if stored in _LIVE and past else stored
        bucket = found.setdefault(scheme_id, {s: 0 for s in State})
        bucket[shown] += number
    schemes = session.execute(select(Scheme.id, Scheme.code).order_by(Scheme.code)).all()
    return [
        SchemeCounts(code, found.get(scheme_id, {s: 0 for s in State}))
        for scheme_id, code in schemes
    ]


def counts_json(table: Iterable[SchemeCounts]) -> list[dict[str, Any]]:
    return [
        {"scheme": row.scheme, **{s.value: row.counts[s] for s in State}, "total": row.total}
        for row in table
    ]
