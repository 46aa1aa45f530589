"""Ed25519 signs through libsodium (keys._hazmat); the bytes must be OpenSSL's, always.

Ed25519 is deterministic (RFC 8032 §5.1.6): one key and one message give one signature, so any
difference between the two libraries would be a bug in how the key was handed over.
"""

from __future__ import annotations

import copy
import pickle

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from keys import _hazmat
from keys.keypair import KeyPair, KeyType


@settings(max_examples=200, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), message=st.binary(max_size=4096))
def test_ed25519_signature_is_openssls(seed: bytes, message: bytes) -> None:
    secret = _hazmat.secret_from_bytes(KeyType.ED25519, seed)
    reference = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    assert secret.sign(message) == reference.sign(message)
    reference.public_key().verify(secret.sign(message), message)  # raises if wrong


def test_keys_loaded_from_an_encrypted_file_sign_the_same() -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    pem = pair.export_pkcs8_pem(b"correct horse battery staple")
    loaded = KeyPair.from_pkcs8_pem(pem, b"correct horse battery staple")
    reference = serialization.load_pem_private_key(pem, b"correct horse battery staple")
    assert isinstance(reference, ed25519.Ed25519PrivateKey)
    message = b"certvc " * 100
    assert loaded.signer().sign(message) == pair.signer().sign(message)
    assert loaded.signer().sign(message) == reference.sign(message)


def test_the_secret_stays_out_of_repr() -> None:
    secret = _hazmat.generate(KeyType.ED25519)
    seed = _hazmat.secret_to_bytes(secret)
    assert seed.hex() not in repr(secret)
    assert repr(secret) == "<SecretKey ed25519>"


def test_the_secret_cannot_be_pickled_copied_or_read_through_getstate() -> None:
    secret = _hazmat.generate(KeyType.ED25519)
    for attempt in (secret.__getstate__, lambda: pickle.dumps(secret), lambda: copy.copy(secret)):
        with pytest.raises(TypeError):
            attempt()
