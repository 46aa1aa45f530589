"""The probes of a load balancer (issue 18): ``/healthz`` (the process serves) and ``/readyz``
(database, schema and keys usable; 503 with the reason otherwise), and the stand-alone
verifier's ``/healthz``.

The database outage is real: the app reaches PostgreSQL through a TCP forwarder the test cuts
(the shared server goes on serving every other test), then restores on the same port; the app
is not restarted in between.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from issuer.app import create_app
from verifier.app import create_app as create_verifier

from .conftest import AppEnv
from .support import BACKENDS, PG_ONLY_REASON, app_config, fresh_database, init
from .tcp_proxy import TcpProxy


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _ready(client) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    reply = client.get("/readyz")
    assert reply.headers["Cache-Control"] == "no-store"
    return reply.status_code, reply.json


def test_healthz_answers_without_the_database(app_env: AppEnv) -> None:
    reply = app_env.client.get("/healthz")
    assert reply.status_code == 200
    assert reply.json == {"status": "ok"}


def test_ready_when_database_schema_and_keys_are_usable(app_env: AppEnv) -> None:
    status, body = _ready(app_env.client)
    assert status == 200, body
    assert body == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "keys": "ok"},
    }


def test_unready_while_the_schema_is_not_at_this_codes_revision(app_env: AppEnv) -> None:
    with app_env.engine.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    status, body = _ready(app_env.client)
    assert status == 503
    assert body["reason"] == "instance_not_ready"
    assert body["checks"] == {"database": "ok", "migrations": "instance_not_ready", "keys": "ok"}
    assert "0001" in body["message"] and head in body["message"]
    with app_env.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    assert _ready(app_env.client)[0] == 200


def test_unready_while_the_keys_cannot_be_opened(app_env: AppEnv) -> None:
    keys = app_env.folder / "keys"
    moved = app_env.folder / "keys-away"
    keys.rename(moved)
    try:
        status, body = _ready(app_env.client)
        assert status == 503
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["keys"] == body["reason"] != "ok"
        assert body["message"].startswith("the keys are not usable")
    finally:
        moved.rename(keys)
    assert _ready(app_env.client)[0] == 200


@pytest.mark.skipif("postgresql" not in BACKENDS, reason=PG_ONLY_REASON)
def test_unready_at_once_when_postgresql_goes_away_and_ready_when_it_is_back(
    tmp_path: Path, pg_database: str
) -> None:
    with fresh_database("postgresql", tmp_path, pg_database) as direct:
        target = make_url(direct)
        proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432)).start()
        url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        folder = tmp_path / "instance"
        init(folder, url)
        app = create_app(app_config(folder, url))
        client = app.test_client()
        try:
            assert _ready(client)[0] == 200
            assert client.get("/api/v1/schemes").status_code == 401  # served (needs a token)

            proxy.stop()  # the database goes away
            status, body = _ready(client)  # the very next probe says so
            assert status == 503
            assert body["reason"] == "database_unavailable"
            assert body["checks"] == {
                "database": "database_unavailable",
                "migrations": "skipped",
                "keys": "ok",
            }
            assert client.get("/healthz").status_code == 200  # alive all the same
            down = client.get("/.well-known/did.json")
            assert down.status_code == 503 and down.json["error"]["code"] == "database_unavailable"

            proxy.start()  # back on the same port: the next probe is ready, no restart
            assert _ready(client) == (
                200,
                {"status": "ready", "checks": {"database": "ok", "migrations": "ok", "keys": "ok"}},
            )
            assert client.get("/.well-known/did.json").status_code == 200
        finally:
            proxy.stop()
            app.extensions["certvc.db"].engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason=PG_ONLY_REASON)
def test_a_database_that_never_answers_is_unready_within_the_probe_timeout(
    tmp_path: Path, pg_database: str
) -> None:
    """Packets dropped (connections accepted, never answered): the probe gives up after
    READY_TIMEOUT_SECONDS instead of hanging the load balancer's check."""
    with fresh_database("postgresql", tmp_path, pg_database) as direct:
        target = make_url(direct)
        proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432)).start()
        url = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        folder = tmp_path / "instance"
        init(folder, url)
        app = create_app(app_config(folder, url, READY_TIMEOUT_SECONDS="0.5"))
        try:
            proxy.blackhole = True
            status, body = _ready(app.test_client())
            assert status == 503
            assert body["reason"] == "database_unavailable"
            assert body["message"] == "the database did not answer within 0.5 s"
        finally:
            proxy.stop()
            app.extensions["certvc.db"].engine.dispose()


def test_the_stand_alone_verifier_has_a_liveness_probe() -> None:
    reply = create_verifier({"VERIFIER_RATE_PER_MINUTE": 0}).test_client().get("/healthz")
    assert reply.status_code == 200
    assert reply.json == {"status": "ok"}
