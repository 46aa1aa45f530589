"""``GET /api/v1/register``: the register exported as CSV or JSON (scope ``admin``).

The register is personal data in bulk, so it needs the ``admin`` scope (issuing and status
integrations have no use for it), every export is audited before the first row is sent, and
the answer is marked ``no-store``. Rows are streamed as they are read from the database
(:mod:`issuer.services.register`).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ...db.models import Scope
from ...services import fields, register
from ..auth import require_scope
from ..register_download import export_response

bp = Blueprint("register_api", __name__, url_prefix="/api/v1")


@bp.get("/register")
def export() -> Response:
    actor = require_scope(Scope.ADMIN)
    chosen = fields.choice(
        request.args, "format", register.ExportFormat, default=register.ExportFormat.JSON
    )
    register_filter = register.parse_filter(request.args)
    reason = fields.text(request.args, "reason", required=False, max_length=2000)
    return export_response(register_filter, chosen, actor=actor, reason=reason)
