"""Public endpoints: status lists, the did:web document, scheme descriptions, uploaded images.

Nothing here needs a token and nothing here discloses a person: a status list is a bitstring
of random positions (herd privacy), the DID document holds public keys only. Uploaded images
(scheme badges, the body's logo) are served at stable URLs that credentials name: the ETag is
their SHA-256, nothing is sniffed, and an SVG is served with a policy that lets nothing run.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ...db.models import StoredImage
from ...services import body_identity, catalog, lifecycle, status_lists
from ...services.images import store
from ...services.images.check import ImageType
from ..extensions import database, issuer, now

bp = Blueprint("public", __name__)

#: VC Data Model 2.0 §6.3 media type of a credential secured with an embedded proof.
VC_MEDIA_TYPE = "application/vc"
#: What a status list is served as, by content negotiation (RFC 9110 §12.5.1): the same bytes
#: under the media type a client asks for; the first is the default (``Accept`` absent, ``*/*``
#: or naming none of them), so clients that parse only JSON types get one they know.
STATUS_LIST_TYPES = (VC_MEDIA_TYPE, "application/ld+json", "application/json")
#: Images keep their URL when replaced: caches revalidate (ETag) after five minutes.
IMAGE_MAX_AGE = 300
#: An SVG opened as a document runs nothing and loads nothing (inline styles only).
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'"


@bp.get("/status/<int:list_id>")
def status_list(list_id: int) -> Response:
    """The signed BitstringStatusListCredential, with ETag and Cache-Control from its ``ttl``.

    A renewal that has just started is applied first (its previous credential superseded),
    so a list is never served stale because no worker has run yet.
    """
    moment = now()
    if lifecycle.supersession_due(database.session(), moment):
        database.write(lambda session: lifecycle.supersede_due(session, issuer.context(), moment))
        database.session().expire_all()
    row = status_lists.get_list(database.session(), list_id)
    max_age = max(0, issuer.context().status_ttl_ms // 1000)
    media_type = _negotiated(STATUS_LIST_TYPES)
    response = Response(row.signed, mimetype=media_type)
    # One entity per representation (RFC 9110 §8.8.3): the bytes are the same, but a cache
    # keyed on the ETag alone must not hand a JSON-only client the application/vc one.
    etag = row.etag or ""
    response.set_etag(etag if media_type == VC_MEDIA_TYPE else f"{etag}-{_SUFFIX[media_type]}")
    response.vary.add("Accept")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    if row.published_at is not None:
        response.last_modified = row.published_at
    response.headers["Access-Control-Allow-Origin"] = "*"
    # Revalidation by ETag only: Last-Modified has whole seconds, so two publications in one
    # second would answer a date-only revalidation 304 and keep a cache on the old list
    # (issue 16). A server may ignore If-Modified-Since (RFC 9110 13.1.3): such a cache gets
    # the list again, never a stale one.
    environ = {k: v for k, v in request.environ.items() if k != "HTTP_IF_MODIFIED_SINCE"}
    return response.make_conditional(environ)


_SUFFIX = {"application/ld+json": "ld", "application/json": "json"}


def _negotiated(offered: tuple[str, ...]) -> str:
    """The offered type the request's ``Accept`` prefers; the first offered on a tie, when
    ``Accept`` is absent, or when it names none of them (a 406 would break old clients)."""
    if not request.accept_mimetypes:
        return offered[0]
    best = request.accept_mimetypes.best_match(offered, default=offered[0])
    return best or offered[0]


@bp.get("/.well-known/did.json")
def did_document() -> Response:
    body = catalog.get_body(database.session())
    response = jsonify(
        body_identity.published_did_document(body, issuer.context().keyring.did_document())
    )
    response.mimetype = "application/did+ld+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/schemes/<code>")
def scheme(code: str) -> Response:
    """The achievement a credential points at (its ``achievement.id``)."""
    return jsonify(catalog.scheme_json(catalog.get_scheme(database.session(), code)))


@bp.get("/schemes/<code>/badge.png")
def scheme_badge_png(code: str) -> Response:
    """A scheme's uploaded badge image (an ``Achievement.image``), when it is a PNG."""
    return _image(store.scheme_image(database.session(), code, ImageType.PNG))


@bp.get("/schemes/<code>/badge.svg")
def scheme_badge_svg(code: str) -> Response:
    return _image(store.scheme_image(database.session(), code, ImageType.SVG))


@bp.get("/body/logo.png")
def body_logo() -> Response:
    """The body's uploaded logo (the issuer profile's ``image``)."""
    return _image(store.body_logo(database.session()))


def _image(image: StoredImage) -> Response:
    response = Response(image.content, mimetype=image.media_type.value)
    response.set_etag(image.sha256)
    response.headers["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if image.media_type is ImageType.SVG:
        # checked on upload; this is the second fence should a browser open it as a document
        response.headers["Content-Security-Policy"] = SVG_POLICY
    return response.make_conditional(request)
