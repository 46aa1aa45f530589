"""The issuer's Flask application factory: ``issuer.app:create_app``.

Configuration comes from the defaults below, then ``config`` (a class or a mapping), then the
environment (``CERTVC_*`` via ``app.config.from_prefixed_env``): ``CERTVC_INSTANCE``,
``CERTVC_DATABASE_URL``, ``CERTVC_PUBLIC_URL``, ``CERTVC_KEY_PASSPHRASE``,
``CERTVC_PKCS11_PIN`` (or ``CERTVC_PKCS11_PIN_FILE``), ... Nothing is read
or opened at import time. The instance must exist (``certvc init``); otherwise creating the
app fails with ``instance_not_ready``. Under gunicorn such a start-up error is one line on
stderr, as the CLI prints it, and the exit status of an app that failed to load
(:func:`create_app`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, Response, redirect, url_for
from werkzeug.routing import IntegerConverter

from keys.errors import DidError, KeyCode
from verifier.app import init_verifier
from verifier.service import setting_flag
from verifier.startup import build_or_stop

from .errors import FieldError
from .services import catalog
from .services.live_verify import InstanceFetcher, InstanceSuccessors, home_body
from .web.admin import (
    body_admin,
    bulk_page,
    cycle_pages,
    delivery,
    image_uploads,
    import_jobs,
    key_report_page,
    register_export,
    staff,
    views,
    wallet_actions,
)
from .web.api import api_v1, bulk_api, register_api, surveillance_api, vc_api, wallet_api
from .web.error_handlers import register_error_handlers
from .web.extensions import database, issuer
from .web.health import init_health
from .web.metrics import init_metrics
from .web.public import audit_checkpoints, claim_page, credential_page, documents
from .web.rate_limits import init_rate_limits
from .web.request_log import init_request_log
from .web.security_headers import init_security_headers
from .web.wallet import init_wallet

MIB = 1024 * 1024


class DefaultConfig:
    INSTANCE = "instance"
    DATABASE_URL: str | None = None
    PUBLIC_URL: str | None = None
    KEY_PASSPHRASE: str | None = None
    #: The PKCS#11 token's user PIN (an instance with --key-backend pkcs11), or a file holding it
    PKCS11_PIN: str | None = None
    PKCS11_PIN_FILE: str | None = None
    CONTEXTS_MANIFEST: str | None = None
    SECRET_KEY: str | None = None  # default: the instance's own (instance.json)
    # Request caps: JSON bodies (API) are small; the CSV upload of the admin UI is the largest.
    MAX_JSON_BYTES = 256 * 1024
    MAX_CONTENT_LENGTH = 16 * MIB
    # The largest text field of a form held in memory. Not smaller than Werkzeug's read chunk
    # (64 KiB) plus what a chunk leaves unparsed: at 64 KiB exactly, uploaded files over about
    # 170 KB were refused with 413 (issue 15) although files stream to disk and are capped by
    # MAX_CONTENT_LENGTH. 512 KiB is Werkzeug's own default.
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    MAX_FORM_PARTS = 100
    STATUS_TTL_MS = 60_000
    VC_API_SUITE = "eddsa-rdfc-2022"
    #: ``fast`` (compiled shapes) or ``reference`` (plain pyld): every signature and
    #: verification of the app, its verifier included, goes through the one chosen here.
    CANONICALIZER = "fast"
    IMPORT_IN_BACKGROUND = True
    #: Each server process runs a job worker thread from its first request on (jobs left by a
    #: stopped process are resumed); off, a thread runs only while an upload's job is pending.
    JOB_WORKER_THREAD = True
    JOB_LEASE_SECONDS = 60
    JOB_POLL_SECONDS = 5
    #: Operations (docs/deployment.md): Prometheus metrics at /metrics, off unless turned on;
    #: a bearer token they need when set; the log format (json or text; unset: logging is
    #: left as the server set it up) and level; how long /readyz waits for the database.
    METRICS = False
    METRICS_TOKEN: str | None = None
    LOG_FORMAT: str | None = None
    LOG_LEVEL = "INFO"
    READY_TIMEOUT_SECONDS = 1.0
    #: The job worker runs the certification cycle (``certvc cycle run``) this often; 0: never.
    CYCLE_INTERVAL_SECONDS = 600
    SESSION_COOKIE_NAME = "certvc_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    JSON_SORT_KEYS = False
    #: Rate-limit counts (Flask-Limiter): ``memory://`` for one process, ``redis://host:port``
    #: shared by every process; the prefix separates instances sharing one Redis.
    RATELIMIT_STORAGE_URL = "memory://"
    RATELIMIT_KEY_PREFIX = "certvc"
    #: Wrong API tokens one address may present before its API requests are refused (429).
    RATELIMIT_API_TOKEN_FAILURES = "20 per 10 minute"
    #: Reverse proxies in front of the app whose ``X-Forwarded-For`` names the client (0: none,
    #: the header is ignored). Behind one TLS proxy: 1.
    TRUSTED_PROXIES = 0
    #: The largest surveillance attachment (each file); MAX_CONTENT_LENGTH caps the request.
    SURVEILLANCE_MAX_ATTACHMENT_BYTES = 5 * MIB


#: Settings read from the environment as numbers or flags (from_prefixed_env gives text).
_INTEGERS = (
    "MAX_JSON_BYTES",
    "MAX_CONTENT_LENGTH",
    "STATUS_TTL_MS",
    "MAX_FORM_MEMORY_SIZE",
    "JOB_LEASE_SECONDS",
    "JOB_POLL_SECONDS",
    "SURVEILLANCE_MAX_ATTACHMENT_BYTES",
    "CYCLE_INTERVAL_SECONDS",
    "TRUSTED_PROXIES",
)
_FLAGS = ("IMPORT_IN_BACKGROUND", "JOB_WORKER_THREAD", "METRICS")
_NUMBERS = ("READY_TIMEOUT_SECONDS",)
_TEXT_SECRETS = (
    "KEY_PASSPHRASE",
    "SECRET_KEY",
    "PKCS11_PIN",
    "PKCS11_PIN_FILE",
    "METRICS_TOKEN",
    "SMTP_URL",
)


def _coerce(config: dict[str, Any]) -> None:
    """:raises FieldError: a setting that must be a whole number is not one."""
    for key in _INTEGERS:
        value = config.get(key)
        if isinstance(value, str):
            text = value.strip()
            if not (text.isascii() and text.isdigit() and len(text) <= 18):
                raise FieldError(f"CERTVC_{key}", f"must be a whole number, not {value!r}")
            config[key] = int(text)
    for key in _FLAGS:
        if isinstance(config.get(key), str):
            config[key] = setting_flag(config[key])
    for key in _NUMBERS:
        try:
            number = float(config[key])
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number >= 0):
            raise FieldError(f"CERTVC_{key}", f"must be a number of 0 or more, not {config[key]!r}")
        config[key] = number


class _OwnDidResolver:
    """Resolves the body's own did:web from its key ring (inside a request or app context)."""

    def resolve(self, did: str) -> dict[str, Any]:
        document = issuer.context().keyring.did_document()
        if did.split("#", 1)[0] != document["id"]:
            raise DidError(f"{did!r} is not this instance's DID", code=KeyCode.DID_UNRESOLVABLE)
        return document


def _own_logo() -> str | None:
    body = catalog.get_body(database.session())
    return url_for("public.body_logo") if body.logo is not None else None


class RecordId(IntegerConverter):
    """``<int:...>`` in the issuer's routes: a record id, 1 to 2^31 - 1 (the database's
    INTEGER). Anything larger matches no route (404), never a database overflow (500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def create_app(config: type | Mapping[str, Any] | None = None) -> Flask:
    """Build the issuer app for one instance.

    Under gunicorn (``gunicorn 'issuer.app:create_app()'``; gunicorn sets ``SERVER_SOFTWARE``
    before it loads the app), a start-up error is printed as one line, ``certvc: error:
    <code>: <what to fix>`` as the CLI prints it, and the process exits with gunicorn's status
    for an app that failed to load (4), instead of a traceback per worker.

    :raises InstanceNotReady: no instance, or its database is not migrated or cannot be
        reached (run certvc init).
    :raises KeyMaterialError: the keys cannot be opened (passphrase missing or wrong).
    :raises FieldError: a bad setting (``CERTVC_PUBLIC_URL``, a number that is not one).
    """
    return build_or_stop(lambda: _build(config))


def _build(config: type | Mapping[str, Any] | None) -> Flask:
    app = Flask(__name__)
    app.url_map.converters["int"] = RecordId
    app.config.from_object(DefaultConfig)
    if isinstance(config, type):
        app.config.from_object(config)
    elif config is not None:
        app.config.update(config)
    app.config.from_prefixed_env("CERTVC")
    # Secrets stay text exactly as given (from_prefixed_env would make "123" a number).
    for key in _TEXT_SECRETS:
        if f"CERTVC_{key}" in os.environ:
            app.config[key] = os.environ[f"CERTVC_{key}"]
    _coerce(app.config)
    app.config["INSTANCE"] = str(Path(app.config["INSTANCE"]).resolve())
    init_request_log(app)  # first: every later hook and log line has the request id

    database.init_app(app)
    issuer.init_app(app)
    init_health(app)  # /healthz, /readyz
    init_metrics(app)  # /metrics when METRICS is on (before the verifier: it counts verdicts)
    init_security_headers(
        app, https=app.extensions["certvc.issuer"].public_url.startswith("https://")
    )
    init_rate_limits(app, (api_v1.bp, vc_api.bp, wallet_api.bp, register_api.bp, bulk_api.bp))
    app.register_blueprint(documents.bp)
    app.register_blueprint(audit_checkpoints.bp)
    app.register_blueprint(vc_api.bp)
    app.register_blueprint(api_v1.bp)
    app.register_blueprint(views.bp)
    import_jobs.init_app(app)
    app.register_blueprint(image_uploads.bp)
    app.register_blueprint(body_admin.bp)
    app.register_blueprint(register_export.bp)
    app.register_blueprint(key_report_page.bp)
    app.register_blueprint(register_api.bp)
    # The verifier page (/v) and API: QR codes of our credentials open here. It knows the body
    # first-hand: its DID document (every key, current and retired), so a development instance
    # on plain http verifies what it issued without fetching itself; its status lists and
    # credentials straight from the database, so a withdrawal shows on the very next check;
    # and it vouches for its own body without a trust list (other bodies only through one).
    ctx = app.extensions["certvc.issuer"]
    reader = app.extensions["certvc.db"].reader
    app.config.setdefault("VERIFIER_OWN_RESOLVER", _OwnDidResolver())
    app.config.setdefault("VERIFIER_LOCAL_SOURCE", InstanceFetcher(reader, ctx))
    app.config.setdefault("VERIFIER_HOME", home_body(reader, ctx, logo_url=_own_logo))
    app.config.setdefault("VERIFIER_SUCCESSORS", InstanceSuccessors(reader))
    init_verifier(app)
    init_wallet(app)  # exports, OpenID4VCI (https instances), the public page's verifier
    app.register_blueprint(wallet_api.bp)
    app.register_blueprint(wallet_actions.bp)
    app.register_blueprint(credential_page.bp)
    app.register_blueprint(staff.bp)  # staff accounts (issue 12)
    app.register_blueprint(bulk_page.bp)  # bulk status changes (issue 12)
    app.register_blueprint(bulk_api.bp)
    app.register_blueprint(surveillance_api.bp)  # the certification cycle (issue 13)
    app.register_blueprint(cycle_pages.bp)
    app.register_blueprint(delivery.bp)  # the outbox, claim links (issue 13)
    app.register_blueprint(claim_page.bp)  # the holder's page (issue 13)
    register_error_handlers(app)
    app.add_url_rule("/", "home", _home)
    return app


def _home() -> Response:
    """The public face of the instance is the verifier page; staff go to /admin/."""
    return redirect(url_for("verifier.page"))
