"""The admin UI: server-rendered pages that work without JavaScript.

Officers certify and act on certifications, auditors read the records and the audit log,
admins do both. Views are thin: parse the form, call one service in one transaction, render.
A refused action re-renders its page with the error next to the form (HTTP 4xx), never a 500.
"""

from __future__ import annotations

import json
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from contexts.errors import CertvcError
from verifier.web.http_errors import http_status

from ...db.models import Action, JobState, State
from ...errors import FieldError, NotFound
from ...services import (
    audit,
    catalog,
    csv_import,
    fields,
    jobs,
    lifecycle,
    register,
    staff_sessions,
)
from ..auth import (
    CAN_ACT,
    CAN_AUDIT,
    CAN_READ,
    check_csrf,
    csrf_token,
    current_user,
    login_required,
    rotate_csrf,
    user_actor,
)
from ..extensions import database, issuer, now
from . import import_jobs

bp = Blueprint(
    "admin",
    __name__,
    url_prefix="/admin",
    template_folder="../../templates",
    static_folder="../../static",
)

PAGE = 50
ACTION_LABELS = {
    Action.SUSPEND: "Suspend",
    Action.REINSTATE: "Reinstate",
    Action.WITHDRAW: "Withdraw (final)",
    Action.RENEW: "Renew",
    Action.REDUCE_SCOPE: "Reduce scope",
}

#: The box a withdrawal form must have ticked (withdrawal is final; checked here, not only in
#: the browser).
CONFIRM_WITHDRAW = "confirm_final"


@bp.app_context_processor
def _template_globals() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "current_user": current_user, "State": State}


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//"):
        return target
    return url_for("admin.certifications")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error = None
    status = 200
    if request.method == "POST":
        check_csrf()
        username = request.form.get("username", "")[:100]
        password = request.form.get("password", "")[:1000]
        remote = request.remote_addr or ""
        moment = now()
        outcome = database.write(
            lambda s: staff_sessions.sign_in(
                s, username=username, password=password, remote=remote, now=moment
            )
        )
        if outcome.token is not None:
            session.clear()
            session["sid"] = outcome.token
            session.permanent = True
            rotate_csrf()
            return redirect(_safe_next(request.args.get("next")))
        if outcome.wait is not None:
            minutes = max(1, -(-int(outcome.wait.total_seconds()) // 60))
            error, status = (
                f"Too many failed sign-ins: try again in {minutes} minute"
                f"{'' if minutes == 1 else 's'}.",
                429,
            )
        else:
            error, status = "Unknown user name or wrong password.", 401
    response = make_response(render_template("admin/login.html", error=error), status)
    if status == 429 and outcome.wait is not None:
        response.headers["Retry-After"] = str(int(outcome.wait.total_seconds()) + 1)
    return response


@bp.post("/logout")
def logout() -> Response:
    check_csrf()
    token, moment = session.get("sid"), now()
    database.write(lambda s: staff_sessions.sign_out(s, token, now=moment))
    session.clear()
    rotate_csrf()
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required(CAN_READ)
def certifications() -> str:
    state = request.args.get("state") or None
    try:
        search = catalog.Search(
            person=fields.text(request.args, "person", required=False),
            number=fields.text(request.args, "number", required=False, max_length=64),
            scheme=fields.text(request.args, "scheme", required=False, max_length=64),
            state=fields.choice({"state": state}, "state", State) if state else None,
            expiring_within=register.parse_days(request.args),
        )
    except FieldError as error:
        search = catalog.Search()
        flash(error.message, "error")
    page = _page()
    moment = now()
    rows, total = catalog.search_certifications(
        database.session(), search, now=moment, limit=PAGE, offset=(page - 1) * PAGE
    )
    return render_template(
        "admin/list.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        search=search,
        schemes=catalog.list_schemes(database.session()),
        now=moment,
        counts=register.counts(database.session(), now=moment),
    )


@bp.route("/certify", methods=["GET", "POST"])
@login_required(CAN_ACT)
def certify() -> Any:
    schemes = catalog.list_schemes(database.session())
    error = None
    if request.method == "POST":
        form = request.form
        try:
            issue = lifecycle.IssueRequest(
                scheme_code=fields.code(form, "scheme") or "",
                scope=fields.required_text(form, "scope", max_length=2000, multiline=True),
                person_name=fields.required_text(form, "name"),
                person_reference=fields.text(form, "reference", required=False, max_length=100),
                person_email=fields.email(form, "email"),
                number=fields.code(form, "number", required=False),
                effective=fields.moment(form, "effective"),
            )
            ctx, moment, actor = issuer.context(), now(), user_actor()
            number = database.write(
                lambda s: (
                    lifecycle.issue(
                        s, ctx, issue, reason=form.get("reason", ""), actor=actor, now=moment
                    ).number
                )
            )
            flash(f"Certification {number} issued.", "success")
            return redirect(url_for("admin.certification", number=number))
        except CertvcError as failure:
            error = failure
    status = 200 if error is None else _status(error)
    return render_template("admin/certify.html", schemes=schemes, error=error), status


def _status(error: CertvcError) -> int:
    return http_status(error.code)


def _page() -> int:
    raw = request.args.get("page", "")
    if not (raw.isascii() and raw.isdigit()):  # "²" is a digit to isdigit, not to int
        return 1
    return 10**6 if len(raw) > 7 else max(1, min(int(raw), 10**6))


@bp.route("/certifications/<number>", methods=["GET"])
@login_required(CAN_READ)
def certification(number: str, error: CertvcError | None = None, status: int = 200) -> Any:
    cert = catalog.get_certification(database.session(), number)
    moment = now()
    shown = cert.state_at(moment)
    allowed = [a for a in ACTION_LABELS if a in lifecycle.ALLOWED[shown]]
    if cert.state is State.SUSPENDED and Action.RENEW in allowed:
        allowed.remove(Action.RENEW)
    events, _ = audit.events(database.session(), subject=cert.number, limit=50)
    return render_template(
        "admin/detail.html",
        cert=cert,
        shown=shown,
        allowed=allowed,
        labels=ACTION_LABELS,
        events=events,
        error=error,
        now=moment,
        confirm_field=CONFIRM_WITHDRAW,
    ), status


@bp.post("/certifications/<number>/<action>")
@login_required(CAN_ACT)
def act(number: str, action: str) -> Any:
    try:
        chosen = Action(action)
    except ValueError:
        abort(404)
    if chosen not in ACTION_LABELS:
        abort(404)
    form = request.form
    try:
        if chosen is Action.WITHDRAW and form.get(CONFIRM_WITHDRAW) != "yes":
            raise FieldError(
                CONFIRM_WITHDRAW, "withdrawal is final: tick the box to confirm it (nothing done)"
            )
        scope = fields.text(form, "scope", required=False, max_length=2000, multiline=True)
        effective = fields.moment(form, "effective")
        ctx, moment, actor = issuer.context(), now(), user_actor()
        database.write(
            lambda s: lifecycle.transition(
                s,
                ctx,
                number,
                chosen,
                reason=form.get("reason", ""),
                actor=actor,
                now=moment,
                scope=scope,
                effective=effective,
            )
        )
    except NotFound:
        raise
    except CertvcError as error:
        return certification(number, error=error, status=_status(error))
    flash(f"{ACTION_LABELS[chosen].split(' (')[0]}: done for {number}.", "success")
    return redirect(url_for("admin.certification", number=number))


@bp.get("/certifications/<number>/credential.json")
@login_required(CAN_READ)
def download(number: str) -> Response:
    cert = catalog.get_certification(database.session(), number)
    current = cert.current_credential
    if current is None:
        raise NotFound(f"certification {number} has no credential")
    document = lifecycle.credential_document(current)
    if isinstance(document, str):
        body, mimetype, suffix = document, "application/vc+jwt", "jwt"
    else:
        body = json.dumps(document, indent=2, ensure_ascii=False)
        mimetype, suffix = "application/vc", "json"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{number}.{suffix}"'
    return response


@bp.route("/import", methods=["GET", "POST"])
@login_required(CAN_ACT)
def import_csv() -> Any:
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise FieldError("file", "choose a CSV file to upload")
            text = csv_import.decode(upload.read())
            csv_import.columns(text)  # a bad header row is refused here, not in the job
            reason = audit.check_reason(request.form.get("reason", ""))
            job_id = import_jobs.start(
                text, source=upload.filename, reason=reason, actor=user_actor(), now=now()
            )
            return redirect(url_for("admin.import_job", job_id=job_id))
        except CertvcError as failure:
            error = failure
    status = 200 if error is None else _status(error)
    return render_template("admin/import.html", error=error), status


@bp.get("/import/template.csv")
@login_required(CAN_ACT)
def import_template() -> Response:
    """The CSV template: every column and one example row, with a byte-order mark so that a
    spreadsheet opens it as UTF-8."""
    response = Response("\ufeff" + csv_import.TEMPLATE, mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="certvc-import-template.csv"'
    return response


@bp.get("/import/<int:job_id>")
@login_required(CAN_ACT)
def import_job(job_id: int) -> str:
    job = jobs.get(database.session(), job_id)
    return render_template(
        "admin/import_job.html",
        job=job,
        report=json.loads(job.report),
        running=job.state in (JobState.QUEUED, JobState.RUNNING),
    )


@bp.get("/audit")
@login_required(CAN_AUDIT)
def audit_log() -> str:
    page = _page()
    subject = fields.text(request.args, "subject", required=False, max_length=600)
    rows, total = audit.events(
        database.session(), limit=PAGE, offset=(page - 1) * PAGE, subject=subject
    )
    chain = audit.verify_chain(
        database.session(), mac_key=issuer.context().keyring.audit_key().load()
    )
    return render_template(
        "admin/audit.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE)),
        chain=chain,
        subject=subject,
    )
