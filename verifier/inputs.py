"""Recognise what a verifier was handed: credential JSON, a vc+jwt, QR text or a QR image.

Untrusted bytes are capped in size and JSON nesting depth *before* they are parsed, so a hostile
input costs a bounded amount of work and never a RecursionError. Images are capped in bytes and
pixels before they are decoded (``verifier.qr_image``, imported only when an image arrives: it
pulls in Pillow and zxing-cpp). A link (a ``#1L`` payload or a bare https URL) needs a fetch,
which is I/O: it is reported as :class:`LinkInput` for an adapter to fetch, never fetched here.

Files that *carry* a credential (a PDF certificate, a baked Open Badges image) are read by
extractors other packages register under the entry-point group ``certvc.input_extractors``
(name -> ``callable(bytes) -> str | None``: the credential JSON, vc+jwt or QR text inside, or
None when the file is not theirs), loaded on first use; the verifier never imports them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from importlib.metadata import entry_points
from typing import Any

from contexts.errors import CertvcError, ErrorCode, InputError
from keys.suites import vc_jwt

from . import qr
from .errors import VerifierCode
from .result import InputFormat

MAX_INPUT_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64
#: Files that carry a credential (a PDF certificate, a baked badge) may be larger.
MAX_CONTAINER_BYTES = 32 * 1024 * 1024
EXTRACTOR_GROUP = "certvc.input_extractors"

#: Reads the credential text (JSON, vc+jwt or QR text) inside a file; None when not its kind.
Extractor = Callable[[bytes], str | None]


class InputSource(Enum):
    """Where the credential was found (for people reading the result; it changes no check)."""

    TEXT = "text"  # credential JSON or a compact JWS
    QR_TEXT = "qr-text"  # a deep link or a bare QR payload
    QR_IMAGE = "qr-image"  # a PNG or JPEG holding a QR code
    LINK = "link"  # fetched from the URL of a hosted credential
    CONTAINER = "container"  # inside a file: a PDF certificate, a baked badge


@dataclass(frozen=True)
class CredentialInput:
    format: InputFormat
    unverified_credential: Mapping[str, Any]
    token: vc_jwt.UnverifiedJwt | None = None
    source: InputSource = InputSource.TEXT


class LinkInput(InputError):
    """The input is a link to a hosted credential: ``url`` must be fetched (safely) first."""

    code = VerifierCode.LINK_NEEDS_FETCH

    def __init__(self, url: str, source: InputSource) -> None:
        super().__init__(f"the input is a link to a hosted credential: {url}")
        self.url = url
        self.source = source


def check_json_depth(text: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON nested deeper than ``max_depth`` without parsing it.

    :raises InputError: ``input_too_deep``.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot nest deeper than it has brackets: skip the character walk
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                raise InputError(
                    f"JSON nested deeper than {max_depth} levels", code=ErrorCode.INPUT_TOO_DEEP
                )
        elif ch in "]}":
            depth -= 1


def loads_limited(data: bytes | str, *, max_bytes: int = MAX_INPUT_BYTES) -> Any:
    """``json.loads`` with size and depth caps; duplicate keys are refused (they hide content).

    :raises InputError: not UTF-8, not JSON, too large or too deep.
    """
    if len(data) > max_bytes:
        raise InputError(f"input larger than {max_bytes} bytes", code=ErrorCode.INPUT_TOO_LARGE)
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as cause:
        raise InputError("input is not UTF-8 text") from cause
    check_json_depth(text)

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise InputError(f"duplicate JSON key {key!r}")
            result[key] = value
        return result

    try:
        return json.loads(text, object_pairs_hook=no_duplicates)
    except json.JSONDecodeError as cause:
        raise InputError(
            f"not JSON: {cause.msg} at line {cause.lineno} column {cause.colno}"
        ) from cause
    except ValueError as cause:  # a number longer than int() takes (sys.get_int_max_str_digits)
        raise InputError(f"not usable JSON: {cause}") from cause


def _bare_link(text: str) -> bool:
    return (
        text.startswith("https://")
        and len(text) <= qr.MAX_LINK_LENGTH
        and text.isprintable()
        and (not any(c.isspace() for c in text))
    )


def _from_json_text(data: bytes | str, source: InputSource) -> CredentialInput:
    value = loads_limited(data)
    if isinstance(value, dict) and "verifiableCredential" in value and "@context" not in value:
        # the W3C VC API request shape {verifiableCredential, options}
        value = value["verifiableCredential"]
        if isinstance(value, str):
            return read_credential_input(value)
    if not isinstance(value, dict) or ("@context" not in value and "type" not in value):
        raise InputError("the input is not a verifiable credential (no @context or type)")
    return CredentialInput(InputFormat.JSON, value, source=source)


#: VC-JOSE-COSE §3.2: a presentation secured as a JWS (``typ`` vp+jwt): not a credential.
_PRESENTATION_TYPES = ("vp+jwt", "application/vp+jwt")


def _from_jwt(text: str, source: InputSource) -> CredentialInput:
    token = vc_jwt.parse(text)
    if token.header.get("typ") in _PRESENTATION_TYPES:
        raise InputError(
            "this is a presentation (vp+jwt), not a credential: verify it as a presentation",
            code=ErrorCode.INPUT_UNUSABLE,
        )
    return CredentialInput(InputFormat.VC_JWT, token.unverified_payload, token, source)


def _from_qr_text(text: str, source: InputSource) -> CredentialInput:
    payload = qr.decode_payload(text)
    if payload.kind is qr.PayloadKind.LINK:
        raise LinkInput(payload.unverified_text, source)
    if payload.kind is qr.PayloadKind.JWT:
        return _from_jwt(payload.unverified_text, source)
    return _from_json_text(payload.unverified_text.encode("utf-8"), source)


def _from_image(data: bytes) -> CredentialInput:
    from .qr_image import read_qr_texts  # noqa: PLC0415 - Pillow and zxing-cpp only for images

    texts = read_qr_texts(data)
    ours = [text for text in texts if qr.looks_like_qr_payload(text)]
    # A printed certificate carries a link code and the self-contained one beside it: of two,
    # the one that needs no fetch answers even where the link's host cannot be reached.
    ours.sort(
        key=lambda text: (qr.payload_of(text) or "")[1:2].upper() == qr.PayloadKind.LINK.value
    )
    text = (ours or texts)[0].strip()
    if ours:
        return _from_qr_text(text, InputSource.QR_IMAGE)
    if vc_jwt.looks_like_jwt(text):
        return _from_jwt(text, InputSource.QR_IMAGE)
    if _bare_link(text):
        raise LinkInput(text, InputSource.QR_IMAGE)
    raise InputError(
        "the QR code holds neither a certvc payload, a vc+jwt nor a link",
        code=VerifierCode.QR_PAYLOAD_INVALID,
    )


@functools.cache
def registered_extractors() -> tuple[tuple[str, Extractor], ...]:
    """The extractors installed packages register (``certvc.input_extractors``), by name;
    loaded once, on first use. One that is registered but does not import fails loudly: a
    broken import must not quietly turn PDF certificates into "not a credential"."""
    entries = sorted(entry_points(group=EXTRACTOR_GROUP), key=lambda ep: ep.name)
    return tuple((ep.name, ep.load()) for ep in entries)


def _from_extracted(text: str) -> CredentialInput:
    stripped = text.strip()
    if vc_jwt.looks_like_jwt(stripped):
        return _from_jwt(stripped, InputSource.CONTAINER)
    if qr.looks_like_qr_payload(stripped):
        return _from_qr_text(stripped, InputSource.CONTAINER)
    if _bare_link(stripped):
        raise LinkInput(stripped, InputSource.CONTAINER)
    return _from_json_text(stripped.encode("utf-8"), InputSource.CONTAINER)


def _from_container(
    data: bytes, extractors: Sequence[tuple[str, Extractor]]
) -> CredentialInput | None:
    for name, extract in extractors:
        try:
            text = extract(data)
        except CertvcError:
            raise
        except Exception as cause:  # a plugin's bug must not become a traceback
            raise InputError(
                f"the {name} reader failed on this file ({type(cause).__name__})"
            ) from cause
        if text is not None:
            return _from_extracted(text)
    return None


def read_credential_input(
    data: bytes | str, *, extractors: Sequence[tuple[str, Extractor]] | None = None
) -> CredentialInput:
    """Detect credential JSON, a vc+jwt, QR text (deep link or bare payload), a QR image, or a
    file carrying a credential (through ``extractors``, by default the registered ones).

    :raises InputError: the input is none of these (unusable input, CLI exit 2); a bad QR
        payload is ``qr_payload_invalid``, a bad image ``image_unsupported`` or ``qr_not_found``.
    :raises CertvcError: an extractor's own code for a broken file of its kind.
    :raises LinkInput: the input is a link to a hosted credential, to be fetched by the caller.
    :raises ProofError: a token that is recognisably a JWT but malformed or with a refused alg.
    """
    if isinstance(data, bytes) and data[:64].lstrip()[:1] not in (b"{", b"["):
        if len(data) > MAX_CONTAINER_BYTES:
            raise InputError(
                f"input larger than {MAX_CONTAINER_BYTES} bytes", code=ErrorCode.INPUT_TOO_LARGE
            )
        found = _from_container(data, registered_extractors() if extractors is None else extractors)
        if found is not None:
            return found
    if isinstance(data, bytes) and data.startswith((b"\x89PNG", b"\xff\xd8\xff")):
        return _from_image(data)
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(
            f"input larger than {MAX_INPUT_BYTES} bytes", code=ErrorCode.INPUT_TOO_LARGE
        )
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    stripped = text.strip()
    if stripped.startswith("ey") and vc_jwt.looks_like_jwt(stripped):
        return _from_jwt(stripped, InputSource.TEXT)
    if not stripped.startswith(("{", "[")):
        if qr.looks_like_qr_payload(stripped):
            return _from_qr_text(stripped, InputSource.QR_TEXT)
        if _bare_link(stripped):
            raise LinkInput(stripped, InputSource.TEXT)
    return _from_json_text(data, InputSource.TEXT)


#: Media types of a fetched credential (status lists, linked credentials).
JSON_MEDIA_TYPES = (
    "application/vc",
    "application/vc+ld+json",
    "application/ld+json",
    "application/json",
)
JWT_MEDIA_TYPES = ("application/vc+jwt", "application/jwt")


def read_fetched_credential(body: bytes, media_type: str) -> CredentialInput:
    """A credential fetched over HTTP: JSON or a compact JWS only (never QR text or an image).

    :raises InputError: not a credential; :raises ProofError: a malformed JWS.
    """
    if len(body) > MAX_INPUT_BYTES:
        raise InputError(
            f"input larger than {MAX_INPUT_BYTES} bytes", code=ErrorCode.INPUT_TOO_LARGE
        )
    if media_type in JWT_MEDIA_TYPES:
        try:
            text = body.decode("ascii").strip()
        except UnicodeDecodeError as cause:
            raise InputError("a vc+jwt is ASCII text") from cause
        return _from_jwt(text, InputSource.LINK)
    value = loads_limited(body)
    if not isinstance(value, dict) or ("@context" not in value and "type" not in value):
        raise InputError("the document is not a verifiable credential (no @context or type)")
    return CredentialInput(InputFormat.JSON, value, source=InputSource.LINK)
