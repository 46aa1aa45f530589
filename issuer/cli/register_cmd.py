"""``certvc register export``: the register of certified persons as CSV or JSON.

The export is personal data: it is audited (``register.export``, with the filters and the row
count) before the first row is written. ``--out F`` writes the file (mode 0600) through a
temporary file in the same folder, so an interrupted export never leaves half a register
under the name asked for; without it the rows go to stdout.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import click

from ..services import fields, register
from .common import now, output_file
from .opened import OpenedInstance, cli_actor, instance_option, reports_instance_errors
from .reading import read_session


@click.group("register")
def register_group() -> None:
    """The register of certified persons."""


@contextlib.contextmanager
def _target(out: Path | None) -> Iterator[TextIO | None]:
    """The file to write (a temporary one beside ``out``, renamed at the end), or None for
    stdout. Opened before the export is audited, so a folder that does not exist fails first."""
    if out is None:
        yield None
        return
    output_file(out, "out")  # the register names its options as its API fields
    handle, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        os.chmod(temporary, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            yield stream
        os.replace(temporary, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@register_group.command("export")
@instance_option
@click.option("--format", "export_format", default="csv", show_default=True, help="csv or json.")
@click.option("--scheme", help="Only this scheme (its code).")
@click.option("--state", help="Only this shown state: active, suspended, withdrawn, expired.")
@click.option(
    "--expiring-within",
    metavar="DAYS",
    help="Only live certifications whose expiry is at most DAYS days away.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (default: stdout).",
)
@click.option("--reason", help="Why (recorded in the audit log; default 'register exported').")
@reports_instance_errors
def export(
    instance_dir: Path,
    export_format: str,
    scheme: str | None,
    state: str | None,
    expiring_within: str | None,
    out: Path | None,
    reason: str | None,
) -> None:
    """Export the register (number, name, reference, scheme, scope, dates, shown state,
    current credential) as CSV (formula cells neutralised) or JSON; audited."""
    chosen = fields.choice({"format": export_format}, "format", register.ExportFormat)
    register_filter = register.parse_filter(
        {"scheme": scheme, "state": state, "expiringWithin": expiring_within}
    )
    with OpenedInstance.open(instance_dir) as opened, _target(out) as stream:
        moment = now()
        total = opened.write(
            lambda s: register.record_export(
                s, register_filter, chosen, actor=cli_actor(), now=moment, reason=reason
            )
        )
        with read_session(opened) as session:
            records = register.rows(session, register_filter, now=moment)
            for chunk in register.chunks(records, register_filter, chosen, now=moment):
                if stream is None:
                    click.echo(chunk, nl=False)
                else:
                    stream.write(chunk)
    if out is not None:
        click.echo(f"{total} certification{'' if total == 1 else 's'} written to {out}", err=True)
