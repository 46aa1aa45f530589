"""Key pairs, public keys and signers, replayed against the W3C vectors and pyca directly."""

from __future__ import annotations

import copy
import json
import pickle
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyPair, KeyType, PublicKey, Signer
from keys.multikey import decode_base58btc, encode_base58btc, encode_secret

VECTORS = Path(__file__).parents[1] / "vectors"
EDDSA = VECTORS / "eddsa-rdfc-2022"
ECDSA = VECTORS / "ecdsa-rdfc-2019"

KEY_PAIRS = {
    KeyType.ED25519: EDDSA / "keyPair.json",
    KeyType.P256: ECDSA / "p256KeyPair.json",
    KeyType.P384: ECDSA / "p384KeyPair.json",
    KeyType.P521: VECTORS / "jose" / "p521KeyPair.json",
}
CURVES = {KeyType.P256: ec.SECP256R1(), KeyType.P384: ec.SECP384R1(), KeyType.P521: ec.SECP521R1()}
HASHES = {
    KeyType.P256: hashes.SHA256(),
    KeyType.P384: hashes.SHA384(),
    KeyType.P521: hashes.SHA512(),
}


def _json(path: Path) -> dict[str, str]:
    return json.loads(path.read_text())


def _hex(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def _secret_string(obj: dict[str, str]) -> str:
    return obj.get("secretKeyMultibase") or obj["privateKeyMultibase"]


def test_key_type_parameters() -> None:
    """VC-DI-EdDSA eddsa-rdfc-2022 (SHA-256, 64-byte signature); VC-DI-ECDSA ecdsa-rdfc-2019
    (P-256 SHA-256 64 bytes, P-384 SHA-384 96 bytes); RFC 8037 / RFC 7518 JOSE names."""
    assert [(t.value, t.jose_alg, t.hash_name, t.signature_length) for t in KeyType] == [
        ("ed25519", "EdDSA", "sha256", 64),
        ("p-256", "ES256", "sha256", 64),
        ("p-384", "ES384", "sha384", 96),
        ("p-521", "ES512", "sha512", 132),  # RFC 7518 §3.4; vc+jwt only
    ]


def test_p521_multikey_pair_is_the_rfc7520_key() -> None:
    """RFC 7520 §3.2's P-521 JWK and our Multikey form of it are one key (multicodec 0x1202)."""
    jwk = _json(VECTORS / "jose" / "rfc7520-p521.jwk.json")
    from_jwk = KeyPair.from_jwk({k: v for k, v in jwk.items() if k not in ("kid", "use")})
    from_multikey = KeyPair.from_multikey(_json(KEY_PAIRS[KeyType.P521]))
    assert from_jwk.public_key == from_multikey.public_key
    assert from_multikey.public_key.multibase.startswith("z2J9")
    assert from_multikey.export_private_jwk()["d"] == jwk["d"]


@pytest.mark.parametrize("key_type", list(KeyType))
def test_vector_key_pairs_round_trip(key_type: KeyType) -> None:
    """W3C vector key pairs: from_multikey, then the same public and secret multibase strings."""
    obj = _json(KEY_PAIRS[key_type])
    pair = KeyPair.from_multikey(obj)
    assert pair.key_type is key_type
    assert pair.public_key.multibase == obj["publicKeyMultibase"]
    assert pair.export_secret_multibase() == _secret_string(obj)


def test_eddsa_vector_did_key_is_the_proof_verification_method() -> None:
    """VC-DI-EdDSA vectors: signedDataInt.json names did:key:X#X of the vector key."""
    pair = KeyPair.from_multikey(_json(EDDSA / "keyPair.json"))
    proof = _json(EDDSA / "signedDataInt.json")["proof"]
    assert pair.public_key.did_key_method_id == proof["verificationMethod"]
    assert pair.signer().key_id == proof["verificationMethod"]


def test_ed25519_vector_signature_is_reproduced_byte_for_byte() -> None:
    """VC-DI-EdDSA "Proof Serialization (eddsa-rdfc-2022)": Ed25519 over hashData gives
    sigHexDataInt, whose base58btc is the proofValue of signedDataInt.json."""
    pair = KeyPair.from_multikey(_json(EDDSA / "keyPair.json"))
    signature = pair.signer().sign(_hex(EDDSA / "combinedHashDataInt.txt"))
    assert signature == _hex(EDDSA / "sigHexDataInt.txt")
    proof = _json(EDDSA / "signedDataInt.json")["proof"]
    assert encode_base58btc(signature) == proof["proofValue"]
    assert pair.public_key.verify(signature, _hex(EDDSA / "combinedHashDataInt.txt"))


@pytest.mark.parametrize(
    ("key_type", "folder", "suffix"),
    [
        (KeyType.P256, "ecdsa-rdfc-2019-p256", "P256"),
        (KeyType.P256, "ecdsa-rdfc-2019-p256/employ", "P256"),
        (KeyType.P384, "ecdsa-rdfc-2019-p384", "P384"),
    ],
)
def test_ecdsa_vector_signatures_verify(key_type: KeyType, folder: str, suffix: str) -> None:
    """VC-DI-ECDSA "Hashing" and "Proof Serialization": the P1363 signature is ECDSA with the
    curve's hash over the combined hash bytes; the proofValue is its base58btc."""
    base = ECDSA / folder
    public = PublicKey.from_multibase(_json(KEY_PAIRS[key_type])["publicKeyMultibase"])
    data = _hex(base / f"combinedHashECDSA{suffix}.txt")
    signature = _hex(base / f"sigHexECDSA{suffix}.txt")
    assert public.verify(signature, data)
    proof = _json(base / f"signedECDSA{suffix}.json")["proof"]
    assert decode_base58btc(proof["proofValue"]) == signature
    assert not public.verify(signature, data[:-1] + bytes([data[-1] ^ 1]))
    assert not public.verify(signature[:-1] + bytes([signature[-1] ^ 1]), data)


@pytest.mark.parametrize("key_type", [KeyType.P256, KeyType.P384, KeyType.P521])
def test_ecdsa_signer_output_verifies_with_pyca(key_type: KeyType) -> None:
    """Our r||s, turned to DER, verifies with pyca and the curve's hash (VC-DI-ECDSA)."""
    pair = KeyPair.from_multikey(_json(KEY_PAIRS[key_type]))
    data = b"certvc cross-check"
    signature = pair.signer().sign(data)
    assert len(signature) == key_type.signature_length
    half = len(signature) // 2
    der = encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )
    reference = ec.EllipticCurvePublicKey.from_encoded_point(CURVES[key_type], pair.public_key.raw)
    reference.verify(der, data, ec.ECDSA(HASHES[key_type]))
    other = hashes.SHA384() if key_type is KeyType.P256 else hashes.SHA256()
    with pytest.raises(InvalidSignature):
        reference.verify(der, data, ec.ECDSA(other))


def test_p384_verify_uses_sha384() -> None:
    """Fails when P-384 signatures are checked with SHA-256 (VC-DI-ECDSA "Hashing")."""
    secret = ec.generate_private_key(ec.SECP384R1())
    pair = KeyPair.from_multikey({"secretKeyMultibase": _secret_multibase(secret)})
    data = b"hash choice matters"
    for algorithm, expected in ((hashes.SHA256(), False), (hashes.SHA384(), True)):
        r, s = decode_dss_signature(secret.sign(data, ec.ECDSA(algorithm)))
        signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
        assert pair.public_key.verify(signature, data) is expected


def _secret_multibase(secret: ec.EllipticCurvePrivateKey) -> str:
    return encode_secret(KeyType.P384, secret.private_numbers().private_value.to_bytes(48, "big"))


@pytest.mark.parametrize("key_type", list(KeyType))
def test_verify_returns_false_for_malformed_signatures(key_type: KeyType) -> None:
    """A bad signature is a verification failure, never an exception."""
    pair = KeyPair.generate(key_type)
    good = pair.signer().sign(b"data")
    assert pair.public_key.verify(good, b"data")
    half = key_type.signature_length // 2
    r = int.from_bytes(good[:half], "big")
    s = int.from_bytes(good[half:], "big")
    der = encode_dss_signature(r, s)
    for bad in (b"", good[:-1], good + b"\x00", der, bytes(key_type.signature_length)):
        assert pair.public_key.verify(bad, b"data") is False
    assert pair.public_key.verify("not bytes", b"data") is False  # type: ignore[arg-type]


@pytest.mark.parametrize("key_type", list(KeyType))
def test_generated_key_signs_and_other_keys_do_not_verify(key_type: KeyType) -> None:
    first, second = KeyPair.generate(key_type), KeyPair.generate(key_type)
    assert first.public_key != second.public_key
    signature = first.signer().sign(b"message")
    assert first.public_key.verify(signature, b"message")
    assert not second.public_key.verify(signature, b"message")


def test_signer_protocol_and_key_ids() -> None:
    pair = KeyPair.generate(KeyType.P256)
    default = pair.signer()
    assert isinstance(default, Signer)
    assert default.key_id == pair.public_key.did_key_method_id
    assert default.algorithm == "ES256"
    assert default.public_key == pair.public_key
    custom = pair.signer("did:web:example.com#key-2")
    assert custom.key_id == "did:web:example.com#key-2"


@pytest.mark.parametrize("key_type", list(KeyType))
def test_repr_shows_type_and_thumbprint_never_secrets(key_type: KeyType) -> None:
    """House style 10: a key's repr shows only its type/id and thumbprint."""
    obj = _json(KEY_PAIRS[key_type])
    pair = KeyPair.from_multikey(obj)
    secret_jwk = pair.export_private_jwk()
    pem = pair.export_pkcs8_pem(None).decode()
    signer = pair.signer("did:web:example.com#key-1")
    for text in (repr(pair), str(pair), f"{pair}", repr(signer), str(signer)):
        assert pair.public_key.thumbprint in text
        assert key_type.value in text
        assert _secret_string(obj) not in text
        assert _secret_string(obj)[8:30] not in text
        assert secret_jwk["d"] not in text
        assert "PRIVATE KEY" not in text and pem[40:80] not in text
    assert "did:web:example.com#key-1" in repr(signer)


def test_key_pairs_and_signers_cannot_be_pickled_or_copied() -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    for obj in (pair, pair.signer()):
        for action in (pickle.dumps, copy.copy, copy.deepcopy):
            with pytest.raises(TypeError):
                action(obj)


def test_from_multikey_refuses_a_public_key_of_another_secret() -> None:
    """The public key in the key pair JSON must belong to the secret key."""
    obj = dict(_json(KEY_PAIRS[KeyType.P256]))
    obj["publicKeyMultibase"] = KeyPair.generate(KeyType.P256).public_key.multibase
    with pytest.raises(KeyMaterialError) as info:
        KeyPair.from_multikey(obj)
    assert info.value.code is KeyCode.KEY_INVALID
    assert _secret_string(obj) not in str(info.value)


def test_from_multikey_needs_a_secret() -> None:
    with pytest.raises(KeyMaterialError):
        KeyPair.from_multikey(
            {"publicKeyMultibase": _json(KEY_PAIRS[KeyType.P256])["publicKeyMultibase"]}
        )


@pytest.mark.parametrize(
    ("key_type", "scalar"),
    [
        (KeyType.P256, 0),
        (KeyType.P256, 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
        (KeyType.P384, 0),
    ],
)
def test_ec_scalar_out_of_range_is_refused(key_type: KeyType, scalar: int) -> None:
    """SEC 1 §3.2.1: a private key is an integer in [1, n-1]."""
    size = 32 if key_type is KeyType.P256 else 48
    value = encode_secret(key_type, scalar.to_bytes(size, "big"))
    with pytest.raises(KeyMaterialError) as info:
        KeyPair.from_multikey({"secretKeyMultibase": value})
    assert info.value.code is KeyCode.KEY_INVALID


def test_public_key_refuses_bad_raw_bytes() -> None:
    with pytest.raises(KeyMaterialError):
        PublicKey(KeyType.ED25519, bytes(31))
    off_curve = next(
        candidate
        for candidate in (b"\x02" + x.to_bytes(32, "big") for x in range(1, 100))
        if not _on_curve(candidate)
    )
    with pytest.raises(KeyMaterialError):
        PublicKey(KeyType.P256, off_curve)


def _on_curve(point: bytes) -> bool:
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


def test_multikey_document() -> None:
    """CID 1.0 Multikey: id, type, controller, publicKeyMultibase."""
    value = _json(KEY_PAIRS[KeyType.P256])["publicKeyMultibase"]
    document = PublicKey.from_multibase(value).multikey_document(
        controller="did:web:example.com", id="did:web:example.com#key-1"
    )
    assert document == {
        "id": "did:web:example.com#key-1",
        "type": "Multikey",
        "controller": "did:web:example.com",
        "publicKeyMultibase": value,
    }


def test_pkcs8_round_trip_keeps_the_key() -> None:
    pair = KeyPair.generate(KeyType.P384)
    loaded = KeyPair.from_pkcs8_pem(pair.export_pkcs8_pem(b"passphrase"), b"passphrase")
    assert loaded.public_key == pair.public_key
    with pytest.raises(KeyMaterialError) as info:
        KeyPair.from_pkcs8_pem(pair.export_pkcs8_pem(b"passphrase"), b"other")
    assert info.value.code is KeyCode.PASSPHRASE_WRONG
