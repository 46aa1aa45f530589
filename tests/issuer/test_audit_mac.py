"""The audit chain is keyed: each event carries an HMAC-SHA-256 of its hash with a key that lives
in the key store, not the database (issue 16, finding 1). An attacker with database access who
edits a row and recomputes the chain with certvc's own ``event_hash`` is caught, on SQLite and
PostgreSQL; the signed checkpoints are published at ``GET /audit/checkpoints``."""

from __future__ import annotations

import json
import os
import pickle
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from issuer import db
from issuer.cli import main as cli
from issuer.db.models import Action, AuditEvent, AuditHead
from issuer.services import audit, audit_checkpoints, audit_mac, instance
from keys.errors import KeyCode, KeyMaterialError
from keys.keystore import ScryptParams

from .support import BACKENDS, NOW, context, init, rewrite_audit_chain

FAST = ScryptParams(n=2**10)  # tests only: the default cost takes most of a second
Row = dict[str, Any]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """This module runs on every backend (the attacks are SQL on the engine)."""
    return request.param


def _append(env: Any, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        env.write(
            lambda s, n=number: audit.record(
                s, action=Action.SUSPEND, actor="t", subject=f"S-{n}", reason=f"r{n}", now=NOW
            )
        )


def _key(env: Any) -> audit_mac.MacKey:
    key = env.ctx.keyring.audit_key().load()
    assert key is not None
    return key


def _verify(env: Any, key: audit_mac.MacKey | None) -> audit.ChainReport:
    with env.read() as session:
        return audit.verify_chain(session, mac_key=key)


def _cli_verify(env: Any, *extra: str, **variables: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli,
        ["audit", "verify", "--instance", str(env.folder), "--json", *extra],
        env={"CERTVC_DATABASE_URL": env.url, **variables},
    )
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def _recompute(env: Any, change: Callable[[list[Row]], None]) -> None:
    """The attacker: edit the events and recompute the chain (:func:`rewrite_audit_chain`)."""
    rewrite_audit_chain(env.engine, change)


def _head_seq(env: Any) -> int:
    with env.read() as session:
        return session.get(AuditHead, 1).seq


def _edit_reason(rows: list[Row]) -> None:
    rows[2]["reason"] = "nothing happened"


def test_every_event_carries_a_mac_from_init_on(env) -> None:
    _append(env, 3)
    key = _key(env)
    assert key.from_seq == 1
    with env.read() as session:
        events = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
    assert len(events) == _head_seq(env) > 3 and events[0].action is Action.INIT
    assert all(e.mac == key.mac(e.hash) for e in events)
    report = _verify(env, key)
    assert report.ok and report.mac_checked and report.mac_from == 1
    code, data = _cli_verify(env)
    assert code == 0 and data["macChecked"] and data["macFrom"] == 1


def test_an_edited_row_with_a_recomputed_chain_is_caught_by_its_mac(env) -> None:
    """The attack of issue 16: it fooled the plain hash chain, it does not fool the MAC."""
    _append(env, 5)
    _recompute(env, _edit_reason)
    assert _verify(env, None).ok  # the plain chain is fooled: every hash recomputed
    report = _verify(env, _key(env))
    assert not report.ok and report.broken_at == 3
    assert "MAC does not match" in report.message
    code, data = _cli_verify(env)
    assert code == 1 and data["brokenAt"] == 3 and data["macChecked"]


def test_a_rewritten_event_without_its_mac_is_caught(env) -> None:
    """Removing the MACs of the rewritten events (as if written before the key) is no way out:
    from the key's first event on, every event must have one."""
    _append(env, 5)

    def edit_and_drop_macs(rows: list[Row]) -> None:
        _edit_reason(rows)
        for row in rows:
            row["mac"] = None

    _recompute(env, edit_and_drop_macs)
    report = _verify(env, _key(env))
    assert not report.ok and report.broken_at == 1 and "has no MAC" in report.message


def test_a_mac_copied_from_another_event_does_not_hold(env) -> None:
    _append(env, 4)

    def edit_and_copy(rows: list[Row]) -> None:
        _edit_reason(rows)
        rows[2]["mac"], rows[3]["mac"] = rows[3]["mac"], rows[2]["mac"]

    _recompute(env, edit_and_copy)
    report = _verify(env, _key(env))
    assert not report.ok and report.broken_at == 3


def test_a_writer_not_bound_to_the_key_is_noticed(env) -> None:
    """A process that appends without the key (none of certvc's does) leaves an event without
    a MAC, which the verification names."""
    _append(env, 1)
    with db.session_factory(env.engine)() as session, session.begin():
        event = audit.record(
            session, action=Action.SUSPEND, actor="t", subject="S", reason="r", now=NOW
        )
    report = _verify(env, _key(env))
    assert not report.ok and report.broken_at == event.seq and "has no MAC" in report.message


def _as_before_the_key(env: Any) -> Any:
    """The instance as it was before it had a MAC key: no key file, events without MACs (as
    migration 0014 leaves them); returns a fresh context (no key cached)."""
    env.ctx.keyring.audit_key().path.unlink()
    with env.engine.begin() as connection:
        connection.execute(update(AuditEvent.__table__).values(mac=None))
    return context(env.folder)


def test_an_instance_older_than_the_key_gets_one_at_its_next_event(env) -> None:
    _append(env, 3)
    env.ctx = _as_before_the_key(env)
    env.factory = audit.bind_mac_key(db.session_factory(env.engine), env.ctx.keyring.audit_key())
    assert _verify(env, None).ok
    old = _head_seq(env)
    _append(env, 2, start=3)  # the first of these makes the key: it covers them both
    key = _key(env)
    assert key.from_seq == old + 1
    with env.read() as session:
        macs = dict(session.execute(select(AuditEvent.seq, AuditEvent.mac)).all())
    assert [seq for seq, mac in sorted(macs.items()) if mac] == [old + 1, old + 2]
    assert _verify(env, key).ok

    # Rewriting an old event (no MAC of its own) changes every later hash, event 5's too.
    def edit_old(rows: list[Row]) -> None:
        rows[1]["reason"] = "rewritten"

    _recompute(env, edit_old)
    report = _verify(env, key)
    assert not report.ok and report.broken_at == old + 1
    assert "MAC does not match" in report.message


def test_truncating_below_the_keys_first_event_is_caught(env) -> None:
    _append(env, 3)
    env.ctx = _as_before_the_key(env)
    env.factory = audit.bind_mac_key(db.session_factory(env.engine), env.ctx.keyring.audit_key())
    _append(env, 2, start=3)
    key = _key(env)
    keep = key.from_seq - 2  # the log had reached from_seq - 1 when the key was made
    with env.engine.begin() as connection:  # drop the events after keep, move the head back
        table = AuditEvent.__table__
        connection.execute(table.delete().where(table.c.seq > keep))
        digest = connection.execute(select(table.c.hash).where(table.c.seq == keep)).scalar_one()
        connection.execute(update(AuditHead.__table__).values(seq=keep, hash=digest))
    assert _verify(env, None).ok
    report = _verify(env, key)
    assert not report.ok and "when its MAC key was made" in report.message


def test_changing_the_keys_first_event_in_its_file_changes_the_key(env) -> None:
    """The first event a key covers is part of its derivation: moving it past the end of the log
    (to pass off later events as older than the key) makes every MAC fail instead."""
    _append(env, 2)
    path = env.ctx.keyring.audit_key().path
    document = json.loads(path.read_text())
    document["id"] = f"{audit_mac.KEY_ID_PREFIX}99"
    path.write_text(json.dumps(document))
    key = context(env.folder).keyring.audit_key().load()
    assert key is not None and key.from_seq == 99
    report = _verify(env, key)
    assert not report.ok and report.broken_at == 1 and "MAC does not match" in report.message


def test_init_makes_the_key_once(tmp_path: Path) -> None:
    url = db.sqlite_url(tmp_path / "instance")
    (tmp_path / "instance").mkdir()
    first = init(tmp_path / "instance", url)
    assert "audit MAC key" in first.created
    again = init(tmp_path / "instance", url)
    assert "audit MAC key" not in again.created
    path = tmp_path / "instance" / instance.KEYS_DIR / audit_mac.FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_key_is_encrypted_with_the_passphrase_and_never_shown(tmp_path: Path) -> None:
    path = tmp_path / audit_mac.FILE_NAME
    made = audit_mac.AuditKeyFile(path, b"right", allow_plaintext=False, now=NOW, kdf=FAST)
    key = made.key(7)
    document = json.loads(path.read_text())
    assert document["encrypted"] is True
    assert document["privateKeyPem"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = audit_mac.AuditKeyFile(path, b"right", allow_plaintext=False, now=NOW).load()
    assert again is not None and again.from_seq == 7 and again.mac("a" * 64) == key.mac("a" * 64)
    assert made.key(99).from_seq == 7  # an existing key is never replaced
    for passphrase, code in ((b"wrong", KeyCode.PASSPHRASE_WRONG), (None, None)):
        with pytest.raises(KeyMaterialError) as caught:
            audit_mac.AuditKeyFile(path, passphrase, allow_plaintext=False, now=NOW).load()
        assert code is None or caught.value.code == code
    secret = key._secret  # the test looks for it where it must not be
    assert secret.hex() not in repr(key) and repr(key) == "MacKey(from_seq=7)"
    with pytest.raises(TypeError):
        pickle.dumps(key)
    # Creating one without the passphrase outside development mode is refused.
    with pytest.raises(KeyMaterialError) as caught:
        audit_mac.AuditKeyFile(tmp_path / "other.json", None, allow_plaintext=False, now=NOW).key(1)
    assert caught.value.code == KeyCode.PASSPHRASE_REQUIRED


def _production_instance(folder: Path, url: str) -> None:
    engine = db.make_engine(url)
    try:
        instance.init_instance(
            folder,
            engine=engine,
            database=url,
            public_url="https://certs.example.org",
            dev_mode=False,
            passphrase=b"correct horse",
            now=NOW,
            kdf=FAST,
        )
    finally:
        engine.dispose()


def test_a_production_instance_needs_the_passphrase_to_append_and_to_check_macs(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "instance"
    _production_instance(folder, url=database_url)
    env = type("Opened", (), {"folder": folder, "url": database_url})()
    users = ["users", "create", "--instance", str(folder), "clerk", "--role", "officer"]
    users += ["--generate-password", "--reason", "new clerk"]
    runner = CliRunner()
    refused = runner.invoke(cli, users, env={"CERTVC_DATABASE_URL": database_url})
    assert refused.exit_code == 2 and "passphrase_required" in refused.stderr
    with_passphrase = {
        "CERTVC_DATABASE_URL": database_url,
        "CERTVC_KEY_PASSPHRASE": "correct horse",
    }
    made = runner.invoke(cli, users, env=with_passphrase)
    assert made.exit_code == 0, made.output
    code, data = _cli_verify(env)
    assert code == 0 and not data["macChecked"] and "MACs not checked" in data["message"]
    code, data = _cli_verify(env, CERTVC_KEY_PASSPHRASE="correct horse")
    assert code == 0 and data["macChecked"] and data["macFrom"] == 1, data


# --- GET /audit/checkpoints -------------------------------------------------------------------


def test_the_checkpoints_are_published_for_anyone_to_keep(app_env) -> None:
    made = []
    for number in range(3):
        _append(app_env, 1, start=number)
        made.append(
            app_env.write(
                lambda s: audit_checkpoints.checkpoint(
                    s, app_env.ctx.keyring, app_env.folder, now=NOW
                )
            )
        )
    client = app_env.app.test_client()
    answer = client.get("/audit/checkpoints")
    assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == "*"
    data = answer.get_json()
    assert data["did"] == app_env.ctx.keyring.did and data["next"] is None
    assert data["checkpoints"] == [item.to_json() for item in made]
    document = client.get("/.well-known/did.json").get_json()
    for item in data["checkpoints"]:
        assert audit.Checkpoint.from_json(item).check_signature(document) is None

    page = client.get("/audit/checkpoints?limit=2").get_json()
    assert [c["seq"] for c in page["checkpoints"]] == [made[0].seq, made[1].seq]
    rest = client.get(page["next"]).get_json()
    assert [c["seq"] for c in rest["checkpoints"]] == [made[2].seq] and rest["next"] is None
    after = client.get(f"/audit/checkpoints?after={made[1].seq}").get_json()
    assert [c["seq"] for c in after["checkpoints"]] == [made[2].seq]
    for bad in ("after=-1", "after=x", "limit=0", "limit=1001", "after=²", "after=" + "9" * 5000):
        refused = client.get(f"/audit/checkpoints?{bad}")
        assert refused.status_code == 400, bad
        assert refused.get_json()["error"]["code"] == "field_invalid"


def test_the_app_checks_the_macs(app_env) -> None:
    _append(app_env, 4)
    _recompute(app_env, _edit_reason)
    answer = app_env.client.get("/api/v1/audit/verify", headers=app_env.auth("admin"))
    data = answer.get_json()
    assert answer.status_code == 200 and not data["ok"] and data["brokenAt"] == 3
    assert data["macChecked"] and "MAC" in data["message"]
