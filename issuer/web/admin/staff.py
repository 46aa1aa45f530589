"""Staff accounts in the admin UI (issue 12): ``/admin/staff``, admins only.

One page lists the accounts (user name, role, active or disabled) with a form to create one,
and for each account CSRF-checked POST forms, each with a reason: change the role, disable or
enable, reset the password. Every form runs one service of :mod:`issuer.services.accounts` in
one transaction (audited as ``user.create`` / ``user.update``). A refused form re-renders the
page with the error code next to that form (4xx), never a 500.

A generated password is shown once, in the answer to the POST that set it (``Cache-Control:
no-store``), never through the flash messages: those live in the session cookie, which is
signed but not encrypted.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from contexts.errors import CertvcError
from verifier.web.http_errors import http_status

from ...db.models import Role
from ...services import accounts
from ..auth import CAN_CONFIGURE, current_user, login_required, user_actor
from ..extensions import database, now

bp = Blueprint("staff_admin", __name__, url_prefix="/admin", template_folder="../../templates")

#: Who manages staff accounts: admins only (as the body's set-up).
CAN_MANAGE_STAFF = CAN_CONFIGURE


def _reread() -> None:
    """End the request's read transaction, so what the write just committed is seen (a SQLite
    reader keeps the snapshot its transaction began with) and loaded objects are reloaded."""
    database.session().rollback()


def _page(
    error: CertvcError | None = None,
    target: str | None = None,
    revealed: tuple[str, str] | None = None,
) -> Any:
    """The staff page; ``target`` names the form ``error`` belongs to (``create`` or a user
    name), ``revealed`` a user name and the password generated for it (shown this once)."""
    _reread()
    page = render_template(
        "admin/staff.html",
        users=accounts.list_users(database.session()),
        roles=list(Role),
        error=error,
        target=target,
        revealed=revealed,
        min_password=accounts.MIN_PASSWORD,
    )
    response = make_response(page, 200 if error is None else http_status(error.code))
    if revealed is not None:
        response.headers["Cache-Control"] = "no-store"
    return response


def _done(username: str, message: str) -> Any:
    """Back to the staff page; or, when admins changed their own account and may no longer
    manage staff, to the start page (which asks them to sign in again if they must)."""
    flash(message, "success")
    user = current_user()
    if user is not None and user.username == username:
        _reread()
        if not user.active or user.role not in CAN_MANAGE_STAFF:
            return redirect(url_for("admin.certifications"))
    return redirect(url_for("staff_admin.page"))


@bp.get("/staff")
@login_required(CAN_MANAGE_STAFF)
def page() -> Any:
    return _page()


@bp.post("/staff")
@login_required(CAN_MANAGE_STAFF)
def create() -> Any:
    form, moment, actor = request.form, now(), user_actor()
    try:
        username = accounts.check_username(form.get("username", "").strip())
        role = accounts.parse_role(form.get("role"))
        typed = form.get("password", "")
        password = typed if typed else accounts.generate_password()
        reason = form.get("reason", "")
        database.write(
            lambda s: accounts.create_user(
                s,
                username=username,
                password=password,
                role=role,
                actor=actor,
                now=moment,
                reason=reason,
            )
        )
    except CertvcError as error:
        return _page(error, "create")
    if typed:
        flash(f"User {username} ({role.value}) created.", "success")
        return redirect(url_for("staff_admin.page"))
    return _page(revealed=(username, password))


@bp.post("/staff/<username>/role")
@login_required(CAN_MANAGE_STAFF)
def set_role(username: str) -> Any:
    form, moment, actor = request.form, now(), user_actor()
    try:
        role = accounts.parse_role(form.get("role"))
        reason = form.get("reason", "")
        database.write(
            lambda s: accounts.set_role(s, username, role, reason=reason, actor=actor, now=moment)
        )
    except CertvcError as error:
        return _page(error, username)
    return _done(username, f"{username} is now {role.value}.")


def _set_active(username: str, active: bool) -> Any:
    moment, actor, reason = now(), user_actor(), request.form.get("reason", "")
    try:
        database.write(
            lambda s: accounts.set_active(
                s, username, active, reason=reason, actor=actor, now=moment
            )
        )
    except CertvcError as error:
        return _page(error, username)
    return _done(username, f"{username} {'enabled' if active else 'disabled'}.")


@bp.post("/staff/<username>/disable")
@login_required(CAN_MANAGE_STAFF)
def disable(username: str) -> Any:
    return _set_active(username, False)


@bp.post("/staff/<username>/enable")
@login_required(CAN_MANAGE_STAFF)
def enable(username: str) -> Any:
    return _set_active(username, True)


@bp.post("/staff/<username>/password")
@login_required(CAN_MANAGE_STAFF)
def reset_password(username: str) -> Any:
    form, moment, actor = request.form, now(), user_actor()
    try:
        reason = form.get("reason", "")
        password = database.write(
            lambda s: accounts.reset_password(s, username, reason=reason, actor=actor, now=moment)
        )
    except CertvcError as error:
        return _page(error, username)
    return _page(revealed=(username, password))
