"""Signing with the verifier's own rules: we never sign what our verifier would reject.

The issuer service and the CLI both sign through :func:`sign_credential`: the shape rules in
issue mode (STYLE §8) and JSON-LD safe mode run first, whatever the suite.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contexts.compiled import read_shape
from contexts.loader import ContextStore
from keys.keypair import Signer
from keys.suites import (
    REGISTRY,
    Canonicalizer,
    ProofOptions,
    SuiteKind,
    check_jsonld_safe,
    secure,
)
from verifier.model.shape import Mode, validate_credential_shape


def sign_credential(
    credential: Mapping[str, Any],
    signer: Signer,
    suite: str,
    *,
    store: ContextStore,
    options: ProofOptions,
    canonicalizer: Canonicalizer,
) -> dict[str, Any] | str:
    """Check and secure ``credential``; a missing ``issuer`` becomes the signer's DID.

    ``canonicalizer``: the caller's choice (``keys.suites.canonicalizer_named``); the fast path
    and the plain pyld path give the same output.

    :raises ShapeError: the credential breaks a shape rule (VC 2.0 or 1.1), or names a pinned
        context as a related resource with another digest (VC 2.0 §5.3).
    :raises JsonLdError, ContextNotAllowed: it is not JSON-LD safe.
    :raises ProofError: the suite is unknown or does not take the key.
    """
    document = dict(credential)
    if "issuer" not in document:
        document["issuer"] = (options.verification_method or signer.key_id).split("#", 1)[0]
    if REGISTRY.get(suite) is not None and REGISTRY[suite].kind is SuiteKind.JOSE:
        # One walk for both checks: a shape read_shape accepts holds no number, so the shape
        # rules need not walk the credential again looking for tiny ones.
        shape = read_shape(document)
        validate_credential_shape(
            document, Mode.ISSUE, without_numbers=shape is not None, store=store
        )
        check_jsonld_safe(document, store, canonicalizer, shape=shape)
    else:
        # Data Integrity suites check JSON-LD safety while canonicalizing.
        validate_credential_shape(document, Mode.ISSUE, store=store)
    return secure(
        document, signer, suite, store=store, options=options, canonicalizer=canonicalizer
    )
