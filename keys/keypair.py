"""Key pairs, public keys and the ``Signer`` interface the securing suites sign through.

A :class:`Signer` is all an issuer needs: an HSM or KMS signer can replace :class:`KeyPair`'s
local one. Secret material stays in :mod:`keys._hazmat`; nothing here prints, pickles or copies
it, and errors never carry it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol, runtime_checkable

from keys import _hazmat, jwk, multikey
from keys._hazmat import KeyType as KeyType  # public home of KeyType

from .errors import KeyCode, KeyMaterialError

__all__ = ["KeyPair", "KeyType", "PublicKey", "Signer"]


@dataclass(frozen=True)
class PublicKey:
    """A verified-usable public key: Ed25519 32 bytes or a compressed SEC1 EC point."""

    key_type: KeyType
    raw: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.key_type, KeyType):
            raise KeyMaterialError("unknown key type", code=KeyCode.KEY_UNSUPPORTED)
        _hazmat.check_public(self.key_type, self.raw)

    @functools.cached_property  # a frozen value: encode once (base58 is not free)
    def multibase(self) -> str:
        """publicKeyMultibase (CID 1.0 Multikey): ``z6Mk…``, ``zDna…``, ``z82…``."""
        return multikey.encode_public(self.key_type, self.raw)

    @property
    def did_key(self) -> str:
        """``did:key:`` + publicKeyMultibase (did:key v0.9 'Format')."""
        return f"did:key:{self.multibase}"

    @property
    def did_key_method_id(self) -> str:
        """The verification method id of the did:key document: ``did:key:X#X``."""
        return f"{self.did_key}#{self.multibase}"

    @property
    def thumbprint(self) -> str:
        """RFC 7638 JWK thumbprint (SHA-256, base64url)."""
        return jwk.thumbprint(self.key_type, self.raw)

    def to_jwk(self) -> dict[str, str]:
        """Public JWK (OKP Ed25519 or EC P-256/P-384/P-521), without ``kid`` or private part."""
        return jwk.encode_public_jwk(self.key_type, self.raw)

    def verify(self, signature: bytes, data: bytes) -> bool:
        """True when ``signature`` (Ed25519, or ECDSA P1363 ``r||s`` over ``data`` hashed with
        SHA-256/SHA-384) is valid; any bad, malformed or wrong-length signature is False."""
        return _hazmat.verify(self.key_type, self.raw, signature, data)

    def multikey_document(self, controller: str, id: str) -> dict[str, str]:
        """A Multikey verification method object (CID 1.0 "Multikey")."""
        return {
            "id": id,
            "type": "Multikey",
            "controller": controller,
            "publicKeyMultibase": self.multibase,
        }

    @classmethod
    def from_multibase(cls, value: str) -> PublicKey:
        """:raises KeyMaterialError: ``key_invalid`` / ``key_unsupported``."""
        if cls is PublicKey:
            return _public_from_multibase(value)
        return cls(*multikey.decode_public(value))

    @classmethod
    def from_jwk(cls, value: Mapping[str, Any]) -> PublicKey:
        """Public key of a public JWK; a JWK with a private ``d`` is refused.

        :raises KeyMaterialError: ``key_invalid`` / ``key_unsupported`` (``oct`` included).
        """
        return cls(*jwk.decode_public_jwk(value))

    def __repr__(self) -> str:
        return f"PublicKey({self.key_type.value}, {self.multibase})"


@runtime_checkable
class Signer(Protocol):
    """Signs for one verification method; the seam for HSM/KMS signers."""

    @property
    def key_id(self) -> str:
        """The verification method URL proofs name (``verificationMethod``, JOSE ``kid``)."""
        ...

    @property
    def algorithm(self) -> str:
        """JOSE ``alg``: ``EdDSA``, ``ES256``, ``ES384`` or ``ES512``."""
        ...

    @property
    def public_key(self) -> PublicKey: ...

    def sign(self, data: bytes) -> bytes:
        """Raw signature: Ed25519 64 bytes, or ECDSA P1363 ``r||s`` over ``data`` with the
        curve's hash (VC-DI-ECDSA 'Proof Serialization': never DER)."""
        ...


def _no_copy(kind: str) -> NoReturn:
    raise TypeError(f"{kind} holds a secret key and cannot be pickled or copied")


class KeySigner:
    """:class:`Signer` over a key that signs through ``sign_raw``: an in-memory secret key's
    own method, or a PKCS#11 token's (:mod:`keys.pkcs11_token`; ``where`` then names it in the
    repr). The key id, the algorithm and the repr come from the public key only."""

    __slots__ = ("_key_id", "_public", "_sign_raw", "_where")

    def __init__(
        self,
        sign_raw: Callable[[bytes], bytes],
        public: PublicKey,
        key_id: str,
        *,
        where: str = "",
    ) -> None:
        self._sign_raw = sign_raw
        self._public = public
        self._key_id = key_id
        self._where = where

    @property
    def key_id(self) -> str:
        return self._key_id

    @property
    def algorithm(self) -> str:
        return self._public.key_type.jose_alg

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def sign(self, data: bytes) -> bytes:
        if not isinstance(data, bytes):
            raise TypeError("data to sign must be bytes")
        return self._sign_raw(data)

    def __repr__(self) -> str:
        where = f", {self._where}" if self._where else ""
        return (
            f"Signer(key_id={self._key_id!r}, type={self._public.key_type.value}, "
            f"thumbprint={self._public.thumbprint}{where})"
        )

    def __reduce__(self) -> NoReturn:
        # A secret key, or a token session bound to its process: neither travels.
        _no_copy("Signer")


class KeyPair:
    """A private key with its public key. Build it with the class methods, not ``__init__``."""

    __slots__ = ("_public", "_secret")

    def __init__(self, secret: _hazmat.SecretKey) -> None:
        self._secret = secret
        self._public = PublicKey(secret.key_type, secret.public_raw())

    @classmethod
    def generate(cls, key_type: KeyType) -> KeyPair:
        """A fresh key pair from the operating system's CSPRNG."""
        return cls(_hazmat.generate(key_type))

    @property
    def key_type(self) -> KeyType:
        return self._public.key_type

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def signer(self, key_id: str | None = None) -> Signer:
        """A signer for ``key_id`` (default: the did:key verification method ``did:key:X#X``)."""
        return KeySigner(self._secret.sign, self._public, key_id or self._public.did_key_method_id)

    def export_secret_multibase(self) -> str:
        """secretKeyMultibase (CID 1.0 Multikey). Handle with care: the secret in clear."""
        return multikey.encode_secret(self.key_type, _hazmat.secret_to_bytes(self._secret))

    def export_private_jwk(self) -> dict[str, str]:
        """Private JWK. Handle with care: the secret in clear."""
        return jwk.encode_private_jwk(
            self.key_type, self._public.raw, _hazmat.secret_to_bytes(self._secret)
        )

    def export_pkcs8_pem(self, passphrase: bytes | None) -> bytes:
        """PKCS#8 PEM, encrypted with the best available scheme unless ``passphrase`` is None."""
        return _hazmat.to_pkcs8_pem(self._secret, passphrase)

    @classmethod
    def from_secret_multibase(cls, value: str) -> KeyPair:
        """:raises KeyMaterialError: ``key_invalid`` / ``key_unsupported``."""
        return cls(_hazmat.secret_from_bytes(*multikey.decode_secret(value)))

    @classmethod
    def from_multikey(cls, obj: Mapping[str, Any]) -> KeyPair:
        """Key pair from Multikey JSON: ``publicKeyMultibase`` with ``secretKeyMultibase`` (or
        the older ``privateKeyMultibase`` the VC-DI-EdDSA vectors use). The public key must be
        the one the secret derives.

        :raises KeyMaterialError: ``key_invalid`` (missing members, mismatch), ``key_unsupported``.
        """
        if not isinstance(obj, Mapping):
            raise KeyMaterialError("a Multikey key pair must be a JSON object")
        secret = obj.get("secretKeyMultibase", obj.get("privateKeyMultibase"))
        if secret is None:
            raise KeyMaterialError("no secretKeyMultibase in the key pair")
        pair = cls.from_secret_multibase(secret)
        declared = obj.get("publicKeyMultibase")
        if declared is not None and PublicKey.from_multibase(declared) != pair.public_key:
            raise KeyMaterialError("publicKeyMultibase does not belong to the secret key")
        return pair

    @classmethod
    def from_jwk(cls, value: Mapping[str, Any]) -> KeyPair:
        """Key pair from a private JWK; ``x``/``y`` must be the public key ``d`` derives.

        :raises KeyMaterialError: ``key_invalid`` / ``key_unsupported`` (``oct`` included).
        """
        key_type, public_raw, secret_raw = jwk.decode_private_jwk(value)
        pair = cls(_hazmat.secret_from_bytes(key_type, secret_raw))
        if pair.public_key.raw != public_raw:
            raise KeyMaterialError("JWK public members do not belong to its private key")
        return pair

    @classmethod
    def from_pkcs8_pem(cls, pem: bytes, passphrase: bytes | None) -> KeyPair:
        """:raises KeyMaterialError: see :func:`keys._hazmat.from_pkcs8_pem`."""
        return cls(_hazmat.from_pkcs8_pem(pem, passphrase))

    def __repr__(self) -> str:
        return f"KeyPair(type={self.key_type.value}, thumbprint={self._public.thumbprint})"

    def __reduce__(self) -> NoReturn:
        _no_copy("KeyPair")

    def __getstate__(self) -> NoReturn:
        _no_copy("KeyPair")


@functools.lru_cache(maxsize=1024)
def _public_from_multibase(value: str) -> PublicKey:
    """Decoding is cached (bounded; a PublicKey is an immutable value): every verification
    resolves the same few issuer keys, and a decoded, curve-checked point is worth keeping."""
    return PublicKey(*multikey.decode_public(value))
