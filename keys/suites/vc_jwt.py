"""VC-JOSE-COSE ``application/vc+jwt``: a compact JWS whose payload is the credential itself.

Signing assembles the compact JWS around a :class:`Signer` (so an HSM or KMS key signs the same
way as a file key); verification checks the signature with jwcrypto's algorithm layer
(``jwa.JWA``) under an explicit one-algorithm allow-list taken from the key, never from the
token: that closes ``none``, HMAC-with-a-public-key and algorithm-confusion attacks
(VC-JOSE-COSE §3.1.1, RFC 8725 §3.1). Every header rule is checked here first, so jwcrypto's
``JWS`` object is not needed: it deep-copies its header registry on every token, a third of a
verification. The signature covers the token's first two parts exactly as received (RFC 7515
§5.2).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from jwcrypto import jwa, jwk

from contexts.errors import CertvcError, ErrorCode
from contexts.urls import CREDENTIALS_V2
from keys.compact_json import compact_json
from keys.dates import parse_datetime_stamp
from keys.did import DidResolver, find_verification_method
from keys.jwk import encode_public_jwk
from keys.keypair import KeyType, PublicKey, Signer

from ..errors import KeyCode, ProofError

NAME = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"
TYP = "vc+jwt"
#: A presentation secured the same way (VC-JOSE-COSE §3.2.1): signed by the holder's key.
VP_MEDIA_TYPE = "application/vp+jwt"
VP_TYP = "vp+jwt"
#: VC Data Model 2.0 §4.13.1 / §4.13.2: a JOSE-secured credential or presentation carried in a
#: JSON-LD object whose ``id`` is a ``data:`` URL of the token.
ENVELOPED_CREDENTIAL = "EnvelopedVerifiableCredential"
ENVELOPED_PRESENTATION = "EnvelopedVerifiablePresentation"
#: The JOSE algorithms certvc accepts, each tied to the one key type that may use it.
ALLOWED_ALGORITHMS: Mapping[str, KeyType] = {
    "EdDSA": KeyType.ED25519,
    "Ed25519": KeyType.ED25519,  # fully-specified name (RFC 9864)
    "ES256": KeyType.P256,
    "ES384": KeyType.P384,
    "ES512": KeyType.P521,  # P-521 with SHA-512 (RFC 7518 §3.4)
}
MAX_TOKEN_LENGTH = 1024 * 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(part: str) -> bytes:
    """Strict base64url (RFC 7515 §2): no padding, and only the canonical encoding, so one
    token has one spelling (a changed unused bit would be another token, same signature)."""
    if _BASE64URL.fullmatch(part) is None or len(part) % 4 == 1:
        raise ProofError("JWS part is not base64url", code=KeyCode.JWT_MALFORMED)
    data = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    if _b64(data) != part:
        raise ProofError("JWS part is not canonical base64url", code=KeyCode.JWT_MALFORMED)
    return data


@functools.lru_cache(maxsize=64)
def _encoded_header(alg: str, kid: str, typ: str = TYP) -> bytes:
    """The protected header, encoded once per signing key (bounded: keys are few)."""
    header = {"alg": alg, "kid": kid, "typ": typ, "cty": "vc" if typ == TYP else "vp"}
    return _b64(json.dumps(header, separators=(",", ":")).encode("ascii")).encode("ascii")


def sign(
    credential: Mapping[str, Any],
    signer: Signer,
    *,
    key_id: str | None = None,
    typ: str = TYP,
) -> str:
    """Return the compact JWS of ``credential`` (VC-JOSE-COSE §3.1.1), or with ``typ``
    :data:`VP_TYP` of a presentation (§3.2.1; the holder's key signs it).

    :raises InputError: the credential holds a lone surrogate (no UTF-8 form, nothing to sign),
        NaN or an infinity (not JSON).
    """
    if typ not in (TYP, VP_TYP):
        raise ValueError(f"typ must be {TYP} or {VP_TYP}")
    payload = base64.urlsafe_b64encode(compact_json(credential)).rstrip(b"=")
    signing_input = _encoded_header(signer.algorithm, key_id or signer.key_id, typ) + b"." + payload
    signature = base64.urlsafe_b64encode(signer.sign(signing_input)).rstrip(b"=")
    return (signing_input + b"." + signature).decode("ascii")


@dataclass(frozen=True)
class UnverifiedJwt:
    """A parsed but unchecked token: nothing in it is trusted yet."""

    token: str
    header: Mapping[str, Any]
    unverified_payload: Mapping[str, Any]


def looks_like_jwt(text: str) -> bool:
    parts = text.strip().split(".")
    return len(parts) == 3 and all(parts[:2]) and text.strip()[:2] == "ey"


def parse(token: str) -> UnverifiedJwt:
    """Split and decode a compact JWS without checking it (the header is checked by verify).

    :raises ProofError: ``jwt_malformed``.
    """
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH:
        raise ProofError("the token is too large", code=ErrorCode.INPUT_TOO_LARGE)
    parts = token.split(".")
    if len(parts) != 3:
        raise ProofError("a vc+jwt is a compact JWS with three parts", code=KeyCode.JWT_MALFORMED)
    try:
        header = json.loads(_unb64(parts[0]))
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError) as cause:
        raise ProofError(
            "the JWS header or payload is not JSON", code=KeyCode.JWT_MALFORMED
        ) from cause
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ProofError("JWS header and payload must be objects", code=KeyCode.JWT_MALFORMED)
    if "vc" in payload and "@context" not in payload:
        raise ProofError(
            "the payload wraps the credential in 'vc' (VC-JWT 1.1); vc+jwt carries it directly",
            code=KeyCode.JWT_MALFORMED,
        )
    return UnverifiedJwt(token=token, header=header, unverified_payload=payload)


def _check_claims(payload: Mapping[str, Any]) -> None:
    """Registered claims, where present, must agree with the credential (policy)."""

    def issuer_id() -> object:
        issuer = payload.get("issuer")
        return issuer.get("id") if isinstance(issuer, dict) else issuer

    def subject_id() -> object:
        subject = payload.get("credentialSubject")
        return subject.get("id") if isinstance(subject, dict) else None

    def epoch(name: str) -> object:
        value = payload.get(name)
        try:
            return int(parse_datetime_stamp(value).timestamp()) if isinstance(value, str) else None
        except CertvcError:
            return None

    pairs = {"iss": issuer_id, "jti": lambda: payload.get("id"), "sub": subject_id}
    for claim, getter in pairs.items():
        if claim in payload and payload[claim] != getter():
            raise ProofError(
                f"JWT claim {claim} disagrees with the credential",
                code=KeyCode.JWT_CLAIM_MISMATCH,
            )
    for claim, name in (("nbf", "validFrom"), ("exp", "validUntil")):
        if claim in payload and payload[claim] != epoch(name):
            raise ProofError(
                f"JWT claim {claim} disagrees with {name}", code=KeyCode.JWT_CLAIM_MISMATCH
            )


@functools.lru_cache(maxsize=256)
def _jwk(key_type: KeyType, raw: bytes) -> jwk.JWK:
    """jwcrypto's form of a resolved public key, made once per key (bounded: issuers are few)."""
    return jwk.JWK(**encode_public_jwk(key_type, raw))


@dataclass(frozen=True)
class JwtCheck:
    verification_method: str
    controller: str
    public_key: PublicKey
    credential: Mapping[str, Any]


def verify(token: UnverifiedJwt, *, resolver: DidResolver, now: datetime) -> JwtCheck:
    """Check the signature of a parsed vc+jwt with the key its ``kid`` names, which must be
    an ``assertionMethod`` of its controller.

    :raises ProofError: ``signature_invalid``, ``jwt_malformed``, ``jwt_alg_not_allowed``,
        ``jwt_claim_mismatch``.
    :raises DidError: the key cannot be resolved as an assertion method.
    """
    del now  # validity dates are the verifier's validity check, not the proof's
    kid, public_key, controller = _verify_signature(token, resolver, TYP, "assertionMethod")
    _check_claims(token.unverified_payload)
    return JwtCheck(
        verification_method=kid,
        controller=controller,
        public_key=public_key,
        credential=token.unverified_payload,
    )


def verify_presentation(
    token: UnverifiedJwt,
    *,
    resolver: DidResolver,
    challenge: str | None = None,
    domain: str | None = None,
) -> JwtCheck:
    """Check a vp+jwt (VC-JOSE-COSE §3.2.1): the holder's key, listed for ``authentication``
    (Data Integrity's purpose for presentations, applied to JOSE: **policy**).

    The verifier's ``challenge`` and ``domain`` are the JWT claims ``nonce`` and ``aud``
    (**policy**, as OpenID4VP binds a vp+jwt): each must be present and equal when asked for.
    ``iss``, where present, must be the presentation's ``holder``.

    :raises ProofError: as :func:`verify`, and ``invalid_challenge`` / ``invalid_domain``.
    :raises DidError: the key cannot be resolved for authentication.
    """
    kid, public_key, controller = _verify_signature(token, resolver, VP_TYP, "authentication")
    payload = token.unverified_payload
    if challenge is not None and payload.get("nonce") != challenge:
        raise ProofError("the vp+jwt nonce is not the challenge", code=KeyCode.INVALID_CHALLENGE)
    if domain is not None:
        audience = payload.get("aud")
        if audience != domain and not (isinstance(audience, list) and domain in audience):
            raise ProofError("the vp+jwt aud is not the domain", code=KeyCode.INVALID_DOMAIN)
    holder = payload.get("holder")
    holder_id = holder.get("id") if isinstance(holder, Mapping) else holder
    if "iss" in payload and payload["iss"] != holder_id:
        raise ProofError("JWT claim iss disagrees with the holder", code=KeyCode.JWT_CLAIM_MISMATCH)
    return JwtCheck(
        verification_method=kid, controller=controller, public_key=public_key, credential=payload
    )


def _verify_signature(
    token: UnverifiedJwt, resolver: DidResolver, typ: str, relationship: str
) -> tuple[str, PublicKey, str]:
    """The header rules and the signature: ``(kid, key, controller)`` of a good token."""
    header = token.header
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        raise ProofError(
            f"JWS algorithm {alg!r} is not allowed (allowed: {', '.join(ALLOWED_ALGORITHMS)})",
            code=KeyCode.JWT_ALG_NOT_ALLOWED,
        )
    if "crit" in header or header.get("b64", True) is not True:
        raise ProofError(
            "critical JWS header extensions (and unencoded payloads) are not supported",
            code=KeyCode.JWT_MALFORMED,
        )
    if header.get("typ") not in (typ, f"application/{typ}"):
        raise ProofError(f"JWS typ must be {typ!r}", code=KeyCode.JWT_MALFORMED)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ProofError("JWS header needs a kid naming the key", code=KeyCode.JWT_MALFORMED)
    public_key, controller = find_verification_method(
        resolver.resolve(kid.split("#", 1)[0]), kid, relationship
    )
    if ALLOWED_ALGORITHMS[alg] is not public_key.key_type:
        raise ProofError(
            f"algorithm {alg} does not fit the {public_key.key_type.value} key {kid}",
            code=KeyCode.JWT_ALG_NOT_ALLOWED,
        )
    signing_input, _, encoded_signature = token.token.rpartition(".")
    signature = _unb64(encoded_signature)
    if len(signature) != public_key.key_type.signature_length:  # RFC 7518 §3.4: exactly r||s
        raise ProofError(
            f"a {alg} signature is {public_key.key_type.signature_length} bytes",
            code=KeyCode.SIGNATURE_INVALID,
        )
    try:
        # alg is in ALLOWED_ALGORITHMS and fits the resolved key's type (both checked above).
        jwa.JWA.signing_alg(alg).verify(
            _jwk(public_key.key_type, public_key.raw), signing_input.encode("ascii"), signature
        )
    except Exception as cause:
        raise ProofError(
            "the JWS signature does not verify", code=KeyCode.SIGNATURE_INVALID
        ) from cause
    return kid, public_key, controller


def envelope(token: str, *, presentation: bool = False) -> dict[str, Any]:
    """The enveloped form of a compact JWS (VC Data Model 2.0 §4.13.1, §4.13.2): an
    ``EnvelopedVerifiableCredential`` (or ``...Presentation``) whose ``id`` is the
    ``data:application/vc+jwt,<JWS>`` URL (RFC 2397; a JWS needs no percent-encoding)."""
    media_type = VP_MEDIA_TYPE if presentation else MEDIA_TYPE
    kind = ENVELOPED_PRESENTATION if presentation else ENVELOPED_CREDENTIAL
    return {"@context": [CREDENTIALS_V2], "type": kind, "id": f"data:{media_type},{token}"}


def is_envelope(value: object) -> bool:
    """True when ``value`` says it is an enveloped credential or presentation (its ``type``)."""
    if not isinstance(value, Mapping):
        return False
    kinds = value.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return ENVELOPED_CREDENTIAL in kinds or ENVELOPED_PRESENTATION in kinds


def unenvelope(value: Mapping[str, Any], *, presentation: bool = False) -> str:
    """The compact JWS inside an enveloped credential (or presentation).

    VC Data Model 2.0 §4.13.1: ``@context`` (with the v2 context first), ``type`` naming the
    envelope and ``id``, a ``data:`` URL of the media type; the token is not checked here.

    :raises ProofError: ``jwt_malformed`` naming what is wrong.
    """
    kind = ENVELOPED_PRESENTATION if presentation else ENVELOPED_CREDENTIAL
    media_type = VP_MEDIA_TYPE if presentation else MEDIA_TYPE
    contexts = value.get("@context")
    contexts = contexts if isinstance(contexts, list) else [contexts]
    if not contexts or contexts[0] != CREDENTIALS_V2:
        raise ProofError(
            f"an {kind} needs @context starting with {CREDENTIALS_V2}", code=KeyCode.JWT_MALFORMED
        )
    kinds = value.get("type")
    if kind not in (kinds if isinstance(kinds, list) else [kinds]):
        raise ProofError(f"the envelope's type must be {kind}", code=KeyCode.JWT_MALFORMED)
    url = value.get("id")
    prefix = f"data:{media_type},"
    if not isinstance(url, str) or not url.startswith(prefix):
        raise ProofError(f"an {kind}'s id must be a {prefix}<JWS> URL", code=KeyCode.JWT_MALFORMED)
    return unquote(url[len(prefix) :])
