"""The verifier's CLI: ``certvc qr encode/decode``, ``certvc verify`` on QR images and text with
``--trust``, ``--offline`` and ``--refresh``, and ``certvc serve``'s choice of app.

Status lists come from a real HTTP server on 127.0.0.1, allow-listed through the environment
(``CERTVC_ALLOW_ORIGINS``, ``CERTVC_DEV_MODE``) as an operator would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree

from contexts.errors import InputError
from issuer.cli import main
from issuer.cli.serve_cmd import find_factory, serve_environment
from verifier import qr
from verifier.qr_image import read_qr_texts

from .world import closed_port, credential, new_pair, resigned, serve_lists, status_server

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
    verified = runner.invoke(main, ["verify", "--trust-any", "--json", str(png)])
    assert verified.exit_code == 0, verified.output
    result = json.loads(verified.stdout)
    assert result["verdict"] == "VALID"
    assert next(c for c in result["checks"] if c["check"] == "status")["status"] == "passed"
    assert "--trust-any: any issuer is accepted" in verified.stderr


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
    root = etree.fromstring(svg.read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    side = int(root.get("viewBox").split()[2])  # 30 mm printed, the quiet zone around it
    assert float(root.get("width").removesuffix("mm")) == pytest.approx(30 * side / (side - 8))
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
    assert runner.invoke(main, ["verify", "--trust-any", text]).exit_code == 0
    done = runner.invoke(main, ["verify", "--trust-any", "-"], input=text)
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
    """Every status answer says where its list came from and how old it is."""
    trusted = _write(
        tmp_path,
        "trust.json",
        {"certvcTrustList": 1, "bodies": [{"did": body.public_key.did_key, "name": "Body"}]},
    )

    def verify(*args: str) -> Any:
        return runner.invoke(main, ["verify", "--trust", str(trusted), *args, str(signed)], env=env)

    with status_server() as server:
        serve_lists(server, body, ttl_ms=600_000)
        signed = _write(tmp_path, "c.json", credential(body, server.url))
        env = {"CERTVC_ALLOW_ORIGINS": server.url}
        offline_first = verify("--json", "--offline")
        assert offline_first.exit_code == 1
        assert json.loads(offline_first.stdout)["verdict"] == "STATUS_UNAVAILABLE"
        live = verify("--json")
        assert live.exit_code == 0 and json.loads(live.stdout)["status"]["source"] == "live"
        serve_lists(server, body, revoked=True, ttl_ms=600_000)
        cached = verify()
        assert cached.exit_code == 0  # the cached list, within its ttl, and it says so
        assert "status from a cache list fetched" in cached.stdout
        refreshed = verify("--json", "--refresh")
        assert json.loads(refreshed.stdout)["verdict"] == "REVOKED"
        assert json.loads(refreshed.stdout)["status"]["source"] == "live"
    # the server is gone: the disk cache still answers offline (the revoked list, now cached)
    offline = verify("--json", "--offline")
    report = json.loads(offline.stdout)
    assert report["verdict"] == "REVOKED" and report["status"]["source"] == "offline-cache"
    assert "offline: from a cached list fetched" in offline.stderr
    both = runner.invoke(main, ["verify", "--trust-any", "--offline", "--refresh", str(signed)])
    assert both.exit_code == 2 and both.stdout == ""


def test_without_a_trust_list_no_issuer_is_vouched_for(runner, tmp_path, body) -> None:
    """A correct signature by an unknown key is not a valid certificate: UNTRUSTED_ISSUER
    unless the operator opts out (--trust-any or CERTVC_VERIFIER_TRUST_ANY, development)."""
    signed = _write(
        tmp_path, "c.json", resigned(credential(body, "https://x.example"), body, keep_status=False)
    )
    done = runner.invoke(main, ["verify", "--json", str(signed)])
    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert report["verdict"] == "UNTRUSTED_ISSUER" and report["verified"] is False
    trust = next(c for c in report["checks"] if c["check"] == "trust")
    assert trust["code"] == "issuer_not_trusted" and body.public_key.did_key in trust["message"]
    assert "--trust FILE" in done.stderr
    opted_out = runner.invoke(main, ["verify", "--trust-any", str(signed)])
    assert opted_out.exit_code == 0 and opted_out.stdout.startswith("VALID")
    assert "--trust-any: any issuer is accepted" in opted_out.stderr
    by_env = runner.invoke(main, ["verify", str(signed)], env={"CERTVC_VERIFIER_TRUST_ANY": "true"})
    assert by_env.exit_code == 0


def test_an_issuer_that_cannot_be_reached_is_not_called_forged(runner, tmp_path, body) -> None:
    """did:web document unreachable (nothing listens there): ISSUER_UNAVAILABLE, exit 1."""
    port = closed_port()
    did = f"did:web:localhost%3A{port}"
    signed = resigned(
        credential(body, "https://x.example"),
        body,
        issuer=did,
        method=f"{did}#key-1",
        keep_status=False,
    )
    path = _write(tmp_path, "c.json", signed)
    env = {"CERTVC_ALLOW_ORIGINS": f"https://localhost:{port}"}
    done = runner.invoke(main, ["verify", "--json", str(path)], env=env)
    assert done.exit_code == 1
    report = json.loads(done.stdout)
    assert report["verdict"] == "ISSUER_UNAVAILABLE"
    proof = next(c for c in report["checks"] if c["check"] == "proof")
    assert proof["code"] == "did_unavailable" and "fetch_failed" in proof["message"]


def test_verify_unreadable_image_exits_2(runner, tmp_path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    done = runner.invoke(main, ["verify", "--trust-any", str(path)])
    assert done.exit_code == 2 and "image_unsupported" in done.stderr


def test_serve_finds_the_verifier_and_its_environment() -> None:
    name, factory = find_factory()
    assert name == "issuer" and factory.__module__ == "issuer.app"
    assert find_factory("verifier")[1].__module__ == "verifier.app"
    with pytest.raises(InputError):
        find_factory("nothing")
    env = serve_environment({}, "127.0.0.1", 5000, tls=False)
    assert env == {"CERTVC_PUBLIC_URL": "http://127.0.0.1:5000", "CERTVC_DEV_MODE": "true"}
    tls = serve_environment({}, "0.0.0.0", 8443, tls=True)
    assert tls == {"CERTVC_PUBLIC_URL": "https://0.0.0.0:8443"}
    kept = serve_environment({"CERTVC_PUBLIC_URL": "https://v.example"}, "127.0.0.1", 1, tls=True)
    assert kept["CERTVC_PUBLIC_URL"] == "https://v.example"
    # an issuer keeps its instance's public URL wherever it listens: one instance, one origin
    issuer = serve_environment({}, "127.0.0.1", 8470, tls=False, app="issuer")
    assert issuer == {"CERTVC_DEV_MODE": "true"}


def test_serve_rejects_half_a_tls_pair(tmp_path) -> None:
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    done = CliRunner().invoke(main, ["serve", "--tls-cert", str(cert)])
    assert done.exit_code == 2 and "go together" in done.stderr
