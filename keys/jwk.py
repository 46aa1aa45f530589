"""JSON Web Keys: our key types as JWK (RFC 7517/7518, RFC 8037) and JWK Sets.

The codec works on ``(KeyType, raw bytes)`` so :mod:`keys.keypair` can build on it (and this
module never imports it): ``PublicKey.from_jwk`` and ``KeyPair.from_jwk`` return the richer
objects.
Only signature keys of our types are accepted: ``kty: oct`` (a shared secret that would turn
signature checks into HMAC) is refused with ``key_unsupported``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from keys._hazmat import KeyType, compress_coordinates, ec_coordinates

from .errors import KeyCode, KeyMaterialError

# (kty, crv): RFC 8037 §2 (OKP Ed25519), RFC 7518 §6.2.1.1 (EC P-256, P-384, P-521).
_KTY_CRV: dict[KeyType, tuple[str, str]] = {
    KeyType.ED25519: ("OKP", "Ed25519"),
    KeyType.P256: ("EC", "P-256"),
    KeyType.P384: ("EC", "P-384"),
    KeyType.P521: ("EC", "P-521"),
}
_BY_KTY_CRV = {pair: key_type for key_type, pair in _KTY_CRV.items()}
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class PublicKeyLike(Protocol):
    """What the JWK writers need of a public key (satisfied by :class:`keys.keypair.PublicKey`)."""

    @property
    def key_type(self) -> KeyType: ...

    @property
    def raw(self) -> bytes: ...


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(value: object, *, member: str) -> bytes:
    """Strict base64url without padding; refuses non-canonical encodings.

    :raises KeyMaterialError: ``key_invalid``; the message names the member, never its value.
    """
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise KeyMaterialError(f"JWK member {member!r} is not base64url")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise KeyMaterialError(f"JWK member {member!r} is not base64url") from None
    if b64url_encode(data) != value:
        raise KeyMaterialError(f"JWK member {member!r} is not canonical base64url")
    return data


def encode_public_jwk(key_type: KeyType, raw: bytes) -> dict[str, str]:
    """The minimal public JWK (only the members RFC 7638 §3.2 requires)."""
    kty, crv = _KTY_CRV[key_type]
    if key_type is KeyType.ED25519:
        return {"kty": kty, "crv": crv, "x": b64url_encode(raw)}
    x, y = ec_coordinates(key_type, raw)
    return {"kty": kty, "crv": crv, "x": b64url_encode(x), "y": b64url_encode(y)}


def public_jwk(public_key: PublicKeyLike) -> dict[str, str]:
    """Public JWK of a key; no private part, no ``kid`` (see :func:`jwks`)."""
    return encode_public_jwk(public_key.key_type, public_key.raw)


def thumbprint(key_type: KeyType, raw: bytes) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url); RFC 8037 §2 names the OKP members."""
    canonical = json.dumps(encode_public_jwk(key_type, raw), sort_keys=True, separators=(",", ":"))
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


def _key_type(jwk: object) -> KeyType:
    if not isinstance(jwk, Mapping):
        raise KeyMaterialError("a JWK must be a JSON object")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "oct":
        raise KeyMaterialError(
            "symmetric JWKs (kty 'oct') are refused", code=KeyCode.KEY_UNSUPPORTED
        )
    key_type = None
    if isinstance(kty, str) and isinstance(crv, str):
        key_type = _BY_KTY_CRV.get((kty, crv))
    if key_type is None:
        raise KeyMaterialError(
            f"JWK kty/crv {kty!r}/{crv!r} is not supported (Ed25519, P-256, P-384, P-521 only)",
            code=KeyCode.KEY_UNSUPPORTED,
        )
    alg = jwk.get("alg")
    if alg is not None and alg != key_type.jose_alg:
        raise KeyMaterialError(f"JWK alg {alg!r} does not fit a {key_type.value} key")
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise KeyMaterialError(f"JWK use {use!r} is not 'sig'")
    return key_type


def decode_public_jwk(jwk: Mapping[str, Any]) -> tuple[KeyType, bytes]:
    """Key type and raw public key (compressed for EC) of a public JWK.

    :raises KeyMaterialError: ``key_unsupported`` (``oct``, RSA, other curves), ``key_invalid``
        (a private ``d`` member, bad encoding, a point not on the curve, a mismatching ``alg``).
    """
    key_type = _key_type(jwk)
    if "d" in jwk:
        raise KeyMaterialError("JWK carries a private part ('d') where a public key is expected")
    return key_type, _public_raw(key_type, jwk)


def _public_raw(key_type: KeyType, jwk: Mapping[str, Any]) -> bytes:
    x = b64url_decode(jwk.get("x"), member="x")
    if key_type is KeyType.ED25519:
        if len(x) != 32:
            raise KeyMaterialError("Ed25519 JWK 'x' must be 32 bytes")
        if "y" in jwk:
            raise KeyMaterialError("an OKP JWK has no 'y' member")
        return x
    y = b64url_decode(jwk.get("y"), member="y")
    return compress_coordinates(key_type, x, y)


def encode_private_jwk(key_type: KeyType, public_raw: bytes, secret_raw: bytes) -> dict[str, str]:
    """Private JWK: the public members plus ``d`` (RFC 8037 §2 seed; RFC 7518 §6.2.2.1 scalar)."""
    jwk = encode_public_jwk(key_type, public_raw)
    jwk["d"] = b64url_encode(secret_raw)
    return jwk


def decode_private_jwk(jwk: Mapping[str, Any]) -> tuple[KeyType, bytes, bytes]:
    """Key type, raw public key and raw secret of a private JWK (sizes checked, pairing not).

    :raises KeyMaterialError: as :func:`decode_public_jwk`, and ``key_invalid`` without ``d``.
    """
    key_type = _key_type(jwk)
    if "d" not in jwk:
        raise KeyMaterialError("JWK has no private part ('d')")
    secret = b64url_decode(jwk["d"], member="d")
    if len(secret) != key_type.secret_length:
        raise KeyMaterialError(f"{key_type.value} JWK 'd' must be {key_type.secret_length} bytes")
    return key_type, _public_raw(key_type, jwk), secret


def jwks(keys: Iterable[tuple[str, PublicKeyLike]]) -> dict[str, list[dict[str, str]]]:
    """A JWK Set (RFC 7517 §5) with ``kid`` and ``alg`` on each key, in the given order.

    :raises KeyMaterialError: ``key_invalid`` for an empty or repeated ``kid``.
    """
    entries: list[dict[str, str]] = []
    seen: set[str] = set()
    for kid, public_key in keys:
        if not kid or kid in seen:
            raise KeyMaterialError(f"JWKS key ids must be unique and non-empty: {kid!r}")
        seen.add(kid)
        entry = public_jwk(public_key)
        entry["kid"] = kid
        entry["alg"] = public_key.key_type.jose_alg
        entries.append(entry)
    return {"keys": entries}
