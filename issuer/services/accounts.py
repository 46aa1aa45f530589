"""API tokens (hashed, with scopes) and admin UI users (hashed passwords, roles).

Tokens carry 256 random bits, so a plain SHA-256 is a sufficient one-way store (a slow hash
guards low-entropy secrets, which tokens are not); the token is shown once and never stored.
Passwords are low-entropy, so they go through werkzeug's scrypt (a memory-hard KDF).

Staff accounts (issue 12): an admin lists users, changes a role, disables or enables an account
and resets a password, each with a reason and audited as ``user.update`` (the details say what
changed, never a password or a hash). The body always keeps one active admin: the last one
cannot be disabled or demoted. A disabled account cannot sign in, and a signed-in session
carries a fingerprint of the password hash, so a reset password also ends every session of that
user (``issuer.web.auth.current_user`` checks both on every request).

A reset sets a new random password that is shown once (:func:`reset_password` returns it) and
stored only as its scrypt hash. A one-time set-password link would need a table or column for
its token's digest and expiry, which the schema does not have (0006); the account is handed
over with an initial password, or a generated one, instead.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.models import Action, ApiToken, Role, Scope, StaffSession, User, scopes_from
from ..errors import (
    AlreadyExists,
    AuthRequired,
    FieldError,
    Forbidden,
    TransitionNotAllowed,
    UnknownReference,
)
from . import audit

TOKEN_PREFIX = "cvc_"
MIN_PASSWORD = 12
MAX_PASSWORD = 1000
#: Random bytes of a generated password (``token_urlsafe``: 24 characters, 144 bits).
GENERATED_PASSWORD_BYTES = 18
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")


@functools.cache
def _dummy_hash() -> str:
    """Checked when the user does not exist, so a wrong name costs as much as a wrong password."""
    return generate_password_hash("certvc-dummy-password", method="scrypt")


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(values: Iterable[str] | str) -> frozenset[Scope]:
    """``issue,status`` or a list of names -> scopes.

    :raises FieldError: an unknown or empty set.
    """
    items = values.split(",") if isinstance(values, str) else list(values)
    scopes = set()
    for item in items:
        name = item.strip()
        if not name:
            continue
        try:
            scopes.add(Scope(name))
        except ValueError:
            known = ", ".join(s.value for s in Scope)
            raise FieldError("scope", f"unknown scope {name!r} (known: {known})") from None
    if not scopes:
        raise FieldError("scope", "give at least one scope")
    return frozenset(scopes)


def create_token(
    session: Session,
    *,
    name: str,
    scopes: frozenset[Scope],
    actor: str,
    now: datetime,
    generate: Callable[[], str] = _new_token,
) -> tuple[ApiToken, str]:
    """A new token; returns the record and the token itself (shown once, stored hashed)."""
    if not name or len(name) > 100:
        raise FieldError("name", "must be 1 to 100 characters")
    token = generate()
    row = ApiToken(
        name=name,
        token_hash=hash_token(token),
        scopes=",".join(sorted(s.value for s in scopes)),
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        action=Action.TOKEN_CREATE,
        actor=actor,
        subject=f"token:{row.id}",
        reason="API token created",
        now=now,
        details={"name": name, "scopes": row.scopes},
    )
    return row, token


@dataclass(frozen=True)
class TokenGrant:
    """What a live API token lets its holder do, and the name the audit log gives it."""

    name: str
    scopes: frozenset[Scope]


# Built once: every API request checks a token (an ORM load and a new statement each time
# were a tenth of an HTTP issuance).
_TOKENS = ApiToken.__table__.c
_TOKEN_BY_HASH = select(_TOKENS.name, _TOKENS.scopes, _TOKENS.revoked_at).where(
    _TOKENS.token_hash == bindparam("token_hash")
)


def authenticate_token(
    session: Session | Connection, presented: str | None, needed: Scope | None
) -> TokenGrant:
    """What ``presented`` grants, if it is a live token holding ``needed`` (or ``admin``;
    ``needed`` None: any scope).

    :raises AuthRequired: no token, unknown or revoked. :raises Forbidden: the wrong scope.
    """
    if not presented:
        raise AuthRequired("an API token is required (Authorization: Bearer <token>)")
    if len(presented) > 200:
        raise AuthRequired("the API token is not valid")
    row = session.execute(_TOKEN_BY_HASH, {"token_hash": hash_token(presented)}).one_or_none()
    if row is None or row.revoked_at is not None:
        raise AuthRequired("the API token is not valid")
    scopes = scopes_from(row.scopes)
    if needed is not None and needed not in scopes and Scope.ADMIN not in scopes:
        raise Forbidden(f"this token lacks the {needed.value!r} scope")
    return TokenGrant(row.name, scopes)


def generate_password() -> str:
    """A random password for a new or reset account (shown once, stored hashed)."""
    return secrets.token_urlsafe(GENERATED_PASSWORD_BYTES)


def check_username(username: object) -> str:
    """:raises FieldError: empty, too long or with characters other than letters, digits and
    ``. _ @ -``."""
    if not isinstance(username, str) or not username.strip():
        raise FieldError("username", "is required")
    if not _USERNAME.fullmatch(username):
        raise FieldError("username", "letters, digits and . _ @ - only (at most 100)")
    return username


def _check_password(password: object) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise FieldError("password", f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise FieldError("password", f"must be at most {MAX_PASSWORD} characters")
    return password


def parse_role(value: object) -> Role:
    """``officer``, ``auditor`` or ``admin``. :raises FieldError: anything else."""
    if isinstance(value, str):
        try:
            return Role(value.strip().lower())
        except ValueError:
            pass
    known = ", ".join(r.value for r in Role)
    if value is None or value == "":
        raise FieldError("role", f"is required (one of: {known})")
    raise FieldError("role", f"unknown role {value!r} (known: {known})")


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: Role,
    actor: str,
    now: datetime,
    reason: str = "user account created",
) -> User:
    """:raises FieldError: bad name or short password. :raises AlreadyExists:
    :raises ReasonRequired:"""
    reason = audit.check_reason(reason)
    check_username(username)
    _check_password(password)
    if session.execute(select(User.id).where(User.username == username)).first():
        raise AlreadyExists(f"a user {username!r} exists")
    user = User(
        username=username,
        password_hash=generate_password_hash(password, method="scrypt"),
        role=role,
        active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        action=Action.USER_CREATE,
        actor=actor,
        subject=f"user:{username}",
        reason=reason,
        now=now,
        details={"role": role.value},
    )
    return user


def authenticate_user(session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, else None (same cost either way)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None or not user.active:
        check_password_hash(_dummy_hash(), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


# --- staff accounts (issue 12) --------------------------------------------------------------


def list_users(session: Session) -> list[User]:
    """Every staff account, by user name."""
    return list(session.execute(select(User).order_by(User.username)).scalars())


def user_json(user: User) -> dict[str, object]:
    """What ``certvc users list --json`` prints of an account (never its hash)."""
    return {
        "username": user.username,
        "role": user.role.value,
        "active": user.active,
        "createdAt": user.created_at.isoformat().replace("+00:00", "Z"),
    }


def get_user(session: Session, username: str, *, for_update: bool = False) -> User:
    """:raises FieldError: no user name. :raises UnknownReference: no such user."""
    if not isinstance(username, str) or not username.strip():
        raise FieldError("username", "is required")
    query = select(User).where(User.username == username)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    user = session.execute(query).scalar_one_or_none()
    if user is None:
        raise UnknownReference("username", f"no user {username[:100]!r}")
    return user


def _lock_for_change(session: Session, username: str) -> tuple[User, int]:
    """The user to change and how many active admins there are, all of them locked until the
    transaction ends: the active admins first (in id order), then the user.

    Every role or state change takes its locks in that order, so two admins demoting or
    disabling each other at the same moment run one after the other on PostgreSQL and the
    second sees the first's change (SQLite runs one writer at a time: ``BEGIN IMMEDIATE``).
    """
    admins = session.execute(
        select(User.id)
        .where(User.role == Role.ADMIN, User.active.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    return get_user(session, username, for_update=True), len(admins)


def _keep_an_admin(user: User, admins: int, what: str) -> None:
    """Refuse to take away the last active admin: nobody could manage staff any more.

    :raises TransitionNotAllowed:
    """
    if user.role is Role.ADMIN and user.active and admins <= 1:
        raise TransitionNotAllowed(
            f"{user.username} is the last active admin and cannot be {what}: "
            "make another user an admin first"
        )


def _end_sessions(session: Session, user: User) -> None:
    """Every signed-in session of ``user`` ends (its role, state or password changed)."""
    session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))


def set_role(
    session: Session, username: str, role: Role, *, reason: str, actor: str, now: datetime
) -> User:
    """Give ``username`` another role (it applies from the user's next request).

    :raises FieldError: :raises UnknownReference: :raises ReasonRequired:
    :raises TransitionNotAllowed: the same role, or demoting the last active admin.
    """
    reason = audit.check_reason(reason)
    user, admins = _lock_for_change(session, username)
    if user.role is role:
        raise TransitionNotAllowed(f"{user.username} already has the {role.value} role")
    if role is not Role.ADMIN:
        _keep_an_admin(user, admins, "demoted")
    previous, user.role = user.role, role
    _end_sessions(session, user)
    session.flush()
    audit.record(
        session,
        action=Action.USER_UPDATE,
        actor=actor,
        subject=f"user:{user.username}",
        reason=reason,
        now=now,
        details={"change": "role", "from": previous.value, "to": role.value},
    )
    return user


def set_active(
    session: Session, username: str, active: bool, *, reason: str, actor: str, now: datetime
) -> User:
    """Disable (``active`` False) or enable an account. A disabled user cannot sign in, and a
    session already open stops working on its next request.

    :raises FieldError: :raises UnknownReference: :raises ReasonRequired:
    :raises TransitionNotAllowed: already in that state, or disabling the last active admin.
    """
    reason = audit.check_reason(reason)
    user, admins = _lock_for_change(session, username)
    if user.active is active:
        state = "enabled" if active else "disabled"
        raise TransitionNotAllowed(f"{user.username} is already {state}")
    if not active:
        _keep_an_admin(user, admins, "disabled")
    user.active = active
    if not active:
        _end_sessions(session, user)
    session.flush()
    audit.record(
        session,
        action=Action.USER_UPDATE,
        actor=actor,
        subject=f"user:{user.username}",
        reason=reason,
        now=now,
        details={"change": "active", "from": not active, "to": active},
    )
    return user


def reset_password(
    session: Session,
    username: str,
    *,
    reason: str,
    actor: str,
    now: datetime,
    password: str | None = None,
    generate: Callable[[], str] = generate_password,
) -> str:
    """Set a new password: ``password``, or a random one (returned, to be shown once). Every
    session of the user ends.

    :raises FieldError: a short password. :raises UnknownReference: :raises ReasonRequired:
    """
    reason = audit.check_reason(reason)
    new = generate() if password is None else _check_password(password)
    hashed = generate_password_hash(new, method="scrypt")  # slow on purpose: before any lock
    user = get_user(session, username, for_update=True)
    user.password_hash = hashed
    _end_sessions(session, user)
    session.flush()
    audit.record(
        session,
        action=Action.USER_UPDATE,
        actor=actor,
        subject=f"user:{user.username}",
        reason=reason,
        now=now,
        details={"change": "password", "generated": password is None},
    )
    return new
