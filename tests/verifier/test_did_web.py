"""did:web resolution for verifiers: pinned first, then fetched through the fetcher, cached."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from contexts.loader import default_store
from issuer.signing import sign_credential
from keys.did import LocalResolver, VerificationMethodEntry, did_web_document
from keys.errors import DidError, KeyCode
from keys.suites import FAST, ProofOptions
from verifier.did_web import WebDidResolver
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.fetch import FetchError, FetchResponse
from verifier.result import Verdict
from verifier.samples import certification_credential

from .world import NOW, new_pair

DID = "did:web:certs.example-body.org"
URL = "https://certs.example-body.org/.well-known/did.json"


class FakeFetcher:
    """The Fetcher protocol, answering from a dict; records every URL asked for."""

    def __init__(self, documents: dict[str, object]) -> None:
        self.documents = documents
        self.asked: list[str] = []

    def fetch(self, url, *, accept, etag=None, last_modified=None) -> FetchResponse:
        self.asked.append(url)
        found = self.documents.get(url)
        if isinstance(found, FetchError):
            raise found
        if found is None:
            raise FetchError(f"{url} answered HTTP 404")
        body = found if isinstance(found, bytes) else json.dumps(found).encode()
        return FetchResponse(url, 200, body, accept[0])


@pytest.fixture(scope="module")
def pair():
    return new_pair()


@pytest.fixture(scope="module")
def document(pair):
    entry = VerificationMethodEntry(f"{DID}#key-1", pair.public_key)
    return did_web_document(DID, [entry])


@pytest.fixture(scope="module")
def secured(pair):
    unsigned = certification_credential(DID, valid_from=NOW - timedelta(days=1))
    del unsigned["credentialStatus"]
    return sign_credential(
        unsigned,
        pair.signer(f"{DID}#key-1"),
        "eddsa-rdfc-2022",
        store=default_store(),
        options=ProofOptions(created=NOW, verification_method=f"{DID}#key-1"),
        canonicalizer=FAST,
    )


def test_did_web_credential_verifies_with_the_fetched_document(secured, document) -> None:
    fetcher = FakeFetcher({URL: document})
    resolver = WebDidResolver(fetcher, clock=lambda: NOW)
    policy = VerifierPolicy(store=default_store(), resolver=resolver, canonicalizer=FAST)
    assert verify_credential(secured, policy, now=NOW).verdict is Verdict.VALID
    assert fetcher.asked == [URL]


def test_documents_are_cached_for_their_ttl(document) -> None:
    clock = [NOW]
    fetcher = FakeFetcher({URL: document})
    resolver = WebDidResolver(fetcher, clock=lambda: clock[0], ttl=timedelta(minutes=10))
    resolver.resolve(DID)
    resolved = resolver.resolve(DID + "#key-1")
    resolved["id"] = "changed by a caller"  # callers get copies
    assert resolver.resolve(DID)["id"] == DID
    assert fetcher.asked == [URL]
    clock[0] = NOW + timedelta(minutes=11)
    resolver.resolve(DID)
    assert fetcher.asked == [URL, URL]


def test_a_pinned_document_wins_over_the_network(document) -> None:
    fetcher = FakeFetcher({})
    resolver = WebDidResolver(fetcher, clock=lambda: NOW, local=LocalResolver({DID: document}))
    assert resolver.resolve(DID) == document
    assert fetcher.asked == []


def test_did_key_is_never_fetched(pair) -> None:
    fetcher = FakeFetcher({})
    did = pair.public_key.did_key
    assert WebDidResolver(fetcher, clock=lambda: NOW).resolve(did)["id"] == did
    assert fetcher.asked == []


@pytest.mark.parametrize(
    ("served", "why"),
    [
        ({"id": "did:web:someone-else.example"}, "id differs"),
        ([1, 2], "id differs"),
        (b"not json", "unusable"),
        (b"[" * 1000 + b"]" * 1000, "unusable"),
    ],
)
def test_unusable_documents(served, why) -> None:
    resolver = WebDidResolver(FakeFetcher({URL: served}), clock=lambda: NOW)
    with pytest.raises(DidError) as caught:
        resolver.resolve(DID)
    assert caught.value.code is KeyCode.DID_UNRESOLVABLE and why in caught.value.message


@pytest.mark.parametrize(
    "code",
    [
        VerifierCode.FETCH_REFUSED,
        VerifierCode.FETCH_FAILED,
        VerifierCode.FETCH_TIMEOUT,
        VerifierCode.FETCH_TOO_LARGE,
    ],
)
def test_documents_not_reached_are_unavailable(code) -> None:
    """Not reaching the issuer is "cannot check now" (did_unavailable), never a bad key."""
    resolver = WebDidResolver(FakeFetcher({URL: FetchError("no", code=code)}), clock=lambda: NOW)
    with pytest.raises(DidError) as caught:
        resolver.resolve(DID)
    assert caught.value.code is VerifierCode.DID_UNAVAILABLE and code.value in caught.value.message


def test_bad_did_web_is_refused_without_fetching() -> None:
    fetcher = FakeFetcher({})
    for did in ("did:web:10.0.0.1", "did:web:example.org:..:etc", "did:web:"):
        with pytest.raises(DidError):
            WebDidResolver(fetcher, clock=lambda: NOW).resolve(did)
    assert fetcher.asked == []
