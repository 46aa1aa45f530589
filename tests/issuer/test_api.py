"""The HTTP APIs through Flask's test client: the VC API, /api/v1, scopes, and bad input.

Bad input always gets a 4xx JSON error ``{"error": {"code", "message"}}`` with a stable code,
never a 500, and nothing stored changes.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from issuer.db.models import AuditEvent, Certification, IssuedCredential, Person, StatusList

CERTIFY = {
    "scheme": "CWI-2",
    "scope": "steel groups 1 and 2",
    "person": {"name": "Ada Lovelace", "reference": "P-1"},
    "reason": "committee decision 2026-11",
}
UNSIGNED = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        # a context certvc does not pin (the examples contexts are pinned: issue 14)
        "https://w3id.org/citizenship/v4rc1",
    ],
    "type": ["VerifiableCredential"],
    "credentialSubject": {"id": "did:example:123", "name": "Ada"},
}
VC_V2_ONLY = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "type": ["VerifiableCredential"],
    "name": "Membership",
    "credentialSubject": {"id": "did:example:123", "name": "Ada"},
}


def _snapshot(app_env):
    with app_env.read() as session:
        counts = tuple(
            session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Certification, IssuedCredential, Person, AuditEvent)
        )
        lists = tuple(
            (r.id, r.version, r.etag) for r in session.execute(select(StatusList)).scalars()
        )
        states = tuple(session.execute(select(Certification.state)).scalars())
    return counts, lists, states


def _certify(app_env, **changes):
    body = {**CERTIFY, **changes}
    reply = app_env.client.post("/api/v1/certifications", json=body, headers=app_env.auth("issue"))
    assert reply.status_code == 201, reply.json
    return reply.json


def test_certify_then_every_lifecycle_action(app_env) -> None:
    created = _certify(app_env)
    number = created["certification"]["number"]
    assert created["verifiableCredential"]["credentialSubject"]["licenseNumber"] == number
    steps = [
        ("suspend", "status", "suspended"),
        ("reinstate", "status", "active"),
        ("renew", "issue", "active"),
        ("reduce-scope", "issue", "active"),
        ("withdraw", "status", "withdrawn"),
    ]
    for action, scope, state in steps:
        reply = app_env.client.post(
            f"/api/v1/certifications/{number}/{action}",
            json={"reason": f"because {action}", "scope": "steel group 1"},
            headers=app_env.auth(scope),
        )
        assert reply.status_code == 200, reply.json
        assert reply.json["certification"]["state"] == state
    got = app_env.client.get(f"/api/v1/certifications/{number}", headers=app_env.auth("status"))
    assert [c["state"] for c in got.json["credentials"]] == ["superseded", "superseded", "revoked"]
    audit_log = app_env.client.get(
        f"/api/v1/audit?subject={number}", headers=app_env.auth("admin")
    ).json
    assert [e["action"] for e in reversed(audit_log["events"])] == [
        "issue",
        "suspend",
        "reinstate",
        "renew",
        "reduce-scope",
        "withdraw",
    ]
    assert app_env.client.get("/api/v1/audit/verify", headers=app_env.auth("admin")).json["ok"]


def test_vc_api_issue_and_status(app_env) -> None:
    """W3C VC API: 201 {verifiableCredential} with revocation and suspension entries; the
    issuer is the body's DID; /credentials/status sets and clears."""
    reply = app_env.client.post(
        "/credentials/issue",
        json={"credential": VC_V2_ONLY, "options": {}},
        headers=app_env.auth("issue"),
    )
    assert reply.status_code == 201, reply.json
    credential = reply.json["verifiableCredential"]
    did = app_env.ctx.did
    assert credential["issuer"] == did and credential["proof"]["verificationMethod"].startswith(did)
    assert [s["statusPurpose"] for s in credential["credentialStatus"]] == [
        "revocation",
        "suspension",
    ]
    update = {
        "credentialId": credential["id"],
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "suspended"}],
    }
    done = app_env.client.post("/credentials/status", json=update, headers=app_env.auth("status"))
    assert done.status_code == 200 and done.json["state"] == "suspended"
    update["credentialStatus"] = [
        {"type": "BitstringStatusListEntry", "statusPurpose": "suspension", "status": False}
    ]
    done = app_env.client.post("/credentials/status", json=update, headers=app_env.auth("status"))
    assert done.json["state"] == "active"
    with_issuer = {**VC_V2_ONLY, "issuer": {"id": did, "name": "Body"}}
    reply = app_env.client.post(
        "/credentials/issue", json={"credential": with_issuer}, headers=app_env.auth("issue")
    )
    assert reply.status_code == 201


BAD_REQUESTS = [
    # (name, method, path, scope, body-or-raw, content type, status, code)
    (
        "malformed-json",
        "POST",
        "/api/v1/certifications",
        "issue",
        b'{"scheme": ',
        None,
        400,
        "input_unusable",
    ),
    (
        "not-an-object",
        "POST",
        "/api/v1/certifications",
        "issue",
        b"[1, 2]",
        None,
        400,
        "field_invalid",
    ),
    (
        "duplicate-keys",
        "POST",
        "/api/v1/certifications",
        "issue",
        b'{"scope": "a", "scope": "b"}',
        None,
        400,
        "input_unusable",
    ),
    (
        "too-deep",
        "POST",
        "/api/v1/certifications",
        "issue",
        b"[" * 100 + b"]" * 100,
        None,
        400,
        "input_too_deep",
    ),
    (
        "oversized",
        "POST",
        "/api/v1/certifications",
        "issue",
        b'{"x": "' + b"a" * 300_000 + b'"}',
        None,
        413,
        "input_too_large",
    ),
    (
        "not-json-type",
        "POST",
        "/api/v1/certifications",
        "issue",
        b"scheme=CWI-2",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    (
        "missing-scope",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "scope": None},
        None,
        400,
        "field_invalid",
    ),
    (
        "wrong-type",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "scope": 42},
        None,
        400,
        "field_invalid",
    ),
    (
        "person-not-object",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "person": "Ada"},
        None,
        400,
        "field_invalid",
    ),
    (
        "unknown-scheme",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "scheme": "NOPE"},
        None,
        422,
        "unknown_reference",
    ),
    (
        "unknown-person",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**{k: v for k, v in CERTIFY.items() if k != "person"}, "personId": 999},
        None,
        422,
        "unknown_reference",
    ),
    (
        "bad-date",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "effective": "2026-02-30"},
        None,
        400,
        "field_invalid",
    ),
    (
        "date-without-zone",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "effective": "2026-02-01T10:00:00"},
        None,
        400,
        "field_invalid",
    ),
    (
        "expiry-before-start",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "effective": "2026-02-01", "expires": "2026-01-01"},
        None,
        400,
        "field_invalid",
    ),
    (
        "no-reason",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "reason": "  "},
        None,
        400,
        "reason_required",
    ),
    (
        "control-chars",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "scope": "a\x00b"},
        None,
        400,
        "field_invalid",
    ),
    ("no-token", "POST", "/api/v1/certifications", None, CERTIFY, None, 401, "auth_required"),
    (
        "wrong-scope",
        "POST",
        "/api/v1/certifications",
        "status",
        CERTIFY,
        None,
        403,
        "auth_forbidden",
    ),
    (
        "status-token-cannot-renew",
        "POST",
        "/api/v1/certifications/{number}/renew",
        "status",
        {"reason": "r"},
        None,
        403,
        "auth_forbidden",
    ),
    (
        "issue-token-cannot-suspend",
        "POST",
        "/api/v1/certifications/{number}/suspend",
        "issue",
        {"reason": "r"},
        None,
        403,
        "auth_forbidden",
    ),
    (
        "illegal-transition",
        "POST",
        "/api/v1/certifications/{number}/reinstate",
        "status",
        {"reason": "r"},
        None,
        409,
        "transition_not_allowed",
    ),
    (
        "unknown-action",
        "POST",
        "/api/v1/certifications/{number}/explode",
        "admin",
        {"reason": "r"},
        None,
        404,
        "not_found",
    ),
    (
        "unknown-certification",
        "POST",
        "/api/v1/certifications/NOPE-1/suspend",
        "status",
        {"reason": "r"},
        None,
        404,
        "not_found",
    ),
    (
        "taken-number",
        "POST",
        "/api/v1/certifications",
        "issue",
        {**CERTIFY, "number": "{number}"},
        None,
        409,
        "already_exists",
    ),
    (
        "vc-issue-foreign-issuer",
        "POST",
        "/credentials/issue",
        "issue",
        {"credential": {**VC_V2_ONLY, "issuer": "did:example:evil"}},
        None,
        400,
        "issuer_mismatch",
    ),
    (
        "vc-issue-with-status",
        "POST",
        "/credentials/issue",
        "issue",
        {"credential": {**VC_V2_ONLY, "credentialStatus": {"type": "X"}}},
        None,
        400,
        "field_invalid",
    ),
    (
        "vc-issue-undefined-term",
        "POST",
        "/credentials/issue",
        "issue",
        {
            "credential": {
                **VC_V2_ONLY,
                "credentialSubject": {"id": "did:example:1", "undefinedTerm": 1},
            }
        },
        None,
        400,
        "jsonld_unsafe",
    ),
    (
        "vc-issue-unpinned-context",
        "POST",
        "/credentials/issue",
        "issue",
        {"credential": UNSIGNED},
        None,
        400,
        "context_not_allowed",
    ),
    (
        "vc-issue-bad-shape",
        "POST",
        "/credentials/issue",
        "issue",
        {"credential": {**VC_V2_ONLY, "type": ["Nope"]}},
        None,
        400,
        "credential_malformed",
    ),
    (
        "vc-issue-bad-validfrom",
        "POST",
        "/credentials/issue",
        "issue",
        {"credential": {**VC_V2_ONLY, "validFrom": "yesterday"}},
        None,
        400,
        "credential_malformed",
    ),
    (
        "vc-issue-unknown-option",
        "POST",
        "/credentials/issue",
        "issue",
        {"credential": VC_V2_ONLY, "options": {"mandatoryPointers": []}},
        None,
        400,
        "field_invalid",
    ),
    (
        "vc-issue-wrong-scope",
        "POST",
        "/credentials/issue",
        "status",
        {"credential": VC_V2_ONLY},
        None,
        403,
        "auth_forbidden",
    ),
    (
        "vc-status-unknown",
        "POST",
        "/credentials/status",
        "status",
        {
            "credentialId": "urn:x",
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
        },
        None,
        404,
        "not_found",
    ),
    (
        "vc-status-bad-item",
        "POST",
        "/credentials/status",
        "status",
        {
            "credentialId": "urn:x",
            "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "maybe"}],
        },
        None,
        400,
        "field_invalid",
    ),
    (
        "vc-status-wrong-scope",
        "POST",
        "/credentials/status",
        "issue",
        {"credentialId": "urn:x", "credentialStatus": []},
        None,
        403,
        "auth_forbidden",
    ),
    (
        "scheme-needs-admin",
        "POST",
        "/api/v1/schemes",
        "issue",
        {"code": "X"},
        None,
        403,
        "auth_forbidden",
    ),
    (
        "scheme-duplicate",
        "POST",
        "/api/v1/schemes",
        "admin",
        {"code": "CWI-2", "name": "n", "criteria": "c", "standard": "s", "validityDays": 10},
        None,
        409,
        "already_exists",
    ),
    (
        "scheme-bad-suite",
        "POST",
        "/api/v1/schemes",
        "admin",
        {
            "code": "X1",
            "name": "n",
            "criteria": "c",
            "standard": "s",
            "validityDays": 10,
            "suite": "rsa",
        },
        None,
        400,
        "field_invalid",
    ),
    (
        "scheme-bad-validity",
        "POST",
        "/api/v1/schemes",
        "admin",
        {"code": "X1", "name": "n", "criteria": "c", "standard": "s", "validityDays": 0},
        None,
        400,
        "field_invalid",
    ),
    (
        "bad-paging",
        "GET",
        "/api/v1/certifications?limit=-1",
        "issue",
        None,
        None,
        400,
        "field_invalid",
    ),
    (
        "bad-state-filter",
        "GET",
        "/api/v1/certifications?state=lost",
        "issue",
        None,
        None,
        400,
        "field_invalid",
    ),
    ("unknown-route", "GET", "/api/v1/nothing", "issue", None, None, 404, "not_found"),
    (
        "wrong-method",
        "DELETE",
        "/api/v1/certifications",
        "admin",
        None,
        None,
        405,
        "method_not_allowed",
    ),
    ("audit-needs-admin", "GET", "/api/v1/audit", "issue", None, None, 403, "auth_forbidden"),
    ("unknown-status-list", "GET", "/status/999", None, None, None, 404, "not_found"),
]


@pytest.mark.parametrize(
    ("method", "path", "scope", "body", "content_type", "status", "code"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_input_gets_a_4xx_json_error_and_changes_nothing(
    shared_app_env, method, path, scope, body, content_type, status, code
) -> None:
    number = _certify(shared_app_env)["certification"]["number"]
    before = _snapshot(shared_app_env)
    path = path.replace("{number}", number)
    if isinstance(body, dict):
        raw = json.dumps(body).replace("{number}", number).encode()
    else:
        raw = body
    headers = shared_app_env.auth(scope) if scope else {}
    reply = shared_app_env.client.open(
        path,
        method=method,
        data=raw,
        content_type=content_type or "application/json",
        headers=headers,
    )
    assert reply.status_code == status, reply.data[:300]
    assert reply.is_json
    if path.startswith("/credentials/"):
        # The VC API adds Problem Details (RFC 9457; VC Data Model 2.0 §7.1) beside "error".
        assert (
            {"error", "type", "title", "detail"}
            <= set(reply.json)
            <= {
                "error",
                "type",
                "title",
                "detail",
                "code",
            }
        )
        assert reply.json["detail"] == reply.json["error"]["message"]
    else:
        assert set(reply.json) == {"error"}
    assert reply.json["error"]["code"] == code
    assert reply.json["error"]["message"]
    assert _snapshot(shared_app_env) == before


def test_tokens_and_secrets_never_appear_in_errors(app_env) -> None:
    token = app_env.tokens["issue"]
    reply = app_env.client.post(
        "/api/v1/certifications", json=CERTIFY, headers={"Authorization": f"Bearer {token}x"}
    )
    assert reply.status_code == 401 and token.encode() not in reply.data


def test_openapi_document_lists_every_api_route(app_env) -> None:
    document = app_env.client.get("/api/v1/openapi.json").json
    assert document["openapi"].startswith("3.")
    documented = set(document["paths"])
    for rule in app_env.app.url_map.iter_rules():
        if rule.rule.startswith(("/api/v1", "/credentials")) and rule.endpoint != "api_v1.act":
            path = rule.rule.replace("<int:", "<").replace("<", "{").replace(">", "}")
            path = path.replace("{person_id}", "{id}")
            assert path in documented, path
    for action in ("suspend", "reinstate", "withdraw", "renew", "reduce-scope"):
        assert f"/api/v1/certifications/{{number}}/{action}" in documented


def test_search_filters(app_env) -> None:
    _certify(app_env)
    second = _certify(app_env, person={"name": "Grace Hopper"})["certification"]["number"]
    app_env.client.post(
        f"/api/v1/certifications/{second}/suspend",
        json={"reason": "r"},
        headers=app_env.auth("status"),
    )

    def search(query):
        reply = app_env.client.get(f"/api/v1/certifications?{query}", headers=app_env.auth("issue"))
        return [c["number"] for c in reply.json["certifications"]]

    assert search("state=suspended") == [second]
    assert search("person=grace") == [second]
    assert search(f"number={second}") == [second]
    assert len(search("scheme=CWI-2")) == 2
    assert search("state=withdrawn") == []
