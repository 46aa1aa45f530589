"""The one error handler: domain errors become 4xx JSON (or a page in the admin UI).

``{"error": {"code", "message"}}`` with the stable code of :class:`contexts.errors.ErrorCode`;
the HTTP status is decided here from the code, never from message text (STYLE §6).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from contexts.errors import CertvcError, ErrorCode

log = logging.getLogger(__name__)

STATUS: dict[ErrorCode, int] = {
    ErrorCode.INPUT_TOO_LARGE: 413,
    ErrorCode.AUTH_REQUIRED: 401,
    ErrorCode.AUTH_FORBIDDEN: 403,
    ErrorCode.CSRF_INVALID: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.ALREADY_EXISTS: 409,
    ErrorCode.TRANSITION_NOT_ALLOWED: 409,
    ErrorCode.CONFLICT: 409,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.UNKNOWN_REFERENCE: 422,
    # the server's own state, not the request: keys, instance
    ErrorCode.KEY_NOT_FOUND: 503,
    ErrorCode.PASSPHRASE_REQUIRED: 503,
    ErrorCode.PASSPHRASE_WRONG: 503,
    ErrorCode.PLAINTEXT_KEY_REFUSED: 503,
    ErrorCode.INSTANCE_NOT_READY: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}
_HTTP_CODES = {
    400: ErrorCode.INPUT_UNUSABLE,
    401: ErrorCode.AUTH_REQUIRED,
    403: ErrorCode.AUTH_FORBIDDEN,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.INPUT_TOO_LARGE,
    415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
}


def http_status(code: ErrorCode) -> int:
    return STATUS.get(code, 400)


def _wants_html() -> bool:
    return request.path.startswith("/admin")


def error_response(code: ErrorCode, message: str, status: int) -> Response | tuple[str, int]:
    if _wants_html():
        page = render_template("admin/error.html", code=code.value, message=message)
        return page, status
    response = jsonify({"error": {"code": code.value, "message": message}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CertvcError)
    def _domain(error: CertvcError) -> Response | tuple[str, int]:
        return error_response(error.code, error.message, http_status(error.code))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | tuple[str, int]:
        status = error.code or 500
        code = _HTTP_CODES.get(status, ErrorCode.INPUT_UNUSABLE)
        message = error.description or error.name
        if status == 413:
            message = "the request body is too large"
        response = error_response(code, message, status)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            if isinstance(response, Response):
                response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response | tuple[str, int]:
        # A bug, not bad input: logged with its traceback, answered without one.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ErrorCode.INTERNAL_ERROR, "internal error (logged)", 500)
