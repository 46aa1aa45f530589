"""The ``certvc`` command line: a stable interface that people and scripts use.

The core commands live here; packages above the verifier (the issuer, the wallet export) add
theirs through the ``certvc.commands`` entry-point group, so this package never imports them.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from .demo_cmd import demo
from .keys_cmd import keys
from .sign_cmd import sign
from .verify_cmd import verify


class _CertvcGroup(click.Group):
    """Loads plugin commands lazily, so a verifier-only install works without them."""

    def _plugins(self) -> dict[str, click.Command]:
        found: dict[str, click.Command] = {}
        for ep in entry_points(group="certvc.commands"):
            try:
                found[ep.name] = ep.load()
            except ImportError:  # the providing package is not installed here
                continue
        return found

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugins()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._plugins().get(name)


@click.group(cls=_CertvcGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="certvc")
def main() -> None:
    """certvc: verifiable credentials for personnel-certification bodies (ISO/IEC 17024)."""


main.add_command(keys)
main.add_command(sign)
main.add_command(verify)
main.add_command(demo)

__all__ = ["main"]
