"""Backup and restore (issue 16, finding 10): ``certvc backup --out DIR`` and ``certvc restore
--from DIR`` on SQLite (online backup API) and PostgreSQL (``pg_dump`` custom format).

A restore into a fresh instance folder and database keeps everything that matters: the old
credentials verify with their status (a suspension included) through the restored instance's
own verifier, ``certvc audit verify`` passes against the checkpoint the backup carried, and
issuing continues without reusing a status-list index. A damaged backup or a target that
holds data is refused before anything is written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import make_url

from issuer import db
from issuer.app import create_app
from issuer.cli import main as cli
from issuer.db.models import Action, StatusEntry
from issuer.services import audit_checkpoints, lifecycle
from issuer.services.backup import MANIFEST

from .conftest import Env
from .support import BACKENDS, NOW, PG_URL, app_config, context, pg_test_database


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Backups differ by database: every backend."""
    return request.param


def _cli(*args: str, database_url: str | None, code: int = 0, **env: str) -> str:
    result = CliRunner().invoke(cli, list(args), env={"CERTVC_DATABASE_URL": database_url, **env})
    assert result.exit_code == code, result.output
    return result.output


def _certify(env: Env, name: str) -> str:
    request = lifecycle.IssueRequest(scheme_code="CWI-2", scope="steel", person_name=name)
    return env.write(
        lambda s: (
            lifecycle.issue(s, env.ctx, request, reason="committee", actor="t", now=NOW).number
        )
    )


def _credential(env: Env, number: str) -> dict:
    with env.read() as session:
        cert = lifecycle.catalog.get_certification(session, number)
        return lifecycle.credential_document(cert.current_credential)


def _indexes(url: str) -> set[tuple[int, int]]:
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            rows = session.execute(select(StatusEntry.list_id, StatusEntry.status_index)).all()
            return {(list_id, index) for list_id, index in rows}
    finally:
        engine.dispose()


@contextmanager
def _fresh_target(backend: str, folder: Path, source_url: str) -> Iterator[str | None]:
    """The database to restore into: SQLite in the new instance folder (None), or a new
    PostgreSQL database whose search_path names the source's schema."""
    if backend == "sqlite":
        yield None
        return
    with pg_test_database() as url:
        options = make_url(source_url).query.get("options")
        yield (
            make_url(url)
            .update_query_dict({"options": options})
            .render_as_string(hide_password=False)
        )


def test_restore_into_a_fresh_database_keeps_credentials_audit_and_issuing(
    database_url: str, tmp_path: Path, backend: str
) -> None:
    source = Env(tmp_path / "instance", database_url)
    try:
        kept, paused = _certify(source, "Ada Lovelace"), _certify(source, "Grace Hopper")
        source.write(
            lambda s: lifecycle.transition(
                s, source.ctx, paused, Action.SUSPEND, reason="r", actor="t", now=NOW
            )
        )
        source.write(
            lambda s: audit_checkpoints.checkpoint(s, source.ctx.keyring, source.folder, now=NOW)
        )
        credentials = {kept: _credential(source, kept), paused: _credential(source, paused)}
        used = _indexes(database_url)
    finally:
        source.engine.dispose()

    out = tmp_path / "backup"
    _cli("backup", "--instance", str(source.folder), "--out", str(out), database_url=database_url)
    manifest = json.loads((out / MANIFEST).read_text())
    paths = {entry["path"] for entry in manifest["files"]}
    assert {"instance/instance.json", "instance/audit-checkpoints.jsonl"} <= paths
    assert any(p.startswith("instance/keys/") for p in paths)
    assert ("database/certvc.db" if backend == "sqlite" else "database/certvc.pgdump") in paths
    assert all(len(entry["sha256"]) == 64 for entry in manifest["files"])

    restored = tmp_path / "restored"
    with _fresh_target(backend, tmp_path, database_url) as target_url:
        reply = _cli(
            "restore", "--instance", str(restored), "--from", str(out), "--json",
            database_url=target_url,
        )  # fmt: skip
        assert json.loads(reply)["revision"] is not None
        url = target_url or db.sqlite_url(restored)
        assert _indexes(url) == used

        # the audit chain and the checkpoint the backup carried
        verified = _cli("audit", "verify", "--instance", str(restored), database_url=target_url)
        assert verified.startswith("ok:"), verified

        # old credentials verify, with their status, through the restored instance's verifier
        app = create_app(app_config(restored, url))
        try:
            client = app.test_client()
            verdicts = {
                number: client.post("/api/v1/verify", json=credential).json["verdict"]
                for number, credential in credentials.items()
            }
            assert verdicts == {kept: "VALID", paused: "SUSPENDED"}
        finally:
            app.extensions["certvc.db"].engine.dispose()

        # issuing continues: a new certification, at status indexes never used before
        engine = db.make_engine(url)
        try:
            ctx = context(restored, seed=7)  # the same seed: the same draws would collide
            request = lifecycle.IssueRequest(scheme_code="CWI-2", scope="s", person_name="New")
            number = db.run_transaction(
                db.session_factory(engine),
                lambda s: lifecycle.issue(s, ctx, request, reason="r", actor="t", now=NOW).number,
            )
        finally:
            engine.dispose()
        assert number not in credentials
        fresh = _indexes(url) - used
        assert len(fresh) == 2 and not fresh & used

        # a second restore into the same (now full) database and folder is refused
        again = _cli(
            "restore", "--instance", str(restored), "--from", str(out),
            database_url=target_url, code=2,
        )  # fmt: skip
        assert "restore_target_not_empty" in again


# --- refusals (SQLite: what is checked does not depend on the database) ----------------------


@pytest.fixture
def a_backup(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    url = db.sqlite_url(tmp_path)
    source = Env(tmp_path / "instance", url)
    try:
        _certify(source, "Ada Lovelace")
    finally:
        source.engine.dispose()
    out = tmp_path / "backup"
    _cli("backup", "--instance", str(source.folder), "--out", str(out), database_url=url)
    yield out, url


def _refused(backup: Path, target: Path, code: str) -> None:
    reply = _cli(
        "restore", "--instance", str(target), "--from", str(backup), database_url=None, code=2
    )
    assert code in reply, reply
    assert not target.exists(), "nothing is written before the backup checks out"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_changed_missing_or_added_file_is_refused(a_backup, tmp_path: Path, backend) -> None:
    backup, _url = a_backup
    key = next((backup / "instance" / "keys").rglob("key-*.json"))
    original = key.read_bytes()
    key.write_bytes(original[:-2] + bytes([original[-2] ^ 1]) + original[-1:])
    _refused(backup, tmp_path / "t1", "backup_invalid")
    key.write_bytes(original)
    (backup / "instance" / "extra.json").write_text("{}")
    _refused(backup, tmp_path / "t2", "backup_invalid")
    (backup / "instance" / "extra.json").unlink()
    database = backup / "database" / "certvc.db"
    database.rename(tmp_path / "moved.db")
    _refused(backup, tmp_path / "t3", "backup_invalid")
    (tmp_path / "moved.db").rename(database)
    manifest = json.loads((backup / MANIFEST).read_text())
    manifest["files"][0]["path"] = "../../outside"
    (backup / MANIFEST).write_text(json.dumps(manifest))
    _refused(backup, tmp_path / "t4", "backup_invalid")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_target_with_data_needs_force(a_backup, tmp_path: Path, backend) -> None:
    backup, url = a_backup
    target = tmp_path / "target"
    _cli("restore", "--instance", str(target), "--from", str(backup), database_url=None)
    (target / "keys" / "marker").write_text("the keys this instance had")
    reply = _cli(
        "restore", "--instance", str(target), "--from", str(backup), database_url=None, code=2
    )
    assert "restore_target_not_empty" in reply
    _cli("restore", "--instance", str(target), "--from", str(backup), "--force", database_url=None)
    assert not (target / "keys" / "marker").exists()
    kept_aside = list(target.glob("keys.before-restore-*/marker"))
    assert len(kept_aside) == 1, "the keys it had are kept aside, never deleted"
    assert _cli("audit", "verify", "--instance", str(target), database_url=None).startswith("ok:")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_backup_refuses_a_folder_that_is_not_empty(a_backup, tmp_path: Path, backend) -> None:
    backup, url = a_backup
    reply = _cli(
        "backup", "--instance", str(tmp_path / "instance"), "--out", str(backup),
        database_url=url, code=2,
    )  # fmt: skip
    assert "field_invalid" in reply and "not empty" in reply


@pytest.mark.parametrize("backend", ["sqlite"])
def test_postgresql_without_pg_dump_is_a_clear_error(tmp_path: Path, backend) -> None:
    """No pg_dump on the PATH: one line naming the missing tool, before anything is written."""
    url = db.sqlite_url(tmp_path)
    source = Env(tmp_path / "instance", url)
    source.engine.dispose()
    empty = tmp_path / "no-tools"
    empty.mkdir()
    out = tmp_path / "backup"
    reply = _cli(
        "backup", "--instance", str(source.folder), "--out", str(out),
        database_url=PG_URL or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        code=2, PATH=str(empty),
    )  # fmt: skip
    assert "backup_tool_missing" in reply and "pg_dump" in reply
    assert not out.exists()
    assert shutil.which("pg_dump", path=str(empty)) is None
