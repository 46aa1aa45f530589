"""The signing keys' report in the admin UI (auditors and admins): what each key signed, and
for one key the certifications to reissue were it compromised
(:mod:`issuer.services.key_report`)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ...services import fields, key_report
from ..auth import CAN_AUDIT, login_required
from ..extensions import database, issuer, now

bp = Blueprint("keys_admin", __name__, url_prefix="/admin", template_folder="../../templates")

#: Certifications listed on the page for one key (the CLI lists them all).
SHOWN = 500


@bp.get("/keys")
@login_required(CAN_AUDIT)
def page() -> str:
    moment = now()
    session = database.session()
    uses = key_report.report(session, issuer.context().keyring.records(), now=moment)
    key = fields.text(request.args, "key", required=False, max_length=600)
    chosen = key_report.find(uses, key) if key else None
    affected = []
    if chosen is not None:
        for row in key_report.certifications_to_reissue(session, chosen.key_id, now=moment):
            affected.append(row)
            if len(affected) == SHOWN:
                break
    return render_template(
        "admin/keys.html",
        uses=uses,
        chosen=chosen,
        affected=affected,
        shown=SHOWN,
        states=key_report.STATES,
    )
