"""Signing staff in and out: sessions kept in the database, and password guessing slowed down.

A session is a row (the SHA-256 of a random token the browser's signed cookie holds, the user,
its expiry), so it can end for real: at sign-out, and for every session of an account that is
disabled, whose password is reset or whose role changes (``accounts``). Issue 16: a copied
cookie kept working for hours after logout, and the cookie carried part of the password hash.

Sign-in attempts are counted in the database, so every server process sees the same counts:
after :data:`MAX_FAILURES` failed attempts for one user name within :data:`WINDOW`, or
:data:`MAX_FAILURES_PER_REMOTE` from one address, further attempts are refused (the right
password included) until the oldest failure leaves the window. Every attempt is audited
(``login``, ``login.failed``), the same way for a user name that does not exist, so neither the
answer nor its timing tells whether an account exists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..db.models import Action, LoginAttempt, StaffSession, User
from . import accounts, audit

LIFETIME = timedelta(hours=8)
WINDOW = timedelta(minutes=15)
MAX_FAILURES = 5
MAX_FAILURES_PER_REMOTE = 30


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """The outcome of an attempt: the user and its new session token, or a refusal (with how
    long to wait when throttled)."""

    user: User | None = None
    token: str | None = None
    wait: timedelta | None = None


def _wait(session: Session, username: str, remote: str, now: datetime) -> timedelta | None:
    """How long until another attempt may be made, or None when it may be made now."""
    since = now - WINDOW
    waits = []
    for column, value, limit in (
        (LoginAttempt.username, username, MAX_FAILURES),
        (LoginAttempt.remote, remote, MAX_FAILURES_PER_REMOTE),
    ):
        if not value:
            continue
        failures = session.execute(
            select(func.count(), func.min(LoginAttempt.at)).where(
                column == value, LoginAttempt.at > since, LoginAttempt.ok.is_(False)
            )
        ).one()
        count, oldest = failures
        if count >= limit and oldest is not None:
            waits.append(max(timedelta(seconds=1), oldest + WINDOW - now))
    return max(waits) if waits else None


def sign_in(
    session: Session, *, username: str, password: str, remote: str, now: datetime
) -> SignIn:
    """Check the credentials (unless throttled), record and audit the attempt; on success
    start a session. Runs in the caller's transaction, which must commit a refusal too."""
    username, remote = username[:100], remote[:64]
    wait = _wait(session, username, remote, now)
    user = None if wait is not None else accounts.authenticate_user(session, username, password)
    session.add(LoginAttempt(username=username, remote=remote, at=now, ok=user is not None))
    details: dict[str, object] = {"remote": remote}
    if user is None:
        if wait is not None:
            details["throttled"] = True
        audit.record(
            session,
            action=Action.LOGIN_FAILED,
            actor="anonymous",
            subject=f"user:{username}",
            reason="sign-in refused",
            now=now,
            details=details,
        )
        return SignIn(wait=wait)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_digest=_digest(token), user_id=user.id, created_at=now, expires_at=now + LIFETIME
        )
    )
    audit.record(
        session,
        action=Action.LOGIN,
        actor=f"user:{user.username}",
        subject=f"user:{user.username}",
        reason="signed in",
        now=now,
        details=details,
    )
    return SignIn(user=user, token=token)


def user_of(session: Session, token: object, now: datetime) -> User | None:
    """The active user whose unexpired session ``token`` is, else None."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = session.execute(
        select(StaffSession).where(StaffSession.token_digest == _digest(token))
    ).scalar_one_or_none()
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.active else None


def sign_out(session: Session, token: object, *, now: datetime) -> None:
    """End the session ``token`` (audited when it was one)."""
    if not isinstance(token, str) or not token:
        return
    row = session.execute(
        select(StaffSession).where(StaffSession.token_digest == _digest(token))
    ).scalar_one_or_none()
    if row is None:
        return
    user = session.get(User, row.user_id)
    session.delete(row)
    name = f"user:{user.username}" if user is not None else f"user#{row.user_id}"
    audit.record(
        session,
        action=Action.LOGOUT,
        actor=name,
        subject=name,
        reason="signed out",
        now=now,
        details={},
    )


def purge(session: Session, now: datetime) -> None:
    """Forget expired sessions and attempts older than the window (any worker may run it)."""
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
    session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - WINDOW))
