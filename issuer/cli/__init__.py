"""The ``certvc`` command line: a stable interface that people and scripts use.

The CLI is the outermost adapter: it may import every package. Its commands are one static
table, :data:`COMMANDS` (name -> ``module:attribute``), loaded lazily as in click's documented
``LazyGroup`` pattern, so ``certvc verify`` imports neither Flask nor the issuer's database. A
command whose module does not import fails loudly with the import error: it never silently
disappears from the list. Usage errors of every command are one line, as every other error
(:mod:`issuer.cli.usage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import Any

import click

from .usage import one_line

#: Every ``certvc`` command, in one place.
COMMANDS: Mapping[str, str] = {
    # the credential core: keys, signing, verifying, QR codes, benchmarks
    "keys": "issuer.cli.keys_cmd:keys",
    "sign": "issuer.cli.sign_cmd:sign",
    "verify": "issuer.cli.verify_cmd:verify",
    "qr": "issuer.cli.qr_cmd:qr",
    "bench": "issuer.cli.bench_cmd:bench",
    "demo": "issuer.cli.demo_cmd:demo",
    "serve": "issuer.cli.serve_cmd:serve",
    # an instance of the issuer
    "init": "issuer.cli.instance_cmd:init",
    "body": "issuer.cli.body_cmd:body",
    "schemes": "issuer.cli.schemes_cmd:schemes",
    "tokens": "issuer.cli.instance_cmd:tokens",
    "users": "issuer.cli.users_cmd:users",
    "issue": "issuer.cli.instance_cmd:issue",
    "suspend": "issuer.cli.instance_cmd:suspend",
    "reinstate": "issuer.cli.instance_cmd:reinstate",
    "withdraw": "issuer.cli.instance_cmd:withdraw",
    "renew": "issuer.cli.instance_cmd:renew",
    "reduce-scope": "issuer.cli.instance_cmd:reduce_scope",
    "bulk": "issuer.cli.bulk_cmd:bulk",
    "import-csv": "issuer.cli.instance_cmd:import_csv",
    "worker": "issuer.cli.worker_cmd:worker",
    "jobs": "issuer.cli.worker_cmd:jobs_command",
    "status": "issuer.cli.instance_cmd:status_group",
    "audit": "issuer.cli.audit_cmd:audit_group",
    "register": "issuer.cli.register_cmd:register_group",
    "backup": "issuer.cli.backup_cmd:backup",
    "restore": "issuer.cli.backup_cmd:restore",
    "surveillance": "issuer.cli.surveillance_cmd:surveillance",
    "cycle": "issuer.cli.cycle_cmd:cycle",
    # what the holder takes away
    "export": "issuer.cli.wallet_cmd:export",
    "offer": "issuer.cli.wallet_cmd:offer",
    "public-page": "issuer.cli.wallet_cmd:public_page_command",
}


def load_command(target: str) -> click.Command:
    """The command at ``module:attribute``; an import error propagates (never swallowed)."""
    module, _, attribute = target.partition(":")
    command = getattr(import_module(module), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{target} is not a click command")
    return command


class LazyGroup(click.Group):
    """A group whose subcommands are imported when used (click's ``LazyGroup`` pattern), and
    whose usage errors, its own and its subcommands', are one line (``certvc: error: usage:``).
    """

    def __init__(self, *args: Any, lazy: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: dict[str, str] = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            return load_command(self.lazy[name])
        return super().get_command(ctx, name)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as error:
            raise one_line(error) from error

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            raise one_line(error) from error


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="certvc")
def main() -> None:
    """certvc: verifiable credentials for personnel-certification bodies (ISO/IEC 17024)."""


__all__ = ["COMMANDS", "LazyGroup", "load_command", "main"]
