"""Sign-in hardening (issue 16, findings 2 and 3), on SQLite and PostgreSQL.

Reproduced first: 150 wrong passwords in a row for an admin, then the right one signed in, and
no sign-in was audited; a session cookie copied before sign-out kept working for hours, and the
cookie carried part of the password hash.
"""

from __future__ import annotations

import base64
import json
import re
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.app import create_app
from issuer.db.models import Action, AuditEvent, Role, User
from issuer.services import accounts, audit, staff_sessions

from .conftest import AppEnv
from .support import BACKENDS, NOW, app_config

PASSWORD = "correct horse battery"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Clock:
    def __init__(self) -> None:
        self.moment = NOW

    def __call__(self):
        return self.moment


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[AppEnv, Clock]]:
    clock = Clock()
    environment = AppEnv(tmp_path / "instance", database_url, CLOCK=clock)
    environment.write(
        lambda s: accounts.create_user(
            s, username="adam", password=PASSWORD, role=Role.ADMIN, actor="t", now=NOW
        )
    )
    yield environment, clock
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1).decode()


def _attempt(client, username: str, password: str):
    token = _csrf(client.get("/admin/login").data)
    return client.post(
        "/admin/login", data={"username": username, "password": password, "csrf_token": token}
    )


def _events(site: AppEnv, action: Action) -> list[AuditEvent]:
    with site.read() as session:
        return list(
            session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def test_password_guessing_is_throttled_for_every_process_and_audited(site) -> None:
    site, clock = site
    client = site.app.test_client()
    for n in range(staff_sessions.MAX_FAILURES):
        assert _attempt(client, "adam", f"guess {n}").status_code == 401
    blocked = _attempt(client, "adam", PASSWORD)  # the right one, too late
    assert blocked.status_code == 429 and b"Too many failed sign-ins" in blocked.data
    assert int(blocked.headers["Retry-After"]) > 0
    # another server process (another app on the same database) counts the same failures
    second = create_app(app_config(site.folder, site.url, CLOCK=clock))
    try:
        assert _attempt(second.test_client(), "adam", PASSWORD).status_code == 429
    finally:
        second.extensions["certvc.db"].engine.dispose()
    failed = _events(site, Action.LOGIN_FAILED)
    assert len(failed) == staff_sessions.MAX_FAILURES + 2
    assert json.loads(failed[-1].details)["throttled"] is True
    clock.moment = NOW + staff_sessions.WINDOW + timedelta(seconds=1)
    assert _attempt(client, "adam", PASSWORD).status_code == 302
    (login,) = _events(site, Action.LOGIN)
    assert login.subject == "user:adam"
    with site.read() as session:
        assert audit.verify_chain(session).ok


def test_an_unknown_user_name_is_answered_and_throttled_the_same(site) -> None:
    site, _ = site
    client = site.app.test_client()
    answers = [_attempt(client, "nobody", "x").status_code for _ in range(6)]
    assert answers == [401] * staff_sessions.MAX_FAILURES + [429]


def _cookie_payload(client) -> dict:
    cookie = client.get_cookie("certvc_session")
    assert cookie is not None
    data = cookie.value.split(".")[0 if not cookie.value.startswith(".") else 1]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if cookie.value.startswith("."):
        raw = zlib.decompress(raw)
    return json.loads(raw)


def test_sign_out_ends_the_session_even_for_a_copied_cookie(site) -> None:
    site, _ = site
    client = site.app.test_client()
    assert _attempt(client, "adam", PASSWORD).status_code == 302
    stolen = client.get_cookie("certvc_session").value
    payload = _cookie_payload(client)
    with site.read() as session:
        hashed = session.execute(select(User.password_hash).where(User.username == "adam"))
        secret = hashed.scalar_one()
    assert not any(isinstance(v, str) and len(v) > 4 and v in secret for v in payload.values())
    assert set(payload) <= {"sid", "csrf", "_permanent"}
    token = _csrf(client.get("/admin/").data)
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    thief = site.app.test_client()
    thief.set_cookie("certvc_session", stolen)
    assert thief.get("/admin/").status_code == 302  # back to the sign-in page
    assert [e.subject for e in _events(site, Action.LOGOUT)] == ["user:adam"]
