"""Bitstring Status List 1.0 (W3C Recommendation, 2025): the codec and the entry rules.

Pure: no I/O and no clock. Fetching and verifying the status list credential belong to the
verifier's status check; this module turns the pieces that check holds into values or typed
errors. Section numbers ("BSL 2.1") refer to the Recommendation.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple, TypeGuard

from contexts.errors import Code

from ..errors import StatusListError, VerifierCode

# BSL 2.2 encodedList: "The uncompressed bitstring MUST be at least 16KB in size" (131,072 bits;
# with statusSize 1 that is BSL 3.2's minimumNumberOfEntries). See Bitstring for statusSize > 1.
MIN_BITS = 131_072

# The Recommendation sets a minimum, never a maximum, so a verifier has to choose one: a status
# list is attacker-supplied data that GZIP can inflate ~1000-fold. 16 MiB is 1024 times the
# minimum (134,217,728 one-bit entries, more than any certification body will issue from one
# list) and bounds the memory one decode can take; it is also the default limit of the Rust `ssi`
# status-list implementation, so lists we accept are lists others accept. The issuer uses the
# same cap so we never publish a list our own verifier refuses.
DEFAULT_MAX_BYTES = 16 * 1024 * 1024

# BSL 2.1 statusSize is "an integer greater than zero" and statusMessage must then list
# 2**statusSize messages; past 8 bits (256 messages) that list is no longer something a person
# reviews, so larger sizes are refused (policy; BSL 1.3 lets processors support only size 1).
MAX_STATUS_SIZE = 8

ENTRY_TYPE = "BitstringStatusListEntry"
LIST_CREDENTIAL_TYPE = "BitstringStatusListCredential"
LIST_SUBJECT_TYPE = "BitstringStatusList"
#: Status List 2021 (W3C CCG, the predecessor of BSL; the status form of VC 1.1 credentials in
#: the wild, Open Badges 3.0 among them): one bit per entry, revocation or suspension, the list
#: GZIP + base64url without the multibase prefix. Read, never issued.
STATUS_LIST_2021_ENTRY_TYPE = "StatusList2021Entry"
STATUS_LIST_2021_CREDENTIAL_TYPE = "StatusList2021Credential"
STATUS_LIST_2021_SUBJECT_TYPE = "StatusList2021"
_STATUS_LIST_2021_PURPOSES = ("revocation", "suspension")

# Room for an optional GZIP header (FNAME, FCOMMENT, FEXTRA) on top of zlib's deflateBound.
_GZIP_HEADER_ALLOWANCE = 1024
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_TO_BASE64URL = str.maketrans("+/", "-_")
_DECIMAL = re.compile(r"[0-9]+")
_STATUS_HEX = re.compile(r"0x[0-9a-fA-F]+")
# RFC 3986 §3.1 scheme, ":", then no whitespace, controls or RFC 3987 §2.2 excluded characters.
_ABSOLUTE_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20\x7f-\x9f<>\"{}|\\^`]+")


def is_absolute_url(value: object) -> TypeGuard[str]:
    """True for a string with a scheme (an absolute IRI; ``did:`` and ``urn:`` included).

    VC Data Model 2.0 calls these "URLs"; JSON-LD would silently resolve anything relative
    against a base, so relative references are never accepted where a URL is required.
    """
    return isinstance(value, str) and _ABSOLUTE_URL.fullmatch(value) is not None


class StatusPurpose(Enum):
    """BSL 2.1 statusPurpose values with a defined meaning."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"
    REFRESH = "refresh"
    MESSAGE = "message"


_PURPOSES = {purpose.value: purpose for purpose in StatusPurpose}


class StatusPropertyError(StatusListError):
    """A status entry or status list property breaks a MUST; ``prop`` names the property.

    The shape rules use ``prop`` to point at the exact culprit inside ``credentialStatus``.
    """

    def __init__(self, message: str, *, prop: str, code: Code | None = None) -> None:
        super().__init__(f"{prop}: {message}" if prop else message, code=code)
        self.prop = prop


def _verification_error(prop: str, message: str) -> StatusPropertyError:
    return StatusPropertyError(message, prop=prop, code=VerifierCode.STATUS_VERIFICATION)


# --- the bitstring -----------------------------------------------------------------------------


def _check_status_size(status_size: object) -> int:
    if type(status_size) is not int or not 1 <= status_size <= MAX_STATUS_SIZE:
        raise _verification_error("statusSize", f"must be an integer from 1 to {MAX_STATUS_SIZE}")
    return status_size


def _check_bit_count(bits: int, max_bytes: int) -> None:
    if bits < MIN_BITS:
        raise StatusListError(
            f"status list holds {bits} bits; at least {MIN_BITS} (16KB) are required for herd "
            "privacy (BSL 2.2)",
            code=VerifierCode.STATUS_LIST_LENGTH,
        )
    if (bits + 7) // 8 > max_bytes:
        raise StatusListError(
            f"status list is larger than the {max_bytes}-byte limit",
            code=VerifierCode.STATUS_LIST_TOO_LARGE,
        )


class Bitstring:
    """A status list: ``len(self)`` entries of ``status_size`` bits each, all starting at 0.

    BSL 2.2: index 0 is the left-most (most significant) bit of the first byte; entry ``i``
    occupies bits ``[i * statusSize, (i + 1) * statusSize)``, its most significant bit first.

    The minimum applies to the uncompressed bitstring (BSL 2.2: at least 16KB), so a 2-bit list
    needs 65,536 entries. BSL 3.2 step 9 instead divides the length by statusSize before
    comparing with 131,072; the two agree for statusSize 1, the only size certvc issues.

    Mutable (the issuer sets entries), hence unhashable.
    """

    __slots__ = ("_bytes", "_length", "_status_size")
    __hash__ = None  # type: ignore[assignment]  # mutable value

    def __init__(self, length: int, status_size: int = 1) -> None:
        """Allocate ``length`` cleared entries.

        :raises StatusListError: ``status_list_length`` below the 16KB minimum,
            ``status_list_too_large`` past ``DEFAULT_MAX_BYTES``, ``status_verification`` for a
            bad ``status_size``.
        """
        _check_status_size(status_size)
        if type(length) is not int or length < 0:
            raise StatusListError(
                "length must be a non-negative integer", code=VerifierCode.STATUS_LIST_LENGTH
            )
        bits = length * status_size
        _check_bit_count(bits, DEFAULT_MAX_BYTES)
        self._bytes = bytearray((bits + 7) // 8)
        self._length = length
        self._status_size = status_size

    @classmethod
    def from_bytes(
        cls, data: bytes, *, status_size: int = 1, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Bitstring:
        """Wrap an uncompressed bitstring; the entry count is ``len(data) * 8 // status_size``.

        Bits left over when the size does not divide the length are padding and never read.

        :raises StatusListError: as ``__init__``.
        """
        _check_status_size(status_size)
        _check_bit_count(len(data) * 8, max_bytes)
        bitstring = cls.__new__(cls)
        bitstring._bytes = bytearray(data)
        bitstring._length = len(data) * 8 // status_size
        bitstring._status_size = status_size
        return bitstring

    @classmethod
    def decode(
        cls, encoded: str, *, status_size: int = 1, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Bitstring:
        """Expand an ``encodedList`` (BSL 3.4): multibase ``u`` + base64url + GZIP.

        Inflation stops as soon as the output passes ``max_bytes``, so a GZIP bomb costs at
        most ``max_bytes`` of memory and the time to inflate that much.

        :raises StatusListError: ``status_list_decode`` (bad prefix, base64url, GZIP, trailing
            data), ``status_list_too_large``, ``status_list_length``.
        """
        _check_status_size(status_size)
        if not isinstance(encoded, str):
            raise StatusListError(
                "encodedList must be a string", code=VerifierCode.STATUS_LIST_DECODE
            )
        if len(encoded) > _max_encoded_chars(max_bytes):
            raise StatusListError(
                f"encodedList is longer than any list of at most {max_bytes} bytes can be",
                code=VerifierCode.STATUS_LIST_TOO_LARGE,
            )
        if not encoded.startswith("u"):
            raise StatusListError(
                "encodedList must be multibase base64url without padding (prefix 'u')",
                code=VerifierCode.STATUS_LIST_DECODE,
            )
        compressed = _base64url_decode(encoded[1:])
        return cls.from_bytes(
            _gunzip_capped(compressed, max_bytes), status_size=status_size, max_bytes=max_bytes
        )

    def encode(self) -> str:
        """BSL 3.3 step 3: GZIP, then multibase base64url without padding.

        ``mtime=0`` keeps the output a function of the bits alone (republishing an unchanged
        list yields the same string).
        """
        compressed = gzip.compress(bytes(self._bytes), mtime=0)
        return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")

    @property
    def status_size(self) -> int:
        return self._status_size

    def __len__(self) -> int:
        return self._length

    def to_bytes(self) -> bytes:
        """The uncompressed bitstring."""
        return bytes(self._bytes)

    def _check_index(self, index: int) -> None:
        if type(index) is not int or not 0 <= index < self._length:
            raise StatusListError(
                f"index {index!r} is outside the status list (0..{self._length - 1})",
                code=VerifierCode.STATUS_RANGE,
            )

    def get(self, index: int) -> int:
        """The value of entry ``index``.

        :raises StatusListError: ``status_range`` when ``index`` is outside the list (RANGE_ERROR).
        """
        self._check_index(index)
        start = index * self._status_size
        first, last = start // 8, (start + self._status_size - 1) // 8
        window = int.from_bytes(self._bytes[first : last + 1], "big")
        shift = (last + 1) * 8 - (start + self._status_size)
        return (window >> shift) & ((1 << self._status_size) - 1)

    def set(self, index: int, value: int) -> None:
        """Set entry ``index`` to ``value`` (``0 <= value < 2**status_size``).

        :raises StatusListError: ``status_range`` for an index or value that does not fit.
        """
        self._check_index(index)
        if type(value) is not int or not 0 <= value < (1 << self._status_size):
            raise StatusListError(
                f"value {value!r} does not fit in {self._status_size} bit(s)",
                code=VerifierCode.STATUS_RANGE,
            )
        start = index * self._status_size
        first, last = start // 8, (start + self._status_size - 1) // 8
        width = (last - first + 1) * 8
        shift = (last + 1) * 8 - (start + self._status_size)
        mask = ((1 << self._status_size) - 1) << shift
        window = int.from_bytes(self._bytes[first : last + 1], "big")
        window = (window & ~mask) | (value << shift)
        self._bytes[first : last + 1] = window.to_bytes(width // 8, "big")

    def set_indexes(self) -> Iterator[int]:
        """Indexes whose value is not 0, ascending; skips zero bytes, so sparse lists are cheap."""
        size = self._status_size
        last_yielded = -1
        for byte_index, byte in enumerate(self._bytes):
            if not byte:
                continue
            low = max(byte_index * 8 // size, last_yielded + 1)
            high = min((byte_index * 8 + 7) // size, self._length - 1)
            for index in range(low, high + 1):
                if self.get(index):
                    last_yielded = index
                    yield index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bitstring):
            return NotImplemented
        return (
            self._length == other._length
            and self._status_size == other._status_size
            and self._bytes == other._bytes
        )

    def __repr__(self) -> str:
        return f"Bitstring(length={self._length}, status_size={self._status_size})"


def _max_encoded_chars(max_bytes: int) -> int:
    # zlib deflateBound() for stored (incompressible) data, plus the GZIP wrapper, then base64.
    compressed = (
        max_bytes
        + (max_bytes >> 12)
        + (max_bytes >> 14)
        + (max_bytes >> 25)
        + 13
        + 18
        + _GZIP_HEADER_ALLOWANCE
    )
    return 1 + 4 * ((compressed + 2) // 3)


def _base64url_decode(text: str) -> bytes:
    # RFC 4648 §5 alphabet, no padding (BSL 2.2). Non-canonical trailing bits are refused so one
    # list has exactly one encoding.
    if _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise StatusListError(
            "encodedList is not base64url without padding", code=VerifierCode.STATUS_LIST_DECODE
        )
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise StatusListError(
            "encodedList is not base64url without padding", code=VerifierCode.STATUS_LIST_DECODE
        ) from exc
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != text:
        raise StatusListError(
            "encodedList is not canonical base64url (non-zero padding bits)",
            code=VerifierCode.STATUS_LIST_DECODE,
        )
    return raw


def _gunzip_capped(compressed: bytes, max_bytes: int) -> bytes:
    """Inflate one GZIP member (RFC 1952), refusing output past ``max_bytes`` as it happens.

    The ISIZE trailer is not trusted for sizing (it is attacker data); zlib checks it and the
    CRC-32 once the stream ends.
    """
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    pending = compressed
    try:
        while not inflater.eof:
            # max_length 0 would mean "unlimited"; room is always at least 1 here.
            room = max_bytes + 1 - len(out)
            chunk = inflater.decompress(pending, room)
            out += chunk
            if len(out) > max_bytes:
                raise StatusListError(
                    f"encodedList inflates past the {max_bytes}-byte limit (GZIP bomb?)",
                    code=VerifierCode.STATUS_LIST_TOO_LARGE,
                )
            tail = inflater.unconsumed_tail
            if not chunk and len(tail) == len(pending):
                break  # no progress possible: the input ended before the stream did
            pending = tail
    except zlib.error as exc:
        raise StatusListError(
            f"encodedList is not valid GZIP ({exc})", code=VerifierCode.STATUS_LIST_DECODE
        ) from exc
    if not inflater.eof:
        raise StatusListError(
            "encodedList GZIP stream is truncated", code=VerifierCode.STATUS_LIST_DECODE
        )
    if inflater.unused_data:
        raise StatusListError(
            "encodedList has data after the GZIP stream", code=VerifierCode.STATUS_LIST_DECODE
        )
    return bytes(out)


# --- status messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusMessage:
    """One BSL 2.1 statusMessage item: ``status`` is the hex value ("0x0"), ``message`` text."""

    status: str
    message: str

    @property
    def value(self) -> int:
        return int(self.status, 16)


# BSL 2.1 statusMessage: with no statusMessage, 1 means "set" and 0 "unset".
_DEFAULT_MESSAGES = (StatusMessage("0x0", "unset"), StatusMessage("0x1", "set"))


def parse_status_messages(value: object, status_size: int) -> tuple[StatusMessage, ...]:
    """Validate a ``statusMessage`` array against ``statusSize`` (BSL 2.1).

    It must hold exactly ``2**statusSize`` objects, each with a ``status`` ("0x" + hex) and a
    ``message`` string; the statuses must be distinct values that fit the size, so every
    possible value has exactly one message. Extra properties are allowed.

    :raises StatusPropertyError: ``status_verification``.
    """
    _check_status_size(status_size)
    expected = 1 << status_size
    if not isinstance(value, list):
        raise _verification_error("statusMessage", "must be an array")
    if len(value) != expected:
        raise _verification_error(
            "statusMessage",
            f"must list {expected} messages for statusSize {status_size}, found {len(value)}",
        )
    messages: list[StatusMessage] = []
    seen: set[int] = set()
    for position, item in enumerate(value):
        prop = f"statusMessage/{position}"
        if not isinstance(item, dict):
            raise _verification_error(prop, "must be an object with status and message")
        status, message = item.get("status"), item.get("message")
        if not isinstance(status, str) or _STATUS_HEX.fullmatch(status) is None:
            raise _verification_error(f"{prop}/status", 'must be a hex string such as "0x1"')
        if not isinstance(message, str):
            raise _verification_error(f"{prop}/message", "must be a string")
        number = int(status, 16)  # base 16: linear time, exempt from int's digit limit
        if number >= expected:
            raise _verification_error(f"{prop}/status", f"does not fit in statusSize {status_size}")
        if number in seen:
            raise _verification_error(f"{prop}/status", "repeats an earlier status value")
        seen.add(number)
        messages.append(StatusMessage(status, message))
    return tuple(messages)


def message_for(value: int, messages: Sequence[StatusMessage]) -> str:
    """The message for a status value; BSL 2.1 defaults ("unset"/"set") when none were given.

    :raises StatusListError: ``status_range`` when no message covers ``value``.
    """
    for candidate in messages or _DEFAULT_MESSAGES:
        if candidate.value == value:
            return candidate.message
    raise StatusListError(f"no status message for value {value}", code=VerifierCode.STATUS_RANGE)


# --- entries and lists -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusEntry:
    """A parsed BitstringStatusListEntry (BSL 2.1). Unverified: it only says where to look."""

    id: str | None
    purpose: StatusPurpose
    index: int
    list_url: str
    status_size: int = 1
    status_message: tuple[StatusMessage, ...] = ()
    status_reference: tuple[str, ...] = ()

    def message_for(self, value: int) -> str:
        return message_for(value, self.status_message)


def _has_type(value: object, name: str) -> bool:
    return value == name or (isinstance(value, list) and name in value)


def _parse_purpose(value: object, prop: str) -> StatusPurpose:
    # BSL 2.1 allows any string, but a verifier cannot tell whether an unknown purpose makes
    # the credential invalid; passing it silently would be worse than refusing it (policy).
    if not isinstance(value, str):
        raise _verification_error(prop, "must be a string")
    purpose = _PURPOSES.get(value)
    if purpose is None:
        known = ", ".join(_PURPOSES)
        raise _verification_error(prop, f"{value[:40]!r} is not a supported purpose ({known})")
    return purpose


def _parse_index(value: object, max_entries: int) -> int:
    # BSL 2.1: "an arbitrary size integer greater than or equal to 0, expressed as a string in
    # base 10". No sign, no spaces, ASCII digits only.
    if not isinstance(value, str) or _DECIMAL.fullmatch(value) is None:
        raise _verification_error(
            "statusListIndex", "must be a string of decimal digits (a non-negative integer)"
        )
    significant = value.lstrip("0") or "0"
    # Compare lengths before int(): an index longer than any list we accept is out of range
    # whatever its value, and int() of a huge string is costly.
    index = int(significant) if len(significant) <= len(str(max_entries)) else max_entries
    if index >= max_entries:
        raise StatusPropertyError(
            "is beyond any status list this verifier accepts",
            prop="statusListIndex",
            code=VerifierCode.STATUS_RANGE,
        )
    return index


def _parse_references(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    urls = tuple(item for item in items if is_absolute_url(item))
    if not items or len(urls) != len(items):
        raise _verification_error("statusReference", "must be a URL or an array of URLs")
    return urls


def parse_status_entry(obj: object) -> StatusEntry:
    """Parse and validate one ``credentialStatus`` item of type BitstringStatusListEntry.

    :raises StatusPropertyError: ``status_verification`` for a property that breaks BSL 2.1,
        ``status_range`` for an index no accepted list can hold.
    """
    return StatusEntry(*_entry_fields(obj))


def parse_status_list_2021_entry(obj: object) -> StatusEntry:
    """Parse one ``credentialStatus`` item of type StatusList2021Entry (Status List 2021 §2.1:
    ``statusPurpose`` revocation or suspension, ``statusListIndex`` a non-negative integer as
    a string, ``statusListCredential`` a URL, an ``id`` that is not the list's URL).

    :raises StatusPropertyError: as :func:`parse_status_entry`.
    """
    if not isinstance(obj, dict):
        raise _verification_error("", "a StatusList2021Entry must be an object")
    if not _has_type(obj.get("type"), STATUS_LIST_2021_ENTRY_TYPE):
        raise _verification_error("type", f"must be {STATUS_LIST_2021_ENTRY_TYPE}")
    purpose = obj.get("statusPurpose")
    if purpose not in _STATUS_LIST_2021_PURPOSES:
        raise _verification_error("statusPurpose", "must be revocation or suspension")
    list_url = obj.get("statusListCredential")
    if not is_absolute_url(list_url):
        raise _verification_error("statusListCredential", "must be a URL")
    entry_id = obj.get("id")
    if entry_id is not None and (not is_absolute_url(entry_id) or entry_id == list_url):
        raise _verification_error("id", "must be a URL other than the status list's")
    index = _parse_index(obj.get("statusListIndex"), DEFAULT_MAX_BYTES * 8)
    return StatusEntry(entry_id, _PURPOSES[str(purpose)], index, list_url)


def check_status_list_2021_entry(obj: object) -> None:
    """Validate like :func:`parse_status_list_2021_entry` (for the shape rules).

    :raises StatusPropertyError: as :func:`parse_status_entry`.
    """
    parse_status_list_2021_entry(obj)


def check_status_entry(obj: object) -> None:
    """Validate like :func:`parse_status_entry`, without building the entry (the shape rules
    run this before every signature).

    :raises StatusPropertyError: as :func:`parse_status_entry`.
    """
    _entry_fields(obj)


def _entry_fields(
    obj: object,
) -> tuple[str | None, StatusPurpose, int, str, int, tuple[StatusMessage, ...], tuple[str, ...]]:
    """The fields of a :class:`StatusEntry`, in order, after every BSL 2.1 check."""
    if not isinstance(obj, dict):
        raise _verification_error("", "a BitstringStatusListEntry must be an object")
    if not _has_type(obj.get("type"), ENTRY_TYPE):
        raise _verification_error("type", f"must be {ENTRY_TYPE}")
    purpose = _parse_purpose(obj.get("statusPurpose"), "statusPurpose")
    list_url = obj.get("statusListCredential")
    if not is_absolute_url(list_url):
        raise _verification_error("statusListCredential", "must be a URL")
    entry_id = obj.get("id")
    if entry_id is not None:
        if not is_absolute_url(entry_id):
            raise _verification_error("id", "must be a URL when present")
        if entry_id == list_url:
            raise _verification_error("id", "must not be the URL of the status list (BSL 2.1)")
    status_size = _check_status_size(obj["statusSize"]) if "statusSize" in obj else 1
    max_entries = DEFAULT_MAX_BYTES * 8 // status_size
    index = _parse_index(obj.get("statusListIndex"), max_entries)
    if "statusMessage" in obj:
        messages = parse_status_messages(obj["statusMessage"], status_size)
    elif status_size > 1:
        raise _verification_error("statusMessage", "is required when statusSize is greater than 1")
    else:
        messages = ()
    references = _parse_references(obj["statusReference"]) if "statusReference" in obj else ()
    return entry_id, purpose, index, list_url, status_size, messages, references


class StatusListSubject(NamedTuple):
    """The parts of a BitstringStatusList subject (BSL 2.2) the status check needs.

    A NamedTuple so callers may unpack it as ``purposes, encoded_list, ttl_ms``.
    """

    purposes: tuple[StatusPurpose, ...]
    encoded_list: str
    ttl_ms: int | None


def parse_status_list_subject(
    subject: object, subject_type: str = LIST_SUBJECT_TYPE
) -> StatusListSubject:
    """Validate a status list credential's ``credentialSubject`` (BSL 2.2).

    The encoded list is returned as text; ``Bitstring.decode`` checks it, with the entry's
    statusSize.

    :raises StatusPropertyError: ``status_verification``.
    """
    if not isinstance(subject, dict):
        raise _verification_error("credentialSubject", "must be one object")
    if not _has_type(subject.get("type"), subject_type):
        raise _verification_error("credentialSubject/type", f"must be {subject_type}")
    raw_purposes = subject.get("statusPurpose")
    items = raw_purposes if isinstance(raw_purposes, list) else [raw_purposes]
    if not items:
        raise _verification_error("credentialSubject/statusPurpose", "must not be empty")
    purposes = tuple(_parse_purpose(item, "credentialSubject/statusPurpose") for item in items)
    encoded_list = subject.get("encodedList")
    if not isinstance(encoded_list, str):
        raise _verification_error("credentialSubject/encodedList", "must be a string")
    if subject_type == STATUS_LIST_2021_SUBJECT_TYPE:
        # Status List 2021 §2.3: base64 of the GZIP stream, no multibase prefix; read it as
        # BSL's multibase base64url (both alphabets taken, padding dropped).
        encoded_list = "u" + encoded_list.translate(_TO_BASE64URL).rstrip("=")
    ttl = subject.get("ttl")
    if ttl is not None and (type(ttl) is not int or ttl < 0):
        raise _verification_error(
            "credentialSubject/ttl", "must be a non-negative integer (milliseconds)"
        )
    return StatusListSubject(purposes, encoded_list, ttl)


def parse_status_list_credential(credential: object) -> StatusListSubject:
    """Check the list credential's type (BSL 2.1 statusListCredential) and parse its subject.

    Only the status-list parts; the caller has already verified the proof, validity period and
    issuer of the credential.

    :raises StatusPropertyError: ``status_verification``.
    """
    if not isinstance(credential, dict):
        raise _verification_error("", "the status list credential must be an object")
    if _has_type(credential.get("type"), STATUS_LIST_2021_CREDENTIAL_TYPE):
        subject_type = STATUS_LIST_2021_SUBJECT_TYPE
    elif _has_type(credential.get("type"), LIST_CREDENTIAL_TYPE):
        subject_type = LIST_SUBJECT_TYPE
    else:
        raise _verification_error(
            "type", f"must include {LIST_CREDENTIAL_TYPE} (or {STATUS_LIST_2021_CREDENTIAL_TYPE})"
        )
    subject = credential.get("credentialSubject")
    if isinstance(subject, list) and len(subject) == 1:
        subject = subject[0]
    return parse_status_list_subject(subject, subject_type)


def check_entry_against_list(
    entry: StatusEntry, bitstring: Bitstring, list_purposes: Sequence[StatusPurpose]
) -> int:
    """BSL 3.2 steps 5 and 10: the entry's status value in the list.

    :raises StatusListError: ``status_verification`` when the purposes or status sizes differ,
        ``status_range`` when the index lies outside the list (RANGE_ERROR).
    """
    if entry.purpose not in list_purposes:
        listed = ", ".join(purpose.value for purpose in list_purposes) or "none"
        raise StatusListError(
            f"entry purpose {entry.purpose.value!r} is not a purpose of the list ({listed})",
            code=VerifierCode.STATUS_VERIFICATION,
        )
    if bitstring.status_size != entry.status_size:
        raise StatusListError(
            f"list decoded with statusSize {bitstring.status_size}, entry says {entry.status_size}",
            code=VerifierCode.STATUS_VERIFICATION,
        )
    if entry.index >= len(bitstring):
        raise StatusListError(
            f"statusListIndex {entry.index} is outside the list of {len(bitstring)} entries",
            code=VerifierCode.STATUS_RANGE,
        )
    return bitstring.get(entry.index)
