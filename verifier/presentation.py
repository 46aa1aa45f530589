"""Verifying a verifiable presentation (VC Data Model 2.0 §4.13, W3C VC API /presentations/verify).

The presentation's own proof (purpose ``authentication``, with the verifier's ``challenge`` and
``domain`` when it set them) shows who presents; each credential inside goes through the same
engine as a credential on its own. Pure: the policy carries the resolver, store and status check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from contexts.errors import CertvcError, ErrorCode
from contexts.urls import CREDENTIALS_V1
from keys.errors import KeyCode
from keys.suites import proof_cryptosuite, verify_proof

from .engine import VerifierPolicy
from .errors import VerifierCode
from .inputs import CredentialInput, read_credential_input
from .result import CheckStatus, VerificationResult
from .samples import VC_V2
from .vc_api import CheckSelection, Problem

MAX_CREDENTIALS = 16
_ENVELOPE_PREFIX = "data:application/vc+jwt,"

Verify = Callable[[CredentialInput | Mapping[str, Any], datetime], VerificationResult]


@dataclass(frozen=True)
class PresentationResult:
    verified: bool
    checks: tuple[str, ...]
    warnings: tuple[Problem, ...]
    errors: tuple[Problem, ...]
    credentials: tuple[VerificationResult, ...]


def _credential_item(value: object) -> CredentialInput | Mapping[str, Any]:
    """A credential inside a presentation: an object, or an EnvelopedVerifiableCredential.

    VC 2.0 §4.13: the values "MUST NOT be non-object values such as numbers, strings, or
    URLs": a credential given as a string (JSON text or a compact JWS) is refused; a vc+jwt
    travels as an EnvelopedVerifiableCredential.
    """
    if isinstance(value, Mapping) and value.get("type") == "EnvelopedVerifiableCredential":
        data_url = value.get("id")
        if not isinstance(data_url, str) or not data_url.startswith(_ENVELOPE_PREFIX):
            raise CertvcError(
                "an EnvelopedVerifiableCredential carries a data:application/vc+jwt, URL",
                code=ErrorCode.CREDENTIAL_MALFORMED,
            )
        return read_credential_input(unquote(data_url[len(_ENVELOPE_PREFIX) :]))
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        raise CertvcError(
            "a verifiableCredential item is a string; it must be a credential object, or an "
            "EnvelopedVerifiableCredential for a vc+jwt (VC 2.0 §4.13)",
            code=ErrorCode.CREDENTIAL_MALFORMED,
        )
    raise CertvcError("verifiableCredential items must be objects", code=ErrorCode.INPUT_UNUSABLE)


def _check_proof(
    presentation: Mapping[str, Any],
    policy: VerifierPolicy,
    now: datetime,
    challenge: str | None,
    domain: str | None,
) -> tuple[list[Problem], list[Problem], str | None]:
    proof = presentation.get("proof")
    if proof is None:
        if challenge is not None or domain is not None:
            problem = Problem(
                "proof",
                KeyCode.MALFORMED_PROOF,
                "a challenge or domain was given but the presentation is not signed",
            )
            return [problem], [], None
        warning = Problem(
            "proof", KeyCode.MALFORMED_PROOF, "the presentation is not signed by its holder"
        )
        return [], [warning], None
    if not isinstance(proof, Mapping):
        return [Problem("proof", KeyCode.MALFORMED_PROOF, "proof must be one object")], [], None
    try:
        checked = verify_proof(
            proof_cryptosuite(proof, policy.allowed_suites),
            presentation,
            proof,
            resolver=policy.resolver,
            store=policy.store,
            now=now,
            expected_purpose="authentication",
            domain=domain,
            challenge=challenge,
            canonicalizer=policy.canonicalizer,
        )
    except CertvcError as error:
        return [Problem("proof", error.code, error.message)], [], None
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if holder_id is not None and holder_id != checked.controller:
        problem = Problem(
            "holder",
            VerifierCode.ISSUER_MISMATCH,
            f"the presentation is signed by {checked.controller}, not by its holder",
        )
        return [problem], [], checked.controller
    return [], [], checked.controller


def verify_presentation(
    presentation: object,
    policy: VerifierPolicy,
    verify: Verify,
    *,
    now: datetime,
    challenge: str | None = None,
    domain: str | None = None,
    selection: CheckSelection = CheckSelection(),  # noqa: B008 - a frozen value
) -> PresentationResult:
    """Verify a presentation and every credential in it; never raises for bad input.

    ``selection``: the credential checks that count for ``verified`` (VC API ``options.checks``).
    """
    errors: list[Problem] = []
    warnings: list[Problem] = []
    if not isinstance(presentation, Mapping):
        problem = Problem("shape", ErrorCode.INPUT_UNUSABLE, "the presentation must be an object")
        return PresentationResult(False, ("shape",), (), (problem,), ())
    contexts = presentation.get("@context")
    types = presentation.get("type")
    if not isinstance(contexts, list) or not contexts or contexts[0] not in (VC_V2, CREDENTIALS_V1):
        # VC 2.0 §4.13 / VC 1.1 §4.10: a presentation of either data model
        errors.append(
            Problem(
                "shape",
                ErrorCode.CREDENTIAL_MALFORMED,
                f"@context must start with {VC_V2} (or {CREDENTIALS_V1})",
            )
        )
    if types != "VerifiablePresentation" and not (
        isinstance(types, list) and "VerifiablePresentation" in types
    ):
        errors.append(
            Problem(
                "shape", ErrorCode.CREDENTIAL_MALFORMED, "type must include VerifiablePresentation"
            )
        )
    if errors:
        return PresentationResult(False, ("shape",), (), tuple(errors), ())
    proof_errors, proof_warnings, _ = _check_proof(presentation, policy, now, challenge, domain)
    errors += proof_errors
    warnings += proof_warnings
    raw = presentation.get("verifiableCredential", [])
    items = raw if isinstance(raw, list) else [raw]
    if not items and presentation.get("proof") is None:
        # VC 2.0 §4.13: verifiableCredential MAY be absent; but then only the holder's proof
        # can be verified, and an unsigned, empty presentation shows nothing at all.
        errors.append(
            Problem("credentials", ErrorCode.INPUT_UNUSABLE, "no credential presented and no proof")
        )
    if len(items) > MAX_CREDENTIALS:
        errors.append(
            Problem("credentials", ErrorCode.INPUT_TOO_LARGE, f"over {MAX_CREDENTIALS} credentials")
        )
        items = []
    results: list[VerificationResult] = []
    for position, value in enumerate(items):
        try:
            result = verify(_credential_item(value), now)
        except CertvcError as error:
            errors.append(Problem(f"credential[{position}]", error.code, error.message))
            continue
        results.append(result)
        for check in result.checks:
            label = f"credential[{position}].{check.check.value}"
            if check.status is CheckStatus.FAILED and check.check in selection.checks:
                errors.append(Problem.of(check, label))
    checks = ("shape", "proof", *(f"credential[{i}]" for i in range(len(results))))
    verified = not errors and all(selection.verified(r) for r in results)
    return PresentationResult(verified, checks, tuple(warnings), tuple(errors), tuple(results))
