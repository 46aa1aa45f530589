"""One condition, one code and one status in every web app (``verifier.web.http_errors``).

The same oversized body, unknown route, wrong method and wrong media type, sent to the
stand-alone verifier, to the verifier blueprint mounted in the issuer, and to the issuer's own
API, get the same ``{"error": {"code", "message"}}`` and HTTP status.
"""

from __future__ import annotations

from typing import Any

import pytest

from verifier.app import create_app as create_verifier

#: Over the issuer's JSON cap (256 KiB) and the verifier's (1 MiB).
TOO_LARGE = b'{"input": "' + b"a" * (2 * 1024 * 1024) + b'"}'
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

#: condition -> (status, code, requests as (where, method, path, body, content type))
CASES: dict[str, tuple[int, str, list[tuple[str, str, str, bytes | None, str | None]]]] = {
    "oversized body": (
        413,
        "input_too_large",
        [
            ("verifier", "POST", "/api/v1/verify", TOO_LARGE, JSON),
            ("mounted", "POST", "/api/v1/verify", TOO_LARGE, JSON),
            ("mounted", "POST", "/credentials/verify", TOO_LARGE, JSON),
            ("issuer", "POST", "/api/v1/certifications", TOO_LARGE, JSON),
            ("issuer", "POST", "/credentials/issue", TOO_LARGE, JSON),
        ],
    ),
    "unknown route": (
        404,
        "not_found",
        [
            ("verifier", "GET", "/api/v1/nothing", None, None),
            ("verifier", "GET", "/v/static/nothing.js", None, None),
            ("mounted", "GET", "/v/static/nothing.js", None, None),
            ("issuer", "GET", "/api/v1/nothing", None, None),
        ],
    ),
    "wrong method": (
        405,
        "method_not_allowed",
        [
            ("verifier", "GET", "/api/v1/verify", None, None),
            ("mounted", "GET", "/api/v1/verify", None, None),
            ("mounted", "PUT", "/credentials/verify", b"{}", JSON),
            ("issuer", "DELETE", "/api/v1/certifications", None, None),
        ],
    ),
    "wrong media type": (
        415,
        "unsupported_media_type",
        [
            ("verifier", "POST", "/api/v1/verify", b"a", "application/octet-stream"),
            ("mounted", "POST", "/api/v1/verify", b"a", "application/octet-stream"),
            ("mounted", "POST", "/credentials/verify", b"a=b", FORM),
            ("issuer", "POST", "/api/v1/certifications", b"a=b", FORM),
        ],
    ),
}


@pytest.fixture(scope="module")
def clients(shared_app_env) -> dict[str, Any]:
    verifier = create_verifier({"VERIFIER_RATE_PER_MINUTE": 0}).test_client()
    return {"verifier": verifier, "mounted": shared_app_env.client, "issuer": shared_app_env.client}


@pytest.mark.parametrize("condition", sorted(CASES))
def test_same_condition_same_code_and_status_everywhere(
    clients, shared_app_env, condition: str
) -> None:
    status, code, requests = CASES[condition]
    answers = set()
    for where, method, path, body, content_type in requests:
        headers = shared_app_env.auth("admin") if where == "issuer" else {}
        reply = clients[where].open(
            path, method=method, data=body, content_type=content_type, headers=headers
        )
        assert reply.is_json, (where, path, reply.data[:200])
        assert reply.json["error"]["message"], (where, path)
        answers.add((where, reply.status_code, reply.json["error"]["code"]))
    assert {(status, code)} == {(s, c) for _, s, c in answers}, answers
    assert {where for where, _, _ in answers} == {"verifier", "mounted", "issuer"}
