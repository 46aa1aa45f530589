"""The issuer's commands as scripts use them: JSON output, exit codes, one-line errors."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from contexts.loader import default_store
from issuer.cli import COMMANDS
from issuer.cli import main as cli
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    return tmp_path / "instance"


def run(instance: Path, *args: str, code: int = 0, input: str | None = None) -> dict | str:
    result = CliRunner().invoke(cli, [*args[:1], *_split(args[1:], instance)], input=input)
    assert result.exit_code == code, (result.output, result.stderr)
    if code == 0 and "--json" in args:
        return json.loads(result.stdout)
    return result.stderr if code else result.stdout


def _split(rest: tuple[str, ...], instance: Path) -> list[str]:
    # sub-groups (tokens create, status publish ...) take the option after the subcommand
    if (
        rest
        and not rest[0].startswith("-")
        and rest[0] in {"create", "publish", "verify", "rotate"}
    ):
        return [rest[0], "--instance", str(instance), *rest[1:]]
    return ["--instance", str(instance), *rest]


def test_every_issuer_command_is_registered() -> None:
    assert {
        "init",
        "tokens",
        "users",
        "issue",
        "suspend",
        "reinstate",
        "withdraw",
        "renew",
        "reduce-scope",
        "import-csv",
        "status",
        "audit",
    } <= set(COMMANDS)
    keys = cli.get_command(click.Context(cli), "keys")
    assert isinstance(keys, click.Group)
    assert keys.list_commands(click.Context(keys)) == ["generate", "report", "rotate"]


def test_init_is_idempotent(instance: Path) -> None:
    first = run(instance, "init", "--dev", "--json")
    assert first["did"] == "did:web:localhost%3A8000"
    assert "database schema" in first["created"] and "demo scheme CWI-2" in first["created"]
    second = run(instance, "init", "--dev", "--json")
    assert second["created"] == [] and second["keys"] == first["keys"]
    assert (instance / "instance.json").stat().st_mode & 0o077 == 0


def test_init_without_a_passphrase_outside_dev_mode_is_refused(instance: Path) -> None:
    error = run(instance, "init", code=2)
    assert error.startswith("certvc: error: passphrase_required:")
    assert error.count("\n") == 1


def test_init_encrypts_keys_with_the_passphrase(instance: Path, monkeypatch) -> None:
    monkeypatch.setenv("CERTVC_KEY_PASSPHRASE", "a long test passphrase")
    report = run(instance, "init", "--no-demo", "--json")
    assert report["devMode"] is False
    key_files = list((instance / "keys").rglob("key-*.json"))
    assert key_files and all("ENCRYPTED PRIVATE KEY" in f.read_text() for f in key_files)
    monkeypatch.setenv("CERTVC_KEY_PASSPHRASE", "the wrong passphrase")
    error = run(instance, "init", code=2)
    assert "passphrase_wrong" in error


def test_lifecycle_commands_print_json_and_audit_verifies(instance: Path) -> None:
    run(instance, "init", "--dev")
    issued = run(
        instance,
        "issue",
        "CB-1",
        "--scheme",
        "CWI-2",
        "--scope",
        "steel",
        "--name",
        "Ada",
        "--reference",
        "P-1",
        "--reason",
        "committee",
        "--json",
    )
    assert issued["certification"]["number"] == "CB-1"
    credential = issued["verifiableCredential"]
    credential_id = credential["id"]
    assert run(instance, "suspend", "CB-1", "--reason", "audit", "--json")["state"] == "suspended"
    assert (
        run(instance, "reinstate", credential_id, "--reason", "ok", "--json")["state"] == "active"
    )
    renewed = run(instance, "renew", "CB-1", "--reason", "recert", "--json")
    assert len(renewed["credentials"]) == 2
    reduced = run(instance, "reduce-scope", "CB-1", "--scope", "less", "--reason", "r", "--json")
    assert reduced["scope"] == "less"
    assert run(instance, "withdraw", "CB-1", "--reason", "fraud", "--json")["state"] == "withdrawn"
    error = run(instance, "reinstate", "CB-1", "--reason", "again", code=2)
    assert error.startswith("certvc: error: transition_not_allowed:")
    assert run(instance, "audit", "verify", "--json")["ok"] is True


def test_lifecycle_errors_are_one_line_with_exit_2(instance: Path) -> None:
    run(instance, "init", "--dev")
    assert "not_found" in run(instance, "suspend", "NOPE", "--reason", "x", code=2)
    result = CliRunner().invoke(cli, ["suspend", "--instance", str(instance), "NOPE"])
    assert result.exit_code == 2 and "--reason" in result.output  # usage error
    assert "unknown_reference" in run(
        instance,
        "issue",
        "--scheme",
        "NOPE",
        "--scope",
        "s",
        "--name",
        "A",
        "--reason",
        "r",
        code=2,
    )
    assert "field_invalid" in run(
        instance,
        "issue",
        "--scheme",
        "CWI-2",
        "--scope",
        "s",
        "--name",
        "A",
        "--reason",
        "r",
        "--effective",
        "2026-13-01",
        code=2,
    )
    other = instance.parent / "elsewhere"
    assert "instance_not_ready" in run(other, "audit", "verify", code=2)


def test_tokens_create_prints_the_token_once(instance: Path) -> None:
    run(instance, "init", "--dev")
    created = run(instance, "tokens", "create", "--scope", "issue,status", "--name", "ci", "--json")
    assert created["scopes"] == ["issue", "status"] and created["token"].startswith("cvc_")
    stored = sqlite3.connect(instance / "certvc.db").execute("SELECT * FROM api_tokens").fetchall()
    assert created["token"] not in repr(stored)
    assert "field_invalid" in run(instance, "tokens", "create", "--scope", "root", code=2)


def test_users_create(instance: Path, tmp_path: Path) -> None:
    run(instance, "init", "--dev")
    password = tmp_path / "pw"
    password.write_text("a long enough password\n")
    done = run(
        instance,
        "users",
        "create",
        "olga",
        "--role",
        "officer",
        "--password-file",
        str(password),
        "--json",
    )
    assert done == {"username": "olga", "role": "officer"}
    prompted = run(
        instance, "users", "create", "ann", "--role", "auditor", input="short\nshort\n", code=2
    )
    assert "field_invalid" in prompted


def test_import_csv_reports_bad_rows(instance: Path, tmp_path: Path) -> None:
    run(instance, "init", "--dev")
    data = tmp_path / "people.csv"
    data.write_text("name,reference,scheme,scope\nAda,P-1,,\n,P-2,,\nGrace,P-3,CWI-2,steel\n")
    report = run(instance, "import-csv", str(data), "--reason", "import", "--json")
    assert (report["imported"], report["persons"], report["certifications"]) == (2, 2, 1)
    assert report["errors"] == [{"line": 3, "error": "name: is required"}]


def test_keys_rotate_keeps_old_credentials_verifiable(instance: Path) -> None:
    run(instance, "init", "--dev")
    issued = run(
        instance,
        "issue",
        "--scheme",
        "CWI-2",
        "--scope",
        "s",
        "--name",
        "A",
        "--reason",
        "r",
        "--json",
    )
    rotated = run(instance, "keys", "rotate", "--json")
    assert rotated["active"].endswith("#ed25519-2")
    out = instance.parent / "site"
    published = run(instance, "status", "publish", "--to", str(out), "--json")
    assert ".well-known/did.json" in published["files"]
    did_document = json.loads((out / ".well-known" / "did.json").read_text())
    old_method = issued["verifiableCredential"]["proof"]["verificationMethod"]
    assert old_method in did_document["assertionMethod"]  # retired, still listed
    assert rotated["active"] in did_document["authentication"]
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({did_document["id"]: did_document}),
        canonicalizer=FAST,
    )
    assert verify_credential(issued["verifiableCredential"], policy, now=datetime.now(UTC)).verified
    newer = run(
        instance,
        "issue",
        "--scheme",
        "CWI-2",
        "--scope",
        "s",
        "--name",
        "B",
        "--reason",
        "r",
        "--json",
    )
    assert newer["verifiableCredential"]["proof"]["verificationMethod"] == rotated["active"]
    status_files = sorted(p.name for p in (out / "status").iterdir())
    assert status_files == ["1", "2"]
    assert (
        json.loads((out / "status" / "1").read_text())["type"][1] == "BitstringStatusListCredential"
    )


def test_audit_verify_exits_1_on_a_broken_chain(instance: Path) -> None:
    run(instance, "init", "--dev")
    with sqlite3.connect(instance / "certvc.db") as connection:
        connection.execute("UPDATE audit_events SET reason = 'forged' WHERE seq = 1")
    report = CliRunner().invoke(cli, ["audit", "verify", "--instance", str(instance), "--json"])
    assert report.exit_code == 1
    assert json.loads(report.stdout)["ok"] is False
