"""The application factory: configuration order, a clear error without an instance, secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from issuer.app import create_app
from issuer.errors import InstanceNotReady, IssuerCode

from .support import app_config


class _Config:
    STATUS_TTL_MS = 5_000
    MAX_JSON_BYTES = 1234


def test_defaults_then_config_class_then_environment(env, monkeypatch) -> None:
    app = create_app(app_config(env.folder, env.url))
    assert app.config["STATUS_TTL_MS"] == 60_000 and app.config["MAX_JSON_BYTES"] == 256 * 1024

    class Configured(_Config):
        INSTANCE = str(env.folder)
        DATABASE_URL = env.url

    app = create_app(Configured)
    assert app.config["STATUS_TTL_MS"] == 5_000 and app.config["MAX_JSON_BYTES"] == 1234
    monkeypatch.setenv("CERTVC_STATUS_TTL_MS", "7000")
    monkeypatch.setenv("CERTVC_PUBLIC_URL", "https://certs.example.org")
    monkeypatch.setenv("CERTVC_KEY_PASSPHRASE", "123")
    app = create_app(Configured)
    assert app.config["STATUS_TTL_MS"] == 7_000  # the environment wins, typed
    assert app.extensions["certvc.issuer"].public_url == "https://certs.example.org"
    assert app.config["KEY_PASSPHRASE"] is None  # handed to the key stores, then dropped
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_app_reads_its_instance_from_the_environment(env, monkeypatch) -> None:
    """`certvc serve` calls create_app() with no argument: CERTVC_INSTANCE and friends."""
    monkeypatch.setenv("CERTVC_INSTANCE", str(env.folder))
    monkeypatch.setenv("CERTVC_DATABASE_URL", env.url)
    app = create_app()
    reply = app.test_client().get("/.well-known/did.json")
    assert reply.status_code == 200 and reply.json["id"] == env.ctx.did


def test_without_an_instance_the_error_says_run_init(tmp_path: Path) -> None:
    with pytest.raises(InstanceNotReady) as refused:
        create_app({"INSTANCE": str(tmp_path / "none")})
    assert refused.value.code is IssuerCode.INSTANCE_NOT_READY
    assert "certvc init" in refused.value.message


def test_an_unmigrated_database_is_refused(env, tmp_path: Path) -> None:
    with pytest.raises(InstanceNotReady, match="certvc init"):
        create_app(app_config(env.folder, f"sqlite:///{tmp_path / 'empty.db'}"))


def test_importing_the_app_reads_nothing_and_opens_nothing() -> None:
    code = (
        "import os, sys; os.environ['CERTVC_INSTANCE'] = '/nonexistent';"
        "import issuer.app, issuer.cli, issuer.web.admin.views;"
        "assert 'flask' not in sys.modules['issuer'].__dict__"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
