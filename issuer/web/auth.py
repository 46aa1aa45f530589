"""Who is asking: API tokens with scopes, admin UI sessions with roles, and CSRF.

CSRF protection is a hand-rolled synchronizer token (OWASP's pattern): a random token kept in
the signed session cookie, echoed in every form as ``csrf_token`` and compared in constant time
on every POST. It is replaced at login and logout, so a token captured from another session, or
from this browser before it logged in again, is refused.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, redirect, request, session, url_for

from ..db.models import Role, Scope, User
from ..errors import CsrfInvalid, Forbidden
from ..services import accounts, staff_sessions
from .extensions import database, now

F = TypeVar("F", bound=Callable[..., Any])

CSRF_FIELD = "csrf_token"


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require_scope(scope: Scope | None) -> str:
    """The actor name of the request's token, if it holds ``scope`` (None: any scope).

    :raises AuthRequired: :raises Forbidden:
    """
    presented = bearer_token()
    token = database.look_up(lambda session: accounts.authenticate_token(session, presented, scope))
    g.token_scopes = token.scopes
    return f"token:{token.name}"


def sees_personal_data() -> bool:
    """Whether the request's token may read persons' data (names, references, holder DIDs):
    only with the ``issue`` scope (or ``admin``, which includes it). Least data (issue 16):
    status integrations change states by number and need nobody's name."""
    scopes: frozenset[Scope] = g.get("token_scopes", frozenset())
    return Scope.ISSUE in scopes or Scope.ADMIN in scopes


# --- admin UI sessions --------------------------------------------------------------------

#: What each role may do in the admin UI.
CAN_ACT = frozenset({Role.OFFICER, Role.ADMIN})
CAN_READ = frozenset({Role.OFFICER, Role.AUDITOR, Role.ADMIN})
CAN_AUDIT = frozenset({Role.AUDITOR, Role.ADMIN})
#: The body's set-up (scheme badge images, the logo): admins only.
CAN_CONFIGURE = frozenset({Role.ADMIN})


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def rotate_csrf() -> None:
    session["csrf"] = secrets.token_urlsafe(32)


def check_csrf() -> None:
    """:raises CsrfInvalid: the form's token is missing or not this session's."""
    expected = session.get("csrf")
    given = request.form.get(CSRF_FIELD, "")
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise CsrfInvalid("the form's CSRF token is missing, expired or forged; reload the page")


def current_user() -> User | None:
    """The signed-in staff member: the cookie's session token names a live session of an
    active account (``issuer.services.staff_sessions``); sign-out and account changes end it."""
    if "user" not in g:
        g.user = staff_sessions.user_of(database.session(), session.get("sid"), now())
    return g.user


def user_actor() -> str:
    """The audit actor of the signed-in staff member (``user:<name>``)."""
    user = current_user()
    assert user is not None  # the views that call this require a login
    return f"user:{user.username}"


def login_required(roles: frozenset[Role]) -> Callable[[F], F]:
    """Views for signed-in users with one of ``roles``; POSTs must carry the CSRF token."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                return redirect(url_for("admin.login", next=request.path))
            if user.role not in roles:
                raise Forbidden(f"the {user.role.value} role cannot do this")
            if request.method == "POST":
                check_csrf()
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
