"""Keys in a real PKCS#11 token (SoftHSM2): generated inside, never exported, signing what the
suites need, behind the key store like key files.

The token is the test run's one SoftHSM2 token (the ``softhsm`` fixture); each test makes its
own keys in it, found by their own ``CKA_ID``.
"""

from __future__ import annotations

import os
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, Mechanism, ObjectClass
from pkcs11 import exceptions as p11

from keys._hazmat import ec_coordinates
from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyType, Signer
from keys.keystore import KeyStatus, KeyStore
from keys.pkcs11_token import Token, TokenConfig, load_pin

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def token(softhsm: Any) -> Token:
    return Token.open(TokenConfig(softhsm.module, softhsm.token), softhsm.pin)


def _cryptography_verify(key_type: KeyType, raw: bytes, signature: bytes, data: bytes) -> None:
    """pyca/cryptography (OpenSSL) checks the token's signature: raises when it is bad."""
    if key_type is KeyType.ED25519:
        ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
        return
    curve = ec.SECP256R1() if key_type is KeyType.P256 else ec.SECP384R1()
    x, y = ec_coordinates(key_type, raw)
    public = ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + x + y)
    half = len(signature) // 2
    der = encode_dss_signature(
        int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
    )
    digest = hashes.SHA256() if key_type is KeyType.P256 else hashes.SHA384()
    public.verify(der, data, ec.ECDSA(digest))


@pytest.mark.parametrize("key_type", [KeyType.ED25519, KeyType.P256, KeyType.P384])
def test_a_token_key_signs_what_openssl_verifies(token: Token, key_type: KeyType) -> None:
    assert token.supports(key_type)
    reference, public = token.generate(key_type, f"did:example:t#{key_type.value}")
    signer = token.signer(reference, key_type, "did:example:t#k")
    assert isinstance(signer, Signer)
    assert signer.public_key == public == token.public_key(reference, key_type)
    assert signer.algorithm == key_type.jose_alg
    data = b"certvc " * 50
    signature = signer.sign(data)
    # EdDSA 64 bytes; ECDSA r||s (IEEE P1363), never DER.
    assert len(signature) == key_type.signature_length
    assert public.verify(signature, data)
    assert not public.verify(signature, data + b"!")
    _cryptography_verify(key_type, public.raw, signature, data)


def _private_object(softhsm: Any, reference: str) -> tuple[Any, Any]:
    """The token's own view of the private key, through a session of this test."""
    lib = pkcs11.lib(softhsm.module)
    session = lib.get_token(token_label=softhsm.token).open(rw=True, user_pin=softhsm.pin)
    cka_id = bytes.fromhex(reference.removeprefix("pkcs11:"))
    return session, session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=cka_id)


def test_the_private_key_cannot_leave_the_token(softhsm: Any, token: Token) -> None:
    reference, _ = token.generate(KeyType.ED25519, "did:example:t#sealed")
    try:
        session, private = _private_object(softhsm, reference)
    except p11.UserAlreadyLoggedIn:  # this process logged in already: a new session shares it
        lib = pkcs11.lib(softhsm.module)
        session = lib.get_token(token_label=softhsm.token).open(rw=True)
        cka_id = bytes.fromhex(reference.removeprefix("pkcs11:"))
        private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=cka_id)
    assert private[Attribute.SENSITIVE] is True
    assert private[Attribute.EXTRACTABLE] is False
    assert private[Attribute.NEVER_EXTRACTABLE] is True
    assert private[Attribute.ALWAYS_SENSITIVE] is True
    with pytest.raises(p11.AttributeSensitive):  # the token refuses CKA_VALUE
        private[Attribute.VALUE]
    wrapping = session.generate_key(
        pkcs11.KeyType.AES, 256, template={Attribute.WRAP: True, Attribute.TOKEN: False}
    )
    with pytest.raises((p11.KeyUnextractable, p11.KeyNotWrappable)):  # and refuses to wrap it
        wrapping.wrap_key(private, mechanism=Mechanism.AES_KEY_WRAP_PAD)
    with pytest.raises(p11.AttributeReadOnly):  # nor may it be made extractable later
        private[Attribute.EXTRACTABLE] = True


def test_a_key_store_over_the_token_creates_rotates_and_publishes(
    token: Token, tmp_path: Path
) -> None:
    store = KeyStore.open(tmp_path / "keys", None, now=NOW, vault=token)
    first = store.create(KeyType.ED25519, "did:web:example.org#ed25519-1")
    assert first.file.startswith("pkcs11:")
    # Nothing secret on disk: the folder holds only the index.
    assert sorted(p.name for p in (tmp_path / "keys").iterdir() if not p.name.startswith(".")) == [
        "keystore.json"
    ]
    old_signer = store.active_signer()
    second = store.rotate(None, "did:web:example.org#ed25519-2")

    again = KeyStore.open(tmp_path / "keys", None, now=NOW, vault=token)
    assert [(r.id, r.status) for r in again.records()] == [
        (first.id, KeyStatus.RETIRED),
        (second.id, KeyStatus.ACTIVE),
    ]
    signer = again.active_signer()
    assert signer.key_id == second.id
    assert signer.public_key != old_signer.public_key
    assert signer.public_key.verify(signer.sign(b"x"), b"x")
    methods = again.methods()
    assert [m.id for m in methods] == [first.id, second.id]
    assert methods[0].public_key == old_signer.public_key  # read back from the token


def test_a_token_store_refuses_key_files_and_a_file_store_token_keys(
    token: Token, tmp_path: Path
) -> None:
    KeyStore.open(tmp_path / "t", None, now=NOW, vault=token).create(KeyType.P256, "did:x#p-1")
    without = KeyStore.open(tmp_path / "t", None, now=NOW)
    with pytest.raises(KeyMaterialError) as caught:
        without.active_signer()
    assert caught.value.code is KeyCode.KEY_NOT_FOUND

    KeyStore.open(tmp_path / "f", None, allow_plaintext=True, now=NOW).create(
        KeyType.P256, "did:x#p-1"
    )
    with pytest.raises(KeyMaterialError) as caught:
        KeyStore.open(tmp_path / "f", None, now=NOW, vault=token).active_signer()
    assert caught.value.code is KeyCode.KEY_NOT_FOUND


def test_a_key_gone_from_the_token_is_key_not_found(token: Token) -> None:
    with pytest.raises(KeyMaterialError) as caught:
        token.signer("pkcs11:00112233445566778899aabbccddeeff", KeyType.ED25519, "did:x#k")
    assert caught.value.code is KeyCode.KEY_NOT_FOUND


def test_a_public_session_reads_public_keys_and_refuses_to_sign(softhsm: Any, token: Token) -> None:
    reference, public = token.generate(KeyType.P256, "did:example:t#public")
    reader = Token.open(TokenConfig(softhsm.module, softhsm.token), None)
    assert reader.public_key(reference, KeyType.P256) == public
    for attempt in (
        lambda: reader.signer(reference, KeyType.P256, "did:x#k"),
        lambda: reader.generate(KeyType.P256, "did:x#k"),
    ):
        with pytest.raises(KeyMaterialError) as caught:
            attempt()
        assert caught.value.code is KeyCode.PKCS11_PIN_REQUIRED


def test_signers_and_tokens_are_not_pickled_and_hide_the_pin(softhsm: Any, token: Token) -> None:
    reference, _ = token.generate(KeyType.ED25519, "did:example:t#pickle")
    signer = token.signer(reference, KeyType.ED25519, "did:x#k")
    for thing in (signer, token):
        with pytest.raises(TypeError):
            pickle.dumps(thing)
        assert softhsm.pin not in repr(thing)


def test_a_forked_child_signs_through_its_own_session(token: Token) -> None:
    """PKCS#11 sessions do not cross fork: the child opens the token again (C_Initialize)."""
    reference, public = token.generate(KeyType.ED25519, "did:example:t#fork")
    signer = token.signer(reference, KeyType.ED25519, "did:x#k")
    assert public.verify(signer.sign(b"parent"), b"parent")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.write(write, signer.sign(b"child"))
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child_signature = pipe.read()
    os.waitpid(pid, 0)
    assert public.verify(child_signature, b"child")
    assert public.verify(signer.sign(b"parent again"), b"parent again")  # the parent's still works


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CERTVC_PKCS11_PIN": "1234"}, "1234"),
        ({}, None),
    ],
)
def test_load_pin_from_the_environment(env: dict[str, str], expected: str | None) -> None:
    assert load_pin(env) == expected


def test_load_pin_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "pin").write_text("987654\n")
    assert load_pin({"CERTVC_PKCS11_PIN_FILE": str(tmp_path / "pin")}) == "987654"
    (tmp_path / "empty").write_text("\n")
    for path in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(KeyMaterialError) as caught:
            load_pin({"CERTVC_PKCS11_PIN_FILE": str(path)})
        assert caught.value.code is KeyCode.PKCS11_PIN_REQUIRED


def test_open_refuses_a_missing_module_and_an_absent_token(softhsm: Any, tmp_path: Path) -> None:
    cases = [
        (TokenConfig(str(tmp_path / "nope.so"), softhsm.token), KeyCode.PKCS11_MODULE_MISSING),
        (TokenConfig(__file__, softhsm.token), KeyCode.PKCS11_MODULE_MISSING),  # not a module
        (TokenConfig(softhsm.module, "no-such-token"), KeyCode.PKCS11_TOKEN_ABSENT),
    ]
    for config, code in cases:
        with pytest.raises(KeyMaterialError) as caught:
            Token.open(config, softhsm.pin)
        assert caught.value.code is code, config


def test_an_hmac_key_stays_in_the_token_and_macs_there(softhsm: Any, token: Token) -> None:
    """The audit log's MAC key on an HSM: a generic secret key made in the token, sensitive and
    unextractable, computing HMAC-SHA-256 there (the same MAC each time, another per key)."""
    assert token.supports_hmac()
    reference = token.generate_hmac_key("urn:certvc:audit-mac:from:1")
    other = token.generate_hmac_key("urn:certvc:audit-mac:from:1")
    first = token.hmac_sha256(reference, b"event")
    assert len(first) == 32 and token.hmac_sha256(reference, b"event") == first
    assert token.hmac_sha256(reference, b"event!") != first
    assert token.hmac_sha256(other, b"event") != first
    lib = pkcs11.lib(softhsm.module)
    session = lib.get_token(token_label=softhsm.token).open(rw=True)  # shares this login
    cka_id = bytes.fromhex(reference.removeprefix("pkcs11:"))
    secret = session.get_key(object_class=ObjectClass.SECRET_KEY, id=cka_id)
    assert secret[Attribute.SENSITIVE] is True and secret[Attribute.EXTRACTABLE] is False
    assert secret[Attribute.NEVER_EXTRACTABLE] is True
    with pytest.raises(p11.AttributeSensitive):  # the token refuses CKA_VALUE
        secret[Attribute.VALUE]
    # A public session (no PIN) cannot use it; a lost race's key is destroyed.
    reader = Token.open(TokenConfig(softhsm.module, softhsm.token), None)
    with pytest.raises(KeyMaterialError) as caught:
        reader.hmac_sha256(reference, b"event")
    assert caught.value.code is KeyCode.PKCS11_PIN_REQUIRED
    token.destroy_hmac_key(other)
    with pytest.raises(KeyMaterialError) as caught:
        token.check_hmac_key(other)
    assert caught.value.code is KeyCode.KEY_NOT_FOUND
    with pytest.raises(KeyMaterialError):  # a signing key is not an HMAC key
        token.check_hmac_key(token.generate(KeyType.ED25519, "did:example:t#not-hmac")[0])
