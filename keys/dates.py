"""XML Schema ``dateTimeStamp``: parsing shared by shape rules, validity checks and proofs.

VC Data Model 2.0 §4.6 (Validity Period) requires ``validFrom`` / ``validUntil`` to be
``dateTimeStamp`` values: an XSD ``dateTime`` whose time zone is REQUIRED. Python's
``datetime.fromisoformat`` accepts far more (a space for ``T``, basic format, week dates, no zone),
so the lexical form is checked here with the XSD grammar first and the fields are then built by
hand. Only one parser exists so issuer and verifier cannot disagree about a date; it lives in
``keys`` because Data Integrity proofs (``created``, ``expires``) need it too.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta, timezone

from contexts.errors import ShapeError

# XSD 1.1 Part 2 §3.4.8 dateTime lexical space + §3.4.28 dateTimeStamp (explicitTimezone
# "required"). Seconds stop at 59 (no leap second, unlike RFC 3339); "24:00:00" is the end of the
# day; "T" and "Z" are upper case. [0-9] rather than \d: \d also matches non-ASCII digits.
_DATE_TIME_STAMP = re.compile(
    r"(?P<year>-?(?:[1-9][0-9]{3,}|0[0-9]{3}))"
    r"-(?P<month>0[1-9]|1[0-2])"
    r"-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"T(?:(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9]):(?P<second>[0-5][0-9])"
    r"(?:\.(?P<fraction>[0-9]+))?"
    r"|(?P<end_of_day>24:00:00(?:\.0+)?))"
    r"(?P<zone>Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
)

# Anything longer is not a date a person wrote; refusing early keeps messages and work small.
_MAX_LENGTH = 64


def _excerpt(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def parse_datetime_stamp(value: object) -> datetime:
    """Parse an XSD ``dateTimeStamp`` into an aware ``datetime`` (its own offset kept).

    Years outside 0001..9999 are lexically valid XSD but cannot be represented, so they are
    refused rather than clamped; fractions beyond microseconds are truncated (never rounded up,
    so a ``validUntil`` can only move earlier).

    :raises ShapeError: (``credential_malformed``) when ``value`` is not a ``dateTimeStamp``; the
        caller sets ``path``.
    """
    if not isinstance(value, str):
        raise ShapeError("must be an XML Schema dateTimeStamp string")
    if len(value) > _MAX_LENGTH:
        raise ShapeError(f"is too long to be a dateTimeStamp ({len(value)} characters)")
    return _parse(value)


@functools.lru_cache(maxsize=4096)
def _parse(value: str) -> datetime:
    """Cached (bounded; a datetime is immutable, errors are not cached): a verification reads
    the same few dates several times (shape, validity, proof) and a verifier sees them again."""
    match = _DATE_TIME_STAMP.fullmatch(value)
    if match is None:
        raise ShapeError(
            f"{_excerpt(value)} is not an XML Schema dateTimeStamp "
            "(YYYY-MM-DDThh:mm:ss[.fff] followed by Z or a ±hh:mm offset)"
        )
    year_text = match["year"]
    if year_text.startswith("-") or len(year_text) > 4 or year_text == "0000":
        raise ShapeError(f"{_excerpt(value)}: years outside 0001..9999 are not supported")
    zone = _zone(match["zone"])
    try:
        if match["end_of_day"] is not None:
            # XSD §3.4.8: 24:00:00 is 00:00:00 of the following day.
            start = datetime(int(year_text), int(match["month"]), int(match["day"]), tzinfo=zone)
            parsed = start + timedelta(days=1)
        else:
            fraction = (match["fraction"] or "").ljust(6, "0")[:6]
            parsed = datetime(
                int(year_text),
                int(match["month"]),
                int(match["day"]),
                int(match["hour"]),
                int(match["minute"]),
                int(match["second"]),
                int(fraction),
                tzinfo=zone,
            )
        # Comparisons convert to UTC; make sure that works now, not later in a check.
        parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ShapeError(f"{_excerpt(value)} is not a real point in time ({exc})") from exc
    return parsed


def _zone(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def format_datetime_stamp(value: datetime) -> str:
    """UTC, second precision, ``Z``: the form the W3C vectors and Digital Bazaar write."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: certvc only handles aware datetimes")
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
