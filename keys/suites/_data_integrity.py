"""Data Integrity proofs over RDFC-1.0 canonical N-Quads (VC-DI-EdDSA §3.3, VC-DI-ECDSA §3.3).

Both RDF cryptosuites share every step but the key type and the hash, so the steps live here once
and each suite module is a small frozen description (like Digital Bazaar's cryptosuite objects).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from contexts.errors import CertvcError, ErrorCode, ProofError
from contexts.jsonld import to_dataset
from contexts.loader import ContextStore
from keys.base58btc import b58decode, b58encode
from keys.dates import format_datetime_stamp, parse_datetime_stamp
from keys.did import DidResolver, find_verification_method
from keys.fastpath import default_canonicalizer
from keys.keypair import KeyType, PublicKey, Signer
from keys.rdfc import canonicalize

PROOF_TYPE = "DataIntegrityProof"
ASSERTION_METHOD = "assertionMethod"

#: (document, store) -> canonical N-Quads. Injected so a faster, equivalent path can stand in.
Canonicalizer = Callable[[Mapping[str, Any], ContextStore], str]


def canonize(document: Mapping[str, Any], store: ContextStore) -> str:
    """The plain (reference) path: safe JSON-LD to RDF (pyld + our checks), then RDFC-1.0."""
    return canonicalize(to_dataset(document, store))


class ChecksSafety(Protocol):
    """A canonicalizer that can also give the JSON-LD safe-mode verdict alone, cheaper (as
    ``keys.fastpath.FastCanonicalizer`` does); :func:`check_jsonld_safe` uses it when present."""

    def check_safe(self, document: Mapping[str, Any], store: ContextStore) -> None: ...


#: The product's canonicalizer: compiled shapes, byte-identical to :func:`canonize`
#: (``keys.fastpath``). Pass ``canonize`` to run the plain path instead.
FAST: Canonicalizer = default_canonicalizer()


def check_jsonld_safe(
    document: Mapping[str, Any], store: ContextStore, canonicalizer: Canonicalizer = FAST
) -> None:
    """JSON-LD safe mode on ``document`` without a canonical form (vc+jwt, the verifier's
    context check), through ``canonicalizer`` when it knows the verdict cheaper.

    :raises JsonLdError, ContextNotAllowed: as ``contexts.to_dataset``.
    """
    # getattr, not isinstance on the runtime Protocol: that costs more than the check itself.
    check = getattr(canonicalizer, "check_safe", None)
    if callable(check):
        check(document, store)
    else:
        to_dataset(document, store)


@dataclass(frozen=True)
class RdfcCryptosuite:
    """One RDF Data Integrity cryptosuite: which keys it takes and how it hashes."""

    name: str
    key_types: frozenset[KeyType]

    def hash_name(self, key_type: KeyType) -> str:
        return key_type.hash_name

    def check_key(self, key_type: KeyType) -> None:
        if key_type not in self.key_types:
            allowed = ", ".join(sorted(k.value for k in self.key_types))
            raise ProofError(
                f"{self.name} takes {allowed} keys, not {key_type.value}",
                code=ErrorCode.MALFORMED_PROOF,
            )


@dataclass(frozen=True)
class ProofOptions:
    """What the caller chooses about a new proof (Data Integrity §2.1)."""

    created: datetime | None
    verification_method: str | None = None
    proof_purpose: str = ASSERTION_METHOD
    expires: datetime | None = None
    domain: str | None = None
    challenge: str | None = None


def proof_configuration(
    suite: RdfcCryptosuite, options: ProofOptions, verification_method: str
) -> dict[str, Any]:
    config: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": suite.name}
    if options.created is not None:
        config["created"] = format_datetime_stamp(options.created)
    if options.expires is not None:
        config["expires"] = format_datetime_stamp(options.expires)
    config["verificationMethod"] = verification_method
    config["proofPurpose"] = options.proof_purpose
    if options.domain is not None:
        config["domain"] = options.domain
    if options.challenge is not None:
        config["challenge"] = options.challenge
    return config


def hash_data(
    suite: RdfcCryptosuite,
    key_type: KeyType,
    unsecured: Mapping[str, Any],
    config: Mapping[str, Any],
    store: ContextStore,
    canonicalizer: Canonicalizer = FAST,
) -> bytes:
    """hashData = H(canonical proof configuration) || H(canonical document) (VC-DI-EdDSA §3.3.4)."""
    config_with_context = dict(config)
    config_with_context["@context"] = unsecured.get("@context")
    canonical_config = canonicalizer(config_with_context, store)
    canonical_document = canonicalizer(unsecured, store)
    h = suite.hash_name(key_type)
    return (
        hashlib.new(h, canonical_config.encode("utf-8")).digest()
        + hashlib.new(h, canonical_document.encode("utf-8")).digest()
    )


def create_proof(
    suite: RdfcCryptosuite,
    document: Mapping[str, Any],
    signer: Signer,
    options: ProofOptions,
    store: ContextStore,
    canonicalizer: Canonicalizer = FAST,
) -> dict[str, Any]:
    """Return a copy of ``document`` with one more proof (VC-DI-EdDSA §3.3.1 "Create Proof").

    An existing proof is kept: the new one joins it as a proof set.
    :raises ProofError: the key does not fit the suite.
    :raises JsonLdError, ContextNotAllowed, CanonicalizationLimit: the document is unsafe.
    """
    suite.check_key(signer.public_key.key_type)
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = proof_configuration(suite, options, options.verification_method or signer.key_id)
    data = hash_data(suite, signer.public_key.key_type, unsecured, config, store, canonicalizer)
    proof = dict(config)
    proof["proofValue"] = "z" + b58encode(signer.sign(data))
    secured = dict(document)
    existing = document.get("proof")
    if existing is None:
        secured["proof"] = proof
    else:
        secured["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return secured


@dataclass(frozen=True)
class ProofCheck:
    """The outcome of checking one proof; ``controller`` is the verification method's."""

    verification_method: str
    controller: str
    public_key: PublicKey


def _require_str(proof: Mapping[str, Any], name: str) -> str:
    value = proof.get(name)
    if not isinstance(value, str) or not value:
        raise ProofError(f"proof.{name} must be a non-empty string", code=ErrorCode.MALFORMED_PROOF)
    return value


def decode_proof_value(value: str, expected_length: int) -> bytes:
    """proofValue is multibase base58btc ('z'), holding exactly one raw signature."""
    if not value.startswith("z"):
        raise ProofError(
            "proofValue must be multibase base58btc (start with 'z')",
            code=ErrorCode.MALFORMED_PROOF,
        )
    try:
        raw = b58decode(value[1:])
    except ValueError as cause:
        raise ProofError(
            "proofValue is not valid base58btc", code=ErrorCode.MALFORMED_PROOF
        ) from cause
    if len(raw) != expected_length:
        raise ProofError(
            f"proofValue holds {len(raw)} bytes, the key's signature has {expected_length}",
            code=ErrorCode.SIGNATURE_INVALID,
        )
    return raw


def verify_proof(
    suite: RdfcCryptosuite,
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    *,
    resolver: DidResolver,
    store: ContextStore,
    now: datetime,
    expected_purpose: str = ASSERTION_METHOD,
    domain: str | None = None,
    challenge: str | None = None,
    canonicalizer: Canonicalizer = FAST,
) -> ProofCheck:
    """Verify one proof of ``document`` (VC-DI-EdDSA §3.3.2 "Verify Proof").

    :raises ProofError: with code ``malformed_proof``, ``signature_invalid``, ``proof_expired``,
        ``proof_purpose_mismatch``, ``invalid_domain`` or ``invalid_challenge``.
    :raises DidError: the verification method cannot be resolved under the purpose.
    """

    if proof.get("type") != PROOF_TYPE:
        raise ProofError("proof.type must be DataIntegrityProof", code=ErrorCode.MALFORMED_PROOF)
    vm_id = _require_str(proof, "verificationMethod")
    purpose = _require_str(proof, "proofPurpose")
    proof_value = _require_str(proof, "proofValue")
    if purpose != expected_purpose:
        raise ProofError(
            f"proofPurpose is {purpose!r}, expected {expected_purpose!r}",
            code=ErrorCode.PROOF_PURPOSE_MISMATCH,
        )
    for name in ("created", "expires"):
        if name in proof:
            when = proof[name]
            try:
                parsed = parse_datetime_stamp(when) if isinstance(when, str) else None
            except CertvcError:
                parsed = None
            if parsed is None:
                raise ProofError(
                    f"proof.{name} must be an XML Schema dateTimeStamp",
                    code=ErrorCode.MALFORMED_PROOF,
                )
            if name == "expires" and parsed < now:
                raise ProofError(f"the proof expired at {when}", code=ErrorCode.PROOF_EXPIRED)
    if domain is not None and proof.get("domain") != domain:
        raise ProofError("proof.domain does not match", code=ErrorCode.INVALID_DOMAIN)
    if challenge is not None and proof.get("challenge") != challenge:
        raise ProofError("proof.challenge does not match", code=ErrorCode.INVALID_CHALLENGE)

    did = vm_id.split("#", 1)[0]
    public_key, controller = find_verification_method(
        resolver.resolve(did), vm_id, expected_purpose
    )
    suite.check_key(public_key.key_type)
    signature = decode_proof_value(proof_value, public_key.key_type.signature_length)

    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config:
        # Data Integrity §4.3 step 4: the proof's own @context must prefix the document's.
        proof_ctx = config.pop("@context")
        doc_ctx = unsecured.get("@context")
        pc = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
        dc = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if dc[: len(pc)] != pc:
            raise ProofError(
                "proof @context does not match the document's", code=ErrorCode.MALFORMED_PROOF
            )
    data = hash_data(suite, public_key.key_type, unsecured, config, store, canonicalizer)
    if not public_key.verify(signature, data):
        raise ProofError(
            "the signature does not match the document", code=ErrorCode.SIGNATURE_INVALID
        )
    return ProofCheck(verification_method=vm_id, controller=controller, public_key=public_key)
