"""A verification key the operator hands in (``certvc verify --key FILE``).

An offline desk, or a verifier facing an issuer identified by an https URL that publishes JWKs
rather than a DID document, can name the issuer's key itself: a verification method object
(``Multikey`` with ``publicKeyMultibase``, or ``JsonWebKey`` / ``JsonWebKey2020`` with
``publicKeyJwk``; CID 1.0 §2.2) with its ``id`` and ``controller``, or a bare public JWK whose
``kid`` is the method's URL (``<controller>#<fragment>``). :class:`PinnedKeyResolver` answers
for that controller alone, with a document listing the method for ``assertionMethod`` and
``authentication`` (the operator vouches for it); any other DID or URL is
``did_unresolvable``, so a :class:`keys.did.ChainResolver` passes it on. The rest of the
verification is unchanged: the proof or token must name this method, and the controller must
be the credential's issuer.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from keys.keypair import PublicKey

from .errors import DidError, KeyCode, KeyMaterialError

_METHOD_TYPES = ("Multikey", "JsonWebKey", "JsonWebKey2020")


def _split(method_id: object) -> str:
    """The controller a method URL belongs to (before ``#``).

    :raises KeyMaterialError: not an absolute URL with a fragment.
    """
    if not isinstance(method_id, str) or "#" not in method_id or ":" not in method_id:
        raise KeyMaterialError(
            "the key's id (a JWK's kid) must be the verification method's URL, "
            "<controller>#<fragment>, e.g. did:web:example.com#key-1 or https://example.com#key-1"
        )
    controller, _, fragment = method_id.partition("#")
    if not controller or not fragment:
        raise KeyMaterialError("the verification method URL needs a controller and a fragment")
    return controller


def verification_method(value: object) -> tuple[dict[str, Any], PublicKey]:
    """The verification method object of ``value`` (see the module docstring) and its key.

    :raises KeyMaterialError: ``key_invalid`` / ``key_unsupported``: not a method object nor a
        public JWK, a private key, an unusable key, an id that is not ``<controller>#<x>``.
    """
    if not isinstance(value, Mapping):
        raise KeyMaterialError("the key file must hold a JSON object (a JWK or a method)")
    if "kty" in value:  # a bare JWK: its kid names the method
        public_key = PublicKey.from_jwk({k: v for k, v in value.items() if k != "kid"})
        method_id = value.get("kid")
        controller = _split(method_id)
        jwk = {k: v for k, v in value.items() if k != "kid"}
        method = {"id": method_id, "type": "JsonWebKey", "controller": controller}
        method["publicKeyJwk"] = jwk
        return method, public_key
    kind = value.get("type")
    if kind not in _METHOD_TYPES:
        raise KeyMaterialError(
            f"a verification method of type {', '.join(_METHOD_TYPES)} or a JWK is expected",
            code=KeyCode.KEY_UNSUPPORTED,
        )
    if "secretKeyMultibase" in value or "privateKeyMultibase" in value:
        raise KeyMaterialError("the key file holds a secret key: give the public key only")
    controller = _split(value.get("id"))
    if value.get("controller") != controller:
        raise KeyMaterialError(
            f"the method's controller must be {controller!r}, the part of its id before '#'"
        )
    if kind == "Multikey":
        public_key = PublicKey.from_multibase(str(value.get("publicKeyMultibase")))
    else:
        given = value.get("publicKeyJwk")
        if not isinstance(given, Mapping):
            raise KeyMaterialError("a JsonWebKey method needs publicKeyJwk")
        public_key = PublicKey.from_jwk(given)
    return dict(value), public_key


class PinnedKeyResolver:
    """Resolves the one controller of a key the operator gave; nothing else (no network)."""

    def __init__(self, value: object) -> None:
        """:raises KeyMaterialError: see :func:`verification_method`."""
        self._method, self.public_key = verification_method(value)
        self.controller: str = self._method["controller"]
        self.method_id: str = self._method["id"]

    def resolve(self, did: str) -> dict[str, Any]:
        """:raises DidError: ``did_unresolvable`` for any other DID or URL."""
        if did != self.controller:
            raise DidError(
                f"{did!r} is not the given key's controller", code=KeyCode.DID_UNRESOLVABLE
            )
        return {
            "id": self.controller,
            "verificationMethod": [copy.deepcopy(self._method)],
            "assertionMethod": [self.method_id],
            "authentication": [self.method_id],
        }

    def __repr__(self) -> str:
        return f"PinnedKeyResolver({self.method_id!r}, {self.public_key!r})"
