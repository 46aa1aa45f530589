"""Delivery in the admin UI: the outbox page, resending, a person's e-mail address, claim links.

``/admin/outbox`` lists every message with its state (pending, sending, sent, failed with its
last error) and says when no SMTP server is configured (then nothing is sent). Resending,
changing an address, making and revoking claim links are officers' actions: CSRF-checked
POSTs with a reason, audited by the services. A claim link made here is shown once (the page
is not cached): only its hash is kept.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from contexts.errors import CertvcError
from verifier.web.http_errors import http_status

from ...db.models import Certification, OutboxState
from ...errors import FieldError
from ...services import catalog, claims, fields, outbox
from ..auth import CAN_ACT, CAN_READ, login_required, user_actor
from ..extensions import database, issuer, now
from .views import certification

bp = Blueprint("delivery_admin", __name__, url_prefix="/admin", template_folder="../../templates")

PAGE = 50


@bp.app_template_global("delivery_panel")
def _delivery_panel(cert: Certification) -> dict[str, Any]:
    session, moment = database.session(), now()
    links = claims.links_for(session, cert.id)
    return {
        "mail": issuer.mail(),
        "links": [(link, claims.link_state(link, moment)) for link in links],
        "messages": claims.messages_for(session, cert.id),
    }


@bp.get("/outbox")
@login_required(CAN_READ)
def outbox_page() -> str:
    raw = request.args.get("state") or None
    try:
        state = fields.choice({"state": raw}, "state", OutboxState) if raw else None
    except FieldError as error:
        flash(error.message, "error")
        state = None
    page_raw = request.args.get("page", "")
    page = max(1, min(int(page_raw), 10**6)) if page_raw.isdigit() else 1
    listed = outbox.list_messages(
        database.session(), state=state, limit=PAGE, offset=(page - 1) * PAGE
    )
    return render_template(
        "admin/outbox.html",
        listed=listed,
        state=state,
        states=list(OutboxState),
        page=page,
        pages=max(1, -(-listed.total // PAGE)),
        mail=issuer.mail(),
        max_attempts=outbox.MAX_ATTEMPTS,
    )


@bp.post("/outbox/<int:message_id>/resend")
@login_required(CAN_ACT)
def resend(message_id: int) -> Any:
    moment, actor = now(), user_actor()
    reason = request.form.get("reason", "")
    try:
        database.write(
            lambda session: outbox.resend(
                session, message_id, actor=actor, reason=reason, now=moment
            )
        )
    except CertvcError as error:
        flash(f"{error.code}: {error.message}", "error")
        return redirect(url_for("delivery_admin.outbox_page")), 303
    flash(f"Message {message_id} will be sent again.", "success")
    back = request.form.get("next", "")
    if back.startswith("/admin/") and not back.startswith("//"):
        return redirect(back), 303
    return redirect(url_for("delivery_admin.outbox_page")), 303


@bp.post("/certifications/<number>/email")
@login_required(CAN_ACT)
def set_email(number: str) -> Any:
    moment, actor = now(), user_actor()
    form = request.form
    try:
        email = fields.email(form, "email")
        cert = catalog.get_certification(database.session(), number)
        person_id = cert.person_id
        database.write(
            lambda session: catalog.set_person_email(
                session, person_id, email, actor=actor, reason=form.get("reason", ""), now=moment
            )
        )
    except CertvcError as error:
        return certification(number, error=error, status=http_status(error.code))
    flash("E-mail address saved." if email else "E-mail address removed.", "success")
    return redirect(url_for("admin.certification", number=number)), 303


@bp.post("/certifications/<number>/claim-links")
@login_required(CAN_ACT)
def create_claim_link(number: str) -> Any:
    moment, actor, ttl = now(), user_actor(), issuer.claim_ttl_days()
    reason = request.form.get("reason", "")
    try:
        claim, token = database.write(
            lambda session: claims.create_link(
                session, number, actor=actor, reason=reason, now=moment, ttl_days=ttl
            )
        )
    except CertvcError as error:
        return certification(number, error=error, status=http_status(error.code))
    cert = catalog.get_certification(database.session(), number)
    page = render_template(
        "admin/claim_link.html",
        cert=cert,
        link=claims.link(issuer.context().public_url, token),
        expires=claim.expires_at,
    )
    response = Response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/claim-links/<int:claim_id>/revoke")
@login_required(CAN_ACT)
def revoke_claim_link(claim_id: int) -> Any:
    moment, actor = now(), user_actor()
    reason = request.form.get("reason", "")
    try:
        number = database.write(
            lambda session: (
                claims.revoke(
                    session, claim_id, actor=actor, reason=reason, now=moment
                ).certification.number
            )
        )
    except CertvcError as error:
        flash(f"{error.code}: {error.message}", "error")
        return redirect(url_for("admin.certifications")), 303
    flash(f"Claim link {claim_id} revoked: it no longer opens the certificate.", "success")
    return redirect(url_for("admin.certification", number=number)), 303
