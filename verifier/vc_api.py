"""What ``verified`` means on the W3C VC API endpoints: the checks the caller asked for.

The VC API lets a relying party name its checks (``options.checks``); issuer trust is its own
policy there. So ``verified`` reflects the checks asked for (proof, status and validity when
none are named) while the response always carries the true verdict and the trust result: a
credential signed by a throwaway key is ``verified: true`` with ``verdict: UNTRUSTED_ISSUER``
unless the caller names ``"trust"`` or the operator enforces trust. Whatever is asked, a
credential is verified only when it is well-formed and signed by its issuer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from contexts.errors import Code, InputError

from .result import Check, CheckResult, CheckStatus, VerificationResult

#: Enforced whatever the caller names: without them nothing was verified at all.
ALWAYS = frozenset({Check.SHAPE, Check.CONTEXT, Check.PROOF, Check.ISSUER})
DEFAULT = ALWAYS | {Check.STATUS, Check.VALIDITY}
#: Names other VC API implementations use for the same checks.
_ALIASES = {"credentialStatus": Check.STATUS, "expiration": Check.VALIDITY}
_MAX_NAMES = 16


@dataclass(frozen=True)
class Problem:
    check: str
    code: Code | None
    message: str

    def to_json(self) -> dict[str, str | None]:
        code = self.code.value if self.code is not None else None
        return {"check": self.check, "code": code, "message": self.message}

    @classmethod
    def of(cls, check: CheckResult, label: str | None = None) -> Problem:
        return cls(label or check.check.value, check.code, check.message)


@dataclass(frozen=True)
class CheckSelection:
    """The checks whose failure makes ``verified`` false."""

    checks: frozenset[Check] = DEFAULT

    @classmethod
    def from_options(cls, options: object, *, enforce_trust: bool = False) -> CheckSelection:
        """``options.checks`` (absent: the default), plus trust when the operator enforces it.

        :raises InputError: ``options`` or ``options.checks`` is not what the API allows.
        """
        if options is None:
            options = {}
        if not isinstance(options, Mapping):
            raise InputError("options must be an object")
        names = options.get("checks")
        chosen = set(DEFAULT)
        if names is not None:
            if not isinstance(names, list) or len(names) > _MAX_NAMES:
                raise InputError("options.checks must be a list of check names")
            chosen = set(ALWAYS)
            for name in names:
                check = _check_named(name)
                chosen.add(check)
        if enforce_trust:
            chosen.add(Check.TRUST)
        return cls(frozenset(chosen))

    def verified(self, result: VerificationResult) -> bool:
        if result.check(Check.PROOF).status is not CheckStatus.PASSED:
            return False
        return not any(
            c.status is CheckStatus.FAILED for c in result.checks if c.check in self.checks
        )

    def problems(self, result: VerificationResult) -> tuple[list[Problem], list[Problem]]:
        """``errors`` (failed checks that were asked for) and ``warnings`` (the rest that did
        not pass: skipped checks, and failures of checks the caller did not ask for)."""
        errors: list[Problem] = []
        warnings: list[Problem] = []
        for check in result.checks:
            if check.status is CheckStatus.FAILED and check.check in self.checks:
                errors.append(Problem.of(check))
            elif check.status is not CheckStatus.PASSED:
                warnings.append(Problem.of(check))
        return errors, warnings

    def response(self, result: VerificationResult) -> dict[str, Any]:
        """The body of a ``/credentials/verify`` answer (and of each credential result of a
        presentation)."""
        errors, warnings = self.problems(result)
        body: dict[str, Any] = {
            "verified": self.verified(result),
            "verdict": result.verdict.value,
            "checks": [c.check.value for c in result.checks if c.status is not CheckStatus.SKIPPED],
            "warnings": [w.to_json() for w in warnings],
            "errors": [e.to_json() for e in errors],
            "trust": result.check(Check.TRUST).to_json(),
        }
        freshness = result.freshness
        if freshness is not None:
            body["status"] = freshness.to_json()
        return body


def _check_named(name: object) -> Check:
    if isinstance(name, str):
        if name in _ALIASES:
            return _ALIASES[name]
        try:
            return Check(name)
        except ValueError:
            pass
    known = sorted([c.value for c in Check] + list(_ALIASES))
    raise InputError(f"options.checks: unknown check {str(name)[:40]!r}; known: {known}")
