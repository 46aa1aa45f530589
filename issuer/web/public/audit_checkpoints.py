"""``GET /audit/checkpoints``: the signed checkpoints of the audit log, for anyone to keep.

A checkpoint pins the hash of audit event ``seq`` with the body's key (see
:mod:`issuer.services.audit_checkpoints`). An outsider who keeps copies can later show that
the log was rolled back or rewritten, even by someone who controls both the database and the
instance folder: the checkpoints they hold would no longer match. Nothing personal is in
them: an event number, a hash, a time, a key id and a signature.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, url_for

from ...services import audit_checkpoints
from ..api.jsonio import query_int
from ..extensions import database, issuer

bp = Blueprint("public_audit", __name__)

#: Checkpoints per page (``next`` names the following page).
PAGE = 1000


@bp.get("/audit/checkpoints")
def checkpoints() -> Response:
    """Checkpoints after event ``after`` (default 0), oldest first, ``limit`` at most."""
    after = query_int("after", 0, maximum=2**31 - 1)
    limit = query_int("limit", PAGE, minimum=1, maximum=PAGE)
    folder = Path(current_app.config["INSTANCE"])
    known = audit_checkpoints.published(database.session(), folder)
    page = [item for item in known if item.seq > after][: limit + 1]
    more = len(page) > limit
    page = page[:limit]
    response = jsonify(
        {
            "did": issuer.context().keyring.did,
            "didDocument": url_for("public.did_document", _external=False),
            "checkpoints": [item.to_json() for item in page],
            "next": (url_for(".checkpoints", after=page[-1].seq, limit=limit) if more else None),
        }
    )
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
