"""The status check: Bitstring Status List entries looked up in fetched, verified, cached lists.

Implements the engine's ``StatusChecker`` (BSL 3.2 "Validate Algorithm"): for each entry, get
the status list credential, verify it with the same engine (proof, shape, contexts), require its
issuer to be the credential's issuer (policy), check its validity window, decode the list
(capped) and read the entry. Revoked and suspended become ``status_revoked`` and
``status_suspended``; any problem getting or trusting a list is ``status_retrieval`` or
``status_verification``, which the engine reports as STATUS_UNAVAILABLE: a credential is never
"valid" on a list we could not read.

Lists are cached in memory and optionally on disk, for the list's ``ttl`` (BSL 2.2) bounded by
HTTP ``Cache-Control: max-age`` and by a ceiling; a stale list is revalidated with
``If-None-Match`` / ``If-Modified-Since``. Offline mode uses only lists still within their
lifetime; refresh mode ignores the cache. Time is the ``now`` the engine passes in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from contexts.errors import CertvcError, Code
from keys.dates import format_datetime_stamp, parse_datetime_stamp

from .engine import VerifierPolicy, issuer_id, verify_credential
from .errors import VerifierCode
from .fetch import Fetcher, FetchError
from .inputs import JSON_MEDIA_TYPES, JWT_MEDIA_TYPES, read_fetched_credential
from .model.status_list import (
    DEFAULT_MAX_BYTES,
    ENTRY_TYPE,
    STATUS_LIST_2021_ENTRY_TYPE,
    Bitstring,
    StatusEntry,
    StatusPurpose,
    check_entry_against_list,
    parse_status_entry,
    parse_status_list_2021_entry,
    parse_status_list_credential,
)
from .result import Check, CheckResult, CheckStatus, StatusFreshness, StatusSource

log = logging.getLogger(__name__)

ACCEPT = (*JSON_MEDIA_TYPES, *JWT_MEDIA_TYPES)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_MAX_ENTRIES_PER_CREDENTIAL = 16
#: The entry types the status check reads: BSL 2.1, and Status List 2021 (VC 1.1 credentials).
_ENTRY_PARSERS = {
    ENTRY_TYPE: parse_status_entry,
    STATUS_LIST_2021_ENTRY_TYPE: parse_status_list_2021_entry,
}


@dataclass(frozen=True)
class StatusPolicy:
    """How the status check uses the network and its cache.

    ``default_ttl`` applies when neither the list's ``ttl`` nor HTTP caching headers say more
    (BSL 2.2 leaves the default to the verifier; five minutes, policy). ``max_ttl`` caps any
    lifetime, so a list claiming a year still gets re-read daily.
    """

    offline: bool = False
    refresh: bool = False
    default_ttl: timedelta = timedelta(minutes=5)
    max_ttl: timedelta = timedelta(days=1)
    same_issuer: bool = True
    max_list_bytes: int = DEFAULT_MAX_BYTES


@dataclass(frozen=True)
class CachedList:
    """A status list credential as fetched, with what HTTP said about reusing it."""

    url: str
    body: bytes = field(repr=False)
    media_type: str
    fetched_at: datetime
    expires_at: datetime
    etag: str | None = None
    last_modified: str | None = None

    def fresh(self, now: datetime) -> bool:
        return self.fetched_at <= now < self.expires_at


class StatusListCache:
    """Fetched status lists by URL: in memory (LRU, bounded), optionally also in a directory.

    The directory makes ``--offline`` work across runs. Its files are re-verified when read, so
    a tampered file fails verification like a tampered download.
    """

    def __init__(self, directory: Path | None = None, *, max_entries: int = 256) -> None:
        self._directory = directory
        self._max_entries = max_entries
        self._memory: OrderedDict[str, CachedList] = OrderedDict()
        self._lock = threading.Lock()

    def _paths(self, url: str) -> tuple[Path, Path]:
        assert self._directory is not None
        stem = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self._directory / f"{stem}.body", self._directory / f"{stem}.json"

    def get(self, url: str) -> CachedList | None:
        with self._lock:
            if url in self._memory:
                self._memory.move_to_end(url)
                return self._memory[url]
        return self._read_disk(url) if self._directory is not None else None

    def put(self, entry: CachedList, *, persist: bool = True) -> None:
        with self._lock:
            self._memory[entry.url] = entry
            self._memory.move_to_end(entry.url)
            while len(self._memory) > self._max_entries:
                self._memory.popitem(last=False)
        if persist and self._directory is not None:
            self._write_disk(entry)

    def _read_disk(self, url: str) -> CachedList | None:
        body_path, meta_path = self._paths(url)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            entry = CachedList(
                url=meta["url"],
                body=body_path.read_bytes(),
                media_type=meta["media_type"],
                fetched_at=parse_datetime_stamp(meta["fetched_at"]),
                expires_at=parse_datetime_stamp(meta["expires_at"]),
                etag=meta.get("etag"),
                last_modified=meta.get("last_modified"),
            )
        except (OSError, ValueError, KeyError, TypeError, CertvcError):
            return None
        if entry.url != url:
            return None
        with self._lock:
            self._memory[url] = entry
        return entry

    def _write_disk(self, entry: CachedList) -> None:
        assert self._directory is not None
        body_path, meta_path = self._paths(entry.url)
        meta = {
            "url": entry.url,
            "media_type": entry.media_type,
            "fetched_at": format_datetime_stamp(entry.fetched_at),
            "expires_at": format_datetime_stamp(entry.expires_at),
            "etag": entry.etag,
            "last_modified": entry.last_modified,
        }
        try:
            self._directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            for path, data in ((body_path, entry.body), (meta_path, json.dumps(meta).encode())):
                handle, tmp = tempfile.mkstemp(dir=self._directory, prefix=".tmp-")
                with os.fdopen(handle, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            self._prune_disk()
        except OSError as error:  # a cache that cannot be written is only slower
            log.warning("status list cache not written: %s", error)

    def _prune_disk(self) -> None:
        assert self._directory is not None
        metas = sorted(self._directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for meta in metas[: max(0, len(metas) - self._max_entries)]:
            meta.unlink(missing_ok=True)
            meta.with_suffix(".body").unlink(missing_ok=True)


class _Problem(Exception):
    """One entry could not be checked; becomes a failed status check with ``code``."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class _VerifiedList:
    """What a verified status list credential says, with its time-dependent limits."""

    issuer: str | None
    purposes: tuple[StatusPurpose, ...]
    encoded_list: str = field(repr=False)
    ttl_ms: int | None
    valid_from: datetime | None
    valid_until: datetime | None
    proof_expires: datetime | None = None


@dataclass(frozen=True)
class _Got:
    """A verified list and how it was had (for the freshness every status answer carries)."""

    verified: _VerifiedList
    source: StatusSource
    fetched_at: datetime


def _freshness(got: list[_Got], now: datetime) -> StatusFreshness | None:
    """The answer is as old as the oldest list it read."""
    if not got:
        return None
    oldest = min(got, key=lambda item: item.fetched_at)
    return StatusFreshness(now, oldest.source, oldest.fetched_at, oldest.verified.valid_from)


def _lifetime(ttl_ms: int | None, cache_control: str | None, policy: StatusPolicy) -> timedelta:
    """How long a list may be reused: the shortest of its ttl, max-age and the ceiling."""
    directives = (cache_control or "").lower()
    if "no-cache" in directives or "no-store" in directives:
        return timedelta(0)
    limits = [policy.max_ttl]
    max_age = _MAX_AGE.search(directives)
    if max_age is not None:
        limits.append(timedelta(seconds=int(max_age.group(1))))
    if ttl_ms is not None:
        limits.append(timedelta(milliseconds=ttl_ms))
    if ttl_ms is None and max_age is None:
        limits.append(policy.default_ttl)
    return min(limits)


class BitstringStatusChecker:
    """The engine's ``StatusChecker`` for BitstringStatusListEntry (BSL 3.2).

    ``list_policy`` verifies the status list credentials themselves; it must not carry a status
    checker of its own (a list is not checked against a list).
    """

    def __init__(
        self,
        fetcher: Fetcher,
        list_policy: VerifierPolicy,
        *,
        cache: StatusListCache | None = None,
        policy: StatusPolicy | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._list_policy = list_policy
        self._cache = cache if cache is not None else StatusListCache()
        self._policy = policy or StatusPolicy()
        self._verified: dict[str, _VerifiedList] = {}  # by SHA-256 of the body
        self._bitstrings: OrderedDict[tuple[str, int], Bitstring] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, credential: Mapping[str, Any], *, now: datetime) -> CheckResult:
        raw = credential.get("credentialStatus")
        items = raw if isinstance(raw, list) else [raw]
        if not items or len(items) > _MAX_ENTRIES_PER_CREDENTIAL:
            return CheckResult.failed(
                Check.STATUS,
                VerifierCode.STATUS_VERIFICATION,
                f"credentialStatus must hold 1 to {_MAX_ENTRIES_PER_CREDENTIAL} entries",
            )
        issuer = issuer_id(credential)
        outcomes: list[tuple[Code | None, str]] = []
        lists: list[_Got] = []
        for item in items:
            try:
                outcomes.append(self._check_entry(item, issuer, now, lists))
            except _Problem as problem:
                outcomes.append((problem.code, problem.message))
        freshness = _freshness(lists, now)
        for code in (VerifierCode.STATUS_REVOKED, VerifierCode.STATUS_SUSPENDED):
            hits = [message for got, message in outcomes if got is code]
            if hits:
                result = CheckResult.failed(Check.STATUS, code, "; ".join(hits))
                return replace(result, freshness=freshness)
        problems = [(got, message) for got, message in outcomes if got is not None]
        if problems:
            result = CheckResult.failed(
                Check.STATUS, problems[0][0], "; ".join(message for _, message in problems)
            )
            return replace(result, freshness=freshness)
        result = CheckResult.passed(Check.STATUS, "; ".join(message for _, message in outcomes))
        return replace(result, freshness=freshness)

    # --- one entry ------------------------------------------------------------------------------

    def _check_entry(
        self, item: object, issuer: str | None, now: datetime, lists: list[_Got]
    ) -> tuple[Code | None, str]:
        """One entry's meaning; the list it read is appended to ``lists``."""
        kind = item.get("type") if isinstance(item, Mapping) else type(item).__name__
        parse = _ENTRY_PARSERS.get(kind) if isinstance(kind, str) else None
        if not isinstance(item, Mapping) or parse is None:
            raise _Problem(
                VerifierCode.STATUS_VERIFICATION, f"status type {str(kind)[:60]!r} is not supported"
            )
        try:
            entry = parse(dict(item))
        except CertvcError as error:
            raise _Problem(error.code, error.message) from error
        got = self._verified_list(entry.list_url, now)
        lists.append(got)
        verified = got.verified
        if self._policy.same_issuer and verified.issuer != issuer:
            raise _Problem(
                VerifierCode.STATUS_VERIFICATION,
                f"the status list {entry.list_url} was issued by {verified.issuer}, "
                f"not by the credential's issuer {issuer}",
            )
        skew = self._list_policy.max_clock_skew
        if verified.valid_until is not None and now - skew > verified.valid_until:
            raise _Problem(
                VerifierCode.STATUS_VERIFICATION, f"the status list {entry.list_url} has expired"
            )
        if verified.proof_expires is not None and now > verified.proof_expires:
            raise _Problem(
                VerifierCode.STATUS_VERIFICATION,
                f"the proof of the status list {entry.list_url} expired",
            )
        if verified.valid_from is not None and now + skew < verified.valid_from:
            raise _Problem(
                VerifierCode.STATUS_VERIFICATION,
                f"the status list {entry.list_url} is not yet valid",
            )
        try:
            bitstring = self._bitstring(verified, entry)
            value = check_entry_against_list(entry, bitstring, verified.purposes)
        except CertvcError as error:
            raise _Problem(error.code, f"{entry.list_url}: {error.message}") from error
        return self._meaning(entry, value)

    @staticmethod
    def _meaning(entry: StatusEntry, value: int) -> tuple[Code | None, str]:
        where = f"entry {entry.index} of {entry.list_url}"
        message = entry.message_for(value)
        if value and entry.purpose is StatusPurpose.REVOCATION:
            return VerifierCode.STATUS_REVOKED, f"revoked by the issuer ({message}: {where})"
        if value and entry.purpose is StatusPurpose.SUSPENSION:
            return VerifierCode.STATUS_SUSPENDED, f"suspended by the issuer ({message}: {where})"
        return None, f"{entry.purpose.value}: {message}"

    def _bitstring(self, verified: _VerifiedList, entry: StatusEntry) -> Bitstring:
        key = (verified.encoded_list, entry.status_size)
        with self._lock:
            found = self._bitstrings.get(key)
        if found is None:
            found = Bitstring.decode(
                verified.encoded_list,
                status_size=entry.status_size,
                max_bytes=self._policy.max_list_bytes,
            )
            with self._lock:
                self._bitstrings[key] = found
                while len(self._bitstrings) > 64:
                    self._bitstrings.popitem(last=False)
        return found

    # --- getting a list -------------------------------------------------------------------------

    def _verified_list(self, url: str, now: datetime) -> _Got:
        cached = None if self._policy.refresh else self._cache.get(url)
        if cached is not None and cached.fresh(now):
            source = StatusSource.OFFLINE_CACHE if self._policy.offline else StatusSource.CACHE
            verified = self._verify_body(cached.body, cached.media_type, url, now)
            return _Got(verified, source, cached.fetched_at)
        if self._policy.offline:
            why = "its cached copy expired" if cached is not None else "it is not in the cache"
            raise _Problem(
                VerifierCode.STATUS_RETRIEVAL, f"offline: cannot use the status list {url}: {why}"
            )
        try:
            response = self._fetcher.fetch(
                url,
                accept=ACCEPT,
                etag=cached.etag if cached is not None else None,
                last_modified=cached.last_modified if cached is not None else None,
            )
        except FetchError as error:
            raise _Problem(
                VerifierCode.STATUS_RETRIEVAL,
                f"cannot retrieve the status list {url}: {error.code}: {error.message}",
            ) from error
        if response.status == 304 and cached is not None:
            body, media_type = cached.body, cached.media_type
            etag, modified = response.etag or cached.etag, response.last_modified
        elif response.status == 200:
            body, media_type = response.body, response.content_type
            etag, modified = response.etag, response.last_modified
        else:
            raise _Problem(VerifierCode.STATUS_RETRIEVAL, f"unexpected answer for {url}")
        verified = self._verify_body(body, media_type, url, now)
        lifetime = _lifetime(verified.ttl_ms, response.cache_control, self._policy)
        if "no-store" not in (response.cache_control or "").lower():
            self._cache.put(
                CachedList(url, body, media_type, now, now + lifetime, etag, modified or None)
            )
        return _Got(verified, StatusSource.LIVE, now)

    def _verify_body(self, body: bytes, media_type: str, url: str, now: datetime) -> _VerifiedList:
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            known = self._verified.get(digest)
        if known is not None:
            return known
        try:
            item = read_fetched_credential(body, media_type)
        except CertvcError as error:
            raise _Problem(
                VerifierCode.STATUS_VERIFICATION,
                f"the status list {url} is not a credential: {error.message}",
            ) from error
        result = verify_credential(item, self._list_policy, now=now)
        for check in (Check.SHAPE, Check.CONTEXT, Check.PROOF, Check.ISSUER):
            outcome = result.check(check)
            if outcome.status is not CheckStatus.PASSED:
                raise _Problem(
                    VerifierCode.STATUS_VERIFICATION,
                    f"the status list {url} failed its {check.value} check: "
                    f"{outcome.code or ''} {outcome.message}".strip(),
                )
        credential = item.unverified_credential
        proofs = credential.get("proof")
        try:
            subject = parse_status_list_credential(dict(credential))
            # VC 2.0 validFrom/validUntil; a VC 1.1 list (Status List 2021) has issuanceDate and
            # expirationDate (VC 1.1 §4.6-4.7).
            names = ("validFrom", "validUntil")
            if "validFrom" not in credential and "issuanceDate" in credential:
                names = ("issuanceDate", "expirationDate")
            window = [
                parse_datetime_stamp(credential[name]) if name in credential else None
                for name in names
            ]
            expiries = [
                parse_datetime_stamp(proof["expires"])
                for proof in (proofs if isinstance(proofs, list) else [proofs])
                if isinstance(proof, Mapping) and isinstance(proof.get("expires"), str)
            ]
        except CertvcError as error:
            raise _Problem(VerifierCode.STATUS_VERIFICATION, f"{url}: {error.message}") from error
        verified = _VerifiedList(
            issuer=issuer_id(credential),
            purposes=subject.purposes,
            encoded_list=subject.encoded_list,
            ttl_ms=subject.ttl_ms,
            valid_from=window[0],
            valid_until=window[1],
            proof_expires=min(expiries, default=None),
        )
        with self._lock:
            self._verified[digest] = verified
            while len(self._verified) > 256:
                self._verified.pop(next(iter(self._verified)))
        return verified
