"""The fast path's caches stay bounded, its generated code holds no document text, and its
base58btc equals the ``base58`` package (keys.fastpath)."""

from __future__ import annotations

import gc
import random
from datetime import UTC, datetime
from typing import Any

import base58
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contexts import default_store
from contexts.jsonld import ProcessedContexts, SafeProcessor, processed_contexts, run
from keys.base58btc import b58decode, b58encode
from keys.fastpath import FastCanonicalizer, default_canonicalizer
from keys.suites import FAST, canonize
from verifier.samples import certification_credential

from .fastpath_cases import TEST_CTX, VC_V2, store_with_test_context

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _document(i: int, kind: str = "Gold") -> dict[str, Any]:
    return {
        "@context": [VC_V2, TEST_CTX],
        "id": f"urn:doc:{i}",
        "kind": kind,
        "note": f"note {i}",
    }


def _keyed(i: int, shape: int) -> dict[str, Any]:
    return {**_document(i), f"ex:k{shape}": "distinct key, distinct shape"}


def test_shapes_per_store_are_capped() -> None:
    """Memory stays flat: past ``max_shapes`` distinct shapes no more are held, and a shape seen
    once does not push out one that was compiled (frequency admission)."""
    store = store_with_test_context()
    canonicalizer = FastCanonicalizer(max_shapes=8, compile_after=1)
    for i in range(40):
        document = _keyed(i, i)
        assert canonicalizer(document, store) == canonize(document, store)
    stats = canonicalizer.stats()
    assert stats.compiled == 8
    assert stats.shapes == 8 and stats.templates == 8


def test_shape_churn_compiles_little_and_a_hot_shape_keeps_its_template() -> None:
    """Three times ``max_shapes`` shapes in a random rotation: plain LRU evicted each template
    before it was used (42 compiles for 95 hits here); frequency admission keeps a stable set.
    A compile costs three full runs, so each must pay for itself with hits. One shape in four
    lookups is hot: it is written from its template from its second miss on."""
    store = store_with_test_context()
    canonicalizer = FastCanonicalizer(max_shapes=8, compile_after=2)
    shapes = random.Random(7)
    hot_hits = 0
    for i in range(300):
        hot = i % 4 == 0
        document = _keyed(i, -1 if hot else shapes.randrange(24))
        hits = canonicalizer.stats().hits
        written = canonicalizer(document, store)
        hot_hits += hot and canonicalizer.stats().hits > hits
        if i % 10 == 0:  # the full path is slow; a sample is compared
            assert written == canonize(document, store)
    stats = canonicalizer.stats()
    assert stats.shapes == 8 and stats.templates <= 8
    assert stats.compiled <= 20
    assert stats.hits >= 3 * stats.compiled
    assert hot_hits == 75 - 2  # all but the two misses before compiling


def test_variants_per_shape_are_capped() -> None:
    """A leaf pinned to its value (a term expanded through @vocab) makes one template per
    value; past ``max_variants`` documents of that shape take the full path."""
    store = store_with_test_context()
    canonicalizer = FastCanonicalizer(max_variants=2, compile_after=1)
    for i in range(12):
        document = _document(i, kind=f"ex:Kind{i % 6}")
        assert canonicalizer(document, store) == canonize(document, store)
    stats = canonicalizer.stats()
    assert stats.shapes == 1 and stats.templates == 2
    assert stats.hits == 2  # kinds 0 and 1 came back once each


def test_many_documents_of_one_shape_use_one_template() -> None:
    """Thousands of credentials of one shape (an exam session) hold one template."""
    store = store_with_test_context()
    canonicalizer = FastCanonicalizer()
    for i in range(500):
        document = _document(i)
        written = canonicalizer(document, store)
        if i % 50 == 0:  # the full path is slow; a sample is compared
            assert written == canonize(document, store)
    stats = canonicalizer.stats()
    assert (stats.shapes, stats.templates, stats.compiled) == (1, 1, 1)
    assert stats.hits == 498  # seen twice before compiling (compile_after=2)


def test_a_shape_seen_once_is_not_compiled() -> None:
    """Compiling costs three full runs: a one-off shape is left to the full path."""
    store = default_store()
    canonicalizer = FastCanonicalizer()
    document = {"@context": [VC_V2], "id": "urn:x", "name": "n"}
    canonicalizer(document, store)
    assert canonicalizer.stats().compiled == 0
    canonicalizer(document, store)
    assert canonicalizer.stats().compiled == 1


def test_stores_are_held_weakly() -> None:
    """A store dropped by its owner takes its compiled shapes with it."""
    canonicalizer = FastCanonicalizer(compile_after=1)
    store = store_with_test_context()
    canonicalizer(_document(1), store)
    assert canonicalizer.stats().shapes == 1
    del store
    gc.collect()
    assert canonicalizer.stats().shapes == 0


def test_processed_contexts_are_capped_and_change_nothing() -> None:
    """The processed-context cache (contexts.processed) is an LRU: a tiny one thrashes through
    the type-scoped contexts of an Open Badges credential and still gives the dataset of the
    shared one; a document's own inline contexts are never kept."""
    store = store_with_test_context()
    tiny = ProcessedContexts(maxsize=2)
    for i in range(4):
        credential = certification_credential("did:example:issuer", valid_from=NOW)
        credential["@context"] = [*credential["@context"], {f"t{i}": f"https://e.test/t{i}"}]
        credential["credentialSubject"][f"t{i}"] = "v"
        shared = run(credential, store, "to_rdf")
        alone = run(credential, store, "to_rdf", lambda _shared: SafeProcessor(tiny))
        assert alone == shared
        assert len(tiny) == 2
    cache = processed_contexts(store)
    assert 0 < len(cache) <= cache.maxsize
    assert not any(
        isinstance(entry[0], dict) and "t0" in entry[0] for entry in cache._data.values()
    )


def test_the_product_default_is_one_shared_fast_canonicalizer() -> None:
    assert FAST is default_canonicalizer()
    assert isinstance(FAST, FastCanonicalizer)
    assert "max_shapes=256" in repr(FAST)


@pytest.mark.parametrize(
    "arguments", [{"max_shapes": 0}, {"max_variants": 0}, {"compile_after": 0}]
)
def test_bounds_must_be_positive(arguments: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        FastCanonicalizer(**arguments)


def test_generated_code_holds_no_document_text() -> None:
    """The compiled functions index leaves and constants; a credential's text (here one that
    reads like code) never becomes part of the code."""
    store = store_with_test_context()
    canonicalizer = FastCanonicalizer(compile_after=1)
    document = {**_document(1), "note": "'); __import__('os').system('x'); ('"}
    canonicalizer(document, store)
    [cache] = canonicalizer._stores.values()
    [shape] = cache.shapes.values()
    [template] = shape.templates
    for function in (template.emit, template.canon):
        texts = {c for c in function.__code__.co_consts if isinstance(c, str)}
        assert texts <= {"<", ">", '"'}, texts
        assert "C" in function.__code__.co_names  # the constants live outside the code


# --- base58btc -------------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=100).map(lambda b: b"\0" * (b[:1] == b"\1") * 3 + b))
def test_base58_encoding_equals_the_package(data: bytes) -> None:
    """Multibase base58btc (CID 1.0 / Data Integrity proofValue): same text, same bytes back."""
    text = b58encode(data)
    assert text == base58.b58encode(data).decode("ascii")
    assert b58decode(text) == data


@pytest.mark.parametrize(
    "text", ["", "1", "111", "0", "O", "I", "l", "abc def", "é", "abc \n", "2" * 300, "zz\x00"]
)
def test_base58_decoding_fails_like_the_package(text: str) -> None:
    try:
        expected: Any = base58.b58decode(text)
    except ValueError as error:
        expected = type(error)
    try:
        got: Any = b58decode(text)
    except ValueError as error:
        got = type(error)
    assert got == expected
