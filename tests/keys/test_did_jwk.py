"""did:jwk: creation, resolution, and the holder resolver (did:key and did:jwk only)."""

from __future__ import annotations

import base64
import json

import pytest

from contexts.errors import Code
from keys.did import find_verification_method
from keys.did_jwk import HolderResolver, did_jwk, resolve_did_jwk
from keys.errors import DidError, KeyCode
from keys.keypair import KeyPair, KeyType


def _did(jwk: dict) -> str:
    return "did:jwk:" + base64.urlsafe_b64encode(json.dumps(jwk).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("key_type", list(KeyType))
def test_round_trip(key_type: KeyType) -> None:
    public = KeyPair.generate(key_type).public_key
    did = did_jwk(public)
    document = resolve_did_jwk(did)
    assert document["id"] == did
    key, controller = find_verification_method(document, f"{did}#0", "authentication")
    assert key == public and controller == did
    assert "keyAgreement" not in document


def test_spec_example_p256() -> None:
    """did:jwk spec example (P-256) resolves to a JsonWebKey2020 method #0."""
    did = (
        "did:jwk:eyJjcnYiOiJQLTI1NiIsImt0eSI6IkVDIiwieCI6ImFjYklRaXVNczNpOF91c3pFakoydHBUdFJNNEVVM3l6"
        "OTFQSDZDZEgyVjAiLCJ5IjoiX0tjeUxqOXZXTXB0bm1LdG00NkdxRHo4d2Y3NEk1TEtncmwyR3pIM25TRSJ9"
    )
    method = resolve_did_jwk(did)["verificationMethod"][0]
    assert method["id"] == f"{did}#0" and method["type"] == "JsonWebKey2020"


@pytest.mark.parametrize(
    ("did", "code"),
    [
        ("did:jwk:!!!", KeyCode.DID_INVALID),
        (_did({"kty": "oct", "k": "c2VjcmV0"}), KeyCode.DID_UNRESOLVABLE),
        (_did({"kty": "RSA", "n": "AQAB", "e": "AQAB"}), KeyCode.DID_UNRESOLVABLE),
        ("did:jwk:" + base64.urlsafe_b64encode(b"[1]").decode().rstrip("="), KeyCode.DID_INVALID),
    ],
    ids=["not-base64", "symmetric", "rsa", "not-an-object"],
)
def test_unusable_did_jwk(did: str, code: Code) -> None:
    with pytest.raises(DidError) as caught:
        resolve_did_jwk(did)
    assert caught.value.code is code


def test_private_jwk_is_refused() -> None:
    private = KeyPair.generate(KeyType.ED25519).export_private_jwk()
    with pytest.raises(DidError):
        resolve_did_jwk(_did(private))


def test_holder_resolver_takes_only_did_key_and_did_jwk() -> None:
    public = KeyPair.generate(KeyType.P256).public_key
    resolver = HolderResolver()
    assert resolver.resolve(public.did_key)["id"] == public.did_key
    assert resolver.resolve(did_jwk(public))["id"] == did_jwk(public)
    with pytest.raises(DidError) as caught:
        resolver.resolve("did:web:example.com")
    assert caught.value.code is KeyCode.DID_UNRESOLVABLE
