"""``certvc backup --out DIR`` and ``certvc restore --from DIR``: an instance and its database.

The database is ``CERTVC_DATABASE_URL`` (or the SQLite file in the instance folder), for the
instance backed up and for the one restored into. Exit codes as the rest of the CLI: 0 done,
2 unusable (a damaged backup, a target that holds data without ``--force``, a missing
``pg_dump``), each as one line naming its code. See ``docs/operations.md``.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..errors import InstanceNotReady
from ..services import backup as backup_service
from ..services import instance
from .common import now
from .opened import echo_result, instance_option, json_option, reports_instance_errors


@click.command("backup")
@instance_option
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path),
    help="A new (or empty) folder for the backup.",
)
@json_option
@reports_instance_errors
def backup(instance_dir: Path, out: Path, as_json: bool) -> None:
    """Back up the instance: its database (SQLite's online backup API, or pg_dump's custom
    format) and its folder (keys still encrypted, settings, audit checkpoints), with a
    manifest of SHA-256 digests. Safe while the service runs."""
    folder = instance_dir.resolve()
    instance.read_settings(folder)  # not an instance: say so before writing anything
    url = instance.database_url(folder, os.environ.get("CERTVC_DATABASE_URL"))
    report = backup_service.backup(folder, url, out, now=now())
    echo_result(
        as_json,
        report.to_json(),
        f"backup of {folder} ({report.database}, migration {report.revision}) in {report.folder}:"
        f" {report.files} files, {report.size} bytes",
    )


@click.command("restore")
@instance_option
@click.option(
    "--from",
    "source",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The backup folder (certvc backup --out).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Restore over a database or instance folder that holds data (its keys/ are kept "
    "aside as keys.before-restore-*).",
)
@json_option
@reports_instance_errors
def restore(instance_dir: Path, source: Path, force: bool, as_json: bool) -> None:
    """Restore a backup into a fresh instance folder and database, after checking every file
    against the manifest; the database is then migrated to this certvc's schema."""
    report = backup_service.restore(
        source,
        instance_dir,
        os.environ.get("CERTVC_DATABASE_URL"),
        force=force,
        now=now(),
    )
    try:
        instance.read_settings(report.instance)
    except InstanceNotReady as error:  # a backup without settings is no instance
        raise InstanceNotReady(f"restored, but {error.message}") from error
    echo_result(
        as_json,
        report.to_json(),
        f"restored {source} into {report.instance} ({report.database}, migration "
        f"{report.revision}, {report.files} files); check it: certvc audit verify",
    )
