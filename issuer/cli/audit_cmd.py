"""``certvc audit``: verify the chain and its signed checkpoints, write a checkpoint, export
the signed bundle an assessor verifies offline (``verify --bundle``).

Exit codes as the rest of the CLI: 0 intact, 1 broken (an event or a checkpoint fails),
2 unusable input.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from keys.keystore import load_passphrase
from keys.pkcs11_token import load_pin

from ..services import audit, audit_checkpoints, instance
from ..services.audit_mac import MacKey
from ..services.keyring import Keyring
from .common import EXIT_INVALID, now
from .opened import (
    OpenedInstance,
    echo_result,
    instance_option,
    json_option,
    passphrase_option,
    reports_instance_errors,
)


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


def _verifying_keys(opened: OpenedInstance) -> tuple[Keyring, MacKey | None, str]:
    """The key ring (its public keys for the checkpoints), the audit MAC key when it can be
    used (development instance, the key passphrase given, or the token's PIN), else why the
    MACs go unchecked."""
    settings = opened.settings
    if settings.key_backend is not None:
        pin = load_pin(os.environ)
        passphrase = None
        missing = "event MACs not checked: give the token's PIN" if not pin else ""
    else:
        pin = None
        passphrase = load_passphrase(os.environ, opened.passphrase_file)
        missing = (
            "event MACs not checked: give the key passphrase"
            if passphrase is None and not settings.dev_mode
            else ""
        )
    if missing:
        keyring = instance.public_keyring(opened.folder, settings, now=now())
        if not keyring.audit_key().exists():
            return keyring, None, "the instance has no audit MAC key yet"
        return keyring, None, missing
    keyring = instance.open_keyring(opened.folder, settings, passphrase, now=now(), pin=pin)
    key = keyring.audit_key().load()
    return keyring, key, "" if key else "the instance has no audit MAC key yet"


def _report(as_json: bool, report: audit.ChainReport) -> None:
    where = f" at event {report.broken_at}" if report.broken_at else ""
    echo_result(
        as_json, report.to_json(), f"{'ok' if report.ok else 'BROKEN'}: {report.message}{where}"
    )
    if not report.ok:
        sys.exit(EXIT_INVALID)


@audit_group.command("verify")
@instance_option
@click.option(
    "--bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Verify an exported bundle offline instead of the instance's database.",
)
@passphrase_option
@json_option
@reports_instance_errors
def audit_verify(
    instance_dir: Path, bundle: Path | None, passphrase_file: Path | None, as_json: bool
) -> None:
    """Check the hash chain of the audit log, every event's MAC (with the key passphrase, or
    on a development instance) and every signed checkpoint, from the instance folder's file and
    the database (exit 1 when broken)."""
    if bundle is not None:
        _report(as_json, audit_checkpoints.verify_bundle(bundle.read_bytes()))
        return
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        keyring, mac_key, note = _verifying_keys(opened)
        with opened.writer() as session:
            report = audit_checkpoints.verify(session, keyring, opened.folder, mac_key=mac_key)
    if note:
        report = replace(report, message=f"{report.message}; {note}")
    _report(as_json, report)


@audit_group.command("checkpoint")
@instance_option
@passphrase_option
@json_option
@reports_instance_errors
def audit_checkpoint(instance_dir: Path, passphrase_file: Path | None, as_json: bool) -> None:
    """Sign the chain's head and store the checkpoint in the database and the instance folder
    (nothing when the chain has not grown since the last one)."""
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        keyring = opened.context().keyring
        moment = now()
        made = opened.write(
            lambda session: audit_checkpoints.checkpoint(
                session, keyring, opened.folder, now=moment
            )
        )
    if made is None:
        echo_result(as_json, {"checkpoint": None}, "no new events since the last checkpoint")
        return
    echo_result(
        as_json, {"checkpoint": made.to_json()}, f"checkpoint of event {made.seq} ({made.hash})"
    )


@audit_group.command("export")
@instance_option
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@passphrase_option
@json_option
@reports_instance_errors
def audit_export(
    instance_dir: Path, out: Path, passphrase_file: Path | None, as_json: bool
) -> None:
    """Write the signed bundle of the audit log (events, checkpoints, public keys) to OUT, for
    ``certvc audit verify --bundle OUT`` without the database."""
    with OpenedInstance.open(instance_dir, passphrase_file) as opened:
        keyring = opened.context().keyring
        with opened.writer() as session:
            data = audit_checkpoints.export_bundle(session, keyring, opened.folder, now=now())
    temporary = out.with_name(f".{out.name}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(out)
    echo_result(as_json, {"out": str(out), "bytes": len(data)}, f"{out} ({len(data)} bytes)")
