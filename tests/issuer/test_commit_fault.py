"""A committed change is never reported as failed (issue 16, finding 5): the database drops the
request's connections right after a status change commits, before the response is built; the
answer is still a success, and the change stands.

The connections are really killed: on PostgreSQL their backends are ended with
``pg_terminate_backend`` from another connection; on SQLite the driver's connections are closed
under the pool. Only the connections the app has checked out at that moment are touched (other
tests share the PostgreSQL server).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from issuer import db
from issuer.db.models import Action, AuditEvent, Certification, Role, State
from issuer.services import accounts

from .support import BACKENDS, NOW

PASSWORD = "correct horse battery"
CERTIFY = {
    "scheme": "CWI-2",
    "scope": "visual testing of welds",
    "person": {"name": "Zoë Ångström", "reference": "P-1"},
    "reason": "committee decision",
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """This module runs on every backend (how a connection dies is the engine's)."""
    return request.param


class ConnectionKiller:
    """Kills the connections the app holds, once, right after its next commit."""

    def __init__(self, app: Any, url: str) -> None:
        state = app.extensions["certvc.db"]
        self.writer = state.writer
        self.engines: list[Engine] = list({state.engine, state.reader.kw["bind"]})
        self.url = url
        self.out: dict[int, Any] = {}  # checked-out driver connections, by id
        self.armed = False
        self.killed = 0
        for engine in self.engines:
            event.listen(engine.pool, "checkout", self._checkout)
            event.listen(engine.pool, "checkin", self._checkin)
        event.listen(self.writer, "after_commit", self._after_commit)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        self.out[id(dbapi_connection)] = dbapi_connection

    def _checkin(self, dbapi_connection: Any, _record: Any) -> None:
        self.out.pop(id(dbapi_connection), None)

    def _after_commit(self, _session: Any) -> None:
        if not self.armed:
            return
        self.armed = False
        victims = list(self.out.values())
        if self.engines[0].dialect.name == "postgresql":
            pids = [connection.info.backend_pid for connection in victims]
            admin = db.make_engine(self.url)
            try:
                with admin.begin() as connection:
                    for pid in pids:
                        connection.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            finally:
                admin.dispose()
        else:
            for connection in victims:
                connection.close()
        self.killed = len(victims)

    def remove(self) -> None:
        for engine in self.engines:
            event.remove(engine.pool, "checkout", self._checkout)
            event.remove(engine.pool, "checkin", self._checkin)
        event.remove(self.writer, "after_commit", self._after_commit)


@pytest.fixture
def killer(app_env) -> Iterator[ConnectionKiller]:
    made = ConnectionKiller(app_env.app, app_env.url)
    yield made
    made.remove()


def _state(app_env, number: str) -> tuple[State, Action]:
    """What the database holds, read through a connection of its own."""
    engine = db.make_engine(app_env.url)
    try:
        with db.session_factory(engine)() as session:
            state = session.execute(
                select(Certification.state).where(Certification.number == number)
            ).scalar_one()
            last = session.execute(
                select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)
            ).scalar_one()
    finally:
        engine.dispose()
    return state, last


def test_a_suspension_over_the_api_is_answered_as_done(app_env, killer) -> None:
    headers = app_env.auth("admin")
    created = app_env.client.post("/api/v1/certifications", json=CERTIFY, headers=headers)
    assert created.status_code == 201, created.get_json()
    number = created.get_json()["certification"]["number"]
    killer.armed = True
    answer = app_env.client.post(
        f"/api/v1/certifications/{number}/suspend",
        json={"reason": "surveillance audit missed"},
        headers=headers,
    )
    # The write's connection (the token was checked on a connection given back at once).
    assert killer.killed >= 1
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["certification"]["state"] == "suspended"
    assert _state(app_env, number) == (State.SUSPENDED, Action.SUSPEND)
    # The app recovers: the next request is answered from new connections.
    again = app_env.client.get(f"/api/v1/certifications/{number}", headers=headers)
    assert again.status_code == 200 and again.get_json()["state"] == "suspended"


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1).decode()


def test_a_suspension_in_the_admin_ui_is_answered_as_done(app_env, killer) -> None:
    app_env.write(
        lambda s: accounts.create_user(
            s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
        )
    )
    created = app_env.client.post(
        "/api/v1/certifications", json=CERTIFY, headers=app_env.auth("admin")
    )
    number = created.get_json()["certification"]["number"]
    client = app_env.app.test_client()
    page = client.get("/admin/login").data
    signed_in = client.post(
        "/admin/login", data={"username": "olga", "password": PASSWORD, "csrf_token": _csrf(page)}
    )
    assert signed_in.status_code == 302
    token = _csrf(client.get(f"/admin/certifications/{number}").data)
    killer.armed = True
    answer = client.post(
        f"/admin/certifications/{number}/suspend",
        data={"csrf_token": token, "reason": "surveillance audit missed"},
    )
    assert killer.killed >= 2
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    assert answer.location.endswith(f"/admin/certifications/{number}")
    assert _state(app_env, number) == (State.SUSPENDED, Action.SUSPEND)
