"""The one module that touches private keys and pyca/cryptography's hazmat layer.

Everything that holds a private key object or private bytes is here, so a review of secret
handling reads one file. The rest of ``keys`` sees an opaque :class:`SecretKey` that signs, and
raw public bytes. ``KeyType`` is defined here, beside the curve parameters it names, because
every other module in ``keys`` builds on it; its public home is :mod:`keys.keypair`.
"""

from __future__ import annotations

import base64
import functools
import os
from dataclasses import dataclass
from enum import Enum
from typing import NoReturn

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from nacl.bindings import crypto_sign, crypto_sign_seed_keypair

from .errors import KeyCode, KeyMaterialError


class KeyType(Enum):
    """The signature key types certvc issues with; values are the CLI spellings."""

    ED25519 = "ed25519"
    P256 = "p-256"
    P384 = "p-384"
    #: vc+jwt only (ES512, which VC-JOSE-COSE fixtures use); no Data Integrity suite takes it.
    P521 = "p-521"

    @property
    def jose_alg(self) -> str:
        """JOSE ``alg`` (RFC 8037 §3.1 EdDSA; RFC 7518 §3.4 ES256/ES384/ES512)."""
        return _PARAMS[self][0]

    @property
    def hash_name(self) -> str:
        """Hash a Data Integrity suite uses (VC-DI-EdDSA / VC-DI-ECDSA "Hashing")."""
        return _PARAMS[self][1]

    @property
    def signature_length(self) -> int:
        """Raw signature size: Ed25519 64 bytes, ECDSA IEEE P1363 ``r||s`` 64 / 96 / 132 bytes."""
        return _PARAMS[self][2]

    @property
    def public_length(self) -> int:
        """Raw public key size: Ed25519 32 bytes, compressed SEC1 point 33 / 49 / 67 bytes."""
        return _PARAMS[self][3]

    @property
    def secret_length(self) -> int:
        """Raw secret size: Ed25519 32-byte seed, EC scalar of 32 / 48 / 66 bytes."""
        return _PARAMS[self][4]


# jose_alg, hash_name, signature_length, public_length, secret_length
_PARAMS: dict[KeyType, tuple[str, str, int, int, int]] = {
    KeyType.ED25519: ("EdDSA", "sha256", 64, 32, 32),
    KeyType.P256: ("ES256", "sha256", 64, 33, 32),
    KeyType.P384: ("ES384", "sha384", 96, 49, 48),
    KeyType.P521: ("ES512", "sha512", 132, 67, 66),
}

_CURVES: dict[KeyType, ec.EllipticCurve] = {
    KeyType.P256: ec.SECP256R1(),
    KeyType.P384: ec.SECP384R1(),
    KeyType.P521: ec.SECP521R1(),
}

# Group orders (SEC 2 §2.4.2, §2.5.1): a secret scalar must lie in [1, n-1].
_ORDERS: dict[KeyType, int] = {
    KeyType.P256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    KeyType.P384: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    KeyType.P521: int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# ECDSA with each curve's hash (RFC 7518 §3.4), made once: immutable descriptions.
_ECDSA = {key_type: ec.ECDSA(_HASHES[key_type.hash_name]()) for key_type in _CURVES}


def _invalid(message: str, cause: BaseException | None = None) -> NoReturn:
    raise KeyMaterialError(message, code=KeyCode.KEY_INVALID) from cause


# --- public keys --------------------------------------------------------------------------


def check_public(key_type: KeyType, raw: bytes) -> None:
    """Refuse a raw public key of the wrong size or, for EC, a point not on the curve.

    :raises KeyMaterialError: ``key_invalid``.
    """
    if not isinstance(raw, bytes) or len(raw) != key_type.public_length:
        _invalid(f"{key_type.value} public key must be {key_type.public_length} bytes")
    _load_public(key_type, raw)


@functools.lru_cache(maxsize=1024)
def _load_public(
    key_type: KeyType, raw: bytes
) -> ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey:
    """The library's key object; cached (bounded) because an EC point decompression costs about
    as much as the verification itself, and verifiers see the same few issuer keys again."""
    if key_type is KeyType.ED25519:
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    # Multikey carries only the compressed SEC1 form (SEC 1 §2.3.3; VC-DI-ECDSA 'Multikey').
    if raw[:1] not in (b"\x02", b"\x03"):
        _invalid(f"{key_type.value} public key must be a compressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[key_type], raw)
    except ValueError as exc:
        _invalid(f"{key_type.value} public key is not a point on the curve", exc)


def ec_coordinates(key_type: KeyType, raw: bytes) -> tuple[bytes, bytes]:
    """Fixed-length affine ``x`` and ``y`` of a compressed EC point (JWK, RFC 7518 §6.2.1)."""
    point = _load_public(key_type, raw)
    assert isinstance(point, ec.EllipticCurvePublicKey)
    size = key_type.secret_length
    numbers = point.public_numbers()
    return numbers.x.to_bytes(size, "big"), numbers.y.to_bytes(size, "big")


def compress_coordinates(key_type: KeyType, x: bytes, y: bytes) -> bytes:
    """Compressed SEC1 point from JWK ``x``/``y``; refuses a point not on the curve."""
    size = key_type.secret_length
    if len(x) != size or len(y) != size:
        _invalid(f"{key_type.value} JWK coordinates must be {size} bytes each")
    try:
        point = ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[key_type], b"\x04" + x + y)
    except ValueError as exc:
        _invalid(f"{key_type.value} JWK point is not on the curve", exc)
    return point.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )


def verify(key_type: KeyType, raw: bytes, signature: bytes, data: bytes) -> bool:
    """Check a raw signature; a bad or malformed signature is ``False``, never an exception."""
    if not isinstance(signature, bytes) or len(signature) != key_type.signature_length:
        return False
    public = _load_public(key_type, raw)
    try:
        if isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        else:
            # IEEE P1363 r||s (VC-DI-ECDSA 'Proof Serialization') -> the DER form OpenSSL expects.
            half = len(signature) // 2
            r = int.from_bytes(signature[:half], "big")
            s = int.from_bytes(signature[half:], "big")
            public.verify(encode_dss_signature(r, s), data, _ECDSA[key_type])
    except InvalidSignature:
        return False
    return True


# --- secret keys --------------------------------------------------------------------------


class SecretKey:
    """An opaque private key. It signs and reveals its public half; it never prints itself.

    Ed25519 signs through libsodium (PyNaCl): about 15 us per signature where OpenSSL, through
    cryptography, spends more setting up each call than signing; Ed25519 is deterministic
    (RFC 8032 §5.1.6), so the signature is the same byte for byte (tests/keys check both agree).
    Verification stays with cryptography, so what we accept is what OpenSSL accepts.
    """

    __slots__ = ("_key", "_sodium", "_type")

    def __init__(
        self, key_type: KeyType, key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
    ) -> None:
        self._type = key_type
        self._key = key
        self._sodium: bytes | None = None
        if isinstance(key, ed25519.Ed25519PrivateKey):
            seed = key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
            self._sodium = crypto_sign_seed_keypair(seed)[1]  # seed || public key

    @property
    def key_type(self) -> KeyType:
        return self._type

    def public_raw(self) -> bytes:
        """Ed25519 32 bytes, or the compressed SEC1 point."""
        public = self._key.public_key()
        if isinstance(public, ed25519.Ed25519PublicKey):
            return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
        )

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature, or ECDSA over ``data`` with the curve's hash as P1363 ``r||s``."""
        if self._sodium is not None:
            return crypto_sign(data, self._sodium)[:64]  # signature || message
        key = self._key
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # Ed25519 always signs via sodium
        der = key.sign(data, _ECDSA[self._type])
        r, s = decode_dss_signature(der)
        size = self._type.signature_length // 2
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    def __repr__(self) -> str:
        return f"<SecretKey {self._type.value}>"

    def __reduce__(self) -> NoReturn:
        raise TypeError("secret keys cannot be pickled or copied")

    def __getstate__(self) -> NoReturn:  # object.__getstate__ would hand out the slots
        raise TypeError("secret keys cannot be pickled or copied")


def generate(key_type: KeyType) -> SecretKey:
    """A fresh key from the operating system's CSPRNG (via OpenSSL)."""
    if key_type is KeyType.ED25519:
        return SecretKey(key_type, ed25519.Ed25519PrivateKey.generate())
    return SecretKey(key_type, ec.generate_private_key(_CURVES[key_type]))


def secret_from_bytes(key_type: KeyType, raw: bytes) -> SecretKey:
    """Load an Ed25519 seed or an EC scalar (big-endian, fixed length).

    :raises KeyMaterialError: ``key_invalid`` for a wrong length or a scalar outside [1, n-1].
    """
    if not isinstance(raw, bytes) or len(raw) != key_type.secret_length:
        _invalid(f"{key_type.value} secret key must be {key_type.secret_length} bytes")
    if key_type is KeyType.ED25519:
        return SecretKey(key_type, ed25519.Ed25519PrivateKey.from_private_bytes(raw))
    scalar = int.from_bytes(raw, "big")
    if not 0 < scalar < _ORDERS[key_type]:
        _invalid(f"{key_type.value} secret scalar is out of range")
    return SecretKey(key_type, ec.derive_private_key(scalar, _CURVES[key_type]))


def secret_to_bytes(secret: SecretKey) -> bytes:
    """The Ed25519 seed or the fixed-length EC scalar: for secretKeyMultibase and JWK ``d``."""
    key = secret._key
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
    return key.private_numbers().private_value.to_bytes(secret.key_type.secret_length, "big")


def to_pkcs8_pem(secret: SecretKey, passphrase: bytes | None) -> bytes:
    """PKCS#8 PEM, encrypted with cryptography's best available scheme unless ``None``."""
    encryption: serialization.KeySerializationEncryption
    if passphrase is None:
        encryption = serialization.NoEncryption()
    else:
        if not passphrase:
            raise KeyMaterialError(
                "an empty passphrase cannot protect a key", code=KeyCode.PASSPHRASE_REQUIRED
            )
        encryption = serialization.BestAvailableEncryption(passphrase)
    return secret._key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


_ENCRYPTED_PEM = b"-----BEGIN ENCRYPTED PRIVATE KEY-----"
_PLAIN_PEM = b"-----BEGIN PRIVATE KEY-----"


def from_pkcs8_pem(pem: bytes, passphrase: bytes | None) -> SecretKey:
    """Load a PKCS#8 PEM key of one of our key types.

    :raises KeyMaterialError: ``passphrase_required`` (encrypted, none given), ``passphrase_wrong``
        (decryption failed), ``key_invalid`` (not PKCS#8 PEM, or encryption state not as declared),
        ``key_unsupported`` (another algorithm or curve).
    """
    encrypted = pem.lstrip().startswith(_ENCRYPTED_PEM)
    if not encrypted and not pem.lstrip().startswith(_PLAIN_PEM):
        _invalid("not a PKCS#8 PEM private key")
    if encrypted and passphrase is None:
        raise KeyMaterialError(
            "the key is encrypted and no passphrase was given",
            code=KeyCode.PASSPHRASE_REQUIRED,
        )
    if not encrypted and passphrase is not None:
        _invalid("the private key is not encrypted although a passphrase was given")
    try:
        key = serialization.load_pem_private_key(pem, passphrase if encrypted else None)
    except ValueError as exc:
        if encrypted:
            raise KeyMaterialError(
                "wrong passphrase (or a damaged key file)", code=KeyCode.PASSPHRASE_WRONG
            ) from exc
        _invalid("damaged PKCS#8 private key", exc)
    except (TypeError, UnsupportedAlgorithm) as exc:
        _invalid("unreadable PKCS#8 private key", exc)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return SecretKey(KeyType.ED25519, key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for key_type, curve in _CURVES.items():
            if key.curve.name == curve.name:
                return SecretKey(key_type, key)
    raise KeyMaterialError(
        "private key algorithm or curve is not supported", code=KeyCode.KEY_UNSUPPORTED
    )


# --- passphrase stretching ------------------------------------------------------------------


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost (RFC 7914). The default follows OWASP's password storage guidance
    (N=2^17, r=8, p=1); reading a key file accepts a bounded range so a crafted file cannot
    demand unbounded memory (128 * r * N bytes)."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    def __post_init__(self) -> None:
        if not (
            isinstance(self.n, int)
            and 2**10 <= self.n <= 2**18
            and self.n & (self.n - 1) == 0
            and isinstance(self.r, int)
            and 1 <= self.r <= 16
            and isinstance(self.p, int)
            and 1 <= self.p <= 4
        ):
            _invalid("scrypt parameters out of range (N a power of two in 2^10..2^18, r<=16, p<=4)")


SALT_LENGTH = 16


def new_salt() -> bytes:
    return os.urandom(SALT_LENGTH)


def stretch_passphrase(passphrase: bytes, salt: bytes, params: ScryptParams) -> bytes:
    """The password handed to PKCS#8 encryption: scrypt of the operator's passphrase.

    cryptography's ``BestAvailableEncryption`` for PKCS#8 runs PBKDF2 with only 2048
    iterations and no way to raise them, so the passphrase is stretched here first.
    """
    if not passphrase:
        raise KeyMaterialError("the passphrase is empty", code=KeyCode.PASSPHRASE_REQUIRED)
    key = Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(passphrase)
    return base64.urlsafe_b64encode(key)
