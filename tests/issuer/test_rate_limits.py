"""Rate limits through Flask-Limiter (issue 16, finding 2): API token guessing per address,
the verifier's POST endpoints, and counts that every process shares through Redis.

The attack: any number of wrong bearer tokens from one address, each answered 401, so a
token could be guessed at the network's speed. Now the address is refused with 429
``rate_limited`` and ``Retry-After`` once it has presented too many, and the refusal is logged.
"""

from __future__ import annotations

import logging
import secrets

import pytest

from issuer.app import create_app

from .conftest import AppEnv
from .support import REDIS_ONLY_REASON, REDIS_URL, app_config

ATTACKER = "203.0.113.66"
OTHER = "198.51.100.20"
LIMITS = {"RATELIMIT_API_TOKEN_FAILURES": "3 per 1 hour", "VERIFIER_RATE_PER_MINUTE": 0}


def _get(client, token: str | None, address: str = ATTACKER, path: str = "/api/v1/schemes"):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(path, headers=headers, environ_base={"REMOTE_ADDR": address})


@pytest.fixture
def limited_env(database_url, tmp_path):
    environment = AppEnv(tmp_path / "instance", database_url, **LIMITS)
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def test_guessing_api_tokens_is_refused_per_address(limited_env, caplog) -> None:
    client = limited_env.client
    good = limited_env.tokens["status"]
    assert [_get(client, f"guess-{n}").status_code for n in range(3)] == [401] * 3
    caplog.set_level(logging.WARNING, logger="verifier.web.rate_limits")
    refused = _get(client, "guess-4")
    assert refused.status_code == 429, refused.text
    assert refused.json["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
    # the whole API is closed to that address for now, the right token too, on every blueprint
    assert _get(client, good).status_code == 429
    assert _get(client, good, path="/api/v1/certifications").status_code == 429
    reply = client.post(
        "/credentials/status",
        json={},
        headers={"Authorization": f"Bearer {good}"},
        environ_base={"REMOTE_ADDR": ATTACKER},
    )
    assert reply.status_code == 429
    assert any(ATTACKER in r.getMessage() for r in caplog.records), "the refusal is logged"
    # another address is not affected, and right or missing tokens never count
    assert _get(client, good, address=OTHER).status_code == 200
    for _ in range(5):
        assert _get(client, good, address=OTHER).status_code == 200
        assert _get(client, None, address=OTHER).status_code == 401
    assert _get(client, "guess", address=OTHER).status_code == 401


def _second_app(env, **config):
    return create_app(app_config(env.folder, env.url, **{**LIMITS, **config})).test_client()


def test_memory_counts_are_per_process(limited_env) -> None:
    """``memory://`` (the default): another server process keeps its own count."""
    for n in range(4):
        _get(limited_env.client, f"guess-{n}")
    assert _get(limited_env.client, "guess").status_code == 429
    assert _get(_second_app(limited_env), "guess").status_code == 401


@pytest.mark.skipif(REDIS_URL is None, reason=REDIS_ONLY_REASON)
def test_redis_counts_are_shared_by_every_process(database_url, tmp_path) -> None:
    """Two apps on one instance (two server processes) with one Redis: guesses made through
    either count once; the verifier's POST limit is shared the same way."""
    shared = {
        **LIMITS,
        "RATELIMIT_STORAGE_URL": REDIS_URL,
        "RATELIMIT_KEY_PREFIX": f"certvc-test-{secrets.token_hex(6)}",
        "VERIFIER_RATE_PER_MINUTE": 1,
        "VERIFIER_RATE_BURST": 2,
    }
    env = AppEnv(tmp_path / "instance", database_url, **shared)
    try:
        first, second = env.client, _second_app(env, **shared)
        assert _get(first, "guess-1").status_code == 401
        assert _get(second, "guess-2").status_code == 401
        assert _get(first, "guess-3").status_code == 401
        assert _get(second, "guess-4").status_code == 429
        assert _get(first, "guess-5").status_code == 429

        def verify(client):
            return client.post(
                "/api/v1/verify", json={"input": "x"}, environ_base={"REMOTE_ADDR": ATTACKER}
            )

        assert verify(first).status_code == 400
        assert verify(second).status_code == 400
        limited = verify(first)
        assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1
    finally:
        env.engine.dispose()
        env.app.extensions["certvc.db"].engine.dispose()


def _through_proxy(client, token: str, forwarded_for: str):
    return client.get(
        "/api/v1/schemes",
        headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": forwarded_for},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},  # the reverse proxy
    )


def test_behind_a_trusted_proxy_each_client_is_counted_apart(database_url, tmp_path) -> None:
    """``TRUSTED_PROXIES=1``: the proxy's X-Forwarded-For names the client, so one guessing
    client does not close the API for everyone behind the same proxy."""
    env = AppEnv(tmp_path / "instance", database_url, TRUSTED_PROXIES=1, **LIMITS)
    try:
        for n in range(4):
            _through_proxy(env.client, f"guess-{n}", ATTACKER)
        assert _through_proxy(env.client, env.tokens["status"], ATTACKER).status_code == 429
        assert _through_proxy(env.client, env.tokens["status"], OTHER).status_code == 200
    finally:
        env.engine.dispose()
        env.app.extensions["certvc.db"].engine.dispose()


def test_without_trusted_proxies_the_header_cannot_pick_the_address(limited_env) -> None:
    """``TRUSTED_PROXIES=0`` (the default): a made-up X-Forwarded-For changes nothing."""
    for n in range(4):
        _through_proxy(limited_env.client, f"guess-{n}", f"192.0.2.{n}")
    assert _through_proxy(limited_env.client, "guess", "192.0.2.200").status_code == 429
