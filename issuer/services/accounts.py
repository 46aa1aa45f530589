"""API tokens (hashed, with scopes) and admin UI users (hashed passwords, roles).

Tokens carry 256 random bits, so a plain SHA-256 is a sufficient one-way store (a slow hash
guards low-entropy secrets, which tokens are not); the token is shown once and never stored.
Passwords are low-entropy, so they go through werkzeug's scrypt (a memory-hard KDF).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ..db.models import Action, ApiToken, Role, Scope, User
from ..errors import AlreadyExists, AuthRequired, FieldError, Forbidden
from . import audit

TOKEN_PREFIX = "cvc_"
MIN_PASSWORD = 12
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


def authenticate_token(session: Session, presented: str | None, needed: Scope | None) -> ApiToken:
    """The token record, if ``presented`` is a live token holding ``needed`` (or ``admin``;
    ``needed`` None: any scope).

    :raises AuthRequired: no token, unknown or revoked. :raises Forbidden: the wrong scope.
    """
    if not presented:
        raise AuthRequired("an API token is required (Authorization: Bearer <token>)")
    if len(presented) > 200:
        raise AuthRequired("the API token is not valid")
    row = session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(presented))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        raise AuthRequired("the API token is not valid")
    if needed is not None and needed not in row.scope_set and Scope.ADMIN not in row.scope_set:
        raise Forbidden(f"this token lacks the {needed.value!r} scope")
    return row


def create_user(
    session: Session, *, username: str, password: str, role: Role, actor: str, now: datetime
) -> User:
    """:raises FieldError: bad name or short password. :raises AlreadyExists:"""
    if not _USERNAME.fullmatch(username or ""):
        raise FieldError("username", "letters, digits and . _ @ - only (at most 100)")
    if len(password or "") < MIN_PASSWORD:
        raise FieldError("password", f"must be at least {MIN_PASSWORD} characters")
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
        reason="user account created",
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
