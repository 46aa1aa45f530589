"""The certification lifecycle: one function decides every move, refusing illegal ones.

ISO/IEC 17024 §9.6-9.7: the body suspends, reinstates, withdraws, recertifies and reduces the
scope of certifications under documented conditions, and records who decided what, when and why.
Every action here takes a mandatory reason, an actor and a timestamp and appends an audit event
in the caller's transaction; nothing commits here (the adapter owns the transaction).

How each move shows in the status lists (see docs/lifecycle.md):

- suspend / reinstate: the current credential's suspension bit set / cleared;
- withdraw: its revocation bit set (final);
- renew and reduce scope: a new credential is issued and the old one is *superseded*: its
  revocation bit is set, its record points at the new one, and the audit event says so.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from contexts.errors import CertvcError
from verifier.model.credentials import certification_credential
from verifier.model.status_list import StatusPurpose

from ..db.models import (
    Action,
    Certification,
    CredentialFormat,
    CredentialState,
    IssuedCredential,
    SecuringSuite,
    State,
)
from ..errors import FieldError, NotFound, TransitionNotAllowed
from . import audit, body_identity, catalog, claims, issuance
from . import status_lists as status
from .issuance import IssueRequest, credential_format, sign_document
from .issuing_context import IssuerContext
from .mail_templates import ClaimEvent

#: The moves each shown state allows (EXPIRED is shown, never stored; WITHDRAWN is final).
ALLOWED: Mapping[State, frozenset[Action]] = {
    State.ACTIVE: frozenset({Action.SUSPEND, Action.WITHDRAW, Action.RENEW, Action.REDUCE_SCOPE}),
    State.SUSPENDED: frozenset({Action.REINSTATE, Action.WITHDRAW}),
    State.EXPIRED: frozenset({Action.RENEW, Action.WITHDRAW}),
    State.WITHDRAWN: frozenset(),
}
LIFECYCLE_ACTIONS = (
    Action.SUSPEND,
    Action.REINSTATE,
    Action.WITHDRAW,
    Action.RENEW,
    Action.REDUCE_SCOPE,
)


def check_transition(cert: Certification, action: Action, now: datetime) -> None:
    """:raises TransitionNotAllowed: ``action`` is not a legal move from the shown state."""
    shown = cert.state_at(now)
    allowed = ALLOWED[shown]
    # A suspended certification that has also expired must be reinstated or withdrawn; renewing
    # it would silently lift the suspension.
    if action is Action.RENEW and cert.state is State.SUSPENDED:
        allowed = frozenset()
    if action not in allowed:
        possible = ", ".join(sorted(a.value for a in allowed)) or "none (withdrawal is final)"
        raise TransitionNotAllowed(
            f"cannot {action.value} certification {cert.number}: it is {shown.value} "
            f"(possible: {possible})"
        )


def _sign(
    session: Session,
    ctx: IssuerContext,
    document: dict[str, Any],
    suite: SecuringSuite,
    now: datetime,
) -> tuple[str, str]:
    return sign_document(ctx, document, suite, now)


def _new_credential(
    session: Session,
    ctx: IssuerContext,
    cert: Certification,
    *,
    valid_from: datetime,
    valid_until: datetime,
    now: datetime,
) -> IssuedCredential:
    """Allocate status entries, build, sign and record one credential for ``cert``."""
    scheme = cert.scheme
    row = IssuedCredential(
        credential_id=ctx.new_credential_id(),
        certification_id=cert.id,
        format=credential_format(scheme.suite),
        suite=scheme.suite,
        key_id="",
        document="",
        valid_from=valid_from,
        valid_until=valid_until,
        issued_at=now,
        state=CredentialState.ACTIVE,
        status_entries=[],
    )
    cert.credentials.append(row)
    session.flush()
    refs = status.allocate_entries(session, ctx, row, now)
    document = certification_credential(
        credential_id=row.credential_id,
        body=body_identity.body_profile(catalog.get_body(session), ctx.public_url),
        scheme=catalog.scheme_info(scheme, ctx.public_url),
        person_name=cert.person.name,
        number=cert.number,
        scope=cert.scope,
        valid_from=valid_from,
        valid_until=valid_until,
        status=refs,
    )
    row.document, row.key_id = _sign(session, ctx, document, scheme.suite, now)
    return row


def entries_json(credential: IssuedCredential) -> list[dict[str, Any]]:
    return [
        {"purpose": e.purpose.value, "list": e.list_id, "index": e.status_index}
        for e in credential.status_entries
    ]


def issue(
    session: Session,
    ctx: IssuerContext,
    request: IssueRequest,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Certification:
    """Certify a person: the certification record, its first credential, the audit event
    (:func:`.issuance.certify` with one request: one way to issue, one or ten thousand).

    :raises FieldError, UnknownReference: bad request fields. :raises AlreadyExists: the
        certificate number is taken. :raises ReasonRequired:
    """
    (result,) = issue_many(session, ctx, [Decision(request, reason, actor)], now=now)
    if isinstance(result, CertvcError):
        raise result
    # The session's own rows, for a caller that goes on changing them (issue_many's are
    # records no session holds), in one query: five lazy loads were a third of the round trips.
    return (
        session.execute(
            select(Certification)
            .where(Certification.id == result.id)
            .options(
                joinedload(Certification.person),
                joinedload(Certification.scheme),
                joinedload(Certification.credentials).joinedload(IssuedCredential.status_entries),
            )
        )
        .unique()
        .scalar_one()
    )


@dataclass(frozen=True)
class Decision:
    """One certification decision and who records it why (one HTTP request of a group)."""

    request: IssueRequest
    reason: str
    actor: str


def issue_many(
    session: Session, ctx: IssuerContext, decisions: Sequence[Decision], *, now: datetime
) -> list[Certification | CertvcError]:
    """Certify several decisions in the caller's transaction: each one's certification, or the
    error that refused it (the others are issued all the same). Decisions of one actor and
    reason are certified together (:func:`.issuance.certify`); each gets its own audit event.

    The certifications are records of what was written (:attr:`.issuance.Outcome.record`), to
    show, not attached to ``session`` (reading them back was a tenth of an HTTP issuance).
    """
    results: list[Certification | CertvcError | None] = [None] * len(decisions)
    groups: dict[tuple[str, str], list[int]] = {}
    for position, decision in enumerate(decisions):
        try:
            audit.check_reason(decision.reason)
        except CertvcError as error:
            results[position] = error
            continue
        groups.setdefault((decision.actor, decision.reason), []).append(position)
    for (actor, reason), positions in groups.items():
        outcomes = issuance.certify(
            session,
            ctx,
            [decisions[n].request for n in positions],
            reason=reason,
            actor=actor,
            now=now,
            records=True,
        )
        for position, outcome in zip(positions, outcomes, strict=True):
            results[position] = outcome.error or outcome.record
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def _set(
    session: Session,
    ctx: IssuerContext,
    credential: IssuedCredential,
    purpose: StatusPurpose,
    value: bool,
    now: datetime,
) -> None:
    status.set_bit(session, ctx, credential.entry(purpose), value, now)


def _set_all(
    session: Session,
    ctx: IssuerContext,
    credentials: list[IssuedCredential],
    purpose: StatusPurpose,
    value: bool,
    now: datetime,
) -> None:
    status.set_bits(session, ctx, [c.entry(purpose) for c in credentials], value, now)


def _mark(credentials: list[IssuedCredential], state: CredentialState) -> None:
    for credential in credentials:
        credential.state = state
        if not credential.live:
            credential.supersede_at = None  # withdrawn or superseded: nothing left to schedule


@dataclass(frozen=True)
class StatusMove:
    """What a move that only changes status bits does: the bit set or cleared, and the states
    the certification and its credentials take."""

    purpose: StatusPurpose
    value: bool
    state: State
    credential_state: CredentialState


#: The moves that change status bits only (no new credential): the ones that can be bulk.
STATUS_MOVES: Mapping[Action, StatusMove] = {
    Action.SUSPEND: StatusMove(
        StatusPurpose.SUSPENSION, True, State.SUSPENDED, CredentialState.SUSPENDED
    ),
    Action.REINSTATE: StatusMove(
        StatusPurpose.SUSPENSION, False, State.ACTIVE, CredentialState.ACTIVE
    ),
    Action.WITHDRAW: StatusMove(
        StatusPurpose.REVOCATION, True, State.WITHDRAWN, CredentialState.REVOKED
    ),
}


def _reached(cert: Certification, current: IssuedCredential) -> list[IssuedCredential]:
    """Every live credential of the certification: the current one, its wallet copies
    (OpenID4VCI), and while a renewal has not started the one it will supersede."""
    return [current, *(c for c in cert.credentials if c.live and c is not current)]


def _move_details(current: IssuedCredential, reached: list[IssuedCredential]) -> dict[str, Any]:
    details: dict[str, Any] = {"credentialId": current.credential_id}
    copies = [c for c in reached if c.is_copy]
    if copies:
        details["copies"] = [c.credential_id for c in copies]
    return details


def refusal(cert: Certification, action: Action, now: datetime) -> CertvcError | None:
    """Why ``action`` cannot be applied to ``cert`` now (None: it can), without raising: what
    :func:`transition` would refuse before writing anything (a bulk dry run asks this)."""
    try:
        check_transition(cert, action, now)
    except TransitionNotAllowed as error:
        return error
    if cert.current_credential is None:
        return NotFound(f"certification {cert.number} has no credential")
    return None


def transition_many(
    session: Session,
    ctx: IssuerContext,
    certification_ids: Sequence[int],
    action: Action,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> list[tuple[Certification, CertvcError | None]]:
    """Suspend, reinstate or withdraw several certifications in the caller's transaction.

    Each certification is locked (in id order) and checked as :func:`transition` checks one;
    a refused one is returned with its reason and left alone. The status bits of all the
    others are set together, so each status list they touch is locked and re-signed once
    (not once per certification), and one audit event per certification is appended. An id
    that no longer exists is skipped. Outcomes are in id order.

    :raises ReasonRequired: no reason. :raises ValueError: not a status move.
    """
    if action not in STATUS_MOVES:
        raise ValueError(f"{action} is not a status move")
    move = STATUS_MOVES[action]
    reason = audit.check_reason(reason)
    if not certification_ids:
        return []
    certs = (
        session.execute(
            select(Certification)
            .where(Certification.id.in_(sorted(set(certification_ids))))
            .order_by(Certification.id)
            .with_for_update()
            .execution_options(populate_existing=True)
            .options(
                selectinload(Certification.credentials).selectinload(
                    IssuedCredential.status_entries
                )
            )
        )
        .scalars()
        .all()
    )
    outcomes: list[tuple[Certification, CertvcError | None]] = []
    moving: list[tuple[Certification, IssuedCredential, list[IssuedCredential]]] = []
    for cert in certs:
        error = refusal(cert, action, now)
        outcomes.append((cert, error))
        if error is None:
            current = cert.current_credential
            assert current is not None  # refusal() says so otherwise
            moving.append((cert, current, _reached(cert, current)))
    if not moving:
        return outcomes
    everything = [credential for _, _, reached in moving for credential in reached]
    _set_all(session, ctx, everything, move.purpose, move.value, now)
    drafts = []
    for cert, current, reached in moving:
        details = _move_details(current, reached)  # before _mark: which were copies and live
        cert.state = move.state
        _mark(reached, move.credential_state)
        cert.updated_at = now
        drafts.append(audit.Draft(action=action, subject=cert.number, details=details))
    audit.record_many(session, drafts, actor=actor, reason=reason, now=now)
    return outcomes


def transition(
    session: Session,
    ctx: IssuerContext,
    key: str,
    action: Action,
    *,
    reason: str,
    actor: str,
    now: datetime,
    scope: str | None = None,
    effective: datetime | None = None,
) -> Certification:
    """Apply one lifecycle ``action`` to the certification ``key`` (number or credential id).

    :raises NotFound: unknown key. :raises TransitionNotAllowed: illegal move.
    :raises ReasonRequired: no reason. :raises FieldError: bad ``scope`` / ``effective``.
    """
    if action not in LIFECYCLE_ACTIONS:
        raise ValueError(f"{action} is not a lifecycle action")
    reason = audit.check_reason(reason)
    cert = catalog.get_certification(session, key)
    session.refresh(cert, with_for_update=True)  # one writer per certification at a time
    check_transition(cert, action, now)
    current = cert.current_credential
    if current is None:
        raise NotFound(f"certification {cert.number} has no credential")
    reached = _reached(cert, current)
    details = _move_details(current, reached)
    pending = cert.pending_renewal
    if pending is not None and action in (Action.RENEW, Action.REDUCE_SCOPE):
        starts = current.valid_from.isoformat() if current.valid_from else "later"
        raise TransitionNotAllowed(
            f"cannot {action.value} certification {cert.number}: its renewal from {starts} "
            "has not started yet (suspend, reinstate or withdraw apply to both periods)"
        )

    if action in STATUS_MOVES:
        move = STATUS_MOVES[action]
        _set_all(session, ctx, reached, move.purpose, move.value, now)
        cert.state = move.state
        _mark(reached, move.credential_state)
    else:
        if action is Action.RENEW:
            if cert.scheme.retired_at is not None:
                raise TransitionNotAllowed(
                    f"cannot renew certification {cert.number}: scheme {cert.scheme.code} is "
                    "retired (its certifications run to their expiry)"
                )
            start = effective or now
            if start < cert.effective:
                raise FieldError("effective", "a renewal cannot start before the current period")
            try:
                valid_until = start + timedelta(days=cert.scheme.validity_days)
            except OverflowError:
                raise FieldError("effective", "is too far in the future") from None
            valid_from = start
            details["previousPeriod"] = [cert.effective.isoformat(), cert.expires.isoformat()]
            cert.effective, cert.expires = valid_from, valid_until
        else:
            if scope is None or not scope.strip():
                raise FieldError("scope", "the reduced scope is required")
            if scope.strip() == cert.scope:
                raise FieldError("scope", "the reduced scope must differ from the current one")
            details["previousScope"] = cert.scope
            cert.scope = scope.strip()
            valid_from, valid_until = now, cert.expires
        new = _new_credential(
            session, ctx, cert, valid_from=valid_from, valid_until=valid_until, now=now
        )
        for old in reached:
            old.superseded_by_id = new.id
        if valid_from > now:
            # A renewal starting later: the current period stays valid until the new one
            # starts, and is superseded then (supersede_due), never leaving a gap.
            for old in reached:
                old.supersede_at = valid_from
            details["supersedesAt"] = valid_from.isoformat()
        else:
            # Supersede: the old credential's revocation bit is set: it no longer verifies.
            _set_all(session, ctx, reached, StatusPurpose.REVOCATION, True, now)
            _mark(reached, CredentialState.SUPERSEDED)
        if ctx.delivery is not None:
            event = ClaimEvent.RENEWED if action is Action.RENEW else ClaimEvent.SCOPE_REDUCED
            claims.notify(session, ctx, [claims.notice_for(cert, new, event)], now=now)
        details.update(
            superseded=current.credential_id,
            credentialId=new.credential_id,
            validFrom=valid_from.isoformat(),
            validUntil=valid_until.isoformat(),
            status=entries_json(new),
        )
    cert.updated_at = now
    audit.record(
        session,
        action=action,
        actor=actor,
        subject=cert.number,
        reason=reason,
        now=now,
        details=details,
    )
    return cert


def reissue(
    session: Session,
    ctx: IssuerContext,
    key: str,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> Certification:
    """A new credential for the same certification (same dates, scope and state), signed with
    the active key: what a body does when the key that signed the current one may be
    compromised. The old credential and its wallet copies are superseded (revocation bit set);
    a suspended certification's new credential carries the suspension too.

    :raises NotFound: :raises TransitionNotAllowed: not live, or a renewal not started yet.
    """
    reason = audit.check_reason(reason)
    cert = catalog.get_certification(session, key)
    session.refresh(cert, with_for_update=True)
    shown = cert.state_at(now)
    if shown not in (State.ACTIVE, State.SUSPENDED):
        raise TransitionNotAllowed(
            f"cannot reissue certification {cert.number}: it is {shown.value}"
        )
    if cert.pending_renewal is not None:
        raise TransitionNotAllowed(
            f"cannot reissue certification {cert.number}: its renewal has not started yet"
        )
    current = cert.current_credential
    if current is None:
        raise NotFound(f"certification {cert.number} has no credential")
    reached = _reached(cert, current)
    new = _new_credential(
        session,
        ctx,
        cert,
        valid_from=current.valid_from or cert.effective,
        valid_until=current.valid_until or cert.expires,
        now=now,
    )
    for old in reached:
        old.superseded_by_id = new.id
    _set_all(session, ctx, reached, StatusPurpose.REVOCATION, True, now)
    _mark(reached, CredentialState.SUPERSEDED)
    if cert.state is State.SUSPENDED:
        _set_all(session, ctx, [new], StatusPurpose.SUSPENSION, True, now)
        new.state = CredentialState.SUSPENDED
    if ctx.delivery is not None:
        claims.notify(session, ctx, [claims.notice_for(cert, new, ClaimEvent.REISSUED)], now=now)
    cert.updated_at = now
    audit.record(
        session,
        action=Action.REISSUE,
        actor=actor,
        subject=cert.number,
        reason=reason,
        now=now,
        details={
            "superseded": [c.credential_id for c in reached],
            "previousKey": current.key_id,
            "credentialId": new.credential_id,
            "keyId": new.key_id,
            "status": entries_json(new),
        },
    )
    return cert


#: The actor of what certvc does by itself at a date a person decided earlier.
SCHEDULER = "certvc:scheduler"


def supersession_due(session: Session, now: datetime) -> bool:
    """Whether a renewal has started whose previous credential is not superseded yet (one
    indexed query: callers ask before opening a write transaction)."""
    found = session.execute(
        select(IssuedCredential.id)
        .where(
            IssuedCredential.supersede_at <= now,
            IssuedCredential.state.in_((CredentialState.ACTIVE, CredentialState.SUSPENDED)),
        )
        .limit(1)
    ).first()
    return found is not None


def supersede_due(session: Session, ctx: IssuerContext, now: datetime) -> int:
    """Supersede the credentials whose renewal has started (their revocation bits set, lists
    re-signed once, one audit event per certification); how many certifications.

    Run by every job worker at each look for work, before a status list is served or
    published, so a renewal takes effect within seconds of its start wherever it is checked.
    """
    due = (
        session.execute(
            select(IssuedCredential)
            .where(
                IssuedCredential.supersede_at <= now,
                IssuedCredential.state.in_((CredentialState.ACTIVE, CredentialState.SUSPENDED)),
            )
            .order_by(IssuedCredential.id)
            .with_for_update()
        )
        .scalars()
        .all()
    )
    if not due:
        return 0
    _set_all(session, ctx, list(due), StatusPurpose.REVOCATION, True, now)
    by_certification: dict[int, list[IssuedCredential]] = {}
    for credential in due:
        by_certification.setdefault(credential.certification_id or 0, []).append(credential)
    drafts = []
    for credentials in by_certification.values():
        cert = credentials[0].certification
        successor = session.get(IssuedCredential, credentials[0].superseded_by_id)
        starts = [c.supersede_at for c in credentials if c.supersede_at is not None]
        _mark(credentials, CredentialState.SUPERSEDED)
        drafts.append(
            audit.Draft(
                action=Action.SUPERSEDE,
                subject=cert.number if cert is not None else credentials[0].credential_id,
                details={
                    "superseded": [c.credential_id for c in credentials],
                    "by": successor.credential_id if successor is not None else None,
                    "at": min(starts).isoformat() if starts else now.isoformat(),
                },
            )
        )
    audit.record_many(
        session, drafts, actor=SCHEDULER, reason="the renewed period started", now=now
    )
    return len(by_certification)


# --- credentials issued through the W3C VC API --------------------------------------------


def get_credential(session: Session, credential_id: str) -> IssuedCredential:
    row = session.execute(
        select(IssuedCredential).where(IssuedCredential.credential_id == credential_id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no credential {credential_id!r} was issued here")
    return row


#: VC API status changes on a certification's current credential, as lifecycle actions.
_AS_ACTION = {
    (StatusPurpose.REVOCATION, True): Action.WITHDRAW,
    (StatusPurpose.SUSPENSION, True): Action.SUSPEND,
    (StatusPurpose.SUSPENSION, False): Action.REINSTATE,
}
_CREDENTIAL_MOVES = {
    (StatusPurpose.REVOCATION, True): (
        {CredentialState.ACTIVE, CredentialState.SUSPENDED},
        CredentialState.REVOKED,
    ),
    (StatusPurpose.SUSPENSION, True): ({CredentialState.ACTIVE}, CredentialState.SUSPENDED),
    (StatusPurpose.SUSPENSION, False): ({CredentialState.SUSPENDED}, CredentialState.ACTIVE),
}


def set_credential_status(
    session: Session,
    ctx: IssuerContext,
    credential_id: str,
    purpose: StatusPurpose,
    value: bool,
    *,
    reason: str,
    actor: str,
    now: datetime,
) -> IssuedCredential:
    """VC API ``/credentials/status``: set or clear one status of one credential.

    For a certification's credential this *is* the lifecycle action (withdraw, suspend,
    reinstate), with the same rules; a revocation is never cleared. A wallet copy can only be
    revoked on its own (the lifecycle moves reach it with its credential).

    :raises NotFound: :raises TransitionNotAllowed:
    """
    row = get_credential(session, credential_id)
    key = (purpose, value)
    if key not in _CREDENTIAL_MOVES:
        raise TransitionNotAllowed(
            f"cannot set {purpose.value} to {str(value).lower()}: a revocation is final"
        )
    if row.is_copy and key != (StatusPurpose.REVOCATION, True):
        raise TransitionNotAllowed(
            "a wallet copy follows its certification; only its revocation (a lost wallet, "
            "say) is set on its own"
        )
    if row.certification is not None and not row.is_copy:
        if row.certification.current_credential is not row:
            raise TransitionNotAllowed(f"credential {credential_id} was superseded")
        transition(
            session,
            ctx,
            row.certification.number,
            _AS_ACTION[key],
            reason=reason,
            actor=actor,
            now=now,
        )
        session.refresh(row)
        return row
    sources, target = _CREDENTIAL_MOVES[key]
    if row.state not in sources:
        raise TransitionNotAllowed(
            f"cannot set {purpose.value} to {str(value).lower()}: the credential is "
            f"{row.state.value}"
        )
    _set(session, ctx, row, purpose, value, now)
    row.state = target
    audit.record(
        session,
        action=Action.CREDENTIAL_STATUS,
        actor=actor,
        subject=credential_id,
        reason=reason,
        now=now,
        details={"purpose": purpose.value, "value": value},
    )
    return row


# --- views of the records -----------------------------------------------------------------


def credential_document(row: IssuedCredential) -> dict[str, Any] | str:
    """The signed credential: a JSON object, or the compact JWS for vc+jwt."""
    return row.document if row.format is CredentialFormat.JWT_VC else json.loads(row.document)


def credential_json(row: IssuedCredential, *, personal: bool = True) -> dict[str, Any]:
    """A credential's record; ``personal=False`` leaves out the wallet's holder DID (an
    identifier of a person) for callers without the right to persons' data."""
    shown = {
        "id": row.credential_id,
        "format": row.format.value,
        "suite": row.suite.value,
        "keyId": row.key_id,
        "state": row.state.value,
        "validFrom": row.valid_from.isoformat().replace("+00:00", "Z") if row.valid_from else None,
        "validUntil": row.valid_until.isoformat().replace("+00:00", "Z")
        if row.valid_until
        else None,
        "issuedAt": row.issued_at.isoformat().replace("+00:00", "Z"),
        "status": entries_json(row),
        "holder": row.holder_did,
    }
    if not personal:
        del shown["holder"]
    return shown


def certification_json(
    cert: Certification, now: datetime, *, personal: bool = True
) -> dict[str, Any]:
    """A certification as the API shows it; ``personal=False`` (a token without the ``issue``
    scope) leaves out ``person`` and the holder DIDs of wallet copies (issue 16, least data)."""
    current = cert.current_credential
    shown = {
        "number": cert.number,
        "person": catalog.person_json(cert.person),
        "scheme": cert.scheme.code,
        "scope": cert.scope,
        "effective": cert.effective.isoformat().replace("+00:00", "Z"),
        "expires": cert.expires.isoformat().replace("+00:00", "Z"),
        "state": cert.state_at(now).value,
        "credential": credential_json(current, personal=personal) if current is not None else None,
        "credentials": [credential_json(c, personal=personal) for c in cert.credentials],
    }
    if not personal:
        del shown["person"]
    return shown
