"""Wallet export in the REST API: exports, OpenID4VCI offers, the public page switch.

``GET /api/v1/certifications/<number>/export?format=pdf|badge-png|badge-svg|qr-png|qr-svg|
json|jwt[&paper=a4|letter][&mode=embed|link]`` answers the file with its media type and an
attachment name; ``POST .../offer`` makes a credential offer (the transaction code appears in
this response only); ``POST .../public-page`` turns the public credential page on or off.
All need a token with the ``issue`` scope.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ...db.models import Scope
from ...errors import FieldError
from ...services import fields, oid4vci, public_page
from ..auth import require_scope
from ..extensions import database, issuer, now
from ..wallet import export, send
from .jsonio import read_json

bp = Blueprint("wallet_api", __name__, url_prefix="/api/v1")


def _flag(data: dict[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise FieldError(name, "must be true or false")
    return value


def _optional_json() -> dict[str, Any]:
    if not request.content_length and not request.data:
        return {}
    return read_json()


@bp.get("/certifications/<number>/export")
def export_file(number: str) -> Response:
    actor = require_scope(Scope.ISSUE)
    return send(export(number, request.args, actor))


@bp.post("/certifications/<number>/offer")
def offer(number: str) -> tuple[Response, int]:
    actor = require_scope(Scope.ISSUE)
    data = _optional_json()
    tx_code, by_reference = _flag(data, "txCode"), _flag(data, "byReference")
    ctx, moment = issuer.context(), now()
    result = database.write(
        lambda session: oid4vci.create_offer(
            session,
            ctx,
            number,
            tx_code=tx_code,
            by_reference=by_reference,
            actor=actor,
            now=moment,
        )
    )
    response = jsonify(oid4vci.offer_json(result))
    response.headers["Cache-Control"] = "no-store"  # the offer is a bearer secret
    return response, 201


@bp.post("/certifications/<number>/public-page")
def set_public_page(number: str) -> Response:
    actor = require_scope(Scope.ISSUE)
    data = read_json()
    enabled = data.get("enabled")
    if not isinstance(enabled, bool):
        raise FieldError("enabled", "must be true or false")
    reason = fields.text(data, "reason", required=False, max_length=2000) or ""
    moment = now()

    def work(session: Any) -> dict[str, Any]:
        cert = public_page.set_public_page(
            session, number, enabled, reason=reason, actor=actor, now=moment
        )
        current = cert.current_credential
        url = current.credential_id if enabled and current is not None else None
        return {"number": cert.number, "publicPage": cert.public_page, "url": url}

    return jsonify(database.write(work))
