"""Enveloped forms on the W3C VC API verify endpoints (VC Data Model 2.0 §4.13.1-§4.13.2).

``/credentials/verify`` may be handed an ``EnvelopedVerifiableCredential`` (the vc+jwt in a
``data:`` URL, what ``/credentials/issue`` answers with the vc+jwt suite) and
``/presentations/verify`` an ``EnvelopedVerifiablePresentation`` (a vp+jwt). The credential's
envelope is opened and the token verified like any vc+jwt. A presentation's token is the
holder's proof: it is checked here (VC-JOSE-COSE §3.2.1, the key listed for
``authentication``, the verifier's challenge and domain as ``nonce`` and ``aud``), then the
presentation inside goes through :func:`verifier.presentation.verify_presentation` like an
embedded-proof one, its own proof check replaced by the token's. Pure: no I/O of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from contexts.errors import CertvcError, ErrorCode, InputError
from keys.suites import get_suite, vc_jwt

from .engine import VerifierPolicy
from .errors import VerifierCode
from .presentation import PresentationResult, Verify, verify_presentation
from .vc_api import CheckSelection, Problem


def open_credential(value: object) -> object:
    """The compact vc+jwt of an ``EnvelopedVerifiableCredential``; anything else unchanged.

    :raises InputError: an envelope that is malformed (``credential_malformed``).
    """
    if not vc_jwt.is_envelope(value):
        return value
    assert isinstance(value, Mapping)
    try:
        return vc_jwt.unenvelope(value)
    except CertvcError as error:
        raise InputError(error.message, code=ErrorCode.CREDENTIAL_MALFORMED) from error


def _holder_problem(payload: Mapping[str, Any], controller: str) -> Problem | None:
    holder = payload.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if holder_id is None or holder_id == controller:
        return None
    return Problem(
        "holder",
        VerifierCode.ISSUER_MISMATCH,
        f"the presentation is signed by {controller}, not by its holder",
    )


def _failed(problem: Problem) -> PresentationResult:
    return PresentationResult(False, ("proof",), (), (problem,), ())


def verify_enveloped_presentation(
    envelope: object,
    policy: VerifierPolicy,
    verify: Verify,
    *,
    now: datetime,
    challenge: str | None = None,
    domain: str | None = None,
    selection: CheckSelection = CheckSelection(),  # noqa: B008 - a frozen value
) -> PresentationResult:
    """Verify an ``EnvelopedVerifiablePresentation`` and every credential in it; never raises
    for bad input. A bad token (signature, algorithm, key, nonce, aud) fails the ``proof``
    check and nothing inside is believed: the credentials are not verified."""
    if not isinstance(envelope, Mapping):
        problem = Problem("shape", ErrorCode.INPUT_UNUSABLE, "the presentation must be an object")
        return PresentationResult(False, ("shape",), (), (problem,), ())
    try:
        token = vc_jwt.parse(vc_jwt.unenvelope(envelope, presentation=True))
        get_suite(vc_jwt.NAME, policy.allowed_suites)
        checked = vc_jwt.verify_presentation(
            token, resolver=policy.resolver, challenge=challenge, domain=domain
        )
    except CertvcError as error:
        return _failed(Problem("proof", error.code, error.message))
    payload = checked.credential
    inner = verify_presentation(payload, policy, verify, now=now, selection=selection)
    if "proof" in payload:
        # An embedded proof inside the token was checked by the presentation rules as well.
        errors = list(inner.errors)
        warnings = list(inner.warnings)
    else:
        # The token is the holder's proof: what the presentation rules say about a missing
        # embedded proof does not apply.
        errors = [
            e
            for e in inner.errors
            if e.check != "proof" and not (e.check == "credentials" and "no proof" in e.message)
        ]
        warnings = [w for w in inner.warnings if w.check != "proof"]
    holder = _holder_problem(payload, checked.controller)
    if holder is not None:
        errors.insert(0, holder)
    checks = inner.checks if "proof" in inner.checks else ("proof", *inner.checks)
    verified = not errors and all(selection.verified(r) for r in inner.credentials)
    return replace(
        inner, verified=verified, checks=checks, errors=tuple(errors), warnings=tuple(warnings)
    )
