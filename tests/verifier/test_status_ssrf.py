"""Must-show (issue 6): status list and DID URLs that point where a server must not go are
refused with a clear check failure, never fetched; oversized and slow lists are cut off.

Only loopback is ever connected to; private and metadata addresses are refused before any
connection (the fetcher checks the address first).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from contexts.loader import default_store
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.did_web import WebDidResolver
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.result import Check, CheckStatus, Verdict
from verifier.samples import certification_credential
from verifier.status import BitstringStatusChecker

from .world import NOW, Served, credential, new_pair, serve_lists, sign, status_server


def _verify(secured, fetcher) -> object:
    resolver = WebDidResolver(fetcher, clock=lambda: NOW, local=LocalResolver())
    list_policy = VerifierPolicy(store=default_store(), resolver=resolver, canonicalizer=FAST)
    policy = VerifierPolicy(
        store=default_store(),
        resolver=resolver,
        status_checker=BitstringStatusChecker(fetcher, list_policy),
        canonicalizer=FAST,
    )
    return verify_credential(secured, policy, now=NOW)


@pytest.fixture(scope="module")
def body():
    return new_pair()


@pytest.mark.parametrize(
    "base_url",
    [
        "https://127.0.0.1:8443",
        "http://127.0.0.1:8080",
        "https://10.0.0.1",
        "https://10.200.3.4:8443",
        "https://169.254.169.254/latest/meta-data",
        "https://[::ffff:127.0.0.1]",
        "https://[::1]",
        "https://0.0.0.0",
        "file:///etc",
    ],
)
def test_status_urls_to_forbidden_places_are_refused(body, base_url) -> None:
    unsigned = certification_credential(
        body.public_key.did_key, valid_from=NOW - timedelta(days=1), base_url=base_url
    )
    result = _verify(sign(unsigned, body), SafeFetcher(FetchPolicy()))
    status = result.check(Check.STATUS)
    assert status.status is CheckStatus.FAILED
    assert status.code is VerifierCode.STATUS_RETRIEVAL
    assert "fetch_refused" in status.message
    assert result.verdict is Verdict.STATUS_UNAVAILABLE


def test_a_name_resolving_to_a_private_address_is_refused(body) -> None:
    unsigned = certification_credential(
        body.public_key.did_key, valid_from=NOW - timedelta(days=1), base_url="https://lists.test"
    )
    fetcher = SafeFetcher(FetchPolicy(), resolver=lambda host, port: ["10.9.8.7"])
    status = _verify(sign(unsigned, body), fetcher).check(Check.STATUS)
    assert status.code is VerifierCode.STATUS_RETRIEVAL and "10.9.8.7" in status.message


@pytest.mark.parametrize(
    ("served", "policy", "code"),
    [
        (Served(b"{" + b" " * 300_000 + b"}", "application/json"), {}, "fetch_too_large"),
        (
            Served(b"{" + b" " * 60_000 + b"}", "application/json", delay_per_chunk=0.1),
            {"total_timeout": 0.4},
            "fetch_timeout",
        ),
    ],
    ids=["oversized", "slow"],
)
def test_oversized_and_slow_lists_are_cut_off(body, served, policy, code) -> None:
    with status_server() as server:
        serve_lists(server, body)
        server.routes["/status/1"] = served
        fetcher = SafeFetcher(
            FetchPolicy(
                allow_origins=frozenset({server.url}), dev_mode=True, max_bytes=256_000, **policy
            )
        )
        result = _verify(credential(body, server.url), fetcher)
    status = result.check(Check.STATUS)
    assert status.code is VerifierCode.STATUS_RETRIEVAL and code in status.message
    assert result.verdict is Verdict.STATUS_UNAVAILABLE


@pytest.mark.parametrize(
    ("did", "resolved"),
    [
        ("did:web:metadata.test", ["169.254.169.254"]),
        ("did:web:intranet.test", ["10.0.0.1"]),
        ("did:web:localhost", ["127.0.0.1"]),
        ("did:web:mapped.test", ["::ffff:127.0.0.1"]),
    ],
)
def test_did_web_to_private_addresses_is_refused(body, did, resolved) -> None:
    unsigned = certification_credential(did, valid_from=NOW - timedelta(days=1))
    del unsigned["credentialStatus"]
    secured = sign(unsigned, body)  # signed by another key; the DID is what gets resolved
    secured["proof"]["verificationMethod"] = f"{did}#key-1"
    fetcher = SafeFetcher(FetchPolicy(), resolver=lambda host, port: resolved)
    proof = _verify(secured, fetcher).check(Check.PROOF)
    assert proof.status is CheckStatus.FAILED
    assert proof.code is VerifierCode.DID_UNAVAILABLE and "fetch_refused" in proof.message
