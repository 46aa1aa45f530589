"""Multikey encoding: multibase base58btc over a multicodec varint prefix and the raw key.

CID 1.0 "Multikey"; the "Multikey" sections of VC-DI-EdDSA and VC-DI-ECDSA fix each header.
Decoding checks sizes and, for EC keys, that the point is on the curve, so a value that
leaves this module is a usable key.
"""

from __future__ import annotations

import base58

from keys._hazmat import KeyType, check_public

from .base58btc import b58decode, b58encode
from .errors import KeyCode, KeyMaterialError

# Multicodec table codes (multiformats/multicodec table.csv): ed25519-pub 0xed, p256-pub 0x1200,
# p384-pub 0x1201, p521-pub 0x1202; ed25519-priv 0x1300, p256-priv 0x1306, p384-priv 0x1307,
# p521-priv 0x1308.
_PUBLIC_CODECS: dict[KeyType, int] = {
    KeyType.ED25519: 0xED,
    KeyType.P256: 0x1200,
    KeyType.P384: 0x1201,
    KeyType.P521: 0x1202,
}
_SECRET_CODECS: dict[KeyType, int] = {
    KeyType.ED25519: 0x1300,
    KeyType.P256: 0x1306,
    KeyType.P384: 0x1307,
    KeyType.P521: 0x1308,
}
_PUBLIC_BY_CODE = {code: key_type for key_type, code in _PUBLIC_CODECS.items()}
_SECRET_BY_CODE = {code: key_type for key_type, code in _SECRET_CODECS.items()}

_ALPHABET = frozenset(base58.BITCOIN_ALPHABET.decode("ascii"))
_MAX_VARINT_BYTES = 9  # unsigned-varint spec: at most 9 bytes (63 bits)

# Longest Multikey is a P-521 point (2 + 67 bytes, 95 base58 characters); signatures reach 132
# bytes (181 characters). Base58 decoding is quadratic, so inputs are capped first.
DEFAULT_MAX_CHARS = 256


def encode_base58btc(data: bytes) -> str:
    """Multibase base58btc: ``z`` followed by the Bitcoin-alphabet base58 of ``data``."""
    return "z" + b58encode(data)


def decode_base58btc(value: str, *, max_chars: int = DEFAULT_MAX_CHARS) -> bytes:
    """Inverse of :func:`encode_base58btc`; only the ``z`` (base58btc) multibase is accepted.

    Messages never quote the input: it may be a secret key.

    :raises KeyMaterialError: ``key_invalid``.
    """
    if not isinstance(value, str) or not value.startswith("z"):
        raise KeyMaterialError("multibase value must be a string starting with 'z' (base58btc)")
    if len(value) > max_chars:
        raise KeyMaterialError(f"multibase value is longer than {max_chars} characters")
    body = value[1:]
    if not body or not _ALPHABET.issuperset(body):
        raise KeyMaterialError("multibase value is not base58btc")
    return b58decode(body)


def _varint(number: int) -> bytes:
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes) -> tuple[int, int]:
    """(value, bytes used) of a minimally encoded unsigned varint at the start of ``data``."""
    value = 0
    for index, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if byte == 0 and index > 0:
                break  # a trailing zero byte is a non-minimal encoding
            return value, index + 1
    raise KeyMaterialError("multicodec prefix is not a valid unsigned varint")


def _split(value: str) -> tuple[int, bytes]:
    data = decode_base58btc(value)
    code, used = _read_varint(data)
    return code, data[used:]


def encode_public(key_type: KeyType, raw: bytes) -> str:
    """publicKeyMultibase for a raw public key (Ed25519 32 bytes, compressed EC point).

    :raises KeyMaterialError: ``key_invalid`` for a wrong size or a point not on the curve.
    """
    check_public(key_type, raw)
    return encode_base58btc(_varint(_PUBLIC_CODECS[key_type]) + raw)


def decode_public(value: str) -> tuple[KeyType, bytes]:
    """Key type and raw public key of a publicKeyMultibase value.

    :raises KeyMaterialError: ``key_unsupported`` for another multicodec (X25519, secp256k1,
        a secret key...), ``key_invalid`` for bad encoding, size or point.
    """
    code, raw = _split(value)
    key_type = _PUBLIC_BY_CODE.get(code)
    if key_type is None:
        if code in _SECRET_BY_CODE:
            raise KeyMaterialError("a secret key was given where a public key is expected")
        raise KeyMaterialError(
            f"multicodec 0x{code:x} is not a supported public key type",
            code=KeyCode.KEY_UNSUPPORTED,
        )
    check_public(key_type, raw)
    return key_type, raw


def encode_secret(key_type: KeyType, raw: bytes) -> str:
    """secretKeyMultibase for an Ed25519 seed or an EC scalar.

    :raises KeyMaterialError: ``key_invalid`` for a wrong size.
    """
    if not isinstance(raw, bytes) or len(raw) != key_type.secret_length:
        raise KeyMaterialError(
            f"{key_type.value} secret key must be {key_type.secret_length} bytes"
        )
    return encode_base58btc(_varint(_SECRET_CODECS[key_type]) + raw)


def decode_secret(value: str) -> tuple[KeyType, bytes]:
    """Key type and raw secret of a secretKeyMultibase value (size checked, range not).

    :raises KeyMaterialError: ``key_unsupported`` for another multicodec, ``key_invalid``
        otherwise. Messages never include the value.
    """
    code, raw = _split(value)
    key_type = _SECRET_BY_CODE.get(code)
    if key_type is None:
        raise KeyMaterialError(
            f"multicodec 0x{code:x} is not a supported secret key type",
            code=KeyCode.KEY_UNSUPPORTED,
        )
    if len(raw) != key_type.secret_length:
        raise KeyMaterialError(
            f"{key_type.value} secret key must be {key_type.secret_length} bytes"
        )
    return key_type, raw
