"""Property-based equivalence of the fast path and the full pyld path (keys.fastpath).

Random credentials (awkward strings, nested objects, arrays, language values and maps, blank
nodes, numbers, IRIs of every kind) are compiled, then a second document of the same shape with
other leaves, some of the same kind and some hostile (relative, blank, compact, keyword-shaped,
terms), is canonicalized both ways: identical canonical N-Quads or the identical refusal.
RDFC-1.0 section 4.4, JSON-LD 1.1 API 5.2 and 13, jsonld.js safe mode.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from contexts import default_store
from contexts.compiled import read_shape, with_leaves
from keys.keypair import KeyPair, KeyType
from keys.suites import REGISTRY, ProofOptions, canonize, create_proof
from tests.interop.credentials import AWKWARD
from verifier.samples import certification_credential

from .fastpath_cases import (
    TEST_CTX,
    VC_V2,
    compiling,
    fast,
    fast_safety,
    reference,
    safety,
    store_with_test_context,
)

STORE = store_with_test_context()
NOW = datetime(2026, 3, 1, tzinfo=UTC)

_awkward = st.sampled_from(list(AWKWARD.values()))
_text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    _awkward,
    st.sampled_from(["", " ", "\u0000", '"', "\\", "\U0001f393", "e\u0301", "\u202e"]),
)
_iri = st.one_of(
    st.sampled_from(
        [
            "https://example.test/a",
            "https://example.test/b#frag",
            "urn:uuid:2f1e9c4a-8d61-4c0b-9a3e-5b7d2e4f6a10",
            "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            "did:web:example.test%3A8443:a",
            "ex://as-is",
            "mailto:a@example.test",
        ]
    ),
    st.builds(lambda s: f"urn:x:{s}", st.text("abcxyz019-._~%", max_size=8)),
)
# values whose expansion depends on the value (JSON-LD 1.1 API 5.2) or that safe mode refuses
_hostile = st.sampled_from(
    [
        "relative",
        "rel/path#x",
        "_:b0",
        "_:c14n0",
        "ex:compact",
        "Gold",
        "note",
        "@vocab",
        "@foo",
        "urn:has space",
        "https://example.test/\u0001",
        "bad \ud800 surrogate",
        "1.5",
        "",
    ]
)
_language = st.sampled_from(["en", "de-CH", "ar", "zh-Hant-TW", "EN-gb"])
_scalar = st.one_of(
    _text,
    _iri,
    st.booleans(),
    st.builds(lambda v, lang: {"@value": v, "@language": lang}, _text, _language),
)
_rare = st.one_of(  # features the compiler leaves to pyld
    st.integers(-(2**31), 2**31),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.dictionaries(_language, _text, min_size=1, max_size=2).map(lambda m: ("labels", m)),
    st.lists(_text, max_size=2).map(lambda items: ("tags", items)),
)

_KEYS = ["note", "german", "dated", "ref", "kind", "name", "description", "ex:free", "inner"]


@st.composite
def _node(draw: Any, depth: int = 0) -> dict[str, Any]:
    node: dict[str, Any] = {}
    if draw(st.booleans()):
        node["id"] = draw(_iri)
    if draw(st.booleans()):
        node["type"] = draw(st.sampled_from(["Thing", ["Thing"], "ex:Kind", ["ex:A", "ex:B"]]))
    for key in draw(st.lists(st.sampled_from(_KEYS), min_size=1, max_size=4, unique=True)):
        if key == "inner" and node.get("type") not in ("Thing", ["Thing"]):
            continue  # "inner" is defined only inside a Thing (a type-scoped context)
        kind = draw(st.integers(0, 9))
        if kind <= 4:
            node[key] = draw(_scalar)
        elif kind <= 6:
            node[key] = draw(st.lists(_scalar, min_size=1, max_size=3))
        elif kind <= 8 and depth < 2:
            node[key] = draw(_node(depth + 1))
        else:
            rare = draw(_rare)
            if isinstance(rare, tuple):
                node[rare[0]] = rare[1]
            else:
                node[key] = rare
    if draw(st.booleans()) and depth < 2:
        node["scoped"] = {"deep": draw(st.one_of(_iri, _hostile)), "note": draw(_text)}
    return node


@st.composite
def _document(draw: Any) -> dict[str, Any]:
    document = draw(_node())
    document["@context"] = [VC_V2, TEST_CTX]
    if draw(st.booleans()):
        document["id"] = draw(_iri)  # a top-level node needs more than an @id
    return document


def _like(leaf: str) -> st.SearchStrategy[str]:
    """A new leaf: mostly of the same kind as ``leaf`` (so the compiled shape applies), else
    anything, hostile values included."""
    same = _iri if ":" in leaf and not leaf.startswith("_:") else _text
    return st.one_of(same, same, same, _hostile, _text, _iri)


def _check(document: dict[str, Any], other: dict[str, Any]) -> tuple[bool, int]:
    """Compile ``document``, then compare both documents both ways; (compiled?, hits)."""
    canonicalizer = compiling()
    for doc in (document, other, copy.deepcopy(other)):
        assert fast(canonicalizer, doc, STORE) == reference(doc, STORE), doc
        assert fast_safety(canonicalizer, doc, STORE) == safety(doc, STORE), doc
    stats = canonicalizer.stats()
    return stats.compiled > 0, stats.hits


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_same_shape_other_leaves_equal_the_full_path(data: st.DataObject) -> None:
    """Whatever the leaves, the fast path answers as the full path: same canonical N-Quads or
    the same refusal, for the canonical form and for the safety verdict alone."""
    document = data.draw(_document())
    shape = read_shape(document)
    if shape is None:  # a shape the compiler leaves to pyld
        _check(document, copy.deepcopy(document))
        return
    other = with_leaves(document, [data.draw(_like(leaf)) for leaf in shape[1]])
    _check(document, other)


_SIGNED: dict[str, Any] = {}


def _certvc_credentials() -> list[dict[str, Any]]:
    """The certification credential certvc issues, unsigned and signed (proof in a graph)."""
    if not _SIGNED:
        pair = KeyPair.generate(KeyType.ED25519)
        unsigned = certification_credential(pair.public_key.did_key, valid_from=NOW)
        suite = REGISTRY["eddsa-rdfc-2022"].cryptosuite
        assert suite is not None
        _SIGNED["unsigned"] = unsigned
        _SIGNED["signed"] = create_proof(
            suite, unsigned, pair.signer(), ProofOptions(created=NOW), default_store(), canonize
        )
    return [_SIGNED["unsigned"], _SIGNED["signed"]]


# One canonicalizer for every example: whatever it compiled before, the answer must not change.
_SHARED = compiling()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_certvc_credentials_with_any_leaves_equal_the_full_path(data: st.DataObject) -> None:
    """The Open Badges 3.0 certification credential (verifier.samples), compiled, then with
    some of its strings replaced by awkward text, other IRIs, other leaves of the document
    (equal values: merged nodes, one quad) or hostile values: same output or same refusal."""
    store = default_store()
    for document in _certvc_credentials():
        _, leaves = read_shape(document) or ((), [])
        pool = st.one_of(_text, _iri, _hostile, st.sampled_from(leaves))
        replaced = [
            data.draw(pool) if data.draw(st.integers(0, 9)) == 0 else leaf for leaf in leaves
        ]
        for doc in (document, with_leaves(document, replaced)):
            assert fast(_SHARED, doc, store) == reference(doc, store), doc
            assert fast_safety(_SHARED, doc, store) == safety(doc, store), doc


def _corpus(size: int) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """A fixed corpus of (compiled document, same-kind other document) pairs."""
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []

    @settings(
        max_examples=size,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        document = data.draw(_document())
        shape = read_shape(document)
        if shape is None:
            found.append((document, document))
            return
        kinds = [_iri if ":" in leaf and not leaf.startswith("_:") else _text for leaf in shape[1]]
        found.append((document, with_leaves(document, [data.draw(k) for k in kinds])))

    collect()
    return found


def test_the_generated_corpus_exercises_compiled_shapes() -> None:
    """The property corpus is not silently all fallback: most safe, supported shapes compile
    and documents of the same kind are written from them."""
    compiled = hits = supported = 0
    for document, other in _corpus(60):
        if read_shape(document) is None or reference(document, STORE)[0] != "ok":
            _check(document, other)
            continue
        supported += 1
        was_compiled, got = _check(document, other)
        compiled += was_compiled
        hits += got > 0
    assert supported >= 20
    assert compiled >= supported * 0.7, (compiled, supported)
    assert hits >= compiled * 0.7, (hits, compiled)
