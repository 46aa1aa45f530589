"""The status check (BSL 3.2) against status lists served by a real HTTP server on 127.0.0.1.

Time is the ``now`` passed in, so cache lifetimes are tested without sleeping.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from contexts.loader import default_store
from keys.did import LocalResolver
from keys.suites import FAST
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import VerifierCode
from verifier.fetch import FetchPolicy, SafeFetcher
from verifier.model.status_list import StatusPurpose
from verifier.result import Check, CheckStatus, Verdict
from verifier.samples import certification_credential
from verifier.status import BitstringStatusChecker, StatusListCache, StatusPolicy

from .world import (
    NOW,
    REVOCATION_INDEX,
    Served,
    credential,
    new_pair,
    serve_lists,
    sign,
    status_list_credential,
    status_server,
)

LIST_POLICY = VerifierPolicy(store=default_store(), resolver=LocalResolver(), canonicalizer=FAST)


@pytest.fixture(scope="module")
def body():
    return new_pair()


@pytest.fixture
def server():
    with status_server() as running:
        yield running


def _checker(server, *, cache: StatusListCache | None = None, **policy) -> BitstringStatusChecker:
    fetcher = SafeFetcher(FetchPolicy(allow_origins=frozenset({server.url}), dev_mode=True))
    return BitstringStatusChecker(
        fetcher, LIST_POLICY, cache=cache or StatusListCache(), policy=StatusPolicy(**policy)
    )


def _status_requests(server) -> int:
    return sum(1 for path, _ in server.requests if "/status/" in path)


def test_active_credential_passes(server, body) -> None:
    serve_lists(server, body)
    result = _checker(server)(credential(body, server.url), now=NOW)
    assert result.status is CheckStatus.PASSED
    assert "revocation: unset" in result.message and "suspension: unset" in result.message


@pytest.mark.parametrize(
    ("lists", "code", "verdict"),
    [
        ({"revoked": True}, VerifierCode.STATUS_REVOKED, Verdict.REVOKED),
        ({"suspended": True}, VerifierCode.STATUS_SUSPENDED, Verdict.SUSPENDED),
        ({"revoked": True, "suspended": True}, VerifierCode.STATUS_REVOKED, Verdict.REVOKED),
    ],
)
def test_revoked_and_suspended(server, body, lists, code, verdict) -> None:
    """BSL 3.2 step 10: a set revocation bit revokes, a set suspension bit suspends."""
    serve_lists(server, body, **lists)
    secured = credential(body, server.url)
    result = _checker(server)(secured, now=NOW)
    assert result.status is CheckStatus.FAILED and result.code is code
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver(),
        status_checker=_checker(server),
        canonicalizer=FAST,
    )
    assert verify_credential(secured, policy, now=NOW).verdict is verdict


def test_revocation_is_seen_once_the_cached_list_expires(server, body) -> None:
    """Must-show: a revocation at the issuer reaches the verifier when the list's ttl ends."""
    serve_lists(server, body, ttl_ms=60_000)
    checker = _checker(server)
    secured = credential(body, server.url)
    assert checker(secured, now=NOW).status is CheckStatus.PASSED
    fetched = _status_requests(server)
    serve_lists(server, body, revoked=True, ttl_ms=60_000)  # the body revokes
    assert checker(secured, now=NOW + timedelta(seconds=30)).status is CheckStatus.PASSED
    assert _status_requests(server) == fetched  # served from the cache, within its ttl
    later = checker(secured, now=NOW + timedelta(seconds=61))
    assert later.code is VerifierCode.STATUS_REVOKED


def test_cache_control_max_age_shortens_the_ttl(server, body) -> None:
    serve_lists(server, body, ttl_ms=3_600_000, headers={"Cache-Control": "max-age=10"})
    checker = _checker(server)
    secured = credential(body, server.url)
    checker(secured, now=NOW)
    before = _status_requests(server)
    checker(secured, now=NOW + timedelta(seconds=9))
    assert _status_requests(server) == before
    checker(secured, now=NOW + timedelta(seconds=11))
    assert _status_requests(server) == before + 2


def test_default_and_maximum_lifetimes(server, body) -> None:
    """Without ttl or max-age a list lives five minutes; a year-long ttl is capped at a day."""
    serve_lists(server, body)
    checker = _checker(server)
    secured = credential(body, server.url)
    checker(secured, now=NOW)
    before = _status_requests(server)
    checker(secured, now=NOW + timedelta(minutes=4))
    assert _status_requests(server) == before
    checker(secured, now=NOW + timedelta(minutes=6))
    assert _status_requests(server) == before + 2
    serve_lists(server, body, ttl_ms=365 * 24 * 3_600_000)
    capped = _checker(server)
    capped(secured, now=NOW)
    before = _status_requests(server)
    capped(secured, now=NOW + timedelta(hours=23))
    assert _status_requests(server) == before
    capped(secured, now=NOW + timedelta(hours=25))
    assert _status_requests(server) == before + 2


def test_stale_list_is_revalidated_with_its_etag(server, body) -> None:
    serve_lists(server, body, ttl_ms=1000, headers={"ETag": '"list-v1"'})
    checker = _checker(server)
    secured = credential(body, server.url)
    checker(secured, now=NOW)
    result = checker(secured, now=NOW + timedelta(seconds=2))
    assert result.status is CheckStatus.PASSED
    conditional = [h for path, h in server.requests if h.get("If-None-Match") == '"list-v1"']
    assert len(conditional) == 2  # one per list, each answered 304


def test_no_store_lists_are_fetched_every_time(server, body) -> None:
    serve_lists(server, body, ttl_ms=60_000, headers={"Cache-Control": "no-store"})
    checker = _checker(server)
    secured = credential(body, server.url)
    checker(secured, now=NOW)
    checker(secured, now=NOW)
    assert _status_requests(server) == 4


def test_server_down_uses_the_cache_within_its_lifetime_only(body) -> None:
    """Must-show: with the status server down, a cached list is used within its lifetime and
    otherwise the verdict is STATUS_UNAVAILABLE, never VALID."""
    with status_server() as server:
        serve_lists(server, body, ttl_ms=120_000)
        checker = _checker(server)
        secured = credential(body, server.url)
        assert checker(secured, now=NOW).status is CheckStatus.PASSED
    # the server is down now
    assert checker(secured, now=NOW + timedelta(seconds=60)).status is CheckStatus.PASSED
    late = checker(secured, now=NOW + timedelta(seconds=121))
    assert late.code is VerifierCode.STATUS_RETRIEVAL and "fetch_failed" in late.message
    policy = VerifierPolicy(
        store=default_store(), resolver=LocalResolver(), status_checker=checker, canonicalizer=FAST
    )
    assert (
        verify_credential(secured, policy, now=NOW + timedelta(seconds=121)).verdict
        is Verdict.STATUS_UNAVAILABLE
    )


def test_offline_uses_the_disk_cache_of_an_earlier_run(tmp_path: Path, body) -> None:
    cache_dir = tmp_path / "status"
    with status_server() as server:
        serve_lists(server, body, ttl_ms=600_000)
        secured = credential(body, server.url)
        online = _checker(server, cache=StatusListCache(cache_dir))
        assert online(secured, now=NOW).status is CheckStatus.PASSED
        requests = len(server.requests)
        offline = _checker(server, cache=StatusListCache(cache_dir), offline=True)
        assert offline(secured, now=NOW + timedelta(minutes=5)).status is CheckStatus.PASSED
        assert len(server.requests) == requests  # no network at all
        stale = offline(secured, now=NOW + timedelta(minutes=11))
        assert stale.code is VerifierCode.STATUS_RETRIEVAL and "offline" in stale.message
        empty = _checker(server, cache=StatusListCache(tmp_path / "empty"), offline=True)
        assert empty(secured, now=NOW).code is VerifierCode.STATUS_RETRIEVAL
        assert len(server.requests) == requests


def test_refresh_ignores_a_fresh_cache(server, body) -> None:
    serve_lists(server, body, ttl_ms=600_000)
    cache = StatusListCache()
    secured = credential(body, server.url)
    _checker(server, cache=cache)(secured, now=NOW)
    before = _status_requests(server)
    _checker(server, cache=cache, refresh=True)(secured, now=NOW)
    assert _status_requests(server) == before + 2


def test_a_tampered_disk_cache_is_not_trusted(tmp_path: Path, server, body) -> None:
    serve_lists(server, body, ttl_ms=600_000)
    secured = credential(body, server.url)
    _checker(server, cache=StatusListCache(tmp_path))(secured, now=NOW)
    for path in tmp_path.glob("*.body"):
        path.write_bytes(path.read_bytes().replace(b"revocation", b"suspension"))
    result = _checker(server, cache=StatusListCache(tmp_path), offline=True)(secured, now=NOW)
    assert result.code is VerifierCode.STATUS_VERIFICATION


def test_disk_cache_is_bounded(tmp_path: Path, server, body) -> None:
    cache = StatusListCache(tmp_path, max_entries=3)
    for i in range(5):
        serve_lists(server, body, prefix=f"/b{i}")
        _checker(server, cache=cache)(credential(body, f"{server.url}/b{i}"), now=NOW)
    assert len(list(tmp_path.glob("*.json"))) == 3


def _entry_problem(server, body, routes: dict[str, object], **kwargs) -> object:
    serve_lists(server, body)
    for path, served in routes.items():
        server.routes[path] = served
    return _checker(server)(credential(body, server.url, **kwargs), now=NOW)


def test_list_issued_by_someone_else_fails(server, body) -> None:
    """BSL 3.2 (policy): the list's issuer must be the credential's issuer."""
    other = new_pair()
    listed = status_list_credential(other, server.url + "/status/1", StatusPurpose.REVOCATION)
    result = _entry_problem(server, body, {"/status/1": Served(json.dumps(listed).encode())})
    assert result.code is VerifierCode.STATUS_VERIFICATION and "issued by" in result.message


def test_tampered_list_fails_its_proof(server, body) -> None:
    listed = status_list_credential(
        body, server.url + "/status/1", StatusPurpose.REVOCATION, set_indexes=(REVOCATION_INDEX,)
    )
    forged = status_list_credential(body, server.url + "/status/1", StatusPurpose.REVOCATION)
    listed["credentialSubject"]["encodedList"] = forged["credentialSubject"]["encodedList"]
    result = _entry_problem(server, body, {"/status/1": Served(json.dumps(listed).encode())})
    assert result.code is VerifierCode.STATUS_VERIFICATION and "proof" in result.message


def test_expired_list_fails(server, body) -> None:
    listed = status_list_credential(
        body,
        server.url + "/status/1",
        StatusPurpose.REVOCATION,
        valid_from=NOW - timedelta(days=60),
        valid_until=NOW - timedelta(days=1),
    )
    result = _entry_problem(server, body, {"/status/1": Served(json.dumps(listed).encode())})
    assert result.code is VerifierCode.STATUS_VERIFICATION and "expired" in result.message


def test_purpose_mismatch_fails(server, body) -> None:
    """BSL 3.2 step 5: the entry's statusPurpose must be one of the list's."""
    listed = status_list_credential(body, server.url + "/status/1", StatusPurpose.SUSPENSION)
    result = _entry_problem(server, body, {"/status/1": Served(json.dumps(listed).encode())})
    assert result.code is VerifierCode.STATUS_VERIFICATION and "purpose" in result.message


def test_index_outside_the_list_is_a_range_error(server, body) -> None:
    """BSL 3.2: RANGE_ERROR when the index lies outside the list."""
    serve_lists(server, body)
    unsigned = certification_credential(
        body.public_key.did_key,
        valid_from=NOW - timedelta(days=1),
        base_url=server.url,
        status_index=(500_000, 1),
    )
    result = _checker(server)(sign(unsigned, body), now=NOW)
    assert result.code is VerifierCode.STATUS_RANGE


def test_status_list_bomb_is_capped(server, body) -> None:
    """Decompression is capped (policy): a list inflating past the cap is refused."""
    serve_lists(server, body)
    result = _checker(server, max_list_bytes=8 * 1024)(credential(body, server.url), now=NOW)
    assert result.code is VerifierCode.STATUS_LIST_TOO_LARGE


@pytest.mark.parametrize(
    ("served", "code"),
    [
        (Served(b"not json", "application/json"), VerifierCode.STATUS_VERIFICATION),
        (Served(b"[]", "application/json"), VerifierCode.STATUS_VERIFICATION),
        (Served(b"{}", "text/html"), VerifierCode.STATUS_RETRIEVAL),
        (Served(b"", status=500), VerifierCode.STATUS_RETRIEVAL),
    ],
    ids=["not-json", "not-object", "html", "http-500"],
)
def test_unusable_lists(server, body, served, code) -> None:
    result = _entry_problem(server, body, {"/status/1": served})
    assert result.status is CheckStatus.FAILED and result.code is code


def test_unsupported_status_types_fail(server, body) -> None:
    secured = credential(body, server.url)
    secured = {**secured, "credentialStatus": [{"type": "RevocationList2020Status", "id": "urn:x"}]}
    result = _checker(server)(secured, now=NOW)
    assert result.code is VerifierCode.STATUS_VERIFICATION and "not supported" in result.message


def test_vc_jwt_status_list(server, body) -> None:
    """A status list secured as vc+jwt works like a Data Integrity one."""
    for path, purpose in (
        ("/status/1", StatusPurpose.REVOCATION),
        ("/status/1-suspension", StatusPurpose.SUSPENSION),
    ):
        token = status_list_credential(
            body,
            server.url + path,
            purpose,
            suite="vc+jwt",
            set_indexes=(REVOCATION_INDEX,) if purpose is StatusPurpose.REVOCATION else (),
        )
        server.routes[path] = Served(token.encode(), "application/vc+jwt")
    result = _checker(server)(credential(body, server.url), now=NOW)
    assert result.code is VerifierCode.STATUS_REVOKED


def test_every_outcome_is_a_check_result(server, body) -> None:
    """The checker never raises: even garbage credentialStatus becomes a failed check."""
    checker = _checker(server)
    for status in (None, 42, "x", [], [None], [{}] * 20, {"type": "BitstringStatusListEntry"}):
        result = checker({"credentialStatus": status}, now=NOW)
        assert result.check is Check.STATUS and result.status is CheckStatus.FAILED
