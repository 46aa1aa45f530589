"""The certification body's identity and accreditation: shown on every new credential.

ISO/IEC 17024 §4.3 and §9: a body states who it is and under which accreditation it
certifies. Set at ``certvc init`` and changed later with a reason (audited: each changed field,
old and new). New credentials carry the current profile (the issuer ``Profile`` of Open Badges
3.0: name, url, email, address, and a description stating the accreditation); credentials
already issued are signed and never change; the did:web document and the public pages always
show the current profile.

Fields have JSON names (the REST API, ``certvc body set --field``, the admin form): ``name``,
``legalName``, ``url``, ``email``, ``description``, ``address`` (``street``, ``postalCode``,
``locality``, ``region``) and ``country`` (ISO 3166-1 alpha-2), ``accreditedBy`` (``body``,
``number``, ``standard``, ``validFrom``, ``validUntil``, ``url``) and ``accreditation``: a
free one-line statement, used when ``accreditedBy`` names no body nor number (in the JSON
the body shows, ``accreditation`` is the statement credentials carry, as before 0006).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from verifier.model.credentials import BodyProfile

from ..db.models import Action, CertificationBody
from ..errors import FieldError
from . import audit, catalog, fields

DEFAULT_STANDARD = "ISO/IEC 17024:2012"
ADDRESS_PARTS = ("street", "postalCode", "locality", "region")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}")
_COUNTRY = re.compile(r"[A-Z]{2}")
#: Scalar fields: JSON name -> (column, maximum length, required).
_TEXT = {
    "name": ("name", 200, True),
    "legalName": ("legal_name", 200, False),
    "description": ("description", 2000, False),
}
_ACCREDITATION_TEXT = {
    "body": ("accreditation_body", 200),
    "number": ("accreditation_number", 100),
    "standard": ("accreditation_standard", 100),
}
_ACCREDITATION_DATES = {"validFrom": "accredited_from", "validUntil": "accredited_until"}


def _https_or_http_url(value: object, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 500:
        raise FieldError(field, "must be a URL of at most 500 characters")
    if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", value):
        raise FieldError(field, "must be an http(s) URL, e.g. https://example.org/")
    return value


def _changes(body: CertificationBody, data: Mapping[str, Any]) -> dict[str, Any]:
    """The column values ``data`` asks for (only the fields it names).

    :raises FieldError: an unknown field or a bad value (nothing is changed).
    """
    known = {*_TEXT, "url", "email", "address", "country", "accreditation", "accreditedBy"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise FieldError(unknown[0], f"unknown field; known: {', '.join(sorted(known))}")
    changes: dict[str, Any] = {}
    for name, (column, limit, required) in _TEXT.items():
        if name in data:
            value = data[name]
            if value is None:
                value = ""
            text = fields.text({name: value}, name, required=required, max_length=limit)
            changes[column] = text or ""
    if "url" in data:
        url = _https_or_http_url(data["url"], "url")
        if url is None:
            raise FieldError("url", "is required (the body's website)")
        changes["url"] = url
    if "email" in data:
        email = data["email"]
        if email in (None, ""):
            changes["email"] = None
        elif not isinstance(email, str) or not _EMAIL.fullmatch(email):
            raise FieldError("email", "must be an e-mail address, e.g. certification@example.org")
        else:
            changes["email"] = email
    if "country" in data:
        country = data["country"]
        if country in (None, ""):
            changes["country"] = None
        elif not isinstance(country, str) or not _COUNTRY.fullmatch(country.upper()):
            raise FieldError("country", "must be a two-letter ISO 3166-1 code, e.g. DE or FR")
        else:
            changes["country"] = country.upper()
    if "address" in data:
        changes["address"] = _address(data["address"])
    if "accreditation" in data:
        statement = data["accreditation"] if data["accreditation"] is not None else ""
        text = fields.text(
            {"accreditation": statement}, "accreditation", required=False, max_length=1000
        )
        changes["accreditation"] = text or ""
    if "accreditedBy" in data:
        changes.update(_accreditation(body, data["accreditedBy"]))
    return changes


def _address(value: object) -> str:
    if value in (None, "", {}):
        return ""
    if not isinstance(value, Mapping):
        raise FieldError("address", f"must be an object with {', '.join(ADDRESS_PARTS)}")
    unknown = sorted(set(value) - set(ADDRESS_PARTS))
    if unknown:
        raise FieldError(f"address.{unknown[0]}", f"unknown; known: {', '.join(ADDRESS_PARTS)}")
    parts = {}
    for part in ADDRESS_PARTS:
        text = fields.text(value, part, required=False, max_length=200) if part in value else None
        if text:
            parts[part] = text
    return json.dumps(parts, ensure_ascii=False, sort_keys=True) if parts else ""


def _accreditation(body: CertificationBody, value: object) -> dict[str, Any]:
    if value is None:  # no accreditation any more
        value = {key: None for key in (*_ACCREDITATION_TEXT, *_ACCREDITATION_DATES, "url")}
    if not isinstance(value, Mapping):
        raise FieldError("accreditedBy", "must be an object (body, number, standard, ...)")
    known = {*_ACCREDITATION_TEXT, *_ACCREDITATION_DATES, "url"}
    unknown = sorted(set(value) - known)
    if unknown:
        raise FieldError(
            f"accreditedBy.{unknown[0]}", f"unknown; known: {', '.join(sorted(known))}"
        )
    changes: dict[str, Any] = {}
    for name, (column, limit) in _ACCREDITATION_TEXT.items():
        if name in value:
            raw = value[name] if value[name] is not None else ""
            text = fields.text({name: raw}, name, required=False, max_length=limit)
            changes[column] = text or ("" if name != "standard" else DEFAULT_STANDARD)
    for name, column in _ACCREDITATION_DATES.items():
        if name in value:
            try:
                changes[column] = fields.moment(value, name) if value[name] else None
            except FieldError as error:
                raise FieldError(f"accreditedBy.{name}", error.message.split(": ", 1)[-1]) from None
    if "url" in value:
        changes["accreditation_url"] = _https_or_http_url(value["url"], "accreditedBy.url")
    start = changes.get("accredited_from", body.accredited_from)
    end = changes.get("accredited_until", body.accredited_until)
    if start is not None and end is not None and end <= start:
        raise FieldError("accreditedBy.validUntil", "must be after validFrom")
    return changes


def update_body(
    session: Session, data: Mapping[str, Any], *, reason: str, actor: str, now: datetime
) -> tuple[CertificationBody, dict[str, list[Any]]]:
    """Change the fields ``data`` names; returns the body and what changed (old, new).

    :raises FieldError: a bad field (nothing changed). :raises ReasonRequired:
    """
    reason = audit.check_reason(reason)
    if not isinstance(data, Mapping) or not data:
        raise FieldError("body", "give at least one field to change")
    body = catalog.get_body(session)
    changed = audit.record_changes(
        session,
        body,
        _changes(body, data),
        action=Action.BODY_UPDATE,
        subject=body.did,
        actor=actor,
        reason=reason,
        now=now,
    )
    return body, changed


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def address_json(body: CertificationBody) -> dict[str, str]:
    try:
        parts = json.loads(body.address) if body.address else {}
    except ValueError:
        parts = {}
    return {key: str(parts[key]) for key in ADDRESS_PARTS if parts.get(key)}


def accreditation_statement(body: CertificationBody) -> str:
    """The accreditation in one sentence: the structured fields, else the free statement."""
    if not (body.accreditation_body or body.accreditation_number):
        return body.accreditation
    parts = [f"Accredited to {body.accreditation_standard or DEFAULT_STANDARD}"]
    if body.accreditation_body:
        parts.append(f"by {body.accreditation_body}")
    text = " ".join(parts)
    if body.accreditation_number:
        text += f", accreditation no. {body.accreditation_number}"
    if body.accredited_until is not None:
        text += f", valid until {body.accredited_until.date().isoformat()}"
    return text + "."


def body_json(body: CertificationBody) -> dict[str, Any]:
    """The body as the API shows and takes it (``PATCH /api/v1/body`` takes the same names)."""
    return {
        "name": body.name,
        "legalName": body.legal_name,
        "url": body.url,
        "did": body.did,
        "email": body.email,
        "description": body.description,
        "address": address_json(body),
        "country": body.country,
        "accreditation": accreditation_statement(body),
        "accreditedBy": {
            "body": body.accreditation_body,
            "number": body.accreditation_number,
            "standard": body.accreditation_standard,
            "validFrom": _stamp(body.accredited_from),
            "validUntil": _stamp(body.accredited_until),
            "url": body.accreditation_url,
        },
        "logo": body.logo_url,
        "updatedAt": _stamp(body.updated_at),
    }


def body_profile(body: CertificationBody, public_url: str | None = None) -> BodyProfile:
    """The issuer profile of new credentials; its image is the uploaded logo (served here)
    when there is one and ``public_url`` is known, else the configured ``logo_url``."""
    logo = catalog.body_logo_url(body, public_url) if public_url else None
    statement = accreditation_statement(body)
    description = " ".join(p for p in (body.description.strip(), statement) if p)
    address = address_json(body)
    return BodyProfile(
        did=body.did,
        name=body.name,
        url=body.url,
        accreditation=description,
        logo_url=logo or body.logo_url,
        email=body.email,
        address=tuple(sorted(address.items())),
        country=body.country,
    )


def published_did_document(body: CertificationBody, document: dict[str, Any]) -> dict[str, Any]:
    """The DID document as the instance publishes it: its keys, and the body's website as a
    ``LinkedDomains`` service (DID Specification Registries), so the current profile is one
    look away from the DID."""
    published = dict(document)
    published["service"] = [
        {"id": f"{document['id']}#website", "type": "LinkedDomains", "serviceEndpoint": body.url}
    ]
    return published
