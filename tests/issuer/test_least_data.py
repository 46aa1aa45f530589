"""Least data (issue 16, finding 9): a token without the ``issue`` scope gets no personal data.

The attack: a ``status`` token read persons' names and internal references through
``GET /api/v1/certifications?person=…``. Every route such a token can reach is listed here
(``REACHABLE``) and checked against the OpenAPI document, so a new route cannot slip past:
no answer to a ``status`` token may carry a person's name, reference or id, nor a wallet's
holder DID; the same requests with an ``issue`` token still see them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from issuer.db.models import IssuedCredential
from issuer.web.api.openapi import openapi_document

NAME = "Ada Lovelace-Byron"
REFERENCE = "EMP-4711-SECRET"
HOLDER = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"

#: Every (method, OpenAPI path) a token with the ``status`` scope alone may call: those whose
#: ``x-certvc-scope`` is ``status`` or ``any``.
REACHABLE = {
    ("post", "/credentials/status"),
    ("get", "/api/v1/body"),
    ("get", "/api/v1/schemes"),
    ("get", "/api/v1/schemes/{code}"),
    ("get", "/api/v1/certifications"),
    ("get", "/api/v1/certifications/{number}"),
    ("post", "/api/v1/certifications/{number}/suspend"),
    ("post", "/api/v1/certifications/{number}/reinstate"),
    ("post", "/api/v1/certifications/{number}/withdraw"),
    ("post", "/api/v1/bulk"),
}


def test_the_list_is_every_route_a_status_token_reaches() -> None:
    paths = openapi_document("https://x.example")["paths"]
    found = {
        (method, path)
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation.get("x-certvc-scope") in ("status", "any")
    }
    assert found == REACHABLE


def _personal(text: str, person_id: int) -> list[str]:
    body = json.loads(text)
    leaks = [marker for marker in (NAME, REFERENCE, HOLDER) if marker in text]

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "person" in value or "personId" in value:
                leaks.append(f"person field: {value.get('person', value.get('personId'))}")
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(body)
    return leaks


@pytest.fixture
def certified(app_env) -> tuple[str, str, int]:
    reply = app_env.client.post(
        "/api/v1/certifications",
        json={
            "scheme": "CWI-2",
            "scope": "steel groups 1 and 2",
            "person": {"name": NAME, "reference": REFERENCE},
            "reason": "committee decision",
        },
        headers=app_env.auth("issue"),
    )
    assert reply.status_code == 201, reply.json
    certification = reply.json["certification"]
    credential_id = certification["credential"]["id"]
    # a wallet copy's holder DID is personal data too: name one on the credential
    app_env.write(
        lambda s: s.execute(
            update(IssuedCredential)
            .where(IssuedCredential.credential_id == credential_id)
            .values(holder_did=HOLDER)
        )
    )
    return certification["number"], credential_id, certification["person"]["id"]


def _requests(number: str, credential_id: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The calls made for each reachable route (several where the answer differs)."""
    return {
        ("post", "/credentials/status"): [
            {
                "json": {
                    "credentialId": credential_id,
                    "credentialStatus": [
                        {"type": "BitstringStatusListEntry", "status": "suspended"}
                    ],
                    "reason": "check",
                }
            },
            {
                "json": {
                    "credentialId": credential_id,
                    "credentialStatus": [
                        {"type": "BitstringStatusListEntry", "status": "reinstated"}
                    ],
                    "reason": "check",
                }
            },
        ],
        ("get", "/api/v1/body"): [{"path": "/api/v1/body"}],
        ("get", "/api/v1/schemes"): [{"path": "/api/v1/schemes"}],
        ("get", "/api/v1/schemes/{code}"): [{"path": "/api/v1/schemes/CWI-2"}],
        ("get", "/api/v1/certifications"): [
            {"path": "/api/v1/certifications"},
            {"path": f"/api/v1/certifications?number={number}"},
            {"path": "/api/v1/certifications?scheme=CWI-2&state=active"},
        ],
        ("get", "/api/v1/certifications/{number}"): [{"path": f"/api/v1/certifications/{number}"}],
        ("post", "/api/v1/certifications/{number}/suspend"): [
            {"path": f"/api/v1/certifications/{number}/suspend", "json": {"reason": "r"}}
        ],
        ("post", "/api/v1/certifications/{number}/reinstate"): [
            {"path": f"/api/v1/certifications/{number}/reinstate", "json": {"reason": "r"}}
        ],
        ("post", "/api/v1/bulk"): [
            {
                "path": "/api/v1/bulk",
                "json": {
                    "action": "suspend",
                    "selection": {"scheme": "CWI-2"},
                    "reason": "r",
                    "dryRun": True,
                },
            },
            {
                "path": "/api/v1/bulk",
                "json": {
                    "action": "suspend",
                    "selection": {"references": [REFERENCE, "NOBODY-1"]},
                    "reason": "r",
                    "dryRun": True,
                },
            },
        ],
        # last: withdrawal is final
        ("post", "/api/v1/certifications/{number}/withdraw"): [
            {"path": f"/api/v1/certifications/{number}/withdraw", "json": {"reason": "r"}}
        ],
    }


def _call(app_env, route: tuple[str, str], call: dict[str, Any], scope: str):
    method, path = route
    target = call.get("path", path)
    return app_env.client.open(
        target, method=method.upper(), json=call.get("json"), headers=app_env.auth(scope)
    )


def test_a_status_token_sees_no_personal_data_on_any_route(app_env, certified) -> None:
    number, credential_id, person_id = certified
    calls = _requests(number, credential_id)
    assert set(calls) == REACHABLE
    for route, variants in calls.items():
        for call in variants:
            reply = _call(app_env, route, call, "status")
            assert reply.status_code < 300, (route, reply.status_code, reply.text)
            assert _personal(reply.text, person_id) == [], (route, call, reply.text)


def test_the_issue_scope_still_sees_the_person(app_env, certified) -> None:
    number, _credential_id, person_id = certified
    for path in (f"/api/v1/certifications/{number}", f"/api/v1/certifications?person={NAME}"):
        reply = app_env.client.get(path, headers=app_env.auth("issue"))
        assert reply.status_code == 200
        assert NAME in reply.text and REFERENCE in reply.text and HOLDER in reply.text
    reply = app_env.client.get(f"/api/v1/certifications/{number}", headers=app_env.auth("admin"))
    assert reply.json["person"]["id"] == person_id


def test_a_status_token_cannot_search_by_person(app_env, certified) -> None:
    """The attack itself: ``?person=`` finds certifications by a name or reference, an answer
    about a person whatever fields are left out. Refused (403 ``auth_forbidden``)."""
    for query in (NAME, "Lovelace", REFERENCE, "nobody at all"):
        reply = app_env.client.get(
            "/api/v1/certifications", query_string={"person": query}, headers=app_env.auth("status")
        )
        assert reply.status_code == 403, reply.text
        assert reply.json["error"]["code"] == "auth_forbidden"
        assert NAME not in reply.text and REFERENCE not in reply.text
