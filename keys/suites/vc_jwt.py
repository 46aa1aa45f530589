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

from jwcrypto import jwa, jwk

from contexts.errors import CertvcError, ErrorCode
from keys.compact_json import compact_json
from keys.dates import parse_datetime_stamp
from keys.did import DidResolver, find_verification_method
from keys.jwk import encode_public_jwk
from keys.keypair import KeyType, PublicKey, Signer

from ..errors import KeyCode, ProofError

NAME = "vc+jwt"
MEDIA_TYPE = "application/vc+jwt"
TYP = "vc+jwt"
#: The JOSE algorithms certvc accepts, each tied to the one key type that may use it.
ALLOWED_ALGORITHMS: Mapping[str, KeyType] = {
    "EdDSA": KeyType.ED25519,
    "Ed25519": KeyType.ED25519,  # fully-specified name (RFC 9864)
    "ES256": KeyType.P256,
    "ES384": KeyType.P384,
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
def _encoded_header(alg: str, kid: str) -> bytes:
    """The protected header, encoded once per signing key (bounded: keys are few)."""
    header = {"alg": alg, "kid": kid, "typ": TYP, "cty": "vc"}
    return _b64(json.dumps(header, separators=(",", ":")).encode("ascii")).encode("ascii")


def sign(credential: Mapping[str, Any], signer: Signer, *, key_id: str | None = None) -> str:
    """Return the compact JWS of ``credential`` (VC-JOSE-COSE §3.1.1).

    :raises InputError: the credential holds a lone surrogate (no UTF-8 form, nothing to sign),
        NaN or an infinity (not JSON).
    """
    payload = base64.urlsafe_b64encode(compact_json(credential)).rstrip(b"=")
    signing_input = _encoded_header(signer.algorithm, key_id or signer.key_id) + b"." + payload
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
    """Check the signature of a parsed token with the key its ``kid`` names.

    :raises ProofError: ``signature_invalid``, ``jwt_malformed``, ``jwt_alg_not_allowed``,
        ``jwt_claim_mismatch``.
    :raises DidError: the key cannot be resolved as an assertion method.
    """
    del now  # validity dates are the verifier's validity check, not the proof's
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
    if header.get("typ") not in (TYP, MEDIA_TYPE):
        raise ProofError(f"JWS typ must be {TYP!r}", code=KeyCode.JWT_MALFORMED)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise ProofError("JWS header needs a kid naming the key", code=KeyCode.JWT_MALFORMED)
    public_key, controller = find_verification_method(
        resolver.resolve(kid.split("#", 1)[0]), kid, "assertionMethod"
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
    _check_claims(token.unverified_payload)
    return JwtCheck(
        verification_method=kid,
        controller=controller,
        public_key=public_key,
        credential=token.unverified_payload,
    )
