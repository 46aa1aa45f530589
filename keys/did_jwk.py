"""did:jwk (a DID that is a public JWK, base64url-encoded) and the holder DID resolver.

A wallet proves control of its key with ``kid: did:key:…`` or ``did:jwk:…#0``, or sends the
bare ``jwk``; certvc binds the credential subject to that DID. Both methods are resolved by
computation, never over the network. Only our signature key types are accepted (Ed25519, P-256,
P-384); a JWK with a private part or a symmetric key is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from keys.did import resolve_did_key
from keys.errors import DidError, KeyCode, KeyMaterialError
from keys.keypair import PublicKey

DID_JWK_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_MAX_DID_JWK = 2048


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def did_jwk(public_key: PublicKey) -> str:
    """``did:jwk:`` + base64url of the key's minimal public JWK (did:jwk "Create")."""
    text = json.dumps(public_key.to_jwk(), separators=(",", ":"), sort_keys=True)
    return f"did:jwk:{_b64url(text.encode('utf-8'))}"


def decode_did_jwk(did: str) -> tuple[dict[str, Any], PublicKey]:
    """The JWK of a did:jwk and the public key it holds.

    :raises DidError: ``did_invalid`` (encoding, not a public signature JWK),
        ``did_unresolvable`` (a key type certvc does not support).
    """
    did = did.split("#", 1)[0]
    value = did.removeprefix("did:jwk:")
    if value == did or len(did) > _MAX_DID_JWK or not _B64URL.fullmatch(value):
        raise DidError("not a did:jwk DID")
    try:
        jwk = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError) as cause:
        raise DidError("did:jwk does not hold base64url JSON") from cause
    if not isinstance(jwk, dict):
        raise DidError("did:jwk does not hold a JWK object")
    try:
        return jwk, PublicKey.from_jwk(jwk)
    except KeyMaterialError as cause:
        code = (
            KeyCode.DID_UNRESOLVABLE
            if cause.code is KeyCode.KEY_UNSUPPORTED
            else KeyCode.DID_INVALID
        )
        raise DidError(f"did:jwk key is unusable ({cause.message})", code=code) from cause


def resolve_did_jwk(did: str) -> dict[str, Any]:
    """The DID document of a did:jwk (did:jwk "Read"): one method ``#0``.

    Signature keys (``use`` absent or ``sig``) get every relationship but ``keyAgreement``.
    """
    did = did.split("#", 1)[0]
    jwk, _ = decode_did_jwk(did)
    if jwk.get("use") == "enc":
        raise DidError("did:jwk holds an encryption key, not a signature key")
    method_id = f"{did}#0"
    document: dict[str, Any] = {
        "@context": list(DID_JWK_CONTEXTS),
        "id": did,
        "verificationMethod": [
            {"id": method_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
        ],
    }
    for relationship in (
        "assertionMethod",
        "authentication",
        "capabilityInvocation",
        "capabilityDelegation",
    ):
        document[relationship] = [method_id]
    return document


class HolderResolver:
    """Resolves the DIDs a wallet may bind to: did:key and did:jwk, computed locally."""

    METHODS = ("did:key", "did:jwk")

    def resolve(self, did: str) -> dict[str, Any]:
        """:raises DidError: ``did_unresolvable`` for any other method."""
        if did.startswith("did:key:"):
            return resolve_did_key(did)
        if did.startswith("did:jwk:"):
            return resolve_did_jwk(did)
        raise DidError("holder DIDs must be did:key or did:jwk", code=KeyCode.DID_UNRESOLVABLE)
