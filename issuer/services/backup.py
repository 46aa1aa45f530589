"""Backup and restore of an instance: its database and its folder, with a manifest.

A backup is a folder (issue 16, finding 10)::

    manifest.json            what is here: each file's path, size and SHA-256; the database's kind,
                             schema and migration revision; when it was made
    instance/...             the instance folder as it is (instance.json, keys/ still encrypted,
                             audit-checkpoints.jsonl, ...), without the SQLite database files
    database/certvc.db       SQLite: a consistent copy through SQLite's online backup API
    database/certvc.pgdump   PostgreSQL: ``pg_dump --format=custom`` (one schema when the URL's
                             search_path names one)

The instance folder is copied *before* the database is read, so the database is never older
than the newest signed audit checkpoint the copy holds (``certvc audit verify`` compares them).
Both the SQLite backup API and ``pg_dump`` read one consistent snapshot while the service runs.

A restore checks the whole manifest first (every file present, its SHA-256 right, nothing
unlisted, no path leaving the folder), refuses a target database or folder that holds data
unless ``force``, then copies the folder, restores the database and migrates it to this
certvc's schema. Nothing reads the environment here: the adapters pass the database URLs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

from .. import db
from ..db import migrate
from ..errors import BackupInvalid, BackupToolMissing, FieldError, RestoreTargetNotEmpty

FORMAT = "certvc-backup"
VERSION = 1
MANIFEST = "manifest.json"
INSTANCE_DIR = "instance"
DATABASE_DIR = "database"
SQLITE_FILE = "certvc.db"
PG_FILE = "certvc.pgdump"
#: The SQLite database and its companions: backed up through the backup API, not copied.
_DATABASE_FILES = frozenset(
    db.DATABASE_FILE + suffix for suffix in ("", "-wal", "-shm", "-journal")
)
_SEARCH_PATH = re.compile(r"-c\s*search_path\s*=\s*([A-Za-z0-9_]+)")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupReport:
    """What ``backup`` wrote (``--json`` prints :meth:`to_json`)."""

    folder: Path
    database: str  # "sqlite" or "postgresql"
    revision: str | None
    files: int
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "database": self.database,
            "revision": self.revision,
            "files": self.files,
            "bytes": self.size,
        }


@dataclass(frozen=True)
class RestoreReport:
    instance: Path
    database: str
    revision: str | None
    files: int

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": str(self.instance),
            "database": self.database,
            "revision": self.revision,
            "files": self.files,
        }


# --- files and the manifest ---------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _copy_instance(instance: Path, target: Path) -> None:
    target.mkdir(mode=0o700)
    for path in _files(instance):
        relative = path.relative_to(instance)
        if len(relative.parts) == 1 and relative.name in _DATABASE_FILES:
            continue
        destination = target / relative
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copy2(path, destination)


def _safe_relative(name: object) -> PurePosixPath:
    """A manifest path that stays inside the backup folder.

    :raises BackupInvalid: absolute, empty, or with ``..``.
    """
    if not isinstance(name, str) or not name:
        raise BackupInvalid("the manifest names a file without a path")
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "\\" in name:
        raise BackupInvalid(f"the manifest names a path outside the backup: {name!r}")
    return path


@dataclass(frozen=True)
class Manifest:
    """A verified manifest: every listed file is present with its SHA-256."""

    database: str
    schema: str | None
    revision: str | None
    files: tuple[PurePosixPath, ...]
    created_at: str

    @property
    def database_file(self) -> PurePosixPath:
        name = SQLITE_FILE if self.database == "sqlite" else PG_FILE
        return PurePosixPath(DATABASE_DIR) / name


def read_manifest(folder: Path) -> Manifest:
    """The backup's manifest, after checking every file against it.

    :raises BackupInvalid: no or a damaged manifest, a missing, changed or unlisted file.
    """
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise BackupInvalid(f"{folder} holds no {MANIFEST}: not a certvc backup") from error
    except (OSError, ValueError) as error:
        raise BackupInvalid(f"{folder / MANIFEST} is unreadable or not JSON") from error
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupInvalid(f"{folder / MANIFEST} is not a {FORMAT} manifest")
    if data.get("version") != VERSION:
        raise BackupInvalid(f"backup format version {data.get('version')!r} is not {VERSION}")
    database = data.get("database")
    if not isinstance(database, dict) or database.get("kind") not in ("sqlite", "postgresql"):
        raise BackupInvalid("the manifest does not say which database it holds")
    entries = data.get("files")
    if not isinstance(entries, list) or not entries:
        raise BackupInvalid("the manifest lists no files")
    listed: dict[PurePosixPath, dict[str, Any]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            raise BackupInvalid("a manifest entry is not an object")
        listed[_safe_relative(entry.get("path"))] = entry
    for relative, entry in listed.items():
        path = folder / relative
        if not path.is_file() or path.is_symlink():
            raise BackupInvalid(f"{relative} is missing from the backup")
        if path.stat().st_size != entry.get("size") or _sha256(path) != entry.get("sha256"):
            raise BackupInvalid(f"{relative} does not match its SHA-256 in the manifest")
    present = {
        PurePosixPath(p.relative_to(folder).as_posix())
        for p in _files(folder)
        if p.name != MANIFEST or p.parent != folder
    }
    unlisted = sorted(str(p) for p in present - set(listed))
    if unlisted:
        raise BackupInvalid(f"files not in the manifest: {', '.join(unlisted[:5])}")
    manifest = Manifest(
        database=database["kind"],
        schema=database.get("schema"),
        revision=database.get("revision"),
        files=tuple(sorted(listed)),
        created_at=str(data.get("createdAt", "")),
    )
    if manifest.database_file not in listed:
        raise BackupInvalid(f"the backup holds no {manifest.database_file}")
    if not any(p.parts[0] == INSTANCE_DIR for p in listed):
        raise BackupInvalid("the backup holds no instance folder")
    return manifest


def _write_manifest(
    out: Path, *, kind: str, schema: str | None, revision: str | None, now: datetime
) -> tuple[int, int]:
    entries = [
        {
            "path": path.relative_to(out).as_posix(),
            "size": path.stat().st_size,
            "sha256": _sha256(path),
        }
        for path in _files(out)
    ]
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "createdAt": now.isoformat().replace("+00:00", "Z"),
        "database": {"kind": kind, "schema": schema, "revision": revision},
        "files": entries,
    }
    path = out / MANIFEST
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    return len(entries), sum(int(e["size"]) for e in entries)


# --- the two databases --------------------------------------------------------------------


def _kind(url: URL) -> str:
    backend = url.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise FieldError("database URL", f"backups cover SQLite and PostgreSQL, not {backend}")
    return backend


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise FieldError("database URL", "an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _schema(url: URL) -> str | None:
    """The schema a PostgreSQL URL's ``options=-csearch_path=...`` names first, if any."""
    options = url.query.get("options")
    found = _SEARCH_PATH.search(options if isinstance(options, str) else " ".join(options or ()))
    return found.group(1) if found else None


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupToolMissing(
            f"{name} is not installed (PostgreSQL's client tools: apt-get install "
            "postgresql-client, of the server's major version or newer)"
        )
    return path


def _pg_environment(url: URL) -> dict[str, str]:
    """libpq's variables for ``url``: the password goes in the environment, not in argv."""
    environment = dict(os.environ)
    for variable, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
        ("PGSSLMODE", url.query.get("sslmode")),
    ):
        if isinstance(value, str) and value:
            environment[variable] = value
    return environment


def _run(command: list[str], url: URL, what: str) -> None:
    done = subprocess.run(  # a fixed tool with arguments built here, no shell
        command, env=_pg_environment(url), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupInvalid(f"{what} failed: {detail[-1] if detail else done.returncode}"[:500])


def _database_holds_data(url: URL, schema: str | None) -> bool:
    engine = db.make_engine(url.render_as_string(hide_password=False), immediate=False)
    try:
        with engine.connect() as connection:
            if url.get_backend_name() == "sqlite":
                return bool(inspect(connection).get_table_names())
            if schema is not None:
                return bool(inspect(connection).get_table_names(schema=schema)) or bool(
                    connection.execute(
                        text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
                    ).first()
                )
            return bool(
                connection.execute(
                    text(
                        "SELECT 1 FROM pg_tables WHERE schemaname NOT IN "
                        "('pg_catalog', 'information_schema') LIMIT 1"
                    )
                ).first()
            )
    finally:
        engine.dispose()


def _revision(url: URL) -> str | None:
    engine = db.make_engine(url.render_as_string(hide_password=False), immediate=False)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


# --- backup ---------------------------------------------------------------------------------


def backup(instance: Path, database_url: str, out: Path, *, now: datetime) -> BackupReport:
    """Write a backup of ``instance`` and its database into the new folder ``out``.

    :raises FieldError: ``out`` exists and is not an empty folder; an unsupported database.
    :raises BackupToolMissing: PostgreSQL without ``pg_dump``.
    :raises BackupInvalid: ``pg_dump`` failed (its last line says why).
    """
    url = make_url(database_url)
    kind = _kind(url)
    pg_dump = _pg_tool("pg_dump") if kind == "postgresql" else ""
    out, instance = out.resolve(), instance.resolve()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise FieldError("--out", f"{out} exists and is not empty: back up into a new folder")
    if out.is_relative_to(instance):
        raise FieldError("--out", "the backup cannot go inside the instance folder it copies")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    schema = _schema(url) if kind == "postgresql" else None
    revision = _revision(url)
    # the folder first: the database copy is then never older than a checkpoint in the file
    _copy_instance(instance, out / INSTANCE_DIR)
    (out / DATABASE_DIR).mkdir(mode=0o700)
    if kind == "sqlite":
        source = sqlite3.connect(f"file:{_sqlite_path(url)}?mode=ro", uri=True)
        target = sqlite3.connect(out / DATABASE_DIR / SQLITE_FILE)
        try:
            source.backup(target)  # SQLite's online backup API: one consistent snapshot
            # one self-contained file: no -wal/-shm appear when it is read later
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
            source.close()
    else:
        command = [pg_dump, "--format=custom", "--no-owner", "--no-privileges"]
        if schema is not None:
            command.append(f"--schema={schema}")
        command.append(f"--file={out / DATABASE_DIR / PG_FILE}")
        _run(command, url, "pg_dump")
    files, size = _write_manifest(out, kind=kind, schema=schema, revision=revision, now=now)
    return BackupReport(out, kind, revision, files, size)


# --- restore --------------------------------------------------------------------------------


def _known_revision(revision: str | None) -> None:
    if revision is None:
        return
    script = ScriptDirectory.from_config(migrate.alembic_config_for_scripts())
    if revision not in {r.revision for r in script.walk_revisions()}:
        raise BackupInvalid(
            f"the backup's database is at migration {revision}, which this certvc does not "
            "know: restore it with the certvc version that made it, or a newer one"
        )


def _instance_holds_data(folder: Path) -> bool:
    return folder.exists() and any(
        p.name not in _DATABASE_FILES or p.parent != folder for p in folder.iterdir()
    )


def restore(
    source: Path, instance: Path, database_url: str | None, *, force: bool, now: datetime
) -> RestoreReport:
    """Restore the backup in ``source`` into the instance folder ``instance`` and the
    database ``database_url`` (None: SQLite in that folder), then migrate the database to this
    certvc's schema.

    :raises BackupInvalid: the manifest or a file does not check out (nothing is written).
    :raises RestoreTargetNotEmpty: the folder or the database holds data and not ``force``.
    :raises BackupToolMissing: PostgreSQL without ``pg_restore``.
    """
    manifest = read_manifest(source)
    _known_revision(manifest.revision)
    instance = instance.resolve()
    url = make_url(database_url or db.sqlite_url(instance))
    kind = _kind(url)
    if kind != manifest.database:
        raise FieldError(
            "database URL",
            f"the backup holds a {manifest.database} database; restore it into {manifest.database}"
            f" (this target is {kind})",
        )
    if kind == "postgresql":
        pg_restore = _pg_tool("pg_restore")
        target_schema = _schema(url)
        if target_schema != manifest.schema:
            raise FieldError(
                "database URL",
                f"the backup holds schema {manifest.schema or '(the whole database)'}; the "
                f"target's search_path must name the same ({target_schema or 'none given'})",
            )
    if not force:
        if _instance_holds_data(instance):
            raise RestoreTargetNotEmpty(
                f"{instance} is not empty: restore into a new folder, or use --force"
            )
        if (kind == "postgresql" or Path(url.database or "").exists()) and _database_holds_data(
            url, manifest.schema
        ):
            raise RestoreTargetNotEmpty(
                f"the database {url.render_as_string(hide_password=True)} holds data: restore "
                "into a new one, or use --force"
            )
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = instance / "keys"
    if keys.exists():  # --force: the keys it had are kept aside, never deleted
        keys.rename(instance / f"keys.before-restore-{now.strftime('%Y%m%dT%H%M%S%fZ')}")
    copied = 0
    for relative in manifest.files:
        if relative.parts[0] != INSTANCE_DIR:
            continue
        destination = instance.joinpath(*relative.parts[1:])
        destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        shutil.copy2(source / relative, destination)
        copied += 1
    dump = source / manifest.database_file
    if kind == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # immutable: reading the backup never writes beside it (no lock, -wal or -shm file)
        backup_copy = sqlite3.connect(f"file:{dump}?mode=ro&immutable=1", uri=True)
        target = sqlite3.connect(path)
        try:
            backup_copy.backup(target)
        finally:
            target.close()
            backup_copy.close()
    else:
        command = [pg_restore, "--no-owner", "--no-privileges", "--exit-on-error"]
        if force:
            command += ["--clean", "--if-exists"]
        command += ["--dbname", url.database or "", str(dump)]
        _run(command, url, "pg_restore")
    engine = db.make_engine(url.render_as_string(hide_password=False))
    try:
        migrate.upgrade(engine)
        revision = migrate.current_revision(engine)
    finally:
        engine.dispose()
    return RestoreReport(instance, kind, revision, copied)
