"""The fast path (keys.fastpath) gives what the full pyld path gives, byte for byte.

Every case compiles a shape from one document and then canonicalizes others of the same shape,
comparing with ``keys.suites.canonize`` (safe-mode pyld, then RDFC-1.0): identical canonical
N-Quads, or the identical refusal (type, code, safe-mode event, term, message). The cases are
the W3C vectors, the credentials certvc issues, leaves that change the RDF (relative, blank,
compact IRIs, terms, equal values, xsd:double, lone surrogates) and shapes the compiler must
leave to pyld. RDFC-1.0 (W3C Rec 2024) section 4.4; JSON-LD 1.1 API 5.2, 8.3 and 13.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contexts import ContextStore, default_store
from keys.fastpath import FastCanonicalizer
from keys.keypair import KeyPair, KeyType
from keys.suites import REGISTRY, ProofOptions, canonize, create_proof
from tests.interop.credentials import AWKWARD, awkward_open_badge, open_badge, plain_vc
from tests.vectors.conftest import VECTOR_SETS, VectorSet, vector_store
from verifier.samples import certification_credential

from .fastpath_cases import (
    EX,
    TEST_CTX,
    UNDEFINED_TERMS,
    VC_V2,
    compiling,
    fast,
    fast_safety,
    reference,
    safety,
    store_with_test_context,
)

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def _agree(
    canonicalizer: FastCanonicalizer, document: dict[str, Any], store: ContextStore
) -> tuple[Any, ...]:
    """The fast path and the full path agree on ``document`` (output or refusal), for the
    canonical form and for the safety verdict alone; returns the outcome."""
    expected = reference(document, store)
    assert fast(canonicalizer, document, store) == expected
    assert fast_safety(canonicalizer, document, store) == safety(document, store)
    return expected


def _hits(canonicalizer: FastCanonicalizer) -> int:
    return canonicalizer.stats().hits


# --- the W3C vectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("vs", VECTOR_SETS, ids=[v.name for v in VECTOR_SETS])
def test_vectors_through_compiled_shapes(vs: VectorSet) -> None:
    """VC-DI-EdDSA B.1, VC-DI-ECDSA B.1-B.2: the compiled shapes of the unsigned document and
    the proof configuration write the vectors' canonical forms, and the signed document's
    shape (proof in a named graph, VC-DI 2.1) passes safe mode as the full path says."""
    store = vector_store()
    canonicalizer = compiling()
    for document, canonical in (
        (vs.unsigned, vs.canonical_document),
        (vs.proof_config, vs.canonical_proof_config),
    ):
        assert canonicalizer(document, store) == canonical  # compiles
        before = _hits(canonicalizer)
        assert canonicalizer(copy.deepcopy(document), store) == canonical
        assert _hits(canonicalizer) == before + 1
    _agree(canonicalizer, vs.signed, store)
    _agree(canonicalizer, vs.signed, store)


@pytest.mark.parametrize(
    "vs", [v for v in VECTOR_SETS if v.cryptosuite == "eddsa-rdfc-2022"], ids=lambda v: v.name
)
def test_eddsa_vectors_signed_through_the_fast_path(vs: VectorSet) -> None:
    """Ed25519 is deterministic: signing through compiled shapes gives the vector's proofValue."""
    store = vector_store()
    canonicalizer = compiling()
    pair = KeyPair.from_multikey(vs.key_pair)
    signer = pair.signer(vs.proof_config["verificationMethod"])
    options = ProofOptions(
        created=datetime.fromisoformat(vs.proof_config["created"].replace("Z", "+00:00")),
        verification_method=vs.proof_config["verificationMethod"],
    )
    suite = REGISTRY["eddsa-rdfc-2022"].cryptosuite
    assert suite is not None
    for _ in range(2):  # the second run is written from the compiled shapes
        signed = create_proof(suite, vs.unsigned, signer, options, store, canonicalizer)
        assert signed["proof"]["proofValue"] == vs.proof_value
    assert _hits(canonicalizer) >= 2


# --- the credentials certvc issues ------------------------------------------------------------


def _certification(**changes: Any) -> dict[str, Any]:
    return certification_credential(DID, valid_from=NOW, **changes)


CERTVC_VARIANTS = {
    "another-person": _certification(person_name="Jürgen O'Brien", certificate_number="CB-9"),
    "another-body": _certification(
        base_url="https://pcb.example.net:8443/a/b", status_index=(0, 131071)
    ),
    "longer-validity": _certification(validity=timedelta(days=10)),
    "awkward-name": _certification(person_name=" | ".join(AWKWARD.values())),
    "empty-strings": _certification(person_name="", certificate_number=""),
    "did-web-issuer": certification_credential("did:web:pcb.example.org", valid_from=NOW),
}


@pytest.mark.parametrize("variant", list(CERTVC_VARIANTS))
def test_certification_credentials_are_written_from_their_shape(variant: str) -> None:
    """Every certification credential certvc issues (verifier.samples, the OB 3.0 shape of the
    issuer service) is written from the compiled shape and equals the full path."""
    store = default_store()
    canonicalizer = compiling()
    _agree(canonicalizer, _certification(), store)
    before = _hits(canonicalizer)
    assert _agree(canonicalizer, CERTVC_VARIANTS[variant], store)[0] == "ok"
    assert _hits(canonicalizer) > before, "the variant should hit the compiled shape"


@pytest.mark.parametrize(
    "build", [open_badge, plain_vc, awkward_open_badge], ids=["open-badge", "plain", "awkward"]
)
def test_interop_credentials_and_their_signed_forms(build: Any) -> None:
    """The interop corpus's credentials, unsigned and with a proof (a graph container)."""
    store = default_store()
    canonicalizer = compiling()
    pair = KeyPair.generate(KeyType.ED25519)
    signer = pair.signer()
    suite = REGISTRY["eddsa-rdfc-2022"].cryptosuite
    assert suite is not None
    for issuer in ("did:example:one", pair.public_key.did_key):
        document = build(issuer)
        _agree(canonicalizer, document, store)
        signed = create_proof(suite, document, signer, ProofOptions(created=NOW), store, canonize)
        _agree(canonicalizer, signed, store)
        _agree(canonicalizer, signed, store)
    assert _hits(canonicalizer) > 0


# --- leaves that change the RDF ----------------------------------------------------------------


def _with(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    target: Any = changed
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return changed


_BASE = _certification()
_SUBJECT_ID = {**_BASE, "credentialSubject": {**_BASE["credentialSubject"], "id": "did:ex:x"}}

# (document the shape is compiled from, documents of the same shape to compare)
LEAF_CASES: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    # JSON-LD 1.1 API 5.2: an @id value that is not an absolute IRI is not kept as written
    "relative-id": (_BASE, [_with(_BASE, ("id",), "credentials/42")]),
    "blank-node-id": (_BASE, [_with(_BASE, ("id",), "_:b7"), _with(_BASE, ("id",), "_:c14n0")]),
    "keyword-shaped-id": (_BASE, [_with(_BASE, ("id",), "@vocab"), _with(_BASE, ("id",), "@x")]),
    "id-with-space": (_BASE, [_with(_BASE, ("id",), "urn:a b")]),
    "iri-escapes": (_BASE, [_with(_BASE, ("id",), 'urn:x:<>"{}|^`\\\u0001')]),
    "issuer-relative": (_BASE, [_with(_BASE, ("issuer", "id"), "issuer")]),
    # equal leaves: equal @id values merge nodes, equal values are one quad (RDF 1.1 datasets)
    "subject-is-issuer": (_SUBJECT_ID, [_with(_SUBJECT_ID, ("credentialSubject", "id"), DID)]),
    "name-equals-description": (
        _BASE,
        [_with(_BASE, ("issuer", "description"), _BASE["issuer"]["name"])],
    ),
    "names-differ": (_BASE, [_with(_BASE, ("name",), "Other name")]),
    # compiled where nodes merged: the merged node's quads must not follow one of the leaves
    "issuer-was-subject": (
        _with(_SUBJECT_ID, ("credentialSubject", "id"), DID),
        [_SUBJECT_ID, _with(_SUBJECT_ID, ("issuer", "id"), "did:ex:x")],
    ),
    "status-ids-were-equal": (
        _with(_BASE, ("credentialStatus", 1, "id"), _BASE["credentialStatus"][0]["id"]),
        [_BASE],
    ),
    "status-ids-equal": (
        _BASE,
        [
            _with(
                _BASE,
                ("credentialStatus", 1, "id"),
                _BASE["credentialStatus"][0]["id"],
            )
        ],
    ),
    "lone-surrogate": (
        _BASE,
        [
            _with(_BASE, ("name",), "bad \ud800 name"),  # in a quad without blank nodes
            _with(_BASE, ("credentialSubject", "licenseNumber"), "\udfff"),  # in a blank node's
        ],
    ),
    "control-characters": (_BASE, [_with(_BASE, ("name",), '\u0000\u007f\b\t\n\f\r"\\')]),
    "language-object": (
        _with(_BASE, ("description",), {"@value": "Zertifikat", "@language": "de"}),
        [
            _with(_BASE, ("description",), {"@value": "Zertifikat\n\u0301", "@language": "de"}),
            _with(_BASE, ("description",), {"@value": "x", "@language": "de-CH"}),
            _with(_BASE, ("description",), {"@value": "x", "@language": "de_CH"}),
            _with(_BASE, ("description",), {"@value": "x", "@language": ""}),
        ],
    ),
    "boolean": (
        _BASE,
        [_with(_BASE, ("credentialSubject", "identifier", 0, "hashed"), True)],
    ),
}

_TEST = {
    "@context": [VC_V2, TEST_CTX],
    "id": "urn:test:1",
    "ref": "https://example.test/a",
    "kind": "Gold",
    "note": "plain",
    "score": "1.5",
    "dated": "2024-01-01",
    "german": "Hallo",
    "scoped": {"deep": "https://example.test/deep", "note": "n"},
    "ex:extra": {"type": "Thing", "inner": "in", "ref": "urn:ref"},
}
LEAF_CASES.update(
    {
        "node-id-prefix": (  # the test context's "ex" prefix expands ex:x (5.2 step 6.4)
            _TEST,
            [
                _with(_TEST, ("id",), "ex:node"),
                _with(_TEST, ("id",), "ex://kept-as-is"),
                _with(_TEST, ("id",), "urn:x"),
                _with(_TEST, ("id",), "Gold"),
            ],
        ),
        "id-coerced-term": (  # type: @id, JSON-LD 1.1 API 5.2 with vocab false
            _TEST,
            [
                _with(_TEST, ("ref",), "urn:other"),
                _with(_TEST, ("ref",), "ex:compact"),
                _with(_TEST, ("ref",), "Gold"),
                _with(_TEST, ("ref",), "_:blank"),
                _with(_TEST, ("ref",), "relative/path"),
            ],
        ),
        "vocab-coerced-term": (  # type: @vocab: a term becomes its IRI (5.2 step 4)
            _TEST,
            [
                _with(_TEST, ("kind",), "ex:Silver"),
                _with(_TEST, ("kind",), "https://example.test/Bronze"),
                _with(_TEST, ("kind",), "Silver"),
                _with(_TEST, ("kind",), "note"),
            ],
        ),
        "vocab-coerced-iri-first": (
            _with(_TEST, ("kind",), "https://example.test/Bronze"),
            [
                _with(_TEST, ("kind",), "https://example.test/Iron"),
                _with(_TEST, ("kind",), "Gold"),
                _with(_TEST, ("kind",), "ex:Gold"),
                _with(_TEST, ("kind",), EX + "Gold"),
            ],
        ),
        "xsd-double-rewrites": (  # JSON-LD 1.1 API 8.6: the lexical form is canonicalized
            _TEST,
            [_with(_TEST, ("score",), "2"), _with(_TEST, ("score",), "1.50"), _TEST],
        ),
        "default-language-and-datatypes": (
            _TEST,
            [_with(_with(_TEST, ("german",), "Tschüß\u0000"), ("dated",), "not a date")],
        ),
        "scoped-contexts": (
            _TEST,
            [
                _with(_TEST, ("scoped", "deep"), "ex:deep2"),
                _with(_TEST, ("ex:extra", "inner"), "changed"),
                _with(_TEST, ("ex:extra", "ref"), "ex:r"),
            ],
        ),
    }
)


@pytest.mark.parametrize("case", list(LEAF_CASES))
def test_leaves_that_change_the_rdf_are_never_guessed(case: str) -> None:
    """A leaf whose value changes how it expands (IRI rules, pinned values, equal leaves) takes
    another template or the full path; output and refusals equal the full path's."""
    compiled_from, others = LEAF_CASES[case]
    store = store_with_test_context()
    canonicalizer = compiling()
    first = _agree(canonicalizer, compiled_from, store)
    assert first[0] == "ok", first
    assert canonicalizer.stats().templates == 1, canonicalizer.stats()
    for document in others:
        _agree(canonicalizer, document, store)
        _agree(canonicalizer, document, store)  # and again, once it may have compiled


def test_a_leaf_equal_to_a_constant_makes_one_quad() -> None:
    """RDF 1.1: a dataset is a set. A proof purpose given as a term and as an IRI slot: when the
    slot's value is the term's IRI the two quads are one, in both paths."""
    store = default_store()
    canonicalizer = compiling()
    config = {
        "@context": [VC_V2],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": DID + "#key",
        "proofPurpose": ["assertionMethod", "https://w3id.org/security#authentication"],
    }
    _agree(canonicalizer, config, store)
    same = _with(config, ("proofPurpose", 1), "https://w3id.org/security#assertionMethod")
    outcome = _agree(canonicalizer, same, store)
    assert outcome[1].count("proofPurpose") == 1  # one quad, not two
    _agree(canonicalizer, _with(config, ("proofPurpose", 1), "https://x.example/other"), store)


def test_a_quad_hidden_behind_an_equal_leaf_is_not_lost() -> None:
    """Compiled from a document where a leaf equals a term's IRI, pyld keeps one quad for both;
    the probe run (every free leaf changed) shows that the quads part for other values, so the
    shape is not compiled from that document."""
    store = default_store()
    canonicalizer = compiling()
    config = {
        "@context": [VC_V2],
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2024-01-01T00:00:00Z",
        "verificationMethod": DID + "#key",
        "proofPurpose": ["https://w3id.org/security#assertionMethod", "assertionMethod"],
    }
    _agree(canonicalizer, config, store)
    assert canonicalizer.stats().templates == 0
    other = _with(config, ("proofPurpose", 0), "https://w3id.org/security#authentication")
    assert _agree(canonicalizer, other, store)[1].count("proofPurpose") == 2


# --- shapes the compiler leaves to pyld -----------------------------------------------------------

FULL_PATH_SHAPES: dict[str, dict[str, Any]] = {
    "number": {**_TEST, "ex:n": 5},
    "float": {**_TEST, "ex:n": 1.5e-7},
    "null": {**_TEST, "note": None},
    "list-container": {**_TEST, "tags": ["a", "b", {"@id": "urn:x"}]},
    "list-keyword": {**_TEST, "ex:l": {"@list": ["a"]}},
    "language-map": {**_TEST, "labels": {"en": "Hi", "de": ["Hallo", "Servus"]}},
    "index-map": {**_TEST, "byKey": {"k1": {"note": "a"}, "k2": "v"}},
    "json-literal": {**_TEST, "data": {"b": [1, 2.5, "x"], "a": None}},
    "nest": {**_TEST, "wrapper": {"note": "nested"}},
    "reverse-term": {**_TEST, "parentOf": {"id": "urn:child"}},
    "reverse-keyword": {**_TEST, "@reverse": {"ex:childOf": {"id": "urn:c"}}},
    "graph-keyword": {"@context": [VC_V2, TEST_CTX], "@graph": [{"id": "urn:a", "note": "x"}]},
    "included": {**_TEST, "@included": [{"id": "urn:i", "note": "x"}]},
    "inline-context": {
        **_TEST,
        "@context": [VC_V2, TEST_CTX, {"extra": "ex:extra2"}],
        "extra": "x",
    },
    "embedded-context": {**_TEST, "scoped": {"@context": {"x": "ex:x"}, "x": "y"}},
    "index-keyword": {**_TEST, "ex:v": {"@value": "x", "@index": "i"}},
    "undefined-terms-vocab": {
        "@context": [VC_V2, UNDEFINED_TERMS],
        "id": "urn:u",
        "anything": {"goes": ["here", 1]},
    },
}


@pytest.mark.parametrize("case", list(FULL_PATH_SHAPES))
def test_shapes_outside_the_compiler_take_the_full_path(case: str) -> None:
    """Lists, numbers, null, maps, @json, @nest, @reverse, @graph, @included, inline and
    embedded contexts: never compiled, always the full path's answer."""
    store = store_with_test_context()
    canonicalizer = compiling()
    document = FULL_PATH_SHAPES[case]
    for _ in range(3):
        _agree(canonicalizer, document, store)
    stats = canonicalizer.stats()
    assert stats.hits == 0 and stats.templates == 0, stats


# --- refusals -------------------------------------------------------------------------------------

_MINIMAL = {
    "@context": [VC_V2],
    "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "validFrom": "2024-01-01T00:00:00Z",
    "credentialSubject": {"id": "did:example:1", "name": "x"},
}
REFUSED: dict[str, dict[str, Any]] = {
    "undefined-term": {**_MINIMAL, "credentialSubject": {"id": "did:example:1", "foo": "x"}},
    "undefined-type": {**_MINIMAL, "type": ["VerifiableCredential", "MyThing"]},
    "reserved-key": {**_MINIMAL, "@foo": "x"},
    "unpinned-context": {**_MINIMAL, "@context": [VC_V2, "https://evil.example/ctx"]},
    "relative-context": {**_MINIMAL, "@context": [VC_V2, "ctx.json"]},
    "protected-redefinition": {**_MINIMAL, "@context": [VC_V2, {"name": "https://evil/x"}]},
    "only-id-at-top": {"@context": [VC_V2], "id": "urn:x"},
    "null-value": {**_MINIMAL, "name": {"@value": None}},
    "invalid-id-type": {**_MINIMAL, "id": 5},
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_refusals_are_the_full_paths(case: str) -> None:
    """jsonld.js safe mode (lib/events.js): the same refusal, code, event and term, every time
    (refusals are never cached)."""
    store = default_store()
    canonicalizer = compiling()
    for _ in range(2):
        assert _agree(canonicalizer, REFUSED[case], store)[0] == "refused"
    assert canonicalizer.stats().templates == 0


def test_a_refused_instance_of_a_compiled_shape_is_refused_alike() -> None:
    """A compiled shape never vouches for a document whose leaves it cannot admit: the relative
    issuer of an otherwise known shape is refused, naming the same term."""
    store = default_store()
    canonicalizer = compiling()
    assert _agree(canonicalizer, _MINIMAL, store)[0] == "ok"
    refused = _agree(canonicalizer, {**_MINIMAL, "issuer": "issuer-1"}, store)
    assert refused[0] == "refused" and refused[4] == "issuer-1"


def test_stores_do_not_share_compiled_shapes() -> None:
    """A shape compiled under one store's contexts is never used with another store's: the
    same URL may be pinned to other bytes elsewhere (ContextStore keeps caches apart)."""
    canonicalizer = compiling()
    one = default_store().with_context(TEST_CTX, {"@context": {"note": "https://a.example/n"}})
    two = default_store().with_context(TEST_CTX, {"@context": {"note": "https://b.example/n"}})
    document = {"@context": [VC_V2, TEST_CTX], "id": "urn:x", "note": "v"}
    for store in (one, two, one, two):
        _agree(canonicalizer, document, store)
    assert "a.example" in canonicalizer(document, one)
    assert "b.example" in canonicalizer(document, two)


# --- base direction (issue 14) ------------------------------------------------------------------


_DIRECTED = {
    **_MINIMAL,
    "name": {"@value": "مرحبا", "@language": "AR", "@direction": "rtl"},
    "description": [
        {"@value": "left to right", "@direction": "ltr"},
        {"@value": "Inspecteur", "@language": "fr-CA", "@direction": "ltr"},
    ],
}


def test_direction_is_canonicalized_as_an_i18n_datatype_on_both_paths() -> None:
    """VC-DI-EdDSA §3.3.3 / VC-DI-ECDSA §3.3.3 (canonize with rdfDirection i18n-datatype) and
    JSON-LD 1.1 API §8.6: a value with @direction is a literal typed
    https://www.w3.org/ns/i18n#{language}_{direction}; the fast path compiles the shape and
    writes other values of it exactly as the full path does."""
    store = default_store()
    canonicalizer = compiling()
    status, nquads = _agree(canonicalizer, _DIRECTED, store)[:2]
    assert status == "ok"
    assert '"مرحبا"^^<https://www.w3.org/ns/i18n#ar_rtl>' in nquads
    assert '"left to right"^^<https://www.w3.org/ns/i18n#_ltr>' in nquads
    assert '"Inspecteur"^^<https://www.w3.org/ns/i18n#fr-ca_ltr>' in nquads
    _agree(canonicalizer, _DIRECTED, store)
    before = _hits(canonicalizer)
    other = _with(_DIRECTED, ("name", "@value"), "שלום")
    assert "i18n#ar_rtl" in _agree(canonicalizer, other, store)[1]
    assert _hits(canonicalizer) > before, "a directed value should hit the compiled shape"
    flipped = _with(_DIRECTED, ("name", "@direction"), "ltr")
    assert "i18n#ar_ltr" in _agree(canonicalizer, flipped, store)[1]
