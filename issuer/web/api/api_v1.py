"""The domain REST API under ``/api/v1``: schemes, persons, certifications, lifecycle, audit.

Thin views (STYLE §4): parse with :mod:`issuer.services.fields`, call one service inside
``database.write`` (one transaction), render JSON. Issuance goes through
``database.write_together``: the requests a threaded worker holds at once share one
transaction (group commit), each with its own answer and audit event. Every call needs a
token; the scope each route needs is in the OpenAPI document (``/api/v1/openapi.json``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from sqlalchemy.orm import Session

from contexts.errors import CertvcError

from ...db.models import Action, Certification, Scope, State
from ...errors import FieldError, Forbidden, NotFound
from ...services import audit, body_identity, catalog, fields, lifecycle, scheme_admin
from ..auth import require_scope, sees_personal_data
from ..extensions import database, issuer, now
from .jsonio import query_int, read_json
from .openapi import openapi_document

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")

#: The scope each lifecycle action needs.
ACTION_SCOPE = {
    Action.SUSPEND: Scope.STATUS,
    Action.REINSTATE: Scope.STATUS,
    Action.WITHDRAW: Scope.STATUS,
    Action.RENEW: Scope.ISSUE,
    Action.REDUCE_SCOPE: Scope.ISSUE,
}


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(openapi_document(issuer.context().public_url))


@bp.get("/body")
def body() -> Response:
    require_scope(None)
    return jsonify(body_identity.body_json(catalog.get_body(database.session())))


@bp.patch("/body")
def update_body() -> Response:
    """Change the body's identity or accreditation (fields as ``GET /body`` shows them)."""
    actor = require_scope(Scope.ADMIN)
    data = dict(read_json())
    reason = data.pop("reason", None)
    moment = now()

    def work(session: Any) -> dict[str, Any]:
        body, changed = body_identity.update_body(
            session, data, reason=reason, actor=actor, now=moment
        )
        return {"body": body_identity.body_json(body), "changed": sorted(changed)}

    return jsonify(database.write(work))


# --- schemes ------------------------------------------------------------------------------


@bp.get("/schemes")
def schemes() -> Response:
    require_scope(None)
    return jsonify(
        {"schemes": [catalog.scheme_json(s) for s in catalog.list_schemes(database.session())]}
    )


@bp.post("/schemes")
def create_scheme() -> tuple[Response, int]:
    actor = require_scope(Scope.ADMIN)
    data = read_json()
    moment = now()
    result = database.write(
        lambda session: catalog.scheme_json(
            catalog.create_scheme(session, data, actor=actor, now=moment)
        )
    )
    return jsonify(result), 201


@bp.get("/schemes/<code>")
def scheme(code: str) -> Response:
    require_scope(None)
    return jsonify(catalog.scheme_json(catalog.get_scheme(database.session(), code)))


@bp.patch("/schemes/<code>")
def update_scheme(code: str) -> Response:
    """Change a scheme (new credentials only); the code never changes."""
    actor = require_scope(Scope.ADMIN)
    data = dict(read_json())
    reason = data.pop("reason", None)
    moment = now()

    def work(session: Any) -> dict[str, Any]:
        scheme, changed = scheme_admin.update_scheme(
            session, code, data, reason=reason, actor=actor, now=moment
        )
        return {"scheme": catalog.scheme_json(scheme), "changed": sorted(changed)}

    return jsonify(database.write(work))


@bp.post("/schemes/<code>/retire")
def retire_scheme(code: str) -> Response:
    """Retire a scheme: it certifies nobody new; its certifications run their course."""
    actor = require_scope(Scope.ADMIN)
    data = read_json()
    moment = now()
    return jsonify(
        database.write(
            lambda session: catalog.scheme_json(
                scheme_admin.retire_scheme(
                    session, code, reason=data.get("reason"), actor=actor, now=moment
                )
            )
        )
    )


# --- persons ------------------------------------------------------------------------------


@bp.get("/persons")
def persons() -> Response:
    require_scope(Scope.ISSUE)
    rows, total = catalog.list_persons(
        database.session(),
        query=request.args.get("q") or None,
        limit=query_int("limit", 50, minimum=1, maximum=500),
        offset=query_int("offset", 0, maximum=10**9),
    )
    return jsonify({"total": total, "persons": [catalog.person_json(p) for p in rows]})


@bp.post("/persons")
def create_person() -> tuple[Response, int]:
    actor = require_scope(Scope.ISSUE)
    data = read_json()
    name = fields.required_text(data, "name")
    reference = fields.text(data, "reference", required=False, max_length=100)
    email = fields.email(data, "email")
    reason = fields.text(data, "reason", required=False, max_length=2000)
    moment = now()
    result = database.write(
        lambda session: catalog.person_json(
            catalog.create_person(
                session,
                name=name,
                reference=reference,
                email=email,
                actor=actor,
                now=moment,
                reason=reason or "registered for certification",
            )
        )
    )
    return jsonify(result), 201


@bp.get("/persons/<int:person_id>")
def person(person_id: int) -> Response:
    require_scope(Scope.ISSUE)
    return jsonify(catalog.person_json(catalog.get_person(database.session(), person_id)))


@bp.patch("/persons/<int:person_id>")
def update_person(person_id: int) -> Response:
    """Change a person's e-mail address (``"email": null`` removes it); audited."""
    actor = require_scope(Scope.ISSUE)
    data = read_json()
    if "email" not in data:
        raise FieldError("email", "is required (null removes the address)")
    email = fields.email(data, "email")
    reason = data.get("reason", "")
    moment = now()
    result = database.write(
        lambda session: catalog.person_json(
            catalog.set_person_email(
                session, person_id, email, actor=actor, reason=reason, now=moment
            )
        )
    )
    return jsonify(result)


# --- certifications -----------------------------------------------------------------------


def issue_request(data: dict[str, Any]) -> lifecycle.IssueRequest:
    """An :class:`IssueRequest` from JSON (``personId`` or ``person: {name, reference}``)."""
    person_id = fields.integer(data, "personId", minimum=1, maximum=2**31 - 1, required=False)
    person_name = person_reference = person_email = None
    if person_id is None:
        person = fields.obj(data.get("person"), "person")
        person_name = fields.required_text(person, "name")
        person_reference = fields.text(person, "reference", required=False, max_length=100)
        person_email = fields.email(person, "email")
    elif "person" in data:
        raise FieldError("person", "give personId or person, not both")
    return lifecycle.IssueRequest(
        scheme_code=fields.code(data, "scheme") or "",
        scope=fields.required_text(data, "scope", max_length=2000, multiline=True),
        person_id=person_id,
        person_name=person_name,
        person_reference=person_reference,
        person_email=person_email,
        number=fields.code(data, "number", required=False),
        effective=fields.moment(data, "effective"),
        expires=fields.moment(data, "expires"),
    )


@bp.get("/certifications")
def certifications() -> Response:
    require_scope(None)
    personal = sees_personal_data()
    person = request.args.get("person") or None
    if person is not None and not personal:
        raise Forbidden("searching by person (name or reference) needs the 'issue' scope")
    state = request.args.get("state") or None
    search = catalog.Search(
        person=person,
        number=request.args.get("number") or None,
        scheme=request.args.get("scheme") or None,
        state=fields.choice({"state": state}, "state", State) if state else None,
    )
    moment = now()
    rows, total = catalog.search_certifications(
        database.session(),
        search,
        now=moment,
        limit=query_int("limit", 50, minimum=1, maximum=500),
        offset=query_int("offset", 0, maximum=10**9),
    )
    return jsonify(
        {
            "total": total,
            "certifications": [
                lifecycle.certification_json(c, moment, personal=personal) for c in rows
            ],
        }
    )


@bp.post("/certifications")
def issue() -> tuple[Response, int]:
    actor = require_scope(Scope.ISSUE)
    data = read_json()
    decision = lifecycle.Decision(issue_request(data), data.get("reason"), actor)
    result = database.write_together(_issue_together, (decision, now()))
    response = jsonify(result)
    response.headers["Location"] = url_for(
        "api_v1.certification", number=result["certification"]["number"]
    )
    return response, 201


def _issue_together(
    session: Session, items: Sequence[tuple[lifecycle.Decision, datetime]]
) -> list[dict[str, Any] | CertvcError]:
    """The certifications the requests of one group commit ask for, in one transaction."""
    moment = max(at for _, at in items)
    results = lifecycle.issue_many(
        session, issuer.context(), [decision for decision, _ in items], now=moment
    )
    return [
        result if isinstance(result, CertvcError) else _issued_json(result, moment)
        for result in results
    ]


def _issued_json(cert: Certification, moment: datetime) -> dict[str, Any]:
    current = cert.current_credential
    assert current is not None, "an issued certification has its credential"
    return {
        "certification": lifecycle.certification_json(cert, moment),
        "verifiableCredential": lifecycle.credential_document(current),
    }


@bp.get("/certifications/<number>")
def certification(number: str) -> Response:
    require_scope(None)
    cert = catalog.get_certification(database.session(), number)
    return jsonify(lifecycle.certification_json(cert, now(), personal=sees_personal_data()))


@bp.get("/certifications/<number>/credential")
def current_credential(number: str) -> Response:
    require_scope(Scope.ISSUE)
    cert = catalog.get_certification(database.session(), number)
    if cert.current_credential is None:
        raise NotFound(f"certification {number} has no credential")
    return jsonify({"verifiableCredential": lifecycle.credential_document(cert.current_credential)})


@bp.post("/certifications/<number>/<action>")
def act(number: str, action: str) -> Response:
    try:
        chosen = Action(action)
    except ValueError:
        chosen = None
    if chosen not in ACTION_SCOPE:
        raise NotFound(f"no lifecycle action {action!r} (see /api/v1/openapi.json)")
    assert chosen is not None
    actor = require_scope(ACTION_SCOPE[chosen])
    personal = sees_personal_data()
    data = read_json()
    reason = data.get("reason")
    scope = fields.text(data, "scope", required=False, max_length=2000, multiline=True)
    effective = fields.moment(data, "effective")
    ctx = issuer.context()
    moment = now()

    def work(session: Any) -> dict[str, Any]:
        cert = lifecycle.transition(
            session,
            ctx,
            number,
            chosen,
            reason=reason,
            actor=actor,
            now=moment,
            scope=scope,
            effective=effective,
        )
        result = {"certification": lifecycle.certification_json(cert, moment, personal=personal)}
        if chosen in (Action.RENEW, Action.REDUCE_SCOPE):
            current = cert.current_credential
            assert current is not None
            result["verifiableCredential"] = lifecycle.credential_document(current)
        return result

    return jsonify(database.write(work))


# --- audit --------------------------------------------------------------------------------


@bp.get("/audit")
def audit_log() -> Response:
    require_scope(Scope.ADMIN)
    rows, total = audit.events(
        database.session(),
        limit=query_int("limit", 100, minimum=1, maximum=1000),
        offset=query_int("offset", 0, maximum=10**9),
        subject=request.args.get("subject") or None,
    )
    return jsonify({"total": total, "events": [audit.event_json(e) for e in rows]})


@bp.get("/audit/verify")
def audit_verify() -> Response:
    require_scope(Scope.ADMIN)
    mac_key = issuer.context().keyring.audit_key().load()
    return jsonify(audit.verify_chain(database.session(), mac_key=mac_key).to_json())
