"""did:key and did:web documents, URL mapping and verification-method lookup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contexts.errors import Code
from keys.did import (
    DidResolver,
    LocalResolver,
    VerificationMethodEntry,
    did_key_document,
    did_web_document,
    did_web_from_url,
    did_web_to_url,
    find_verification_method,
    resolve_did_key,
)
from keys.errors import DidError, KeyCode
from keys.keypair import KeyPair, KeyType, PublicKey
from keys.multikey import encode_base58btc, encode_secret

VECTORS = Path(__file__).parents[1] / "vectors"
VECTOR_KEY = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"  # eddsa-rdfc-2022/keyPair.json
DID = "did:web:issuer.example"

# did:key test vector (w3c-ccg/did-method-key test-vectors/nist-curves.json, commit e7839a8):
# JsonWebKey2020 with relative ids, as other implementations publish.
NIST_P256_DOCUMENT: dict[str, Any] = {
    "@context": [
        "https://www.w3.org/ns/did/v1",
        {"@base": "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"},
    ],
    "id": "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
    "verificationMethod": [
        {
            "id": "#zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
            "type": "JsonWebKey2020",
            "controller": "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
            "publicKeyJwk": {
                "kty": "EC",
                "crv": "P-256",
                "x": "igrFmi0whuihKnj9R3Om1SoMph72wUGeFaBbzG2vzns",
                "y": "efsX5b10x8yjyrj4ny3pGfLcY7Xby1KzgqOdqnsrJIM",
            },
        }
    ],
    "authentication": ["#zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"],
    "assertionMethod": ["#zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"],
}


def _key(key_type: KeyType = KeyType.ED25519) -> PublicKey:
    return KeyPair.generate(key_type).public_key


# --- did:key -------------------------------------------------------------------------------


def test_did_key_document_of_the_vector_key() -> None:
    """did:key v0.9 "Document Creation Algorithm" (Multikey form): one method did:key:X#X,
    referenced from four relationships."""
    did = f"did:key:{VECTOR_KEY}"
    method = f"{did}#{VECTOR_KEY}"
    expected = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": VECTOR_KEY,
            }
        ],
        "authentication": [method],
        "assertionMethod": [method],
        "capabilityInvocation": [method],
        "capabilityDelegation": [method],
    }
    assert did_key_document(PublicKey.from_multibase(VECTOR_KEY)) == expected
    assert resolve_did_key(method) == expected
    assert resolve_did_key(did) == expected


@pytest.mark.parametrize(
    ("seed", "did"),
    [
        (0, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"),
        (1, "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"),
        (4, "did:key:z6MkwW6aqMnjgrhJXFUko3NnZPGzVpkNzhYK7yEhnsibmLwL"),
    ],
)
def test_did_key_ed25519_vectors_from_seed(seed: int, did: str) -> None:
    """did:key test vectors (ed25519-x25519.json): the DID of a given 32-byte seed."""
    pair = KeyPair.from_multikey(
        {"secretKeyMultibase": encode_secret(KeyType.ED25519, seed.to_bytes(32, "big"))}
    )
    assert pair.public_key.did_key == did


def test_vector_credential_method_resolves_for_assertion() -> None:
    """VC-DI-EdDSA vectors: the proof's did:key method resolves to the vector key."""
    proof = json.loads((VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json").read_text())["proof"]
    vm = proof["verificationMethod"]
    public, controller = find_verification_method(resolve_did_key(vm), vm, "assertionMethod")
    assert public.multibase == VECTOR_KEY
    assert controller == f"did:key:{VECTOR_KEY}"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW", KeyCode.DID_UNRESOLVABLE),
        ("did:key:" + encode_base58btc(b"\xed\x01" + bytes(31)), KeyCode.DID_INVALID),
        ("did:key:", KeyCode.DID_INVALID),
        ("did:key:u7QE", KeyCode.DID_INVALID),
        ("did:web:example.com", KeyCode.DID_INVALID),
        ("xdid:key:" + VECTOR_KEY, KeyCode.DID_INVALID),
    ],
)
def test_bad_or_unsupported_did_key(value: str, code: Code) -> None:
    """An X25519 did:key is well-formed but not a signing key: unresolvable for us."""
    with pytest.raises(DidError) as info:
        resolve_did_key(value)
    assert info.value.code is code


# --- did:web URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("did", "url"),
    [
        # did:web Method Specification, "Read (Resolve)" examples
        ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
        ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
        ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
        ("did:web:example.com%3a8443", "https://example.com:8443/.well-known/did.json"),
        ("did:web:example.com:a%20b", "https://example.com/a%20b/did.json"),
    ],
)
def test_did_web_to_url(did: str, url: str) -> None:
    assert did_web_to_url(did) == url


@pytest.mark.parametrize(
    ("base", "did"),
    [
        ("https://example.com", "did:web:example.com"),
        ("https://example.com/", "did:web:example.com"),
        ("https://Example.COM", "did:web:example.com"),
        ("https://example.com:8443/a/b", "did:web:example.com%3A8443:a:b"),
        ("https://w3c-ccg.github.io/user/alice/", "did:web:w3c-ccg.github.io:user:alice"),
        ("https://example.com/a%20b/c~d", "did:web:example.com:a%20b:c%7Ed"),
    ],
)
def test_did_web_from_url(base: str, did: str) -> None:
    """did:web "Create (Register)": host, %3A before the port, ':' between path segments."""
    assert did_web_from_url(base) == did


@pytest.mark.parametrize(
    "base",
    [
        "http://example.com",
        "https://user@example.com",
        "https://user:pw@example.com",
        "https://example.com/?q=1",
        "https://example.com/#x",
        "https://example.com/a//b",
        "https://example.com/a/../b",
        "https://example.com/a/%2E%2E",
        "https://example.com/a%2Fb",
        "https://127.0.0.1",
        "https://0.0",
        "https://host.123",
        "https://[::1]/a",
        "https://example.com:99999",
        "https://example.com/.well-known",
        "https://ex_ample.com",
        "https://",
    ],
)
def test_did_web_from_url_refusals(base: str) -> None:
    """did:web "Method-Specific Identifier": https only, no IP address, no userinfo; and no
    path traversal or empty segments."""
    with pytest.raises(DidError) as info:
        did_web_from_url(base)
    assert info.value.code is KeyCode.DID_INVALID


@pytest.mark.parametrize(
    "did",
    [
        "did:web:",
        "did:web:example.com:",
        "did:web:example.com::a",
        "did:web:example.com:..",
        "did:web:example.com:.",
        "did:web:example.com:%2E%2E:etc",
        "did:web:example.com:a%2Fb",
        "did:web:example.com:a%5Cb",
        "did:web:example.com:a%252Fb",
        "did:web:example.com/a",
        "did:web:example.com#key-1",
        "did:web:example.com?service=x",
        "did:web:user%40example.com",
        "did:web:user@example.com",
        "did:web:example.com%3Aabc",
        "did:web:example.com%3A0",
        "did:web:example.com%2F..",
        "did:web:127.0.0.1",
        "did:web:1.2.3",
        "did:web:-bad-.com",
        "did:key:z6Mk",
        "did:webx:example.com",
    ],
)
def test_did_web_to_url_refusals(did: str) -> None:
    """No path traversal, empty segments, userinfo, IP addresses or DID URL parts."""
    with pytest.raises(DidError):
        did_web_to_url(did)


_label = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_segment = st.from_regex(r"[A-Za-z0-9._~ -]{1,12}", fullmatch=True).filter(
    lambda s: s not in (".", "..", ".well-known")
)


@settings(deadline=None)  # crypto under a loaded CI runner
@given(
    st.lists(_label, min_size=2, max_size=4),
    st.one_of(st.none(), st.integers(min_value=1, max_value=65535)),
    st.lists(_segment, max_size=3),
)
def test_did_web_round_trip(labels: list[str], port: int | None, segments: list[str]) -> None:
    """from_url then to_url lands on <base>/did.json (or the /.well-known location)."""
    assume(not labels[-1].isdigit())  # a numeric last label makes the host an IPv4 address
    authority = ".".join(labels) + ("" if port is None else f":{port}")
    path = "".join("/" + quote(segment, safe="") for segment in segments)
    did = did_web_from_url(f"https://{authority}{path}")
    expected = (
        f"https://{authority}{path}/did.json"
        if segments
        else (f"https://{authority}/.well-known/did.json")
    )
    assert did_web_to_url(did).replace("%7E", "~") == expected.replace("%7E", "~")


# --- did:web documents ----------------------------------------------------------------------


def test_did_web_document_keeps_retired_methods_for_assertions() -> None:
    """Data Integrity 1.0 "Proof Purposes": old proofs need their method under
    assertionMethod, so retired keys stay listed; only the active key may authenticate."""
    old, new = _key(), _key(KeyType.P256)
    document = did_web_document(
        DID,
        [
            VerificationMethodEntry(f"{DID}#key-1", old, retired=True),
            VerificationMethodEntry(f"{DID}#key-2", new),
        ],
    )
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": DID,
        "verificationMethod": [
            old.multikey_document(controller=DID, id=f"{DID}#key-1"),
            new.multikey_document(controller=DID, id=f"{DID}#key-2"),
        ],
        "authentication": [f"{DID}#key-2"],
        "assertionMethod": [f"{DID}#key-1", f"{DID}#key-2"],
    }
    assert find_verification_method(document, f"{DID}#key-1")[0] == old
    assert find_verification_method(document, f"{DID}#key-2", "authentication")[0] == new
    with pytest.raises(DidError):
        find_verification_method(document, f"{DID}#key-1", "authentication")


@pytest.mark.parametrize(
    "entries",
    [
        [],
        [("did:web:issuer.example#key-1", True)],
        [("did:web:other.example#key-1", False)],
        [("#key-1", False)],
        [("did:web:issuer.example#", False)],
        [("did:web:issuer.example#a", False), ("did:web:issuer.example#a", True)],
    ],
)
def test_did_web_document_refusals(entries: list[tuple[str, bool]]) -> None:
    methods = [VerificationMethodEntry(i, _key(), retired=r) for i, r in entries]
    with pytest.raises(DidError):
        did_web_document(DID, methods)


# --- find_verification_method ---------------------------------------------------------------


def _document(**relationships: list[Any]) -> tuple[dict[str, Any], PublicKey]:
    public = _key()
    document: dict[str, Any] = {
        "id": DID,
        "verificationMethod": [public.multikey_document(controller=DID, id=f"{DID}#key-1")],
        **relationships,
    }
    return document, public


def test_authentication_only_method_is_not_an_assertion_method() -> None:
    """DID Core 1.0 §5.3.2: a key authorised for authentication may not make assertions."""
    document, public = _document(authentication=[f"{DID}#key-1"])
    assert find_verification_method(document, f"{DID}#key-1", "authentication") == (public, DID)
    with pytest.raises(DidError) as info:
        find_verification_method(document, f"{DID}#key-1", "assertionMethod")
    assert info.value.code is KeyCode.DID_UNRESOLVABLE


def test_key_agreement_only_method_is_not_an_assertion_method() -> None:
    document, _ = _document(keyAgreement=[f"{DID}#key-1"])
    with pytest.raises(DidError):
        find_verification_method(document, f"{DID}#key-1")


def test_relative_references_and_relative_method_ids() -> None:
    """DID Core 1.0 §3.2.2: '#key-1' is relative to the document id, in either place."""
    document, public = _document(assertionMethod=["#key-1"])
    assert find_verification_method(document, f"{DID}#key-1") == (public, DID)
    assert find_verification_method(document, "#key-1") == (public, DID)


def test_embedded_method_in_the_relationship() -> None:
    """DID Core 1.0 §5.3: a relationship may embed the method object itself."""
    public = _key(KeyType.P384)
    document = {
        "id": DID,
        "assertionMethod": [public.multikey_document(controller=DID, id=f"{DID}#embedded")],
    }
    assert find_verification_method(document, f"{DID}#embedded") == (public, DID)
    with pytest.raises(DidError):
        find_verification_method(document, f"{DID}#embedded", "authentication")


def test_json_web_key_methods_from_did_key_vectors() -> None:
    """did:key vectors publish JsonWebKey2020 methods with relative ids: they resolve."""
    document = NIST_P256_DOCUMENT
    method = f"{document['id']}#zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
    public, controller = find_verification_method(document, method)
    assert public.did_key == document["id"]
    assert controller == document["id"]


@pytest.mark.parametrize(
    ("document", "method_id", "code"),
    [
        # absent from the document
        ({"id": DID, "assertionMethod": []}, f"{DID}#key-9", KeyCode.DID_UNRESOLVABLE),
        # referenced but never defined
        ({"id": DID, "assertionMethod": ["#key-9"]}, f"{DID}#key-9", KeyCode.DID_UNRESOLVABLE),
        # a method of another DID
        (
            {"id": DID, "assertionMethod": []},
            "did:web:other.example#key-1",
            KeyCode.DID_UNRESOLVABLE,
        ),
        # no document id
        ({"assertionMethod": ["#key-1"]}, "#key-1", KeyCode.DID_INVALID),
    ],
)
def test_missing_methods(document: dict[str, Any], method_id: str, code: Code) -> None:
    with pytest.raises(DidError) as info:
        find_verification_method(document, method_id)
    assert info.value.code is code


def test_method_controlled_by_someone_else_is_refused() -> None:
    """CID 1.0 "Retrieve Verification Method": the method's controller is the document's id."""
    public = _key()
    document = {
        "id": DID,
        "verificationMethod": [
            public.multikey_document(controller="did:web:attacker.example", id=f"{DID}#key-1")
        ],
        "assertionMethod": ["#key-1"],
    }
    with pytest.raises(DidError) as info:
        find_verification_method(document, f"{DID}#key-1")
    assert info.value.code is KeyCode.DID_INVALID


@pytest.mark.parametrize(
    "method",
    [
        {"type": "Ed25519VerificationKey2018", "publicKeyBase58": "4zvwRjXUKGfvwnParsHAS3HuSVzV"},
        {"type": "Multikey"},
        {
            "type": "Multikey",
            "publicKeyMultibase": "z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
        },
        {"type": "JsonWebKey", "publicKeyJwk": {"kty": "oct", "k": "c2VjcmV0"}},
    ],
)
def test_unusable_methods_are_refused(method: dict[str, Any]) -> None:
    document = {
        "id": DID,
        "verificationMethod": [{"id": f"{DID}#key-1", "controller": DID, **method}],
        "assertionMethod": ["#key-1"],
    }
    with pytest.raises(DidError) as info:
        find_verification_method(document, f"{DID}#key-1")
    assert info.value.code is KeyCode.DID_INVALID


def test_duplicate_method_definitions_are_refused() -> None:
    document, _ = _document(assertionMethod=["#key-1"])
    document["verificationMethod"].append(
        _key().multikey_document(controller=DID, id=f"{DID}#key-1")
    )
    with pytest.raises(DidError):
        find_verification_method(document, f"{DID}#key-1")


# --- resolvers ------------------------------------------------------------------------------


def test_local_resolver() -> None:
    """did:key is computed; pinned documents are returned as copies; nothing else resolves."""
    document, public = _document(assertionMethod=["#key-1"])
    resolver: DidResolver = LocalResolver({DID: document})
    assert resolver.resolve(f"did:key:{VECTOR_KEY}") == resolve_did_key(f"did:key:{VECTOR_KEY}")
    resolved = resolver.resolve(f"{DID}#key-1")
    assert resolved == document
    resolved["assertionMethod"].clear()
    assert resolver.resolve(DID)["assertionMethod"] == ["#key-1"]
    with pytest.raises(DidError) as info:
        resolver.resolve("did:web:unknown.example")
    assert info.value.code is KeyCode.DID_UNRESOLVABLE


def test_local_resolver_refuses_a_document_pinned_under_another_did() -> None:
    document, _ = _document()
    with pytest.raises(DidError) as info:
        LocalResolver({"did:web:other.example": document}).resolve("did:web:other.example")
    assert info.value.code is KeyCode.DID_INVALID
