"""One credential, two securing mechanisms: the stored one and, on demand, the other.

A certification credential is signed once, with its scheme's suite. Exports and wallets may
want the other form: a vc+jwt of a Data Integrity credential, or Data Integrity of a vc+jwt
one. VC 2.0 §4.12 lets one credential be secured by several mechanisms, so the other form is
*the same credential* (same ``id``, same content, same status entries; only the proof
differs): every lifecycle move reaches it through the same status bits. It is signed the
first time it is asked for, stored in ``issued_credentials.alternate`` and recorded in the
audit log (``credential.secure``), so the body can account for every signature it made; later
exports return the stored one.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from keys.suites import vc_jwt

from ..db.models import Action, CredentialFormat, IssuedCredential, SecuringSuite
from ..errors import TransitionNotAllowed
from . import audit
from .issuance import sign_document
from .issuing_context import IssuerContext
from .lifecycle import credential_document


def unsigned_document(row: IssuedCredential) -> dict[str, Any]:
    """The credential as it was signed (our own record: the JWS payload, or the JSON without
    its proof)."""
    if row.format is CredentialFormat.JWT_VC:
        return dict(vc_jwt.parse(row.document).unverified_payload)
    document = json.loads(row.document)
    document.pop("proof", None)
    return document


def _parse(text: str, form: CredentialFormat) -> dict[str, Any] | str:
    return text if form is CredentialFormat.JWT_VC else json.loads(text)


def secured_as(
    session: Session,
    ctx: IssuerContext,
    row: IssuedCredential,
    form: CredentialFormat,
    *,
    actor: str,
    now: datetime,
) -> dict[str, Any] | str:
    """The credential secured as ``form``: the stored document, or its alternate (signed and
    recorded now if it was never made).

    :raises TransitionNotAllowed: the alternate is asked of a revoked or superseded credential
        (the body no longer vouches for it: nothing new is signed for it).
    """
    if row.format is form:
        return credential_document(row)
    if row.alternate is None:
        session.refresh(row, with_for_update=True)  # two first exports: one signs
    if row.alternate is not None:
        return _parse(row.alternate, form)
    if not row.live:
        raise TransitionNotAllowed(
            f"credential {row.credential_id} is {row.state.value}: it is only exported as it "
            f"was issued ({row.format.value})"
        )
    suite = (
        SecuringSuite.VC_JWT if form is CredentialFormat.JWT_VC else SecuringSuite.EDDSA_RDFC_2022
    )
    text, key_id = sign_document(ctx, unsigned_document(row), suite, now)
    row.alternate = text
    audit.record(
        session,
        action=Action.CREDENTIAL_SECURE,
        actor=actor,
        subject=row.certification.number if row.certification else row.credential_id,
        reason=f"the credential secured as {suite.value} for an export",
        now=now,
        details={"credentialId": row.credential_id, "suite": suite.value, "keyId": key_id},
    )
    return _parse(text, form)
