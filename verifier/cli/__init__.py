"""The ``certvc`` command line: a stable interface that people and scripts use.

The core commands live here; packages above the verifier (the issuer, the wallet export) add
theirs through the ``certvc.commands`` entry-point group (and subcommands of ``certvc keys``
through ``certvc.commands.keys``), so this package never imports them.
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

import click

from .demo_cmd import demo
from .keys_cmd import keys
from .sign_cmd import sign
from .verify_cmd import verify

#: Core commands imported only when used: they pull in heavier libraries (Flask, image codecs).
_LAZY = {
    "bench": "verifier.cli.bench_cmd:bench",
    "qr": "verifier.cli.qr_cmd:qr",
    "serve": "verifier.cli.serve_cmd:serve",
}


def _load(target: str) -> click.Command | None:
    module, _, name = target.partition(":")
    try:
        return getattr(import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name and module.startswith(error.name):  # the module itself is absent
            return None
        raise


def plugin_commands(group: str, only: str | None = None) -> dict[str, click.Command]:
    """Commands other installed packages register under the entry-point ``group`` (``only``:
    just the one of that name, so running one command imports only its package's modules)."""
    found: dict[str, click.Command] = {}
    for ep in entry_points(group=group):
        if only is not None and ep.name != only:
            continue
        try:
            found[ep.name] = ep.load()
        except ImportError:  # the providing package is not installed here
            continue
    return found


class _CertvcGroup(click.Group):
    """Adds lazily imported core commands and plugin commands to the built-in ones."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name, target in _LAZY.items() if _load(target) is not None]
        plugins = plugin_commands("certvc.commands")
        return sorted({*super().list_commands(ctx), *lazy, *plugins})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None and name in _LAZY:
            command = _load(_LAZY[name])
        return command or plugin_commands("certvc.commands", only=name).get(name)


@click.group(cls=_CertvcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="certvc")
def main() -> None:
    """certvc: verifiable credentials for personnel-certification bodies (ISO/IEC 17024)."""


main.add_command(keys)
main.add_command(sign)
main.add_command(verify)
main.add_command(demo)

__all__ = ["main", "plugin_commands"]
