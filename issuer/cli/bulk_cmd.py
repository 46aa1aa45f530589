"""``certvc bulk suspend|reinstate|withdraw``: one status change for every certification a
selection finds, with a dry run (:mod:`issuer.services.bulk`).

``--dry-run`` reads only and prints what would change and what would be refused, and why; the
real run applies it in chunks (one transaction each) and prints the same lists. ``--expect``
takes a dry run's fingerprint: the real run then refuses to start if the selection no longer
gives that result. Refused certifications are reported, not fatal (exit 0); unusable input
(a malformed number, an unknown scheme, a selection too large) is one line on stderr, exit 2.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from contexts.errors import InputError

from ..db.models import Action
from ..services import audit
from ..services import bulk as bulk_service
from .common import now
from .opened import (
    OpenedInstance,
    cli_actor,
    echo_result,
    instance_option,
    json_option,
    passphrase_option,
    reason_option,
    reports_instance_errors,
)
from .reading import read_session


@click.group("bulk")
def bulk() -> None:
    """Suspend, reinstate or withdraw many certifications at once (with a dry run)."""


def _read_list(path: str | None, name: str) -> str | None:
    """The text of a list file (``-``: stdin), UTF-8 with or without a byte-order mark."""
    if path is None:
        return None
    try:
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: {path} is not UTF-8 text") from error


def _text(report: bulk_service.Report) -> str:
    verb = "would change" if report.dry_run else "changed"
    lines = [
        f"{report.action.value}{' (dry run)' if report.dry_run else ''}: "
        f"{report.selected} selected, {len(report.changed)} {verb}, "
        f"{len(report.refused)} refused"
    ]
    lines += [f"  {verb}: {number}" for number in report.changed]
    lines += [f"  refused: {r.number or '-'}: {r.code}: {r.message}" for r in report.refused]
    if report.dry_run and report.changed:
        lines.append(f"fingerprint: {report.fingerprint} (pass --expect to the real run)")
    return "\n".join(lines)


def _bulk_command(action: Action, help_text: str) -> click.Command:
    @click.command(action.value, help=help_text)
    @instance_option
    @click.option(
        "--numbers-file",
        metavar="FILE",
        help="Certificate numbers, one a line ('#' comments and blank lines ignored; - for stdin).",
    )
    @click.option(
        "--references-file",
        metavar="FILE",
        help="Person references, one a line: every certification of each person.",
    )
    @click.option("--scheme", help="Only this scheme (its code).")
    @click.option("--state", help="Only this shown state: active, suspended, withdrawn, expired.")
    @click.option(
        "--expiring-before", metavar="DATE", help="Only those expiring before DATE (YYYY-MM-DD)."
    )
    @reason_option
    @click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
    @click.option(
        "--expect",
        metavar="FINGERPRINT",
        help="A dry run's fingerprint: refuse to start if the result would differ.",
    )
    @passphrase_option
    @json_option
    @reports_instance_errors
    def command(
        instance_dir: Path,
        numbers_file: str | None,
        references_file: str | None,
        scheme: str | None,
        state: str | None,
        expiring_before: str | None,
        reason: str,
        dry_run: bool,
        expect: str | None,
        passphrase_file: Path | None,
        as_json: bool,
    ) -> None:
        selection = bulk_service.parse_selection(
            {
                "scheme": scheme,
                "state": state,
                "numbers": _read_list(numbers_file, "numbers-file"),
                "references": _read_list(references_file, "references-file"),
                "expiringBefore": expiring_before,
            }
        )
        with OpenedInstance.open(instance_dir, passphrase_file) as opened:
            moment = now()
            report: bulk_service.Report
            if dry_run:
                audit.check_reason(reason)
                with read_session(opened) as session:
                    report = bulk_service.plan(session, selection, action, moment)
            else:
                report = bulk_service.apply(
                    opened.write,
                    opened.context(),
                    selection,
                    action,
                    reason=reason,
                    actor=cli_actor(),
                    now=moment,
                    expect=expect,
                )
        data: dict[str, Any] = report.to_json()
        echo_result(as_json, data, _text(report))

    return command


suspend = _bulk_command(
    Action.SUSPEND, "Suspend every selected certification (suspension bits set)."
)
reinstate = _bulk_command(
    Action.REINSTATE, "Reinstate every selected suspended certification (bits cleared)."
)
withdraw = _bulk_command(
    Action.WITHDRAW, "Withdraw every selected certification (revocation bits set; final)."
)
bulk.add_command(suspend)
bulk.add_command(reinstate)
bulk.add_command(withdraw)
