"""Bulk status changes in the admin UI (issue 12): ``/admin/bulk``, officers and admins.

Three steps, each a CSRF-checked form: the selection (scheme, state, numbers, references,
expiring before), an action and a reason give a dry run (reads only: what would change, what
would be refused and why); its confirmation form carries the same selection in hidden fields
with the dry run's fingerprint, and applying it changes exactly that or nothing
(``conflict`` when the selection now gives something else). Withdrawal is final, so its
confirmation needs "I understand this is final" ticked, checked here too. A refused form
re-renders the page with the error (4xx), never a 500.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, render_template, request

from contexts.errors import CertvcError
from verifier.web.http_errors import http_status

from ...db.models import Action, State
from ...errors import FieldError
from ...services import audit, catalog, fields
from ...services import bulk as bulk_service
from ..auth import CAN_ACT, login_required, user_actor
from ..extensions import database, issuer, now

bp = Blueprint("bulk_admin", __name__, url_prefix="/admin", template_folder="../../templates")

CONFIRM_FIELD = "confirm_final"


def _parse(form: Mapping[str, Any]) -> tuple[bulk_service.Selection, Action, str]:
    """:raises FieldError: (and its subclasses) naming the field."""
    action = bulk_service.parse_action(form.get("action"))
    selection = bulk_service.parse_selection(
        {
            "scheme": form.get("scheme"),
            "state": form.get("state"),
            "numbers": form.get("numbers", ""),
            "references": form.get("references", ""),
            "expiringBefore": form.get("expiring_before"),
        }
    )
    return selection, action, audit.check_reason(form.get("reason"))


def _page(
    *,
    report: bulk_service.Report | None = None,
    error: CertvcError | None = None,
    target: str = "select",
) -> Any:
    """The page: the selection form (filled with the request's form), then the dry run and its
    confirmation, or what the real run did; ``target`` names the form ``error`` belongs to."""
    page = render_template(
        "admin/bulk.html",
        form=request.form,
        schemes=catalog.list_schemes(database.session()),
        states=list(State),
        actions=bulk_service.BULK_ACTIONS,
        report=report,
        error=error,
        target=target,
        confirm_field=CONFIRM_FIELD,
        max_selection=bulk_service.MAX_SELECTION,
    )
    return page, 200 if error is None else http_status(error.code)


@bp.get("/bulk")
@login_required(CAN_ACT)
def page() -> Any:
    return _page()


@bp.post("/bulk")
@login_required(CAN_ACT)
def dry_run() -> Any:
    try:
        selection, action, _ = _parse(request.form)
        report = bulk_service.plan(database.session(), selection, action, now())
    except CertvcError as error:
        return _page(error=error)
    return _page(report=report)


@bp.post("/bulk/apply")
@login_required(CAN_ACT)
def apply() -> Any:
    form = request.form
    try:
        selection, action, reason = _parse(form)
        expect = fields.text(form, "fingerprint", required=False, max_length=64)
    except CertvcError as error:
        return _page(error=error)
    if action is Action.WITHDRAW and form.get(CONFIRM_FIELD) != "yes":
        unconfirmed = FieldError(
            CONFIRM_FIELD, "withdrawal is final: tick 'I understand this is final' to apply it"
        )
        try:
            report = bulk_service.plan(database.session(), selection, action, now())
        except CertvcError as failure:
            return _page(error=failure)
        return _page(report=report, error=unconfirmed, target="confirm")
    try:
        report = bulk_service.apply(
            database.write,
            issuer.context(),
            selection,
            action,
            reason=reason,
            actor=user_actor(),
            now=now(),
            expect=expect,
        )
    except CertvcError as error:
        return _page(error=error, target="confirm")
    database.session().rollback()  # what the chunks committed is what the page reads next
    return _page(report=report)
