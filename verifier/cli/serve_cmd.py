"""``certvc serve``: the web app for development (werkzeug's server; gunicorn for production).

Which app: the highest-priority factory registered under the ``certvc.app`` entry-point group
(the issuer registers ``issuer = "issuer.app:create_app"`` there, and its app mounts the
verifier), else the stand-alone verifier ``verifier.app:create_app``. The instance's own URL
becomes ``CERTVC_PUBLIC_URL`` unless set, so a development verifier on 127.0.0.1 can fetch its
own status lists (only that origin is allow-listed, with plain http only when it is loopback).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from contexts.errors import InputError

from ._common import reports_errors

GROUP = "certvc.app"
DEFAULT_FACTORY = "verifier.app:create_app"
#: Known apps, most capable first; other names rank after these, alphabetically.
PRIORITY = ("issuer", "verifier")

Factory = Callable[..., Any]


def _rank(name: str) -> tuple[int, str]:
    return (PRIORITY.index(name) if name in PRIORITY else len(PRIORITY), name)


def find_factory(choice: str | None = None) -> tuple[str, Factory]:
    """The app factory to serve: ``choice`` if named, else the highest-priority one found.

    :raises InputError: ``choice`` names no registered app.
    """
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    names = sorted(found, key=_rank)
    if choice is not None and choice not in found and choice != "verifier":
        raise InputError(f"no app named {choice!r} (registered: {', '.join(names) or 'none'})")
    for name in [choice] if choice else names:
        if name not in found:
            break
        try:
            return name, found[name].load()
        except ImportError:
            continue  # registered by a package that is not importable here
    module, _, attribute = DEFAULT_FACTORY.partition(":")
    return "verifier", getattr(import_module(module), attribute)


def public_url(host: str, port: int, tls: bool) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve_environment(env: Mapping[str, str], host: str, port: int, tls: bool) -> dict[str, str]:
    """The variables ``serve`` sets for the app: its public URL, and development mode when the
    instance is plain http on loopback (so it may fetch from itself)."""
    url = env.get("CERTVC_PUBLIC_URL") or public_url(host, port, tls)
    updates = {"CERTVC_PUBLIC_URL": url}
    if not tls and _is_loopback(host) and "CERTVC_DEV_MODE" not in env:
        updates["CERTVC_DEV_MODE"] = "true"
    return updates


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--app", "app_name", metavar="NAME", help="Serve this registered app.")
@reports_errors
def serve(
    host: str,
    port: int,
    tls_cert: Path | None,
    tls_key: Path | None,
    app_name: str | None,
) -> None:
    """Serve the web app (development server; use gunicorn in production)."""
    if (tls_cert is None) != (tls_key is None):
        raise InputError("--tls-cert and --tls-key go together")
    tls = tls_cert is not None
    os.environ.update(serve_environment(os.environ, host, port, tls))
    name, factory = find_factory(app_name)
    app = factory()
    from werkzeug.serving import run_simple  # noqa: PLC0415 - only when serving

    click.echo(f"certvc: serving the {name} app at {os.environ['CERTVC_PUBLIC_URL']}", err=True)
    run_simple(
        host,
        port,
        app,
        threaded=True,
        ssl_context=(str(tls_cert), str(tls_key)) if tls else None,
    )
