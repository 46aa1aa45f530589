"""JWK / JWKS import and export (RFC 7517, RFC 7518 §6.2, RFC 8037, RFC 7638)."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk as jwcrypto_jwk

from keys.errors import KeyCode, KeyMaterialError
from keys.jwk import jwks, public_jwk, thumbprint
from keys.keypair import KeyPair, KeyType, PublicKey

# RFC 8037 Appendix A.1-A.4 (Ed25519).
RFC8037_PRIVATE = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_SIGNING_INPUT = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
RFC8037_SIGNATURE = (
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

# did:key test vectors (w3c-ccg/did-method-key test-vectors/nist-curves.json, commit e7839a8).
NIST_VECTORS = [
    (
        "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
            "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
            "d": "gPh-VvVS8MbvKQ9LSVVmfnxnKjHn4Tqj0bmbpehRlpc",
        },
    ),
    (
        "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169",
        {
            "kty": "EC",
            "crv": "P-256",
            "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI",
            "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU",
            "d": "YjRs6vNvw4sYrzVVY8ipkEpDAD9PFqw1sUnvPRMA-WI",
        },
    ),
    (
        "did:key:z82Lm1MpAkeJcix9K8TMiLd5NMAhnwkjjCBeWHXyu3U4oT2MVJJKXkcVBgjGhnLBn2Kaau9",
        {
            "kty": "EC",
            "crv": "P-384",
            "x": "lInTxl8fjLKp_UCrxI0WDklahi-7-_6JbtiHjiRvMvhedhKVdHBfi2HCY8t_QJyc",
            "y": "y6N1IC-2mXxHreETBW7K3mBcw0qGr3CWHCs-yl09yCQRLcyfGv7XhqAngHOu51Zv",
            "d": "hAyGZNj9031guBCdpAOaZkO-E5m-LKLYnMIq0-msrp8JLctseaOeNTHmP3uKVWwX",
        },
    ),
    (
        "did:key:z82LkvCwHNreneWpsgPEbV3gu1C6NFJEBg4srfJ5gdxEsMGRJUz2sG9FE42shbn2xkZJh54",
        {
            "kty": "EC",
            "crv": "P-384",
            "x": "CA-iNoHDg1lL8pvX3d1uvExzVfCz7Rn6tW781Ub8K5MrDf2IMPyL0RTDiaLHC1JT",
            "y": "Kpnrn8DkXUD3ge4mFxi-DKr0DYO2KuJdwNBrhzLRtfMa3WFMZBiPKUPfJj8dYNl_",
            "d": "Xe1HHeh-UsrJPRNLR_Y06VTrWpZYBXi7a7kiRqCgwnAOlJZPwE-xzL3DIIVMavAL",
        },
    ),
]


def _public_part(jwk: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in jwk.items() if name != "d"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_rfc8037_ed25519_vectors() -> None:
    """RFC 8037 A.1-A.4: private JWK import, public JWK, thumbprint and the EdDSA signature."""
    pair = KeyPair.from_jwk(RFC8037_PRIVATE)
    assert pair.public_key.to_jwk() == _public_part(RFC8037_PRIVATE)
    assert pair.public_key.thumbprint == RFC8037_THUMBPRINT
    assert _b64(pair.signer().sign(RFC8037_SIGNING_INPUT)) == RFC8037_SIGNATURE
    assert pair.export_private_jwk() == RFC8037_PRIVATE


@pytest.mark.parametrize(("did", "private"), NIST_VECTORS)
def test_did_key_nist_vectors_match_jwks(did: str, private: dict[str, str]) -> None:
    """did:key vectors: the JWK's compressed point is the did:key, both ways; the private JWK
    round-trips exactly (RFC 7518 §6.2.2.1: fixed-length d)."""
    public = PublicKey.from_jwk(_public_part(private))
    assert public.did_key == did
    assert PublicKey.from_multibase(did.removeprefix("did:key:")).to_jwk() == _public_part(private)
    pair = KeyPair.from_jwk(private)
    assert pair.public_key == public
    assert pair.export_private_jwk() == private


@pytest.mark.parametrize("key_type", list(KeyType))
def test_thumbprint_agrees_with_jwcrypto(key_type: KeyType) -> None:
    """RFC 7638 §3: our thumbprint equals jwcrypto's independent implementation."""
    public = KeyPair.generate(key_type).public_key
    reference = jwcrypto_jwk.JWK(**public.to_jwk())
    assert public.thumbprint == reference.thumbprint()
    assert thumbprint(key_type, public.raw) == public.thumbprint


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "oct", "k": "c2VjcmV0"},
        {"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "crv": "P-256"},
    ],
)
def test_symmetric_jwk_is_refused(jwk: dict[str, str]) -> None:
    """A shared secret must never stand in for a public key (HMAC downgrade): key_unsupported."""
    for load in (PublicKey.from_jwk, KeyPair.from_jwk):
        with pytest.raises(KeyMaterialError) as info:
            load(jwk)
        assert info.value.code is KeyCode.KEY_UNSUPPORTED
        assert "c2VjcmV0" not in str(info.value)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "OKP", "crv": "X25519", "x": "AA"},
        {"kty": "OKP", "crv": "Ed448", "x": "AA"},  # P-521 is supported since issue 14
        {"kty": "OKP", "crv": "P-256", "x": "AA"},
    ],
)
def test_other_key_types_are_unsupported(jwk: dict[str, str]) -> None:
    with pytest.raises(KeyMaterialError) as info:
        PublicKey.from_jwk(jwk)
    assert info.value.code is KeyCode.KEY_UNSUPPORTED


def test_public_import_refuses_a_private_jwk() -> None:
    """A private part where a public key is expected is refused, and not echoed."""
    with pytest.raises(KeyMaterialError) as info:
        PublicKey.from_jwk(RFC8037_PRIVATE)
    assert info.value.code is KeyCode.KEY_INVALID
    assert RFC8037_PRIVATE["d"] not in str(info.value)


def test_private_import_needs_d_and_a_matching_public_part() -> None:
    with pytest.raises(KeyMaterialError):
        KeyPair.from_jwk(_public_part(RFC8037_PRIVATE))
    other = KeyPair.generate(KeyType.ED25519).public_key.to_jwk()
    with pytest.raises(KeyMaterialError) as info:
        KeyPair.from_jwk({**RFC8037_PRIVATE, "x": other["x"]})
    assert info.value.code is KeyCode.KEY_INVALID
    assert RFC8037_PRIVATE["d"] not in str(info.value)


def test_alg_and_use_must_fit() -> None:
    """RFC 7517 §4.2, §4.4: a key marked for another algorithm or for encryption is refused."""
    public = _public_part(NIST_VECTORS[0][1])
    assert (
        PublicKey.from_jwk({**public, "alg": "ES256", "use": "sig"}).did_key == (NIST_VECTORS[0][0])
    )
    for extra in ({"alg": "ES384"}, {"alg": "HS256"}, {"use": "enc"}):
        with pytest.raises(KeyMaterialError) as info:
            PublicKey.from_jwk({**public, **extra})
        assert info.value.code is KeyCode.KEY_INVALID


def test_point_not_on_curve_is_refused() -> None:
    public = _public_part(NIST_VECTORS[0][1])
    y = base64.urlsafe_b64decode(public["y"] + "=")
    bad_y = _b64(y[:-1] + bytes([y[-1] ^ 1]))
    with pytest.raises(KeyMaterialError) as info:
        PublicKey.from_jwk({**public, "y": bad_y})
    assert info.value.code is KeyCode.KEY_INVALID


@pytest.mark.parametrize(
    "x",
    [
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=",  # padding
        "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo",  # base64, not base64url
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp",  # non-zero trailing bits
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHU",  # 31 bytes
        12,
    ],
)
def test_bad_base64url_is_refused(x: object) -> None:
    """RFC 7515 §2: base64url without padding; we also refuse non-canonical encodings."""
    with pytest.raises(KeyMaterialError) as info:
        PublicKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": x})
    assert info.value.code is KeyCode.KEY_INVALID


def test_jwks_lists_public_keys_with_kid_and_alg() -> None:
    """RFC 7517 §5: a JWK Set of public keys; kid identifies each, alg pins its algorithm."""
    ed = KeyPair.from_jwk(RFC8037_PRIVATE).public_key
    p256 = PublicKey.from_jwk(_public_part(NIST_VECTORS[0][1]))
    document = jwks([("did:web:example.com#key-1", ed), ("did:web:example.com#key-2", p256)])
    assert document == {
        "keys": [
            {**_public_part(RFC8037_PRIVATE), "kid": "did:web:example.com#key-1", "alg": "EdDSA"},
            {
                **_public_part(NIST_VECTORS[0][1]),
                "kid": "did:web:example.com#key-2",
                "alg": "ES256",
            },
        ]
    }
    assert public_jwk(ed) == _public_part(RFC8037_PRIVATE)
    for entry in document["keys"]:
        jwcrypto_jwk.JWK(**entry)  # an independent parser accepts every entry


def test_jwks_refuses_duplicate_or_empty_kid() -> None:
    key = KeyPair.generate(KeyType.ED25519).public_key
    with pytest.raises(KeyMaterialError):
        jwks([("a", key), ("a", key)])
    with pytest.raises(KeyMaterialError):
        jwks([("", key)])


@settings(deadline=None)  # crypto under a loaded CI runner
@given(st.sampled_from([ec.SECP256R1(), ec.SECP384R1()]), st.data())
def test_ec_jwk_round_trip(curve: ec.EllipticCurve, data: st.DataObject) -> None:
    """JWK x/y <-> compressed point, checked against pyca's own uncompressed encoding."""
    order = {
        "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        "secp384r1": int(
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77A"
            "ECEC196ACCC52973",
            16,
        ),
    }[curve.name]
    scalar = data.draw(st.integers(min_value=1, max_value=order - 1))
    reference = ec.derive_private_key(scalar, curve)
    point = reference.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    size = (len(point) - 1) // 2
    jwk = {
        "kty": "EC",
        "crv": "P-256" if curve.name == "secp256r1" else "P-384",
        "x": _b64(point[1 : 1 + size]),
        "y": _b64(point[1 + size :]),
    }
    public = PublicKey.from_jwk(jwk)
    assert public.to_jwk() == jwk
    private = {**jwk, "d": _b64(scalar.to_bytes(size, "big"))}
    assert KeyPair.from_jwk(private).export_private_jwk() == private


@settings(deadline=None)  # crypto under a loaded CI runner
@given(st.binary(min_size=32, max_size=32))
def test_ed25519_jwk_round_trip(seed: bytes) -> None:
    pair = KeyPair.from_jwk(
        {"kty": "OKP", "crv": "Ed25519", "d": _b64(seed), "x": _ed25519_x(seed)}
    )
    assert PublicKey.from_jwk(pair.public_key.to_jwk()) == pair.public_key
    assert pair.export_private_jwk()["d"] == _b64(seed)


def _ed25519_x(seed: bytes) -> str:
    public = ed25519.Ed25519PrivateKey.from_private_bytes(seed).public_key()
    return _b64(public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))
