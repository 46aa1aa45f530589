"""The certification cycle in the admin UI: surveillance records on a certification's page,
the cycle page (what needs a decision, surveillance due and overdue, the latest notes), and
the admin home's counts.

Recording is an officer's action (CSRF-checked multipart POST, audited in one transaction by
:mod:`issuer.services.surveillance`). A refused record (a bad date, an oversized or unknown
file) re-renders the certification's page with the error (4xx) and records nothing. After an
outcome other than satisfactory the page offers the moves it may call for (suspend, withdraw,
reduce scope: the lifecycle's own forms); none is taken by itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from contexts.errors import CertvcError
from verifier.web.http_errors import http_status

from ...db.models import Certification, SurveillanceKind, SurveillanceOutcome
from ...services import catalog, cycle, surveillance
from ...services.surveillance import DueState
from ..auth import CAN_ACT, CAN_READ, login_required, user_actor
from ..extensions import database, now
from ..surveillance_files import max_attachment_bytes, read_uploads, send_attachment
from .views import ACTION_LABELS, certification

bp = Blueprint("cycle_admin", __name__, url_prefix="/admin", template_folder="../../templates")

#: The lists of the cycle page (``?list=``), as the admin home links to them.
LISTS = ("decide", "overdue", "due", "notes")


@bp.app_template_global("surveillance_panel")
def surveillance_panel(cert: Certification, recorded: str | None = None) -> dict[str, Any]:
    """What the certification page shows of its surveillance: the status, the records, and
    after ``recorded`` (a record's id just saved) the moves its outcome may call for."""
    session, moment = database.session(), now()
    records = surveillance.records_of(session, cert)
    just = next((r for r in records if recorded and str(r.id) == recorded), None)
    follow_ups = surveillance.follow_ups(just, cert, moment) if just is not None else []
    return {
        "status": surveillance.status_of(cert, records, moment),
        "records": records,
        "just": just,
        "follow_ups": [(a.value, ACTION_LABELS[a]) for a in follow_ups],
        "kinds": [k.value for k in SurveillanceKind],
        "outcomes": [o.value for o in SurveillanceOutcome],
        "max_bytes": max_attachment_bytes(),
        "today": moment.date().isoformat(),
    }


@bp.app_template_global("cycle_counts")
def cycle_counts() -> cycle.Counts:
    """The admin home's three numbers (the cycle page's lists)."""
    return cycle.counts(database.session(), now())


@bp.post("/certifications/<number>/surveillance")
@login_required(CAN_ACT)
def record(number: str) -> Any:
    catalog.get_certification(database.session(), number)  # an unknown one is a 404
    form, actor, moment = request.form, user_actor(), now()
    try:
        activity = surveillance.parse_activity(form)
        limit = max_attachment_bytes()
        uploads = read_uploads(limit)
        saved = database.write(
            lambda session: (
                surveillance.record_surveillance(
                    session,
                    number,
                    activity,
                    uploads,
                    max_bytes=limit,
                    reason=form.get("reason") or None,
                    actor=actor,
                    now=moment,
                ).id
            )
        )
    except CertvcError as error:
        return certification(number, error=error, status=http_status(error.code))
    flash(f"Surveillance recorded for {number}.", "success")
    return redirect(url_for("admin.certification", number=number, recorded=saved) + "#surveillance")


@bp.get("/certifications/<number>/surveillance/<int:attachment_id>")
@login_required(CAN_READ)
def attachment(number: str, attachment_id: int) -> Response:
    return send_attachment(surveillance.get_attachment(database.session(), number, attachment_id))


@bp.get("/cycle")
@login_required(CAN_READ)
def page() -> str:
    session, moment = database.session(), now()
    shown = request.args.get("list")
    if shown not in LISTS:
        shown = None
    return render_template(
        "admin/cycle.html",
        shown=shown,
        counts=cycle.counts(session, moment),
        expiring_days=cycle.EXPIRING_SOON_DAYS,
        decisions=cycle.needs_decision(session, moment),
        due=cycle.surveillance_list(session, moment, DueState.DUE),
        overdue=cycle.surveillance_list(session, moment, DueState.OVERDUE),
        notes=cycle.recent_notes(session),
        notice_days=surveillance.DUE_NOTICE_DAYS,
    )
