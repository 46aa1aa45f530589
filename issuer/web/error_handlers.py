"""The one error handler: domain errors become 4xx JSON (or a page in the admin UI).

``{"error": {"code", "message"}}`` with the error's stable code (``contexts.errors.Code``, each
package's own); the HTTP status comes from :mod:`verifier.web.http_errors`, the map every web
app shares, never from message text (STYLE §6).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from contexts.errors import CertvcError, ErrorCode
from verifier.web.http_errors import http_error_code, http_status

from ..errors import IssuerCode

log = logging.getLogger(__name__)


def _wants_html() -> bool:
    return request.path.startswith("/admin")


def error_response(code: str, message: str, status: int) -> Response | tuple[str, int]:
    if _wants_html():
        page = render_template("admin/error.html", code=str(code), message=message)
        return page, status
    response = jsonify({"error": {"code": str(code), "message": message}})
    response.status_code = status
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CertvcError)
    def _domain(error: CertvcError) -> Response | tuple[str, int]:
        return error_response(error.code, error.message, http_status(error.code))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response | tuple[str, int]:
        status, code = http_error_code(error)
        message = error.description or error.name
        if status == 413:
            message = "the request body is too large"
        response = error_response(code, message, status)
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            if isinstance(response, Response):
                response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(error: DBAPIError) -> Response | tuple[str, int]:
        # The database could not be reached or dropped the connection (issue 16): the request
        # may work again shortly, so 503 with Retry-After, not 500. "database is locked"
        # after run_transaction's retries is the same kind of answer.
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
        response = error_response(
            IssuerCode.DATABASE_UNAVAILABLE,
            "the database cannot be reached right now; try again shortly",
            503,
        )
        if isinstance(response, Response):
            response.headers["Retry-After"] = "5"
            return response
        page, status = response
        return Response(page, status=status, headers={"Retry-After": "5"}, mimetype="text/html")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response | tuple[str, int]:
        # A bug, not bad input: logged with its traceback, answered without one.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ErrorCode.INTERNAL_ERROR, "internal error (logged)", 500)
