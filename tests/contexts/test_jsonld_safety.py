"""Safe JSON-LD to RDF (VC-DI 1.0 section 4.1; jsonld.js safe mode, lib/events.js).

Each "fails when" case below is a document plain JSON-LD would sign while silently dropping or
mis-resolving part of it. The network is blocked for all of them (conftest.no_network).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld as pyld_jsonld
from pyld.canon import URDNA2015

from contexts import (
    ContextNotAllowed,
    ContextStore,
    ErrorCode,
    InputError,
    JsonLdError,
    SafeModeEvent,
    UnsafeJsonLd,
    default_store,
    expand,
    to_dataset,
)
from contexts.jsonld import SafeProcessor

from .conftest import VECTORS

V2 = "https://www.w3.org/ns/credentials/v2"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRED = "https://www.w3.org/2018/credentials#"
OB = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
ED = VECTORS / "eddsa-rdfc-2022"
EC = VECTORS / "ecdsa-rdfc-2019"


def _json(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def _canonical(dataset: dict[str, Any]) -> str:
    """RDFC-1.0 (pyld's URDNA2015) over our dataset: only the expansion is under test here."""
    result: str = URDNA2015().main(copy.deepcopy(dataset), {"format": "application/n-quads"})
    return result


def _triples(dataset: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (t["subject"]["value"], t["predicate"]["value"], t["object"]["value"])
        for triples in dataset.values()
        for t in triples
    }


# --- valid documents pass ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "canonical"),
    [
        (ED / "unsigned.json", ED / "canonDocDataInt.txt"),
        (ED / "proofConfigDataInt.json", ED / "proofCanonDataInt.txt"),
        (ED / "employmentAuth.json", ED / "employ" / "canonDocDataInt.txt"),
        (EC / "unsigned.json", EC / "ecdsa-rdfc-2019-p256" / "canonDocECDSAP256.txt"),
        (
            EC / "employmentAuth.json",
            EC / "ecdsa-rdfc-2019-p256" / "employ" / "canonDocECDSAP256.txt",
        ),
        (
            EC / "ecdsa-rdfc-2019-p256" / "proofConfigECDSAP256.json",
            EC / "ecdsa-rdfc-2019-p256" / "proofCanonECDSAP256.txt",
        ),
    ],
    ids=["eddsa", "eddsa-proof-config", "eddsa-employ", "ecdsa", "ecdsa-employ", "ecdsa-config"],
)
def test_w3c_vectors_expand_to_their_published_canonical_form(
    vector_store: ContextStore, document: Path, canonical: Path
) -> None:
    """VC-DI-EdDSA B.1 / VC-DI-ECDSA B.1: our dataset canonicalizes to the vector, byte for byte."""
    dataset = to_dataset(_json(document), vector_store)
    assert _canonical(dataset) == canonical.read_text("utf-8")


def test_signed_vector_passes_with_its_proof_in_a_named_graph(vector_store: ContextStore) -> None:
    """VC DM 2.0 section 4.12 / VC-DI 2.1: ``proof`` is a graph container, kept as a graph."""
    dataset = to_dataset(_json(ED / "signedDataInt.json"), vector_store)
    [proof_graph] = [name for name in dataset if name != "@default"]
    assert proof_graph.startswith("_:")
    predicates = {t["predicate"]["value"] for t in dataset[proof_graph]}
    assert "https://w3id.org/security#proofValue" in predicates


def _open_badge() -> dict[str, Any]:
    """An Open Badges 3.0 credential as certvc issues it (OB 3.0 section 8.1, VC DM 2.0)."""
    return {
        "@context": [V2, OB_303],
        "id": "urn:uuid:2c3a8b5e-6f1d-4a53-9d59-0a1b2c3d4e5f",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certified Welding Inspector",
        "description": "Personnel certification under ISO/IEC 17024.",
        "image": {"id": "https://certs.example.org/badges/cwi.png", "type": "Image"},
        "issuer": {
            "id": "did:web:certs.example.org",
            "type": ["Profile"],
            "name": "Example Certification Body",
            "url": "https://certs.example.org/",
        },
        "validFrom": "2024-03-01T00:00:00Z",
        "validUntil": "2027-02-28T23:59:59Z",
        "credentialSubject": {
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://certs.example.org/schemes/cwi",
                "type": ["Achievement"],
                "name": "Certified Welding Inspector",
                "description": "Inspects welds against code requirements.",
                "image": {"id": "https://certs.example.org/badges/cwi.png", "type": "Image"},
                "criteria": {"narrative": "Passed the written and practical examinations."},
            },
        },
        "credentialStatus": [
            {
                "id": f"https://certs.example.org/status/{n}#94567",
                "type": "BitstringStatusListEntry",
                "statusPurpose": purpose,
                "statusListIndex": "94567",
                "statusListCredential": f"https://certs.example.org/status/{n}",
            }
            for n, purpose in ((1, "revocation"), (2, "suspension"))
        ],
        "proof": {
            "type": "DataIntegrityProof",
            "cryptosuite": "eddsa-rdfc-2022",
            "created": "2024-03-01T00:00:00Z",
            "verificationMethod": "did:web:certs.example.org#key-1",
            "proofPurpose": "assertionMethod",
            "proofValue": "z3FXQjecWufY46yg5abdVZsXqLhxhueuSoZgNSARiKBk9czhSePTFehP8c3PGfb6a22g",
        },
    }


def test_open_badge_credential_passes_with_every_term_kept() -> None:
    """Every OB 3.0 field used lands as the IRI the OB 3.0.3 and VC v2 contexts define."""
    store = default_store()
    dataset = to_dataset(_open_badge(), store)
    triples = _triples(dataset)
    cred = "urn:uuid:2c3a8b5e-6f1d-4a53-9d59-0a1b2c3d4e5f"
    achievement = "https://certs.example.org/schemes/cwi"
    expected = {
        (cred, RDF_TYPE, OB + "OpenBadgeCredential"),
        (cred, RDF_TYPE, CRED + "VerifiableCredential"),
        (cred, "https://schema.org/name", "Certified Welding Inspector"),
        (cred, OB + "image", "https://certs.example.org/badges/cwi.png"),
        (cred, CRED + "issuer", "did:web:certs.example.org"),
        (cred, CRED + "validUntil", "2027-02-28T23:59:59Z"),
        ("did:web:certs.example.org", RDF_TYPE, OB + "Profile"),
        ("did:web:certs.example.org", "https://schema.org/url", "https://certs.example.org/"),
        (achievement, "https://schema.org/name", "Certified Welding Inspector"),
        (achievement, RDF_TYPE, OB + "Achievement"),
        (
            "https://certs.example.org/status/2#94567",
            "https://www.w3.org/ns/credentials/status#statusPurpose",
            "suspension",
        ),
    }
    assert expected <= triples
    narratives = [o for _, p, o in triples if p == OB + "narrative"]
    assert narratives == ["Passed the written and practical examinations."]
    statuses = [o for s, p, o in triples if s == cred and p == CRED + "credentialStatus"]
    assert len(statuses) == 2
    # pyld may mutate what the loader gives it; the store's documents must not move.
    shipped = Path(__file__).parents[2] / "contexts" / "data"
    ob_file = shipped / "purl.imsglobal.org_spec_ob_v3p0_context_3.0.3.json"
    assert store.get(OB_303) == json.loads(ob_file.read_bytes())


def test_expand_returns_the_expanded_form() -> None:
    """JSON-LD 1.1 API 13: the safe expanded form, with absolute IRIs."""
    [node] = expand(_open_badge(), default_store())
    assert node["@id"] == "urn:uuid:2c3a8b5e-6f1d-4a53-9d59-0a1b2c3d4e5f"
    assert set(node["@type"]) == {CRED + "VerifiableCredential", OB + "OpenBadgeCredential"}
    assert node["https://schema.org/name"] == [{"@value": "Certified Welding Inspector"}]


# --- fails when ... (jsonld.js safe mode events) -------------------------------------------


def _credential(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [V2],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "did:example:issuer",
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:1"},
    }
    document.update(changes)
    return document


def _with_inline(context: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return _credential(**{"@context": [V2, context]}, **changes)


UNSAFE: dict[str, tuple[dict[str, Any], SafeModeEvent, Any]] = {
    # VC DM 2.0 section 4.3: the v2 context has no @vocab, so an undefined term is dropped.
    "undefined-property": (
        _credential(credentialSubject={"id": "did:example:1", "foo": "bar"}),
        SafeModeEvent.INVALID_PROPERTY,
        "foo",
    ),
    "undefined-property-in-open-badge": (
        {
            **_open_badge(),
            "credentialSubject": {
                "id": "did:example:1",
                "type": ["AchievementSubject"],
                "achievement": {"id": "urn:ex:a", "type": ["Achievement"], "level": "gold"},
            },
        },
        SafeModeEvent.INVALID_PROPERTY,
        "level",
    ),
    "undefined-type": (
        _credential(type=["VerifiableCredential", "MyThing"]),
        SafeModeEvent.RELATIVE_TYPE,
        "MyThing",
    ),
    "relative-id": (_credential(id="abc"), SafeModeEvent.RELATIVE_ID, "abc"),
    "relative-issuer": (_credential(issuer="issuer-1"), SafeModeEvent.RELATIVE_ID, "issuer-1"),
    "reserved-key": (_credential(**{"@foo": "x"}), SafeModeEvent.RESERVED_TERM, "@foo"),
    "reserved-term-definition": (
        _with_inline({"@foo": "https://example.org/foo"}),
        SafeModeEvent.RESERVED_TERM,
        "@foo",
    ),
    "reserved-id-value": (_credential(id="@bar"), SafeModeEvent.RESERVED_ID, "@bar"),
    "reserved-id-in-definition": (
        _with_inline({"foo": {"@id": "@bar"}}),
        SafeModeEvent.RESERVED_ID,
        "@bar",
    ),
    "reserved-reverse": (
        _with_inline({"foo": {"@reverse": "@bar"}}),
        SafeModeEvent.RESERVED_REVERSE,
        "@bar",
    ),
    "relative-vocab": (_with_inline({"@vocab": "terms/"}), SafeModeEvent.RELATIVE_VOCAB, "terms/"),
    "empty-language": (
        _credential(name={"@value": "x", "@language": ""}),
        SafeModeEvent.INVALID_LANGUAGE,
        "",
    ),
    "malformed-language": (
        _credential(name={"@value": "x", "@language": "en_US"}),
        SafeModeEvent.INVALID_LANGUAGE,
        "en_us",  # JSON-LD 1.1 API 13.4.8.3: pyld lower-cases before we see it
    ),
    "null-value": (_credential(name={"@value": None}), SafeModeEvent.NULL_VALUE, "name"),
    "only-language": (
        _credential(name={"@language": "en"}),
        SafeModeEvent.ONLY_LANGUAGE,
        "name",
    ),
    "free-floating-scalar": (
        {"@context": V2, "@graph": ["just a string"]},
        SafeModeEvent.FREE_FLOATING_SCALAR,
        "just a string",
    ),
    "only-id": ({"@context": V2, "id": "urn:ex:1"}, SafeModeEvent.ONLY_ID, "urn:ex:1"),
    "empty-object": ({"@context": V2, "@graph": [{}]}, SafeModeEvent.EMPTY_OBJECT, "@graph"),
    "only-value": (
        {"@context": V2, "@graph": [{"@value": "x"}]},
        SafeModeEvent.ONLY_VALUE,
        "@graph",
    ),
    "only-list": (
        {"@context": V2, "@graph": [{"@list": ["x"]}]},
        SafeModeEvent.ONLY_LIST,
        "@graph",
    ),
    "blank-node-predicate": (
        _with_inline({"foo": "_:b0"}, foo="x"),
        SafeModeEvent.BLANK_NODE_PREDICATE,
        "_:b0",
    ),
}


@pytest.mark.parametrize("operation", [to_dataset, expand], ids=["to_dataset", "expand"])
@pytest.mark.parametrize("case", list(UNSAFE))
def test_fails_when_safe_mode_would_drop_data(operation: Any, case: str) -> None:
    document, event, term = UNSAFE[case]
    with pytest.raises(UnsafeJsonLd) as caught:
        operation(document, default_store())
    assert caught.value.event is event
    assert caught.value.term == term
    assert caught.value.code is ErrorCode.JSONLD_UNSAFE
    assert str(event) in caught.value.message


def test_a_direction_reaches_rdf_as_an_i18n_datatype() -> None:
    """Issue 14. VC-DI-EdDSA §3.3.3 and VC-DI-ECDSA §3.3.3 canonicalize with rdfDirection
    "i18n-datatype" (JSON-LD 1.1 API §8.6): the direction is kept, in the literal's datatype,
    with the language lowercased as jsonld.js does; nothing is dropped."""
    document = _credential(name={"@value": "مرحبا", "@language": "AR", "@direction": "rtl"})
    objects = [t["object"] for t in to_dataset(document, default_store())["@default"]]
    directed = [o for o in objects if o.get("value") == "مرحبا"]
    assert directed == [
        {"type": "literal", "value": "مرحبا", "datatype": "https://www.w3.org/ns/i18n#ar_rtl"}
    ]


def test_fails_when_a_direction_cannot_reach_rdf() -> None:
    """jsonld.js 'rdfDirection not set': without the option toRDF would drop @direction; the
    backstop stays for any caller of the processor that does not set it."""
    document = _credential(name={"@value": "مرحبا", "@language": "ar", "@direction": "rtl"})
    expanded = expand(document, default_store())  # the expanded form can hold a direction
    with pytest.raises(UnsafeJsonLd) as caught:
        SafeProcessor().to_rdf(expanded, {"documentLoader": default_store().document_loader()})
    assert caught.value.event is SafeModeEvent.RDF_DIRECTION_NOT_SET
    assert caught.value.term == "مرحبا"


@pytest.mark.parametrize(
    ("graph", "event", "term"),
    [
        ({"rel": {"@id": "rel", "https://e.org/p": ["x"]}}, SafeModeEvent.RELATIVE_SUBJECT, "rel"),
        ({"urn:s": {"@id": "urn:s", "p": ["x"]}}, SafeModeEvent.RELATIVE_PREDICATE, "p"),
        (
            {"urn:s": {"@id": "urn:s", "https://e.org/p": [{"@id": "rel"}]}},
            SafeModeEvent.RELATIVE_OBJECT,
            "rel",
        ),
    ],
    ids=["subject", "predicate", "object"],
)
def test_to_rdf_backstops_refuse_what_expansion_let_through(
    graph: dict[str, Any], event: SafeModeEvent, term: str
) -> None:
    """jsonld.js toRDF events: pyld skips these triples silently; the backstop raises."""
    from pyld.identifier_issuer import IdentifierIssuer

    options = {"produceGeneralizedRdf": False, "processingMode": "json-ld-1.1"}
    with pytest.raises(UnsafeJsonLd) as caught:
        SafeProcessor()._graph_to_rdf(graph, IdentifierIssuer("_:b"), options)
    assert caught.value.event is event
    assert caught.value.term == term


# --- protected terms (VC DM 2.0 section 4.3) ----------------------------------------------


@pytest.mark.parametrize(
    ("context", "term"),
    [
        ({"VerifiableCredential": "https://evil.example/x"}, "VerifiableCredential"),
        ({"name": "https://evil.example/name"}, "name"),
        (
            {
                "VerifiableCredential": {
                    "@id": CRED + "VerifiableCredential",
                    "@context": {"credentialSubject": "https://evil.example/subject"},
                }
            },
            "VerifiableCredential",
        ),
    ],
    ids=["type", "name", "type-scoped-credentialSubject"],
)
def test_fails_when_a_protected_term_is_redefined(context: dict[str, Any], term: str) -> None:
    with pytest.raises(JsonLdError) as caught:
        to_dataset(_with_inline(context), default_store())
    assert caught.value.code is ErrorCode.PROTECTED_TERM_REDEFINITION
    assert caught.value.term == term


def test_a_top_level_credential_subject_definition_cannot_change_its_meaning() -> None:
    """v2 defines credentialSubject in VerifiableCredential's type-scoped context, applied after
    an embedded one (JSON-LD 1.1 section 4.1.8), so a top-level redefinition is no redefinition
    (jsonld.js accepts it too) and the signed predicate stays the VC one."""
    document = _with_inline({"credentialSubject": "https://evil.example/subject"})
    predicates = {p for _, p, _ in _triples(to_dataset(document, default_store()))}
    assert CRED + "credentialSubject" in predicates
    assert "https://evil.example/subject" not in predicates


# --- contexts that are not pinned ------------------------------------------------------------


@pytest.mark.parametrize(
    ("context", "url"),
    [
        ([V2, "https://evil.example/ctx"], "https://evil.example/ctx"),
        ([V2, "https://w3id.org/citizenship/v4rc1"], "https://w3id.org/citizenship/v4rc1"),
        (
            [V2, {"foo": {"@id": "https://e.org/foo", "@context": "https://evil.example/scoped"}}],
            "https://evil.example/scoped",
        ),
        ([V2, "relative/ctx.json"], "relative/ctx.json"),
    ],
    ids=["unknown", "vector-only", "scoped", "relative"],
)
@pytest.mark.parametrize("operation", [to_dataset, expand], ids=["to_dataset", "expand"])
def test_fails_when_a_context_is_not_pinned(operation: Any, context: Any, url: str) -> None:
    """STYLE 11: ContextNotAllowed names the URL; the blocked network is never tried."""
    with pytest.raises(ContextNotAllowed) as caught:
        operation(_credential(**{"@context": context}), default_store())
    assert type(caught.value) is ContextNotAllowed
    assert caught.value.url == url
    assert caught.value.code is ErrorCode.CONTEXT_NOT_ALLOWED


# --- everything else pyld refuses ---------------------------------------------------------------


def test_other_jsonld_errors_become_jsonld_invalid_with_the_cause_chained() -> None:
    with pytest.raises(JsonLdError) as caught:
        to_dataset(_credential(id=5), default_store())
    assert caught.value.code is ErrorCode.JSONLD_INVALID
    assert "invalid @id value" in caught.value.message
    cause = caught.value.__cause__
    assert isinstance(cause, pyld_jsonld.JsonLdError)


def test_non_object_input_is_refused() -> None:
    with pytest.raises(InputError):
        to_dataset(["not", "an", "object"], default_store())  # type: ignore[arg-type]
