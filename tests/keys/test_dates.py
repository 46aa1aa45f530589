"""XML Schema dateTimeStamp (XSD 1.1 Part 2 §3.4.28), as VC 2.0 §4.6 requires of dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from contexts.errors import ErrorCode, ShapeError
from keys.dates import format_datetime_stamp, parse_datetime_stamp

# --- dateTimeStamp --------------------------------------------------------------------------

_PLUS_2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-01-15T00:00:00Z", datetime(2025, 1, 15, tzinfo=UTC)),
        ("2025-01-15T10:30:00+02:00", datetime(2025, 1, 15, 10, 30, tzinfo=_PLUS_2)),
        ("2025-01-15T10:30:00-00:00", datetime(2025, 1, 15, 10, 30, tzinfo=UTC)),
        (
            "2025-01-15T10:30:00+14:00",
            datetime(2025, 1, 15, 10, 30, tzinfo=timezone(timedelta(hours=14))),
        ),
        ("2025-01-15T10:30:00.5Z", datetime(2025, 1, 15, 10, 30, 0, 500_000, tzinfo=UTC)),
        ("2025-01-15T10:30:00.123456789Z", datetime(2025, 1, 15, 10, 30, 0, 123_456, tzinfo=UTC)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
        ("2024-12-31T24:00:00Z", datetime(2025, 1, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_datetime_stamp_values(text: str, expected: datetime) -> None:
    """XSD 1.1 Part 2 §3.4.28 dateTimeStamp (VC 2.0 §4.6): parsed to the same instant, aware."""
    parsed = parse_datetime_stamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "2024-13-01T00:00:00Z",  # month 13
        "2024-02-30T00:00:00Z",  # no such day
        "2023-02-29T00:00:00Z",  # not a leap year
        "2025-01-15T00:00:00",  # time zone required
        "2025-01-15",  # a date is not a dateTimeStamp
        "2025-01-15T00:00Z",  # seconds required
        "2025-01-15 00:00:00Z",  # fromisoformat accepts a space
        "2025-01-15t00:00:00z",  # upper case T and Z only
        "20250115T000000Z",  # basic format (fromisoformat accepts it)
        "2025-W03-3T00:00:00Z",  # week date (fromisoformat accepts it)
        "2025-01-15T00:00:60Z",  # leap second: RFC 3339 yes, XSD no
        "2025-01-15T24:00:01Z",  # only 24:00:00 exactly
        "2025-01-15T00:00:00+15:00",  # offsets stop at 14:00
        "2025-01-15T00:00:00+14:30",
        "2025-01-15T00:00:00+0200",  # offset needs the colon
        "2025-01-15T00:00:00.Z",  # empty fraction
        "+2025-01-15T00:00:00Z",  # no plus sign on the year
        "0000-01-01T00:00:00Z",  # XSD 1.1 year zero: not representable
        "-0001-01-01T00:00:00Z",  # BCE: not representable
        "10000-01-01T00:00:00Z",  # five-digit year: not representable
        "9999-12-31T23:59:59-14:00",  # overflows once converted to UTC
        "9999-12-31T24:00:00Z",  # the day after 9999-12-31
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "\u0662025-01-15T00:00:00Z",  # Arabic-Indic digit
        "2025-01-15T00:00:00Z\n",  # trailing newline ($ would let it through)
        " 2025-01-15T00:00:00Z",
        "2025-01-15T00:00:00." + "1" * 80 + "Z",  # absurdly long
    ],
)
def test_not_a_datetime_stamp(text: str) -> None:
    """XSD 1.1 Part 2 §3.4.28: each of these is refused with a ShapeError."""
    with pytest.raises(ShapeError) as exc_info:
        parse_datetime_stamp(text)
    assert exc_info.value.code is ErrorCode.CREDENTIAL_MALFORMED


@pytest.mark.parametrize("value", [None, 1736899200, ["2025-01-15T00:00:00Z"]])
def test_datetime_stamp_must_be_a_string(value: object) -> None:
    with pytest.raises(ShapeError):
        parse_datetime_stamp(value)


def test_format_is_utc_second_precision_with_z() -> None:
    when = datetime(2025, 1, 15, 13, 30, 5, 999_999, tzinfo=timezone(timedelta(hours=2)))
    assert format_datetime_stamp(when) == "2025-01-15T11:30:05Z"
    assert parse_datetime_stamp(format_datetime_stamp(when)) == when.replace(microsecond=0)
