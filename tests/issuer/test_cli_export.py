"""``certvc export``, ``certvc offer`` and ``certvc public-page`` as scripts use them: files
with the API's content, JSON output, exit codes and one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from issuer.cli import main
from issuer.cli.wallet_cmd import export, offer, public_page_command
from keys.suites import vc_jwt
from verifier import qr
from wallet_export.badge import unbake_png, unbake_svg
from wallet_export.oid4vci import PRE_AUTHORIZED_GRANT

from .test_wallet_export import CERTIFY, MEDIA, _decode_png, _decode_svg

EXPORT_COMMANDS = {"export": export, "offer": offer, "public-page": public_page_command}
cli = main


def run(env, *args: str, code: int = 0):
    result = CliRunner().invoke(
        cli,
        [args[0], "--instance", str(env.folder), *args[1:]],
        env={"CERTVC_DATABASE_URL": env.url},
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def _certify(app_env) -> dict:
    reply = app_env.client.post(
        "/api/v1/certifications", json=CERTIFY, headers=app_env.auth("issue")
    )
    assert reply.status_code == 201
    return reply.json


def test_the_commands_are_the_issue_s_interface() -> None:
    options = {o.name: o for o in export.params}
    assert set(options["form"].type.choices) == set(MEDIA)
    assert set(options["paper"].type.choices) == {"a4", "letter"}
    assert set(options["mode"].type.choices) == {"embed", "link"}


def test_export_writes_every_format(app_env, tmp_path: Path) -> None:
    created = _certify(app_env)
    number = created["certification"]["number"]
    signed = created["verifiableCredential"]
    files = {}
    for form, (media_type, suffix) in MEDIA.items():
        out = tmp_path / f"out{suffix}"
        printed = json.loads(
            run(app_env, "export", number, "--format", form, "--out", str(out), "--json").stdout
        )
        assert printed["mediaType"] == media_type and printed["filename"] == f"{number}{suffix}"
        assert printed["credentialId"] == signed["id"] and printed["bytes"] == out.stat().st_size
        files[form] = out.read_bytes()
    assert files["pdf"].startswith(b"%PDF-") and json.loads(files["json"]) == signed
    assert (
        json.loads(unbake_png(files["badge-png"]))
        == json.loads(unbake_svg(files["badge-svg"]))
        == signed
    )
    for text in (_decode_png(files["qr-png"]), _decode_svg(files["qr-svg"])):
        assert json.loads(qr.decode_payload(text).unverified_text) == signed
    assert vc_jwt.parse(files["jwt"].decode()).unverified_payload["id"] == signed["id"]
    # by credential id, with the text output: the path
    out = tmp_path / "by-id.json"
    assert run(
        app_env, "export", signed["id"], "--format", "json", "--out", str(out)
    ).stdout.strip() == str(out)


def test_export_and_offer_errors_are_one_line(app_env, tmp_path: Path) -> None:
    number = _certify(app_env)["certification"]["number"]
    out = str(tmp_path / "x.png")
    cases = [
        (("export", "NO-SUCH-1", "--format", "pdf", "--out", out), "not_found"),
        (("export", number, "--format", "qr-png", "--mode", "link", "--out", out), "field_invalid"),
        (("offer", number), "instance_not_ready"),  # http instance: no OpenID4VCI
        (("public-page", number, "--on", "--reason", " "), "reason_required"),
    ]
    for args, code in cases:
        stderr = run(app_env, *args, code=2).stderr
        assert stderr.startswith(f"certvc: error: {code}: ") and stderr.count("\n") == 1
        assert "Traceback" not in stderr
    assert not Path(out).exists()


def test_offer_prints_the_link_and_the_code_apart(https_app_env) -> None:
    number = _certify(https_app_env)["certification"]["number"]
    plain = run(https_app_env, "offer", number, "--tx-code")
    assert re.fullmatch(r"openid-credential-offer://\?credential_offer=\S+\n", plain.stdout)
    assert re.fullmatch(r"transaction code \(send it apart from the offer\): \d{6}\n", plain.stderr)
    printed = json.loads(run(https_app_env, "offer", number, "--by-reference", "--json").stdout)
    assert printed["link"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert printed["txCode"] is None and printed["offerUri"] in printed["link"].replace(
        "%3A", ":"
    ).replace("%2F", "/")
    assert PRE_AUTHORIZED_GRANT in printed["offer"]["grants"]
    assert (
        https_app_env.client.get(printed["offerUri"].split("certs.example-body.org", 1)[1]).json
        == printed["offer"]
    )


def test_public_page_on_and_off(app_env) -> None:
    created = _certify(app_env)
    number = created["certification"]["number"]
    on = json.loads(
        run(app_env, "public-page", number, "--on", "--reason", "consent", "--json").stdout
    )
    assert on == {
        "number": number,
        "publicPage": True,
        "url": created["verifiableCredential"]["id"],
    }
    off = run(app_env, "public-page", number, "--off", "--reason", "consent withdrawn")
    assert off.stdout.strip() == f"public page of {number} is off"
    assert (
        "already off"
        in run(app_env, "public-page", number, "--off", "--reason", "r", code=2).stderr
    )


def test_certvc_has_the_commands() -> None:
    """``certvc export``, ``offer`` and ``public-page`` are in the one command table."""
    for name in EXPORT_COMMANDS:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "CERTIFICATE_OR_CREDENTIAL_ID" in result.output
