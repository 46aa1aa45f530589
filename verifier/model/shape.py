"""One set of VC Data Model 2.0 shape rules, for the issuer (before signing) and the verifier.

The issuer calls ``validate_credential_shape(credential, Mode.ISSUE)`` before it signs and the
verifier runs ``shape_problems(credential, Mode.VERIFY)`` first, so certvc never signs what its
own verifier rejects. Shape means the JSON structure the specification demands; whether every
term is defined by a context is the JSON-LD safe-mode check, and whether the credential is valid
*now* is the validity check (it reuses ``parse_datetime_stamp``).

Paths are JSON Pointers (RFC 6901) into the credential; "" is the credential itself.

Mode differences (everything else applies to both):

- ``Mode.ISSUE`` refuses a ``credentialSubject`` object that makes no claim beyond its ``id``
  (VC 2.0 §4.8: each subject "MUST be the subject of one or more claims"); ``Mode.VERIFY``
  refuses only the empty object, being lenient on what others issued.
- ``proof`` is never required here: in VERIFY mode a missing proof is the proof check's failure
  to report; in ISSUE mode an existing proof is allowed (adding a proof to a proof set). Where a
  ``proof`` is present it must be an object, or a list of objects, each with a ``type``.
- ``Mode.ISSUE`` refuses JSON numbers with 0 < |x| < 1e-6 that are not integers: JavaScript
  prints them without a "." (``1e-7``) and the reference implementation (jsonld.js 9) then turns
  them into ``"0"^^xsd:integer`` where JSON-LD 1.1 API §8.6 says ``xsd:double``: a credential
  holding one could not be verified by the reference. (tests/interop pins the divergence.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from contexts.errors import Code, ErrorCode, ShapeError
from contexts.urls import CREDENTIALS_V2
from keys.dates import parse_datetime_stamp

from ..errors import StatusListError
from .status_list import ENTRY_TYPE, StatusPropertyError, check_status_entry
from .status_list import is_absolute_url as _is_url

CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
VERIFIABLE_CREDENTIAL = "VerifiableCredential"

# VC 2.0 §4.x: properties whose values are objects that "MUST specify" a type.
_TYPED_PROPERTIES = (
    "credentialStatus",
    "credentialSchema",
    "evidence",
    "termsOfUse",
    "refreshService",
    "proof",
)
# BCP 47 well-formedness, loosely: alphanumeric subtags of 1-8 characters.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
_LANGUAGE_VALUE_KEYS = frozenset({"@value", "@language", "@direction"})
_MALFORMED = ErrorCode.CREDENTIAL_MALFORMED


class Mode(Enum):
    """Who is asking: the issuer about to sign, or a verifier about to check."""

    ISSUE = "issue"
    VERIFY = "verify"


@dataclass(frozen=True)
class ShapeProblem:
    """One broken rule: ``path`` is a JSON Pointer to the culprit."""

    path: str
    message: str
    code: Code = _MALFORMED


def _pointer(path: str, key: str | int) -> str:
    if type(key) is str and ("~" in key or "/" in key):
        key = key.replace("~", "~0").replace("/", "~1")
    return f"{path}/{key}"


def _describe(path: str) -> str:
    return path or "the credential"


_Problems = list[ShapeProblem]


def _items(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]


def _check_type_value(value: object, parent: str, out: _Problems) -> list[str]:
    """The names in ``parent``'s ``type`` (VC 2.0 §4.5: "one or more terms and/or absolute URL
    strings"); the pointer is built only for a problem (this runs before every signature)."""
    names = value if isinstance(value, list) else [value]
    if value is None or not names or not all(isinstance(n, str) and n for n in names):
        problem = "type must be a string or a non-empty list of strings"
        out.append(ShapeProblem(_pointer(parent, "type"), problem))
        return []
    return names  # type: ignore[return-value]


def _check_context(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.3: an ordered set whose first item is the v2 context URL."""
    context = credential.get("@context")
    path = "/@context"
    if context is None:
        out.append(ShapeProblem(path, "@context is required"))
        return
    if not isinstance(context, list) or not context:
        out.append(ShapeProblem(path, f"@context must be a list starting with {CREDENTIALS_V2}"))
        return
    first = context[0]
    if first == CREDENTIALS_V1:
        out.append(
            ShapeProblem(
                _pointer(path, 0),
                f"this is a VC Data Model 1.1 credential ({CREDENTIALS_V1}); only VC Data Model "
                f"2.0 ({CREDENTIALS_V2}) is supported",
            )
        )
    elif first != CREDENTIALS_V2:
        out.append(ShapeProblem(_pointer(path, 0), f"the first @context must be {CREDENTIALS_V2}"))
    for position, item in enumerate(context[1:], start=1):
        if not (_is_url(item) or isinstance(item, dict)):
            out.append(
                ShapeProblem(
                    _pointer(path, position), "each @context item must be a URL or an object"
                )
            )


def _check_type(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.5: ``type`` includes VerifiableCredential."""
    if "type" not in credential:
        out.append(
            ShapeProblem("/type", f"type is required and must include {VERIFIABLE_CREDENTIAL}")
        )
        return
    names = _check_type_value(credential["type"], "", out)
    if names and VERIFIABLE_CREDENTIAL not in names:
        out.append(ShapeProblem("/type", f"type must include {VERIFIABLE_CREDENTIAL}"))


def _check_id(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.4: ``id``, where present, is a single URL."""
    if "id" in credential and not _is_url(credential["id"]):
        out.append(ShapeProblem("/id", "id must be a single URL"))


def _check_issuer(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.7: a URL, or an object whose ``id`` is a URL."""
    issuer = credential.get("issuer")
    if issuer is None:
        out.append(ShapeProblem("/issuer", "issuer is required"))
    elif isinstance(issuer, dict):
        if not _is_url(issuer.get("id")):
            out.append(ShapeProblem("/issuer/id", "an issuer object must have an id that is a URL"))
        _check_language_properties(issuer, "/issuer", out)
    elif not _is_url(issuer):
        out.append(ShapeProblem("/issuer", "issuer must be a URL or an object with an id URL"))


def _check_subject(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.8: one or more objects, each the subject of at least one claim."""
    subject = credential.get("credentialSubject")
    path = "/credentialSubject"
    if subject is None:
        out.append(ShapeProblem(path, "credentialSubject is required"))
        return
    if isinstance(subject, list):
        if not subject:
            out.append(ShapeProblem(path, "credentialSubject must not be an empty list"))
        entries = [(_pointer(path, i), item) for i, item in enumerate(subject)]
    else:
        entries = [(path, subject)]
    for item_path, item in entries:
        if not isinstance(item, dict):
            out.append(ShapeProblem(item_path, "credentialSubject must be an object"))
            continue
        if "id" in item and not _is_url(item["id"]):
            out.append(ShapeProblem(_pointer(item_path, "id"), "a subject id must be a URL"))
        if not item:
            out.append(ShapeProblem(item_path, "credentialSubject must make at least one claim"))
        # A subject with only an ``id`` is allowed (VC 2.0 §4.8 and its examples), on signing
        # too: the generic signer and the VC API sign what the specification allows. certvc's
        # own certification credential always carries its claims (``verifier.model.credentials``).


def _check_validity(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.6: dateTimeStamp values, and validFrom not after validUntil."""
    parsed: dict[str, datetime] = {}
    for name in ("validFrom", "validUntil"):
        if name not in credential:
            continue
        try:
            parsed[name] = parse_datetime_stamp(credential[name])
        except ShapeError as exc:
            out.append(ShapeProblem(f"/{name}", f"{name} {exc.message}", exc.code))
    if len(parsed) == 2 and parsed["validFrom"] > parsed["validUntil"]:
        out.append(ShapeProblem("/validUntil", "validUntil is earlier than validFrom"))


def _check_typed_properties(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.9-4.12, §5.x: each item of these properties is an object with a ``type``."""
    for name in _TYPED_PROPERTIES:
        if name not in credential:
            continue
        value = credential[name]
        path = f"/{name}"
        if isinstance(value, list) and not value:
            out.append(ShapeProblem(path, f"{name} must not be an empty list"))
        multiple = isinstance(value, list)
        for position, item in enumerate(_items(value)):
            item_path = _pointer(path, position) if multiple else path
            _check_typed_object(name, item, item_path, out)


def _check_typed_object(name: str, item: object, path: str, out: _Problems) -> None:
    if not isinstance(item, dict):
        out.append(ShapeProblem(path, f"each {name} item must be an object with a type"))
        return
    if "type" not in item:
        out.append(ShapeProblem(_pointer(path, "type"), f"each {name} item must have a type"))
        return
    names = _check_type_value(item["type"], path, out)
    if "id" in item and not _is_url(item["id"]):
        out.append(ShapeProblem(_pointer(path, "id"), f"a {name} id must be a URL"))
    elif name == "credentialSchema" and "id" not in item:
        # VC 2.0 §4.11: each data schema has an id that is a URL identifying the schema.
        out.append(ShapeProblem(_pointer(path, "id"), "a credentialSchema must have an id URL"))
    if name == "credentialStatus" and ENTRY_TYPE in names:
        try:
            check_status_entry(item)
        except StatusPropertyError as exc:
            prop_path = path
            for token in filter(None, exc.prop.split("/")):
                prop_path = _pointer(prop_path, int(token) if token.isdigit() else token)
            out.append(ShapeProblem(prop_path, exc.message, exc.code))
        except StatusListError as exc:
            out.append(ShapeProblem(path, exc.message, exc.code))


def _check_language_properties(obj: dict[str, object], path: str, out: _Problems) -> None:
    for name in ("name", "description"):
        if name in obj and type(obj[name]) is not str:  # a plain string is always well formed
            _check_language_value(obj[name], _pointer(path, name), name, out)


def _check_names(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §4.2 / §11.1: ``name`` and ``description`` are strings or language values."""
    _check_language_properties(credential, "", out)


def _check_language_value(value: object, path: str, name: str, out: _Problems) -> None:
    if isinstance(value, list):
        if not value:
            out.append(ShapeProblem(path, f"{name} must not be an empty list"))
        for position, item in enumerate(value):
            _check_single_language_value(item, _pointer(path, position), name, out)
    else:
        _check_single_language_value(value, path, name, out)


def _check_single_language_value(value: object, path: str, name: str, out: _Problems) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, dict):
        out.append(
            ShapeProblem(path, f"{name} must be a string or a language value object (@value)")
        )
        return
    extra = sorted(key for key in value if key not in _LANGUAGE_VALUE_KEYS)
    if extra:
        out.append(
            ShapeProblem(
                path,
                "a language value object allows only @value, @language and @direction "
                f"(found {', '.join(extra)[:60]})",
            )
        )
    if not isinstance(value.get("@value"), str):
        out.append(ShapeProblem(_pointer(path, "@value"), "@value must be a string"))
    language = value.get("@language")
    if "@language" in value and (
        not isinstance(language, str) or _LANGUAGE_TAG.fullmatch(language) is None
    ):
        out.append(ShapeProblem(_pointer(path, "@language"), "@language must be a BCP 47 tag"))
    if "@direction" in value and value["@direction"] not in ("ltr", "rtl"):
        out.append(ShapeProblem(_pointer(path, "@direction"), '@direction must be "ltr" or "rtl"'))


_TINY = 1e-6


def _has_tiny_number(value: dict[str, object]) -> bool:
    # Iterative (any depth), type()-based, and only containers are stacked: this runs on every
    # credential before signing.
    stack: list[Any] = [value]
    while stack:
        container = stack.pop()
        for item in container.values() if type(container) is dict else container:
            kind = type(item)
            if kind is dict or kind is list:
                stack.append(item)
            elif kind is float and 0 < abs(item) < _TINY and not item.is_integer():
                return True
    return False


def _check_numbers(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    if mode is not Mode.ISSUE or not _has_tiny_number(credential):
        return  # the common case: no pointers built (this runs before every signature)
    stack: list[tuple[object, str]] = [(credential, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, _pointer(path, k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, _pointer(path, i)) for i, v in enumerate(value))
        elif isinstance(value, float) and 0 < abs(value) < _TINY and not value.is_integer():
            out.append(
                ShapeProblem(
                    path,
                    f"the number {value!r} is too small to be read the same by every JSON-LD "
                    "processor; write it as a string or scale it",
                )
            )


_RULES: tuple[Callable[[dict[str, object], Mode, _Problems], None], ...] = (
    _check_context,
    _check_type,
    _check_id,
    _check_issuer,
    _check_subject,
    _check_validity,
    _check_typed_properties,
    _check_names,
    _check_numbers,
)
_RULES_WITHOUT_NUMBERS = tuple(rule for rule in _RULES if rule is not _check_numbers)


def shape_problems(
    credential: object, mode: Mode, *, without_numbers: bool = False
) -> tuple[ShapeProblem, ...]:
    """Every shape rule ``credential`` breaks, in rule order; empty when it is well formed.

    ``without_numbers``: the caller knows the credential holds no JSON number (as when
    ``contexts.compiled.read_shape`` accepted it), so the number rule's walk is skipped.
    Never raises on any JSON value: the verifier reports these as one failed check.
    """
    if not isinstance(credential, dict):
        return (ShapeProblem("", "a credential must be a JSON object"),)
    out: _Problems = []
    for rule in _RULES_WITHOUT_NUMBERS if without_numbers else _RULES:
        rule(credential, mode, out)
    return tuple(out)


def validate_credential_shape(
    credential: object, mode: Mode, *, without_numbers: bool = False
) -> None:
    """Raise on the first broken shape rule (the issuer's guard before signing).

    :raises ShapeError: with the first problem's path and code; the message says how many more.
    """
    problems = shape_problems(credential, mode, without_numbers=without_numbers)
    if not problems:
        return
    first = problems[0]
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    raise ShapeError(
        f"{_describe(first.path)}: {first.message}{suffix}", path=first.path, code=first.code
    )
