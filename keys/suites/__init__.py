"""The securing suites, one module each, behind a registry and an allow-list.

``REGISTRY`` maps a suite name (the ``cryptosuite`` value, or ``vc+jwt``) to a small frozen
description: the suites certvc signs and verifies with. ``VERIFY_ONLY`` holds the legacy suites
it verifies but never signs with (``Ed25519Signature2020``, named by the proof's ``type``);
``ALL_SUITES``, the verifier's default allow-list, is both. Callers pass the names they allow; a
name outside the allow-list is refused, never replaced by a fallback.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from contexts.errors import InputError
from contexts.loader import ContextStore
from keys.keypair import KeyType, Signer

from ..errors import KeyCode, ProofError
from . import ecdsa_rdfc_2019, ed25519_signature_2020, eddsa_rdfc_2022, vc_jwt
from ._data_integrity import (
    FAST as FAST,
)
from ._data_integrity import (
    PROOF_TYPE as PROOF_TYPE,
)
from ._data_integrity import (
    Canonicalizer as Canonicalizer,
)
from ._data_integrity import (
    ChecksSafety as ChecksSafety,
)
from ._data_integrity import (
    ProofCheck as ProofCheck,
)
from ._data_integrity import (
    ProofOptions as ProofOptions,
)
from ._data_integrity import (
    RdfcCryptosuite as RdfcCryptosuite,
)
from ._data_integrity import (
    canonize as canonize,
)
from ._data_integrity import (
    check_jsonld_safe as check_jsonld_safe,
)
from ._data_integrity import (
    create_proof as create_proof,
)
from ._data_integrity import (
    previous_proof_ids as previous_proof_ids,
)
from ._data_integrity import (
    proof_input_document as proof_input_document,
)
from ._data_integrity import (
    verify_proof as verify_proof,
)


class SuiteKind(Enum):
    DATA_INTEGRITY = "data-integrity"
    JOSE = "jose"


@dataclass(frozen=True)
class Suite:
    name: str
    kind: SuiteKind
    key_types: frozenset[KeyType]
    cryptosuite: RdfcCryptosuite | None = None


REGISTRY: Mapping[str, Suite] = {
    s.name: s
    for s in (
        Suite(
            eddsa_rdfc_2022.SUITE.name,
            SuiteKind.DATA_INTEGRITY,
            eddsa_rdfc_2022.SUITE.key_types,
            eddsa_rdfc_2022.SUITE,
        ),
        Suite(
            ecdsa_rdfc_2019.SUITE.name,
            SuiteKind.DATA_INTEGRITY,
            ecdsa_rdfc_2019.SUITE.key_types,
            ecdsa_rdfc_2019.SUITE,
        ),
        Suite(vc_jwt.NAME, SuiteKind.JOSE, frozenset(vc_jwt.ALLOWED_ALGORITHMS.values())),
    )
}
#: Suites certvc verifies but never signs with (not in ``REGISTRY``, so no signing command,
#: API or stored key record can name them).
VERIFY_ONLY: Mapping[str, Suite] = {
    ed25519_signature_2020.NAME: Suite(
        ed25519_signature_2020.NAME,
        SuiteKind.DATA_INTEGRITY,
        ed25519_signature_2020.SUITE.key_types,
        ed25519_signature_2020.SUITE,
    )
}
ALL_SUITES: frozenset[str] = frozenset(REGISTRY) | frozenset(VERIFY_ONLY)
#: Proof ``type`` values of the legacy suites, each its own suite (no ``cryptosuite``).
LEGACY_PROOF_TYPES: frozenset[str] = frozenset(VERIFY_ONLY)
#: Every proof ``type`` this verifier can check (anything else is ``proof_type_unsupported``).
CHECKABLE_PROOF_TYPES: frozenset[str] = frozenset({PROOF_TYPE}) | LEGACY_PROOF_TYPES


#: The canonicalizers an operator can choose (``CERTVC_CANONICALIZER``): ``fast`` (compiled
#: shapes, the default of every composition root) and ``reference`` (the plain pyld path).
CANONICALIZERS: Mapping[str, Canonicalizer] = {"fast": FAST, "reference": canonize}


def canonicalizer_named(name: str | Canonicalizer) -> Canonicalizer:
    """The canonicalizer a setting names (a composition root may also hand one in directly, as
    tests do to watch which path runs).

    :raises InputError: not one of :data:`CANONICALIZERS`.
    """
    if not isinstance(name, str):
        return name
    try:
        return CANONICALIZERS[name.strip().lower()]
    except KeyError:
        known = ", ".join(CANONICALIZERS)
        raise InputError(f"unknown canonicalizer {name!r} (choose {known})") from None


def get_suite(name: str, allowed: frozenset[str] = ALL_SUITES) -> Suite:
    """:raises ProofError: ``suite_not_allowed`` for an unknown or disallowed name."""
    suite = REGISTRY.get(name) or VERIFY_ONLY.get(name)
    if name not in allowed or suite is None:
        known = ", ".join(sorted(allowed & ALL_SUITES))
        raise ProofError(
            f"securing suite {name!r} is not allowed (allowed: {known})",
            code=KeyCode.SUITE_NOT_ALLOWED,
        )
    return suite


def proof_cryptosuite(
    proof: Mapping[str, Any], allowed: frozenset[str] = ALL_SUITES
) -> RdfcCryptosuite:
    """The Data Integrity cryptosuite a proof object names: its ``cryptosuite`` for a
    ``DataIntegrityProof``, its ``type`` for a legacy suite (``Ed25519Signature2020``).

    :raises ProofError: ``suite_not_allowed``: unknown, not allowed, or not Data Integrity.
    """
    kind = proof.get("type")
    name = (
        kind if isinstance(kind, str) and kind in LEGACY_PROOF_TYPES else proof.get("cryptosuite")
    )
    suite = get_suite(name if isinstance(name, str) else repr(name), allowed)
    if suite.cryptosuite is None:
        raise ProofError(
            f"{suite.name} is not a Data Integrity cryptosuite", code=KeyCode.SUITE_NOT_ALLOWED
        )
    return suite.cryptosuite


def secure(
    credential: Mapping[str, Any],
    signer: Signer,
    suite_name: str,
    *,
    store: ContextStore,
    options: ProofOptions,
    canonicalizer: Canonicalizer,
) -> dict[str, Any] | str:
    """Secure ``credential`` with one suite: a Data Integrity document, or a compact JWS.

    :raises ProofError: unknown suite (a verify-only one included), or a key the suite does
        not take.
    """
    suite = get_suite(suite_name, frozenset(REGISTRY))
    if signer.public_key.key_type not in suite.key_types:
        raise ProofError(
            f"{suite.name} cannot sign with a {signer.public_key.key_type.value} key",
            code=KeyCode.KEY_UNSUPPORTED,
        )
    if suite.cryptosuite is not None:
        return create_proof(suite.cryptosuite, credential, signer, options, store, canonicalizer)
    return vc_jwt.sign(credential, signer, key_id=options.verification_method)
