"""Request ids and structured logs (issue 18): ``X-Request-ID`` kept when well-formed, made up
otherwise, returned on every response and carried by every log line of the request;
``LOG_FORMAT=json`` gives one JSON object a line, ``text`` plain lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from issuer.app import create_app
from issuer.errors import FieldError
from issuer.web import request_log

from .conftest import AppEnv
from .support import app_config


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def test_a_well_formed_request_id_is_kept_and_returned(app_env: AppEnv) -> None:
    for given in ("abc-123", "f3c1e2d4.5:6_7", "x" * 128):
        reply = app_env.client.get("/healthz", headers={"X-Request-ID": given})
        assert reply.headers["X-Request-ID"] == given


@pytest.mark.parametrize("given", ["", "has space", "x" * 129, "semi;colon", "ünï", "a\tb"])
def test_a_malformed_request_id_is_replaced(app_env: AppEnv, given: str) -> None:
    reply = app_env.client.get("/healthz", headers={"X-Request-ID": given})
    made = reply.headers["X-Request-ID"]
    assert made != given and len(made) == 32 and int(made, 16) >= 0


def test_every_response_has_its_own_id_errors_included(app_env: AppEnv) -> None:
    ids = {
        app_env.client.get("/healthz").headers["X-Request-ID"],
        app_env.client.get("/no/such/page").headers["X-Request-ID"],
        app_env.client.post("/api/v1/certifications", json={}).headers["X-Request-ID"],
    }
    assert len(ids) == 3


def test_json_logs_carry_the_request_id(
    app_env: AppEnv, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    app = create_app(app_config(app_env.folder, app_env.url, LOG_FORMAT="json"))
    reply = app.test_client().get("/api/v1/certifications/NOPE", headers={"X-Request-ID": "req-42"})
    assert reply.status_code == 401
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    mine = [line for line in lines if line.get("request_id") == "req-42"]
    assert mine, lines
    access = [line for line in mine if line["logger"] == "certvc.request"]
    assert len(access) == 1
    assert access[0]["route"] == "/api/v1/certifications/<number>"  # the template, not NOPE
    assert access[0]["status"] == 401 and access[0]["method"] == "GET"
    assert {"time", "level", "message", "duration_ms"} <= set(access[0])
    assert "NOPE" not in json.dumps(access[0])
    app.extensions["certvc.db"].engine.dispose()


def test_text_logs_and_records_outside_requests(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    request_log.configure_logging("text", "info")
    request_log.configure_logging("text", "info")  # configured again: still one handler
    logging.getLogger("certvc.test").warning("outside any request")
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].endswith("WARNING certvc.test [-] outside any request")


@pytest.mark.parametrize(("key", "bad"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD")])
def test_a_bad_log_setting_stops_the_app_with_a_clear_error(
    app_env: AppEnv, key: str, bad: str, restore_logging: None
) -> None:
    config = {"LOG_FORMAT": "json", key: bad}
    with pytest.raises(FieldError, match=key):
        create_app(app_config(app_env.folder, app_env.url, **config))
