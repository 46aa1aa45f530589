"""Certifying: one decision or ten thousand, in set-wise statements in the caller's transaction.

Every new certification goes through :func:`certify`: the API, the admin form and ``certvc
issue`` pass one request, a CSV import a chunk of them. The work is done step by step for the
whole batch, not request by request, because per-request ORM work (seven flushes, savepoints,
one lock of the audit head per event) cost about 13 ms a certification while building and
signing its credential costs about 0.2 ms (issue 15):

1. read what the requests refer to (schemes, persons, live certifications, explicit numbers):
   one query each for the batch;
2. decide each request: refused (the error the single path raises), already present (only when
   asked: the person holds a live certification of the scheme, or the explicit number is
   theirs), or to issue;
3. draw certificate numbers and status indexes at random, checked against the database in one
   query per round (:func:`.status_lists.draw`);
4. build and sign every credential with the context's canonicalizer;
5. insert persons, certifications, credentials and status entries with one multi-row statement
   each, and append one audit event per certification under a single lock of the chain head.

On PostgreSQL a concurrent writer may take a number, a reference or an index between the
check and the insert: the unique constraints refuse the insert and steps 1 to 5 run again, in
a savepoint, or (the first try inside :func:`issuer.db.run_transaction`) as the runner's whole
transaction again (:class:`issuer.db.LostRace`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from contexts.errors import CertvcError
from issuer.signing import sign_credential
from keys.suites import ProofOptions
from verifier.model.credentials import StatusRef, certification_credential

from ..db import in_batches, insert_keyed, insert_rows, raced
from ..db.models import (
    Action,
    Certification,
    CredentialFormat,
    CredentialState,
    IssuedCredential,
    Person,
    Scheme,
    SecuringSuite,
    State,
    StatusEntry,
)
from ..errors import AlreadyExists, Conflict, FieldError, UnknownReference
from . import audit, body_identity, catalog, claims, status_lists
from .issuing_context import IssuerContext
from .mail_templates import ClaimEvent

#: Rounds of random certificate numbers before giving up (a scheme-year with a million taken).
_NUMBER_ROUNDS = 20
#: Whole-batch retries after a concurrent writer took a number, reference or index first.
_BATCH_ATTEMPTS = 5
#: Batches up to this size draw certificate numbers without asking the database first: a
#: collision (about one in a million) is refused by the unique constraint and the batch is
#: drawn again, checked this time. Status indexes are always checked (a list is filled to its
#: last index, so blind draws would collide as often as the list is full).
_OPTIMISTIC = 4


@dataclass(frozen=True)
class IssueRequest:
    """What an officer decides when certifying: who, which scheme, what scope, from when.

    The person is ``person_id`` (registered), or ``person_reference`` (the body's own id: the
    person registered under it, else a new one) with ``person_name``, or a new ``person_name``.
    """

    scheme_code: str
    scope: str
    person_id: int | None = None
    person_name: str | None = None
    person_reference: str | None = None
    number: str | None = None
    effective: datetime | None = None
    expires: datetime | None = None
    #: A new person's e-mail address (checked by the adapter); a registered person keeps theirs.
    person_email: str | None = None


class Verdict(Enum):
    ISSUED = "issued"
    PRESENT = "present"  # a re-run: the person already holds it, nothing done
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    """What became of one request; ``error`` is the reason of a refusal."""

    verdict: Verdict
    number: str | None = None
    certification_id: int | None = None
    person_created: bool = False
    error: CertvcError | None = None
    #: The issued certification as written (``certify(records=True)``), with its person,
    #: scheme, credential and status entries: built from what was inserted, not read back, and
    #: never attached to a session (it is what the caller shows, not something to change).
    record: Certification | None = field(default=None, compare=False, repr=False)


def credential_format(suite: SecuringSuite) -> CredentialFormat:
    return CredentialFormat.JWT_VC if suite is SecuringSuite.VC_JWT else CredentialFormat.LDP_VC


def sign_document(
    ctx: IssuerContext, document: dict[str, Any], suite: SecuringSuite, now: datetime
) -> tuple[str, str]:
    """Secure ``document`` with the active key of ``suite``: (stored text, key id)."""
    signer = ctx.keyring.signer(suite)
    secured = sign_credential(
        document,
        signer,
        suite.value,
        store=ctx.store,
        options=ProofOptions(created=now),
        canonicalizer=ctx.canonicalizer,
    )
    text = secured if isinstance(secured, str) else json.dumps(secured, ensure_ascii=False)
    return text, signer.key_id


#: Signs a batch of (document, suite) at ``now``: ``[(text, key id) or the error], in order``.
#: The default signs here, one after the other; ``certvc import-csv --jobs N`` passes a pool.
BatchSigner = Callable[
    [IssuerContext, Sequence[tuple[dict[str, Any], SecuringSuite]], datetime],
    list["tuple[str, str] | CertvcError"],
]


def sign_here(
    ctx: IssuerContext, items: Sequence[tuple[dict[str, Any], SecuringSuite]], now: datetime
) -> list[tuple[str, str] | CertvcError]:
    results: list[tuple[str, str] | CertvcError] = []
    for document, suite in items:
        try:
            results.append(sign_document(ctx, document, suite, now))
        except CertvcError as error:
            results.append(error)
    return results


@dataclass
class _Plan:
    """One request on its way: decided, then drawn, then signed."""

    request: IssueRequest
    scheme: Scheme
    scope: str
    effective: datetime
    expires: datetime
    #: A registered person's id, or the key of a new person (its reference, or its position).
    person_id: int | None
    new_person: str | None
    person_name: str
    person_email: str | None = None
    #: The registered person's row (None for a new person).
    person: Person | None = None
    number: str | None = None
    document: str = ""
    key_id: str = ""
    credential_id: str = ""
    refs: tuple[StatusRef, ...] = ()
    entries: tuple[tuple[int, int], ...] = ()
    certification_id: int = 0
    credential_pk: int = 0


@dataclass
class _Known:
    """What the batch's requests refer to, read once."""

    schemes: dict[str, Scheme]
    by_id: dict[int, Person]
    by_reference: dict[str, Person]
    #: (person id, scheme id) of live certifications.
    live: set[tuple[int, int]]
    #: number -> (person id, scheme id) of the explicit numbers that exist.
    numbers: dict[str, tuple[int, int]]


# Built once (every issuance runs them; see status_lists).
_SCHEMES = (
    select(Scheme)
    .where(Scheme.code.in_(bindparam("codes", expanding=True)))
    .options(joinedload(Scheme.image))
)
_PERSONS = select(Person).where(Person.reference.in_(bindparam("references", expanding=True)))


def _read(session: Session, requests: Sequence[IssueRequest], *, live_too: bool) -> _Known:
    """What ``requests`` refer to; the persons' live certifications only when ``live_too``
    (a re-run skips them)."""
    codes = sorted({r.scheme_code for r in requests})
    schemes = {s.code: s for s in session.execute(_SCHEMES, {"codes": codes}).scalars()}
    by_id: dict[int, Person] = {}
    for part in in_batches(sorted({r.person_id for r in requests if r.person_id is not None})):
        for person in session.execute(select(Person).where(Person.id.in_(part))).scalars():
            by_id[person.id] = person
    by_reference: dict[str, Person] = {}
    references = sorted({r.person_reference for r in requests if r.person_reference})
    for part in in_batches(references):
        for person in session.execute(_PERSONS, {"references": list(part)}).scalars():
            by_reference[person.reference or ""] = person
    person_ids = sorted({*by_id, *(p.id for p in by_reference.values())}) if live_too else []
    live: set[tuple[int, int]] = set()
    for part in in_batches(person_ids):
        live.update(
            (row.person_id, row.scheme_id)
            for row in session.execute(
                select(Certification.person_id, Certification.scheme_id).where(
                    Certification.person_id.in_(part),
                    Certification.state.in_((State.ACTIVE, State.SUSPENDED)),
                )
            )
        )
    numbers: dict[str, tuple[int, int]] = {}
    for part in in_batches(sorted({r.number for r in requests if r.number})):
        for row in session.execute(
            select(Certification.number, Certification.person_id, Certification.scheme_id).where(
                Certification.number.in_(part)
            )
        ):
            numbers[row.number] = (row.person_id, row.scheme_id)
    return _Known(schemes, by_id, by_reference, live, numbers)


def _decide(
    requests: Sequence[IssueRequest], known: _Known, now: datetime, *, skip_present: bool
) -> list[_Plan | Outcome]:
    """Each request's plan, or its outcome when nothing is to be issued (no database access)."""
    decided: list[_Plan | Outcome] = []
    new_names: dict[str, str] = {}  # the key of a new person -> its name
    issued_for: set[tuple[int | str, int]] = set()  # (person id or new key, scheme id)
    numbers: set[str] = set()
    for position, request in enumerate(requests):
        try:
            plan = _plan(request, known, new_names, position, now)
        except CertvcError as error:
            decided.append(Outcome(Verdict.REFUSED, error=error))
            continue
        who: int | str = plan.person_id if plan.person_id is not None else plan.new_person or ""
        scheme_id = plan.scheme.id
        held = (who, scheme_id) in issued_for or (
            plan.person_id is not None and (plan.person_id, scheme_id) in known.live
        )
        number = request.number
        if number is not None and (number in known.numbers or number in numbers):
            owner = known.numbers.get(number)
            if skip_present and (owner == (plan.person_id, scheme_id) or held):
                decided.append(Outcome(Verdict.PRESENT, number=number))
                continue
            if skip_present and owner is not None:
                error: CertvcError = FieldError("number", f"{number!r} is another certification")
            else:
                error = AlreadyExists(f"certificate number {number!r} is taken")
            decided.append(Outcome(Verdict.REFUSED, error=error))
            continue
        if skip_present and number is None and held:
            decided.append(Outcome(Verdict.PRESENT))
            continue
        if plan.new_person is not None and plan.new_person not in new_names:
            new_names[plan.new_person] = request.person_name or ""
        issued_for.add((who, scheme_id))
        if number is not None:
            numbers.add(number)
        decided.append(plan)
    return decided


def _plan(
    request: IssueRequest,
    known: _Known,
    new_names: dict[str, str],
    position: int,
    now: datetime,
) -> _Plan:
    """:raises CertvcError: what makes the request impossible (the single path's errors)."""
    scheme = known.schemes.get(request.scheme_code)
    if scheme is None:
        raise UnknownReference("scheme", f"no scheme with code {request.scheme_code!r}")
    if scheme.retired_at is not None:
        raise FieldError("scheme", f"scheme {scheme.code} is retired: it certifies nobody new")
    if not request.scope or not request.scope.strip():
        raise FieldError("scope", "is required")
    effective = request.effective or now
    try:
        expires = request.expires or effective + timedelta(days=scheme.validity_days)
    except OverflowError:
        raise FieldError("effective", "is too far in the future") from None
    if expires <= effective:
        raise FieldError("expires", "must be after the effective date")
    person_id: int | None = None
    new_person: str | None = None
    registered: Person | None = None
    if request.person_id is not None:
        registered = known.by_id.get(request.person_id)
        if registered is None:
            raise UnknownReference("personId", f"no person with id {request.person_id}")
        person_id, name, email = registered.id, registered.name, registered.email
    else:
        reference = request.person_reference
        existing = known.by_reference.get(reference) if reference else None
        name, email = request.person_name, request.person_email
        if existing is not None:
            if name and name != existing.name:
                raise FieldError("person.name", f"reference {reference!r} belongs to another name")
            registered = existing
            person_id, name, email = existing.id, existing.name, existing.email
        elif not name:
            raise FieldError("person", "give personId, or a person with a name")
        elif reference:
            if reference in new_names and new_names[reference] != name:
                raise FieldError("person.name", f"reference {reference!r} belongs to another name")
            new_person = reference
        else:
            new_person = f"#{position}"  # no reference: always a new person
    return _Plan(
        request=request,
        scheme=scheme,
        scope=request.scope.strip(),
        effective=effective,
        expires=expires,
        person_id=person_id,
        new_person=new_person,
        person_name=name or "",
        person_email=email,
        person=registered,
    )


def _draw_numbers(
    session: Session, ctx: IssuerContext, plans: Sequence[_Plan], *, checked: bool = True
) -> None:
    """A random free number ``<scheme>-<year>-<6 digits>`` for each plan without one (free
    as far as the database knows when ``checked``; else left to the unique constraint)."""
    taken = {p.request.number for p in plans if p.request.number}
    wanting = [p for p in plans if not p.request.number]
    for plan in plans:
        plan.number = plan.request.number
    for _ in range(_NUMBER_ROUNDS):
        if not wanting:
            return
        for plan in wanting:
            while True:
                candidate = (
                    f"{plan.scheme.code}-{plan.effective.year}-{ctx.rng.randrange(10**6):06d}"
                )
                if candidate not in taken:
                    break
            plan.number = candidate
            taken.add(candidate)
        if not checked:
            return
        held: set[str] = set()
        for part in in_batches([p.number for p in wanting]):
            held.update(
                session.execute(
                    select(Certification.number).where(Certification.number.in_(part))
                ).scalars()
            )
        wanting = [p for p in wanting if p.number in held]
    if wanting:
        raise AlreadyExists("could not find a free certificate number; give one explicitly")


def certify(
    session: Session,
    ctx: IssuerContext,
    requests: Sequence[IssueRequest],
    *,
    reason: str,
    actor: str,
    now: datetime,
    skip_present: bool = False,
    signer: BatchSigner = sign_here,
    records: bool = False,
) -> list[Outcome]:
    """Certify each request (an outcome per request, in order); nothing commits here.

    ``skip_present``: a request the database already satisfies (the person holds a live
    certification of the scheme, or the explicit number is theirs) is reported ``PRESENT``
    instead of issued again (CSV imports: a file can be run again). ``records``: each issued
    outcome carries its :attr:`Outcome.record` (what an API answer shows).

    :raises ReasonRequired: no reason. :raises Conflict: concurrent writers kept winning.
    """
    how = _How(audit.check_reason(reason), actor, now, skip_present, signer, records)
    if not requests:
        return []
    for attempt in range(1, _BATCH_ATTEMPTS + 1):
        try:
            # Small batches draw their numbers without asking first (one in a million taken).
            with raced(session):
                return _certify(
                    session, ctx, requests, how, attempt > 1 or len(requests) > _OPTIMISTIC
                )
        except IntegrityError as error:
            if attempt == _BATCH_ATTEMPTS:
                raise Conflict(
                    "concurrent issuances kept taking the same numbers; try again"
                ) from error
            session.expire_all()
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _How:
    """:func:`certify`'s settings, as its steps need them."""

    reason: str
    actor: str
    now: datetime
    skip_present: bool
    signer: BatchSigner
    records: bool


def _certify(
    session: Session,
    ctx: IssuerContext,
    requests: Sequence[IssueRequest],
    how: _How,
    checked_numbers: bool,
) -> list[Outcome]:
    now = how.now
    known = _read(session, requests, live_too=how.skip_present)
    decided = _decide(requests, known, now, skip_present=how.skip_present)
    plans = [item for item in decided if isinstance(item, _Plan)]
    if not plans:
        return [item for item in decided if isinstance(item, Outcome)]
    _draw_numbers(session, ctx, plans, checked=checked_numbers)
    opened = status_lists.open_lists(session, ctx, status_lists.PURPOSES, now)
    draws = {
        purpose: status_lists.draw(session, ctx, purpose, len(plans), now, row=opened[purpose])
        for purpose in status_lists.PURPOSES
    }
    body = body_identity.body_profile(catalog.get_body(session, with_logo=True), ctx.public_url)
    infos = {p.scheme.code: catalog.scheme_info(p.scheme, ctx.public_url) for p in plans}
    names = {p.new_person: p.person_name for p in plans if p.new_person}
    emails = {p.new_person: p.person_email for p in plans if p.new_person and p.person_email}
    unsigned: list[tuple[dict[str, Any], SecuringSuite]] = []
    for n, plan in enumerate(plans):
        plan.credential_id = ctx.new_credential_id()
        plan.entries = tuple(draws[purpose][n] for purpose in status_lists.PURPOSES)
        plan.refs = tuple(
            StatusRef(purpose, ctx.status_list_url(list_id), index)
            for purpose, (list_id, index) in zip(status_lists.PURPOSES, plan.entries, strict=True)
        )
        document = certification_credential(
            credential_id=plan.credential_id,
            body=body,
            scheme=infos[plan.scheme.code],
            person_name=plan.person_name,
            number=plan.number or "",
            scope=plan.scope,
            valid_from=plan.effective,
            valid_until=plan.expires,
            status=list(plan.refs),
        )
        unsigned.append((document, plan.scheme.suite))
    signed = how.signer(ctx, unsigned, now)
    outcomes: dict[int, Outcome] = {}
    good: list[_Plan] = []
    for plan, result in zip(plans, signed, strict=True):
        if isinstance(result, CertvcError):
            outcomes[id(plan)] = Outcome(Verdict.REFUSED, error=result)
        else:
            plan.document, plan.key_id = result
            good.append(plan)
    created = _insert(session, good, names, emails, how)
    for plan in good:
        outcomes[id(plan)] = created[id(plan)]
    if ctx.delivery is not None:
        claims.notify(session, ctx, [_notice(plan) for plan in good], now=now)
    return [outcomes[id(item)] if isinstance(item, _Plan) else item for item in decided]


def _notice(plan: _Plan) -> claims.Notice:
    return claims.Notice(
        certification_id=plan.certification_id,
        credential_pk=plan.credential_pk,
        credential_id=plan.credential_id,
        number=plan.number or "",
        person_name=plan.person_name,
        email=plan.person_email,
        certification_name=plan.scheme.name,
        expires=plan.expires,
        event=ClaimEvent.ISSUED,
    )


def _insert_persons(
    session: Session, keys: Sequence[str], rows: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Insert new persons; their ids by key (reference, or ``#position`` for persons without
    one). Persons without a reference are matched by name: two such rows of the same name are
    the same data, so which of their ids goes to which row makes no difference."""
    table = Person.__table__
    returned = session.execute(
        insert(table).returning(table.c.id, table.c.reference, table.c.name), rows
    ).all()
    by_reference = {reference: pk for pk, reference, _ in returned if reference is not None}
    unnamed: dict[str, list[int]] = {}
    for pk, reference, name in returned:
        if reference is None:
            unnamed.setdefault(name, []).append(pk)
    ids: dict[str, int] = {}
    for key, row in zip(keys, rows, strict=True):
        reference = row["reference"]
        ids[key] = by_reference[reference] if reference else unnamed[row["name"]].pop()
    return ids


def _insert(
    session: Session,
    plans: Sequence[_Plan],
    names: dict[str, str],
    emails: dict[str, str | None],
    how: _How,
) -> dict[int, Outcome]:
    """Write the signed plans: persons, certifications, credentials, entries, audit events."""
    now = how.now
    if not plans:
        # Every one refused (a signer that failed: a token gone, say). An INSERT of no rows
        # is not "nothing": it inserts one row of defaults, which the schema refuses.
        return {}
    new_keys = list(dict.fromkeys(p.new_person for p in plans if p.new_person))
    new_ids: dict[str, int] = {}
    if new_keys:
        rows = [
            {
                "name": names[key],
                "reference": None if key.startswith("#") else key,
                "created_at": now,
                "email": emails.get(key),
            }
            for key in new_keys
        ]
        new_ids = _insert_persons(session, new_keys, rows)
    person_of = {
        id(p): p.person_id if p.person_id is not None else new_ids[p.new_person or ""]
        for p in plans
    }
    cert_ids = insert_keyed(
        session,
        Certification.__table__,
        "number",
        [
            {
                "number": p.number,
                "person_id": person_of[id(p)],
                "scheme_id": p.scheme.id,
                "scope": p.scope,
                "effective": p.effective,
                "expires": p.expires,
                "state": State.ACTIVE,
                "created_at": now,
                "updated_at": now,
                "public_page": False,
            }
            for p in plans
        ],
    )
    credential_pks = insert_keyed(
        session,
        IssuedCredential.__table__,
        "credential_id",
        [
            {
                "credential_id": p.credential_id,
                "certification_id": cert_id,
                "format": credential_format(p.scheme.suite),
                "suite": p.scheme.suite,
                "key_id": p.key_id,
                "document": p.document,
                "valid_from": p.effective,
                "valid_until": p.expires,
                "issued_at": now,
                "state": CredentialState.ACTIVE,
            }
            for p, cert_id in zip(plans, cert_ids, strict=True)
        ],
    )
    for plan, cert_id, pk in zip(plans, cert_ids, credential_pks, strict=True):
        plan.certification_id, plan.credential_pk = cert_id, pk
    entries = [
        {"credential_pk": pk, "purpose": purpose, "list_id": list_id, "status_index": index}
        for p, pk in zip(plans, credential_pks, strict=True)
        for purpose, (list_id, index) in zip(status_lists.PURPOSES, p.entries, strict=True)
    ]
    insert_rows(session, StatusEntry.__table__, entries)
    first_of: set[str] = set()
    events = []
    outcomes: dict[int, Outcome] = {}
    new_persons: dict[int, Person] = {}
    for plan, cert_id in zip(plans, cert_ids, strict=True):
        created = plan.new_person is not None and plan.new_person not in first_of
        if plan.new_person is not None:
            first_of.add(plan.new_person)
        events.append(
            audit.Draft(
                action=Action.ISSUE,
                subject=plan.number or "",
                details={
                    "credentialId": plan.credential_id,
                    "person": person_of[id(plan)],
                    "personCreated": created,
                    "scheme": plan.scheme.code,
                    "scope": plan.scope,
                    "validFrom": plan.effective.isoformat(),
                    "validUntil": plan.expires.isoformat(),
                    "status": [
                        {"purpose": purpose.value, "list": list_id, "index": index}
                        for purpose, (list_id, index) in zip(
                            status_lists.PURPOSES, plan.entries, strict=True
                        )
                    ],
                },
            )
        )
        outcomes[id(plan)] = Outcome(
            Verdict.ISSUED,
            number=plan.number,
            certification_id=cert_id,
            person_created=created,
            record=_record(plan, person_of[id(plan)], new_persons, now) if how.records else None,
        )
    audit.record_many(session, events, actor=how.actor, reason=how.reason, now=now)
    return outcomes


def credential_record(
    *,
    pk: int,
    credential_id: str,
    certification_id: int | None,
    suite: SecuringSuite,
    signed: tuple[str, str],
    valid: tuple[datetime | None, datetime | None],
    entries: Sequence[tuple[int, int]],
    now: datetime,
) -> IssuedCredential:
    """A credential just inserted (``signed``: its text and key id; ``entries``: its (list,
    index) per purpose of :data:`.status_lists.PURPOSES`), as a row no session holds."""
    row = IssuedCredential(
        id=pk,
        credential_id=credential_id,
        certification_id=certification_id,
        format=credential_format(suite),
        suite=suite,
        key_id=signed[1],
        document=signed[0],
        valid_from=valid[0],
        valid_until=valid[1],
        issued_at=now,
        state=CredentialState.ACTIVE,
    )
    set_committed_value(
        row,
        "status_entries",
        [
            StatusEntry(credential_pk=pk, purpose=purpose, list_id=list_id, status_index=index)
            for purpose, (list_id, index) in zip(status_lists.PURPOSES, entries, strict=True)
        ],
    )
    return row


def _record(
    plan: _Plan, person_id: int, new_persons: dict[int, Person], now: datetime
) -> Certification:
    """The certification ``plan`` inserted, as rows of the mapped classes that no session holds
    (:attr:`Outcome.record`). Relationships are set as loaded values, so nothing cascades into
    the session: the registered person and the scheme are the session's own rows."""
    person = plan.person
    if person is None:
        person = new_persons.get(person_id)
        if person is None:
            person = new_persons[person_id] = Person(
                id=person_id,
                name=plan.person_name,
                reference=plan.request.person_reference,
                created_at=now,
                email=plan.person_email,
            )
    credential = credential_record(
        pk=plan.credential_pk,
        credential_id=plan.credential_id,
        certification_id=plan.certification_id,
        suite=plan.scheme.suite,
        signed=(plan.document, plan.key_id),
        valid=(plan.effective, plan.expires),
        entries=plan.entries,
        now=now,
    )
    cert = Certification(
        id=plan.certification_id,
        number=plan.number,
        person_id=person_id,
        scheme_id=plan.scheme.id,
        scope=plan.scope,
        effective=plan.effective,
        expires=plan.expires,
        state=State.ACTIVE,
        created_at=now,
        updated_at=now,
        public_page=False,
    )
    set_committed_value(cert, "person", person)
    set_committed_value(cert, "scheme", plan.scheme)
    set_committed_value(cert, "credentials", [credential])
    return cert
