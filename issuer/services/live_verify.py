"""The instance's own documents, first-hand, for the verifiers it runs.

The production :class:`verifier.service.Verifier` runs unchanged: proof, shape, contexts,
validity, and the status check that verifies the signed status list and reads the bit. Only
where its documents come from differs: :class:`InstanceFetcher` answers this instance's own
URLs (its status lists, its did:web document, its credentials by id for link-mode QR codes)
from the database and the key ring. A request never calls the server it runs in over the
network (a single-worker server would wait for itself).

Two verifiers use it: the public credential page's live verification (every other URL
refused, so nothing outside is fetched on a visitor's behalf), and the verifier mounted at
``/v`` (a :class:`verifier.fetch.LocalSource`: other bodies' lists come through the safe
fetcher). Status lists are read afresh on every verification (``no-store``): a bit changes in
the same transaction as the withdrawal or suspension that sets it, so the next verification
after staff act already says so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from contexts.errors import CertvcError
from keys.did import did_web_to_url
from verifier.errors import VerifierCode
from verifier.fetch import FetchError, FetchResponse
from verifier.result import Replacement
from verifier.service import Verifier
from verifier.status import StatusPolicy
from verifier.trust import Accreditation, HomeBody, TrustedBody, TrustPolicy

from ..db.models import CredentialFormat, CredentialState, IssuedCredential
from . import catalog, status_lists
from .issuing_context import IssuerContext

DID_MEDIA_TYPE = "application/did+ld+json"
VC_MEDIA_TYPE = "application/vc"
JWT_MEDIA_TYPE = "application/vc+jwt"
#: Read from the database on every use: never kept by a status cache.
_LIVE = "no-store"


class InstanceFetcher:
    """A :class:`verifier.fetch.Fetcher` over this instance's own published documents."""

    def __init__(self, factory: sessionmaker[Session], ctx: IssuerContext) -> None:
        self._factory = factory
        self._ctx = ctx
        self._did_url = did_web_to_url(ctx.did)
        self._status_prefix = ctx.url("status/")
        self._credential_prefix = ctx.url("credentials/")

    def owns(self, url: str) -> bool:
        """This instance's did.json, status lists and credential ids."""
        return url == self._did_url or url.startswith(
            (self._status_prefix, self._credential_prefix)
        )

    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """:raises FetchError: ``fetch_refused`` for any other URL, ``fetch_failed`` for an
        unknown list or credential."""
        if url == self._did_url:
            body = json.dumps(self._ctx.keyring.did_document()).encode("utf-8")
            return FetchResponse(url, 200, body, DID_MEDIA_TYPE)
        number = url[len(self._status_prefix) :] if url.startswith(self._status_prefix) else ""
        if number.isascii() and number.isdigit() and len(number) < 12:
            try:
                with self._factory() as session:
                    row = status_lists.get_list(session, int(number))
                    signed, tag = row.signed or "", row.etag
            except CertvcError as error:
                raise FetchError(f"no status list at {url}") from error
            return FetchResponse(
                url, 200, signed.encode("utf-8"), VC_MEDIA_TYPE, etag=tag, cache_control=_LIVE
            )
        if url.startswith(self._credential_prefix) and len(url) < 300:
            return self._credential(url)
        raise FetchError(
            f"{url[:200]} is not published by this instance", code=VerifierCode.FETCH_REFUSED
        )

    def _credential(self, url: str) -> FetchResponse:
        """A credential of this instance by its id (a link-mode QR code ``#1L<id>``).

        Answered whether or not its public page is on: the id is an unguessable URL printed
        only on the holder's own certificate and credential, which say as much as the answer.
        """
        with self._factory() as session:
            row = session.execute(
                select(IssuedCredential).where(IssuedCredential.credential_id == url)
            ).scalar_one_or_none()
            if row is None:
                raise FetchError(f"no credential {url[:200]} at this instance")
            document, jwt = row.document, row.format is CredentialFormat.JWT_VC
        media_type = JWT_MEDIA_TYPE if jwt else VC_MEDIA_TYPE
        return FetchResponse(url, 200, document.encode("utf-8"), media_type, cache_control=_LIVE)


class InstanceSuccessors:
    """This instance's record of replaced credentials (``verifier.service.Successors``): a
    superseded credential (renewed, or its scope reduced) names its successor, so the
    instance's verifiers say "replaced by a newer certificate" instead of "withdrawn"."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    def replacement(self, credential_id: str) -> Replacement | None:
        if len(credential_id) > 500:
            return None
        with self._factory() as session:
            row = session.execute(
                select(IssuedCredential).where(IssuedCredential.credential_id == credential_id)
            ).scalar_one_or_none()
            if row is None or row.state is not CredentialState.SUPERSEDED:
                return None
            successor = (
                session.get(IssuedCredential, row.superseded_by_id)
                if row.superseded_by_id is not None
                else None
            )
            if successor is None:
                return None
            cert = successor.certification
            return Replacement(
                credential_id=successor.credential_id,
                number=cert.number if cert is not None else None,
                valid_from=successor.valid_from,
            )


def home_body(
    factory: sessionmaker[Session],
    ctx: IssuerContext,
    *,
    logo_url: Callable[[], str | None] | None = None,
) -> HomeBody:
    """This instance's body as its verifiers vouch for it: its DID, its current name."""

    def profile() -> TrustedBody:
        with factory() as session:
            body = catalog.get_body(session)
            accreditation = None
            if body.accreditation_body or body.accreditation_number:
                accreditation = Accreditation(
                    body=body.accreditation_body or None,
                    id=body.accreditation_number or None,
                    standard=body.accreditation_standard or None,
                    url=body.accreditation_url,
                    valid_from=body.accredited_from,
                    valid_until=body.accredited_until,
                )
            elif body.accreditation:
                accreditation = Accreditation(id=body.accreditation)
            return TrustedBody(did=ctx.did, name=body.name, accreditation=accreditation)

    if logo_url is None:
        return HomeBody(ctx.did, profile)
    return HomeBody(ctx.did, profile, logo_url)


def instance_verifier(
    factory: sessionmaker[Session], ctx: IssuerContext, clock: Callable[[], datetime]
) -> Verifier:
    """A verifier for this instance's credentials, reading every status list afresh; it
    vouches for its own body and for nobody else."""
    return Verifier(
        store=ctx.store,
        fetcher=InstanceFetcher(factory, ctx),
        clock=clock,
        canonicalizer=ctx.canonicalizer,
        status_policy=StatusPolicy(refresh=True),
        trust=TrustPolicy(home=home_body(factory, ctx)),
        successors=InstanceSuccessors(factory),
    )
