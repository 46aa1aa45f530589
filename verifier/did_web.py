"""A DID resolver for verifiers: did:key and pinned documents locally, did:web over the fetcher.

did:web 'Read (Resolve)': ``did:web:example.com`` is ``https://example.com/.well-known/did.json``.
The document comes through the safe fetcher (https, public addresses, size and time caps), must
be JSON no deeper than the input caps, and must name the DID it was fetched for (DID Core §7.1.2:
the ``id`` equals the DID resolved). Documents are cached for ``ttl``; a document pinned in the
trust list wins over the network, so a body can be verified without its web server.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from contexts.errors import CertvcError
from keys.did import LocalResolver, did_web_to_url
from keys.errors import DidError, KeyCode

from .errors import VerifierCode
from .fetch import Fetcher, FetchError
from .inputs import loads_limited

ACCEPT = ("application/did+json", "application/did+ld+json", "application/json")
MAX_DOCUMENT_BYTES = 256 * 1024


class WebDidResolver:
    """The ``DidResolver`` of a verifier: ``local`` first, then did:web through ``fetcher``.

    ``clock`` gives the current time for the cache (injected: only adapters read the clock).
    """

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        clock: Callable[[], datetime],
        local: LocalResolver | None = None,
        ttl: timedelta = timedelta(hours=1),
        max_entries: int = 256,
    ) -> None:
        self._fetcher = fetcher
        self._clock = clock
        self._local = local or LocalResolver()
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: OrderedDict[str, tuple[datetime, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def resolve(self, did: str) -> dict[str, Any]:
        """:raises DidError: ``did_invalid``, ``did_unresolvable`` (no usable document) or
        ``did_unavailable`` (the document could not be fetched, with the fetch's reason)."""
        if not isinstance(did, str):
            raise DidError("a DID must be a string")
        did = did.split("#", 1)[0]
        try:
            return self._local.resolve(did)
        except DidError as error:
            if error.code is not KeyCode.DID_UNRESOLVABLE or not did.startswith("did:web:"):
                raise
        url = did_web_to_url(did)
        now = self._clock()
        with self._lock:
            cached = self._cache.get(did)
            if cached is not None and now < cached[0]:
                self._cache.move_to_end(did)
                return _copy(cached[1])
        document = self._fetch(did, url)
        with self._lock:
            self._cache[did] = (now + self._ttl, document)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return _copy(document)

    def _fetch(self, did: str, url: str) -> dict[str, Any]:
        try:
            response = self._fetcher.fetch(url, accept=ACCEPT)
            if len(response.body) > MAX_DOCUMENT_BYTES:
                raise DidError(f"the DID document at {url} is too large")
            document = loads_limited(response.body, max_bytes=MAX_DOCUMENT_BYTES)
        except FetchError as error:
            # Not reaching the issuer says nothing about the signature: "cannot check now".
            raise DidError(
                f"cannot fetch the DID document of {did}: {error.code}: {error.message}",
                code=VerifierCode.DID_UNAVAILABLE,
            ) from error
        except CertvcError as error:
            raise DidError(
                f"the DID document of {did} is unusable: {error.message}",
                code=KeyCode.DID_UNRESOLVABLE,
            ) from error
        if not isinstance(document, dict) or document.get("id") != did:
            raise DidError(
                f"the document at {url} is not the DID document of {did} (id differs)",
                code=KeyCode.DID_UNRESOLVABLE,
            )
        return document


def _copy(document: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(document)  # callers may not change what the cache holds
