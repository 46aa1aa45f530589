"""An instance whose keys live in a PKCS#11 token (SoftHSM2): ``certvc init --key-backend
pkcs11`` generates them inside the token, every suite signs through it, rotation and the key
report work as with key files, a CSV import signs in forked processes, and nothing secret is
ever written to the instance folder (issue 18, item 1).

In-process commands share the test run's token (the ``softhsm`` fixture); the bad-config tests
run ``certvc`` as a process, as an operator would, each with a token of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuer import db
from issuer.app import create_app
from issuer.cli import main as cli
from issuer.db.models import AuditEvent, IssuedCredential
from issuer.services import instance
from keys.errors import KeyCode, KeyMaterialError
from tests.support.softhsm import create_token

from .support import NOW, app_config, rewrite_audit_chain

URL = "https://certs.hsm-body.example"
SUITES = ("eddsa-rdfc-2022", "ecdsa-rdfc-2019", "vc+jwt")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path: Path) -> str:
    """SQLite: the token changes nothing in the database (the key index is in the instance
    folder), and the in-process commands leave their connections to the process's end, which
    PostgreSQL reports as unclosed (the tests of the services run on both)."""
    return f"sqlite:///{tmp_path / 'certvc.db'}"


class Cli:
    """``certvc`` in this process, on one instance, with the token's PIN in the environment."""

    def __init__(self, folder: Path, database: str, pin: str) -> None:
        self.env = {
            "CERTVC_INSTANCE": str(folder),
            "CERTVC_DATABASE_URL": database,
            "CERTVC_PKCS11_PIN": pin,
        }

    def __call__(self, *args: str, code: int = 0) -> Any:
        done = CliRunner().invoke(cli, list(args), env=self.env)
        assert done.exit_code == code, (args, done.output, done.stderr)
        return json.loads(done.stdout) if code == 0 and "--json" in args else done.stderr


def _hsm_instance(softhsm: Any, folder: Path, database: str) -> Cli:
    run = Cli(folder, database, softhsm.pin)
    report = run("init", "--no-demo", "--public-url", URL, *softhsm.init_args(), "--json")
    assert report["keyBackend"] == {
        "type": "pkcs11",
        "module": softhsm.module,
        "token": softhsm.token,
    }
    for suite in SUITES:
        run(
            "schemes",
            "create",
            "--code",
            f"S-{suite.split('-')[0].replace('+', '')}",
            "--name",
            f"Scheme secured with {suite}",
            "--criteria",
            "Passed",
            "--standard",
            "ISO 9712:2021",
            "--validity-days",
            "365",
            "--suite",
            suite,
            "--reason",
            "scheme for the HSM test",
        )
    return run


def _issue(run: Cli, suite: str, name: str) -> dict[str, Any]:
    return run(
        "issue",
        "--scheme",
        f"S-{suite.split('-')[0].replace('+', '')}",
        "--scope",
        "inspection",
        "--name",
        name,
        "--reason",
        "examination passed",
        "--json",
    )


def _no_secret_on_disk(folder: Path) -> None:
    """The instance folder holds no private key: its key stores are indexes naming CKA_IDs,
    and the audit MAC key's record names its HMAC key in the token the same way."""
    for path in (folder / "keys").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            if path.name == "audit-mac-pkcs11.json":
                record = json.loads(path.read_text())
                assert set(record) == {"id", "type", "reference", "created"}, record
                assert record["reference"].startswith("pkcs11:")
                continue
            assert path.name == "keystore.json", path
            for record in json.loads(path.read_text())["keys"]:
                assert record["file"].startswith("pkcs11:")
    assert "PRIVATE KEY" not in "".join(
        p.read_text(errors="replace") for p in folder.rglob("*.json")
    )


def test_an_hsm_instance_signs_every_suite_rotates_and_reports(
    softhsm: Any, database: str, tmp_path: Path
) -> None:
    folder = tmp_path / "instance"
    run = _hsm_instance(softhsm, folder, database)
    _no_secret_on_disk(folder)
    settings = instance.read_settings(folder)
    assert settings.key_backend is not None and settings.key_backend.token == softhsm.token

    before = {suite: _issue(run, suite, f"Before {suite}") for suite in SUITES}
    rotated = [
        run("keys", "rotate", "--type", key_type, "--reason", "rotation test", "--json")
        for key_type in ("ed25519", "p-256")
    ]
    assert [r["active"] for r in rotated] == [
        f"{settings.did}#ed25519-2",
        f"{settings.did}#p-256-2",
    ]
    after = {suite: _issue(run, suite, f"After {suite}") for suite in SUITES}
    _no_secret_on_disk(folder)

    app = create_app(app_config(folder, database, PKCS11_PIN=softhsm.pin))
    try:
        client = app.test_client()
        did_document = client.get("/.well-known/did.json").json
        methods = [m["id"] for m in did_document["verificationMethod"]]
        assert methods == [
            f"{settings.did}#{k}" for k in ("ed25519-1", "ed25519-2", "p-256-1", "p-256-2")
        ]
        for issued in (*before.values(), *after.values()):
            sent = issued["verifiableCredential"]
            if isinstance(sent, str):  # vc+jwt: the compact JWS
                reply = client.post("/api/v1/verify", data=sent, content_type="application/vc+jwt")
            else:
                reply = client.post("/api/v1/verify", json=sent)
            assert reply.status_code == 200, reply.data[:300]
            assert reply.json["verdict"] == "VALID", reply.json
        signed_by = {
            suite: issued["verifiableCredential"]
            for suite, issued in after.items()
            if isinstance(issued["verifiableCredential"], dict)
        }
        assert signed_by["eddsa-rdfc-2022"]["proof"]["verificationMethod"].endswith("#ed25519-2")
        assert signed_by["ecdsa-rdfc-2019"]["proof"]["verificationMethod"].endswith("#p-256-2")
    finally:
        app.extensions["certvc.db"].engine.dispose()

    report = run("keys", "report", "--json")
    by_key = {entry["keyId"].split("#")[1]: entry for entry in report["keys"]}
    assert {k: v["status"] for k, v in by_key.items()} == {
        "ed25519-1": "retired",
        "ed25519-2": "active",
        "p-256-1": "retired",
        "p-256-2": "active",
    }
    assert by_key["p-256-1"]["credentials"]["total"] == 1
    assert by_key["p-256-2"]["credentials"]["total"] == 1


def test_an_hsm_instance_macs_its_audit_events_in_the_token(
    softhsm: Any, database: str, tmp_path: Path
) -> None:
    """With the keys in a token, the audit MAC key is an HMAC key in the token (issue 16,
    finding 1): every event carries a MAC made there, ``certvc audit verify`` with the PIN
    checks them and names the event a database writer edited and rehashed; without the PIN it
    says the MACs went unchecked."""
    folder = tmp_path / "instance"
    run = _hsm_instance(softhsm, folder, database)
    _issue(run, "eddsa-rdfc-2022", "Audited Person")
    assert not (folder / "keys" / "audit-mac.json").exists()  # no key file: the token holds it
    engine = db.make_engine(database)
    try:
        with engine.connect() as connection:
            macs = connection.execute(select(AuditEvent.seq, AuditEvent.mac)).all()
        assert len(macs) >= 5 and all(mac and len(mac) == 64 for _, mac in macs), macs
        checked = run("audit", "verify", "--json")
        assert checked["ok"] is True and checked["macChecked"] is True, checked
        assert checked["macFrom"] == 1

        # The app opens the same key at start and its events carry MACs too.
        app = create_app(app_config(folder, database, PKCS11_PIN=softhsm.pin))
        try:
            assert app.extensions["certvc.issuer"].keyring.audit_key().load() is not None
        finally:
            app.extensions["certvc.db"].engine.dispose()

        def edit(rows: list[dict[str, Any]]) -> None:
            rows[2]["reason"] = "nothing happened"

        rewrite_audit_chain(engine, edit)
    finally:
        engine.dispose()
    broken = CliRunner().invoke(cli, ["audit", "verify", "--json"], env=run.env)
    assert broken.exit_code == 1, broken.output
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["brokenAt"] == 3, report
    assert "MAC does not match" in report["message"]
    # Without the PIN the token computes nothing: the rehashed chain looks intact, and the
    # report says why the MACs were not checked.
    unchecked = CliRunner().invoke(
        cli, ["audit", "verify", "--json"], env={**run.env, "CERTVC_PKCS11_PIN": ""}
    )
    assert unchecked.exit_code == 0, unchecked.output
    report = json.loads(unchecked.stdout)
    assert report["macChecked"] is False and "give the token's PIN" in report["message"]


def test_a_csv_import_signs_in_forked_processes_through_the_token(
    softhsm: Any, tmp_path: Path
) -> None:
    """``import-csv --jobs 2``: each signing process opens the token anew (PKCS#11 sessions do
    not cross fork), and what they sign verifies."""
    folder = tmp_path / "instance"
    database = f"sqlite:///{folder / 'certvc.db'}"
    run = _hsm_instance(softhsm, folder, database)
    rows = ["name,reference,scheme,scope"] + [
        f"Person {n},ref-{n},S-{'ecdsa' if n % 2 else 'eddsa'},inspection" for n in range(12)
    ]
    data = tmp_path / "people.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = run("import-csv", str(data), "--jobs", "2", "--reason", "bulk import", "--json")
    assert report["imported"] == 12, json.dumps(report)[:3000]
    app = create_app(app_config(folder, database, PKCS11_PIN=softhsm.pin))
    try:
        client = app.test_client()
        with app.extensions["certvc.db"].reader() as session:
            rows = session.execute(select(IssuedCredential.key_id, IssuedCredential.document)).all()
        assert len(rows) == 12
        assert {key_id.split("#")[1] for key_id, _ in rows} == {"ed25519-1", "p-256-1"}
        for _, document in rows:
            reply = client.post("/api/v1/verify", json=json.loads(document))
            assert reply.json["verdict"] == "VALID", reply.json
    finally:
        app.extensions["certvc.db"].engine.dispose()


def test_init_cannot_switch_an_instance_to_another_key_backend(
    softhsm: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "instance"
    run = Cli(folder, "", softhsm.pin)
    run("init", "--dev", "--no-demo")
    error = run("init", *softhsm.init_args(), code=2)
    assert "instance_not_ready" in error and "key backend cannot change" in error
    assert run("init", "--key-backend", "pkcs11", code=2).count("\n") == 1  # no module/token
    assert "go with --key-backend pkcs11" in run("init", "--pkcs11-token", "x", code=2)


def test_the_app_refuses_to_start_without_a_usable_token(softhsm: Any, tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    database = f"sqlite:///{folder / 'certvc.db'}"
    _hsm_instance(softhsm, folder, database)
    with pytest.raises(KeyMaterialError) as caught:
        create_app(app_config(folder, database))  # no PIN
    assert caught.value.code is KeyCode.PKCS11_PIN_REQUIRED


# --- bad configuration: one line, a stable code, exit 2 (a process, as an operator runs it) ---


def _certvc(
    args: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "issuer", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def _one_line(done: subprocess.CompletedProcess[str], code: str) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"certvc: error: {code}: "), lines[0]
    return lines[0]


@pytest.fixture
def own_token(tmp_path: Path) -> Any:
    from tests.support.softhsm import available

    if not available():
        if os.environ.get("CI"):
            pytest.fail("SoftHSM2 is not installed (.ci/run installs softhsm2)")
        pytest.skip("SoftHSM2 is not installed")
    return create_token(tmp_path / "hsm", "certvc-own")


def test_bad_configuration_is_one_line_at_init(own_token: Any, tmp_path: Path) -> None:
    env = {**own_token.env(pin=False), "CERTVC_INSTANCE": str(tmp_path / "i")}
    args = ["init", "--no-demo", *own_token.init_args()]
    cases = [
        ({"CERTVC_PKCS11_PIN": "000000"}, args, "pkcs11_pin_wrong"),
        ({}, args, "pkcs11_pin_required"),
        (
            {"CERTVC_PKCS11_PIN": own_token.pin},
            [
                "init",
                "--no-demo",
                "--key-backend",
                "pkcs11",
                "--pkcs11-module",
                str(tmp_path / "missing.so"),
                "--pkcs11-token",
                own_token.token,
            ],
            "pkcs11_module_missing",
        ),
        (
            {"CERTVC_PKCS11_PIN": own_token.pin},
            [*args[:-1], "no-such-token"],
            "pkcs11_token_absent",
        ),
    ]
    for extra, command, code in cases:
        line = _one_line(_certvc(command, {**env, **extra}), code)
        assert own_token.pin not in line and "000000" not in line
    assert not (tmp_path / "i" / "instance.json").exists()  # nothing half-made


def test_bad_configuration_is_one_line_when_a_command_or_the_server_starts(
    own_token: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "i"
    env = {**own_token.env(), "CERTVC_INSTANCE": str(folder)}
    done = _certvc(["init", "--no-demo", *own_token.init_args()], env)
    assert done.returncode == 0, done.stderr
    issue = ["issue", "--scheme", "X", "--scope", "s", "--name", "N", "--reason", "r"]
    serve = ["serve", "--port", "1"]  # never reached: the app is built first
    settings = json.loads((folder / "instance.json").read_text())
    for command in (issue, serve):
        _one_line(_certvc(command, {**env, "CERTVC_PKCS11_PIN": "000000"}), "pkcs11_pin_wrong")
    _one_line(_certvc(issue, {**env, "CERTVC_PKCS11_PIN": ""}), "pkcs11_pin_required")
    _one_line(
        _certvc(issue, {**env, "SOFTHSM2_CONF": str(tmp_path / "elsewhere.conf")}),
        "pkcs11_module_missing",  # the module cannot initialise without its configuration
    )
    # The token unplugged: another token directory, where no token has this label.
    other = create_token(tmp_path / "other", "another-token")
    for command in (issue, serve):
        _one_line(_certvc(command, {**env, **other.env(pin=False)}), "pkcs11_token_absent")
    # The module gone (uninstalled, or a path that changed).
    settings["keyBackend"]["module"] = str(tmp_path / "gone.so")
    (folder / "instance.json").write_text(json.dumps(settings))
    _one_line(_certvc(serve, env), "pkcs11_module_missing")


def test_a_key_gone_from_the_token_mid_run_is_a_503_and_nothing_is_recorded(
    softhsm: Any, tmp_path: Path
) -> None:
    """The server signed with the key, then the key left the token: the next certification is
    refused with the token's code (503: the server's state, not the request), and nothing of
    it is written."""
    import pkcs11
    from pkcs11 import ObjectClass
    from pkcs11 import exceptions as p11

    from issuer.db.models import Certification, Scope
    from issuer.services import accounts

    folder = tmp_path / "instance"
    database = f"sqlite:///{folder / 'certvc.db'}"
    run = _hsm_instance(softhsm, folder, database)
    _issue(run, "ecdsa-rdfc-2019", "First")
    app = create_app(app_config(folder, database, PKCS11_PIN=softhsm.pin))
    try:
        factory = app.extensions["certvc.db"].writer
        with factory() as session, session.begin():
            _, token = accounts.create_token(
                session, name="t", scopes=frozenset({Scope.ISSUE}), actor="t", now=NOW
            )
        client = app.test_client()
        body = {
            "person": {"name": "Second"},
            "scheme": "S-ecdsa",
            "scope": "inspection",
            "reason": "examination passed",
        }
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/api/v1/certifications", json=body, headers=headers).status_code in (
            200,
            201,
        )
        record = json.loads((folder / "keys" / "p-256" / "keystore.json").read_text())["keys"][0]
        lib = pkcs11.lib(softhsm.module)
        try:
            session = lib.get_token(token_label=softhsm.token).open(rw=True, user_pin=softhsm.pin)
        except p11.UserAlreadyLoggedIn:
            session = lib.get_token(token_label=softhsm.token).open(rw=True)
        cka_id = bytes.fromhex(record["file"].removeprefix("pkcs11:"))
        session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=cka_id).destroy()

        body["person"] = {"name": "Third"}
        reply = client.post("/api/v1/certifications", json=body, headers=headers)
        assert reply.status_code == 503, reply.data[:300]
        assert reply.json["error"]["code"] in ("pkcs11_error", "key_not_found"), reply.json
        with app.extensions["certvc.db"].reader() as session:
            assert len(session.execute(select(Certification.id)).all()) == 2  # First, Second
    finally:
        app.extensions["certvc.db"].engine.dispose()
