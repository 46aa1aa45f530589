"""The OpenID4VCI endpoints as a Flask blueprint the issuer mounts (thin adapter).

``app.register_blueprint(make_blueprint(service))`` adds, for an issuer ``https://host/p``:
``/.well-known/openid-credential-issuer/p``, ``/.well-known/oauth-authorization-server/p``,
``/p/oid4vci/offers/<id>``, ``/p/oid4vci/token``, ``/p/oid4vci/nonce`` and
``/p/oid4vci/credential``. Views parse, call the service and render; errors become the
protocol's JSON error responses with the status the specifications give.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from .errors import OAuthErrorCode, Oid4vciError
from .service import Oid4vciService

MAX_REQUEST_BYTES = 64 * 1024

_STATUS = {
    OAuthErrorCode.INVALID_TOKEN: 401,  # RFC 6750 §3.1
    OAuthErrorCode.INVALID_CLIENT: 401,  # RFC 6749 §5.2
    OAuthErrorCode.OFFER_NOT_FOUND: 404,
}


def _json(body: object, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def error_response(error: Oid4vciError) -> Response:
    response = _json(error.to_json(), _STATUS.get(error.error, 400))
    if error.error is OAuthErrorCode.INVALID_TOKEN:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error.error.value}"'
    return response


def make_blueprint(service: Oid4vciService, *, name: str = "oid4vci") -> Blueprint:
    """The blueprint serving ``service``'s endpoints at the paths its settings name."""
    settings = service.settings
    bp = Blueprint(name, __name__)

    @bp.errorhandler(Oid4vciError)
    def _refused(error: Oid4vciError) -> Response:
        return error_response(error)

    @bp.before_request
    def _bounded() -> Response | None:
        if (request.content_length or 0) > MAX_REQUEST_BYTES:
            return error_response(
                Oid4vciError(OAuthErrorCode.INVALID_REQUEST, "the request is too large")
            )
        return None

    @bp.get(settings.issuer_metadata_path)
    def issuer_metadata() -> Response:
        return _json(service.issuer_metadata())

    @bp.get(settings.authorization_server_metadata_path)
    def authorization_server_metadata() -> Response:
        return _json(service.authorization_server_metadata())

    @bp.get(settings.path("offers") + "/<offer_id>")
    def offer(offer_id: str) -> Response:
        return _json(service.offer_by_reference(offer_id))

    @bp.post(settings.path("token"))
    def token() -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            raise Oid4vciError(
                OAuthErrorCode.INVALID_REQUEST, "the token request must be form-encoded"
            )
        repeated = [key for key in request.form if len(request.form.getlist(key)) > 1]
        if repeated:  # RFC 6749 §3.2: parameters MUST NOT be included more than once
            raise Oid4vciError(OAuthErrorCode.INVALID_REQUEST, f"repeated: {', '.join(repeated)}")
        return _json(service.token(request.form.to_dict()))

    @bp.post(settings.path("nonce"))
    def nonce() -> Response:
        return _json(service.nonce())

    @bp.post(settings.path("credential"))
    def credential() -> Response:
        body = request.get_json(silent=True) if request.mimetype == "application/json" else None
        return _json(service.credential(request.headers.get("Authorization"), body))

    return bp
