"""Surveillance records and the certification cycle under ``/api/v1`` (scope ``status``):
``GET|POST /certifications/<number>/surveillance``, an attachment's bytes, and ``GET /cycle``
(what ``certvc cycle run --dry-run --json`` says).

``POST`` takes JSON (``date``, ``kind``, ``outcome``, ``notes``, ``reason``; no files) or
``multipart/form-data`` with the same fields and files named ``attachments``. It answers the
record, the certification's surveillance (next due date) and ``followUps``: the lifecycle
moves an outcome other than satisfactory may call for. Nothing is changed by the outcome
itself: the caller decides with ``POST /certifications/<number>/<action>``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ...db.models import Scope
from ...errors import FieldError
from ...services import catalog, cycle
from ...services import surveillance as service
from ..auth import require_scope
from ..extensions import database, now
from ..surveillance_files import max_attachment_bytes, read_uploads, send_attachment
from .jsonio import read_json

bp = Blueprint("surveillance_api", __name__, url_prefix="/api/v1")


def _fields() -> tuple[dict[str, Any], list[service.Upload]]:
    if request.mimetype == "multipart/form-data":
        return request.form.to_dict(), read_uploads(max_attachment_bytes())
    data = read_json()
    if "attachments" in data:
        raise FieldError("attachments", "send files as multipart/form-data, not in JSON")
    return data, []


@bp.get("/certifications/<number>/surveillance")
def records(number: str) -> Response:
    require_scope(Scope.STATUS)
    session = database.session()
    cert = catalog.get_certification(session, number)
    return jsonify(service.surveillance_json(cert, service.records_of(session, cert), now()))


@bp.post("/certifications/<number>/surveillance")
def record(number: str) -> tuple[Response, int]:
    actor = require_scope(Scope.STATUS)
    data, uploads = _fields()
    activity = service.parse_activity(data)
    reason = _reason(data)
    limit, moment = max_attachment_bytes(), now()

    def work(session: Any) -> dict[str, Any]:
        saved = service.record_surveillance(
            session,
            number,
            activity,
            uploads,
            max_bytes=limit,
            reason=reason,
            actor=actor,
            now=moment,
        )
        cert = catalog.get_certification(session, number)
        return {
            "record": service.record_json(saved),
            "followUps": [a.value for a in service.follow_ups(saved, cert, moment)],
            **service.surveillance_json(cert, service.records_of(session, cert), moment),
        }

    return jsonify(database.write(work)), 201


def _reason(data: dict[str, Any]) -> str | None:
    reason = data.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise FieldError("reason", "must be a string")
    return reason or None


@bp.get("/certifications/<number>/surveillance/attachments/<int:attachment_id>")
def attachment(number: str, attachment_id: int) -> Response:
    require_scope(Scope.STATUS)
    return send_attachment(service.get_attachment(database.session(), number, attachment_id))


@bp.get("/cycle")
def cycle_plan() -> Response:
    """What a cycle run now would note and send, and what needs a decision (reads only)."""
    require_scope(Scope.STATUS)
    response = jsonify(cycle.plan(database.session(), now()).to_json())
    response.headers["Cache-Control"] = "no-store"
    return response
