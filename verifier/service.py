"""One verifier, assembled: the engine with its fetcher, DID resolver, status lists and trust list.

The CLI, the web app and the benchmarks all build a :class:`Verifier` from
:class:`VerifierSettings` and call :meth:`Verifier.verify` with whatever they were handed (QR
image, QR text, credential JSON, vc+jwt, or a link to a hosted credential, which is fetched here
through the safe fetcher). The engine stays pure; this module is where its injected parts meet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from contexts.errors import CertvcError, InputError
from contexts.loader import ContextStore
from keys.dates import format_datetime_stamp
from keys.did import ChainResolver, DidResolver, LocalResolver
from keys.suites import Canonicalizer, canonicalizer_named

from .did_web import WebDidResolver
from .engine import VerifierPolicy, issuer_id, unusable_result, verify_credential
from .fetch import Fetcher, FetchError, FetchPolicy, LocalFirstFetcher, LocalSource, SafeFetcher
from .inputs import (
    JSON_MEDIA_TYPES,
    JWT_MEDIA_TYPES,
    CredentialInput,
    LinkInput,
    read_credential_input,
    read_fetched_credential,
)
from .result import (
    Check,
    CheckStatus,
    InputFormat,
    Replacement,
    StatusSource,
    Verdict,
    VerificationResult,
)
from .status import BitstringStatusChecker, StatusListCache, StatusPolicy
from .trust import HomeBody, TrustList, TrustPolicy


def setting_flag(value: object) -> bool:
    """A setting that is on or off, from the environment ("1", "true", "yes", "on") or code."""
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class VerifierSettings:
    """What an operator configures (CLI flags, app config)."""

    allow_origins: tuple[str, ...] = ()
    dev_mode: bool = False
    trust_file: Path | None = None
    #: Accept any issuer without a trust list (development only: the trust check is skipped).
    trust_any: bool = False
    #: ``fast`` or ``reference`` (``CERTVC_CANONICALIZER``; ``keys.suites.CANONICALIZERS``).
    canonicalizer: str | Canonicalizer = "fast"
    cache_dir: Path | None = None
    offline: bool = False
    refresh: bool = False
    max_clock_skew: timedelta = timedelta(minutes=5)
    fetch: FetchPolicy | None = None


@dataclass(frozen=True)
class Outcome:
    """A verification result, or why the input could not be used at all (``error``)."""

    result: VerificationResult
    item: CredentialInput | None = None
    error: CertvcError | None = None
    warnings: tuple[str, ...] = field(default=())

    @property
    def usable(self) -> bool:
        return self.error is None


class Successors(Protocol):
    """The issuer's own record of which credential replaced which (the instance a verifier is
    mounted on knows its renewals); other verifiers have none and say REVOKED."""

    def replacement(self, credential_id: str) -> Replacement | None: ...


class Verifier:
    """Verifies any supported input with one configuration (thread-safe; caches are shared)."""

    def __init__(
        self,
        *,
        store: ContextStore,
        fetcher: Fetcher,
        clock: Callable[[], datetime],
        canonicalizer: Canonicalizer,
        trust: TrustPolicy | TrustList | None = None,
        status_policy: StatusPolicy | None = None,
        cache: StatusListCache | None = None,
        max_clock_skew: timedelta = timedelta(minutes=5),
        own_resolver: DidResolver | None = None,
        successors: Successors | None = None,
        on_result: Callable[[VerificationResult], None] | None = None,
    ) -> None:
        """``trust`` defaults to trusting nobody: a verifier vouches for no issuer unless it is
        told whom (a trust list, its own body) or told to accept any (``trust_any``).
        ``successors``: the home body's record of replaced credentials (SUPERSEDED).
        ``on_result``: told every result :meth:`verify` returns (the issuer's metrics count
        verdicts with it); it must not raise."""
        self._successors = successors
        self._on_result = on_result
        if not isinstance(trust, TrustPolicy):
            trust = TrustPolicy(trust)
        self.trust = trust
        self._clock = clock
        self._fetcher = fetcher
        local = LocalResolver(self.trust.pinned_documents())
        resolver: DidResolver = WebDidResolver(fetcher, clock=clock, local=local)
        if own_resolver is not None:  # the issuer this verifier is mounted on knows itself
            resolver = ChainResolver(own_resolver, resolver)
        list_policy = VerifierPolicy(
            store=store,
            resolver=resolver,
            canonicalizer=canonicalizer,
            max_clock_skew=max_clock_skew,
        )
        self.status = BitstringStatusChecker(
            fetcher, list_policy, cache=cache, policy=status_policy
        )
        self.policy = VerifierPolicy(
            store=store,
            resolver=resolver,
            canonicalizer=canonicalizer,
            max_clock_skew=max_clock_skew,
            status_checker=self.status,
            trust=self.trust,
        )

    @classmethod
    def from_settings(
        cls,
        settings: VerifierSettings,
        *,
        store: ContextStore,
        clock: Callable[[], datetime],
        fetcher: Fetcher | None = None,
        own_resolver: DidResolver | None = None,
        home: HomeBody | None = None,
        local: LocalSource | None = None,
        successors: Successors | None = None,
        on_result: Callable[[VerificationResult], None] | None = None,
    ) -> Verifier:
        """``home`` and ``local``: the body this verifier is mounted on, trusted without
        configuration, and the source of its own documents (read first-hand, so a status change
        shows on the very next verification).

        :raises TrustListError: the trust file is unreadable or invalid.
        :raises InputError: the canonicalizer named in the settings is unknown.
        """
        listed = TrustList.from_file(settings.trust_file) if settings.trust_file else None
        trust = TrustPolicy(listed, home=home, trust_any=settings.trust_any)
        if fetcher is None:
            policy = settings.fetch or FetchPolicy(
                allow_origins=frozenset(settings.allow_origins), dev_mode=settings.dev_mode
            )
            fetcher = SafeFetcher(policy)
        if local is not None:
            fetcher = LocalFirstFetcher(local, fetcher)
        return cls(
            store=store,
            fetcher=fetcher,
            clock=clock,
            canonicalizer=canonicalizer_named(settings.canonicalizer),
            trust=trust,
            status_policy=StatusPolicy(offline=settings.offline, refresh=settings.refresh),
            cache=StatusListCache(settings.cache_dir),
            max_clock_skew=settings.max_clock_skew,
            own_resolver=own_resolver,
            successors=successors if home is not None else None,
            on_result=on_result,
        )

    def _replaced(self, result: VerificationResult) -> VerificationResult:
        """REVOKED becomes SUPERSEDED when the home body's records say a newer certificate
        replaced this one (its own credentials only: the trust check names the home body)."""
        if result.verdict is not Verdict.REVOKED or self._successors is None:
            return result
        credential = result.unverified_credential or {}
        home = self.trust.home
        if home is None or issuer_id(credential) != home.did:
            return result
        credential_id = credential.get("id")
        if not isinstance(credential_id, str):
            return result
        replacement = self._successors.replacement(credential_id)
        if replacement is None:
            return result
        return dataclasses.replace(result, verdict=Verdict.SUPERSEDED, replaced_by=replacement)

    def read(self, data: bytes | str) -> CredentialInput:
        """Detect the input, fetching a linked credential.

        :raises CertvcError: the input is unusable (``InputError``) or the link cannot be had.
        """
        try:
            return read_credential_input(data)
        except LinkInput as link:
            try:
                response = self._fetcher.fetch(
                    link.url, accept=(*JSON_MEDIA_TYPES, *JWT_MEDIA_TYPES)
                )
            except FetchError as error:
                raise InputError(
                    f"cannot fetch the linked credential {link.url}: {error.code}: {error.message}",
                    code=error.code,
                ) from error
            return read_fetched_credential(response.body, response.content_type)

    def verify(
        self,
        data: bytes | str | Mapping[str, Any] | CredentialInput,
        *,
        now: datetime | None = None,
    ) -> Outcome:
        """Verify anything supported; never raises for bad input (see :attr:`Outcome.error`)."""
        when = now if now is not None else self._clock()
        try:
            if isinstance(data, bytes | str):
                item = self.read(data)
            elif isinstance(data, CredentialInput):
                item = data
            else:
                item = CredentialInput(InputFormat.JSON, data)
        except CertvcError as error:
            return self._told(Outcome(unusable_result(error), None, error))
        result = self._replaced(verify_credential(item, self.policy, now=when))
        warnings = [
            f"{c.check.value}: {c.message}"
            for c in result.checks
            if c.check is Check.TRUST and c.status is CheckStatus.SKIPPED
        ]
        freshness = result.freshness
        if freshness is not None and freshness.source is StatusSource.OFFLINE_CACHE:
            fetched = format_datetime_stamp(freshness.list_fetched_at)
            warnings.append(f"status: offline: from a cached list fetched {fetched}")
        return self._told(Outcome(result, item, None, tuple(warnings)))

    def _told(self, outcome: Outcome) -> Outcome:
        if self._on_result is not None:
            self._on_result(outcome.result)
        return outcome
