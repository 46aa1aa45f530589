"""Surveillance of certified persons (ISO/IEC 17024 §9.6): what staff did, what they found, and
when the next surveillance falls due.

Staff record each activity (its date, kind and outcome, notes, files) on a certification; the
record is audited (``surveillance.record``, with the attachments' SHA-256, never their bytes) in
the caller's one transaction. An outcome other than satisfactory may lead to a decision
(suspend, withdraw, reduce the scope), which staff take through the lifecycle's own moves: a
record never changes a certification by itself.

The next surveillance is due the scheme's interval (``surveillance_months``) after the later of
the certification's start (``effective``: a renewal restarts the cycle) and the last
satisfactory surveillance. A due date on or after the expiry is no surveillance: the
recertification takes its place. Dates are whole days in UTC.

Attachments are attacker-controlled files staff will open: each is size-capped (the adapter's
configured limit, :data:`DEFAULT_MAX_ATTACHMENT_BYTES` by default), and its type is found from
its content, never from its name or the browser's word: PDF, PNG and JPEG (decoded headers),
or UTF-8 plain text. Anything else is refused, and a refused file refuses the whole record, so
nothing is written.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from contexts.errors import ErrorCode

from ..db.models import (
    Action,
    AttachmentType,
    Certification,
    State,
    SurveillanceAttachment,
    SurveillanceKind,
    SurveillanceOutcome,
    SurveillanceRecord,
)
from ..errors import FieldError, NotFound, TransitionNotAllowed
from . import audit, catalog, fields
from .lifecycle import ALLOWED

MIB = 1024 * 1024
#: The largest attachment by default (``SURVEILLANCE_MAX_ATTACHMENT_BYTES`` changes it).
DEFAULT_MAX_ATTACHMENT_BYTES = 5 * MIB
#: Attachments per record.
MAX_ATTACHMENTS = 10
MAX_NOTES = 10_000
#: Days before a surveillance's due date from which it is shown (and noted) as due.
DUE_NOTICE_DAYS = 30

_PDF = b"%PDF-"
_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
#: Text may hold tabs, line ends and form feeds; any other control character is refused.
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_NAME_UNSAFE = re.compile(r"[\x00-\x1f\x7f\"\\/:*?<>|]")


# --- dates ----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the 31st clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_basis(due_by: date, months: int) -> date:
    """The latest day from which a surveillance ``months`` later is due by ``due_by``: the
    largest ``b`` with ``add_months(b, months) <= due_by`` (what an SQL filter compares)."""
    basis = add_months(due_by, -months)
    while add_months(basis + timedelta(days=1), months) <= due_by:
        basis += timedelta(days=1)
    return basis


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


class DueState(Enum):
    """Where a certification stands in its surveillance cycle on a given day."""

    NOT_REQUIRED = "not-required"  # the scheme has no surveillance interval
    SCHEDULED = "scheduled"  # due later than the notice window
    DUE = "due"  # due within the notice window (today included)
    OVERDUE = "overdue"  # its due date has passed
    RECERTIFICATION = "recertification"  # due on or after the expiry: recertification instead
    CLOSED = "closed"  # withdrawn or expired: no surveillance any more


@dataclass(frozen=True)
class DueStatus:
    state: DueState
    due: date | None
    #: The day the interval runs from: the start or the last satisfactory surveillance.
    basis: date | None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "due": None if self.due is None else self.due.isoformat(),
            "basis": None if self.basis is None else self.basis.isoformat(),
        }


def due_status(
    *,
    state: State,
    effective: datetime,
    expires: datetime,
    months: int | None,
    last_satisfactory: datetime | None,
    now: datetime,
    notice_days: int = DUE_NOTICE_DAYS,
) -> DueStatus:
    """The surveillance status of one certification at ``now`` (pure: its stored ``state``,
    dates and scheme interval, and the day of its last satisfactory surveillance)."""
    if state not in (State.ACTIVE, State.SUSPENDED) or now >= expires:
        return DueStatus(DueState.CLOSED, None, None)
    if months is None:
        return DueStatus(DueState.NOT_REQUIRED, None, None)
    basis = effective.astimezone(UTC).date()
    if last_satisfactory is not None:
        basis = max(basis, last_satisfactory.astimezone(UTC).date())
    due = add_months(basis, months)
    today = now.astimezone(UTC).date()
    if due >= expires.astimezone(UTC).date():
        return DueStatus(DueState.RECERTIFICATION, due, basis)
    if due < today:
        return DueStatus(DueState.OVERDUE, due, basis)
    if due <= today + timedelta(days=notice_days):
        return DueStatus(DueState.DUE, due, basis)
    return DueStatus(DueState.SCHEDULED, due, basis)


def last_satisfactory(records: Sequence[SurveillanceRecord]) -> datetime | None:
    days = [r.performed_on for r in records if r.outcome is SurveillanceOutcome.SATISFACTORY]
    return max(days) if days else None


def status_of(
    cert: Certification,
    records: Sequence[SurveillanceRecord],
    now: datetime,
    notice_days: int = DUE_NOTICE_DAYS,
) -> DueStatus:
    return due_status(
        state=cert.state,
        effective=cert.effective,
        expires=cert.expires,
        months=cert.scheme.surveillance_months,
        last_satisfactory=last_satisfactory(records),
        now=now,
        notice_days=notice_days,
    )


# --- attachments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file as the adapter received it: the name the sender gave and its bytes (read no
    further than one byte past the limit, so an oversized file is known without reading it
    all)."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class CheckedAttachment:
    filename: str
    media_type: AttachmentType
    content: bytes
    sha256: str


def _image_ok(data: bytes, expected: str) -> bool:
    """Pillow reads the header and checks the file's structure (``verify`` decodes no
    pixels); a decompression bomb's warning counts as a refusal."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.format != expected:
                    return False
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return False
    except Image.DecompressionBombWarning:
        return False
    return True


def _text_ok(data: bytes) -> bool:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return _TEXT_CONTROL.search(text.removeprefix("\ufeff")) is None


def detect_type(data: bytes) -> AttachmentType | None:
    """The file's type from its content, or None when it is none of those allowed."""
    if data.startswith(_PDF):
        return AttachmentType.PDF
    if data.startswith(_PNG):
        return AttachmentType.PNG if _image_ok(data, "PNG") else None
    if data.startswith(_JPEG):
        return AttachmentType.JPEG if _image_ok(data, "JPEG") else None
    if data and _text_ok(data):
        return AttachmentType.TEXT
    return None


#: The file name endings each type may have (a name without one is taken as it is).
_EXTENSIONS = {
    AttachmentType.PDF: frozenset({"pdf"}),
    AttachmentType.PNG: frozenset({"png"}),
    AttachmentType.JPEG: frozenset({"jpg", "jpeg"}),
    AttachmentType.TEXT: frozenset({"txt", "text", "csv", "log", "md"}),
}


def _extension(name: str) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    return base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def safe_filename(name: str, media_type: AttachmentType, index: int) -> str:
    """A name fit to show and to offer as a download: no folders, no control or reserved
    characters, at most 150 characters, ending in the extension of the type found."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _NAME_UNSAFE.sub("_", base).strip(" .")
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = stem[:140] or f"attachment-{index + 1}"
    return f"{stem}.{media_type.extension}"


_KIND_NAMES = {
    AttachmentType.PDF: "a PDF",
    AttachmentType.PNG: "a PNG image",
    AttachmentType.JPEG: "a JPEG image",
    AttachmentType.TEXT: "text",
}


def _size_text(count: int) -> str:
    return f"{count / MIB:.0f} MiB" if count % MIB == 0 else f"{count:,} bytes"


def check_attachment(upload: Upload, index: int, *, max_bytes: int) -> CheckedAttachment:
    """:raises FieldError: ``input_too_large`` (over ``max_bytes``), ``unsupported_media_type``
    (not a PDF, PNG, JPEG or UTF-8 text file), ``field_invalid`` (empty), naming the file."""
    field = f"attachments[{index}]"
    shown = (upload.filename or "").rsplit("/", 1)[-1][:80] or f"file {index + 1}"
    if len(upload.data) > max_bytes:
        raise FieldError(
            field,
            f"{shown!r} is larger than the limit of {_size_text(max_bytes)} per file "
            "(nothing was recorded)",
            code=ErrorCode.INPUT_TOO_LARGE,
        )
    if not upload.data:
        raise FieldError(field, f"{shown!r} is empty")
    media_type = detect_type(upload.data)
    if media_type is None:
        raise FieldError(
            field,
            f"{shown!r} is not a PDF, PNG, JPEG or UTF-8 text file (nothing was recorded)",
            code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        )
    extension = _extension(upload.filename)
    if extension and extension not in _EXTENSIONS[media_type]:
        raise FieldError(
            field,
            f"{shown!r} is named .{extension} but holds {_KIND_NAMES[media_type]}: only PDF, "
            "PNG, JPEG and text files are kept, under their own name (nothing was recorded)",
            code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        )
    return CheckedAttachment(
        filename=safe_filename(upload.filename, media_type, index),
        media_type=media_type,
        content=upload.data,
        sha256=hashlib.sha256(upload.data).hexdigest(),
    )


# --- recording ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """A surveillance activity as checked input."""

    performed_on: datetime
    kind: SurveillanceKind
    outcome: SurveillanceOutcome
    notes: str


def parse_activity(data: Mapping[str, Any]) -> Activity:
    """``date`` (YYYY-MM-DD), ``kind``, ``outcome``, ``notes`` from untrusted input.

    :raises FieldError:
    """
    moment = fields.moment(data, "date", required=True)
    assert moment is not None
    return Activity(
        performed_on=midnight(moment.astimezone(UTC).date()),
        kind=fields.choice(data, "kind", SurveillanceKind),
        outcome=fields.choice(data, "outcome", SurveillanceOutcome),
        notes=fields.text(data, "notes", required=False, max_length=MAX_NOTES, multiline=True)
        or "",
    )


def record_surveillance(
    session: Session,
    key: str,
    activity: Activity,
    uploads: Sequence[Upload] = (),
    *,
    max_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    reason: str | None = None,
    actor: str,
    now: datetime,
) -> SurveillanceRecord:
    """Record a surveillance activity on certification ``key`` (number or credential id),
    with its attachments, and audit it. Everything is checked before anything is written.

    :raises NotFound: :raises TransitionNotAllowed: the certification is withdrawn.
    :raises FieldError: a bad date (in the future, before the certification, after its
        expiry), too many attachments, or an attachment refused (:func:`check_attachment`).
    """
    if len(uploads) > MAX_ATTACHMENTS:
        raise FieldError("attachments", f"at most {MAX_ATTACHMENTS} files per record")
    checked = [check_attachment(u, i, max_bytes=max_bytes) for i, u in enumerate(uploads)]
    reason = audit.check_reason(reason or "surveillance recorded")
    cert = catalog.get_certification(session, key)
    session.refresh(cert, with_for_update=True)
    if cert.state is State.WITHDRAWN:
        raise TransitionNotAllowed(
            f"certification {cert.number} is withdrawn: no surveillance applies any more"
        )
    day = activity.performed_on.date()
    if day > now.astimezone(UTC).date():
        raise FieldError("date", f"{day.isoformat()} is in the future")
    first = min(cert.effective, cert.created_at).astimezone(UTC).date()
    if day < first:
        raise FieldError("date", f"{day.isoformat()} is before the certification ({first})")
    if day > cert.expires.astimezone(UTC).date():
        raise FieldError(
            "date", f"{day.isoformat()} is after the expiry: that is a recertification"
        )
    record = SurveillanceRecord(
        certification_id=cert.id,
        performed_on=activity.performed_on,
        kind=activity.kind,
        outcome=activity.outcome,
        notes=activity.notes,
        recorded_by=actor,
        recorded_at=now,
        attachments=[
            SurveillanceAttachment(
                filename=a.filename,
                media_type=a.media_type,
                size=len(a.content),
                sha256=a.sha256,
                content=a.content,
            )
            for a in checked
        ],
    )
    session.add(record)
    session.flush()
    audit.record(
        session,
        action=Action.SURVEILLANCE_RECORD,
        actor=actor,
        subject=cert.number,
        reason=reason,
        now=now,
        details={
            "record": record.id,
            "date": day.isoformat(),
            "kind": activity.kind.value,
            "outcome": activity.outcome.value,
            "attachments": [
                {"name": a.filename, "type": a.media_type.value, "sha256": a.sha256}
                for a in checked
            ],
        },
    )
    return record


# --- reading --------------------------------------------------------------------------------


def records_of(session: Session, cert: Certification) -> list[SurveillanceRecord]:
    """The certification's records, the latest activity first."""
    return list(
        session.execute(
            select(SurveillanceRecord)
            .where(SurveillanceRecord.certification_id == cert.id)
            .options(selectinload(SurveillanceRecord.attachments))
            .order_by(SurveillanceRecord.performed_on.desc(), SurveillanceRecord.id.desc())
        ).scalars()
    )


def get_attachment(session: Session, key: str, attachment_id: int) -> SurveillanceAttachment:
    """An attachment of certification ``key``'s records (its bytes loaded).

    :raises NotFound: no such certification, or the attachment is not one of its records'.
    """
    cert = catalog.get_certification(session, key)
    found = session.execute(
        select(SurveillanceAttachment)
        .join(SurveillanceRecord)
        .where(
            SurveillanceAttachment.id == attachment_id,
            SurveillanceRecord.certification_id == cert.id,
        )
        .options(selectinload(SurveillanceAttachment.record))
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"certification {cert.number} has no attachment {attachment_id}")
    _ = found.content  # deferred: load it while the session is open
    return found


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def record_json(record: SurveillanceRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "date": record.performed_on.astimezone(UTC).date().isoformat(),
        "kind": record.kind.value,
        "outcome": record.outcome.value,
        "notes": record.notes,
        "recordedBy": record.recorded_by,
        "recordedAt": _stamp(record.recorded_at),
        "attachments": [
            {
                "id": a.id,
                "filename": a.filename,
                "mediaType": a.media_type.value,
                "size": a.size,
                "sha256": a.sha256,
            }
            for a in record.attachments
        ],
    }


def surveillance_json(
    cert: Certification, records: Sequence[SurveillanceRecord], now: datetime
) -> dict[str, Any]:
    """What ``GET /api/v1/certifications/<number>/surveillance`` answers."""
    return {
        "certification": cert.number,
        "intervalMonths": cert.scheme.surveillance_months,
        "status": status_of(cert, records, now).to_json(),
        "records": [record_json(r) for r in records],
    }


#: The lifecycle moves an outcome other than satisfactory may call for (staff decide).
FOLLOW_UPS = (Action.SUSPEND, Action.WITHDRAW, Action.REDUCE_SCOPE)


def follow_ups(record: SurveillanceRecord, cert: Certification, now: datetime) -> list[Action]:
    """The moves to offer after ``record``: none after a satisfactory outcome; otherwise
    suspend, withdraw or reduce the scope, as far as the certification's state allows."""
    if record.outcome is SurveillanceOutcome.SATISFACTORY:
        return []
    return [a for a in FOLLOW_UPS if a in ALLOWED[cert.state_at(now)]]
