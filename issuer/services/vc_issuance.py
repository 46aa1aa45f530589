"""Signing caller-built credentials (the W3C VC API's ``/credentials/issue``), set-wise.

The caller builds the credential; certvc checks it is its to sign, gives it an id and a
revocation and a suspension entry, signs it and records it, with an audit event. Several
requests go through at once (the requests one worker holds, :mod:`issuer.db.group_commit`):
the checks and the signing are per request, and a refusal is that request's alone; the ids,
the status indexes, the inserts and the chain head are done once for all of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from contexts.errors import CertvcError, ShapeError
from keys.dates import parse_datetime_stamp
from verifier.engine import issuer_id
from verifier.errors import VerifierCode
from verifier.model.credentials import StatusRef

from ..db import LostRace, in_batches, insert_keyed, insert_rows
from ..db.models import (
    Action,
    CredentialState,
    IssuedCredential,
    SecuringSuite,
    StatusEntry,
)
from ..errors import AlreadyExists, FieldError
from . import audit, status_lists
from .issuance import credential_format, credential_record, sign_document
from .issuing_context import IssuerContext

#: VC Data Model 1.1's context, and the Bitstring Status List context its credentials need.
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
STATUS_CONTEXT = "https://www.w3.org/ns/credentials/status/v1"


@dataclass(frozen=True)
class CredentialRequest:
    """One caller-built credential to sign, and who asks why."""

    credential: Mapping[str, Any]
    suite: SecuringSuite
    #: The id the caller chose (``options.credentialId``); else ``credential.id`` or a new one.
    credential_id: str | None
    reason: str
    actor: str


@dataclass
class _Draft:
    request: CredentialRequest
    document: dict[str, Any]
    credential_id: str
    valid_from: datetime | None
    valid_until: datetime | None
    entries: tuple[tuple[int, int], ...] = ()
    text: str = ""
    key_id: str = ""
    pk: int = 0


def issue_credentials(
    session: Session,
    ctx: IssuerContext,
    requests: Sequence[CredentialRequest],
    *,
    now: datetime,
) -> list[IssuedCredential | CertvcError]:
    """Sign and record each request's credential in the caller's transaction: its record (as
    written, with its status entries, attached to no session), or the error that refused it.

    Refusals: ``issuer`` other than the body's DID, ``credentialStatus`` or ``proof`` given,
    an ``id`` that is not a URL or was issued already (``FieldError``, ``AlreadyExists``), no
    reason, and what the shape rules and safe mode refuse when signing (``ShapeError``,
    ``JsonLdError``). A concurrent writer taking an id or an index first raises
    :class:`~issuer.db.LostRace` (the runner runs the transaction again).
    """
    results: list[IssuedCredential | CertvcError | None] = [None] * len(requests)
    drafts: dict[int, _Draft] = {}
    for position, request in enumerate(requests):
        try:
            audit.check_reason(request.reason)
            drafts[position] = _draft(ctx, request)
        except CertvcError as error:
            results[position] = error
    _refuse_taken_ids(session, drafts, results)
    if drafts:
        opened = status_lists.open_lists(session, ctx, status_lists.PURPOSES, now)
        draws = [
            status_lists.draw(session, ctx, purpose, len(drafts), now, row=opened[purpose])
            for purpose in status_lists.PURPOSES
        ]
        for n, (position, draft) in enumerate(list(drafts.items())):
            draft.entries = tuple(drawn[n] for drawn in draws)
            try:
                _sign(ctx, draft, now)
            except CertvcError as error:
                results[position] = error
                del drafts[position]
    if drafts:
        try:
            _insert(session, list(drafts.values()), now)
        except IntegrityError as error:  # an id or an index taken meanwhile
            raise LostRace from error
        for position, draft in drafts.items():
            results[position] = _record(draft, now)
    assert all(result is not None for result in results)
    return [result for result in results if result is not None]


def _draft(ctx: IssuerContext, request: CredentialRequest) -> _Draft:
    """The document to sign, checked: :raises FieldError, ShapeError:"""
    document = dict(request.credential)
    if "issuer" in document:
        given = issuer_id(document)
        if given != ctx.did:
            raise FieldError(
                "credential.issuer",
                f"must be omitted or be this body's DID {ctx.did}",
                code=VerifierCode.ISSUER_MISMATCH,
            )
    else:
        document["issuer"] = ctx.did
    if "credentialStatus" in document:
        raise FieldError("credential.credentialStatus", "is assigned by the issuer; omit it")
    if "proof" in document:
        raise FieldError("credential.proof", "an unsigned credential must not carry a proof")
    if "id" in document and (not isinstance(document["id"], str) or not document["id"]):
        raise FieldError("credential.id", "must be a URL (omit it to have one assigned)")
    wanted = request.credential_id or document.get("id") or ctx.new_credential_id()
    if not isinstance(wanted, str) or not wanted:
        raise FieldError("credential.id", "must be a URL")
    document["id"] = wanted
    v1 = is_v1(document)
    # VC 1.1 §4.6 / §4.7 name the validity period issuanceDate / expirationDate.
    return _Draft(
        request=request,
        document=document,
        credential_id=wanted,
        valid_from=_optional_moment(document, "issuanceDate" if v1 else "validFrom"),
        valid_until=_optional_moment(document, "expirationDate" if v1 else "validUntil"),
    )


def _refuse_taken_ids(
    session: Session,
    drafts: dict[int, _Draft],
    results: list[IssuedCredential | CertvcError | None],
) -> None:
    """Refuse the drafts whose id was issued already, here or earlier in the batch."""
    wanted = sorted({d.credential_id for d in drafts.values()})
    taken: set[str] = set()
    for part in in_batches(wanted):
        taken.update(
            session.execute(
                select(IssuedCredential.credential_id).where(
                    IssuedCredential.credential_id.in_(part)
                )
            ).scalars()
        )
    for position, draft in list(drafts.items()):
        if draft.credential_id in taken:
            results[position] = AlreadyExists(
                f"a credential with id {draft.credential_id!r} was already issued"
            )
            del drafts[position]
        taken.add(draft.credential_id)


def _sign(ctx: IssuerContext, draft: _Draft, now: datetime) -> None:
    document = draft.document
    document["credentialStatus"] = [
        StatusRef(purpose, ctx.status_list_url(list_id), index).to_json()
        for purpose, (list_id, index) in zip(status_lists.PURPOSES, draft.entries, strict=True)
    ]
    if is_v1(document) and STATUS_CONTEXT not in document["@context"]:
        # The 1.1 context does not define BitstringStatusListEntry; Bitstring Status List
        # 1.0's own context does (§2.1), and is what a 1.1 credential with status carries.
        document["@context"] = [*document["@context"], STATUS_CONTEXT]
    draft.text, draft.key_id = sign_document(ctx, document, draft.request.suite, now)


def _insert(session: Session, drafts: Sequence[_Draft], now: datetime) -> None:
    """The credentials, their status entries and one audit event each (per actor and reason,
    one append under the chain head's lock)."""
    pks = insert_keyed(
        session,
        IssuedCredential.__table__,
        "credential_id",
        [
            {
                "credential_id": d.credential_id,
                "certification_id": None,
                "format": credential_format(d.request.suite),
                "suite": d.request.suite,
                "key_id": d.key_id,
                "document": d.text,
                "valid_from": d.valid_from,
                "valid_until": d.valid_until,
                "issued_at": now,
                "state": CredentialState.ACTIVE,
            }
            for d in drafts
        ],
    )
    for draft, pk in zip(drafts, pks, strict=True):
        draft.pk = pk
    insert_rows(
        session,
        StatusEntry.__table__,
        [
            {"credential_pk": d.pk, "purpose": purpose, "list_id": list_id, "status_index": i}
            for d in drafts
            for purpose, (list_id, i) in zip(status_lists.PURPOSES, d.entries, strict=True)
        ],
    )
    by_who: dict[tuple[str, str], list[audit.Draft]] = {}
    for d in drafts:
        by_who.setdefault((d.request.actor, d.request.reason), []).append(
            audit.Draft(
                action=Action.CREDENTIAL_ISSUE,
                subject=d.credential_id,
                details={"suite": d.request.suite.value, "status": _entries_json(d)},
            )
        )
    for (actor, reason), events in by_who.items():
        audit.record_many(session, events, actor=actor, reason=reason, now=now)


def _entries_json(draft: _Draft) -> list[dict[str, Any]]:
    return [
        {"purpose": purpose.value, "list": list_id, "index": index}
        for purpose, (list_id, index) in zip(status_lists.PURPOSES, draft.entries, strict=True)
    ]


def _record(draft: _Draft, now: datetime) -> IssuedCredential:
    return credential_record(
        pk=draft.pk,
        credential_id=draft.credential_id,
        certification_id=None,
        suite=draft.request.suite,
        signed=(draft.text, draft.key_id),
        valid=(draft.valid_from, draft.valid_until),
        entries=draft.entries,
        now=now,
    )


def is_v1(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` is a VC Data Model 1.1 credential (its first context)."""
    contexts = document.get("@context")
    return isinstance(contexts, list) and contexts[:1] == [CREDENTIALS_V1]


def _optional_moment(document: Mapping[str, Any], name: str) -> datetime | None:
    value = document.get(name)
    if value is None:
        return None
    try:
        return parse_datetime_stamp(value)
    except ShapeError as error:
        raise ShapeError(error.message, path=f"/{name}") from error
