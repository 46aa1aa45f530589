"""Public endpoints: status lists, the did:web document, scheme descriptions.

Nothing here needs a token and nothing here discloses a person: a status list is a bitstring
of random positions (herd privacy), the DID document holds public keys only.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .. import catalog, status
from .extensions import database, issuer

bp = Blueprint("public", __name__)

#: VC Data Model 2.0 §6.3 media type of a credential secured with an embedded proof.
VC_MEDIA_TYPE = "application/vc"


@bp.get("/status/<int:list_id>")
def status_list(list_id: int) -> Response:
    """The signed BitstringStatusListCredential, with ETag and Cache-Control from its ``ttl``."""
    row = status.get_list(database.session(), list_id)
    max_age = max(0, issuer.context().status_ttl_ms // 1000)
    response = Response(row.signed, mimetype=VC_MEDIA_TYPE)
    response.set_etag(row.etag or "")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if row.published_at is not None:
        response.last_modified = row.published_at
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    response = jsonify(issuer.context().keyring.did_document())
    response.mimetype = "application/did+ld+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/schemes/<code>")
def scheme(code: str) -> Response:
    """The achievement a credential points at (its ``achievement.id``)."""
    return jsonify(catalog.scheme_json(catalog.get_scheme(database.session(), code)))
