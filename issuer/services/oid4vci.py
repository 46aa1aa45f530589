"""OpenID4VCI in the issuer: the database store, the service's wiring, and credential offers.

``wallet_export.oid4vci`` is the protocol (pure, with an injected store, clock and signing
callbacks); here the issuer plugs in its database and its lifecycle:

- :class:`SessionStore` keeps offers, access tokens and nonces in the database (SHA-256
  digests only; migration 0002). Its single-use rules are conditional statements (``UPDATE
  ... WHERE redeemed = false AND expires_at > now``, ``DELETE ... WHERE expires_at > now``), so
  two racing requests cannot both win on any backend. :class:`DatabaseStore` runs each call in
  a transaction of its own, as the service calls them one at a time.
- What a token redeemed (migration 0012): the holder key it is bound to (``UPDATE ... SET
  holder_key WHERE holder_key IS NULL``) and one credential per configuration
  (``oid4vci_credentials``, unique per token and configuration). The row is inserted first and
  the credential made in the same transaction, so a racing request waits for it (PostgreSQL's
  unique index; SQLite's one writer) and then answers the kept credential: every process sees
  one redemption.
- The credential source is the certification's current credential (only while active); the
  signing callbacks issue a holder-bound copy through :mod:`issuer.services.holder_copy` in the
  redemption's transaction (record, status entries, audit event), and the credential response
  is sent only after it committed.
- :func:`create_offer` makes an offer and its audit event in the caller's transaction.

OpenID4VCI needs an https Credential Issuer Identifier (§12.2.1): the instance's public URL.
An http instance (development on loopback) has no OpenID4VCI endpoints.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from contexts.errors import CertvcError
from wallet_export.oid4vci import (
    CredentialConfiguration,
    CredentialFormat,
    IssueCallback,
    IssuerSettings,
    OfferRecord,
    OfferResult,
    Oid4vciService,
    TokenRecord,
    jwt_vc_json_configuration,
)
from wallet_export.oid4vci.errors import OAuthErrorCode, Oid4vciError

from .. import db
from ..db.models import (
    Action,
    Oid4vciCredential,
    Oid4vciNonce,
    Oid4vciOffer,
    Oid4vciToken,
    SecuringSuite,
)
from ..errors import InstanceNotReady
from . import audit, catalog, holder_copy
from .issuing_context import IssuerContext
from .lifecycle import credential_document, get_credential

LDP_VC = "CertificationCredential_ldp_vc"
JWT_VC_JSON = "CertificationCredential_jwt_vc_json"
DATA_INTEGRITY = (SecuringSuite.EDDSA_RDFC_2022, SecuringSuite.ECDSA_RDFC_2019)
#: Rows this long past their expiry are deleted when new ones are added (nothing reads them).
PURGE_AFTER = timedelta(days=1)

Clock = Callable[[], datetime]


# --- the store ----------------------------------------------------------------------------


def _record(row: Oid4vciOffer) -> OfferRecord:
    return OfferRecord(
        offer_id=row.offer_id,
        code_digest=row.code_digest,
        credential_ref=row.credential_ref,
        configuration_ids=tuple(json.loads(row.configuration_ids)),
        expires_at=row.expires_at,
        tx_code_digest=row.tx_code_digest,
        document=row.document,
        redeemed=row.redeemed,
        failed_tx_codes=row.failed_tx_codes,
    )


class SessionStore:
    """:class:`wallet_export.oid4vci.IssuanceStore` in the caller's session (never commits)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _offer_row(self, code_digest: str) -> Oid4vciOffer | None:
        return self._session.execute(
            select(Oid4vciOffer)
            .where(Oid4vciOffer.code_digest == code_digest)
            .execution_options(populate_existing=True)
        ).scalar_one_or_none()

    def add_offer(self, record: OfferRecord) -> None:
        self._session.execute(
            delete(Oid4vciOffer).where(Oid4vciOffer.expires_at < record.expires_at - PURGE_AFTER)
        )
        self._session.add(
            Oid4vciOffer(
                offer_id=record.offer_id,
                code_digest=record.code_digest,
                credential_ref=record.credential_ref,
                configuration_ids=json.dumps(list(record.configuration_ids)),
                expires_at=record.expires_at,
                tx_code_digest=record.tx_code_digest,
                document=record.document,
                redeemed=record.redeemed,
                failed_tx_codes=record.failed_tx_codes,
            )
        )
        self._session.flush()

    def offer_document(self, offer_id: str, now: datetime) -> str | None:
        row = self._session.execute(
            select(Oid4vciOffer.document).where(
                Oid4vciOffer.offer_id == offer_id,
                Oid4vciOffer.redeemed.is_(False),
                Oid4vciOffer.expires_at > now,
            )
        ).first()
        return row[0] if row is not None else None

    def find_offer(self, code_digest: str) -> OfferRecord | None:
        row = self._offer_row(code_digest)
        return _record(row) if row is not None else None

    def count_failed_tx_code(self, code_digest: str) -> int:
        self._session.execute(
            update(Oid4vciOffer)
            .where(Oid4vciOffer.code_digest == code_digest)
            .values(failed_tx_codes=Oid4vciOffer.failed_tx_codes + 1)
            .execution_options(synchronize_session=False)
        )
        row = self._offer_row(code_digest)
        return row.failed_tx_codes if row is not None else 0

    def redeem(self, code_digest: str, now: datetime) -> OfferRecord | None:
        record = self.find_offer(code_digest)
        if record is None:
            return None
        done = self._session.execute(
            update(Oid4vciOffer)
            .where(
                Oid4vciOffer.code_digest == code_digest,
                Oid4vciOffer.redeemed.is_(False),
                Oid4vciOffer.expires_at > now,
            )
            .values(redeemed=True, document=None)
            .execution_options(synchronize_session=False)
        )
        return record if done.rowcount == 1 else None  # type: ignore[attr-defined]

    def add_token(self, record: TokenRecord) -> None:
        self._session.execute(
            delete(Oid4vciToken).where(Oid4vciToken.expires_at < record.expires_at - PURGE_AFTER)
        )
        self._session.add(
            Oid4vciToken(
                token_digest=record.token_digest,
                offer_id=record.offer_id,
                credential_ref=record.credential_ref,
                configuration_ids=json.dumps(list(record.configuration_ids)),
                expires_at=record.expires_at,
            )
        )
        self._session.flush()

    def find_token(self, token_digest: str) -> TokenRecord | None:
        row = self._session.execute(
            select(Oid4vciToken).where(Oid4vciToken.token_digest == token_digest)
        ).scalar_one_or_none()
        if row is None:
            return None
        return TokenRecord(
            token_digest=row.token_digest,
            offer_id=row.offer_id,
            credential_ref=row.credential_ref,
            configuration_ids=tuple(json.loads(row.configuration_ids)),
            expires_at=row.expires_at,
            holder_key=row.holder_key,
        )

    def bind_holder(self, token_digest: str, holder_key: str) -> str | None:
        self._session.execute(
            update(Oid4vciToken)
            .where(Oid4vciToken.token_digest == token_digest, Oid4vciToken.holder_key.is_(None))
            .values(holder_key=holder_key)
            .execution_options(synchronize_session=False)
        )
        row = self._session.execute(
            select(Oid4vciToken.holder_key).where(Oid4vciToken.token_digest == token_digest)
        ).first()
        return row[0] if row is not None else None

    def _kept(self, token_digest: str, configuration_id: str) -> str | None:
        row = self._session.execute(
            select(Oid4vciCredential.credential).where(
                Oid4vciCredential.token_digest == token_digest,
                Oid4vciCredential.configuration_id == configuration_id,
            )
        ).first()
        return row[0] if row is not None else None

    def redeem_credential(
        self,
        token_digest: str,
        configuration_id: str,
        expires_at: datetime,
        issue: IssueCallback,
    ) -> str:
        kept = self._kept(token_digest, configuration_id)
        if kept is not None:
            return kept
        self._session.execute(
            delete(Oid4vciCredential).where(Oid4vciCredential.expires_at < expires_at - PURGE_AFTER)
        )
        # Claim the (token, configuration) first: a racing request's INSERT waits on the unique
        # index until this transaction ends, then inserts nothing and reads what was kept. The
        # savepoint takes the claim back if issuing fails, in the caller's transaction too.
        dialect = postgresql if self._session.get_bind().dialect.name == "postgresql" else sqlite
        with self._session.begin_nested():
            claimed = self._session.execute(
                dialect.insert(Oid4vciCredential)
                .values(
                    token_digest=token_digest,
                    configuration_id=configuration_id,
                    credential="",
                    expires_at=expires_at,
                )
                .on_conflict_do_nothing(index_elements=["token_digest", "configuration_id"])
                .returning(Oid4vciCredential.id)
            ).first()
            if claimed is not None:
                credential = issue(self._session)
                self._session.execute(
                    update(Oid4vciCredential)
                    .where(
                        Oid4vciCredential.token_digest == token_digest,
                        Oid4vciCredential.configuration_id == configuration_id,
                    )
                    .values(credential=credential)
                    .execution_options(synchronize_session=False)
                )
                return credential
        kept = self._kept(token_digest, configuration_id)
        if not kept:  # only a committed claim blocks ours, and that holds its credential
            raise CertvcError("the credential redemption was lost; try again")
        return kept

    def add_nonce(self, nonce_digest: str, expires_at: datetime) -> None:
        self._session.execute(
            delete(Oid4vciNonce).where(Oid4vciNonce.expires_at < expires_at - PURGE_AFTER)
        )
        self._session.add(Oid4vciNonce(nonce_digest=nonce_digest, expires_at=expires_at))
        self._session.flush()

    def take_nonce(self, nonce_digest: str, now: datetime) -> bool:
        taken = self._session.execute(
            delete(Oid4vciNonce)
            .where(Oid4vciNonce.nonce_digest == nonce_digest, Oid4vciNonce.expires_at > now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            return True
        self._session.execute(  # an expired one is gone too
            delete(Oid4vciNonce)
            .where(Oid4vciNonce.nonce_digest == nonce_digest)
            .execution_options(synchronize_session=False)
        )
        return False


class DatabaseStore:
    """The store the OpenID4VCI endpoints use: each call one committed transaction."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def _run(self, name: str, *args: Any) -> Any:
        return db.run_transaction(
            self._factory, lambda session: getattr(SessionStore(session), name)(*args)
        )

    def add_offer(self, record: OfferRecord) -> None:
        self._run("add_offer", record)

    def offer_document(self, offer_id: str, now: datetime) -> str | None:
        return self._run("offer_document", offer_id, now)

    def find_offer(self, code_digest: str) -> OfferRecord | None:
        return self._run("find_offer", code_digest)

    def count_failed_tx_code(self, code_digest: str) -> int:
        return self._run("count_failed_tx_code", code_digest)

    def redeem(self, code_digest: str, now: datetime) -> OfferRecord | None:
        return self._run("redeem", code_digest, now)

    def add_token(self, record: TokenRecord) -> None:
        self._run("add_token", record)

    def find_token(self, token_digest: str) -> TokenRecord | None:
        return self._run("find_token", token_digest)

    def add_nonce(self, nonce_digest: str, expires_at: datetime) -> None:
        self._run("add_nonce", nonce_digest, expires_at)

    def take_nonce(self, nonce_digest: str, now: datetime) -> bool:
        return self._run("take_nonce", nonce_digest, now)

    def bind_holder(self, token_digest: str, holder_key: str) -> str | None:
        return self._run("bind_holder", token_digest, holder_key)

    def redeem_credential(
        self,
        token_digest: str,
        configuration_id: str,
        expires_at: datetime,
        issue: IssueCallback,
    ) -> str:
        return self._run("redeem_credential", token_digest, configuration_id, expires_at, issue)


# --- settings and the service -------------------------------------------------------------


def issuer_settings(ctx: IssuerContext, display_name: str) -> IssuerSettings:
    """The Credential Issuer: the public URL, ``ldp_vc`` (the scheme's Data Integrity suite;
    eddsa-rdfc-2022 for vc+jwt schemes) and ``jwt_vc_json`` (our vc+jwt, EdDSA).

    :raises InstanceNotReady: the public URL is not https.
    """
    if not ctx.public_url.startswith("https://"):
        raise InstanceNotReady(
            f"OpenID4VCI needs an https public URL (this instance is {ctx.public_url}); "
            "serve it over https and set CERTVC_PUBLIC_URL"
        )
    ldp = CredentialConfiguration(
        LDP_VC,
        CredentialFormat.LDP_VC,
        tuple(s.value for s in DATA_INTEGRITY),
        display_name="Certification",
    )
    try:
        return IssuerSettings(
            ctx.public_url, display_name, (ldp, jwt_vc_json_configuration("EdDSA", id=JWT_VC_JSON))
        )
    except CertvcError as error:
        raise InstanceNotReady(f"OpenID4VCI: {error.message}") from error


def _denied(error: CertvcError) -> Oid4vciError:
    return Oid4vciError(OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, error.message)


def make_service(
    ctx: IssuerContext, factory: sessionmaker[Session], *, clock: Clock, display_name: str
) -> Oid4vciService:
    """The service behind the endpoints: database store, the lifecycle's records and keys.

    :raises InstanceNotReady: the public URL is not https.
    """

    def source(reference: str) -> dict[str, Any]:
        with factory() as session:
            return holder_copy.wallet_source(session, reference, clock())

    def signer(
        configuration: str, ldp: bool
    ) -> Callable[[dict[str, Any], object], dict[str, Any] | str]:
        def sign(bound: dict[str, Any], transaction: object) -> dict[str, Any] | str:
            """The holder copy, recorded in the redemption's transaction (the store's)."""
            if not isinstance(transaction, Session):
                raise TypeError("the database store hands its session to the signer")
            try:
                suite = SecuringSuite.VC_JWT
                if ldp:
                    source_row = get_credential(transaction, str(bound.get("id")))
                    scheme_suite = source_row.suite
                    suite = (
                        scheme_suite
                        if scheme_suite in DATA_INTEGRITY
                        else SecuringSuite.EDDSA_RDFC_2022
                    )
                row = holder_copy.issue_holder_copy(
                    transaction,
                    ctx,
                    bound,
                    suite,
                    configuration=configuration,
                    actor="oid4vci",
                    now=clock(),
                )
            except Oid4vciError:
                raise
            except CertvcError as error:
                raise _denied(error) from error
            return credential_document(row)

        return sign

    return Oid4vciService(
        issuer_settings(ctx, display_name),
        DatabaseStore(factory),
        credentials=source,
        signers={LDP_VC: signer(LDP_VC, True), JWT_VC_JSON: signer(JWT_VC_JSON, False)},
        clock=clock,
    )


def _offers_only(_credential: dict[str, Any], _transaction: object) -> dict[str, Any] | str:
    raise Oid4vciError(OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, "this service makes offers only")


def create_offer(
    session: Session,
    ctx: IssuerContext,
    key: str,
    *,
    tx_code: bool,
    by_reference: bool,
    actor: str,
    now: datetime,
) -> OfferResult:
    """A fresh credential offer for certification ``key`` (number or credential id), stored
    and audited in the caller's transaction. The transaction code, when asked for, is in the
    result only: show it once, send it apart from the offer.

    :raises NotFound: :raises TransitionNotAllowed: not active. :raises InstanceNotReady: http.
    """
    cert = catalog.get_certification(session, key)
    holder_copy.offerable(cert, now)
    settings = issuer_settings(ctx, catalog.get_body(session).name)
    service = Oid4vciService(
        settings,
        SessionStore(session),
        credentials=lambda _ref: {},
        signers={c.id: _offers_only for c in settings.configurations},
        clock=lambda: now,
    )
    result = service.create_offer(cert.number, tx_code=tx_code, by_reference=by_reference)
    audit.record(
        session,
        action=Action.OFFER_CREATE,
        actor=actor,
        subject=cert.number,
        reason="credential offered to the holder's wallet (OpenID4VCI)",
        now=now,
        details={
            "configurations": list(result.offer["credential_configuration_ids"]),
            "txCode": result.tx_code is not None,
            "byReference": by_reference,
            "expiresAt": result.expires_at.isoformat(),
        },
    )
    return result


def offer_json(result: OfferResult) -> dict[str, Any]:
    """What the API and ``certvc offer --json`` print (the one place the tx code is shown)."""
    return {
        "link": result.link,
        "offer": dict(result.offer),
        "txCode": result.tx_code,
        "offerUri": result.offer_uri,
        "expiresAt": result.expires_at.isoformat().replace("+00:00", "Z"),
    }
