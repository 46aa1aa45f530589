"""Multikey encoding: multibase base58btc + multicodec varint headers (CID 1.0 "Multikey")."""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyType
from keys.multikey import (
    decode_base58btc,
    decode_public,
    decode_secret,
    encode_base58btc,
    encode_public,
    encode_secret,
)

VECTORS = Path(__file__).parents[1] / "vectors"

# Multicodec headers as varint bytes (the "Multikey" sections of VC-DI-EdDSA, VC-DI-ECDSA).
HEADERS = {
    ("public", KeyType.ED25519): b"\xed\x01",
    ("public", KeyType.P256): b"\x80\x24",
    ("public", KeyType.P384): b"\x81\x24",
    ("secret", KeyType.ED25519): b"\x80\x26",
    ("secret", KeyType.P256): b"\x86\x26",
    ("secret", KeyType.P384): b"\x87\x26",
    ("public", KeyType.P521): b"\x82\x24",  # p521-pub 0x1202
    ("secret", KeyType.P521): b"\x88\x26",  # p521-priv 0x1308
}
CURVES = {KeyType.P256: ec.SECP256R1(), KeyType.P384: ec.SECP384R1(), KeyType.P521: ec.SECP521R1()}
ORDERS = {
    KeyType.P256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    KeyType.P384: int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77A"
        "ECEC196ACCC52973",
        16,
    ),
    KeyType.P521: int(
        "01FF" + "FFFFFFFF" * 7 + "FFFFFFFA"
        "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
        16,
    ),
}


def _vector(name: str) -> dict[str, str]:
    return json.loads((VECTORS / name).read_text())


def _compressed(key_type: KeyType, scalar: int) -> bytes:
    """Independent reference: pyca computes the compressed point of a scalar."""
    key = ec.derive_private_key(scalar, CURVES[key_type])
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )


@pytest.mark.parametrize(
    ("name", "key_type", "prefix"),
    [
        ("eddsa-rdfc-2022/keyPair.json", KeyType.ED25519, "z6Mk"),
        ("ecdsa-rdfc-2019/p256KeyPair.json", KeyType.P256, "zDna"),
        ("ecdsa-rdfc-2019/p384KeyPair.json", KeyType.P384, "z82"),
    ],
)
def test_vector_public_keys_decode_and_reencode_exactly(
    name: str, key_type: KeyType, prefix: str
) -> None:
    """VC-DI-EdDSA / VC-DI-ECDSA test vectors: header, size and the exact string round trip."""
    value = _vector(name)["publicKeyMultibase"]
    assert value.startswith(prefix)
    decoded_type, raw = decode_public(value)
    assert decoded_type is key_type
    assert len(raw) == {KeyType.ED25519: 32, KeyType.P256: 33, KeyType.P384: 49}[key_type]
    assert base58.b58decode(value[1:]) == HEADERS[("public", key_type)] + raw
    assert encode_public(key_type, raw) == value


@pytest.mark.parametrize(
    ("name", "member", "key_type"),
    [
        ("eddsa-rdfc-2022/keyPair.json", "privateKeyMultibase", KeyType.ED25519),
        ("ecdsa-rdfc-2019/p256KeyPair.json", "secretKeyMultibase", KeyType.P256),
        ("ecdsa-rdfc-2019/p384KeyPair.json", "secretKeyMultibase", KeyType.P384),
    ],
)
def test_vector_secret_keys_decode_and_reencode_exactly(
    name: str, member: str, key_type: KeyType
) -> None:
    """CID 1.0 Multikey secretKeyMultibase headers 0x8026 / 0x8626 / 0x8726."""
    value = _vector(name)[member]
    decoded_type, raw = decode_secret(value)
    assert decoded_type is key_type
    assert base58.b58decode(value[1:]) == HEADERS[("secret", key_type)] + raw
    assert encode_secret(key_type, raw) == value


def test_did_key_ed25519_vector_from_publickeybase58() -> None:
    """did:key test vectors (w3c-ccg/did-method-key ed25519-x25519.json, seed 0x00..00)."""
    raw = base58.b58decode("4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS")
    assert encode_public(KeyType.ED25519, raw) == (
        "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
    )


def test_other_multicodecs_are_unsupported() -> None:
    """An X25519 key (0xec, did:key vectors) is not a signature key: key_unsupported."""
    with pytest.raises(KeyMaterialError) as info:
        decode_public("z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW")
    assert info.value.code is KeyCode.KEY_UNSUPPORTED


def test_secret_key_in_place_of_public_key_is_refused() -> None:
    """Fails when a secretKeyMultibase is accepted as a publicKeyMultibase."""
    secret = _vector("ecdsa-rdfc-2019/p256KeyPair.json")["secretKeyMultibase"]
    with pytest.raises(KeyMaterialError) as info:
        decode_public(secret)
    assert info.value.code is KeyCode.KEY_INVALID
    assert secret not in str(info.value)


def test_public_key_in_place_of_secret_key_is_unsupported() -> None:
    public = _vector("ecdsa-rdfc-2019/p256KeyPair.json")["publicKeyMultibase"]
    with pytest.raises(KeyMaterialError) as info:
        decode_secret(public)
    assert info.value.code is KeyCode.KEY_UNSUPPORTED


@pytest.mark.parametrize(
    "value",
    [
        "",
        "z",
        "u7QGIVqJy",  # base64url multibase, not base58btc
        "z0OIl",  # characters outside the Bitcoin alphabet
        "z" + "2" * 300,  # longer than any key: refused before quadratic decoding
    ],
)
def test_bad_multibase_is_key_invalid(value: str) -> None:
    with pytest.raises(KeyMaterialError) as info:
        decode_public(value)
    assert info.value.code is KeyCode.KEY_INVALID


def test_non_minimal_varint_header_is_refused() -> None:
    """unsigned-varint: 0xed 0x81 0x00 encodes 0xed non-minimally; it must not pass as ed25519."""
    raw = bytes(32)
    with pytest.raises(KeyMaterialError):
        decode_public(encode_base58btc(b"\xed\x81\x00" + raw))


@pytest.mark.parametrize("key_type", list(KeyType))
def test_wrong_length_is_key_invalid(key_type: KeyType) -> None:
    header = HEADERS[("public", key_type)]
    good = _compressed(key_type, 7) if key_type in CURVES else bytes(32)
    for raw in (good[:-1], good + b"\x00"):
        with pytest.raises(KeyMaterialError) as info:
            decode_public(encode_base58btc(header + raw))
        assert info.value.code is KeyCode.KEY_INVALID
    with pytest.raises(KeyMaterialError):
        encode_public(key_type, good[:-1])
    with pytest.raises(KeyMaterialError):
        decode_secret(encode_base58btc(HEADERS[("secret", key_type)] + bytes(5)))


def _x_not_on_curve(key_type: KeyType) -> bytes:
    size = {KeyType.P256: 32, KeyType.P384: 48}[key_type]
    for x in range(1, 200):
        candidate = b"\x02" + x.to_bytes(size, "big")
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(CURVES[key_type], candidate)
        except ValueError:
            return candidate
    raise AssertionError("no x off the curve found")


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_point_not_on_curve_is_key_invalid(key_type: KeyType) -> None:
    """VC-DI-ECDSA "Multikey": the value must be a valid compressed point."""
    bad = _x_not_on_curve(key_type)
    with pytest.raises(KeyMaterialError) as info:
        decode_public(encode_base58btc(HEADERS[("public", key_type)] + bad))
    assert info.value.code is KeyCode.KEY_INVALID
    with pytest.raises(KeyMaterialError):
        encode_public(key_type, bad)


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384])
def test_uncompressed_point_is_refused(key_type: KeyType) -> None:
    """Multikey carries the compressed SEC1 form only; an 0x04 point of the same size fails."""
    good = _compressed(key_type, 7)
    with pytest.raises(KeyMaterialError):
        decode_public(encode_base58btc(HEADERS[("public", key_type)] + b"\x04" + good[1:]))


def test_secret_decoding_errors_do_not_quote_the_value() -> None:
    """No secrets in errors (house style 10): a truncated secret is not echoed back."""
    value = encode_base58btc(HEADERS[("secret", KeyType.P256)] + bytes(range(1, 31)))
    with pytest.raises(KeyMaterialError) as info:
        decode_secret(value)
    assert value not in str(info.value)
    assert value[5:] not in str(info.value)


def test_signature_multibase_matches_vector() -> None:
    """Data Integrity proofValue: base58btc of the raw signature (VC-DI-ECDSA vectors)."""
    base = VECTORS / "ecdsa-rdfc-2019" / "ecdsa-rdfc-2019-p384"
    signature = bytes.fromhex((base / "sigHexECDSAP384.txt").read_text().strip())
    encoded = (base / "sigBTC58ECDSAP384.txt").read_text().strip()
    assert decode_base58btc(encoded) == signature
    assert encode_base58btc(signature) == encoded


@settings(deadline=None)  # crypto under a loaded CI runner
@given(st.binary(min_size=32, max_size=32))
def test_ed25519_public_round_trip(raw: bytes) -> None:
    assert decode_public(encode_public(KeyType.ED25519, raw)) == (KeyType.ED25519, raw)


@settings(deadline=None)  # crypto under a loaded CI runner
@given(st.sampled_from([KeyType.P256, KeyType.P384, KeyType.P521]), st.data())
def test_ec_public_round_trip(key_type: KeyType, data: st.DataObject) -> None:
    scalar = data.draw(st.integers(min_value=1, max_value=ORDERS[key_type] - 1))
    raw = _compressed(key_type, scalar)
    assert decode_public(encode_public(key_type, raw)) == (key_type, raw)


@settings(deadline=None)  # crypto under a loaded CI runner
@given(st.sampled_from(list(KeyType)), st.data())
def test_secret_round_trip(key_type: KeyType, data: st.DataObject) -> None:
    size = {KeyType.ED25519: 32, KeyType.P256: 32, KeyType.P384: 48, KeyType.P521: 66}[key_type]
    raw = data.draw(st.binary(min_size=size, max_size=size))
    assert decode_secret(encode_secret(key_type, raw)) == (key_type, raw)


@settings(deadline=None)  # crypto under a loaded CI runner
@given(st.binary(min_size=1, max_size=100))
def test_base58btc_round_trip(data: bytes) -> None:
    """Leading zero bytes survive (each is a '1' in base58btc)."""
    encoded = encode_base58btc(data)
    assert encoded.startswith("z")
    assert decode_base58btc(encoded) == data
