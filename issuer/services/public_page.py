"""The public credential page: opt-in, per certification, by an officer's audited decision.

A credential's ``id`` is ``<public URL>/credentials/<random uuid>``. While its certification's
public page is on, that URL answers: a person's browser gets the page (the badge, what the
certificate shows, a live verification, share links), a verifier asking for ``application/vc``
or ``application/vc+jwt`` gets the signed credential (what link-mode QR codes lead to). Off
(the default, and again after opting out), the URL is a 404 like any unknown one.

What the page shows is what the certificate shows (ISO/IEC 17024 confidentiality): the name,
the certification, scheme and standard, the scope, the number, the dates, the body. Never the
person's reference, the audit history, other certifications or wallet copies (a copy names
the holder's key); a superseded credential stays served (a verifier then says REVOKED) and
points at the current one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Action, Certification, IssuedCredential
from ..errors import NotFound, TransitionNotAllowed
from . import audit, catalog


def set_public_page(
    session: Session, key: str, enabled: bool, *, reason: str, actor: str, now: datetime
) -> Certification:
    """Turn the public page of certification ``key`` on or off (audited).

    :raises ReasonRequired: :raises NotFound: :raises TransitionNotAllowed: already so.
    """
    reason = audit.check_reason(reason)
    cert = catalog.get_certification(session, key)
    session.refresh(cert, with_for_update=True)
    if cert.public_page is enabled:
        raise TransitionNotAllowed(
            f"the public page of {cert.number} is already {'on' if enabled else 'off'}"
        )
    cert.public_page = enabled
    cert.updated_at = now
    current = cert.current_credential
    audit.record(
        session,
        action=Action.PAGE_PUBLISH if enabled else Action.PAGE_UNPUBLISH,
        actor=actor,
        subject=cert.number,
        reason=reason,
        now=now,
        details={"credentialId": current.credential_id if current else None},
    )
    return cert


def published(session: Session, credential_url: str) -> IssuedCredential:
    """The credential served at ``credential_url`` (its id).

    :raises NotFound: unknown, a wallet copy, not a certification's, or its page is off.
    """
    row = session.execute(
        select(IssuedCredential).where(IssuedCredential.credential_id == credential_url)
    ).scalar_one_or_none()
    if row is None or row.is_copy or row.certification is None or not row.certification.public_page:
        raise NotFound("no public credential here")
    return row


def newer(session: Session, row: IssuedCredential) -> IssuedCredential | None:
    """The certification's current credential when ``row`` was superseded."""
    cert = row.certification
    current = cert.current_credential if cert is not None else None
    return current if current is not None and current is not row else None
