"""The root of certvc's errors and of its stable machine codes.

The root error (:class:`CertvcError`) and the code type (:class:`Code`) live in the lowest
package so every layer can raise and map them; each package declares its own codes and error
classes in its ``errors`` module (``keys.errors``, ``verifier.errors``, ``wallet_export.errors``,
``issuer.errors``). Codes are public API: HTTP statuses (``verifier.web.http_errors``) and CLI
messages are derived from them in the adapters, never from message text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Code(StrEnum):
    """The type of every error code: each package declares its codes as a subclass.

    Codes are public API (JSON ``error.code``, verification reasons, CLI messages); their
    strings never change and are unique across packages (``tests/test_error_codes.py``).
    """


class ErrorCode(Code):
    """The codes contexts raises itself and the generic ones every layer shares."""

    # input (any layer)
    INPUT_UNUSABLE = "input_unusable"
    INPUT_TOO_LARGE = "input_too_large"
    INPUT_TOO_DEEP = "input_too_deep"
    #: A VC Data Model 2.0 shape rule is broken (keys' date rules, verifier's shape rules).
    CREDENTIAL_MALFORMED = "credential_malformed"
    # contexts and JSON-LD
    CONTEXT_NOT_ALLOWED = "context_not_allowed"
    CONTEXT_INTEGRITY = "context_integrity"
    JSONLD_UNSAFE = "jsonld_unsafe"
    JSONLD_INVALID = "jsonld_invalid"
    PROTECTED_TERM_REDEFINITION = "protected_term_redefinition"
    # every web app and service
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    INTERNAL_ERROR = "internal_error"


class CertvcError(Exception):
    """Root of every error certvc raises on purpose.

    ``message`` is for people; ``code`` is for programs. Messages never carry key material.
    """

    code: ClassVar[Code] = ErrorCode.INPUT_UNUSABLE

    def __init__(self, message: str, *, code: Code | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]  # per-instance refinement of the class code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InputError(CertvcError):
    """The input cannot be used at all (not JSON, not a credential, too big, too deep)."""

    code: ClassVar[Code] = ErrorCode.INPUT_UNUSABLE


class ContextNotAllowed(CertvcError):
    """A JSON-LD context that is not pinned was requested; ``url`` names it."""

    code = ErrorCode.CONTEXT_NOT_ALLOWED

    def __init__(self, url: str) -> None:
        super().__init__(f"JSON-LD context not allowed (not pinned): {url}")
        self.url = url


class ContextIntegrityError(CertvcError):
    code = ErrorCode.CONTEXT_INTEGRITY


class JsonLdError(CertvcError):
    """JSON-LD processing refused the document; ``term`` names the offending term when known."""

    code = ErrorCode.JSONLD_UNSAFE

    def __init__(self, message: str, *, term: str | None = None, code: Code | None = None) -> None:
        super().__init__(message, code=code)
        self.term = term


class ShapeError(CertvcError):
    """The credential breaks a VC Data Model 2.0 shape rule; ``path`` points at the culprit."""

    code = ErrorCode.CREDENTIAL_MALFORMED

    def __init__(self, message: str, *, path: str = "", code: Code | None = None) -> None:
        super().__init__(message, code=code)
        self.path = path


class SafeModeEvent(StrEnum):
    """The warnings Digital Bazaar's jsonld.js "safe mode" turns into errors (lib/events.js).

    Each is a case where plain JSON-LD processing silently drops or leaves relative data, so
    the signed RDF would not say what the JSON shows. Values are jsonld.js's event codes.
    """

    # expansion and context processing
    EMPTY_OBJECT = "empty object"
    FREE_FLOATING_SCALAR = "free-floating scalar"
    INVALID_LANGUAGE = "invalid @language value"
    INVALID_PROPERTY = "invalid property"
    NULL_ID = "null @id value"
    NULL_VALUE = "null @value value"
    ONLY_ID = "object with only @id"
    ONLY_LANGUAGE = "object with only @language"
    ONLY_LIST = "object with only @list"
    ONLY_VALUE = "object with only @value"
    RELATIVE_ID = "relative @id reference"
    RELATIVE_TYPE = "relative @type reference"
    RELATIVE_VOCAB = "relative @vocab reference"
    RESERVED_ID = "reserved @id value"
    RESERVED_REVERSE = "reserved @reverse value"
    RESERVED_TERM = "reserved term"
    # toRDF
    BLANK_NODE_PREDICATE = "blank node predicate"
    RELATIVE_GRAPH = "relative graph reference"
    RELATIVE_OBJECT = "relative object reference"
    RELATIVE_PREDICATE = "relative predicate reference"
    RELATIVE_SUBJECT = "relative subject reference"
    RDF_DIRECTION_NOT_SET = "rdfDirection not set"


class UnsafeJsonLd(JsonLdError):
    """JSON-LD safe mode refused the document; ``event`` says why, ``term`` names the culprit."""

    code = ErrorCode.JSONLD_UNSAFE

    def __init__(self, event: SafeModeEvent, message: str, *, term: str | None = None) -> None:
        named = f" {term!r}" if term is not None else ""
        super().__init__(f"{event}{named}: {message}", term=term)
        self.event = event
