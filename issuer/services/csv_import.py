"""Bulk CSV import: persons, and optionally a certification issued for each.

Columns (header row required, order free): ``name`` (required), ``reference`` (the body's own
id, unique), ``email`` (optional: where a new person's certificates are delivered; a registered
person keeps the address on record), and for rows that also certify: ``scheme``, ``scope``,
optional ``number`` and ``effective`` (a date, ``YYYY-MM-DD``, or a date-time with a time
zone). Files as spreadsheets save them are read: UTF-8 with or without a byte-order mark,
comma, semicolon or tab separated (the header line's), column names in any case. Good rows are
imported, bad rows are reported with their line number and why; one bad row never stops the
others.

Rows are processed in chunks, one transaction each (the caller runs :func:`import_chunk` through
``run_transaction``), with one audit event per chunk besides one per certification. The rows
of a chunk that certify are issued together (:func:`.issuance.certify`): each is decided
before anything is written, so a refused row leaves nothing behind. Parsing is pure and
streams, so 10,000 rows cost little memory.

Imports are idempotent, so a file can be run again after an interruption: a row whose person
(by ``reference``) is already registered, or already holds a live certification of the row's
scheme (or the row's explicit ``number``), is reported as already present, not imported twice
and not refused.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from contexts.errors import CertvcError

from ..db import in_batches
from ..db.models import Action, Person
from ..errors import FieldError
from . import audit, fields, issuance
from .issuing_context import IssuerContext

COLUMNS = ("name", "reference", "scheme", "scope", "number", "effective", "email")
DELIMITERS = (",", ";", "\t")
#: The template offered for download (admin) and printed by ``certvc import-csv --template``:
#: every column and one example row (a new person certified in the demo scheme).
TEMPLATE = (
    "name,reference,scheme,scope,number,effective,email\r\n"
    'Zoë Ångström-Ōtsuka,P-0001,CWI-2,"VT-2, steel groups 1 and 2",,2026-11-01,'
    "zoe@example.org\r\n"
)
_SAVE_AS = "save it as CSV UTF-8 (Excel: File > Save As > CSV UTF-8)"
MAX_ROWS = 100_000
MAX_CELL = 2000
CHUNK = 500


@dataclass(frozen=True)
class Row:
    line: int
    name: str
    reference: str | None
    scheme: str | None = None
    scope: str | None = None
    number: str | None = None
    effective: datetime | None = None
    email: str | None = None


@dataclass(frozen=True)
class RowError:
    line: int
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.message}


@dataclass
class ImportReport:
    rows: int = 0
    persons: int = 0
    certifications: int = 0
    errors: list[RowError] = field(default_factory=list)
    #: Lines whose person or certification was there already (a re-run): nothing done.
    present: list[int] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.rows += other.rows
        self.persons += other.persons
        self.certifications += other.certifications
        self.errors.extend(other.errors)
        self.present.extend(other.present)

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.rows - len(self.errors) - len(self.present),
            "alreadyPresent": len(self.present),
            "persons": self.persons,
            "certifications": self.certifications,
            "errors": [error.to_json() for error in self.errors],
        }


def _row(line: int, record: dict[str, Any]) -> Row:
    if any(len(value or "") > MAX_CELL for value in record.values() if isinstance(value, str)):
        raise FieldError("row", f"a cell is longer than {MAX_CELL} characters")
    name = fields.required_text(record, "name")
    scheme = fields.code(record, "scheme", required=False)
    scope = fields.text(record, "scope", required=False, max_length=MAX_CELL)
    if scheme and not scope:
        raise FieldError("scope", "is required when a scheme is given")
    if not scheme and (scope or record.get("number") or record.get("effective")):
        raise FieldError("scheme", "is required to certify (scope, number or effective given)")
    return Row(
        line=line,
        name=name,
        reference=fields.text(record, "reference", required=False, max_length=100),
        scheme=scheme,
        scope=scope,
        number=fields.code(record, "number", required=False),
        effective=fields.moment(record, "effective"),
        email=fields.email(record, "email"),
    )


def decode(data: bytes) -> str:
    """The text of an uploaded or read CSV file: UTF-8, with or without a byte-order mark
    (Excel's "CSV UTF-8" writes one).

    :raises FieldError: ``file``: any other encoding, naming how to save the file instead.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FieldError("file", f"the file is UTF-16 text, not UTF-8: {_SAVE_AS}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FieldError("file", f"the file is not UTF-8 text: {_SAVE_AS}") from None


def delimiter(text: str) -> str:
    """The header line's delimiter: the most frequent of comma, semicolon and tab outside
    quotes (ties and a one-column header: comma). The header holds only column names, so
    counting is exact where ``csv.Sniffer`` guesses from the rows too."""
    line = text.lstrip("\ufeff").partition("\n")[0]
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _reader(text: str) -> Iterator[list[str]]:
    body = io.StringIO(text.lstrip("\ufeff"), newline="")
    return csv.reader(body, delimiter=delimiter(text), strict=True)


def _columns(header: list[str] | None) -> list[str]:
    """The header's column names, trimmed and in lower case (``Name`` is ``name``); an empty
    name is a column without a header (a spreadsheet's trailing separator), kept as ``""``.

    :raises FieldError: no ``name`` column, unknown or repeated columns.
    """
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header or []]
    if "name" not in names:
        raise FieldError(
            "file",
            "the header row must name a 'name' column "
            f"(columns: {', '.join(COLUMNS)}; separated by commas, semicolons or tabs)",
        )
    unknown = [
        cell for cell, name in zip(header or [], names, strict=True) if name and name not in COLUMNS
    ]
    if unknown:
        raise FieldError("file", f"unknown columns {unknown}; known: {', '.join(COLUMNS)}")
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    if repeated:
        raise FieldError("file", f"columns named more than once: {', '.join(repeated)}")
    return names


def columns(text: str) -> list[str]:
    """The columns the header row of ``text`` names (see :func:`parse`), checked.

    :raises FieldError: as :func:`parse` for the header.
    """
    try:
        header = next(_reader(text), None)
    except csv.Error as error:
        raise FieldError("file", f"not a CSV file ({error})") from error
    return [name for name in _columns(header) if name]


def parse(text: str) -> Iterator[Row | RowError]:
    """Rows of a CSV document, each a :class:`Row` or a :class:`RowError` with its line.

    As spreadsheets write them: a byte-order mark is skipped; the delimiter (comma,
    semicolon or tab) is the header line's (:func:`delimiter`); column names are trimmed and
    matched in any case; a column without a name must hold nothing.

    :raises FieldError: no header, no ``name`` column, unknown columns, too many rows.
    """
    reader = _reader(text)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FieldError("file", f"not a CSV file ({error})") from error
    names = _columns(header)
    count = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield RowError(reader.line_num, f"unreadable CSV: {error}")
            return
        if not cells:
            continue  # an empty line
        count += 1
        if count > MAX_ROWS:
            raise FieldError("file", f"more than {MAX_ROWS} rows; split the file")
        line = reader.line_num
        if len(cells) > len(names):
            yield RowError(line, "more cells than columns")
            continue
        if all(not value.strip() for value in cells):
            continue  # blank line
        if any(value.strip() for name, value in zip(names, cells, strict=False) if not name):
            yield RowError(line, "a cell under a column without a name in the header row")
            continue
        record: dict[str, str | None] = dict.fromkeys(names[len(cells) :])
        record.update((name, value) for name, value in zip(names, cells, strict=False) if name)
        record.pop("", None)
        try:
            yield _row(line, record)
        except CertvcError as error:
            yield RowError(line, error.message)


def count_rows(text: str) -> int:
    """The data rows of a CSV text, for a progress bar (non-blank lines after the header)."""
    return max(0, sum(1 for line in text.splitlines() if line.strip()) - 1)


def chunks(items: Iterable[Row | RowError], size: int = CHUNK) -> Iterator[list[Row | RowError]]:
    batch: list[Row | RowError] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_chunk(
    session: Session,
    ctx: IssuerContext | None,
    items: Sequence[Row | RowError],
    *,
    source: str,
    reason: str,
    actor: str,
    now: datetime,
    signer: issuance.BatchSigner = issuance.sign_here,
    job: str | None = None,
) -> ImportReport:
    """Import one chunk in the caller's transaction; returns what happened to each row.

    Rows that only register a person are inserted together; rows that certify go to
    :func:`.issuance.certify` together (``skip_present``: a re-run issues nothing twice).
    ``ctx`` may be None for a chunk whose rows certify nobody (no keys needed).
    ``job`` (``<job id>@<worker>``) is recorded in the chunk's audit event.
    """
    reason = audit.check_reason(reason)
    report = ImportReport(rows=len(items))
    rows = [item for item in items if isinstance(item, Row)]
    report.errors.extend(item for item in items if isinstance(item, RowError))
    registering = [row for row in rows if row.scheme is None]
    certifying = [row for row in rows if row.scheme is not None]
    report.persons += _register(session, registering, report, now)
    requests = [
        issuance.IssueRequest(
            scheme_code=row.scheme or "",
            scope=row.scope or "",
            person_name=row.name,
            person_reference=row.reference,
            person_email=row.email,
            number=row.number,
            effective=row.effective,
        )
        for row in certifying
    ]
    outcomes: list[issuance.Outcome] = []
    if requests:
        if ctx is None:
            raise ValueError("rows that certify need an issuing context")
        outcomes = issuance.certify(
            session,
            ctx,
            requests,
            reason=reason,
            actor=actor,
            now=now,
            skip_present=True,
            signer=signer,
        )
    for row, outcome in zip(certifying, outcomes, strict=True):
        if outcome.verdict is issuance.Verdict.ISSUED:
            report.certifications += 1
            report.persons += int(outcome.person_created)
        elif outcome.verdict is issuance.Verdict.PRESENT:
            report.present.append(row.line)
        else:
            assert outcome.error is not None
            report.errors.append(RowError(row.line, outcome.error.message))
    report.errors.sort(key=lambda error: error.line)
    report.present.sort()
    first = items[0].line if items else 0
    last = items[-1].line if items else 0
    audit.record(
        session,
        action=Action.IMPORT,
        actor=actor,
        subject=f"csv:{source}",
        reason=reason,
        now=now,
        details={
            "lines": [first, last],
            "persons": report.persons,
            "certifications": report.certifications,
            "refused": [error.line for error in report.errors],
            **({"job": job} if job else {}),
        },
    )
    return report


def _register(session: Session, rows: Sequence[Row], report: ImportReport, now: datetime) -> int:
    """Insert the persons of rows that do not certify; a person registered already (same
    reference and name) is a re-run. Returns how many were inserted."""
    references = sorted({row.reference for row in rows if row.reference})
    known: dict[str, str] = {}
    for part in in_batches(references):
        for reference, name in session.execute(
            select(Person.reference, Person.name).where(Person.reference.in_(part))
        ):
            known[reference or ""] = name
    new: list[dict[str, Any]] = []
    for row in rows:
        name = known.get(row.reference) if row.reference else None
        if name is not None and name != row.name:
            report.errors.append(
                RowError(row.line, f"reference: {row.reference!r} belongs to another name")
            )
        elif name is not None:
            report.present.append(row.line)
        else:
            new.append(
                {
                    "name": row.name,
                    "reference": row.reference,
                    "created_at": now,
                    "email": row.email,
                }
            )
            if row.reference:
                known[row.reference] = row.name
    if new:
        session.execute(insert(Person), new)
    return len(new)
