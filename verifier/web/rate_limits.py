"""Rate limits through Flask-Limiter, with a storage every server process shares.

One limiter per app, for the verifier's limits and those of the issuer it is mounted in. The
counts live in ``RATELIMIT_STORAGE_URL`` (``CERTVC_RATELIMIT_STORAGE_URL``): ``memory://``
(the default) counts in the process, right for one process only; ``redis://host:port`` is one
count for every process and every server behind the same Redis. A storage that cannot be
reached falls back to counting in memory (Flask-Limiter logs it) rather than failing requests.

Created per app, not as one module-level extension: Flask-Limiter keeps its storage on the
``Limiter`` object, so two apps in one process (tests, the verifier mounted in the issuer next
to a stand-alone one) would otherwise share counts and configuration.

A refused request is 429 with ``Retry-After`` (seconds until the window lets one through) and
the code ``rate_limited``; the answers are rendered by each app's own error handler.

Limits count per client address. Behind a reverse proxy every request comes from the proxy's
address, so one client's excess would refuse everyone: ``TRUSTED_PROXIES``
(``CERTVC_TRUSTED_PROXIES``, default 0) says how many proxies in front of the app to believe
about ``X-Forwarded-For`` (werkzeug's ``ProxyFix``); with 0 the header is ignored, so a client
cannot pick the address it is counted under.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, Response
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

log = logging.getLogger(__name__)

EXTENSION = "certvc_limiter"
#: Sliding windows: a client's count is what it sent in the last window, never reset at once.
STRATEGY = "moving-window"


def init_limiter(app: Flask) -> Limiter:
    """The app's limiter (made on the first call, then the same one).

    ``RATELIMIT_STORAGE_URL`` names the storage (default ``memory://``) and
    ``RATELIMIT_KEY_PREFIX`` separates instances that share one Redis (default ``certvc``).
    """
    existing: Limiter | None = app.extensions.get(EXTENSION)
    if existing is not None:
        return existing
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=str(app.config.get("RATELIMIT_STORAGE_URL") or "memory://"),
        strategy=STRATEGY,
        key_prefix=str(app.config.get("RATELIMIT_KEY_PREFIX") or "certvc"),
        in_memory_fallback_enabled=True,
        headers_enabled=False,
    )
    limiter.init_app(app)
    app.extensions[EXTENSION] = limiter

    @app.after_request
    def _retry_after(response: Response) -> Response:
        if response.status_code == 429 and "Retry-After" not in response.headers:
            breached = limiter.current_limit
            if breached is not None and breached.breached:
                response.headers["Retry-After"] = str(retry_after(breached))
        return response

    return limiter


def trust_proxies(app: Flask) -> None:
    """Take the client's address from ``X-Forwarded-For`` as set by ``TRUSTED_PROXIES``
    proxies (0, the default: the connecting address, the header ignored)."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops < 0:
        raise ValueError("TRUSTED_PROXIES is a number of proxies, 0 or more")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops)  # type: ignore[method-assign]


def retry_after(limit: RequestLimit) -> int:
    """Whole seconds until the limit lets a request through again (at least 1)."""
    return max(1, math.ceil(limit.reset_at - time.time()))


def per_window(per_minute: float, burst: int) -> str:
    """A Flask-Limiter limit for "``per_minute`` on average, at most ``burst`` at once":
    ``burst`` requests in a sliding window of ``burst / per_minute`` minutes."""
    if per_minute <= 0 or burst < 1:
        raise ValueError("the rate must be positive and the burst at least 1")
    return f"{burst} per {max(1, round(burst * 60 / per_minute))} second"


def log_breach(limit: RequestLimit) -> None:
    """``on_breach``: every refusal is logged (its key names the address)."""
    log.warning(
        "rate limit %s reached for %s; refused for %ss",
        limit.limit,
        limit.key,
        retry_after(limit),
    )
