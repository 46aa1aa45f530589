"""An attacker who can write to the database rewrites the audit chain with certvc's own
``event_hash``: the signed checkpoints (kept in the instance folder too) catch it (issue 16)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, insert, select, text, update

from issuer.cli import main as cli
from issuer.db.models import Action, AuditCheckpoint, AuditEvent, AuditHead
from issuer.errors import AuditChainBroken
from issuer.services import audit, audit_checkpoints
from issuer.worker import Worker

from .support import BACKENDS, NOW

Rows = list[dict[str, Any]]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """This module runs on every backend (the attacks are SQL on the engine)."""
    return request.param


def _append(env, count: int, start: int = 0) -> None:
    for number in range(start, start + count):
        env.write(
            lambda s, n=number: audit.record(
                s, action=Action.SUSPEND, actor="t", subject=f"S-{n}", reason=f"r{n}", now=NOW
            )
        )


def _checkpoint(env) -> audit.Checkpoint | None:
    return env.write(
        lambda s: audit_checkpoints.checkpoint(s, env.ctx.keyring, env.folder, now=NOW)
    )


def _verify(env) -> audit.ChainReport:
    with env.read() as session:
        return audit_checkpoints.verify(
            session, env.ctx.keyring, env.folder, mac_key=env.ctx.keyring.audit_key().load()
        )


def _cli_verify(env) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--instance", str(env.folder), "--json"], env=_cli_env(env)
    )
    return result.exit_code, json.loads(result.stdout)


def _cli_env(env) -> dict[str, str]:
    return {"CERTVC_DATABASE_URL": env.url}


def _rewrite(env, change: Callable[[Rows], Rows]) -> None:
    """What an attacker with database access does: change the events, then renumber and
    recompute every hash and the head with certvc's own ``event_hash``."""
    table = AuditEvent.__table__
    with env.engine.begin() as connection:
        rows = [
            dict(row._mapping) for row in connection.execute(select(table).order_by(table.c.seq))
        ]
        rows = change(rows)
        previous = audit.GENESIS
        for seq, row in enumerate(rows, 1):
            row["seq"], row["prev_hash"] = seq, previous
            row["hash"] = previous = audit.event_hash(
                seq=seq,
                at=row["at"],
                actor=row["actor"],
                action=Action(row["action"]),
                subject=row["subject"],
                reason=row["reason"],
                details=row["details"],
                prev_hash=row["prev_hash"],
            )
        connection.execute(delete(table))
        if rows:
            connection.execute(insert(table), rows)
        connection.execute(
            update(AuditHead.__table__)
            .values(seq=len(rows), hash=previous)
            .where(AuditHead.id == 1)
        )


def _edit(rows: Rows) -> Rows:
    rows[2]["reason"] = "nothing happened"
    return rows


def _drop(rows: Rows) -> Rows:
    return rows[:2] + rows[3:]


def _reorder(rows: Rows) -> Rows:
    rows[2], rows[3] = rows[3], rows[2]
    return rows


@pytest.fixture
def logged(env):
    """Some actions, a checkpoint, then two more actions (only chained, not yet pinned)."""
    _append(env, 5)
    made = _checkpoint(env)
    assert made is not None
    _append(env, 2, start=5)
    assert _verify(env).ok
    return env, made


def test_an_intact_log_verifies_with_its_checkpoint(logged) -> None:
    env, made = logged
    report = _verify(env)
    assert report.ok and report.checkpoints == 1 and report.last_checkpoint == made.seq
    code, data = _cli_verify(env)
    assert code == 0 and data["ok"] and data["lastCheckpoint"] == made.seq
    lines = (env.folder / "audit-checkpoints.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [made.seq]


def test_before_checkpoints_only_the_mac_catches_a_recomputed_chain(env) -> None:
    """The attack of the issue, reproduced: without a checkpoint, only the events' MACs catch
    it (tests/issuer/test_audit_mac.py); whoever lacks the MAC key (an outsider) cannot."""
    _append(env, 5)
    _rewrite(env, _edit)
    with env.read() as session:
        assert audit.verify_chain(session).ok
    report = _verify(env)
    assert not report.ok and report.broken_at == 3 and "MAC" in report.message


@pytest.mark.parametrize(
    "change", [_edit, _drop, _reorder], ids=["edited", "deleted-renumbered", "reordered"]
)
def test_a_recomputed_chain_fails_at_the_checkpoint(logged, change) -> None:
    env, made = logged
    _rewrite(env, change)
    with env.read() as session:
        assert audit.verify_chain(session).ok  # the chain alone is fooled
    report = _verify(env)
    assert not report.ok and report.checkpoint_failed == made.seq
    assert f"checkpoint of event {made.seq}" in report.message
    code, data = _cli_verify(env)
    assert code == 1 and data["checkpointFailed"] == made.seq


@pytest.mark.parametrize("keep", [0, 2], ids=["at-the-checkpoint", "before-the-checkpoint"])
def test_truncation_fails_naming_the_checkpoint(logged, keep: int) -> None:
    env, made = logged
    _rewrite(env, lambda rows: rows[: made.seq - 1 - keep])
    report = _verify(env)
    assert not report.ok and report.checkpoint_failed == made.seq
    assert "missing" in report.message
    code, data = _cli_verify(env)
    assert code == 1 and data["checkpointFailed"] == made.seq


def test_events_after_the_last_checkpoint_are_only_chained(logged) -> None:
    """The documented limit: truncating after the last checkpoint goes unseen until the next."""
    env, made = logged
    _rewrite(env, lambda rows: rows[: made.seq])
    assert _verify(env).ok


def test_deleting_the_checkpoints_from_the_table_does_not_help(logged) -> None:
    env, made = logged
    with env.engine.begin() as connection:
        connection.execute(delete(AuditCheckpoint.__table__))
    _rewrite(env, _edit)
    report = _verify(env)
    assert not report.ok and report.checkpoint_failed == made.seq


def test_a_forged_checkpoint_row_fails_its_signature(logged) -> None:
    env, made = logged
    _rewrite(env, _edit)
    with env.read() as session:
        head = session.get(AuditHead, 1)
        seq, digest = head.seq, head.hash
    forged = audit.Checkpoint(seq, digest, made.at, made.key_id, made.signature)
    with env.engine.begin() as connection:
        connection.execute(delete(AuditCheckpoint.__table__))
        connection.execute(
            insert(AuditCheckpoint.__table__).values(
                seq=seq, hash=digest, at=NOW, key_id=made.key_id, signature=forged.signature
            )
        )
    report = _verify(env)
    assert not report.ok and report.checkpoint_failed == made.seq  # the file's one fails first
    (env.folder / "audit-checkpoints.jsonl").unlink()  # even without the file
    report = _verify(env)
    assert not report.ok and report.checkpoint_failed == seq
    assert "signature does not verify" in report.message


def test_rolling_back_to_an_older_database_fails(env, backend: str, tmp_path: Path) -> None:
    _append(env, 3)
    with env.read() as session:
        earlier = session.get(AuditHead, 1).seq
    copy = tmp_path / "before.db"
    if backend == "sqlite":
        with (
            sqlite3.connect(env.engine.url.database) as live,
            sqlite3.connect(copy) as backup,
        ):
            live.backup(backup)
    _append(env, 3, start=3)
    made = _checkpoint(env)
    assert made is not None and _verify(env).ok
    if backend == "sqlite":
        env.engine.dispose()
        with sqlite3.connect(copy) as backup, sqlite3.connect(env.engine.url.database) as live:
            backup.backup(live)
    else:
        with env.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_checkpoints"))
            connection.execute(text("DELETE FROM audit_events WHERE seq > :n"), {"n": earlier})
            digest = connection.execute(
                text("SELECT hash FROM audit_events WHERE seq = :n"), {"n": earlier}
            ).scalar_one()
            connection.execute(
                text("UPDATE audit_head SET seq = :n, hash = :h"), {"n": earlier, "h": digest}
            )
    with env.read() as session:
        assert session.get(AuditHead, 1).seq == earlier
        assert audit.verify_chain(session).ok
    report = _verify(env)
    assert not report.ok and report.checkpoint_failed == made.seq and "missing" in report.message


def test_a_checkpoint_is_made_only_when_the_chain_grew_and_never_over_a_broken_chain(
    env,
) -> None:
    _append(env, 2)
    assert _checkpoint(env) is not None
    assert _checkpoint(env) is None
    _append(env, 2, start=2)
    _rewrite(env, _edit)
    with pytest.raises(AuditChainBroken):
        _checkpoint(env)
    with env.read() as session:
        assert len(audit_checkpoints.stored(session)) == 1


def test_the_worker_checkpoints_at_most_once_a_minute(env) -> None:
    clock = [NOW]
    worker = Worker(
        writer=env.factory,
        context=lambda: env.ctx,
        clock=lambda: clock[0],
        instance_folder=env.folder,
    )
    worker.run_pending()
    _append(env, 1)
    worker.run_pending()  # within the minute: none
    with env.read() as session:
        assert [c.seq for c in audit_checkpoints.stored(session)] == [
            audit.lock_head(session).seq - 1
        ]
    clock[0] = NOW + timedelta(minutes=1)
    worker.run_pending()
    report = _verify(env)
    assert report.ok and report.checkpoints == 2 and report.last_checkpoint == report.events


def _export(env, out: Path) -> bytes:
    result = CliRunner().invoke(
        cli,
        ["audit", "export", "--instance", str(env.folder), "--out", str(out), "--json"],
        env=_cli_env(env),
    )
    assert result.exit_code == 0, result.stderr
    return out.read_bytes()


def _verify_bundle(path: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["audit", "verify", "--bundle", str(path), "--json"])
    return result.exit_code, json.loads(result.stdout)


def test_the_bundle_verifies_offline_and_fails_when_any_byte_changes(
    logged, tmp_path: Path
) -> None:
    env, made = logged
    data = _export(env, tmp_path / "audit.json")
    env.engine.dispose()
    code, report = _verify_bundle(tmp_path / "audit.json")
    assert code == 0 and report["ok"] and report["lastCheckpoint"] == made.seq
    assert report["events"] == made.seq + 2
    bundle = json.loads(data)
    assert {"events", "checkpoints", "didDocument", "signature"} <= set(bundle)
    positions = sorted(
        {0, 1, len(data) // 7, len(data) // 3, len(data) // 2, len(data) - 40, len(data) - 2}
        | {data.index(b'"reason"') + 11, data.index(b'"signature"') + 20}
    )
    for position in positions:
        for flip in (0x01, 0x20):
            changed = bytearray(data)
            changed[position] ^= flip
            path = tmp_path / f"changed-{position}-{flip}.json"
            path.write_bytes(bytes(changed))
            code, report = _verify_bundle(path)
            assert code == 1 and not report["ok"], (position, flip, report)


def test_a_bundle_of_a_rewritten_log_fails_at_the_checkpoint(logged, tmp_path: Path) -> None:
    env, made = logged
    _rewrite(env, _edit)
    with env.read() as session:  # signed anew, but the checkpoint pins the old hash
        data = audit_checkpoints.export_bundle(session, env.ctx.keyring, env.folder, now=NOW)
    report = audit_checkpoints.verify_bundle(data)
    assert not report.ok and report.checkpoint_failed == made.seq


def test_two_workers_checkpointing_at_once_sign_the_head_once(env) -> None:
    """Two job workers (two nodes) checkpoint the same head at the same moment: the second
    waits for the head's lock, then finds the first's checkpoint and signs nothing. (It read
    the stored checkpoints before taking the lock, signed the same head again and ended its
    worker process with a duplicate key on PostgreSQL.)"""
    _append(env, 3)
    first = env.factory()
    first.begin()
    audit.lock_head(first)  # the first worker is in its checkpoint, holding the head
    outcome: dict[str, Any] = {}

    def second() -> None:
        try:
            outcome["made"] = _checkpoint(env)
        except Exception as error:  # noqa: BLE001 - the test reports whatever it was
            outcome["error"] = error

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive()  # waiting for the head's lock, which the first holds
    made = audit_checkpoints.checkpoint(first, env.ctx.keyring, env.folder, now=NOW)
    assert made is not None
    first.commit()
    first.close()
    thread.join(timeout=60)
    assert outcome == {"made": None}
    with env.read() as session:
        assert [c.seq for c in audit_checkpoints.stored(session)] == [made.seq]
