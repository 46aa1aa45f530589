"""``python -m issuer``: the issuer's commands, and ``serve`` for development.

``python -m issuer serve`` runs Flask's development server on 127.0.0.1:8000 (production:
``certvc serve`` or gunicorn ``'issuer.app:create_app()'``).
"""

from __future__ import annotations

import click

from .cli import cli
from .cli_export import COMMANDS as EXPORT_COMMANDS

for _name, _command in EXPORT_COMMANDS.items():
    cli.add_command(_command, _name)


@cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the issuer for development (the instance from $CERTVC_INSTANCE)."""
    from .app import create_app  # noqa: PLC0415 - Flask only when serving

    create_app().run(host=host, port=port, threaded=True)


if __name__ == "__main__":
    cli(prog_name="python -m issuer")
