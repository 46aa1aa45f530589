"""The holder's page: ``/claim/<token>``, the link a certified person gets by e-mail.

No account: the link is the key (:mod:`issuer.services.claims`). The page shows the
certificate with a live verdict, the downloads (each explained in one line), "Add to
LinkedIn", a wallet offer the holder starts (a QR code for a phone's wallet when on a computer,
a deep link when on the phone; the transaction code is shown on the same page, since opening
this page already proves the holder has the link), and the holder's own switch for the public
credential page (their consent, audited with the link as actor, CSRF-checked).

A withdrawn or replaced certificate's page says so plainly and offers nothing to share. An
unknown or malformed token is a 404 page, a revoked or expired one a 410 page; neither says
whose it was. Nothing here is cached and the token never leaves in a Referer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from contexts.errors import CertvcError
from verifier.qr_symbol import make_symbol, render_svg
from verifier.result import Verdict
from verifier.web.http_errors import http_status
from wallet_export import add_to_profile_url, certificate_view

from ...db.models import ClaimToken
from ...errors import ClaimGone, ClaimUnknown, FieldError
from ...services import claims, oid4vci
from ...services.lifecycle import credential_document
from ...services.wallet_files import ExportFormat
from ..auth import check_csrf
from ..extensions import database, issuer, now
from ..wallet import export, send, verification_url, wallet_state
from .credential_page import VERDICT_TEXT

bp = Blueprint("claim_page", __name__, template_folder="../../templates")

#: What the holder may download, each with the one line the page says about it.
DOWNLOADS: dict[ExportFormat, tuple[str, str]] = {
    ExportFormat.PDF: (
        "PDF certificate",
        "To print, or attach to a job application or tender; anyone can scan its QR code to "
        "check it is genuine.",
    ),
    ExportFormat.BADGE_PNG: (
        "Badge (PNG image)",
        "For your website, e-mail signature or a badge platform; the signed credential is "
        "inside the image, so badge verifiers can check it.",
    ),
    ExportFormat.BADGE_SVG: (
        "Badge (SVG image)",
        "The same badge as a sharp vector image, for print and high-resolution screens.",
    ),
    ExportFormat.JSON: (
        "Digital credential (JSON)",
        "The signed W3C Verifiable Credential (Open Badges 3.0) itself: import it into a "
        "digital wallet or send it to a verifier who asks for the file.",
    ),
    ExportFormat.JWT: (
        "Digital credential (vc+jwt)",
        "The same credential in the compact JWT form some wallets and verifiers ask for.",
    ),
}


def _private(response: Response) -> Response:
    """Nothing cached. (The token leaves in no Referer: the app's policy is same-origin, the
    pages say ``no-referrer`` in a meta tag, and outside links carry ``rel=noreferrer``.)"""
    response.headers["Cache-Control"] = "no-store"
    return response


def _gone_page(error: ClaimUnknown | ClaimGone) -> Response:
    gone = isinstance(error, ClaimGone)
    page = render_template("public/claim_gone.html", gone=gone)
    return _private(Response(page, status=410 if gone else 404))


def holder_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Unknown or dead links answer their own page (404/410), never the view."""

    @functools.wraps(view)
    def wrapper(token: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(token, *args, **kwargs)
        except (ClaimUnknown, ClaimGone) as error:
            return _gone_page(error)

    return wrapper


def _claim(token: str) -> ClaimToken:
    return claims.open_claim(database.session(), token, now())


def _linkedin(claim: ClaimToken) -> str | None:
    url = verification_url(claim.certification)
    if url is None:
        return None
    try:
        return add_to_profile_url(
            certificate_view(credential_document(claim.credential)), verification_url=url
        )
    except CertvcError:
        return None


def _render(token: str, claim: ClaimToken, *, offer: Any = None, status: int = 200) -> Response:
    credential = claim.credential
    document = credential_document(credential)
    view = certificate_view(document)
    standing = claims.standing(claim)
    outcome = wallet_state().verifier.verify(
        document if isinstance(document, str) else dict(document)
    )
    offer_qr = None
    if offer is not None:
        symbol = make_symbol(offer.link)
        offer_qr = Markup(render_svg(symbol, title="Credential offer for a wallet").decode())
    cert = claim.certification
    page = render_template(
        "public/claim.html",
        token=token,
        view=view,
        cert=cert,
        standing=standing,
        result=outcome.result,
        valid=outcome.result.verdict is Verdict.VALID,
        verdict_text=VERDICT_TEXT.get(outcome.result.verdict, "Could not be verified."),
        downloads=DOWNLOADS if standing.shareable else {},
        linkedin=_linkedin(claim) if standing.shareable else None,
        public_url=credential.credential_id if cert.public_page and standing.shareable else None,
        wallet=wallet_state().oid4vci is not None
        and standing.shareable
        and outcome.result.verdict is Verdict.VALID,
        offer=offer,
        offer_qr=offer_qr,
        expires_at=claim.expires_at,
    )
    return _private(Response(page, status=status))


@bp.get("/claim/<token>")
@holder_view
def page(token: str) -> Response:
    claim = _claim(token)
    claim_id, moment = claim.id, now()
    database.write(lambda session: claims.mark_opened(session, claim_id, moment))
    return _render(token, claim)


@bp.get("/claim/<token>/download/<form>")
@holder_view
def download(token: str, form: str) -> Response:
    claim = _claim(token)
    try:
        chosen = ExportFormat(form)
    except ValueError:
        raise FieldError("format", "not a download of this page") from None
    if chosen not in DOWNLOADS or not claims.standing(claim).shareable:
        raise ClaimUnknown("no such download here")
    args = {"format": chosen.value, "paper": request.args.get("paper", "a4")}
    return _private(send(export(claim.credential.credential_id, args, claims.holder_actor(claim))))


@bp.post("/claim/<token>/public-page")
@holder_view
def public_page(token: str) -> Any:
    check_csrf()
    enabled = request.form.get("enabled") == "on"
    moment = now()
    try:
        database.write(
            lambda session: claims.holder_set_public_page(session, token, enabled, now=moment)
        )
    except (ClaimUnknown, ClaimGone):
        raise
    except CertvcError as error:
        flash(error.message, "error")
        return redirect(url_for("claim_page.page", token=token), code=303)
    flash(
        "Your certificate's public page is on: anyone with its address can see it."
        if enabled
        else "Your certificate's public page is off: its address no longer answers.",
        "success",
    )
    return redirect(url_for("claim_page.page", token=token), code=303)


@bp.post("/claim/<token>/offer")
@holder_view
def offer(token: str) -> Any:
    check_csrf()
    claim = _claim(token)
    if not claims.standing(claim).shareable or wallet_state().oid4vci is None:
        raise ClaimUnknown("no wallet offer here")
    ctx, moment, actor = issuer.context(), now(), claims.holder_actor(claim)
    credential_id = claim.credential.credential_id
    try:
        result = database.write(
            lambda session: oid4vci.create_offer(
                session,
                ctx,
                credential_id,
                tx_code=True,
                by_reference=True,
                actor=actor,
                now=moment,
            )
        )
    except CertvcError as error:
        flash(error.message, "error")
        return _render(token, claim, status=http_status(error.code))
    return _render(token, claim, offer=result)
