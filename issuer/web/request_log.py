"""Request ids and the process's log format (``CERTVC_LOG_FORMAT=json|text``).

Every response carries ``X-Request-ID``: the one the client (or the proxy in front) sent when
it is well-formed (1 to 128 letters, digits and ``._:-``), a new random one otherwise, so a
line in any node's log can be found from what the client saw. Every log record made while a
request is handled carries it as ``request_id``.

With ``LOG_FORMAT`` set, the app configures the root logger once (the composition root is the
one place that may): one handler on standard error, JSON objects (python-json-logger) or plain
lines, at ``LOG_LEVEL``, and one line per request on the ``certvc.request`` logger (method, route
template, status, duration; never the path, which may name a credential, nor the client's
address). Unset, logging is left as the server configured it.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, Response, g, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

from ..errors import FieldError

HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")
FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

request_log = logging.getLogger("certvc.request")


def request_id() -> str:
    """The current request's id ("-" outside a request)."""
    if not has_request_context():
        return "-"
    rid: str | None = g.get("request_id")
    return rid or "-"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (a filter of the handler, so records of every
    logger get it, and formats naming it never fail)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id()
        return True


class _CertvcHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs (found again and replaced, never doubled)."""


def configure_logging(log_format: str, level: str = "INFO") -> None:
    """One handler on the root logger in ``log_format`` (``json`` or ``text``).

    :raises FieldError: an unknown format or level.
    """
    if log_format not in FORMATS:
        raise FieldError("LOG_FORMAT", f"{log_format!r} is not one of {', '.join(FORMATS)}")
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise FieldError("LOG_LEVEL", f"{level!r} is not a logging level")
    handler = _CertvcHandler(sys.stderr)
    handler.addFilter(RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}{request_id}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _CertvcHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)


def init_request_log(app: Flask) -> None:
    """Request ids on every request and response; the log format when configured. Call first
    in the factory, so the id is there for every other hook."""
    log_format = app.config.get("LOG_FORMAT")
    if log_format:
        configure_logging(str(log_format).strip().lower(), str(app.config.get("LOG_LEVEL")))
    app.before_request(_begin)
    app.after_request(_end)


def _begin() -> None:
    given = request.headers.get(HEADER, "")
    g.request_id = given if _WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def _end(response: Response) -> Response:
    if "request_id" not in g:  # a hook before ours answered: still name the request
        g.request_id = uuid.uuid4().hex
    response.headers[HEADER] = g.request_id
    started = g.get("request_started")
    if started is not None and request_log.isEnabledFor(logging.INFO):
        rule = request.url_rule
        request_log.info(
            "%s %s %d",
            request.method,
            rule.rule if rule is not None else "<unmatched>",
            response.status_code,
            extra={
                "method": request.method,
                "route": rule.rule if rule is not None else None,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
    return response
