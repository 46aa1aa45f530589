"""The body, its schemes and the certified persons: creating, finding, listing, searching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from verifier.model.credentials import SchemeInfo

from ..db.models import (
    AchievementType,
    Action,
    Certification,
    CertificationBody,
    IssuedCredential,
    Person,
    Scheme,
    SecuringSuite,
    State,
)
from ..errors import (
    AlreadyExists,
    FieldError,
    InstanceNotReady,
    NotFound,
    TransitionNotAllowed,
    UnknownReference,
)
from . import audit, fields, register

MAX_VALIDITY_DAYS = 50 * 366


# --- the body ---------------------------------------------------------------------------


# Built once: every issuance reads the body (building a statement cost as much as running it).
_BODY = select(CertificationBody).order_by(CertificationBody.id).limit(1)
_BODY_WITH_LOGO = _BODY.options(joinedload(CertificationBody.logo))


def get_body(session: Session, *, with_logo: bool = False) -> CertificationBody:
    """:raises InstanceNotReady: no body yet (``certvc init`` creates it).

    ``with_logo``: its logo record loaded in the same query (the issuer profile asks for it).
    """
    body = session.execute(_BODY_WITH_LOGO if with_logo else _BODY).scalar()
    if body is None:
        raise InstanceNotReady("no certification body: run certvc init")
    return body


def create_body(
    session: Session,
    *,
    name: str,
    url: str,
    did: str,
    accreditation: str,
    logo_url: str | None,
    actor: str,
    now: datetime,
) -> CertificationBody:
    body = CertificationBody(
        name=name, url=url, did=did, accreditation=accreditation, logo_url=logo_url, created_at=now
    )
    session.add(body)
    session.flush()
    audit.record(
        session,
        action=Action.BODY_CREATE,
        actor=actor,
        subject=did,
        reason="certification body registered",
        now=now,
        details={"name": name, "url": url},
    )
    return body


#: Where the body's uploaded logo is served (relative to the public URL).
LOGO_PATH = "body/logo.png"


def body_logo_url(body: CertificationBody, public_url: str) -> str | None:
    """The uploaded logo's public URL, when there is one."""
    return None if body.logo is None else f"{public_url.rstrip('/')}/{LOGO_PATH}"


# --- schemes ------------------------------------------------------------------------------

#: The longest surveillance interval a scheme may name (ten years).
MAX_SURVEILLANCE_MONTHS = 120


#: Reminders before expiry: at most this many, each at most this many days before.
MAX_REMINDERS = 10
MAX_REMINDER_DAYS = 3660


def parse_reminder_days(value: Any, field: str = "reminderDays") -> str:
    """Days before expiry at which the person is reminded, as stored ("90,30,7": distinct,
    largest first). Takes a JSON list of integers or text such as ``90, 30, 7``; an empty list
    or text means no reminders.

    :raises FieldError:
    """
    if value is None:
        return ""
    if isinstance(value, str):
        parts = [p.strip() for p in value.split(",") if p.strip()]
        if not all(p.isdigit() for p in parts):
            raise FieldError(field, "must be whole numbers of days separated by commas: 90,30,7")
        days = [int(p) for p in parts]
    elif isinstance(value, list) and all(type(d) is int for d in value):
        days = list(value)
    else:
        raise FieldError(field, "must be a list of whole numbers of days, such as [90, 30, 7]")
    if len(days) > MAX_REMINDERS:
        raise FieldError(field, f"at most {MAX_REMINDERS} reminders")
    if any(not 1 <= d <= MAX_REMINDER_DAYS for d in days):
        raise FieldError(field, f"each must be between 1 and {MAX_REMINDER_DAYS} days")
    if len(set(days)) != len(days):
        raise FieldError(field, "names the same day twice")
    return ",".join(str(d) for d in sorted(days, reverse=True))


def scheme_cycle_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """The certification-cycle fields ``data`` names (creating or changing a scheme)."""
    values: dict[str, Any] = {}
    if "reminderDays" in data:
        values["reminder_days"] = parse_reminder_days(data["reminderDays"])
    if "surveillanceMonths" in data:
        months = data["surveillanceMonths"]
        values["surveillance_months"] = (
            None
            if months in (None, "")
            else fields.integer(
                data, "surveillanceMonths", minimum=1, maximum=MAX_SURVEILLANCE_MONTHS
            )
        )
    if "recertification" in data:
        text = data["recertification"] if data["recertification"] is not None else ""
        values["recertification"] = (
            fields.text(
                {"recertification": text},
                "recertification",
                required=False,
                max_length=2000,
                multiline=True,
            )
            or ""
        )
    return values


def create_scheme(
    session: Session, data: Mapping[str, Any], *, actor: str, now: datetime
) -> Scheme:
    """A new scheme from untrusted ``data`` (JSON field names, see the OpenAPI document).

    :raises FieldError: a field is missing or bad. :raises AlreadyExists: the code is taken.
    """
    code = fields.code(data, "code")
    assert code is not None
    scheme = Scheme(
        body_id=get_body(session).id,
        code=code,
        name=fields.required_text(data, "name"),
        description=fields.text(data, "description", required=False, max_length=2000) or "",
        criteria=fields.required_text(data, "criteria", max_length=4000, multiline=True),
        standard_name=fields.required_text(data, "standard"),
        standard_url=fields.url(data, "standardUrl", required=False),
        validity_days=fields.integer(data, "validityDays", minimum=1, maximum=MAX_VALIDITY_DAYS),
        achievement_type=fields.choice(
            data, "achievementType", AchievementType, default=AchievementType.CERTIFICATION
        ),
        suite=fields.choice(data, "suite", SecuringSuite, default=SecuringSuite.EDDSA_RDFC_2022),
        created_at=now,
        **scheme_cycle_values(data),
    )
    if session.execute(select(Scheme.id).where(Scheme.code == code)).first() is not None:
        raise AlreadyExists(f"a scheme with code {code!r} exists")
    session.add(scheme)
    session.flush()
    audit.record(
        session,
        action=Action.SCHEME_CREATE,
        actor=actor,
        subject=code,
        reason=fields.text(data, "reason", required=False) or "scheme defined",
        now=now,
        details={"suite": scheme.suite.value, "validityDays": scheme.validity_days},
    )
    return scheme


def get_scheme(session: Session, code: str, *, field: str | None = None) -> Scheme:
    """:raises NotFound: (or :class:`UnknownReference` when ``field`` names a request field)."""
    scheme = session.execute(select(Scheme).where(Scheme.code == code)).scalar_one_or_none()
    if scheme is None:
        if field is not None:
            raise UnknownReference(field, f"no scheme with code {code!r}")
        raise NotFound(f"no scheme with code {code!r}")
    return scheme


def list_schemes(session: Session) -> list[Scheme]:
    return list(session.execute(select(Scheme).order_by(Scheme.code)).scalars())


def scheme_image_path(scheme: Scheme) -> str | None:
    """``schemes/<code>/badge.<png|svg>`` when the scheme has an uploaded badge image."""
    if scheme.image is None:
        return None
    return f"schemes/{scheme.code}/badge.{scheme.image.media_type.extension}"


def scheme_image_url(scheme: Scheme, public_url: str) -> str | None:
    path = scheme_image_path(scheme)
    return None if path is None else f"{public_url.rstrip('/')}/{path}"


def scheme_info(scheme: Scheme, public_url: str) -> SchemeInfo:
    return SchemeInfo(
        code=scheme.code,
        url=f"{public_url.rstrip('/')}/schemes/{scheme.code}",
        name=scheme.name,
        description=scheme.description,
        criteria=scheme.criteria,
        standard_name=scheme.standard_name,
        standard_url=scheme.standard_url,
        achievement_type=scheme.achievement_type.value,
        image_url=scheme_image_url(scheme, public_url),
    )


def scheme_json(scheme: Scheme) -> dict[str, Any]:
    return {
        "code": scheme.code,
        "name": scheme.name,
        "description": scheme.description,
        "criteria": scheme.criteria,
        "standard": scheme.standard_name,
        "standardUrl": scheme.standard_url,
        "validityDays": scheme.validity_days,
        "achievementType": scheme.achievement_type.value,
        "suite": scheme.suite.value,
        "surveillanceMonths": scheme.surveillance_months,
        "reminderDays": list(scheme.reminder_thresholds),
        "recertification": scheme.recertification,
        "retired": scheme.retired_at.isoformat().replace("+00:00", "Z")
        if scheme.retired_at is not None
        else None,
    }


# --- persons ------------------------------------------------------------------------------


def create_person(
    session: Session,
    *,
    name: str,
    reference: str | None,
    actor: str,
    now: datetime,
    reason: str = "registered for certification",
    audited: bool = True,
    email: str | None = None,
) -> Person:
    """``email`` is checked by the adapter (:func:`fields.email`).

    :raises AlreadyExists: the reference is taken."""
    if reference is not None and find_person_by_reference(session, reference) is not None:
        raise AlreadyExists(f"a person with reference {reference!r} exists")
    person = Person(name=name, reference=reference, created_at=now, email=email)
    session.add(person)
    session.flush()
    if audited:
        audit.record(
            session,
            action=Action.PERSON_CREATE,
            actor=actor,
            subject=f"person:{person.id}",
            reason=reason,
            now=now,
            details={"reference": reference, "email": email is not None},
        )
    return person


def set_person_email(
    session: Session,
    person_id: int,
    email: str | None,
    *,
    actor: str,
    reason: str,
    now: datetime,
) -> Person:
    """Change where a person's certificates are delivered (``email`` checked by the adapter,
    None removes it); audited without the address itself (personal data stays in its record).

    :raises NotFound: :raises ReasonRequired: :raises TransitionNotAllowed: no change.
    """
    reason = audit.check_reason(reason)
    person = get_person(session, person_id)
    session.refresh(person, with_for_update=True)
    if person.email == email:
        raise TransitionNotAllowed(f"person {person_id} has this e-mail address already")
    had = person.email is not None
    person.email = email
    audit.record(
        session,
        action=Action.PERSON_UPDATE,
        actor=actor,
        subject=f"person:{person.id}",
        reason=reason,
        now=now,
        details={"email": "removed" if email is None else ("changed" if had else "added")},
    )
    return person


def find_person_by_reference(session: Session, reference: str) -> Person | None:
    return session.execute(select(Person).where(Person.reference == reference)).scalar_one_or_none()


def get_person(session: Session, person_id: int, *, field: str | None = None) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        if field is not None:
            raise UnknownReference(field, f"no person with id {person_id}")
        raise NotFound(f"no person with id {person_id}")
    return person


def list_persons(
    session: Session, *, query: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[Person], int]:
    stmt = select(Person)
    if query:
        pattern = f"%{_escape_like(query)}%"
        stmt = stmt.where(or_(Person.name.ilike(pattern, escape="\\"), Person.reference == query))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(stmt.order_by(Person.id).limit(limit).offset(offset)).scalars()
    return list(rows), total


def person_json(person: Person) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "reference": person.reference,
        "email": person.email,
    }


# --- certifications -----------------------------------------------------------------------


@dataclass(frozen=True)
class Search:
    """Filters of the certification list; every one optional."""

    person: str | None = None
    number: str | None = None
    scheme: str | None = None
    state: State | None = None
    #: Live certifications expiring in the next N days (:func:`register.expiring_clauses`).
    expiring_within: int | None = None


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_certifications(
    session: Session, search: Search, *, now: datetime, limit: int = 50, offset: int = 0
) -> tuple[list[Certification], int]:
    stmt = select(Certification).join(Certification.person).join(Certification.scheme)
    if search.person:
        pattern = f"%{_escape_like(search.person)}%"
        stmt = stmt.where(
            or_(Person.name.ilike(pattern, escape="\\"), Person.reference == search.person)
        )
    if search.number:
        stmt = stmt.where(Certification.number == search.number)
    if search.scheme:
        stmt = stmt.where(Scheme.code == search.scheme)
    if search.state is State.EXPIRED:
        stmt = stmt.where(
            Certification.state.in_([State.ACTIVE, State.SUSPENDED]),
            Certification.expires <= now,
        )
    elif search.state in (State.ACTIVE, State.SUSPENDED):
        stmt = stmt.where(Certification.state == search.state, Certification.expires > now)
    elif search.state is not None:
        stmt = stmt.where(Certification.state == search.state)
    stmt = stmt.where(*register.expiring_clauses(search.expiring_within, now))
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    rows = session.execute(
        stmt.options(joinedload(Certification.person), joinedload(Certification.scheme))
        .order_by(Certification.id.desc())
        .limit(limit)
        .offset(offset)
    ).scalars()
    return list(rows), total


def get_certification(session: Session, key: str) -> Certification:
    """A certification by its number, or by the id of any credential issued for it.

    :raises NotFound:
    """
    cert = session.execute(
        select(Certification).where(Certification.number == key)
    ).scalar_one_or_none()
    if cert is None:
        cert = session.execute(
            select(Certification)
            .join(IssuedCredential, IssuedCredential.certification_id == Certification.id)
            .where(IssuedCredential.credential_id == key)
        ).scalar_one_or_none()
    if cert is None:
        raise NotFound(f"no certification with number or credential id {key!r}")
    return cert
