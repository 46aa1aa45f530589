"""The W3C VC API issuer endpoints: ``POST /credentials/issue`` and ``/credentials/status``.

Request and response shapes follow the VC API: ``{credential, options}`` -> 201
``{verifiableCredential}``; ``{credentialId, credentialStatus: [{type, status}]}``. Every
credential gets its revocation and suspension entries and is recorded; an optional ``reason``
(a certvc extension) goes into the audit log, which otherwise records the API as the reason.

With the vc+jwt suite the answer is an ``EnvelopedVerifiableCredential`` (VC Data Model 2.0
§4.13.1), never the bare token. Options the VC API defines and certvc does not implement are
refused, not ignored ("Handling Unknown Options and Data"); errors carry Problem Details
(:mod:`.problem`) beside certvc's ``error`` object.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from contexts.errors import CertvcError
from keys.suites import vc_jwt
from verifier.model.status_list import ENTRY_TYPE, StatusPurpose
from verifier.web.http_errors import http_error_code, http_status

from ...db.models import Scope, SecuringSuite
from ...errors import FieldError
from ...services import fields, lifecycle, vc_issuance
from ..auth import require_scope
from ..extensions import database, issuer, now
from .jsonio import read_json
from .problem import vc_api_error

bp = Blueprint("vc_api", __name__)

_ISSUE_OPTIONS = frozenset({"credentialId", "credentialStatus"})
#: What ``options.credentialStatus`` may say: the type of status to add (VC API
#: IssueCredentialOptions); certvc always adds a revocation and a suspension entry.
_STATUS_OPTION_KEYS = frozenset({"type"})


@bp.errorhandler(CertvcError)
def _domain_error(error: CertvcError) -> Response:
    return vc_api_error(str(error.code), error.message, http_status(error.code))


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    status, code = http_error_code(error)
    return vc_api_error(str(code), error.description or error.name, status)


def _issue_options(body: dict[str, Any], credential: dict[str, Any]) -> str | None:
    """The credential id the caller chose, after checking ``options`` and ``credential.id``.

    :raises FieldError: an unknown option, a ``credentialStatus`` option other than
        ``{"type": "BitstringStatusListEntry"}``, ``credential.id`` that is null or not a
        string, or one that disagrees with ``options.credentialId``.
    """
    options = fields.obj(body.get("options", {}), "options")
    unknown = sorted(set(options) - _ISSUE_OPTIONS)
    if unknown:
        raise FieldError("options", f"unsupported options {unknown}")
    status_option = options.get("credentialStatus")
    if status_option is not None:
        status_option = fields.obj(status_option, "options.credentialStatus")
        if status_option.get("type") != ENTRY_TYPE:
            raise FieldError("options.credentialStatus.type", f"only {ENTRY_TYPE} is supported")
        extra = sorted(set(status_option) - _STATUS_OPTION_KEYS)
        if extra:
            raise FieldError(
                "options.credentialStatus",
                f"unsupported members {extra}: certvc adds a revocation and a suspension entry",
            )
    option_id = fields.text(options, "credentialId", required=False, max_length=500)
    if "id" in credential:
        # VC Data Model 2.0 §4.4: id, where present, is one URL; null is not "absent".
        given = credential["id"]
        if not isinstance(given, str) or not given:
            raise FieldError("credential.id", "must be a URL (omit it to have one assigned)")
        if option_id is not None and option_id != given:
            raise FieldError(
                "options.credentialId", "disagrees with credential.id: give one or make them equal"
            )
    return option_id


_STATUS_WORDS = {
    "revoked": (StatusPurpose.REVOCATION, True),
    "suspended": (StatusPurpose.SUSPENSION, True),
    "unsuspended": (StatusPurpose.SUSPENSION, False),
    "reinstated": (StatusPurpose.SUSPENSION, False),
}


@bp.post("/credentials/issue")
def issue() -> tuple[Response, int]:
    actor = require_scope(Scope.ISSUE)
    body = read_json()
    credential = dict(fields.obj(body.get("credential"), "credential"))
    credential_id = _issue_options(body, credential)
    reason = fields.text(body, "reason", required=False, max_length=2000)
    request_ = vc_issuance.CredentialRequest(
        credential=credential,
        suite=SecuringSuite(current_app.config["VC_API_SUITE"]),
        credential_id=credential_id,
        reason=reason or "issued through the W3C VC API",
        actor=actor,
    )
    secured = database.write_together(_issue_together, (request_, now()))
    if isinstance(secured, str):  # vc+jwt: VC Data Model 2.0 §4.13.1, never the bare JWS
        secured = vc_jwt.envelope(secured)
    return jsonify({"verifiableCredential": secured}), 201


def _issue_together(
    session: Session, items: Sequence[tuple[vc_issuance.CredentialRequest, datetime]]
) -> list[dict[str, Any] | str | CertvcError]:
    """The credentials the requests of one group commit ask for, in one transaction."""
    results = vc_issuance.issue_credentials(
        session,
        issuer.context(),
        [request_ for request_, _ in items],
        now=max(at for _, at in items),
    )
    return [
        result if isinstance(result, CertvcError) else lifecycle.credential_document(result)
        for result in results
    ]


def _status_item(item: Any, position: int) -> tuple[StatusPurpose, bool]:
    where = f"credentialStatus[{position}]"
    item = fields.obj(item, where)
    kind = item.get("type")
    if kind not in (ENTRY_TYPE, "BitstringStatusListCredential"):
        raise FieldError(f"{where}.type", f"must be {ENTRY_TYPE}")
    value = item.get("status")
    if isinstance(value, str) and value in _STATUS_WORDS:
        return _STATUS_WORDS[value]
    if not isinstance(value, bool):
        words = ", ".join(sorted(_STATUS_WORDS))
        raise FieldError(f"{where}.status", f"must be true/false with a statusPurpose, or {words}")
    purpose = fields.choice(item, "statusPurpose", StatusPurpose)
    if purpose not in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION):
        raise FieldError(f"{where}.statusPurpose", "must be revocation or suspension")
    return purpose, value


@bp.post("/credentials/status")
def update_status() -> Response:
    actor = require_scope(Scope.STATUS)
    body = read_json()
    credential_id = fields.required_text(body, "credentialId", max_length=500)
    items = body.get("credentialStatus")
    if not isinstance(items, list) or not items or len(items) > 2:
        raise FieldError("credentialStatus", "must be a list of one or two status changes")
    changes = [_status_item(item, position) for position, item in enumerate(items)]
    reason = fields.text(body, "reason", required=False, max_length=2000)
    ctx = issuer.context()
    moment = now()

    def work(session: Any) -> Any:
        row = None
        for purpose, value in changes:
            row = lifecycle.set_credential_status(
                session,
                ctx,
                credential_id,
                purpose,
                value,
                reason=reason or "status set through the W3C VC API",
                actor=actor,
                now=moment,
            )
        assert row is not None
        return lifecycle.credential_json(row)

    result = database.write(work)
    return jsonify(
        {
            "credentialId": credential_id,
            "state": result["state"],
            "credentialStatus": [
                {"type": ENTRY_TYPE, "statusPurpose": purpose.value, "status": value}
                for purpose, value in changes
            ],
        }
    )
