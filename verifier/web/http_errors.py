"""The one code -> HTTP status map that every certvc web app shares (STYLE §6).

The stand-alone verifier, the verifier blueprint mounted in the issuer and the issuer's own
handlers all answer an error with the status chosen here, so one condition gets one code and
one status wherever it happens. It sits in the lowest web layer all of them import. It is keyed
by the code *string* (the public API), so it can also name the statuses of codes declared in
outer rings (``wallet_export``, ``issuer``) without importing them: the verifier must not import
the issuer, and a table filled in at start-up would let two apps disagree again.
``tests/test_error_codes.py`` checks that every key is a declared code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from werkzeug.exceptions import HTTPException

from contexts.errors import ErrorCode
from keys.errors import KeyCode

#: Every code not listed is the client's fault: 400.
DEFAULT_STATUS = 400

STATUS: Mapping[str, int] = MappingProxyType(
    {
        ErrorCode.INPUT_TOO_LARGE: 413,
        ErrorCode.NOT_FOUND: 404,
        ErrorCode.METHOD_NOT_ALLOWED: 405,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
        ErrorCode.RATE_LIMITED: 429,
        ErrorCode.INTERNAL_ERROR: 500,
        # issuer.errors.IssuerCode
        "auth_required": 401,
        "auth_forbidden": 403,
        "csrf_invalid": 403,
        "already_exists": 409,
        "transition_not_allowed": 409,
        "conflict": 409,
        "unknown_reference": 422,
        "claim_unknown": 404,
        "claim_gone": 410,
        # the server's own state, not the request: its keys, its instance
        KeyCode.KEY_NOT_FOUND: 503,
        KeyCode.PASSPHRASE_REQUIRED: 503,
        KeyCode.PASSPHRASE_WRONG: 503,
        KeyCode.PLAINTEXT_KEY_REFUSED: 503,
        # the keys' PKCS#11 token unusable (docs/hsm.md): the service's fault, not the client's
        KeyCode.PKCS11_MODULE_MISSING: 503,
        KeyCode.PKCS11_TOKEN_ABSENT: 503,
        KeyCode.PKCS11_PIN_REQUIRED: 503,
        KeyCode.PKCS11_PIN_WRONG: 503,
        KeyCode.PKCS11_ERROR: 503,
        "instance_not_ready": 503,  # issuer.errors.IssuerCode
        "database_unavailable": 503,  # issuer.errors.IssuerCode
    }
)

#: The code of an HTTP error raised by Flask or werkzeug (routing, the body cap, ...).
_CODE_OF_HTTP: Mapping[int, str] = MappingProxyType(
    {
        400: ErrorCode.INPUT_UNUSABLE,
        401: "auth_required",
        403: "auth_forbidden",
        404: ErrorCode.NOT_FOUND,
        405: ErrorCode.METHOD_NOT_ALLOWED,
        413: ErrorCode.INPUT_TOO_LARGE,
        415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        429: ErrorCode.RATE_LIMITED,
        500: ErrorCode.INTERNAL_ERROR,
    }
)


def http_status(code: str) -> int:
    """The HTTP status of an error with ``code`` (any package's code, or its string)."""
    return STATUS.get(code, DEFAULT_STATUS)


def http_error_code(error: HTTPException) -> tuple[int, str]:
    """The status and code to answer an HTTP error raised by Flask or werkzeug with.

    The status is werkzeug's (a 500 when it has none); a status without a code of its own is
    ``input_unusable``.
    """
    status = error.code or 500
    return status, str(_CODE_OF_HTTP.get(status, ErrorCode.INPUT_UNUSABLE))
