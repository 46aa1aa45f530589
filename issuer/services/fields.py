"""Checking untrusted values field by field (JSON bodies, forms, CSV cells, CLI options).

Each helper returns a clean value or raises :class:`FieldError` naming the field, so every
adapter reports bad input the same way (``field_invalid``, HTTP 400, CLI exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email

from contexts.errors import ShapeError
from keys.dates import parse_datetime_stamp

from ..errors import FieldError, IssuerCode

E = TypeVar("E", bound=Enum)

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MISSING = object()


def text(
    data: Mapping[str, Any],
    name: str,
    *,
    required: bool = True,
    max_length: int = 200,
    multiline: bool = False,
) -> str | None:
    """A trimmed string; control characters refused (they hide text in a certificate)."""
    value = data.get(name, _MISSING)
    if value is _MISSING or value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(name, "is required")
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"must be a string, not {type(value).__name__}")
    value = value.strip()
    if len(value) > max_length:
        raise FieldError(name, f"must be at most {max_length} characters")
    if _CONTROL.search(value) or (not multiline and ("\n" in value or "\r" in value)):
        raise FieldError(name, "must not contain control characters")
    return value


def required_text(data: Mapping[str, Any], name: str, **kwargs: Any) -> str:
    value = text(data, name, required=True, **kwargs)
    assert value is not None
    return value


def code(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    """An identifier such as a scheme code or certificate number."""
    value = text(data, name, required=required, max_length=64)
    if value is not None and not _CODE.fullmatch(value):
        raise FieldError(name, "may hold only letters, digits, '.', '_' and '-' (at most 64)")
    return value


def integer(
    data: Mapping[str, Any], name: str, *, minimum: int, maximum: int, required: bool = True
) -> int | None:
    value = data.get(name)
    if value is None:
        if required:
            raise FieldError(name, "is required")
        return None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        text = value.strip()
        if len(text) > 18:  # out of any range, and int() refuses thousands of digits
            raise FieldError(name, f"must be between {minimum} and {maximum}")
        value = int(text)
    if type(value) is not int:
        raise FieldError(name, "must be an integer")
    if not minimum <= value <= maximum:
        raise FieldError(name, f"must be between {minimum} and {maximum}")
    return value


def choice(data: Mapping[str, Any], name: str, enum: type[E], *, default: E | None = None) -> E:
    value = data.get(name)
    if value is None or value == "":
        if default is None:
            raise FieldError(name, "is required")
        return default
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(str(member.value) for member in enum)
        raise FieldError(name, f"must be one of: {allowed}") from None


#: What to type wherever a date is asked (CLI options, CSV cells, forms, JSON): one wording.
DATE_FORMS = "YYYY-MM-DD (2026-11-01) or a date-time with a time zone (2026-11-01T09:00:00Z)"
_NUMERIC_DATE = re.compile(r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})")
_NO_ZONE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")


def moment(data: Mapping[str, Any], name: str, *, required: bool = False) -> datetime | None:
    """A date (``YYYY-MM-DD``, midnight UTC) or an XML Schema dateTimeStamp.

    A refusal says what to type (:data:`DATE_FORMS`): ``01/11/2026`` is ambiguous (1 November
    or 11 January), so it is refused with both ``YYYY-MM-DD`` readings named; a date-time
    without a time zone is refused with the ``Z`` form named.

    :raises FieldError: ``field_invalid`` naming ``name``.
    """
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise FieldError(name, f"is required: {DATE_FORMS}")
        return None
    if not isinstance(value, str):
        raise FieldError(name, f"must be a date: {DATE_FORMS}")
    value = value.strip()
    if _DATE.fullmatch(value):
        try:
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise FieldError(name, f"{value!r} is not a real date; write {DATE_FORMS}") from None
    try:
        return parse_datetime_stamp(value).astimezone(UTC)
    except ShapeError as error:
        raise FieldError(name, _what_to_type(value)) from error


def _what_to_type(value: str) -> str:
    """Why ``value`` is not a date certvc takes, and the form to write instead."""
    shown = repr(value if len(value) <= 40 else value[:40] + "...")
    numeric = _NUMERIC_DATE.fullmatch(value)
    if numeric:
        first, second, year = (int(part) for part in numeric.groups())
        readings = []
        for day, month in ((first, second), (second, first)):
            try:
                readings.append(datetime(year, month, day).strftime("%Y-%m-%d"))
            except ValueError:
                continue
        readings = list(dict.fromkeys(readings))
        if len(readings) == 2:
            return (
                f"{shown} is ambiguous (day or month first?): write it as YYYY-MM-DD, "
                f"{readings[0]} or {readings[1]}"
            )
        if readings:
            return f"{shown}: write the date as YYYY-MM-DD, {readings[0]}"
        return f"{shown} is not a real date; write {DATE_FORMS}"
    if _NO_ZONE.fullmatch(value):
        stamp = value.replace(" ", "T")
        stamp += ":00" if stamp.count(":") == 1 else ""
        return f"{shown} has no time zone: write {stamp}Z (UTC) or add an offset such as +01:00"
    return f"{shown} is not a date: write {DATE_FORMS}"


def url(data: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = text(data, name, required=required, max_length=500)
    if value is not None and not re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", value):
        raise FieldError(name, "must be an http(s) URL")
    return value


def obj(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(name, "must be a JSON object")
    return value


def email(data: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    """An e-mail address (optional unless ``required``), normalised by email-validator (no DNS
    lookup: syntax only, the mail server is the judge of the rest).

    A line break anywhere is refused before anything else: in a header it would start a new
    one (header injection).

    :raises FieldError: ``email_invalid`` naming ``name``.
    """
    value = data.get(name)
    if isinstance(value, str) and ("\r" in value or "\n" in value):
        raise FieldError(name, "must not contain a line break", code=IssuerCode.EMAIL_INVALID)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(name, "is required", code=IssuerCode.EMAIL_INVALID)
        return None
    if not isinstance(value, str):
        raise FieldError(name, "must be a string", code=IssuerCode.EMAIL_INVALID)
    value = value.strip()
    if len(value) > 320 or _CONTROL.search(value):
        raise FieldError(name, "is not an e-mail address", code=IssuerCode.EMAIL_INVALID)
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as error:
        raise FieldError(
            name, f"is not an e-mail address: {error}", code=IssuerCode.EMAIL_INVALID
        ) from None
    return str(checked.normalized)
