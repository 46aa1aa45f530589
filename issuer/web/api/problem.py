"""The VC API's error shape: certvc's ``{"error": {code, message}}`` plus Problem Details.

The W3C VC API answers errors as Problem Details (RFC 9457) typed by VC Data Model 2.0 §7.1
("Problem Details": ``PARSING_ERROR`` -64, ``CRYPTOGRAPHIC_SECURITY_ERROR`` -65,
``MALFORMED_VALUE_ERROR`` -66, ``RANGE_ERROR`` -67). certvc's own members stay, so scripts
written against the old shape keep working; the Problem Details members are added beside them.
A refusal the data model has no type for (authentication, conflicts, keys) is ``about:blank``
with the HTTP status's name as its title (RFC 9457 §4.2.1).
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Response, jsonify

from contexts.errors import ErrorCode

_VCDM = "https://www.w3.org/TR/vc-data-model#"
_PARSING = {
    str(ErrorCode.INPUT_UNUSABLE),
    str(ErrorCode.INPUT_TOO_DEEP),
    str(ErrorCode.INPUT_TOO_LARGE),
    str(ErrorCode.UNSUPPORTED_MEDIA_TYPE),
}
_RANGE = {"status_index_out_of_range"}


def problem_type(code: str, status: int) -> tuple[str, int | None, str]:
    """(type, VCDM code, title) of an error with certvc ``code`` answered with ``status``."""
    if code in _PARSING:
        return _VCDM + "PARSING_ERROR", -64, "Parsing error"
    if code in _RANGE:
        return _VCDM + "RANGE_ERROR", -67, "Range error"
    if status in (400, 422):
        return _VCDM + "MALFORMED_VALUE_ERROR", -66, "Malformed value"
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return "about:blank", None, title


def vc_api_error(code: str, message: str, status: int) -> Response:
    kind, number, title = problem_type(code, status)
    body: dict[str, object] = {
        "error": {"code": code, "message": message},
        "type": kind,
        "title": title,
        "detail": message,
    }
    if number is not None:
        body["code"] = number
    response = jsonify(body)
    response.status_code = status
    return response
