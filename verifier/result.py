"""What verification returns: every check with its outcome, and one verdict.

The web page, the API and the CLI all render this one object (STYLE §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from contexts.errors import Code
from keys.dates import format_datetime_stamp


class Check(StrEnum):
    SHAPE = "shape"
    CONTEXT = "context"
    PROOF = "proof"
    ISSUER = "issuer"
    TRUST = "trust"
    VALIDITY = "validity"
    STATUS = "status"


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    VALID = "VALID"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    #: Replaced by a newer certificate of the same certification (a renewal or a reduced
    #: scope): said by the issuer's own verifier, which knows its records; anywhere else the
    #: same credential is REVOKED (its revocation bit is set).
    SUPERSEDED = "SUPERSEDED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    UNTRUSTED_ISSUER = "UNTRUSTED_ISSUER"
    MALFORMED = "MALFORMED"
    STATUS_UNAVAILABLE = "STATUS_UNAVAILABLE"
    #: The issuer's keys (its DID document) could not be reached: cannot be checked right now.
    ISSUER_UNAVAILABLE = "ISSUER_UNAVAILABLE"
    #: No credential could be read from the input (no QR code found in a photo): says nothing
    #: about any certificate.
    UNREADABLE = "UNREADABLE"
    #: Signed only with proofs this verifier cannot check (an unknown proof type, or a suite
    #: outside its allow-list): not a verdict on the signature.
    UNSUPPORTED_PROOF = "UNSUPPORTED_PROOF"


class StatusSource(StrEnum):
    """Where the status list behind a status check came from."""

    LIVE = "live"  # fetched (or revalidated) for this check, or read from the issuer's own records
    CACHE = "cache"  # a cached copy within its lifetime
    OFFLINE_CACHE = "offline-cache"  # a cached copy, used because the verifier is offline


@dataclass(frozen=True)
class StatusFreshness:
    """How current a status answer is: a verdict is only as fresh as the list it read."""

    checked_at: datetime
    source: StatusSource
    list_fetched_at: datetime
    list_valid_from: datetime | None = None

    def age(self) -> timedelta:
        return max(timedelta(0), self.checked_at - self.list_fetched_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "checkedAt": format_datetime_stamp(self.checked_at),
            "listValidFrom": format_datetime_stamp(self.list_valid_from)
            if self.list_valid_from is not None
            else None,
            "listFetchedAt": format_datetime_stamp(self.list_fetched_at),
            "source": self.source.value,
            "ageSeconds": int(self.age().total_seconds()),
        }


class InputFormat(StrEnum):
    JSON = "application/vc"
    VC_JWT = "application/vc+jwt"


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: CheckStatus
    code: Code | None = None
    message: str = ""
    #: For the status check: how old the list it used is and where it came from.
    freshness: StatusFreshness | None = field(default=None, compare=False)

    @classmethod
    def passed(cls, check: Check, message: str = "") -> CheckResult:
        return cls(check, CheckStatus.PASSED, None, message)

    @classmethod
    def failed(cls, check: Check, code: Code, message: str) -> CheckResult:
        return cls(check, CheckStatus.FAILED, code, message)

    @classmethod
    def skipped(cls, check: Check, message: str, code: Code | None = None) -> CheckResult:
        return cls(check, CheckStatus.SKIPPED, code, message)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "status": self.status.value,
            "code": self.code.value if self.code is not None else None,
            "message": self.message,
        }


@dataclass(frozen=True)
class Replacement:
    """The newer certificate that replaced a superseded one (the issuer's record)."""

    credential_id: str
    number: str | None
    valid_from: datetime | None

    def to_json(self) -> dict[str, Any]:
        start = self.valid_from
        return {
            "id": self.credential_id,
            "number": self.number,
            "validFrom": start.isoformat().replace("+00:00", "Z") if start else None,
        }


@dataclass(frozen=True)
class VerificationResult:
    """One verdict and every check behind it.

    ``unverified_credential`` is whatever was parsed, checked or not; ``credential`` is released
    only when the verdict is VALID (STYLE §7).
    """

    verdict: Verdict
    checks: tuple[CheckResult, ...]
    format: InputFormat | None = None
    unverified_credential: Mapping[str, Any] | None = field(default=None, repr=False)
    #: For SUPERSEDED: the certificate that replaced this one.
    replaced_by: Replacement | None = None

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VALID

    @property
    def credential(self) -> Mapping[str, Any] | None:
        return self.unverified_credential if self.verified else None

    def check(self, name: Check) -> CheckResult:
        return next(c for c in self.checks if c.check is name)

    @property
    def freshness(self) -> StatusFreshness | None:
        status = next((c for c in self.checks if c.check is Check.STATUS), None)
        return status.freshness if status is not None else None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "verified": self.verified,
            "verdict": self.verdict.value,
            "checks": [c.to_json() for c in self.checks],
        }
        freshness = self.freshness
        if freshness is not None:
            body["status"] = freshness.to_json()
        if self.replaced_by is not None:
            body["replacedBy"] = self.replaced_by.to_json()
        return body
