"""did:key and did:web: documents, URL mapping, and finding a verification method.

Resolution is local: did:key documents are computed, other DIDs come from documents pinned by
the caller (:class:`LocalResolver`). Network did:web resolution is a later seam behind
:class:`DidResolver`.

Retired keys: a did:web document lists every key the store ever used, active or retired, in
``verificationMethod`` and ``assertionMethod``, so credentials signed before a rotation keep
verifying (Data Integrity 1.0 requires the method to be listed under the proof purpose).
Only active keys go into ``authentication``: a retired key may still vouch for what it signed,
not act for the issuer now. Retirement itself is recorded in the key store, not in the document.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from keys.keypair import KeyType, PublicKey

from .errors import DidError, KeyCode, KeyMaterialError

DID_CONTEXTS = ("https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1")

# DID Core 1.0 §5.3 verification relationships; the four did:key v0.9 fills in.
RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "keyAgreement",
    "capabilityInvocation",
    "capabilityDelegation",
)
_DID_KEY_RELATIONSHIPS = (
    "authentication",
    "assertionMethod",
    "capabilityInvocation",
    "capabilityDelegation",
)

# DID Core 1.0 §3.1: idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
_IDCHARS = re.compile(r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+")
_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_SAFE_SEGMENT_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
_HOST_PART = re.compile(r"(?P<host>[A-Za-z0-9.-]+)(?:%3[Aa](?P<port>[0-9]+))?")
_MAX_DID_LENGTH = 2048


@dataclass(frozen=True)
class VerificationMethodEntry:
    """One key of a did:web document; ``id`` is the full method URL (``did:web:…#key-2``)."""

    id: str
    public_key: PublicKey
    retired: bool = False


class DidResolver(Protocol):
    """Turns a DID into its DID document, or raises :class:`DidError`."""

    def resolve(self, did: str) -> dict[str, Any]: ...


def _did_part(did_or_url: str) -> str:
    """The DID of a DID URL: everything before a fragment, query or path (DID Core §3.2)."""
    if not isinstance(did_or_url, str) or len(did_or_url) > _MAX_DID_LENGTH:
        raise DidError("a DID must be a string of reasonable length")
    return re.split(r"[#?/]", did_or_url, maxsplit=1)[0]


# --- did:key --------------------------------------------------------------------------------


def did_key_document(public_key: PublicKey) -> dict[str, Any]:
    """The did:key document of a key (did:key v0.9 'Document Creation Algorithm', Multikey)."""
    did = public_key.did_key
    method_id = public_key.did_key_method_id
    document: dict[str, Any] = {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": [public_key.multikey_document(controller=did, id=method_id)],
    }
    for relationship in _DID_KEY_RELATIONSHIPS:
        document[relationship] = [method_id]
    return document


def resolve_did_key(did_or_did_url: str) -> dict[str, Any]:
    """Compute the document of a did:key (a fragment, if any, is ignored here).

    :raises DidError: ``did_invalid`` (not did:key, bad encoding),
        ``did_unresolvable`` (a key type we do not support, e.g. X25519 or secp256k1).
    """
    did = _did_part(did_or_did_url)
    prefix, _, value = did.partition("did:key:")
    if prefix or not value:
        raise DidError("not a did:key DID")
    try:
        public_key = PublicKey.from_multibase(value)
    except KeyMaterialError as exc:
        code = (
            KeyCode.DID_UNRESOLVABLE if exc.code is KeyCode.KEY_UNSUPPORTED else KeyCode.DID_INVALID
        )
        raise DidError(f"did:key does not hold a usable key ({exc.message})", code=code) from exc
    return did_key_document(public_key)


# --- did:web --------------------------------------------------------------------------------


def _check_host(host: str) -> None:
    """did:web "Method-Specific Identifier": a domain name, never an IP address."""
    if not host or len(host) > 253:
        raise DidError("did:web needs a host name")
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        raise DidError("did:web must not use an IP address")
    if host.rsplit(".", 1)[-1].isdigit():
        # WHATWG URL "ends in a number": such a host is parsed as an IPv4 address.
        raise DidError("did:web must not use an IP address")
    if not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise DidError("did:web host is not a valid (ASCII) domain name")


def _check_port(port: str) -> None:
    if not port.isdigit() or not 0 < int(port) < 65536 or port.startswith("0"):
        raise DidError("did:web port must be a number from 1 to 65535")


def _encode_segment(segment: str) -> str:
    try:
        decoded = unquote(segment, errors="strict")
    except UnicodeDecodeError as exc:
        raise DidError("did:web path segment is not UTF-8 once percent-decoded") from exc
    if decoded in ("", ".", "..") or "/" in decoded or "\\" in decoded:
        raise DidError("did:web path segments must be non-empty and not '.' or '..'")
    return "".join(
        char if char in _SAFE_SEGMENT_CHARS else "".join(f"%{b:02X}" for b in char.encode())
        for char in decoded
    )


def did_web_from_url(base_url: str) -> str:
    """did:web DID of an https origin with an optional path (did:web 'Create (Register)').

    ``https://example.com`` -> ``did:web:example.com``;
    ``https://example.com:8443/a/b`` -> ``did:web:example.com%3A8443:a:b``.

    :raises DidError: ``did_invalid`` for another scheme, userinfo, query, fragment, IP address,
        or empty / dot path segments.
    """
    if not isinstance(base_url, str):
        raise DidError("the base URL must be a string")
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError as exc:
        raise DidError(f"not a usable URL: {base_url!r}") from exc
    if parts.scheme != "https":
        raise DidError("did:web requires an https URL")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise DidError("did:web URLs must not carry user information")
    if parts.query or parts.fragment or base_url.endswith(("?", "#")):
        raise DidError("did:web URLs must not carry a query or fragment")
    host = (parts.hostname or "").lower()
    _check_host(host)
    method_id = host if port is None else f"{host}%3A{port}"
    path = parts.path.rstrip("/")
    if path:
        segments = path.split("/")[1:]
        if segments[0] == ".well-known":
            raise DidError("use the origin for the /.well-known/did.json location")
        method_id += "".join(":" + _encode_segment(segment) for segment in segments)
    return f"did:web:{method_id}"


def did_web_to_url(did: str) -> str:
    """The https URL of a did:web document (did:web 'Read (Resolve)').

    ``did:web:example.com`` -> ``https://example.com/.well-known/did.json``;
    ``did:web:example.com%3A3000:user:alice`` -> ``https://example.com:3000/user/alice/did.json``.

    :raises DidError: ``did_invalid`` for a DID URL, userinfo, IP address, bad port, or empty,
        dot or slash-bearing path segments (path traversal).
    """
    if not isinstance(did, str) or len(did) > _MAX_DID_LENGTH or not did.startswith("did:web:"):
        raise DidError("not a did:web DID")
    msi = did[len("did:web:") :]
    if any(char in msi for char in "#?/@\\"):
        raise DidError("a did:web DID carries no fragment, query, path or user information")
    host_part, *segments = msi.split(":")
    # did:web 'Read (Resolve)': only the port's colon is percent-encoded in the host part.
    match = _HOST_PART.fullmatch(host_part)
    if match is None:
        raise DidError("did:web host must be a domain name with an optional %3A port")
    host, port = match.group("host"), match.group("port")
    _check_host(host)
    authority = host
    if port is not None:
        _check_port(port)
        authority = f"{host}:{port}"
    if not segments:
        return f"https://{authority}/.well-known/did.json"
    for segment in segments:
        if not _IDCHARS.fullmatch(segment):
            raise DidError("did:web path segments must be non-empty DID idchars")
        decoded = unquote(segment)
        if decoded in (".", "..") or any(char in decoded for char in "/\\?#%"):
            raise DidError("did:web path segment would escape its directory")
    return f"https://{authority}/{'/'.join(segments)}/did.json"


def did_web_document(did: str, methods: Sequence[VerificationMethodEntry]) -> dict[str, Any]:
    """The did.json an issuer publishes: every method listed, active and retired.

    All methods go into ``verificationMethod`` and ``assertionMethod`` (old credentials keep
    verifying); only active ones into ``authentication`` (see the module docstring).

    :raises DidError: ``did_invalid`` for a bad DID, no methods, no active method, or method ids
        that are not unique ``<did>#<fragment>`` URLs.
    """
    did_web_to_url(did)
    if not methods:
        raise DidError("a did:web document needs at least one verification method")
    if all(method.retired for method in methods):
        raise DidError("a did:web document needs an active verification method")
    ids = [method.id for method in methods]
    if len(set(ids)) != len(ids):
        raise DidError("verification method ids must be unique")
    for method_id in ids:
        fragment = method_id.removeprefix(f"{did}#")
        if fragment == method_id or not _IDCHARS.fullmatch(fragment):
            raise DidError(f"verification method id must be '{did}#<fragment>': {method_id!r}")
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": [
            method.public_key.multikey_document(controller=did, id=method.id) for method in methods
        ],
        "authentication": [method.id for method in methods if not method.retired],
        "assertionMethod": ids,
    }


# --- finding a method -----------------------------------------------------------------------


def _absolute(reference: object, document_id: str) -> str | None:
    if not isinstance(reference, str):
        return None
    return document_id + reference if reference.startswith("#") else reference


_ED25519_2020_TYPES = ("Ed25519VerificationKey2020",)


def _method_public_key(method: Mapping[str, Any]) -> PublicKey:
    method_type = method.get("type")
    try:
        if method_type == "Multikey":
            value = method.get("publicKeyMultibase")
            if not isinstance(value, str):
                raise DidError("Multikey verification method has no publicKeyMultibase")
            return PublicKey.from_multibase(value)
        if method_type in _ED25519_2020_TYPES:
            # Ed25519VerificationKey2020 (the key type of Ed25519Signature2020 proofs): the same
            # multicodec-prefixed multibase as Multikey, but only ever an Ed25519 key.
            value = method.get("publicKeyMultibase")
            if not isinstance(value, str):
                raise DidError(f"{method_type} verification method has no publicKeyMultibase")
            key = PublicKey.from_multibase(value)
            if key.key_type is not KeyType.ED25519:
                raise DidError(f"{method_type} verification method holds no Ed25519 key")
            return key
        if method_type in ("JsonWebKey", "JsonWebKey2020"):
            value = method.get("publicKeyJwk")
            if not isinstance(value, Mapping):
                raise DidError("JsonWebKey verification method has no publicKeyJwk")
            return PublicKey.from_jwk(value)
    except KeyMaterialError as exc:
        raise DidError(f"verification method key is unusable ({exc.message})") from exc
    raise DidError(f"verification method type {method_type!r} is not supported")


def find_verification_method(
    document: Mapping[str, Any], method_id: str, relationship: str = "assertionMethod"
) -> tuple[PublicKey, str]:
    """The key and controller of ``method_id``, only if it is listed under ``relationship``.

    Data Integrity 1.0 'Proof Purposes' and DID Core 1.0 §5.3: a method authorised only for
    ``authentication`` does not make assertions. Relationship entries may be references
    (absolute or ``#fragment``) or embedded method objects. The method must be controlled by
    the document's subject (CID 1.0, "Retrieve Verification Method").

    :raises DidError: ``did_unresolvable`` when the method is absent or not listed under the
        relationship; ``did_invalid`` for a malformed document or method.
    """
    if relationship not in RELATIONSHIPS:
        raise DidError(f"unknown verification relationship {relationship!r}")
    if not isinstance(document, Mapping) or not isinstance(document.get("id"), str):
        raise DidError("a DID document must be an object with an id")
    document_id: str = document["id"]
    target = _absolute(method_id, document_id)
    if target is None or not target.startswith(f"{document_id}#"):
        raise DidError(
            f"verification method {method_id!r} is not in the document of {document_id!r}",
            code=KeyCode.DID_UNRESOLVABLE,
        )

    listed = document.get(relationship, [])
    if not isinstance(listed, list):
        raise DidError(f"{relationship} must be a list")
    embedded: Mapping[str, Any] | None = None
    referenced = False
    for entry in listed:
        if isinstance(entry, Mapping):
            if _absolute(entry.get("id"), document_id) == target:
                embedded = entry
        elif _absolute(entry, document_id) == target:
            referenced = True
    if embedded is None and not referenced:
        raise DidError(
            f"verification method {target!r} is not authorised for {relationship}",
            code=KeyCode.DID_UNRESOLVABLE,
        )

    method = embedded
    if method is None:
        methods = document.get("verificationMethod", [])
        if not isinstance(methods, list):
            raise DidError("verificationMethod must be a list")
        found = [
            item
            for item in methods
            if isinstance(item, Mapping) and _absolute(item.get("id"), document_id) == target
        ]
        if len(found) > 1:
            raise DidError(f"verification method {target!r} is defined more than once")
        if not found:
            raise DidError(
                f"verification method {target!r} is referenced but not defined",
                code=KeyCode.DID_UNRESOLVABLE,
            )
        method = found[0]

    controller = method.get("controller")
    if controller != document_id:
        raise DidError(f"verification method {target!r} is not controlled by {document_id!r}")
    return _method_public_key(method), controller


# --- resolvers ------------------------------------------------------------------------------


class LocalResolver:
    """Resolves did:key by computation and other DIDs from pinned documents only.

    Never touches the network: anything not pinned is ``did_unresolvable``.
    """

    def __init__(self, pinned: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self._pinned = dict(pinned or {})

    def resolve(self, did: str) -> dict[str, Any]:
        """:raises DidError: ``did_unresolvable`` (not pinned) or ``did_invalid``."""
        did = _did_part(did)
        if did.startswith("did:key:"):
            return resolve_did_key(did)
        document = self._pinned.get(did)
        if document is None:
            raise DidError(f"{did!r} is not pinned", code=KeyCode.DID_UNRESOLVABLE)
        if document.get("id") != did:
            raise DidError(f"the document pinned for {did!r} has another id")
        return copy.deepcopy(dict(document))


class ChainResolver:
    """Tries resolvers in order; a ``did_unresolvable`` answer passes the DID to the next one.

    Lets a verifier mounted on an issuer know the issuer's own document first (it may be served
    over plain http in development, or not be reachable from inside), then fetch the rest.
    """

    def __init__(self, *resolvers: DidResolver) -> None:
        if not resolvers:
            raise ValueError("ChainResolver needs at least one resolver")
        self._resolvers = resolvers

    def resolve(self, did: str) -> dict[str, Any]:
        """:raises DidError: the last resolver's error when none knows ``did``."""
        for resolver in self._resolvers[:-1]:
            try:
                return resolver.resolve(did)
            except DidError as error:
                if error.code is not KeyCode.DID_UNRESOLVABLE:
                    raise
        return self._resolvers[-1].resolve(did)
