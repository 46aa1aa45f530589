"""The verifier's CLI: ``certvc qr encode/decode``, ``certvc verify`` on QR images and text with
``--trust``, ``--offline`` and ``--refresh``, and ``certvc serve``'s choice of app.

Status lists come from a real HTTP server on 127.0.0.1, allow-listed through the environment
(``CERTVC_ALLOW_ORIGINS``, ``CERTVC_DEV_MODE``) as an operator would.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from verifier import qr
from verifier.cli import main
from verifier.cli.serve_cmd import find_factory, serve_environment
from verifier.qr_image import read_qr_texts

from .world import credential, new_pair, serve_lists, status_server

VERIFIER = "https://verify.example-body.org/v"


@pytest.fixture(scope="module")
def body():
    return new_pair()


@pytest.fixture
def server(body):
    with status_server() as running:
        serve_lists(running, body, ttl_ms=600_000)
        yield running


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, server) -> CliRunner:
    monkeypatch.setenv("CERTVC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CERTVC_ALLOW_ORIGINS", server.url)
    monkeypatch.setenv("CERTVC_DEV_MODE", "1")
    for name in ("CERTVC_CONTEXTS_MANIFEST", "CERTVC_PUBLIC_URL", "CERTVC_VERIFIER_URL"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def _write(tmp_path: Path, name: str, secured) -> Path:
    path = tmp_path / name
    path.write_text(secured if isinstance(secured, str) else json.dumps(secured))
    return path


def test_qr_encode_png_then_verify_the_image(runner, tmp_path, server, body) -> None:
    signed = _write(tmp_path, "c.json", credential(body, server.url))
    png = tmp_path / "qr.png"
    done = runner.invoke(
        main, ["qr", "encode", str(signed), "--out", str(png), "--verifier-url", VERIFIER]
    )
    assert done.exit_code == 0, done.output
    assert "QR version" in done.stdout and "mm per module" in done.stdout
    assert read_qr_texts(png.read_bytes())[0].startswith(VERIFIER + "#1C")
    verified = runner.invoke(main, ["verify", "--json", str(png)])
    assert verified.exit_code == 0, verified.output
    result = json.loads(verified.stdout)
    assert result["verdict"] == "VALID"
    assert next(c for c in result["checks"] if c["check"] == "status")["status"] == "passed"
    assert "no trust list" in verified.stderr


def test_qr_encode_svg_link_mode_and_decode(runner, tmp_path, server, body) -> None:
    secured = credential(body, server.url)
    signed = _write(tmp_path, "c.json", secured)
    svg = tmp_path / "qr.svg"
    done = runner.invoke(
        main,
        ["qr", "encode", str(signed), "--mode", "link", "--out", str(svg)],
        env={"CERTVC_PUBLIC_URL": "https://verify.example-body.org"},
    )
    assert done.exit_code == 0, done.output
    assert svg.read_text().startswith("<svg")
    png = tmp_path / "embed.png"
    runner.invoke(
        main, ["qr", "encode", str(signed), "--out", str(png), "--verifier-url", VERIFIER]
    )
    decoded = runner.invoke(main, ["qr", "decode", str(png)])
    assert decoded.exit_code == 0 and json.loads(decoded.stdout) == secured
    link = qr.deep_link(VERIFIER, qr.encode_link(secured["id"]))
    assert runner.invoke(main, ["qr", "decode", link]).stdout.strip() == secured["id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.gif", "--verifier-url", VERIFIER], "png or .svg"),
        (["--out", "x.png"], "--verifier-url"),
        (["--out", "x.png", "--verifier-url", "ftp://x"], "verifier URL"),
    ],
)
def test_qr_encode_usage_errors(runner, tmp_path, server, body, args, message) -> None:
    signed = _write(tmp_path, "c.json", credential(body, server.url))
    done = runner.invoke(main, ["qr", "encode", str(signed), *args])
    assert done.exit_code == 2 and message in done.stderr


def test_qr_encode_refuses_unsigned_input(runner, tmp_path) -> None:
    path = _write(tmp_path, "u.json", {"@context": [], "type": "VerifiableCredential"})
    done = runner.invoke(
        main, ["qr", "encode", str(path), "--out", "x.png", "--verifier-url", VERIFIER]
    )
    assert done.exit_code == 2 and "signed credential" in done.stderr


def test_verify_takes_qr_text_as_argument_and_from_stdin(runner, server, body) -> None:
    text = qr.deep_link(
        VERIFIER, qr.encode_credential(credential(body, server.url, suite="vc+jwt"))
    )
    assert runner.invoke(main, ["verify", text]).exit_code == 0
    done = runner.invoke(main, ["verify", "-"], input=text)
    assert done.exit_code == 0 and done.stdout.startswith("VALID")


def test_verify_with_a_trust_list(runner, tmp_path, server, body) -> None:
    signed = _write(tmp_path, "c.json", credential(body, server.url))
    trusted = _write(
        tmp_path,
        "trust.json",
        {"certvcTrustList": 1, "bodies": [{"did": body.public_key.did_key, "name": "Body"}]},
    )
    done = runner.invoke(main, ["verify", "--trust", str(trusted), str(signed)])
    assert done.exit_code == 0 and "no trust list" not in done.stderr
    stranger = _write(
        tmp_path,
        "other.json",
        {"certvcTrustList": 1, "bodies": [{"did": new_pair().public_key.did_key, "name": "X"}]},
    )
    done = runner.invoke(main, ["verify", "--json", "--trust", str(stranger), str(signed)])
    assert done.exit_code == 1
    assert json.loads(done.stdout)["verdict"] == "UNTRUSTED_ISSUER"
    broken = _write(tmp_path, "broken.json", "{")
    done = runner.invoke(main, ["verify", "--trust", str(broken), str(signed)])
    assert done.exit_code == 2 and "trust_list_invalid" in done.stderr


def test_offline_and_refresh(runner, tmp_path, body) -> None:
    with status_server() as server:
        serve_lists(server, body, ttl_ms=600_000)
        signed = _write(tmp_path, "c.json", credential(body, server.url))
        env = {"CERTVC_ALLOW_ORIGINS": server.url}
        offline_first = runner.invoke(main, ["verify", "--json", "--offline", str(signed)], env=env)
        assert offline_first.exit_code == 1
        assert json.loads(offline_first.stdout)["verdict"] == "STATUS_UNAVAILABLE"
        assert runner.invoke(main, ["verify", str(signed)], env=env).exit_code == 0
        serve_lists(server, body, revoked=True, ttl_ms=600_000)
        cached = runner.invoke(main, ["verify", str(signed)], env=env)
        assert cached.exit_code == 0  # the cached list, within its ttl
        refreshed = runner.invoke(main, ["verify", "--json", "--refresh", str(signed)], env=env)
        assert json.loads(refreshed.stdout)["verdict"] == "REVOKED"
    # the server is gone: the disk cache still answers offline (the revoked list, now cached)
    offline = runner.invoke(main, ["verify", "--json", "--offline", str(signed)], env=env)
    assert json.loads(offline.stdout)["verdict"] == "REVOKED"
    both = runner.invoke(main, ["verify", "--offline", "--refresh", str(signed)])
    assert both.exit_code == 2 and both.stdout == ""


def test_verify_unreadable_image_exits_2(runner, tmp_path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    done = runner.invoke(main, ["verify", str(path)])
    assert done.exit_code == 2 and "image_unsupported" in done.stderr


def test_serve_finds_the_verifier_and_its_environment() -> None:
    name, factory = find_factory()
    assert name in ("verifier", "issuer") and callable(factory)
    assert find_factory("verifier")[0] == "verifier"
    env = serve_environment({}, "127.0.0.1", 5000, tls=False)
    assert env == {"CERTVC_PUBLIC_URL": "http://127.0.0.1:5000", "CERTVC_DEV_MODE": "true"}
    tls = serve_environment({}, "0.0.0.0", 8443, tls=True)
    assert tls == {"CERTVC_PUBLIC_URL": "https://0.0.0.0:8443"}
    kept = serve_environment({"CERTVC_PUBLIC_URL": "https://v.example"}, "127.0.0.1", 1, tls=True)
    assert kept["CERTVC_PUBLIC_URL"] == "https://v.example"


def test_serve_rejects_half_a_tls_pair(tmp_path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    done = CliRunner().invoke(main, ["serve", "--tls-cert", str(cert)])
    assert done.exit_code == 2 and "go together" in done.stderr
