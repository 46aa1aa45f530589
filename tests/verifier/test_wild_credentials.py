"""Credentials as other platforms issue them, verified offline with the right verdict (issue 14).

The fixtures in ``tests/fixtures/wild`` are public test credentials of other implementations
(the Digital Credentials Consortium's verifier and its fixture set: Open Badges 3.0 under VC
1.1 and 2.0, did:key and did:web issuers, eddsa-rdfc-2022, Ed25519Signature2020 and both
together, with and without Bitstring Status Lists, expired, not yet valid and revoked), copied
byte for byte; ``SOURCES.md`` and ``index.json`` name each one's repository, path and commit.

Nothing is fetched: the did:web document and the status list are served from the fixture map
through the real did:web resolver and status checker (``Fetcher`` is their injected I/O). With
the map empty, what would need the network cannot be checked now (ISSUER_UNAVAILABLE,
STATUS_UNAVAILABLE), never INVALID_SIGNATURE; a one-character change in any of them is
INVALID_SIGNATURE (Data Integrity §4.5 "Verify Proof"; VC 2.0 §7.1).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contexts import default_store
from keys.did import LocalResolver
from keys.suites import FAST, canonize, proof_cryptosuite
from verifier.did_web import WebDidResolver
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.fetch import FetchError, FetchResponse
from verifier.result import Check, CheckStatus, Verdict
from verifier.status import BitstringStatusChecker, StatusListCache

WILD = Path(__file__).resolve().parents[1] / "fixtures" / "wild"
INDEX = json.loads((WILD / "index.json").read_text(encoding="utf-8"))
CREDENTIALS: dict[str, dict[str, Any]] = INDEX["credentials"]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


class FixtureFetcher:
    """The verifier's ``Fetcher`` over the fixture map: a URL it holds is answered with the
    file's bytes; any other is offline (as a verifier without network would see it)."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self._documents = documents
        self.fetched: list[str] = []

    def fetch(
        self,
        url: str,
        *,
        accept: Sequence[str],
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResponse:
        self.fetched.append(url)
        entry = self._documents.get(url)
        if entry is None:
            raise FetchError(f"offline: {url}", code=VerifierCode.FETCH_OFFLINE)
        body = (WILD / entry["file"]).read_bytes()
        return FetchResponse(url, 200, body, entry["media_type"])


def _policy(online: bool, canonicalizer: Any = FAST) -> tuple[VerifierPolicy, FixtureFetcher]:
    fetcher = FixtureFetcher(INDEX["documents"] if online else {})
    store = default_store()
    resolver = WebDidResolver(fetcher, clock=lambda: NOW, local=LocalResolver())
    list_policy = VerifierPolicy(store, resolver, canonicalizer=canonicalizer)
    checker = BitstringStatusChecker(fetcher, list_policy, cache=StatusListCache())
    policy = VerifierPolicy(store, resolver, canonicalizer=canonicalizer, status_checker=checker)
    return policy, fetcher


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((WILD / name).read_text(encoding="utf-8"))
    return loaded


def test_every_fixture_has_its_source_recorded() -> None:
    """SOURCES.md and index.json name every file of the folder (repository, path, commit)."""
    sources = (WILD / "SOURCES.md").read_text(encoding="utf-8")
    files = {p.relative_to(WILD).as_posix() for p in WILD.rglob("*.json") if p.name != "index.json"}
    indexed = set(CREDENTIALS) | {d["file"] for d in INDEX["documents"].values()}
    assert files == indexed
    for name, entry in [
        *CREDENTIALS.items(),
        *((d["file"], d) for d in INDEX["documents"].values()),
    ]:
        assert len(entry["commit"]) == 40
        assert name in sources and entry["commit"] in sources and entry["path"] in sources


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
@pytest.mark.parametrize("online", [True, False], ids=["documents-served", "offline"])
def test_credentials_in_the_wild_get_their_verdict(name: str, online: bool) -> None:
    """VC 2.0 §4.6 / VC 1.1 §4.6-4.7 (validity), BSL §3.2 (status), did:web "Read", Data
    Integrity §4.5 and the Ed25519Signature2020 suite: genuine credentials are VALID, EXPIRED,
    NOT_YET_VALID or REVOKED; what needs an unreachable document cannot be checked now."""
    expected = Verdict(CREDENTIALS[name]["online" if online else "offline"])
    policy, _ = _policy(online)
    result = verify_credential(_load(name), policy, now=NOW)
    assert result.verdict is expected, [c.to_json() for c in result.checks]
    status_code = CREDENTIALS[name].get("online_status_code")
    if online and status_code is not None:
        assert result.check(Check.STATUS).code == status_code
    if expected not in (Verdict.ISSUER_UNAVAILABLE,):
        assert result.check(Check.PROOF).status is CheckStatus.PASSED
        assert result.check(Check.ISSUER).status is CheckStatus.PASSED
    assert result.verdict is not Verdict.INVALID_SIGNATURE


def _flip(value: str) -> str:
    """One character changed: the first letter's case swapped (or a letter appended)."""
    for position, char in enumerate(value):
        if char.isalpha():
            return value[:position] + char.swapcase() + value[position + 1 :]
    return value + "x"


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_one_changed_character_is_a_bad_signature(name: str) -> None:
    """Data Integrity §4.5 (every proof of the set must verify): one character changed in a
    signed value, with every document served, is INVALID_SIGNATURE whatever the dates say."""
    credential = _load(name)
    target = credential
    *parents, leaf = CREDENTIALS[name]["tamper"]
    for key in parents:
        target = target[key]
    target[leaf] = _flip(target[leaf])
    policy, fetcher = _policy(online=True)
    result = verify_credential(credential, policy, now=NOW)
    assert result.verdict is Verdict.INVALID_SIGNATURE, [c.to_json() for c in result.checks]
    assert result.check(Check.PROOF).code is not None
    # a forgery never makes the verifier fetch its status list (issue 6's rule)
    assert not any("status" in url for url in fetcher.fetched)


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
def test_full_and_fast_canonicalization_agree(name: str) -> None:
    """RDFC-1.0 on both paths (keys.fastpath is byte-identical to the reference path): the
    document and each proof's configuration canonicalize alike, and the verdict is the same."""
    credential = _load(name)
    store = default_store()
    unsecured = {k: v for k, v in credential.items() if k != "proof"}
    assert FAST(unsecured, store) == canonize(copy.deepcopy(unsecured), store)
    proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
    for proof in proofs:
        proof_cryptosuite(proof)  # a suite certvc verifies
        config = {k: v for k, v in proof.items() if k != "proofValue"}
        config["@context"] = credential["@context"]
        assert FAST(config, store) == canonize(copy.deepcopy(config), store)
    verdicts = {
        verify_credential(credential, _policy(True, canon)[0], now=NOW).verdict
        for canon in (FAST, canonize)
    }
    assert verdicts == {Verdict(CREDENTIALS[name]["online"])}
