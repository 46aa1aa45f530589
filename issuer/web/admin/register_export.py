"""The register's download in the admin UI: the list page's filters, as CSV.

A POST (CSRF-checked) rather than a link: the export is personal data and is audited under the
signed-in user, so another site must not be able to make a browser fetch it in their name.
Every role that reads the records may download it (:data:`~issuer.web.auth.CAN_READ`).
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from ...services import fields, register
from ..auth import CAN_READ, login_required, user_actor
from ..register_download import export_response

bp = Blueprint("register_admin", __name__, url_prefix="/admin")


@bp.post("/register.csv")
@login_required(CAN_READ)
def download() -> Response:
    register_filter = register.parse_filter(request.form)
    reason = fields.text(request.form, "reason", required=False, max_length=2000)
    return export_response(
        register_filter,
        register.ExportFormat.CSV,
        actor=user_actor(),
        reason=reason or "register downloaded from the admin UI",
    )
