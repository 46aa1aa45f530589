"""The verifier, run by the issuer on its own credentials (the public page's live verification).

The production :class:`verifier.service.Verifier` runs unchanged: proof, shape, contexts,
validity, and the status check that verifies the signed status list and reads the bit. Only
its fetcher differs: :class:`InstanceFetcher` answers this instance's own URLs (its status
lists and its did:web document) from the database and the key ring, and refuses every other
URL. A page request never calls the server it runs in over the network (a single-worker
server would wait for itself), and nothing outside is ever fetched on a visitor's behalf.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from contexts.errors import CertvcError, ErrorCode
from keys.did import did_web_to_url
from verifier.fetch import FetchError, FetchResponse
from verifier.service import Verifier
from verifier.status import StatusPolicy

from . import status
from .context import IssuerContext

DID_MEDIA_TYPE = "application/did+ld+json"
VC_MEDIA_TYPE = "application/vc"


class InstanceFetcher:
    """A :class:`verifier.fetch.Fetcher` over this instance's own published documents."""

    def __init__(self, factory: sessionmaker[Session], ctx: IssuerContext) -> None:
        self._factory = factory
        self._ctx = ctx
        self._did_url = did_web_to_url(ctx.did)
        self._status_prefix = ctx.url("status/")

    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        """:raises FetchError: ``fetch_refused`` for any other URL, ``fetch_failed`` for an
        unknown list."""
        if url == self._did_url:
            body = json.dumps(self._ctx.keyring.did_document()).encode("utf-8")
            return FetchResponse(url, 200, body, DID_MEDIA_TYPE)
        number = url[len(self._status_prefix) :] if url.startswith(self._status_prefix) else ""
        if number.isdigit() and len(number) < 12:
            try:
                with self._factory() as session:
                    row = status.get_list(session, int(number))
                    signed, tag = row.signed or "", row.etag
            except CertvcError as error:
                raise FetchError(f"no status list at {url}") from error
            max_age = max(0, self._ctx.status_ttl_ms // 1000)
            return FetchResponse(
                url,
                200,
                signed.encode("utf-8"),
                VC_MEDIA_TYPE,
                etag=tag,
                cache_control=f"public, max-age={max_age}",
            )
        raise FetchError(
            f"{url[:200]} is not published by this instance", code=ErrorCode.FETCH_REFUSED
        )


def instance_verifier(
    factory: sessionmaker[Session], ctx: IssuerContext, clock: Callable[[], datetime]
) -> Verifier:
    """A verifier for this instance's credentials, reading every status list afresh."""
    return Verifier(
        store=ctx.store,
        fetcher=InstanceFetcher(factory, ctx),
        clock=clock,
        status_policy=StatusPolicy(refresh=True),
    )
