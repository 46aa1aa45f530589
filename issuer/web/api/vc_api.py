"""The W3C VC API issuer endpoints: ``POST /credentials/issue`` and ``/credentials/status``.

Request and response shapes follow the VC API: ``{credential, options}`` -> 201
``{verifiableCredential}``; ``{credentialId, credentialStatus: [{type, status}]}``. Every
credential gets its revocation and suspension entries and is recorded; an optional ``reason``
(a certvc extension) goes into the audit log, which otherwise records the API as the reason.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify

from verifier.model.status_list import ENTRY_TYPE, StatusPurpose

from ...db.models import Scope, SecuringSuite
from ...errors import FieldError
from ...services import fields, lifecycle
from ..auth import require_scope
from ..extensions import database, issuer, now
from .jsonio import read_json

bp = Blueprint("vc_api", __name__)

_ISSUE_OPTIONS = frozenset({"credentialId", "credentialStatus"})
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
    credential = fields.obj(body.get("credential"), "credential")
    options = body.get("options", {})
    options = fields.obj(options, "options")
    unknown = sorted(set(options) - _ISSUE_OPTIONS)
    if unknown:
        raise FieldError("options", f"unsupported options {unknown}")
    status_option = options.get("credentialStatus")
    if status_option is not None:
        status_option = fields.obj(status_option, "options.credentialStatus")
        if status_option.get("type") != ENTRY_TYPE:
            raise FieldError("options.credentialStatus.type", f"only {ENTRY_TYPE} is supported")
    credential_id = fields.text(options, "credentialId", required=False, max_length=500)
    reason = fields.text(body, "reason", required=False, max_length=2000)
    suite = SecuringSuite(current_app.config["VC_API_SUITE"])
    ctx = issuer.context()
    moment = now()

    def work(session: Any) -> Any:
        row = lifecycle.issue_credential(
            session,
            ctx,
            credential,
            suite=suite,
            credential_id=credential_id,
            reason=reason or "issued through the W3C VC API",
            actor=actor,
            now=moment,
        )
        return lifecycle.credential_document(row)

    return jsonify({"verifiableCredential": database.write(work)}), 201


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
