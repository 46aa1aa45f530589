"""Wallet export in the admin UI: downloads, "Send to wallet", the public page switch.

The certification page (``admin/detail.html``) shows the QR code and the buttons through the
``wallet_panel`` template global; these views answer them. Downloads are for every signed-in
role; offers and the public page are officers' actions (CSRF-checked POSTs). An offer page is
shown once and not cached: it holds the transaction code.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from contexts.errors import CertvcError
from verifier.qr_symbol import make_symbol, render_svg
from verifier.web.http_errors import http_status

from ...services import catalog, oid4vci, public_page
from ..auth import CAN_ACT, CAN_READ, login_required, user_actor
from ..extensions import database, issuer, now
from ..wallet import export, send, wallet_panel
from .views import certification

bp = Blueprint("wallet_admin", __name__, url_prefix="/admin", template_folder="../../templates")


@bp.app_template_global("wallet_panel")
def _wallet_panel(cert: Any) -> Any:
    return wallet_panel(cert)


@bp.get("/certifications/<number>/export")
@login_required(CAN_READ)
def download(number: str) -> Response:
    return send(export(number, request.args, user_actor()))


@bp.post("/certifications/<number>/offer")
@login_required(CAN_ACT)
def offer(number: str) -> Any:
    ctx, moment, actor = issuer.context(), now(), user_actor()
    tx_code = request.form.get("tx_code") == "on"
    try:
        result = database.write(
            lambda session: oid4vci.create_offer(
                session, ctx, number, tx_code=tx_code, by_reference=True, actor=actor, now=moment
            )
        )
    except CertvcError as error:
        flash(f"{error.code}: {error.message}", "error")
        return redirect(url_for("admin.certification", number=number)), 303
    cert = catalog.get_certification(database.session(), number)
    symbol = make_symbol(result.link)
    svg = Markup(render_svg(symbol, title="Credential offer for a wallet").decode("utf-8"))
    page = render_template("admin/offer.html", cert=cert, offer=result, qr=svg)
    response = Response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/certifications/<number>/public-page")
@login_required(CAN_ACT)
def set_public_page(number: str) -> Any:
    enabled = request.form.get("enabled") == "on"
    moment, actor = now(), user_actor()
    try:
        database.write(
            lambda session: public_page.set_public_page(
                session,
                number,
                enabled,
                reason=request.form.get("reason", ""),
                actor=actor,
                now=moment,
            )
        )
    except CertvcError as error:
        return certification(number, error=error, status=http_status(error.code))
    flash(f"Public page {'on' if enabled else 'off'} for {number}.", "success")
    return redirect(url_for("admin.certification", number=number))
