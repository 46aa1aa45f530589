"""What verification returns: every check with its outcome, and one verdict.

The web page, the API and the CLI all render this one object (STYLE §5).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from contexts.errors import ErrorCode


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
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"
    UNTRUSTED_ISSUER = "UNTRUSTED_ISSUER"
    MALFORMED = "MALFORMED"
    STATUS_UNAVAILABLE = "STATUS_UNAVAILABLE"


class InputFormat(StrEnum):
    JSON = "application/vc"
    VC_JWT = "application/vc+jwt"


@dataclass(frozen=True)
class CheckResult:
    check: Check
    status: CheckStatus
    code: ErrorCode | None = None
    message: str = ""

    @classmethod
    def passed(cls, check: Check, message: str = "") -> CheckResult:
        return cls(check, CheckStatus.PASSED, None, message)

    @classmethod
    def failed(cls, check: Check, code: ErrorCode, message: str) -> CheckResult:
        return cls(check, CheckStatus.FAILED, code, message)

    @classmethod
    def skipped(cls, check: Check, message: str, code: ErrorCode | None = None) -> CheckResult:
        return cls(check, CheckStatus.SKIPPED, code, message)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check.value,
            "status": self.status.value,
            "code": self.code.value if self.code is not None else None,
            "message": self.message,
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

    @property
    def verified(self) -> bool:
        return self.verdict is Verdict.VALID

    @property
    def credential(self) -> Mapping[str, Any] | None:
        return self.unverified_credential if self.verified else None

    def check(self, name: Check) -> CheckResult:
        return next(c for c in self.checks if c.check is name)

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "verdict": self.verdict.value,
            "checks": [c.to_json() for c in self.checks],
        }
