"""Data Integrity proofs over RDFC-1.0 canonical N-Quads (VC-DI-EdDSA §3.3, VC-DI-ECDSA §3.3).

Both RDF cryptosuites share every step but the key type and the hash, so the steps live here once
and each suite module is a small frozen description (like Digital Bazaar's cryptosuite objects).

Proof sets and proof chains (Data Integrity 1.0 §2.1.1, §2.1.2): a proof without
``previousProof`` covers the document without any proof; a proof with ``previousProof`` also
covers the proofs it names, which are put back into the document's ``proof`` before
canonicalizing (§4.3 "Add Proof Set/Chain", §4.5 "Verify Proof Sets and Chains").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from contexts.compiled import Shape
from contexts.errors import CertvcError, Code
from contexts.jsonld import to_dataset
from contexts.loader import ContextStore
from keys.base58btc import b58decode, b58encode
from keys.dates import format_datetime_stamp, parse_datetime_stamp
from keys.did import DidResolver, find_verification_method
from keys.fastpath import default_canonicalizer
from keys.keypair import KeyType, PublicKey, Signer
from keys.rdfc import canonicalize

from ..errors import KeyCode, ProofError

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

    def check_safe(
        self, document: Mapping[str, Any], store: ContextStore, *, shape: Shape | None = None
    ) -> None: ...


#: The fast canonicalizer: compiled shapes, byte-identical to :func:`canonize`
#: (``keys.fastpath``). No function here defaults to it: the composition roots (the app
#: factories, the CLI) choose, by name, through ``keys.suites.canonicalizer_named``.
FAST: Canonicalizer = default_canonicalizer()


def check_jsonld_safe(
    document: Mapping[str, Any],
    store: ContextStore,
    canonicalizer: Canonicalizer,
    *,
    shape: Shape | None = None,
) -> None:
    """JSON-LD safe mode on ``document`` without a canonical form (vc+jwt, the verifier's
    context check), through ``canonicalizer`` when it knows the verdict cheaper. ``shape``:
    ``contexts.compiled.read_shape(document)`` when the caller has read it already.

    :raises JsonLdError, ContextNotAllowed: as ``contexts.to_dataset``.
    """
    # getattr, not isinstance on the runtime Protocol: that costs more than the check itself.
    check = getattr(canonicalizer, "check_safe", None)
    if callable(check):
        check(document, store, shape=shape)
    else:
        to_dataset(document, store)


@dataclass(frozen=True)
class RdfcCryptosuite:
    """One RDF Data Integrity cryptosuite: which keys it takes and how it hashes.

    ``proof_type`` is the proof's ``type``: ``DataIntegrityProof`` for the Data Integrity 1.0
    suites (named by ``cryptosuite``), or the suite's own type for a legacy Linked Data
    Signature suite such as ``Ed25519Signature2020``, whose proofs are made the same way
    (jsonld-signatures ``LinkedDataSignature``: hashes of the canonical proof options and
    document) but know no ``cryptosuite`` and no ``previousProof``. ``verify_only`` suites are
    never used to sign (``keys.suites.secure`` and :func:`create_proof` refuse them).
    """

    name: str
    key_types: frozenset[KeyType]
    proof_type: str = PROOF_TYPE
    verify_only: bool = False

    @property
    def chains(self) -> bool:
        """Whether ``previousProof`` is part of the proof (Data Integrity §2.1.2 only)."""
        return self.proof_type == PROOF_TYPE

    def hash_name(self, key_type: KeyType) -> str:
        return key_type.hash_name

    def check_key(self, key_type: KeyType) -> None:
        if key_type not in self.key_types:
            allowed = ", ".join(sorted(k.value for k in self.key_types))
            raise ProofError(
                f"{self.name} takes {allowed} keys, not {key_type.value}",
                code=KeyCode.MALFORMED_PROOF,
            )


@dataclass(frozen=True)
class ProofOptions:
    """What the caller chooses about a new proof (Data Integrity §2.1).

    ``id`` names the new proof (a URL such as ``urn:uuid:...``) so a later proof can chain to
    it; ``previous_proof`` names the proofs already in the document that the new one chains to
    (one id, or several), which it then covers too (§2.1.2, §4.3).
    """

    created: datetime | None
    verification_method: str | None = None
    proof_purpose: str = ASSERTION_METHOD
    expires: datetime | None = None
    domain: str | None = None
    challenge: str | None = None
    id: str | None = None
    previous_proof: str | Sequence[str] | None = None


def _proof_ids(ids: tuple[object, ...], what: str, code: Code) -> tuple[str, ...]:
    """``ids`` when it is one or more non-empty strings (Data Integrity §2.1 previousProof)."""
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise ProofError(f"{what} must be a proof id or a non-empty list of proof ids", code=code)
    return ids  # type: ignore[return-value]


def _requested_previous(value: str | Sequence[str]) -> tuple[str, ...]:
    """The ids of ``ProofOptions.previous_proof``: one string, or a non-empty list of them."""
    ids = (value,) if isinstance(value, str) else tuple(value)
    return _proof_ids(ids, "previous_proof", KeyCode.PROOF_GENERATION)


def proof_configuration(
    suite: RdfcCryptosuite, options: ProofOptions, verification_method: str
) -> dict[str, Any]:
    config: dict[str, Any] = {"type": suite.proof_type}
    if options.id is not None:
        config["id"] = options.id
    if suite.proof_type == PROOF_TYPE:
        config["cryptosuite"] = suite.name
    if options.created is not None:
        config["created"] = format_datetime_stamp(options.created)
    if options.expires is not None:
        config["expires"] = format_datetime_stamp(options.expires)
    config["verificationMethod"] = verification_method
    config["proofPurpose"] = options.proof_purpose
    if options.previous_proof is not None:
        ids = _requested_previous(options.previous_proof)
        config["previousProof"] = (
            options.previous_proof if isinstance(options.previous_proof, str) else list(ids)
        )
    if options.domain is not None:
        config["domain"] = options.domain
    if options.challenge is not None:
        config["challenge"] = options.challenge
    return config


def hash_data(
    suite: RdfcCryptosuite,
    key_type: KeyType,
    document: Mapping[str, Any],
    config: Mapping[str, Any],
    store: ContextStore,
    canonicalizer: Canonicalizer,
) -> bytes:
    """hashData = H(canonical proof configuration) || H(canonical document) (VC-DI-EdDSA §3.3.4).

    ``document`` is what the proof covers: the unsecured document, plus for a chained proof the
    proofs it names under ``proof`` (:func:`proof_input_document`).
    """
    config_with_context = dict(config)
    config_with_context["@context"] = document.get("@context")
    h = suite.hash_name(key_type)
    if h != "sha256":
        # RDFC-1.0 is parameterized by its hash (RDF-CANON 4.2): with P-384, ecdsa-rdfc-2019
        # labels blank nodes with SHA-384 too, as the reference implementation does
        # (@digitalbazaar/ecdsa-rdfc-2019-cryptosuite, messageDigestAlgorithm). Documents
        # whose blank-node order depends on the hash differ otherwise. The fast path compiles
        # SHA-256 labelings only, so these take the plain path (P-384 proofs are rare).
        canonical_config = canonicalize(to_dataset(config_with_context, store), hash_algorithm=h)
        canonical_document = canonicalize(to_dataset(document, store), hash_algorithm=h)
    else:
        canonical_config = canonicalizer(config_with_context, store)
        canonical_document = canonicalizer(document, store)
    return (
        hashlib.new(h, canonical_config.encode("utf-8")).digest()
        + hashlib.new(h, canonical_document.encode("utf-8")).digest()
    )


def _proof_list(value: object) -> list[Any]:
    """A document's ``proof`` as a list: absent is none, one object is a set of one."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _by_id(proofs: Sequence[Any]) -> dict[str, list[Mapping[str, Any]]]:
    index: dict[str, list[Mapping[str, Any]]] = {}
    for proof in proofs:
        if isinstance(proof, Mapping) and isinstance(proof.get("id"), str):
            index.setdefault(proof["id"], []).append(proof)
    return index


def _select(
    proofs: Sequence[Any],
    index: Mapping[str, Sequence[Mapping[str, Any]]],
    ids: Sequence[str],
    code: Code,
) -> list[Mapping[str, Any]]:
    """The proofs ``ids`` name, in the set's order; each id must name exactly one proof.

    Data Integrity §4.3 step 4-5 and §4.5 step 3.2 only require a match; one id naming two
    proofs is refused too **(policy)**: which proof was covered would be a guess.
    """
    for wanted in ids:
        found = len(index.get(wanted, ()))
        if found == 0:
            raise ProofError(
                f"previousProof names {wanted!r}, but no proof in the set has that id", code=code
            )
        if found > 1:
            raise ProofError(
                f"previousProof names {wanted!r}, but {found} proofs in the set have that id",
                code=code,
            )
    chosen = {id(index[wanted][0]) for wanted in ids}
    return [p for p in proofs if id(p) in chosen]


def previous_proof_ids(proof: Mapping[str, Any]) -> tuple[str, ...]:
    """The proof ids ``proof.previousProof`` names; () for a proof that chains to none.

    :raises ProofError: ``malformed_proof``: previousProof is neither a non-empty string nor a
        non-empty list of them (Data Integrity §2.1).
    """
    if "previousProof" not in proof:
        return ()
    value = proof["previousProof"]
    ids = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list) else ()
    return _proof_ids(ids, "proof.previousProof", KeyCode.MALFORMED_PROOF)


def _refuse_cycle(
    proof: Mapping[str, Any],
    start: Sequence[Mapping[str, Any]],
    index: Mapping[str, Sequence[Mapping[str, Any]]],
) -> None:
    """A chain must lead back to proofs without previousProof, never to ``proof`` itself.

    Such a proof could never have been made (it would have had to sign its own signature), so
    it is refused by name rather than left to fail as a bad signature. Links that are broken
    further up are skipped here: the proof that holds them fails on its own.
    """
    own_id = proof.get("id")
    seen: set[int] = set()
    stack = list(start)
    while stack:
        current = stack.pop()
        if current is proof or (own_id is not None and current.get("id") == own_id):
            raise ProofError(
                f"previousProof of proof {own_id!r} leads back to it (a cycle)",
                code=KeyCode.MALFORMED_PROOF,
            )
        if id(current) in seen:
            continue
        seen.add(id(current))
        try:
            ids = previous_proof_ids(current)
        except ProofError:
            continue
        stack.extend(index[i][0] for i in ids if len(index.get(i, ())) == 1)


def proof_input_document(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """The document ``proof`` was made over (Data Integrity §4.5 steps 3.2-3.3).

    ``document`` without ``proof``; when ``proof`` has ``previousProof``, ``proof`` is set to
    the proofs of ``document`` it names. (The specification sets an empty list otherwise, which
    gives the same RDF as no ``proof`` at all.) A caller that verifies only some proofs of a set
    must verify the named ones too: a chained proof holds only if they do.

    :raises ProofError: ``malformed_proof``: previousProof is malformed, names no proof or
        several, names the proof itself, or leads back to it.
    """
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    ids = previous_proof_ids(proof)
    if not ids:
        return unsecured
    if proof.get("id") in ids:
        raise ProofError(
            f"previousProof of proof {proof['id']!r} names the proof itself",
            code=KeyCode.MALFORMED_PROOF,
        )
    proofs = _proof_list(document.get("proof"))
    index = _by_id(proofs)
    previous = _select(proofs, index, ids, KeyCode.MALFORMED_PROOF)
    _refuse_cycle(proof, previous, index)
    unsecured["proof"] = previous
    return unsecured


def create_proof(
    suite: RdfcCryptosuite,
    document: Mapping[str, Any],
    signer: Signer,
    options: ProofOptions,
    store: ContextStore,
    canonicalizer: Canonicalizer,
) -> dict[str, Any]:
    """Return a copy of ``document`` with one more proof (VC-DI-EdDSA §3.3.1 "Create Proof").

    An existing proof is kept: the new one joins it as a proof set, or, with
    ``options.previous_proof``, as a proof chain that also covers the proofs named (Data
    Integrity §4.3 "Add Proof Set/Chain").
    :raises ProofError: the key does not fit the suite; ``proof_generation``: previous_proof
        names no proof of the document or several, or the document already has a proof with
        ``options.id``.
    :raises JsonLdError, ContextNotAllowed, CanonicalizationLimit: the document is unsafe.
    """
    if suite.verify_only:
        raise ProofError(
            f"{suite.name} proofs are verified, never made", code=KeyCode.PROOF_GENERATION
        )
    suite.check_key(signer.public_key.key_type)
    existing = _proof_list(document.get("proof"))
    index = _by_id(existing)
    if options.id is not None and options.id in index:
        raise ProofError(
            f"the document already has a proof with id {options.id!r}",
            code=KeyCode.PROOF_GENERATION,
        )
    config = proof_configuration(suite, options, options.verification_method or signer.key_id)
    covered = {k: v for k, v in document.items() if k != "proof"}
    if options.previous_proof is not None:
        ids = _requested_previous(options.previous_proof)
        # §4.3 step 6: the named proofs go back into the document the new proof signs.
        covered["proof"] = _select(existing, index, ids, KeyCode.PROOF_GENERATION)
    data = hash_data(suite, signer.public_key.key_type, covered, config, store, canonicalizer)
    proof = dict(config)
    proof["proofValue"] = "z" + b58encode(signer.sign(data))
    secured = dict(document)
    secured["proof"] = proof if document.get("proof") is None else [*existing, proof]
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
        raise ProofError(f"proof.{name} must be a non-empty string", code=KeyCode.MALFORMED_PROOF)
    return value


def decode_proof_value(value: str, expected_length: int) -> bytes:
    """proofValue is multibase base58btc ('z'), holding exactly one raw signature."""
    if not value.startswith("z"):
        raise ProofError(
            "proofValue must be multibase base58btc (start with 'z')",
            code=KeyCode.MALFORMED_PROOF,
        )
    try:
        raw = b58decode(value[1:])
    except ValueError as cause:
        raise ProofError(
            "proofValue is not valid base58btc", code=KeyCode.MALFORMED_PROOF
        ) from cause
    if len(raw) != expected_length:
        raise ProofError(
            f"proofValue holds {len(raw)} bytes, the key's signature has {expected_length}",
            code=KeyCode.SIGNATURE_INVALID,
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
    canonicalizer: Canonicalizer,
) -> ProofCheck:
    """Verify one proof of ``document`` (VC-DI-EdDSA §3.3.2 "Verify Proof").

    ``document`` is the secured document with its whole proof set: a proof with
    ``previousProof`` is checked over the proofs it names as well (:func:`proof_input_document`),
    which the caller verifies in their own right.
    :raises ProofError: with code ``malformed_proof`` (also for a broken ``previousProof``),
        ``signature_invalid``, ``proof_expired``, ``proof_purpose_mismatch``, ``invalid_domain``
        or ``invalid_challenge``.
    :raises DidError: the verification method cannot be resolved under the purpose.
    """

    if proof.get("type") != suite.proof_type:
        raise ProofError(f"proof.type must be {suite.proof_type}", code=KeyCode.MALFORMED_PROOF)
    vm_id = _require_str(proof, "verificationMethod")
    purpose = _require_str(proof, "proofPurpose")
    proof_value = _require_str(proof, "proofValue")
    if purpose != expected_purpose:
        raise ProofError(
            f"proofPurpose is {purpose!r}, expected {expected_purpose!r}",
            code=KeyCode.PROOF_PURPOSE_MISMATCH,
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
                    code=KeyCode.MALFORMED_PROOF,
                )
            if name == "expires" and parsed < now:
                raise ProofError(f"the proof expired at {when}", code=KeyCode.PROOF_EXPIRED)
    if domain is not None and proof.get("domain") != domain:
        raise ProofError("proof.domain does not match", code=KeyCode.INVALID_DOMAIN)
    if challenge is not None and proof.get("challenge") != challenge:
        raise ProofError("proof.challenge does not match", code=KeyCode.INVALID_CHALLENGE)
    # Data Integrity §4.5 step 3.2: a broken chain fails before any key is looked up. A legacy
    # suite's proof covers the document without any proof (jsonld-signatures).
    if suite.chains:
        covered = proof_input_document(document, proof)
    else:
        covered = {k: v for k, v in document.items() if k != "proof"}

    did = vm_id.split("#", 1)[0]
    public_key, controller = find_verification_method(
        resolver.resolve(did), vm_id, expected_purpose
    )
    suite.check_key(public_key.key_type)
    signature = decode_proof_value(proof_value, public_key.key_type.signature_length)

    config = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in config:
        # Data Integrity §4.3 step 4: the proof's own @context must prefix the document's.
        proof_ctx = config.pop("@context")
        doc_ctx = covered.get("@context")
        pc = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
        dc = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        if dc[: len(pc)] != pc:
            raise ProofError(
                "proof @context does not match the document's", code=KeyCode.MALFORMED_PROOF
            )
    data = hash_data(suite, public_key.key_type, covered, config, store, canonicalizer)
    if not public_key.verify(signature, data):
        raise ProofError(
            "the signature does not match the document", code=KeyCode.SIGNATURE_INVALID
        )
    return ProofCheck(verification_method=vm_id, controller=controller, public_key=public_key)
