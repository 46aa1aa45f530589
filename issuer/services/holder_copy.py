"""Holder-bound copies: the certification credential a wallet pulls over OpenID4VCI.

OpenID4VCI binds the credential to the wallet's key (``credentialSubject.id`` = the holder's
DID), so the wallet cannot get the stored credential itself: it gets a **copy** of the
certification's current credential, and the copy is a credential of its own, recorded like
any other:

- a new ``id`` and its **own revocation and suspension entries** at random indexes (two
  credentials sharing indexes would let a verifier link them, and the copy could not be
  revoked alone);
- the same content otherwise (person, number, scheme, scope, ``validFrom``/``validUntil``);
- ``copy_of_id`` points at the credential it copies and ``holder_did`` names the holder;
- an audit event ``credential.wallet`` on the certification.

Every lifecycle move of the certification reaches its live copies (``lifecycle.transition``:
suspend, reinstate, withdraw, and renewal supersedes them with the credential they copy); a
copy alone can only be revoked, through the W3C VC API (a lost wallet). Only an active
certification's current credential is copied.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ..db.models import (
    Action,
    Certification,
    CredentialState,
    IssuedCredential,
    SecuringSuite,
    State,
)
from ..errors import FieldError, NotFound, TransitionNotAllowed
from . import audit, catalog, status_lists
from .issuance import credential_format, sign_document
from .issuing_context import IssuerContext
from .lifecycle import entries_json, get_credential
from .securing import unsigned_document

HOLDER_METHODS = ("did:key:", "did:jwk:")
MAX_HOLDER_DID = 2100


def offerable(cert: Certification, now: datetime) -> IssuedCredential:
    """The credential a wallet may receive for ``cert``: its current one, while active.

    :raises TransitionNotAllowed: suspended, withdrawn or expired. :raises NotFound:
    """
    shown = cert.state_at(now)
    if shown is not State.ACTIVE:
        raise TransitionNotAllowed(
            f"certification {cert.number} is {shown.value}: only an active certification's "
            "credential goes to a wallet"
        )
    current = cert.current_credential
    if current is None:
        raise NotFound(f"certification {cert.number} has no credential")
    return current


def wallet_source(session: Session, key: str, now: datetime) -> dict[str, Any]:
    """The unsigned credential a wallet will get for certification ``key`` (its ``id`` names
    the credential copied; the subject is bound and the id replaced when the copy is made)."""
    return unsigned_document(offerable(catalog.get_certification(session, key), now))


def issue_holder_copy(
    session: Session,
    ctx: IssuerContext,
    bound: Mapping[str, Any],
    suite: SecuringSuite,
    *,
    configuration: str,
    actor: str,
    now: datetime,
) -> IssuedCredential:
    """Record, allocate, sign and audit the copy of ``bound["id"]`` for the holder named in
    ``bound["credentialSubject"]["id"]``.

    Only the holder's DID is taken from ``bound``: the content is rebuilt from the record, so
    the body signs exactly what it recorded.

    :raises NotFound: :raises TransitionNotAllowed: the certification is not active any more,
        or ``bound`` names a credential that is no longer its current one.
    :raises FieldError: no usable holder DID.
    """
    subject = bound.get("credentialSubject")
    holder = subject.get("id") if isinstance(subject, Mapping) else None
    if (
        not isinstance(holder, str)
        or not holder.startswith(HOLDER_METHODS)
        or len(holder) > MAX_HOLDER_DID
    ):
        raise FieldError("credentialSubject.id", "the holder must be a did:key or did:jwk DID")
    source = get_credential(session, str(bound.get("id")))
    cert = source.certification
    if cert is None or source.is_copy:
        raise NotFound(f"credential {source.credential_id} is not a certification's credential")
    session.refresh(cert, with_for_update=True)  # no lifecycle move in between
    if offerable(cert, now) is not source:
        raise TransitionNotAllowed(f"credential {source.credential_id} was superseded")
    row = IssuedCredential(
        credential_id=ctx.new_credential_id(),
        certification_id=cert.id,
        format=credential_format(suite),
        suite=suite,
        key_id="",
        document="",
        valid_from=source.valid_from,
        valid_until=source.valid_until,
        issued_at=now,
        state=CredentialState.ACTIVE,
        copy_of_id=source.id,
        holder_did=holder,
        status_entries=[],
    )
    cert.credentials.append(row)
    source.copies.append(row)
    session.flush()
    refs = status_lists.allocate_entries(session, ctx, row, now)
    document = copy.deepcopy(unsigned_document(source))
    document["id"] = row.credential_id
    document["credentialSubject"]["id"] = holder
    document["credentialStatus"] = [ref.to_json() for ref in refs]
    row.document, row.key_id = sign_document(ctx, document, suite, now)
    audit.record(
        session,
        action=Action.CREDENTIAL_WALLET,
        actor=actor,
        subject=cert.number,
        reason="credential issued to the holder's wallet (OpenID4VCI)",
        now=now,
        details={
            "credentialId": row.credential_id,
            "copyOf": source.credential_id,
            "holder": holder,
            "configuration": configuration,
            "suite": suite.value,
            "status": entries_json(row),
        },
    )
    return row
