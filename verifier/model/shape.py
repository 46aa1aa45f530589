"""One set of shape rules, for the issuer (before signing) and the verifier: VC Data Model 2.0,
and VC Data Model 1.1 for the credentials others issue in it (issue 14).

The issuer calls ``validate_credential_shape(credential, Mode.ISSUE)`` before it signs and the
verifier runs ``shape_problems(credential, Mode.VERIFY)`` first, so certvc never signs what its
own verifier rejects. Shape means the JSON structure the specification demands; whether every
term is defined by a context is the JSON-LD safe-mode check, and whether the credential is valid
*now* is the validity check (it reuses ``parse_datetime_stamp``).

Paths are JSON Pointers (RFC 6901) into the credential; "" is the credential itself.

The data model is read from the first ``@context`` (:func:`data_model`): VC 2.0
(``https://www.w3.org/ns/credentials/v2``) has ``validFrom``/``validUntil``; VC 1.1
(``https://www.w3.org/2018/credentials/v1``) requires ``issuanceDate`` and may have
``expirationDate`` (VC 1.1 §4.6, §4.7), and each ``credentialStatus`` has an ``id`` (§4.9). Both
take the same subject, issuer, type and typed-property rules. (Terms one model does not define,
``validFrom`` in a 1.1 credential say, are the JSON-LD safe-mode check's to refuse.)

``relatedResource`` (VC 2.0 §5.3) is one object or a list of them, each with a URL ``id`` unique
among them and a ``digestSRI`` or ``digestMultibase``; when a store of pinned contexts is given
and the resource is one of them, the digest must match the pinned bytes
(``related_resource_digest_mismatch``).

Mode differences (everything else applies to both):

- A ``credentialSubject`` with only an ``id`` is allowed in both modes (VC 2.0 §4.8); only the
  empty object is refused. certvc's own certification credential always carries claims (its
  builder, :mod:`verifier.model.credentials`).
- ``proof`` is never required here: in VERIFY mode a missing proof is the proof check's failure
  to report; in ISSUE mode an existing proof is allowed (adding a proof to a proof set). Where a
  ``proof`` is present it must be an object, or a list of objects, each with a ``type``.
- ``Mode.ISSUE`` refuses JSON numbers with 0 < |x| < 1e-6 that are not integers: JavaScript
  prints them without a "." (``1e-7``) and the reference implementation (jsonld.js 9) then turns
  them into ``"0"^^xsd:integer`` where JSON-LD 1.1 API §8.6 says ``xsd:double``: a credential
  holding one could not be verified by the reference. (tests/interop pins the divergence.)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from contexts.errors import Code, ErrorCode, ShapeError
from contexts.loader import ContextStore
from contexts.urls import CREDENTIALS_V1, CREDENTIALS_V2
from keys.base58btc import b58decode
from keys.dates import parse_datetime_stamp

from ..errors import StatusListError, VerifierCode
from .status_list import (
    ENTRY_TYPE,
    STATUS_LIST_2021_ENTRY_TYPE,
    StatusPropertyError,
    check_status_entry,
    check_status_list_2021_entry,
)
from .status_list import is_absolute_url as _is_url

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


class DataModel(Enum):
    """The VC Data Model version a credential is written in (its first ``@context``)."""

    V1_1 = "1.1"
    V2_0 = "2.0"

    @property
    def name_shown(self) -> str:
        return f"VC Data Model {self.value}"


def data_model(credential: object) -> DataModel | None:
    """VC 2.0 §4.3 / VC 1.1 §4.1: the base context comes first; None when it is neither."""
    context = credential.get("@context") if isinstance(credential, dict) else None
    first = context[0] if isinstance(context, list) and context else None
    if first == CREDENTIALS_V2:
        return DataModel.V2_0
    if first == CREDENTIALS_V1:
        return DataModel.V1_1
    return None


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
    """VC 2.0 §4.3 (VC 1.1 §4.1): an ordered set whose first item is the base context URL."""
    context = credential.get("@context")
    path = "/@context"
    if context is None:
        out.append(ShapeProblem(path, "@context is required"))
        return
    if not isinstance(context, list) or not context:
        out.append(ShapeProblem(path, f"@context must be a list starting with {CREDENTIALS_V2}"))
        return
    if context[0] not in (CREDENTIALS_V2, CREDENTIALS_V1):
        out.append(
            ShapeProblem(
                _pointer(path, 0),
                f"the first @context must be {CREDENTIALS_V2} (VC Data Model 2.0) or "
                f"{CREDENTIALS_V1} (VC Data Model 1.1)",
            )
        )
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
    """VC 2.0 §4.6: dateTimeStamp values, and validFrom not after validUntil. VC 1.1 §4.6-4.7:
    ``issuanceDate`` is required and, like ``expirationDate``, an RFC 3339 date-time (with a
    time zone: the same dateTimeStamp rule)."""
    v1 = data_model(credential) is DataModel.V1_1
    names = ("issuanceDate", "expirationDate") if v1 else ("validFrom", "validUntil")
    if v1 and names[0] not in credential:
        out.append(ShapeProblem("/issuanceDate", "a VC 1.1 credential requires issuanceDate"))
    parsed: dict[str, datetime] = {}
    for name in names:
        if name not in credential:
            continue
        try:
            parsed[name] = parse_datetime_stamp(credential[name])
        except ShapeError as exc:
            out.append(ShapeProblem(f"/{name}", f"{name} {exc.message}", exc.code))
    if len(parsed) == 2 and parsed[names[0]] > parsed[names[1]]:
        out.append(ShapeProblem(f"/{names[1]}", f"{names[1]} is earlier than {names[0]}"))


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
        v1 = data_model(credential) is DataModel.V1_1
        for position, item in enumerate(_items(value)):
            item_path = _pointer(path, position) if multiple else path
            _check_typed_object(name, item, item_path, out)
            if v1 and name == "credentialStatus" and isinstance(item, dict) and "id" not in item:
                # VC 1.1 §4.9: "MUST include the id property, which MUST be a URL"
                out.append(
                    ShapeProblem(_pointer(item_path, "id"), "a VC 1.1 credentialStatus needs an id")
                )


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
    entry_check = {
        ENTRY_TYPE: check_status_entry,
        STATUS_LIST_2021_ENTRY_TYPE: check_status_list_2021_entry,
    }
    check = next((entry_check[n] for n in names if n in entry_check), None)
    if name == "credentialStatus" and check is not None:
        try:
            check(item)
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


def _check_related_resources(credential: dict[str, object], mode: Mode, out: _Problems) -> None:
    """VC 2.0 §5.3: one or more objects, each with an ``id`` unique among them and a
    ``digestSRI`` or ``digestMultibase``."""
    if "relatedResource" not in credential:
        return
    value = credential["relatedResource"]
    path = "/relatedResource"
    if isinstance(value, list) and not value:
        out.append(ShapeProblem(path, "relatedResource must not be an empty list"))
    multiple = isinstance(value, list)
    seen: set[str] = set()
    for position, item in enumerate(_items(value)):
        item_path = _pointer(path, position) if multiple else path
        if not isinstance(item, dict):
            out.append(ShapeProblem(item_path, "each relatedResource must be an object"))
            continue
        resource_id = item.get("id")
        if not _is_url(resource_id):
            out.append(ShapeProblem(_pointer(item_path, "id"), "a relatedResource needs a URL id"))
        elif resource_id in seen:
            out.append(
                ShapeProblem(_pointer(item_path, "id"), "relatedResource ids must be unique")
            )
        else:
            seen.add(resource_id)
        if "digestSRI" not in item and "digestMultibase" not in item:
            out.append(
                ShapeProblem(item_path, "a relatedResource needs a digestSRI or digestMultibase")
            )
        for key, parse in (("digestSRI", _sri_digests), ("digestMultibase", _multibase_digests)):
            if key in item and parse(item[key]) is None:
                out.append(ShapeProblem(_pointer(item_path, key), f"{key} is not well formed"))


#: SRI hash algorithms (Subresource Integrity §3.5) and multihash codes (multicodec table).
_SRI_ALGORITHMS = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_MULTIHASH = {0x12: ("sha256", 32), 0x20: ("sha384", 48), 0x13: ("sha512", 64)}
_SRI = re.compile(r"(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})(\?[\x21-\x7e]*)?")


def _strings(value: object) -> list[str] | None:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(i, str) and i for i in items):
        return None
    return items  # type: ignore[return-value]


def _sri_digests(value: object) -> list[tuple[str, bytes]] | None:
    """(hash name, digest) pairs of an SRI hash-expression list; None when malformed."""
    texts = _strings(value)
    if texts is None:
        return None
    found: list[tuple[str, bytes]] = []
    for expression in (e for text in texts for e in text.split()):
        match = _SRI.fullmatch(expression)
        if match is None:
            return None
        try:
            digest = base64.b64decode(match.group(2), validate=True)
        except (binascii.Error, ValueError):
            return None
        found.append((_SRI_ALGORITHMS[match.group(1)], digest))
    return found or None


def _multibase_digests(value: object) -> list[tuple[str, bytes]] | None:
    """(hash name, digest) pairs of multibase multihashes ("u" base64url, "z" base58btc)."""
    texts = _strings(value)
    if texts is None:
        return None
    found: list[tuple[str, bytes]] = []
    for text in texts:
        try:
            if text[0] == "u":
                raw = base64.urlsafe_b64decode(text[1:] + "=" * (-len(text[1:]) % 4))
            elif text[0] == "z":
                raw = b58decode(text[1:])
            else:
                return None
        except (binascii.Error, ValueError):
            return None
        known = _MULTIHASH.get(raw[0]) if len(raw) > 2 else None
        if known is None or raw[1] != known[1] or len(raw) != 2 + known[1]:
            return None
        found.append((known[0], raw[2:]))
    return found


def related_resource_problems(credential: object, store: ContextStore) -> tuple[ShapeProblem, ...]:
    """VC 2.0 §5.3: a related resource that is a context ``store`` pins must have the digest
    of the pinned bytes (the context the issuer meant is then the one we process). Others
    cannot be checked offline and are left alone. Well-formedness is :func:`shape_problems`'."""
    if not isinstance(credential, dict) or "relatedResource" not in credential:
        return ()
    value = credential["relatedResource"]
    multiple = isinstance(value, list)
    out: _Problems = []
    for position, item in enumerate(_items(value)):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        if item["id"] not in store:
            continue
        url = item["id"]
        raw = store.raw(url)
        path = _pointer("/relatedResource", position) if multiple else "/relatedResource"
        for key, parse in (("digestSRI", _sri_digests), ("digestMultibase", _multibase_digests)):
            digests = parse(item[key]) if key in item else None
            for algorithm, digest in digests or ():
                if hashlib.new(algorithm, raw).digest() != digest:
                    out.append(
                        ShapeProblem(
                            _pointer(path, key),
                            f"the {algorithm} digest of {url} does not match the pinned context",
                            VerifierCode.RELATED_RESOURCE_DIGEST_MISMATCH,
                        )
                    )
    return tuple(out)


_RULES: tuple[Callable[[dict[str, object], Mode, _Problems], None], ...] = (
    _check_context,
    _check_type,
    _check_id,
    _check_issuer,
    _check_subject,
    _check_validity,
    _check_typed_properties,
    _check_related_resources,
    _check_names,
    _check_numbers,
)
_RULES_WITHOUT_NUMBERS = tuple(rule for rule in _RULES if rule is not _check_numbers)


def shape_problems(
    credential: object,
    mode: Mode,
    *,
    without_numbers: bool = False,
    store: ContextStore | None = None,
) -> tuple[ShapeProblem, ...]:
    """Every shape rule ``credential`` breaks, in rule order; empty when it is well formed.

    ``without_numbers``: the caller knows the credential holds no JSON number (as when
    ``contexts.compiled.read_shape`` accepted it), so the number rule's walk is skipped.
    ``store``: the pinned contexts, to check the digests of related resources that are
    contexts (:func:`related_resource_problems`).
    Never raises on any JSON value: the verifier reports these as one failed check.
    """
    if not isinstance(credential, dict):
        return (ShapeProblem("", "a credential must be a JSON object"),)
    out: _Problems = []
    for rule in _RULES_WITHOUT_NUMBERS if without_numbers else _RULES:
        rule(credential, mode, out)
    if store is not None and not out:
        out.extend(related_resource_problems(credential, store))
    return tuple(out)


def validate_credential_shape(
    credential: object,
    mode: Mode,
    *,
    without_numbers: bool = False,
    store: ContextStore | None = None,
) -> None:
    """Raise on the first broken shape rule (the issuer's guard before signing).

    :raises ShapeError: with the first problem's path and code; the message says how many more.
    """
    problems = shape_problems(credential, mode, without_numbers=without_numbers, store=store)
    if not problems:
        return
    first = problems[0]
    more = len(problems) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    raise ShapeError(
        f"{_describe(first.path)}: {first.message}{suffix}", path=first.path, code=first.code
    )
