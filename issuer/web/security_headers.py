"""Security headers on every response of the issuer app (issue 16), set by flask-talisman.

Talisman sets ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``, the
``Referrer-Policy``, a ``Permissions-Policy`` and, when the public URL is https, HSTS (only on
requests that arrived over https, as a TLS proxy reports them with ``X-Forwarded-Proto``).

The Content-Security-Policy is the one header set here rather than by Talisman: Talisman
replaces whatever policy a view set, and three kinds of response need their own: the verifier
page (the camera, ``blob:`` media), a downloaded file and an uploaded SVG (no script, inline
styles only). So :data:`PAGE_POLICY` is added to every response that has no policy yet, and a
view's own stands. The admin UI and the public pages run no script of their own and no inline
style, so the default allows only what this origin serves.
"""

from __future__ import annotations

from flask import Flask, Response
from flask_talisman import Talisman

#: The policy of every page that sets none of its own.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HSTS_MAX_AGE = 365 * 24 * 3600


def init_security_headers(app: Flask, *, https: bool) -> Talisman:
    """Talisman on ``app``; HSTS when the instance is served over https."""
    talisman = Talisman(
        app,
        force_https=False,  # TLS ends at the proxy; plain http stays for development
        strict_transport_security=https,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=False,  # the body's other hosts are its own
        frame_options="DENY",
        content_security_policy=None,  # see the module docstring: set below, views may own it
        referrer_policy="same-origin",
        # The verifier page (/v) scans QR codes with the camera; nothing else asks for devices.
        permissions_policy={"camera": "(self)", "geolocation": "()", "microphone": "()"},
        session_cookie_secure=https,
        session_cookie_http_only=True,
        x_xss_protection=False,  # obsolete; a CSP replaces it
    )

    @app.after_request
    def _default_policy(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        return response

    return talisman
