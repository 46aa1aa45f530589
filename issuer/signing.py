"""Signing with the verifier's own rules: we never sign what our verifier would reject.

The issuer service and the CLI both sign through :func:`sign_credential`: the shape rules in
issue mode (STYLE §8) and JSON-LD safe mode run first, whatever the suite.
:func:`sign_presentation` secures a presentation with the holder's key (``certvc sign
--presentation``): a Data Integrity proof with purpose ``authentication``, or a vp+jwt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from contexts.compiled import read_shape
from contexts.errors import ShapeError
from contexts.loader import ContextStore
from contexts.urls import CREDENTIALS_V2
from keys.errors import KeyCode, ProofError
from keys.keypair import Signer
from keys.suites import (
    REGISTRY,
    Canonicalizer,
    ProofOptions,
    SuiteKind,
    check_jsonld_safe,
    get_suite,
    secure,
    vc_jwt,
)
from verifier.model.shape import Mode, validate_credential_shape

#: VC Data Model 1.1's context: its credentials are signed with Data Integrity only.
CREDENTIALS_V1 = "https://www.w3.org/2018/credentials/v1"
#: Defines DataIntegrityProof for documents whose context does not (VC 1.1): added when
#: missing, as the reference implementation does (jsonld-signatures ``addSuiteContext``).
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
AUTHENTICATION = "authentication"
VERIFIABLE_PRESENTATION = "VerifiablePresentation"


def _contexts(document: Mapping[str, Any]) -> list[Any]:
    value = document.get("@context")
    return list(value) if isinstance(value, list) else [value]


def _with_suite_context(document: dict[str, Any]) -> dict[str, Any]:
    """A VC 1.1 document gets the Data Integrity context at the end of its ``@context`` when it
    lacks one (Data Integrity 1.0 §2.1: the proof's terms must be defined by the document's
    contexts; the v2 credentials context defines them, the 1.1 one does not)."""
    contexts = _contexts(document)
    if contexts[:1] == [CREDENTIALS_V1] and DATA_INTEGRITY_V2 not in contexts:
        document["@context"] = [*contexts, DATA_INTEGRITY_V2]
    return document


def _refuse_v1_jwt(document: Mapping[str, Any]) -> None:
    """VC-JOSE-COSE §3.1.1 secures VC Data Model 2.0 documents only (its ``vc``-claim 1.1 form
    is another format, which certvc neither writes nor reads)."""
    if _contexts(document)[:1] == [CREDENTIALS_V1]:
        raise ShapeError(
            "vc+jwt secures VC Data Model 2.0 only (VC-JOSE-COSE §3.1.1): sign a VC 1.1 "
            "document with eddsa-rdfc-2022 or ecdsa-rdfc-2019",
            path="/@context",
        )


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
    and the plain pyld path give the same output. A VC 1.1 credential is signed with a Data
    Integrity suite (its rules are the model's), never as vc+jwt.

    :raises ShapeError: the credential breaks a shape rule (VC 2.0 or 1.1), or names a pinned
        context as a related resource with another digest (VC 2.0 §5.3).
    :raises JsonLdError, ContextNotAllowed: it is not JSON-LD safe.
    :raises ProofError: the suite is unknown or does not take the key.
    """
    document = dict(credential)
    if "issuer" not in document:
        document["issuer"] = (options.verification_method or signer.key_id).split("#", 1)[0]
    if REGISTRY.get(suite) is not None and REGISTRY[suite].kind is SuiteKind.JOSE:
        _refuse_v1_jwt(document)
        # One walk for both checks: a shape read_shape accepts holds no number, so the shape
        # rules need not walk the credential again looking for tiny ones.
        shape = read_shape(document)
        validate_credential_shape(
            document, Mode.ISSUE, without_numbers=shape is not None, store=store
        )
        check_jsonld_safe(document, store, canonicalizer, shape=shape)
    else:
        # Data Integrity suites check JSON-LD safety while canonicalizing.
        document = _with_suite_context(document)
        validate_credential_shape(document, Mode.ISSUE, store=store)
    return secure(
        document, signer, suite, store=store, options=options, canonicalizer=canonicalizer
    )


def _is_url(value: object) -> bool:
    return isinstance(value, str) and ":" in value and not value.startswith(":")


def check_presentation(presentation: Mapping[str, Any]) -> None:
    """The VC Data Model 2.0 §4.13 rules a presentation must meet before its holder signs it.

    ``verifiableCredential`` MAY be absent; where present, each item is a secured credential
    object or an ``EnvelopedVerifiableCredential`` (§4.13.1), never a JSON string.

    :raises ShapeError: ``credential_malformed`` with the JSON Pointer of the culprit.
    """
    contexts = _contexts(presentation)
    if contexts[:1] not in ([CREDENTIALS_V2], [CREDENTIALS_V1]):
        raise ShapeError(f"@context must start with {CREDENTIALS_V2}", path="/@context")
    kinds = presentation.get("type")
    if VERIFIABLE_PRESENTATION not in (kinds if isinstance(kinds, list) else [kinds]):
        raise ShapeError(f"type must include {VERIFIABLE_PRESENTATION}", path="/type")
    if "id" in presentation and not _is_url(presentation["id"]):
        raise ShapeError("id must be a URL", path="/id")
    holder = presentation.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if "holder" in presentation and not _is_url(holder_id):
        raise ShapeError("holder must be a URL or an object whose id is a URL", path="/holder")
    if "verifiableCredential" not in presentation:
        return
    items = presentation["verifiableCredential"]
    for position, item in enumerate(items if isinstance(items, list) else [items]):
        where = f"/verifiableCredential/{position}" if isinstance(items, list) else ""
        if not isinstance(item, Mapping):
            raise ShapeError(
                "each credential must be an object (a secured credential or an "
                "EnvelopedVerifiableCredential), not a string",
                path=where or "/verifiableCredential",
            )
        if vc_jwt.is_envelope(item):
            vc_jwt.unenvelope(item)
        elif "proof" not in item:
            raise ShapeError(
                "a presented credential must be secured (a proof or an envelope)",
                path=where or "/verifiableCredential",
            )


def sign_presentation(
    presentation: Mapping[str, Any],
    signer: Signer,
    suite: str,
    *,
    store: ContextStore,
    options: ProofOptions,
    canonicalizer: Canonicalizer,
) -> dict[str, Any] | str:
    """Secure ``presentation`` with the holder's key: a Data Integrity proof with purpose
    ``authentication`` carrying ``options.challenge`` / ``options.domain`` (VC-DI 1.0 §2.1,
    §4.2), or a vp+jwt whose ``nonce`` / ``aud`` claims carry them (VC-JOSE-COSE §3.2.1).

    A missing ``holder`` becomes the signer's controller: the verifier checks they agree.

    :raises ShapeError: not a presentation (:func:`check_presentation`).
    :raises JsonLdError, ContextNotAllowed: it is not JSON-LD safe.
    :raises ProofError: the suite is unknown or does not take the key.
    """
    check_presentation(presentation)
    document = dict(presentation)
    if "holder" not in document:
        document["holder"] = (options.verification_method or signer.key_id).split("#", 1)[0]
    definition = get_suite(suite)
    if definition.kind is SuiteKind.JOSE:
        if _contexts(document)[:1] == [CREDENTIALS_V1]:
            raise ShapeError("vp+jwt secures VC Data Model 2.0 only", path="/@context")
        check_jsonld_safe(document, store, canonicalizer)
        if signer.public_key.key_type not in definition.key_types:
            raise ProofError(
                f"vc+jwt cannot sign with a {signer.public_key.key_type.value} key",
                code=KeyCode.KEY_UNSUPPORTED,
            )
        claims = dict(document)
        if options.challenge is not None:
            claims["nonce"] = options.challenge
        if options.domain is not None:
            claims["aud"] = options.domain
        return vc_jwt.sign(claims, signer, key_id=options.verification_method, typ=vc_jwt.VP_TYP)
    document = _with_suite_context(document)
    purpose = replace(options, proof_purpose=AUTHENTICATION)
    return secure(
        document, signer, suite, store=store, options=purpose, canonicalizer=canonicalizer
    )
