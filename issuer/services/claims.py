"""Claim links: how a certified person gets their certificate without an account.

A claim link is ``<public URL>/claim/<token>``: 32 random bytes (URL-safe base64), of which
only the SHA-256 is stored, so a copy of the database opens no holder's page. It belongs to one
certification and names the credential it was sent for; it expires (``CERTVC_CLAIM_TTL_DAYS``
after it was minted) and staff may revoke it (audited). Whoever holds the link is taken to be
the certified person: it was sent to their address, so it proves possession of that mailbox,
the way a password-reset link does.

A delivery message is queued with its claim row in the action's transaction
(:func:`notify`); the token is minted only when the message is sent (:func:`mint`, by the
sender, in the transaction that takes the message): the outbox holds a placeholder, never a
working link. Sending again mints a new token, which replaces the one sent before.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import in_batches
from ..db.models import (
    Action,
    Certification,
    ClaimToken,
    CredentialState,
    IssuedCredential,
    OutboxMessage,
    State,
)
from ..errors import ClaimGone, ClaimUnknown, NotFound, TransitionNotAllowed
from . import audit, catalog, outbox, public_page
from .issuing_context import IssuerContext
from .mail_templates import ClaimEvent, ClaimLetter, render_claim

#: Random bytes of a token (256 bits).
TOKEN_BYTES = 32
#: The outbox ``kind`` of a claim message.
KIND = "claim"
_TOKEN_LENGTH = 43  # URL-safe base64 of 32 bytes, unpadded


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def link(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/claim/{token}"


def holder_actor(claim: ClaimToken) -> str:
    """The audit actor of what a holder does through a claim link (the link, not a name)."""
    return f"holder:claim:{claim.id}"


def mint(claim: ClaimToken, *, now: datetime, ttl_days: int) -> str:
    """A fresh token for ``claim`` (any earlier one stops working); valid ``ttl_days``."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    claim.token_digest = _digest(token)
    claim.expires_at = now + timedelta(days=ttl_days)
    return token


# --- queuing delivery messages ------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A certification to tell its person about (after issue, renewal or scope reduction)."""

    certification_id: int
    credential_pk: int
    credential_id: str
    number: str
    person_name: str
    email: str | None
    certification_name: str
    expires: datetime
    event: ClaimEvent


def dedupe_key(credential_id: str) -> str:
    """One claim message per credential, whatever re-runs: the key is the credential's id."""
    return f"claim:{credential_id}"[:200]


def notify(
    session: Session, ctx: IssuerContext, notices: Sequence[Notice], *, now: datetime
) -> int:
    """Queue a claim message for each notice whose person has an e-mail address, in the
    caller's transaction; nothing when delivery is off (``ctx.delivery`` None). A credential
    told about already is skipped. Returns how many were queued."""
    delivery = ctx.delivery
    wanted = [n for n in notices if n.email]
    if delivery is None or not wanted:
        return 0
    queued: set[str] = set()
    for part in in_batches([dedupe_key(n.credential_id) for n in wanted]):
        queued.update(
            session.execute(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(part))
            ).scalars()
        )
    body = catalog.get_body(session, with_logo=True)
    logo = ctx.url("body/logo.png") if body.logo is not None else body.logo_url
    count = 0
    for notice in wanted:
        key = dedupe_key(notice.credential_id)
        if key in queued:
            continue
        rendered = render_claim(
            ClaimLetter(
                event=notice.event,
                person_name=notice.person_name,
                certification_name=notice.certification_name,
                number=notice.number,
                expires=notice.expires.date().isoformat(),
                body_name=body.name,
                body_url=body.url,
                logo_url=logo,
                ttl_days=delivery.claim_ttl_days,
            )
        )
        claim = ClaimToken(
            certification_id=notice.certification_id,
            credential_pk=notice.credential_pk,
            created_at=now,
        )
        session.add(claim)
        session.flush()
        message = outbox.enqueue(
            session,
            recipient=notice.email or "",
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            kind=KIND,
            dedupe_key=key,
            now=now,
        )
        if message is None:  # queued by a concurrent writer between the check and here
            session.delete(claim)
            continue
        message.claim_id = claim.id
        queued.add(key)
        count += 1
    session.flush()
    return count


def notice_for(cert: Certification, credential: IssuedCredential, event: ClaimEvent) -> Notice:
    """The notice of ``credential``, just issued for ``cert``."""
    return Notice(
        certification_id=cert.id,
        credential_pk=credential.id,
        credential_id=credential.credential_id,
        number=cert.number,
        person_name=cert.person.name,
        email=cert.person.email,
        certification_name=cert.scheme.name,
        expires=credential.valid_until or cert.expires,
        event=event,
    )


# --- staff: links by hand, revocation -----------------------------------------------------


def create_link(
    session: Session,
    key: str,
    *,
    actor: str,
    reason: str,
    now: datetime,
    ttl_days: int,
) -> tuple[ClaimToken, str]:
    """A claim link made by staff for certification ``key`` (to hand over without e-mail):
    the token is returned once, never stored; audited.

    :raises NotFound: :raises TransitionNotAllowed: withdrawn, or no credential.
    """
    reason = audit.check_reason(reason)
    cert = catalog.get_certification(session, key)
    current = cert.current_credential
    if cert.state is State.WITHDRAWN or current is None:
        raise TransitionNotAllowed(f"certification {cert.number} has nothing to claim")
    claim = ClaimToken(certification_id=cert.id, credential_pk=current.id, created_at=now)
    token = mint(claim, now=now, ttl_days=ttl_days)
    session.add(claim)
    session.flush()
    audit.record(
        session,
        action=Action.CLAIM_CREATE,
        actor=actor,
        subject=cert.number,
        reason=reason,
        now=now,
        details={"claim": claim.id, "expiresAt": claim.expires_at.isoformat()},  # type: ignore[union-attr]
    )
    return claim, token


def revoke(
    session: Session, claim_id: int, *, actor: str, reason: str, now: datetime
) -> ClaimToken:
    """Revoke a claim link (its page answers 410 from now on); audited.

    :raises NotFound: :raises TransitionNotAllowed: revoked already.
    """
    reason = audit.check_reason(reason)
    claim = session.execute(
        select(ClaimToken).where(ClaimToken.id == claim_id).with_for_update()
    ).scalar_one_or_none()
    if claim is None:
        raise NotFound(f"no claim link {claim_id}")
    if claim.revoked_at is not None:
        raise TransitionNotAllowed(f"claim link {claim_id} is revoked already")
    claim.revoked_at = now
    audit.record(
        session,
        action=Action.CLAIM_REVOKE,
        actor=actor,
        subject=claim.certification.number,
        reason=reason,
        now=now,
        details={"claim": claim.id},
    )
    return claim


def links_for(session: Session, certification_id: int) -> list[ClaimToken]:
    return list(
        session.execute(
            select(ClaimToken)
            .where(ClaimToken.certification_id == certification_id)
            .order_by(ClaimToken.id)
        ).scalars()
    )


def messages_for(session: Session, certification_id: int) -> list[OutboxMessage]:
    """The delivery messages of a certification, oldest first."""
    return list(
        session.execute(
            select(OutboxMessage)
            .join(ClaimToken, OutboxMessage.claim_id == ClaimToken.id)
            .where(ClaimToken.certification_id == certification_id)
            .order_by(OutboxMessage.id)
        ).scalars()
    )


def link_state(claim: ClaimToken, now: datetime) -> str:
    """``revoked``, ``expired``, ``not sent yet`` (no token minted) or ``active``."""
    if claim.revoked_at is not None:
        return "revoked"
    if claim.token_digest is None or claim.expires_at is None:
        return "not sent yet"
    return "expired" if claim.expires_at <= now else "active"


# --- the holder ---------------------------------------------------------------------------


def open_claim(session: Session, token: str, now: datetime) -> ClaimToken:
    """The claim link of ``token``.

    :raises ClaimUnknown: malformed or unknown (404). :raises ClaimGone: revoked or expired
        (410). Neither says more than that.
    """
    if len(token) != _TOKEN_LENGTH or not token.isascii():
        raise ClaimUnknown("this link is not known")
    claim = session.execute(
        select(ClaimToken).where(ClaimToken.token_digest == _digest(token))
    ).scalar_one_or_none()
    if claim is None:
        raise ClaimUnknown("this link is not known")
    if claim.revoked_at is not None or claim.expires_at is None or claim.expires_at <= now:
        raise ClaimGone("this link no longer works")
    return claim


@dataclass(frozen=True)
class Standing:
    """What the holder's page may offer: ``shareable`` only while the certificate the link was
    sent for holds (not withdrawn, not replaced)."""

    withdrawn: bool
    superseded: bool

    @property
    def shareable(self) -> bool:
        return not (self.withdrawn or self.superseded)


def standing(claim: ClaimToken) -> Standing:
    cert = claim.certification
    credential = claim.credential
    withdrawn = cert.state is State.WITHDRAWN or credential.state is CredentialState.REVOKED
    superseded = credential.state is CredentialState.SUPERSEDED or (
        credential.superseded_by_id is not None and credential.supersede_at is None
    )
    return Standing(withdrawn=withdrawn, superseded=superseded and not withdrawn)


def mark_opened(session: Session, claim_id: int, now: datetime) -> None:
    """Record that the holder opened their page (staff see "last opened")."""
    claim = session.get(ClaimToken, claim_id)
    if claim is not None:
        claim.last_used_at = now


def holder_set_public_page(
    session: Session, token: str, enabled: bool, *, now: datetime
) -> Certification:
    """The holder turns their certificate's public page on or off: their consent, audited with
    the claim link as the actor.

    :raises ClaimUnknown: :raises ClaimGone: :raises TransitionNotAllowed: already so, or the
        certificate is withdrawn or replaced (nothing to share).
    """
    claim = open_claim(session, token, now)
    if not standing(claim).shareable:
        raise TransitionNotAllowed("this certificate is no longer valid: it cannot be shared")
    return public_page.set_public_page(
        session,
        claim.certification.number,
        enabled,
        reason="the certified person's own choice, through their claim link",
        actor=holder_actor(claim),
        now=now,
    )
