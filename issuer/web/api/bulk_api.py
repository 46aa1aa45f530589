"""``POST /api/v1/bulk``: suspend, reinstate or withdraw every certification a selection finds
(scope ``status``, as for one certification), with a dry run (:mod:`issuer.services.bulk`).

``{"action", "selection": {scheme, state, numbers, references, expiringBefore}, "reason",
"dryRun", "expect"}``. The dry run reads only; the real run commits in chunks. Both answer
``{"action", "dryRun", "selected", "changed", "refused", "fingerprint"}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from ...db.models import Scope
from ...errors import FieldError
from ...services import audit, fields
from ...services import bulk as bulk_service
from ..auth import require_scope
from ..extensions import database, issuer, now
from .jsonio import read_json

bp = Blueprint("bulk_api", __name__, url_prefix="/api/v1")


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise FieldError(name, "must be true or false")
    return value


@bp.post("/bulk")
def run() -> Response:
    actor = require_scope(Scope.STATUS)
    data = read_json()
    action = bulk_service.parse_action(data.get("action"))
    selection = bulk_service.parse_selection(fields.obj(data.get("selection"), "selection"))
    reason = audit.check_reason(data.get("reason"))
    dry_run = _flag(data, "dryRun")
    expect = fields.text(data, "expect", required=False, max_length=64)
    moment = now()
    if dry_run:
        report = bulk_service.plan(database.session(), selection, action, moment)
    else:
        report = bulk_service.apply(
            database.write,
            issuer.context(),
            selection,
            action,
            reason=reason,
            actor=actor,
            now=moment,
            expect=expect,
        )
    response = jsonify(report.to_json())
    response.headers["Cache-Control"] = "no-store"
    return response
