"""The verification engine: pure, never raises on a bad credential.

Every independent check runs; a check that depends on a failed one is SKIPPED with the reason
(STYLE §5). Shape, context, proof and validity always run; issuer needs a verified proof, trust a
passed issuer check, status too (a forgery must not make us fetch its URLs). Time, key
resolution and status lookup are injected through the policy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from contexts.errors import CertvcError, ErrorCode, InputError
from contexts.loader import ContextStore
from keys.dates import parse_datetime_stamp
from keys.did import DidResolver
from keys.errors import KeyCode
from keys.suites import (
    ALL_SUITES,
    CHECKABLE_PROOF_TYPES,
    Canonicalizer,
    check_jsonld_safe,
    get_suite,
    previous_proof_ids,
    proof_cryptosuite,
    vc_jwt,
    verify_proof,
)

from .errors import VerifierCode
from .inputs import CredentialInput, read_credential_input
from .model.shape import DataModel, Mode, data_model, shape_problems
from .result import Check, CheckResult, CheckStatus, InputFormat, Verdict, VerificationResult

log = logging.getLogger(__name__)


class StatusChecker(Protocol):
    """Looks up the credential's status entries (Bitstring Status List; issue 6 brings one)."""

    def __call__(self, credential: Mapping[str, Any], *, now: datetime) -> CheckResult: ...


class TrustList(Protocol):
    """Whether the verifier vouches for an issuer at ``now`` (accreditations start and end)."""

    def __call__(self, issuer_id: str, *, now: datetime) -> CheckResult: ...


@dataclass(frozen=True)
class VerifierPolicy:
    """Everything a verification depends on besides the input and the clock."""

    store: ContextStore
    resolver: DidResolver
    #: Chosen by the composition root (``keys.suites.canonicalizer_named``): never a default.
    canonicalizer: Canonicalizer
    allowed_suites: frozenset[str] = ALL_SUITES
    max_clock_skew: timedelta = timedelta(minutes=5)
    expected_proof_purpose: str = "assertionMethod"
    status_checker: StatusChecker | None = None
    trust: TrustList | None = None


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def _failure(check: Check, error: Exception) -> CheckResult:
    if isinstance(error, CertvcError):
        return CheckResult.failed(check, error.code, error.message)
    # A bug must not turn into a crash on a hostile credential; it is logged and reported.
    log.exception("unexpected error in the %s check", check)
    return CheckResult.failed(check, ErrorCode.INPUT_UNUSABLE, f"unexpected {type(error).__name__}")


def _check_shape(credential: Mapping[str, Any], store: ContextStore) -> CheckResult:
    problems = shape_problems(credential, Mode.VERIFY, store=store)
    if not problems:
        model = data_model(credential) or DataModel.V2_0
        return CheckResult.passed(Check.SHAPE, f"{model.name_shown} shape")
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return CheckResult.failed(Check.SHAPE, first.code, f"{first.path}: {first.message}{more}")


def _check_context(
    credential: Mapping[str, Any], store: ContextStore, canonicalizer: Canonicalizer
) -> CheckResult:
    # With the fast path a credential of a known shape is answered without running pyld; the
    # proof check then writes the canonical form from the same compiled shape.
    try:
        check_jsonld_safe(credential, store, canonicalizer)
    except Exception as error:  # noqa: BLE001 - becomes a CheckResult
        return _failure(Check.CONTEXT, error)
    return CheckResult.passed(Check.CONTEXT, "pinned contexts, every term defined")


#: Proof codes that mean "not checked" rather than "does not verify".
_NOT_CHECKED = frozenset({KeyCode.PROOF_TYPE_UNSUPPORTED, KeyCode.SUITE_NOT_ALLOWED})
#: Proof failures that mean the verification key was never obtained.
_KEY_NOT_HAD = frozenset({VerifierCode.DID_UNAVAILABLE, KeyCode.DID_UNRESOLVABLE})

#: Proofs in one set (policy): each costs a canonicalization, a chained one over a document
#: that grows with the chain, so an unbounded set would let one request buy seconds of work.
MAX_PROOFS = 16


def _which(proof: Mapping[str, Any], number: int, total: int) -> str:
    """How a message names one proof of a set: its place, and its id when it has one."""
    proof_id = proof.get("id")
    named = f" ({proof_id})" if isinstance(proof_id, str) else ""
    return f"proof {number} of {total}{named}"


def _verify_data_integrity(
    credential: Mapping[str, Any], proof: Mapping[str, Any], policy: VerifierPolicy, now: datetime
) -> tuple[str, str]:
    """One proof of the credential's set: what signed it (for the message), its controller.

    :raises CertvcError: the suite is not allowed, or the proof does not verify.
    """
    suite = proof_cryptosuite(proof, policy.allowed_suites)
    checked = verify_proof(
        suite,
        credential,
        proof,
        resolver=policy.resolver,
        store=policy.store,
        now=now,
        expected_purpose=policy.expected_proof_purpose,
        canonicalizer=policy.canonicalizer,
    )
    previous = previous_proof_ids(proof)
    after = f" after {', '.join(previous)}" if previous else ""
    return f"{suite.name} by {checked.verification_method}{after}", checked.controller


def _checkable(proof: object) -> bool:
    """A proof of a type this verifier checks (Data Integrity, or a legacy suite it knows)."""
    kind = proof.get("type") if isinstance(proof, Mapping) else None
    return isinstance(kind, str) and kind in CHECKABLE_PROOF_TYPES


def _without_unchecked_proofs(credential: Mapping[str, Any]) -> Mapping[str, Any]:
    """The credential as the context check reads it: proofs of a type certvc does not check are
    left out (Data Integrity processes each proof on its own, so their terms are theirs; the
    proof check names them). Everything else, checkable proofs included, stays."""
    proofs = credential.get("proof")
    items = proofs if isinstance(proofs, list) else [proofs]
    if proofs is None or all(_checkable(p) for p in items):
        return credential
    kept = [p for p in items if _checkable(p)]
    reduced = {key: value for key, value in credential.items() if key != "proof"}
    if kept:
        reduced["proof"] = kept if isinstance(proofs, list) else kept[0]
    return reduced


def _check_proof(
    item: CredentialInput, policy: VerifierPolicy, now: datetime
) -> tuple[CheckResult, list[str]]:
    """Returns the proof check and the controllers of the keys that signed."""
    credential = item.unverified_credential
    try:
        if item.format is InputFormat.VC_JWT:
            assert item.token is not None
            get_suite(vc_jwt.NAME, policy.allowed_suites)
            checked = vc_jwt.verify(item.token, resolver=policy.resolver, now=now)
            message = f"vc+jwt {item.token.header['alg']} by {checked.verification_method}"
            return CheckResult.passed(Check.PROOF, message), [checked.controller]
        proofs = credential.get("proof")
        if proofs is None:
            return CheckResult.failed(Check.PROOF, KeyCode.MALFORMED_PROOF, "no proof"), []
        proof_list = proofs if isinstance(proofs, list) else [proofs]
        if not proof_list or not all(isinstance(p, Mapping) for p in proof_list):
            return (
                CheckResult.failed(Check.PROOF, KeyCode.MALFORMED_PROOF, "proof must be objects"),
                [],
            )
        if len(proof_list) > MAX_PROOFS:
            message = f"{len(proof_list)} proofs; at most {MAX_PROOFS} are verified (policy)"
            return CheckResult.failed(Check.PROOF, KeyCode.MALFORMED_PROOF, message), []
        controllers: list[str] = []
        methods: list[str] = []
        unchecked: list[str] = []
        # A proof set or chain: every proof this verifier can check must verify, a chained one
        # over the proofs it names too (Data Integrity §4.5 "allProofsVerified"). A proof of a
        # type it cannot check (neither DataIntegrityProof nor a known legacy suite such as
        # Ed25519Signature2020) is named in the message and not checked; the set holds on the
        # proofs that were checked, and with none of them nothing was checked at all
        # (proof_type_unsupported, never a bad signature).
        for number, proof in enumerate(proof_list, 1):
            if not _checkable(proof):
                kind = proof.get("type")
                unchecked.append(f"{_which(proof, number, len(proof_list))} ({str(kind)[:60]})")
                continue
            try:
                method, controller = _verify_data_integrity(credential, proof, policy, now)
            except CertvcError as error:
                if len(proof_list) == 1:
                    raise
                where = _which(proof, number, len(proof_list))
                return CheckResult.failed(Check.PROOF, error.code, f"{where}: {error.message}"), []
            controllers.append(controller)
            methods.append(method)
        if not methods:
            message = f"no proof of a type this verifier checks: {', '.join(unchecked)}"
            return CheckResult.failed(Check.PROOF, KeyCode.PROOF_TYPE_UNSUPPORTED, message), []
        if unchecked:
            methods.append(f"not checked (type not supported): {', '.join(unchecked)}")
        return CheckResult.passed(Check.PROOF, "; ".join(methods)), controllers
    except Exception as error:  # noqa: BLE001 - becomes a CheckResult
        return _failure(Check.PROOF, error), []


def _check_issuer(credential: Mapping[str, Any], controllers: list[str]) -> CheckResult:
    """Whose proofs these are (VC 2.0 §4.7 issuer; Data Integrity §2.1.1-2.1.2, §4.5).

    The credential is asserted by its issuer: at least one verified proof must be made with a
    key the issuer controls. Other verified proofs in a set or chain (a notary's or an
    endorser's, as in Data Integrity's proof-chain example, whichever comes first) need not
    be the issuer's: they are named, not failed. The reference implementation decides alike
    (a proof set passes when a proof by the issuer verifies); certvc is stricter in that every
    checkable proof must verify at all (the proof check). A credential signed only by others
    fails: nobody asserted it in the issuer's name.
    """
    issuer = issuer_id(credential)
    others = sorted({c for c in controllers if c != issuer})
    if issuer is None or issuer not in controllers:
        return CheckResult.failed(
            Check.ISSUER,
            VerifierCode.ISSUER_MISMATCH,
            f"the signing key is controlled by {others[0] if others else '?'}, "
            f"not by the issuer {issuer}",
        )
    also = f"; also signed by {', '.join(others)} (not the issuer)" if others else ""
    return CheckResult.passed(Check.ISSUER, f"signed by the issuer {issuer}{also}")


def _validity_names(credential: Mapping[str, Any]) -> tuple[str, str]:
    """The two validity properties of the credential's data model: VC 2.0 §4.6 validFrom and
    validUntil; VC 1.1 §4.6-4.7 issuanceDate (valid from then on, as the reference
    implementation reads it) and expirationDate."""
    if data_model(credential) is DataModel.V1_1:
        return "issuanceDate", "expirationDate"
    return "validFrom", "validUntil"


def _check_validity(credential: Mapping[str, Any], now: datetime, skew: timedelta) -> CheckResult:
    start_name, end_name = _validity_names(credential)
    try:
        valid_from = credential.get(start_name)
        valid_until = credential.get(end_name)
        start = parse_datetime_stamp(valid_from) if valid_from is not None else None
        end = parse_datetime_stamp(valid_until) if valid_until is not None else None
    except CertvcError as error:
        return _failure(Check.VALIDITY, error)
    if start is not None and now + skew < start:
        return CheckResult.failed(
            Check.VALIDITY,
            VerifierCode.CREDENTIAL_NOT_YET_VALID,
            f"not valid before {valid_from} ({start_name})",
        )
    if end is not None and now - skew > end:
        return CheckResult.failed(
            Check.VALIDITY,
            VerifierCode.CREDENTIAL_EXPIRED,
            f"expired at {valid_until} ({end_name})",
        )
    window = f"{valid_from or 'always'} .. {valid_until or 'no expiry'}"
    return CheckResult.passed(Check.VALIDITY, window)


def _verdict(checks: Mapping[Check, CheckResult]) -> Verdict:
    def failed(check: Check) -> bool:
        return checks[check].status is CheckStatus.FAILED

    if failed(Check.SHAPE) or failed(Check.CONTEXT):
        return Verdict.MALFORMED
    if checks[Check.PROOF].code in _KEY_NOT_HAD:
        # The issuer's keys could not be had (not reachable, or no resolver here can get them:
        # an unpinned DID offline, an https key URL without --key): nothing is known about the
        # signature either way, so "cannot check", never "forged".
        return Verdict.ISSUER_UNAVAILABLE
    if checks[Check.PROOF].code in _NOT_CHECKED:
        return Verdict.UNSUPPORTED_PROOF
    if failed(Check.PROOF) or failed(Check.ISSUER):
        return Verdict.INVALID_SIGNATURE
    if checks[Check.PROOF].status is not CheckStatus.PASSED:
        return Verdict.MALFORMED
    if failed(Check.TRUST):
        return Verdict.UNTRUSTED_ISSUER
    status = checks[Check.STATUS]
    if status.code is VerifierCode.STATUS_REVOKED:
        return Verdict.REVOKED
    if status.code is VerifierCode.STATUS_SUSPENDED:
        return Verdict.SUSPENDED
    validity = checks[Check.VALIDITY]
    if validity.code is VerifierCode.CREDENTIAL_EXPIRED:
        return Verdict.EXPIRED
    if validity.code is VerifierCode.CREDENTIAL_NOT_YET_VALID:
        return Verdict.NOT_YET_VALID
    if failed(Check.VALIDITY):
        return Verdict.MALFORMED
    if failed(Check.STATUS):
        return Verdict.STATUS_UNAVAILABLE
    return Verdict.VALID


def unusable_result(error: CertvcError) -> VerificationResult:
    """The result for input that could not be read at all.

    A photo in which no QR code was found is UNREADABLE, which says nothing about any
    certificate; anything else that is not a credential is MALFORMED.
    """
    verdict = Verdict.UNREADABLE if error.code is VerifierCode.QR_NOT_FOUND else Verdict.MALFORMED
    shape = CheckResult.failed(Check.SHAPE, error.code, error.message)
    skipped = [
        CheckResult.skipped(c, "the input is unusable") for c in Check if c is not Check.SHAPE
    ]
    return VerificationResult(verdict, (shape, *skipped))


def verify_credential(
    credential_input: CredentialInput | Mapping[str, Any] | str | bytes,
    policy: VerifierPolicy,
    *,
    now: datetime,
) -> VerificationResult:
    """Run every check on a credential (JSON object, vc+jwt text or raw bytes).

    Never raises for bad input: unusable input becomes a MALFORMED result whose shape check
    failed with ``input_unusable`` (callers that must tell "unusable" from "not valid", like the
    CLI's exit code 2, call :func:`read_credential_input` first).
    """
    try:
        if isinstance(credential_input, CredentialInput):
            item = credential_input
        elif isinstance(credential_input, Mapping):
            item = CredentialInput(InputFormat.JSON, credential_input)
        else:
            item = read_credential_input(credential_input)
    except (InputError, CertvcError) as error:
        return unusable_result(error)

    credential = item.unverified_credential
    results: dict[Check, CheckResult] = {}
    results[Check.SHAPE] = _check_shape(credential, policy.store)
    shape_ok = results[Check.SHAPE].status is CheckStatus.PASSED
    if shape_ok:
        checked_part = _without_unchecked_proofs(credential)
        results[Check.CONTEXT] = _check_context(checked_part, policy.store, policy.canonicalizer)
    else:
        results[Check.CONTEXT] = CheckResult.skipped(Check.CONTEXT, "the shape check failed")
    # The proof runs even when shape or context failed: a tampered value often breaks the
    # context too, and the proof's own failure is what the holder of a forged credential needs
    # to see. (The verdict still says MALFORMED first.)
    results[Check.PROOF], controllers = _check_proof(item, policy, now)
    if results[Check.PROOF].status is CheckStatus.PASSED:
        results[Check.ISSUER] = _check_issuer(credential, controllers)
    else:
        results[Check.ISSUER] = CheckResult.skipped(Check.ISSUER, "the proof did not verify")
    if policy.trust is None:
        # Only a caller that decided not to judge issuers gets here (``verifier.trust`` is the
        # policy every adapter uses; it fails an issuer nobody vouches for).
        results[Check.TRUST] = CheckResult.skipped(
            Check.TRUST, "trust is not part of this verification: the issuer is not vouched for"
        )
    elif results[Check.ISSUER].status is CheckStatus.PASSED:
        results[Check.TRUST] = policy.trust(issuer_id(credential) or "", now=now)
    else:
        results[Check.TRUST] = CheckResult.skipped(Check.TRUST, "the issuer check did not pass")
    results[Check.VALIDITY] = (
        _check_validity(credential, now, policy.max_clock_skew)
        if shape_ok
        else CheckResult.skipped(Check.VALIDITY, "the shape check failed")
    )
    if "credentialStatus" not in credential:
        results[Check.STATUS] = CheckResult.skipped(Check.STATUS, "the credential has no status")
    elif policy.status_checker is None or not shape_ok:
        results[Check.STATUS] = CheckResult.skipped(
            Check.STATUS, "status lists are not checked by this verifier configuration"
        )
    elif results[Check.ISSUER].status is not CheckStatus.PASSED:
        # Status URLs are fetched only for a credential its issuer really signed: a forgery
        # must not make the verifier fetch addresses of the forger's choosing.
        results[Check.STATUS] = CheckResult.skipped(
            Check.STATUS, "not checked: the credential is not signed by its issuer"
        )
    else:
        try:
            results[Check.STATUS] = policy.status_checker(credential, now=now)
        except Exception as error:  # noqa: BLE001 - becomes a CheckResult
            results[Check.STATUS] = _failure(Check.STATUS, error)
    checks = tuple(results[c] for c in Check)
    return VerificationResult(_verdict(results), checks, item.format, credential)
