"""The wallet's key proof: a JWT of type ``openid4vci-proof+jwt`` (OpenID4VCI 1.0 App. F.1).

Checked as keys.suites.vc_jwt checks credentials: the algorithm comes from an allow-list and
must fit the key (never ``none``, HMAC or a mismatch), ``crit`` is refused, the key is named
either by ``kid`` (a did:key or did:jwk DID URL, resolved locally and required to be listed
under ``authentication``) or by a bare public ``jwk`` (then bound as its did:jwk). The claims:
``aud`` is the Credential Issuer Identifier, ``iat`` lies in the allowed window, ``nonce`` is
present (the issuer has a Nonce Endpoint; whether it is live is the service's check).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from contexts.errors import CertvcError
from keys.did import DidResolver, find_verification_method
from keys.did_jwk import did_jwk
from keys.keypair import PublicKey
from keys.suites import vc_jwt

from .errors import OAuthErrorCode, Oid4vciError
from .settings import PROOF_ALGORITHMS, PROOF_TYP

MAX_PROOF_LENGTH = 8192
_PART = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class KeyProof:
    """A verified key proof: the holder's DID, its key, and the nonce the proof carries."""

    holder_did: str
    public_key: PublicKey
    nonce: str


def _refuse(message: str) -> Oid4vciError:
    return Oid4vciError(OAuthErrorCode.INVALID_PROOF, message)


def _decode(part: str, what: str) -> Mapping[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError) as cause:
        raise _refuse(f"the proof {what} is not base64url JSON") from cause
    if not isinstance(value, dict):
        raise _refuse(f"the proof {what} is not a JSON object")
    return value


def _key(header: Mapping[str, Any], resolver: DidResolver) -> tuple[str, PublicKey]:
    named = [name for name in ("kid", "jwk", "x5c") if name in header]
    if len(named) != 1:
        raise _refuse("the proof header must name its key by exactly one of kid or jwk")
    try:
        if named[0] == "jwk":
            jwk = header["jwk"]
            if not isinstance(jwk, Mapping):
                raise _refuse("the proof's jwk header is not an object")
            public_key = PublicKey.from_jwk(jwk)
            return did_jwk(public_key), public_key
        if named[0] == "x5c":
            raise _refuse("x5c key proofs are not supported; use a did:key, did:jwk or jwk")
        kid = header["kid"]
        if not isinstance(kid, str) or "#" not in kid:
            raise _refuse("the proof's kid must be a DID URL naming one key")
        did = kid.split("#", 1)[0]
        public_key, _ = find_verification_method(resolver.resolve(did), kid, "authentication")
        return did, public_key
    except Oid4vciError:
        raise
    except CertvcError as cause:  # DID or key problems become invalid_proof
        raise _refuse(f"the proof's key is unusable: {cause.message}") from cause


def verify_key_proof(
    token: object,
    *,
    audience: str,
    now: datetime,
    max_age: timedelta,
    max_clock_skew: timedelta,
    resolver: DidResolver,
) -> KeyProof:
    """Check one ``jwt`` key proof and return the key it proves.

    :raises Oid4vciError: ``invalid_proof`` for anything wrong with it.
    """
    if not isinstance(token, str) or len(token) > MAX_PROOF_LENGTH:
        raise _refuse("a jwt key proof is a compact JWS string")
    parts = token.split(".")
    if len(parts) != 3 or not all(_PART.fullmatch(p) for p in parts):
        raise _refuse("a jwt key proof is a compact JWS with three base64url parts")
    header = _decode(parts[0], "header")
    payload = _decode(parts[1], "payload")
    if header.get("typ") != PROOF_TYP:
        raise _refuse(f"the proof's typ must be {PROOF_TYP}")
    alg = header.get("alg")
    if alg not in PROOF_ALGORITHMS and alg != "Ed25519":
        raise _refuse(f"proof algorithm {alg!r} is not allowed ({', '.join(PROOF_ALGORITHMS)})")
    if "crit" in header:
        raise _refuse("critical header extensions are not supported")
    holder_did, public_key = _key(header, resolver)
    if vc_jwt.ALLOWED_ALGORITHMS[alg] is not public_key.key_type:
        raise _refuse(f"algorithm {alg} does not fit a {public_key.key_type.value} key")
    signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    if not public_key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii")):
        raise _refuse("the proof's signature does not verify with its key")

    aud = payload.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        raise _refuse("the proof's aud is not this credential issuer")
    iat = payload.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise _refuse("the proof has no numeric iat")
    stamp = now.timestamp()
    if iat > stamp + max_clock_skew.total_seconds():
        raise _refuse("the proof is issued in the future")
    if iat < stamp - (max_age + max_clock_skew).total_seconds():
        raise _refuse("the proof is too old")
    exp = payload.get("exp")
    if isinstance(exp, int | float) and exp < stamp - max_clock_skew.total_seconds():
        raise _refuse("the proof has expired")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise _refuse("the proof carries no nonce (get one from the nonce endpoint)")
    return KeyProof(holder_did, public_key, nonce)
