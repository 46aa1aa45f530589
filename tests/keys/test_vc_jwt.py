"""VC-JOSE-COSE application/vc+jwt: sign, verify, refuse algorithm tricks (§3.1.1, RFC 8725)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from jwcrypto import jwk, jws

from contexts.errors import Code
from keys.did import LocalResolver
from keys.errors import DidError, KeyCode, ProofError
from keys.keypair import KeyPair, KeyType
from keys.suites import vc_jwt
from verifier.samples import certification_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict, payload: dict, signature: bytes = b"") -> str:
    h = _b64(json.dumps(header).encode())
    p = _b64(json.dumps(payload).encode())
    return f"{h}.{p}.{_b64(signature)}"


@pytest.fixture(
    scope="module", params=[KeyType.ED25519, KeyType.P256, KeyType.P384], ids=lambda t: t.value
)
def pair(request) -> KeyPair:
    return KeyPair.generate(request.param)


def _credential(pair: KeyPair) -> dict:
    return certification_credential(pair.public_key.did_key, valid_from=NOW)


def test_round_trip_and_header(pair: KeyPair) -> None:
    """The payload is the credential itself; typ vc+jwt; kid names the did:key method."""
    token = vc_jwt.sign(_credential(pair), pair.signer())
    parsed = vc_jwt.parse(token)
    assert parsed.header["typ"] == "vc+jwt"
    assert parsed.header["alg"] == pair.key_type.jose_alg
    assert parsed.header["kid"] == pair.public_key.did_key_method_id
    assert parsed.unverified_payload == _credential(pair)
    checked = vc_jwt.verify(parsed, resolver=LocalResolver(), now=NOW)
    assert checked.controller == pair.public_key.did_key


def test_jwcrypto_verifies_our_tokens_independently(pair: KeyPair) -> None:
    """Our hand-assembled compact JWS is a standard JWS: jwcrypto checks it with the public JWK."""
    token = vc_jwt.sign(_credential(pair), pair.signer())
    checker = jws.JWS()
    checker.deserialize(token)
    checker.verify(jwk.JWK(**pair.public_key.to_jwk()), alg=pair.key_type.jose_alg)
    assert json.loads(checker.payload) == _credential(pair)


def _verify(token: str) -> None:
    vc_jwt.verify(vc_jwt.parse(token), resolver=LocalResolver(), now=NOW)


def test_alg_none_is_refused() -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    token = _token(
        {"alg": "none", "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id},
        _credential(pair),
    )
    with pytest.raises(ProofError) as caught:
        _verify(token)
    assert caught.value.code is KeyCode.JWT_ALG_NOT_ALLOWED


def test_hmac_with_the_public_key_as_secret_is_refused() -> None:
    """The classic confusion: HS256 keyed with the issuer's public key bytes."""
    pair = KeyPair.generate(KeyType.P256)
    header = {"alg": "HS256", "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id}
    unsigned = _token(header, _credential(pair)).rsplit(".", 1)[0]
    for secret in (pair.public_key.raw, pair.public_key.multibase.encode()):
        mac = hmac.new(secret, unsigned.encode(), hashlib.sha256).digest()
        with pytest.raises(ProofError) as caught:
            _verify(unsigned + "." + _b64(mac))
        assert caught.value.code is KeyCode.JWT_ALG_NOT_ALLOWED


def test_algorithm_must_fit_the_key() -> None:
    """A header claiming ES256 for an Ed25519 key is refused before any signature check."""
    pair = KeyPair.generate(KeyType.ED25519)
    other = KeyPair.generate(KeyType.P256)
    header = {"alg": "ES256", "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id}
    unsigned = _token(header, _credential(pair)).rsplit(".", 1)[0]
    forged = unsigned + "." + _b64(other.signer().sign(unsigned.encode()))
    with pytest.raises(ProofError) as caught:
        _verify(forged)
    assert caught.value.code is KeyCode.JWT_ALG_NOT_ALLOWED


def test_signature_by_another_key_fails() -> None:
    pair, other = KeyPair.generate(KeyType.ED25519), KeyPair.generate(KeyType.ED25519)
    token = vc_jwt.sign(_credential(pair), other.signer(pair.public_key.did_key_method_id))
    with pytest.raises(ProofError) as caught:
        _verify(token)
    assert caught.value.code is KeyCode.SIGNATURE_INVALID


def test_changed_payload_fails() -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    head, _, sig = vc_jwt.sign(_credential(pair), pair.signer()).split(".")
    changed = _credential(pair)
    changed["credentialSubject"]["licenseNumber"] = "CB-2026-004218"
    with pytest.raises(ProofError) as caught:
        _verify(f"{head}.{_b64(json.dumps(changed).encode())}.{sig}")
    assert caught.value.code is KeyCode.SIGNATURE_INVALID


@pytest.mark.parametrize(
    ("header_change", "code"),
    [
        ({"typ": "JWT"}, KeyCode.JWT_MALFORMED),
        ({"kid": None}, KeyCode.JWT_MALFORMED),
        ({"crit": ["exp"]}, KeyCode.JWT_MALFORMED),
        ({"b64": False}, KeyCode.JWT_MALFORMED),  # RFC 7797 unencoded payload
    ],
    ids=["typ", "no-kid", "crit", "b64"],
)
def test_header_rules(header_change: dict, code: Code) -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    header = {"alg": "EdDSA", "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id}
    header.update(header_change)
    header = {k: v for k, v in header.items() if v is not None}
    unsigned = _token(header, _credential(pair)).rsplit(".", 1)[0]
    with pytest.raises(ProofError) as caught:
        _verify(unsigned + "." + _b64(pair.signer().sign(unsigned.encode())))
    assert caught.value.code is code


def test_unresolvable_kid_is_a_did_error() -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    token = vc_jwt.sign(_credential(pair), pair.signer("did:web:unknown.example#key-1"))
    with pytest.raises(DidError):
        _verify(token)


def test_registered_claims_must_agree_with_the_credential() -> None:
    """Policy: iss/jti/sub/nbf/exp, where present, agree with issuer/id/subject/validFrom/Until."""
    pair = KeyPair.generate(KeyType.ED25519)
    credential = _credential(pair)
    credential["iss"] = "did:web:someone-else.example"
    with pytest.raises(ProofError) as caught:
        _verify(vc_jwt.sign(credential, pair.signer()))
    assert caught.value.code is KeyCode.JWT_CLAIM_MISMATCH
    agreeing = _credential(pair)
    agreeing["iss"] = pair.public_key.did_key
    _verify(vc_jwt.sign(agreeing, pair.signer()))


@pytest.mark.parametrize("token", ["a.b", "e30.e30", "eyJ.eyJ.x", "!!!.???.###", "W10.W10.AA"])
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(ProofError) as caught:
        vc_jwt.parse(token)
    assert caught.value.code is KeyCode.JWT_MALFORMED


def _signed_parts(key_type: KeyType = KeyType.ED25519) -> tuple[str, str, str]:
    pair = KeyPair.generate(key_type)
    head, payload, signature = vc_jwt.sign(_credential(pair), pair.signer()).split(".")
    return head, payload, signature


@pytest.mark.parametrize("signature", ["A", "AAAAA", "A" * 85 + "=", "A+/A"])
def test_a_signature_part_that_is_not_base64url_is_malformed(signature: str) -> None:
    """Never an unexpected error (a length of 4n+1 once raised binascii.Error)."""
    head, payload, _ = _signed_parts()
    with pytest.raises(ProofError) as caught:
        _verify(f"{head}.{payload}.{signature}")
    assert caught.value.code is KeyCode.JWT_MALFORMED


def test_one_signature_has_one_spelling() -> None:
    """A changed unused bit in the last character decodes to the same bytes: refused, so a
    token cannot be re-spelled (deduplication or revocation keyed on the token holds)."""
    head, payload, signature = _signed_parts()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 64 bytes are 86 characters: the last one carries 4 bits that encode nothing.
    respelled = signature[:-1] + alphabet[alphabet.index(signature[-1]) ^ 1]
    assert base64.urlsafe_b64decode(respelled + "==") == base64.urlsafe_b64decode(signature + "==")
    _verify(f"{head}.{payload}.{signature}")
    with pytest.raises(ProofError) as caught:
        _verify(f"{head}.{payload}.{respelled}")
    assert caught.value.code is KeyCode.JWT_MALFORMED


def test_an_es256_signature_must_be_exactly_r_and_s() -> None:
    """RFC 7518 §3.4: 64 bytes; r and s padded to 33 bytes each would verify in a lax parser."""
    head, payload, signature = _signed_parts(KeyType.P256)
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    padded = b"\x00" + raw[:32] + b"\x00" + raw[32:]
    with pytest.raises(ProofError) as caught:
        _verify(f"{head}.{payload}.{_b64(padded)}")
    assert caught.value.code is KeyCode.SIGNATURE_INVALID


@pytest.mark.parametrize("alg", [["EdDSA"], {"alg": "EdDSA"}, 1, None])
def test_an_alg_that_is_not_a_string_is_refused(alg: object) -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    header = {"alg": alg, "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id}
    with pytest.raises(ProofError) as caught:
        _verify(_token(header, _credential(pair), b"\x00" * 64))
    assert caught.value.code is KeyCode.JWT_ALG_NOT_ALLOWED
