"""``certvc serve``: the web app for development (werkzeug's server; gunicorn for production).

Which app: the issuer's (``issuer.app:create_app``, which mounts the verifier), or with
``--app verifier`` the stand-alone verifier (``verifier.app:create_app``). The instance's own URL
becomes a stand-alone verifier's ``CERTVC_PUBLIC_URL`` unless set (only that origin is
allow-listed, with plain http only when it is loopback); an issuer keeps its instance's public
URL, and ``serve`` refuses to serve a development instance on another address
(:func:`check_origin`).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from contexts.errors import CertvcError, InputError

from ..errors import IssuerCode
from .common import reports_errors

#: The apps ``serve`` knows, most capable first: the issuer (which mounts the verifier) is the
#: default; ``--app verifier`` serves the stand-alone verifier.
APPS = {"issuer": "issuer.app:create_app", "verifier": "verifier.app:create_app"}

Factory = Callable[..., Any]


def find_factory(choice: str | None = None) -> tuple[str, Factory]:
    """The app factory to serve: ``choice``, else the issuer's. An app that does not import
    fails loudly (a broken issuer must not quietly serve the bare verifier).

    :raises InputError: ``choice`` names no app.
    """
    name = choice or "issuer"
    if name not in APPS:
        raise InputError(f"no app named {name!r} (apps: {', '.join(APPS)})")
    module, _, attribute = APPS[name].partition(":")
    factory: Factory = getattr(import_module(module), attribute)
    return name, factory


def _instance_url(app: Any) -> str | None:
    """The public URL an issuer app was built with (None for the stand-alone verifier)."""
    context = getattr(app, "extensions", {}).get("certvc.issuer")
    return getattr(context, "public_url", None)


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


def serve_environment(
    env: Mapping[str, str], host: str, port: int, tls: bool, *, app: str = "verifier"
) -> dict[str, str]:
    """The variables ``serve`` sets for the app: development mode when it listens on plain
    http on loopback (so it may fetch from itself), and for the stand-alone verifier its public
    URL. The issuer keeps its instance's public URL (``certvc init --public-url``, or
    ``CERTVC_PUBLIC_URL``): one instance issues for one origin, wherever it listens."""
    updates = {}
    if app != "issuer":
        updates["CERTVC_PUBLIC_URL"] = env.get("CERTVC_PUBLIC_URL") or public_url(host, port, tls)
    if not tls and _is_loopback(host) and "CERTVC_DEV_MODE" not in env:
        updates["CERTVC_DEV_MODE"] = "true"
    return updates


def check_origin(public: str, listening: str, *, name: str, explicit: bool) -> None:
    """One instance, one origin (issue 19): a development instance (its public URL on
    loopback) served on another address would issue credentials, status lists and QR codes
    pointing where nobody answers, while the CLI and the exports point at the first address.
    Refuse, naming the command that fixes it. An instance for a public host is served behind a
    proxy: its URL is not where ``serve`` listens, and that is right.

    :raises CertvcError: ``instance_url_mismatch``.
    """
    public = public.rstrip("/")
    parsed = urlsplit(public)
    if name != "issuer" or explicit or public == listening:
        return
    if parsed.scheme != "http" or not (
        _is_loopback(parsed.hostname or "") or parsed.hostname == "localhost"
    ):
        return
    there = urlsplit(listening)
    raise CertvcError(
        f"this development instance issues for {public}, not {listening}: serve it there "
        f"(certvc serve --host {parsed.hostname} --port {parsed.port or 80}), or make one for "
        f"this address (certvc init --dev --public-url {listening} --instance "
        f"instance-{there.port}, then CERTVC_INSTANCE=instance-{there.port} certvc serve "
        f"--port {there.port})",
        code=IssuerCode.INSTANCE_URL_MISMATCH,
    )


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--app",
    "app_name",
    type=click.Choice(list(APPS)),
    help="issuer (default: the instance, with the verifier at /v) or verifier (stand-alone).",
)
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
    name, factory = find_factory(app_name)
    os.environ.update(serve_environment(os.environ, host, port, tls, app=name))
    app = factory()
    from werkzeug.serving import run_simple  # noqa: PLC0415 - only when serving

    listening = public_url(host, port, tls)
    public = os.environ.get("CERTVC_PUBLIC_URL") or _instance_url(app) or listening
    click.echo(f"certvc: serving the {name} app on {listening} (public URL {public})", err=True)
    check_origin(public, listening, name=name, explicit=bool(os.environ.get("CERTVC_PUBLIC_URL")))
    run_simple(
        host,
        port,
        app,
        threaded=True,
        ssl_context=(str(tls_cert), str(tls_key)) if tls else None,
    )
