"""Security headers on every response (issue 16, finding 7): the admin UI, the public pages
and the API are not framed, not sniffed, leak no referrer elsewhere and run only this origin's
code; an https instance asks browsers for https (HSTS); views with their own policy keep it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import HTTPS_URL, AppEnv

CERTIFY = {
    "person": {"name": "Ada Lovelace"},
    "scheme": "CWI-2",
    "scope": "steel",
    "reason": "examination passed",
}


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    environment = AppEnv(tmp_path / "instance", database_url)
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _common(headers) -> None:
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    "path",
    ["/admin/login", "/api/v1/openapi.json", "/status/1", "/.well-known/did.json", "/nope"],
)
def test_every_response_has_the_headers(site, path) -> None:
    reply = site.client.get(path)
    _common(reply.headers)
    policy = reply.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
    assert "Strict-Transport-Security" not in reply.headers  # plain http: development


def test_views_with_their_own_policy_keep_it(site) -> None:
    page = site.client.get("/v")
    _common(page.headers)
    assert "media-src 'self' blob:" in page.headers["Content-Security-Policy"]
    assert page.headers["Permissions-Policy"].startswith("camera=(self)")
    created = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    number = created.json["certification"]["number"]
    badge = site.client.get(
        f"/api/v1/certifications/{number}/export?format=badge-svg", headers=site.auth("issue")
    )
    assert badge.status_code == 200
    assert (
        badge.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    )


def test_an_https_instance_sends_hsts_over_https(database_url: str, tmp_path: Path) -> None:
    site = AppEnv(tmp_path / "instance", database_url, HTTPS_URL)
    try:
        over_https = site.client.get("/admin/login", headers={"X-Forwarded-Proto": "https"})
        assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
        _common(over_https.headers)
        cookie = over_https.headers.get("Set-Cookie", "")
        assert "Secure" in cookie and "HttpOnly" in cookie
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()
