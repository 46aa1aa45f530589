"""Security headers on every response (issue 16, finding 7): the admin UI, the public pages
and the API are not framed, not sniffed, leak no referrer elsewhere and run only this origin's
code; an https instance asks browsers for https (HSTS); views with their own policy keep it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
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


def test_a_change_within_the_same_second_is_never_hidden_by_date_revalidation(
    database_url: str, tmp_path: Path
) -> None:
    """Issue 16, finding 6: a cache revalidating with If-Modified-Since only after a change in
    the same second as its copy got 304 and kept the old list; the list is served again."""
    moment = datetime(2026, 11, 27, 12, 0, 0, 100_000, tzinfo=UTC)
    site = AppEnv(tmp_path / "instance", database_url, CLOCK=lambda: moment)
    try:
        created = site.client.post(
            "/api/v1/certifications", json=CERTIFY, headers=site.auth("issue")
        ).json
        number = created["certification"]["number"]
        entry = next(
            e
            for e in created["verifiableCredential"]["credentialStatus"]
            if e["statusPurpose"] == "suspension"
        )
        path = entry["statusListCredential"].removeprefix("http://127.0.0.1:8000")
        first = site.client.get(path)
        cached_date, cached_tag = first.headers["Last-Modified"], first.headers["ETag"]
        moment = moment.replace(microsecond=800_000)  # the same second
        suspended = site.client.post(
            f"/api/v1/certifications/{number}/suspend",
            json={"reason": "r"},
            headers=site.auth("status"),
        )
        assert suspended.status_code == 200
        by_date = site.client.get(path, headers={"If-Modified-Since": cached_date})
        assert by_date.status_code == 200 and by_date.data != first.data
        assert site.client.get(path, headers={"If-None-Match": cached_tag}).status_code == 200
        fresh = by_date.headers["ETag"]
        assert site.client.get(path, headers={"If-None-Match": fresh}).status_code == 304
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()


@pytest.mark.parametrize(
    "path",
    [
        "/status/99999999999999999999",
        "/status/2147483648",
        "/status/0",
        "/api/v1/persons/99999999999999999999",
        "/admin/import/99999999999999999999",
    ],
)
def test_ids_beyond_the_database_are_404_not_500(site, path) -> None:
    """Issue 16, finding 4: integer path parameters above 2^63 were a 500 (one public)."""
    reply = site.client.get(path, headers=site.auth("admin"))
    assert reply.status_code == 404, (path, reply.status_code)


def test_dates_near_the_year_9999_are_refused_not_500(site) -> None:
    """Issue 16, finding 4: an effective or renewal date whose expiry overflows was a 500."""
    far = "9999-06-01"
    issued = site.client.post(
        "/api/v1/certifications", json={**CERTIFY, "effective": far}, headers=site.auth("issue")
    )
    assert issued.status_code == 400 and "too far" in issued.json["error"]["message"]
    number = site.client.post(
        "/api/v1/certifications", json=CERTIFY, headers=site.auth("issue")
    ).json["certification"]["number"]
    renewed = site.client.post(
        f"/api/v1/certifications/{number}/renew",
        json={"reason": "r", "effective": far},
        headers=site.auth("issue"),
    )
    assert renewed.status_code == 400 and "too far" in renewed.json["error"]["message"]


def test_a_database_that_cannot_be_reached_is_503_with_retry_after(site) -> None:
    """Issue 16, finding 5: with the database down every request was a 500 internal_error;
    it is a 503 database_unavailable with Retry-After (the request may work shortly)."""
    import dataclasses

    from issuer import db
    from tests.verifier.world import closed_port

    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/test?connect_timeout=2"
    down = db.make_engine(url)
    state = site.app.extensions["certvc.db"]
    site.app.extensions["certvc.db"] = dataclasses.replace(
        state, writer=db.session_factory(down), reader=db.session_factory(down)
    )
    try:
        for method, path, kwargs in (
            ("GET", "/api/v1/certifications", {"headers": site.auth("status")}),
            ("POST", "/api/v1/certifications", {"json": CERTIFY, "headers": site.auth("issue")}),
        ):
            reply = site.client.open(path, method=method, **kwargs)
            assert reply.status_code == 503, (path, reply.data[:200])
            assert reply.json["error"]["code"] == "database_unavailable"
            assert reply.headers["Retry-After"] == "5"
        form = site.client.get("/admin/login").data  # served without the database
        token = form.split(b'name="csrf_token" value="', 1)[1].split(b'"', 1)[0].decode()
        page = site.client.post(
            "/admin/login", data={"username": "a", "password": "b", "csrf_token": token}
        )
        assert page.status_code == 503 and b"database_unavailable" in page.data
        assert page.headers["Retry-After"] == "5"
    finally:
        site.app.extensions["certvc.db"] = state
        down.dispose()
