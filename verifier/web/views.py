"""The verifier blueprint: the page and the three verification endpoints (thin views).

Each view parses the request, calls the :class:`~verifier.service.Verifier`, and maps the
result. Request bodies are capped before they are read and parsed with the same size and depth
limits as every other input; every error is JSON with a stable code, never a 500 page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from contexts.errors import CertvcError, Code, ErrorCode, InputError
from keys.suites import vc_jwt

from ..enveloped import open_credential, verify_enveloped_presentation
from ..inputs import loads_limited
from ..presentation import verify_presentation
from ..result import Check, CheckStatus, VerificationResult
from ..service import Outcome, Verifier
from ..summary import summarize
from ..vc_api import CheckSelection
from .http_errors import http_error_code, http_status

log = logging.getLogger(__name__)

EXTENSION = "certvc_verifier"
_IMAGE_TYPES = ("image/png", "image/jpeg")
_TEXT_TYPES = ("text/plain", "application/vc+jwt", "application/jwt")
_JSON_TYPES = (
    "application/json",
    "application/vc",
    "application/vc+ld+json",
    "application/ld+json",
)

bp = Blueprint(
    "verifier",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/v/static",
)


@dataclass(frozen=True)
class VerifierExtension:
    """What the views need, built once by ``init_verifier`` and kept in ``app.extensions``."""

    verifier: Verifier
    max_json_bytes: int
    max_upload_bytes: int
    clock: Any  # () -> datetime
    #: VC API: an untrusted issuer is never ``verified`` (``CERTVC_VC_API_ENFORCE_TRUST``).
    enforce_trust: bool = False
    #: Who runs a stand-alone verifier (a mounted one names its body).
    operator: str = "Independent certificate verifier"


def _ext() -> VerifierExtension:
    extension: VerifierExtension = current_app.extensions[EXTENSION]
    return extension


def error_response(status: int, code: Code | str, message: str, **extra: Any) -> Response:
    response = jsonify({"error": {"code": str(code), "message": message}, **extra})
    response.status_code = status
    return response


# --- guards and errors --------------------------------------------------------------------------


@bp.before_request
def _guard() -> Response | None:
    if request.method != "POST":
        return None
    ext = _ext()
    media_type = (request.mimetype or "").lower()
    multipart = media_type == "multipart/form-data" or media_type in _IMAGE_TYPES
    request.max_content_length = ext.max_upload_bytes if multipart else ext.max_json_bytes
    return None


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status, code = http_error_code(error)
    return error_response(status, code, error.description or error.name, verified=False)


@bp.errorhandler(CertvcError)
def _certvc_error(error: CertvcError) -> Response:
    return error_response(http_status(error.code), error.code, error.message, verified=False)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


# --- reading requests ---------------------------------------------------------------------------


def _json_object() -> dict[str, Any]:
    if (request.mimetype or "").lower() not in _JSON_TYPES:
        raise _unsupported()
    value = loads_limited(request.get_data(cache=False), max_bytes=_ext().max_json_bytes)
    if not isinstance(value, dict):
        raise InputError("the request body must be a JSON object")
    return value


class _UnsupportedMediaType(CertvcError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE


def _unsupported() -> CertvcError:
    return _UnsupportedMediaType(
        f"send JSON, text, a PNG/JPEG image or a multipart form, not {request.mimetype or '?'}"
    )


def _any_input() -> bytes | str:
    """The body of ``/api/v1/verify``: multipart (``image`` file or ``input`` field), an image,
    text, or JSON (a credential, a VC API request, or ``{"input": "<QR text>"}``)."""
    media_type = (request.mimetype or "").lower()
    if media_type == "multipart/form-data":
        upload = request.files.get("image") or request.files.get("file")
        if upload is not None:
            data: bytes = upload.read(_ext().max_upload_bytes + 1)
            return data
        text = request.form.get("input")
        if text is None:
            raise InputError("send a file field 'image' or a text field 'input'")
        return text
    if media_type in _IMAGE_TYPES or media_type in _TEXT_TYPES:
        return request.get_data(cache=False)
    if media_type in _JSON_TYPES:
        raw = request.get_data(cache=False)
        value = loads_limited(raw, max_bytes=_ext().max_json_bytes)
        if isinstance(value, dict) and set(value) == {"input"}:
            if not isinstance(value["input"], str):
                raise InputError('"input" must be a string (QR text, a credential or a vc+jwt)')
            return value["input"]
        return raw
    raise _unsupported()


# --- rendering results --------------------------------------------------------------------------


def _full(outcome: Outcome) -> dict[str, Any]:
    result = outcome.result
    item = outcome.item
    body = result.to_json()
    body["warnings"] = list(outcome.warnings)
    body["input"] = (
        {"source": item.source.value, "format": item.format.value} if item is not None else None
    )
    vouched = result.check(Check.TRUST).status is CheckStatus.PASSED
    body["credential"] = summarize(
        result.unverified_credential, _ext().verifier.trust, vouched=vouched
    )
    if outcome.error is not None:
        body["error"] = {"code": str(outcome.error.code), "message": outcome.error.message}
    return body


def _selection(body: dict[str, Any]) -> CheckSelection:
    return CheckSelection.from_options(body.get("options"), enforce_trust=_ext().enforce_trust)


def _operator() -> dict[str, str | None]:
    """Whose verifier this is (the body it is mounted on, or the operator's configured name),
    and a word for the operator when it vouches for nobody or for anybody."""
    ext = _ext()
    trust = ext.verifier.trust
    note = None
    if trust.trust_any:
        note = "Development setting: any issuer is accepted without a trust list."
    elif trust.listed is None and trust.home is None:
        note = "No trust list is configured: this verifier vouches for no certification body."
    if trust.home is None:
        return {"name": ext.operator, "logo": None, "kind": "independent", "note": note}
    home = trust.home
    return {"name": home.profile().name, "logo": home.logo_url(), "kind": "body", "note": note}


# --- views ----------------------------------------------------------------------------------


@bp.get("/v")
def page() -> Response:
    response = Response(render_template("verifier/page.html", operator=_operator()))
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    response.headers["Permissions-Policy"] = "camera=(self)"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.post("/api/v1/verify")
def verify_any() -> Response:
    outcome = _ext().verifier.verify(_any_input())
    response = jsonify(_full(outcome))
    if outcome.usable:
        response.status_code = 200
    elif outcome.error is not None and outcome.error.code is ErrorCode.RATE_LIMITED:
        response.status_code = 429  # busy, not bad input: the same request may work shortly
        response.headers["Retry-After"] = "5"
    else:
        response.status_code = 400
    return response


@bp.post("/credentials/verify")
def credentials_verify() -> Response:
    """W3C VC API: ``{verifiableCredential, options}`` -> 200 verified, 400 not; an
    ``EnvelopedVerifiableCredential`` is opened first (VC Data Model 2.0 §4.13.1)."""
    body = _json_object()
    selection = _selection(body)
    credential = open_credential(body.get("verifiableCredential"))
    if isinstance(credential, str) and not vc_jwt.looks_like_jwt(credential):
        # A JSON text holding a credential is not a credential (VC API: an object, or a
        # compact vc+jwt): it must not pass because the general reader also accepts QR text.
        raise InputError("verifiableCredential must be a credential object or a compact vc+jwt")
    if not isinstance(credential, dict | str):
        raise InputError("verifiableCredential must be a credential object or a vc+jwt string")
    outcome = _ext().verifier.verify(credential)
    answer = selection.response(outcome.result)
    if outcome.error is not None:
        answer["errors"].insert(
            0, {"check": "input", "code": str(outcome.error.code), "message": outcome.error.message}
        )
    response = jsonify(answer)
    response.status_code = 200 if answer["verified"] else 400
    return response


@bp.post("/presentations/verify")
def presentations_verify() -> Response:
    """W3C VC API: ``{verifiablePresentation, options: {challenge, domain}}``."""
    body = _json_object()
    selection = _selection(body)
    options = body.get("options") or {}
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, str | None) or not isinstance(domain, str | None):
        raise InputError("options.challenge and options.domain must be strings")
    ext = _ext()
    now: datetime = ext.clock()

    def verify_one(item: Any, when: datetime) -> VerificationResult:
        return ext.verifier.verify(item, now=when).result

    presentation = body.get("verifiablePresentation")
    # A vp+jwt arrives as an EnvelopedVerifiablePresentation (VC Data Model 2.0 §4.13.2).
    enveloped = vc_jwt.is_envelope(presentation)
    result = (verify_enveloped_presentation if enveloped else verify_presentation)(
        presentation,
        ext.verifier.policy,
        verify_one,
        now=now,
        challenge=challenge,
        domain=domain,
        selection=selection,
    )
    response = jsonify(
        {
            "verified": result.verified,
            "checks": list(result.checks),
            "warnings": [w.to_json() for w in result.warnings],
            "errors": [e.to_json() for e in result.errors],
            "credentialResults": [selection.response(r) for r in result.credentials],
        }
    )
    response.status_code = 200 if result.verified else 400
    return response
