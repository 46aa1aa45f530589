"""The issuer's rate limits: API token guessing, per address (issue 16, finding 2).

A request to the APIs that presents a bearer token the issuer does not know (401
``auth_required``) counts against its address; past ``RATELIMIT_API_TOKEN_FAILURES``
(``CERTVC_RATELIMIT_API_TOKEN_FAILURES``, default 20 in 10 minutes, a sliding window) every API
request from that address is 429 ``rate_limited`` with ``Retry-After``, the right token's too,
until the window has room again. Each refusal is logged with the address. Requests with a valid
token, or none, are not counted.

The counts are Flask-Limiter's, in the storage every process shares
(``verifier.web.rate_limits``: ``CERTVC_RATELIMIT_STORAGE_URL``). Sign-in throttling is not
here: it counts per account and per address in the database and audits every attempt
(``issuer.services.staff_sessions``; ``docs/security.md`` says why it stays).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, Response

from verifier.web.rate_limits import init_limiter, log_breach, trust_proxies

from .auth import bearer_token

#: Wrong API tokens one address may present in the window before it is refused.
DEFAULT_TOKEN_FAILURES = "20 per 10 minute"


def _wrong_token(response: Response) -> bool:
    """Counted: a token was presented and refused as unknown or revoked."""
    return response.status_code == 401 and bearer_token() is not None


def init_rate_limits(app: Flask, api_blueprints: Iterable[Blueprint]) -> None:
    """Attach the app's limiter and the token-guessing limit shared by ``api_blueprints``;
    believe ``TRUSTED_PROXIES`` proxies about the client's address (sign-in throttling and the
    audit log read the same address)."""
    trust_proxies(app)
    app.config.setdefault("RATELIMIT_API_TOKEN_FAILURES", DEFAULT_TOKEN_FAILURES)
    guessing = init_limiter(app).shared_limit(
        str(app.config["RATELIMIT_API_TOKEN_FAILURES"]),
        scope="api-token-failures",
        deduct_when=_wrong_token,
        error_message="too many requests with a wrong API token from this address; try again later",
        on_breach=log_breach,
    )
    for blueprint in api_blueprints:
        guessing(blueprint)
