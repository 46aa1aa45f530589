"""The QR payload format (docs/qr-format.md): pure text in, text out, no image code here.

A QR code holds a deep link to a verifier page, ``<verifier-url>#<payload>``. The payload sits in
the URL fragment, which browsers never send to a server, so a credential never lands in an access
log. ``<payload>`` is one format-version digit, one kind letter and the body:

- ``1C`` + base32(DEFLATE(compact credential JSON, dictionary v1)): the whole signed credential;
- ``1J`` + base32(DEFLATE(header NUL payload NUL signature, dictionary v1)): a vc+jwt whose three
  parts are carried as raw bytes (base64url of JSON does not compress; its decoded bytes do);
- ``1L`` + an https URL: link-only, the hosted credential, for very small prints.

Base32 (RFC 4648 §6, uppercase, no padding) keeps the long part inside the QR alphanumeric set, so
it costs 5.5 bits a character instead of 8; the ``#`` is not in that set, hence a short byte-mode
segment for the URL and an alphanumeric one for the payload (:func:`qr_segments`).

Decoding is capped: text length, inflated size, and JSON size and depth (``loads_limited``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from contexts.errors import InputError

from .errors import VerifierCode
from .qr_dictionary import DICTIONARIES

#: The format version this code writes.
VERSION = "1"
#: Where the verifier page lives under a verifier's public URL (short: every byte is in the QR).
VERIFIER_PATH = "/v"
#: Far above any QR code (version 40 holds at most 7,089 digits); longer text is not a QR payload.
MAX_QR_TEXT = 8192
#: An inflated payload larger than this is refused (a QR holds under 3 KB; DEFLATE can inflate
#: about 1000-fold, so a hand-made payload could otherwise ask for megabytes).
MAX_INFLATED_BYTES = 64 * 1024
MAX_LINK_LENGTH = 2048

# RFC 4648 §6 alphabet; QR alphanumeric mode (ISO/IEC 18004 §7.4.4) holds 0-9, A-Z, space, $%*+-./:
_BASE32 = re.compile(r"[A-Z2-7]*")
_QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_PAYLOAD_START = re.compile(r"[0-9][A-Z]")
# An absolute http(s) URL of printable ASCII, no fragment (the fetcher decides what it fetches).
_LINK = re.compile(
    r"https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?"
)
_URL_PREFIX = re.compile(r"https?://[^\s#\"'<>]*")
_NUL = b"\x00"


class PayloadKind(Enum):
    """The letter after the version digit."""

    CREDENTIAL = "C"
    JWT = "J"
    LINK = "L"


@dataclass(frozen=True)
class QrPayload:
    """A decoded payload. ``unverified_text`` is credential JSON, a compact JWS or a URL."""

    kind: PayloadKind
    unverified_text: str


def _payload_error(message: str) -> InputError:
    return InputError(message, code=VerifierCode.QR_PAYLOAD_INVALID)


# --- compression and base32 -------------------------------------------------------------------


def _deflate(data: bytes, version: str = VERSION) -> bytes:
    # Raw DEFLATE (RFC 1951, no zlib header: the version digit names the dictionary instead).
    compressor = zlib.compressobj(
        9, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, zdict=DICTIONARIES[version]
    )
    return compressor.compress(data) + compressor.flush()


def _inflate(data: bytes, version: str, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(-zlib.MAX_WBITS, zdict=DICTIONARIES[version])
    try:
        out = inflater.decompress(data, max_bytes + 1)
        if len(out) > max_bytes:
            raise _payload_error(f"the payload inflates past {max_bytes} bytes")
        out += inflater.flush()
    except zlib.error as cause:
        raise _payload_error(f"the payload is not valid DEFLATE data ({cause})") from cause
    if len(out) > max_bytes:
        raise _payload_error(f"the payload inflates past {max_bytes} bytes")
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        raise _payload_error("the payload's DEFLATE stream is truncated or followed by data")
    return out


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


def _b32decode(text: str) -> bytes:
    text = text.upper()  # camera apps keep case; people pasting text may not
    if _BASE32.fullmatch(text) is None or len(text) % 8 in (1, 3, 6):
        raise _payload_error("the payload is not base32 (RFC 4648, A-Z and 2-7, no padding)")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error as cause:
        raise _payload_error("the payload is not base32") from cause
    if _b32encode(raw) != text:
        raise _payload_error("the payload is not canonical base32 (non-zero padding bits)")
    return raw


# --- encoding ---------------------------------------------------------------------------------


def compact_json(credential: Mapping[str, Any]) -> bytes:
    """The credential as compact UTF-8 JSON (Data Integrity signs RDF, not JSON bytes)."""
    return json.dumps(credential, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def encode_credential(credential: Mapping[str, Any] | str) -> str:
    """The payload (``1C…`` or ``1J…``) of a signed credential: JSON object or compact JWS.

    :raises InputError: ``qr_payload_invalid`` for a token that is not a three-part JWS.
    """
    if isinstance(credential, str):
        parts = credential.strip().split(".")
        if len(parts) != 3:
            raise _payload_error("a vc+jwt has three dot-separated parts")
        try:
            raw = [base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)) for p in parts]
        except (binascii.Error, ValueError) as cause:
            raise _payload_error("a vc+jwt part is not base64url") from cause
        if any(_NUL in part for part in raw[:2]):
            raise _payload_error("a vc+jwt header or payload cannot hold NUL bytes")
        body = _NUL.join(raw)
        return VERSION + PayloadKind.JWT.value + _b32encode(_deflate(body))
    return VERSION + PayloadKind.CREDENTIAL.value + _b32encode(_deflate(compact_json(credential)))


def encode_link(url: str) -> str:
    """The link-only payload (``1L…``) for the URL of a hosted credential.

    :raises InputError: ``qr_payload_invalid`` unless ``url`` is an http(s) URL of printable ASCII
        without a fragment.
    """
    if len(url) > MAX_LINK_LENGTH or _LINK.fullmatch(url) is None:
        raise _payload_error("a link payload must be an http(s) URL (ASCII, no fragment)")
    return VERSION + PayloadKind.LINK.value + url


def deep_link(verifier_url: str, payload: str) -> str:
    """``<verifier_url>#<payload>``: what the QR code holds.

    :raises InputError: ``qr_payload_invalid`` when the verifier URL already has a fragment or is
        not http(s).
    """
    if "#" in verifier_url or not verifier_url.startswith(("https://", "http://")):
        raise _payload_error("the verifier URL must be an http(s) URL without a fragment")
    return f"{verifier_url}#{payload}"


def qr_segments(text: str) -> list[tuple[str, bool]]:
    """How to split QR text into segments: ``(text, alphanumeric?)`` pairs.

    The URL part up to and including ``#`` goes in byte mode; a payload made only of QR
    alphanumeric characters gets its own alphanumeric segment (11 bits per two characters).
    """
    prefix, sep, fragment = text.partition("#")
    if sep and fragment and set(fragment) <= _QR_ALPHANUMERIC:
        return [(prefix + sep, False), (fragment, True)]
    return [(text, False)]


# --- decoding ---------------------------------------------------------------------------------


def payload_of(text: str) -> str | None:
    """The payload inside QR text (a deep link or a bare payload), or None if it has none."""
    text = text.strip()
    prefix, sep, fragment = text.partition("#")
    if sep and _URL_PREFIX.fullmatch(prefix) is None:
        return None  # JSON with a "#" in a string, say: not a deep link
    candidate = fragment if sep else text
    if _PAYLOAD_START.match(candidate[:2].upper()) is None:
        return None
    if (
        not sep
        and candidate[1].upper() != PayloadKind.LINK.value
        and not _BASE32.fullmatch(candidate[2:].upper())
    ):
        return None  # a bare payload is the whole text; anything else is not ours
    return candidate


def looks_like_qr_payload(text: str) -> bool:
    return payload_of(text) is not None


def decode_payload(text: str, *, max_inflated: int = MAX_INFLATED_BYTES) -> QrPayload:
    """Decode QR text: a deep link ``…#1C…`` or a bare payload ``1C…``.

    :raises InputError: ``qr_payload_invalid`` for an unknown version or kind, bad base32 or
        DEFLATE, a payload that inflates too far, or a bad link.
    """
    if len(text) > MAX_QR_TEXT:
        raise _payload_error(f"QR text longer than {MAX_QR_TEXT} characters")
    payload = payload_of(text)
    if payload is None:
        raise _payload_error("not a certvc QR payload (expected <url>#1C…, #1J… or #1L…)")
    version, letter, body = payload[0], payload[1].upper(), payload[2:]
    if version not in DICTIONARIES:
        raise _payload_error(f"QR payload format version {version} is not supported")
    try:
        kind = PayloadKind(letter)
    except ValueError:
        raise _payload_error(f"unknown QR payload kind {letter!r}") from None
    if kind is PayloadKind.LINK:
        if len(body) > MAX_LINK_LENGTH or _LINK.fullmatch(body) is None:
            raise _payload_error("a link payload must be an https URL")
        return QrPayload(kind, body)
    raw = _inflate(_b32decode(body), version, max_inflated)
    if kind is PayloadKind.JWT:
        parts = raw.split(_NUL, 2)
        if len(parts) != 3:
            raise _payload_error("a vc+jwt payload needs header, payload and signature")
        token = ".".join(base64.urlsafe_b64encode(p).decode("ascii").rstrip("=") for p in parts)
        return QrPayload(kind, token)
    try:
        return QrPayload(kind, raw.decode("utf-8"))
    except UnicodeDecodeError as cause:
        raise _payload_error("the credential in the payload is not UTF-8") from cause
