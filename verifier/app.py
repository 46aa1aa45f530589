"""The verifier web app: ``create_app`` for a stand-alone verifier, ``init_verifier`` to mount it.

Configuration (STYLE §2): defaults below, then ``config`` (a mapping or an object), then the
environment with the ``CERTVC_`` prefix (``CERTVC_PUBLIC_URL``, ``CERTVC_VERIFIER_TRUST_FILE``,
...). Nothing is read or opened at import time.

The verifier allow-lists its own public URL for fetches (``PUBLIC_URL``), so a development
instance on 127.0.0.1 verifies the credentials it issued itself, and nothing else on loopback.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from contexts.errors import ErrorCode, InputError
from contexts.loader import ContextStore, default_store

from .service import Verifier, VerifierSettings, setting_flag
from .startup import build_or_stop
from .web.http_errors import http_error_code
from .web.rate_limits import init_limiter, log_breach, per_window, trust_proxies
from .web.views import EXTENSION, VerifierExtension, bp, error_response

log = logging.getLogger(__name__)


class DefaultConfig:
    """Every setting the verifier reads, with its default."""

    #: This instance's public URL (allow-listed for fetches; the QR deep links point here).
    PUBLIC_URL: str | None = None
    #: Development mode: plain http allowed to allow-listed loopback origins.
    DEV_MODE = False
    #: Trust list file (docs/verifier.md); without one no issuer is vouched for (but the body
    #: this verifier is mounted on, when it is).
    VERIFIER_TRUST_FILE: str | None = None
    #: Development only: accept any issuer without a trust list (the trust check is skipped).
    VERIFIER_TRUST_ANY = False
    #: VC API endpoints: an untrusted issuer makes ``verified`` false even when ``options.checks``
    #: does not name "trust".
    VC_API_ENFORCE_TRUST = False
    #: Who runs this verifier, named on its page (a stand-alone verifier; a mounted one names
    #: its body).
    VERIFIER_OPERATOR = "Independent certificate verifier"
    #: ``fast`` (compiled shapes) or ``reference`` (the plain pyld path): the same answers.
    CANONICALIZER = "fast"
    #: Directory for cached status lists (kept across restarts); memory only when unset.
    VERIFIER_CACHE_DIR: str | None = None
    #: More origins allowed past the private-address check (space or comma separated).
    VERIFIER_ALLOW_ORIGINS = ""
    VERIFIER_MAX_JSON_BYTES = 1024 * 1024
    VERIFIER_MAX_UPLOAD_BYTES = 12 * 1024 * 1024
    #: Per client address on the POST endpoints: this many a minute on average, at most
    #: ``VERIFIER_RATE_BURST`` at once (Flask-Limiter, ``verifier.web.rate_limits``); 0: off.
    VERIFIER_RATE_PER_MINUTE = 60
    VERIFIER_RATE_BURST = 20
    #: Where rate-limit counts live: ``memory://`` (one process) or ``redis://host:port``
    #: (shared by every process); ``RATELIMIT_KEY_PREFIX`` separates instances on one Redis.
    RATELIMIT_STORAGE_URL = "memory://"
    RATELIMIT_KEY_PREFIX = "certvc"
    #: Reverse proxies in front of the app whose ``X-Forwarded-For`` names the client (0: none).
    TRUSTED_PROXIES = 0
    CONTEXTS_MANIFEST: str | None = None
    # Injected parts (tests): a clock () -> datetime, a Fetcher, a ContextStore.
    VERIFIER_CLOCK = None
    VERIFIER_FETCHER = None
    VERIFIER_STORE = None
    #: A DidResolver asked first (the issuer mounting this verifier answers for its own DID).
    VERIFIER_OWN_RESOLVER = None
    #: The body this verifier is mounted on (``verifier.trust.HomeBody``): trusted without a
    #: trust list, named on the page.
    VERIFIER_HOME = None
    #: Its own documents, read first-hand (``verifier.fetch.LocalSource``): status changes show
    #: on the very next verification, not after a cache's lifetime.
    VERIFIER_LOCAL_SOURCE = None
    #: The home body's record of replaced credentials (``verifier.service.Successors``): its
    #: superseded credentials are SUPERSEDED here, not REVOKED.
    VERIFIER_SUCCESSORS = None
    #: Told every verification result (a callable; the issuer's metrics count verdicts).
    VERIFIER_ON_RESULT = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _origins(config: Mapping[str, Any]) -> tuple[str, ...]:
    raw = config.get("VERIFIER_ALLOW_ORIGINS") or ""
    items = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    public = config.get("PUBLIC_URL")
    if public:
        items.append(public)
    return tuple(items)


def _store(config: Mapping[str, Any]) -> ContextStore:
    injected: ContextStore | None = config.get("VERIFIER_STORE")
    if injected is not None:
        return injected
    manifest = config.get("CONTEXTS_MANIFEST")
    return ContextStore.pinned(extra_manifest=Path(manifest)) if manifest else default_store()


def init_verifier(app: Flask) -> None:
    """Mount the verifier (page at ``/v``, API endpoints) on ``app`` with its configuration.

    :raises TrustListError: the configured trust list is unreadable or invalid (at start-up,
        not on the first request).
    """
    for name in dir(DefaultConfig):
        if name.isupper():
            app.config.setdefault(name, getattr(DefaultConfig, name))
    config = app.config
    clock = config["VERIFIER_CLOCK"] or _utc_now
    trust = config["VERIFIER_TRUST_FILE"]
    cache = config["VERIFIER_CACHE_DIR"]
    settings = VerifierSettings(
        allow_origins=_origins(config),
        dev_mode=setting_flag(config["DEV_MODE"]),
        trust_file=Path(trust) if trust else None,
        trust_any=setting_flag(config["VERIFIER_TRUST_ANY"]),
        canonicalizer=config["CANONICALIZER"],
        cache_dir=Path(cache) if cache else None,
    )
    home = config["VERIFIER_HOME"]
    verifier = Verifier.from_settings(
        settings,
        store=_store(config),
        clock=clock,
        fetcher=config["VERIFIER_FETCHER"],
        own_resolver=config["VERIFIER_OWN_RESOLVER"],
        home=home,
        local=config["VERIFIER_LOCAL_SOURCE"],
        successors=config["VERIFIER_SUCCESSORS"],
        on_result=config["VERIFIER_ON_RESULT"],
    )
    if home is None and settings.trust_file is None and not settings.trust_any:
        log.warning(
            "no trust list (CERTVC_VERIFIER_TRUST_FILE): this verifier vouches for no issuer, "
            "every credential is UNTRUSTED_ISSUER"
        )
    rate = float(config["VERIFIER_RATE_PER_MINUTE"] or 0)
    if rate > 0:
        init_limiter(app).shared_limit(
            per_window(rate, int(config["VERIFIER_RATE_BURST"])),
            methods=["POST"],
            scope="verifier",
            error_message="too many requests; try again shortly",
            on_breach=log_breach,
        )(bp)
    app.extensions[EXTENSION] = VerifierExtension(
        verifier=verifier,
        max_json_bytes=int(config["VERIFIER_MAX_JSON_BYTES"]),
        max_upload_bytes=int(config["VERIFIER_MAX_UPLOAD_BYTES"]),
        clock=clock,
        enforce_trust=setting_flag(config["VC_API_ENFORCE_TRUST"]),
        operator=str(config["VERIFIER_OPERATOR"]),
    )
    app.register_blueprint(bp)


def _json_errors(app: Flask) -> None:
    """A stand-alone verifier answers every error in JSON (the issuer has its own handlers)."""

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        status, code = http_error_code(error)
        return error_response(status, code, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:  # a bug: logged, answered without detail
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, ErrorCode.INTERNAL_ERROR, "internal error")


def create_app(config: Mapping[str, Any] | object | None = None) -> Flask:
    """A stand-alone verifier (``certvc serve``, gunicorn ``verifier.app:create_app()``).

    Under gunicorn a start-up error (an unreadable trust list, a setting that is not a
    number) is one line and a stop (:mod:`verifier.startup`).

    :raises TrustListError: the trust list is unreadable or invalid.
    :raises InputError: a number setting is not one.
    """
    return build_or_stop(lambda: _build(config))


#: Settings that are numbers (from the environment they arrive as text): whole ones, and the
#: rate, which may have a fraction.
_WHOLE_SETTINGS = (
    "TRUSTED_PROXIES",
    "VERIFIER_RATE_BURST",
    "VERIFIER_MAX_JSON_BYTES",
    "VERIFIER_MAX_UPLOAD_BYTES",
)
_RATE_SETTING = "VERIFIER_RATE_PER_MINUTE"


def _coerce_numbers(config: dict[str, Any]) -> None:
    """Number settings given as text become numbers.

    :raises InputError: one that is not a number of 0 or more (whole where it must be).
    """
    for name in (*_WHOLE_SETTINGS, _RATE_SETTING):
        value = config.get(name)
        if value is None:
            continue
        number: float
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            number = math.nan
        elif isinstance(value, str):
            try:
                number = float(value) if name == _RATE_SETTING else int(value.strip())
            except ValueError:
                number = math.nan
        else:
            number = value
        if not (math.isfinite(number) and number >= 0):
            raise InputError(f"CERTVC_{name} must be a number of 0 or more, not {value!r}")
        config[name] = number


def _build(config: Mapping[str, Any] | object | None) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.from_object(DefaultConfig)
    if isinstance(config, Mapping):
        app.config.from_mapping(config)
    elif config is not None:
        app.config.from_object(config)
    app.config.from_prefixed_env("CERTVC")
    _coerce_numbers(app.config)
    trust_proxies(app)
    init_verifier(app)
    _json_errors(app)

    @app.get("/")
    def index() -> Response:
        return redirect(url_for("verifier.page"))  # type: ignore[return-value]

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness for a load balancer: the process serves (it keeps no database)."""
        response = jsonify({"status": "ok"})
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
