"""Our RDFC-1.0 canonical N-Quads equal the reference's (jsonld.js + rdf-canonize).

The corpus: the W3C vector documents and proof configurations, our test credentials, and about a
hundred generated credentials with random strings, numbers and nesting. All of it goes to node in
one batch. The vectors' two test-only contexts are inlined, so our product loader (which serves
only the pinned contexts) can read them; the reference's output for the inlined documents is
checked against the vectors' own canonical files, so inlining cannot hide a difference.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.interop.credentials import CREDENTIALS, ED25519, VC_V2, VECTORS
from tests.interop.harness import Reference

pytestmark = pytest.mark.interop

_TEST_CONTEXTS = {
    "https://www.w3.org/ns/credentials/examples/v2": "www.w3.org_ns_credentials_examples_v2.jsonld",
    "https://w3id.org/citizenship/v4rc1": "w3id.org_citizenship_v4rc1.jsonld",
}

# vector document -> its canonical form in the vectors (VC-DI-EdDSA B.1, VC-DI-ECDSA B.1/B.2)
_VECTOR_DOCS = {
    "eddsa/unsigned": ("eddsa-rdfc-2022/unsigned.json", "eddsa-rdfc-2022/canonDocDataInt.txt"),
    "eddsa/employmentAuth": (
        "eddsa-rdfc-2022/employmentAuth.json",
        "eddsa-rdfc-2022/employ/canonDocDataInt.txt",
    ),
    "eddsa/proofConfig": (
        "eddsa-rdfc-2022/proofConfigDataInt.json",
        "eddsa-rdfc-2022/proofCanonDataInt.txt",
    ),
    "eddsa/employ-proofConfig": (
        "eddsa-rdfc-2022/employ/proofConfigDataInt.json",
        "eddsa-rdfc-2022/employ/proofCanonDataInt.txt",
    ),
    "eddsa/signed": ("eddsa-rdfc-2022/signedDataInt.json", None),
    "eddsa/employ-signed": ("eddsa-rdfc-2022/employ/signedDataInt.json", None),
    "ecdsa/unsigned": (
        "ecdsa-rdfc-2019/unsigned.json",
        "ecdsa-rdfc-2019/ecdsa-rdfc-2019-p256/canonDocECDSAP256.txt",
    ),
    "ecdsa/employmentAuth": (
        "ecdsa-rdfc-2019/employmentAuth.json",
        "ecdsa-rdfc-2019/ecdsa-rdfc-2019-p256/employ/canonDocECDSAP256.txt",
    ),
    "ecdsa/p256-proofConfig": (
        "ecdsa-rdfc-2019/ecdsa-rdfc-2019-p256/proofConfigECDSAP256.json",
        "ecdsa-rdfc-2019/ecdsa-rdfc-2019-p256/proofCanonECDSAP256.txt",
    ),
    "ecdsa/p384-proofConfig": (
        "ecdsa-rdfc-2019/ecdsa-rdfc-2019-p384/proofConfigECDSAP384.json",
        "ecdsa-rdfc-2019/ecdsa-rdfc-2019-p384/proofCanonECDSAP384.txt",
    ),
    "ecdsa/p256-signed": ("ecdsa-rdfc-2019/ecdsa-rdfc-2019-p256/signedECDSAP256.json", None),
    "ecdsa/p384-signed": ("ecdsa-rdfc-2019/ecdsa-rdfc-2019-p384/signedECDSAP384.json", None),
}

GENERATED_EXAMPLES = 100
UNDEFINED_TERMS = "https://www.w3.org/ns/credentials/undefined-terms/v2"


def _inline_test_contexts(document: dict[str, Any]) -> dict[str, Any]:
    """Replace the test-only context URLs by their content (JSON-LD 1.1, 4.1: an embedded
    context means the same as the referenced one)."""
    doc = copy.deepcopy(document)

    def inline(ctx: Any) -> Any:
        if isinstance(ctx, str) and ctx in _TEST_CONTEXTS:
            path = VECTORS / "contexts" / _TEST_CONTEXTS[ctx]
            return json.loads(path.read_text(encoding="utf-8"))["@context"]
        if isinstance(ctx, list):
            return [inline(c) for c in ctx]
        return ctx

    doc["@context"] = inline(doc["@context"])
    if isinstance(doc.get("proof"), dict) and "@context" in doc["proof"]:
        doc["proof"]["@context"] = inline(doc["proof"]["@context"])
    return doc


def _vector_corpus() -> dict[str, tuple[dict[str, Any], str | None]]:
    out = {}
    for name, (doc_path, canon_path) in _VECTOR_DOCS.items():
        doc = json.loads((VECTORS / doc_path).read_text(encoding="utf-8"))
        expected = None if canon_path is None else (VECTORS / canon_path).read_text("utf-8")
        out[name] = (_inline_test_contexts(doc), expected)
    return out


# --- generated credentials ------------------------------------------------------------------

# any Unicode scalar value (surrogates are not characters; JSON cannot carry them to node intact)
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)


def misread_by_jsonld_js(number: float) -> bool:
    """jsonld.js 9.0.0 (lib/types.js isDouble) calls a number a double only if String(v) has a
    '.', so 1e-7 or 5e-324 (fractional, but printed without one) become "0"^^xsd:integer,
    against JSON-LD 1.1 API 8.6 step 10. Python's repr gives the same shortest digits as JS."""
    return number != 0 and abs(number) < 1e-6 and "." not in repr(number)


_scalar = st.one_of(
    _text,
    st.integers(min_value=-(2**53), max_value=2**53),  # exact in a JS number too
    # the known jsonld.js divergence is pinned in its own test below, not rediscovered here
    st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: not misread_by_jsonld_js(x)),
    st.booleans(),
    st.builds(
        lambda value, lang: {"@value": value, "@language": lang},
        _text,
        st.sampled_from(["en", "de-CH", "ar", "zh-Hant-TW"]),
    ),
)
# terms VC 2.0 leaves undefined get an IRI from the pinned undefined-terms context
# (VC-DATA-MODEL-2.0, 5.2), so safe mode keeps them
_keys = st.sampled_from(["note", "score", "label", "level", "remark", "detail"])
_node = st.recursive(
    st.dictionaries(_keys, _scalar, max_size=3),
    lambda inner: st.dictionaries(
        _keys,
        st.one_of(_scalar, inner, st.lists(st.one_of(_scalar, inner), max_size=3)),
        max_size=3,
    ),
    max_leaves=8,
)


def _credential(name: str, description: str, subject: dict[str, Any], with_id: bool) -> dict:
    return {
        "@context": [VC_V2, UNDEFINED_TERMS],
        "type": ["VerifiableCredential"],
        "issuer": ED25519.did,
        "name": name,
        "description": description,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {**({"id": "did:example:holder"} if with_id else {}), **subject},
    }


_credentials = st.builds(_credential, _text, _text, _node, st.booleans())


def _generated_corpus() -> list[dict[str, Any]]:
    """About a hundred credentials, the same on every run (derandomized, no database)."""
    found: list[dict[str, Any]] = []

    @settings(
        max_examples=GENERATED_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_credentials)
    def collect(credential: dict[str, Any]) -> None:
        found.append(credential)

    collect()
    return found


# JSON-LD 1.1 API 8.6 (object to RDF literal): integer or xsd:double by value, not by JSON
# spelling, doubles in canonical %1.15E form; RDFC-1.0 3.2 / N-Quads: which characters are
# escaped and how. Each of these is a place where two implementations have been seen to differ.
_EDGE_NUMBERS = [
    1.0,
    -0.0,
    0.1,
    -1.5,
    100.0,
    1e20,
    1e21,
    1.5e-7,
    3.0e-5,
    1.5e-323,
    1.2345678901234568e20,
    2.0**53,
    2**53,
    -(2**53),
    1.7976931348623157e308,
]
_EDGE_STRINGS = [
    "\u0000",
    "\u0007\u000b\u000e",
    "\b\t\n\f\r",
    "\u0080\u009f",
    "\ud7ff\ue000\ufffd\uffff",
    "\U0010ffff",
    '"\\"',
    "\u2028\u2029",
    "",
]


def _edge_cases() -> dict[str, Any]:
    return {
        "@context": [VC_V2, UNDEFINED_TERMS],
        "type": ["VerifiableCredential"],
        "issuer": ED25519.did,
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:holder",
            "score": _EDGE_NUMBERS,
            "note": _EDGE_STRINGS,
            "level": [{"@value": s, "@language": "en"} for s in _EDGE_STRINGS[:3]],
        },
    }


# --- the comparison -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ours() -> Callable[[dict[str, Any]], str]:
    """Our canonicalizer: JSON-LD to RDF with the product's pinned contexts, then RDFC-1.0."""
    from contexts.jsonld import to_dataset
    from contexts.loader import default_store
    from keys.rdfc import canonicalize

    store = default_store()
    return lambda document: canonicalize(to_dataset(document, store))


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[dict[str, Any], str | None]]:
    """name -> (document, canonical form published with it, if any)."""
    out = _vector_corpus()
    for name, build in CREDENTIALS.items():
        out[f"certvc/{name}"] = (build(ED25519.did), None)
    out["edge-cases"] = (_edge_cases(), None)
    for i, credential in enumerate(_generated_corpus()):
        out[f"generated/{i:03d}"] = (credential, None)
    return out


@pytest.fixture(scope="module")
def theirs(reference: Reference, corpus: dict[str, Any]) -> dict[str, Any]:
    """The reference's canonical N-Quads of the whole corpus, in one node call."""
    results = reference.run("canonize.mjs", [{"document": doc} for doc, _ in corpus.values()])
    return dict(zip(corpus, results, strict=True))


def test_corpus_is_large_and_varied(corpus: dict[str, Any]) -> None:
    """The generated part must really be there (a silent empty corpus would pass everything)."""
    generated = [doc for name, (doc, _) in corpus.items() if name.startswith("generated/")]
    assert len(generated) >= GENERATED_EXAMPLES * 0.9
    dumped = json.dumps(generated, ensure_ascii=False)
    assert '"@language"' in dumped and "_:" not in dumped
    assert any("id" not in doc["credentialSubject"] for doc in generated)  # blank nodes


def test_reference_matches_published_canonical_forms(
    corpus: dict[str, Any], theirs: dict[str, Any]
) -> None:
    """VC-DI-EdDSA B.1, VC-DI-ECDSA B.1: with the test contexts inlined the reference still
    gives the vectors' canonical documents, so the corpus means what the vectors mean."""
    checked = 0
    for name, (_, expected) in corpus.items():
        if expected is not None:
            assert theirs[name].get("nquads") == expected, name
            checked += 1
    assert checked == 8


def test_reference_canonizes_the_whole_corpus(theirs: dict[str, Any]) -> None:
    """Every corpus document is valid JSON-LD in safe mode (else the comparison proves nothing)."""
    errors = {name: r["error"] for name, r in theirs.items() if "nquads" not in r}
    assert errors == {}


def test_our_canonical_nquads_equal_the_references(
    corpus: dict[str, Any], theirs: dict[str, Any], ours: Callable[[dict[str, Any]], str]
) -> None:
    """RDFC-1.0 (W3C Rec 2024), 4.4 and JSON-LD 1.1 API, 8.3 Deserialize JSON-LD to RDF: the
    canonical N-Quads of every corpus document are byte-identical to jsonld.js/rdf-canonize."""
    mismatches = []
    for name, (document, _) in corpus.items():
        expected = theirs[name].get("nquads")
        if expected is None:
            continue  # reported by test_reference_canonizes_the_whole_corpus
        try:
            got = ours(copy.deepcopy(document))
        except Exception as exc:  # noqa: BLE001 - any failure of ours is a mismatch to report
            got = f"<{type(exc).__name__}: {exc}>"
        if got != expected:
            mismatches.append((name, document, expected, got))
    assert not mismatches, _describe(mismatches)


def _describe(mismatches: list[tuple[str, Any, str, str]]) -> str:
    lines = [f"{len(mismatches)} document(s) canonicalize differently; first ones:"]
    for name, document, expected, got in mismatches[:3]:
        lines += [
            f"--- {name}",
            f"document: {json.dumps(document, ensure_ascii=True)[:1500]}",
            f"reference: {expected!r}"[:2000],
            f"certvc:    {got!r}"[:2000],
        ]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("number", "spec_form"), [(1e-7, "1.0E-7"), (5e-324, "4.940656458412465E-324")]
)
def test_known_divergence_tiny_numbers_without_a_dot(
    reference: Reference, ours: Callable[[dict[str, Any]], str], number: float, spec_form: str
) -> None:
    """JSON-LD 1.1 API 8.6 step 10: a number with a non-zero fractional part is an xsd:double in
    canonical form. jsonld.js 9.0.0 instead makes 1e-7 "0"^^xsd:integer, so a credential holding
    such a number cannot be verified across the two; certvc follows the spec. When this test
    fails on the reference's side, upstream has fixed it: drop the filter in ``_scalar``."""
    assert misread_by_jsonld_js(number)
    document = {
        "@context": [VC_V2, UNDEFINED_TERMS],
        "id": "urn:example:n",
        "score": number,
    }
    quad = "<urn:example:n> <https://www.w3.org/ns/credentials/undefined-term#score> {} .\n"
    double = quad.format(f'"{spec_form}"^^<http://www.w3.org/2001/XMLSchema#double>')
    assert ours(document) == double
    result = reference.run("canonize.mjs", {"document": document})
    assert result == {"nquads": quad.format('"0"^^<http://www.w3.org/2001/XMLSchema#integer>')}
