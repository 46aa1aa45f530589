"""Shared material for the fast-path tests: a test context using every JSON-LD feature the
compiler must either handle or leave to pyld, and outcome comparison helpers."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from contexts import CertvcError, ContextStore, default_store, to_dataset
from keys.fastpath import FastCanonicalizer
from keys.suites import canonize

VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB_301 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"  # defines the xsd prefix
UNDEFINED_TERMS = "https://www.w3.org/ns/credentials/undefined-terms/v2"
TEST_CTX = "https://certvc.test/fastpath/v1"
EX = "https://example.test/vocab#"
XSD = "http://www.w3.org/2001/XMLSchema#"

# Terms for each case of JSON-LD 1.1 expansion the compiler meets: coercion to @id and @vocab,
# datatypes (xsd:double rewrites the lexical form), default languages, prefixes, scoped
# contexts, and the containers and keywords it must leave to pyld.
TEST_CONTEXT: dict[str, Any] = {
    "@context": {
        "@version": 1.1,
        "ex": EX,
        "ref": {"@id": "ex:ref", "@type": "@id"},
        "kind": {"@id": "ex:kind", "@type": "@vocab"},
        "Gold": "ex:Gold",
        "note": "ex:note",
        "score": {"@id": "ex:score", "@type": XSD + "double"},
        "dated": {"@id": "ex:dated", "@type": XSD + "date"},
        "german": {"@id": "ex:german", "@language": "de"},
        "tags": {"@id": "ex:tags", "@container": "@list"},
        "labels": {"@id": "ex:labels", "@container": "@language"},
        "byKey": {"@id": "ex:byKey", "@container": "@index"},
        "claims": {"@id": "ex:claims", "@container": "@graph"},
        "data": {"@id": "ex:data", "@type": "@json"},
        "wrapper": "@nest",
        "parentOf": {"@reverse": "ex:childOf"},
        "Thing": {"@id": "ex:Thing", "@context": {"inner": {"@id": "ex:inner"}}},
        "scoped": {
            "@id": "ex:scoped",
            "@context": {"deep": {"@id": "ex:deep", "@type": "@id"}},
        },
    }
}


def store_with_test_context() -> ContextStore:
    """The shipped store plus the test context (tests only; never shipped)."""
    return default_store().with_context(TEST_CTX, TEST_CONTEXT)


def compiling() -> FastCanonicalizer:
    """A fast canonicalizer that compiles a shape the first time it sees it."""
    return FastCanonicalizer(compile_after=1)


def outcome(run: Callable[[], Any]) -> tuple[Any, ...]:
    """What a canonicalization gave: its output, or the refusal with everything callers see."""
    try:
        return ("ok", run())
    except CertvcError as error:
        return (
            "refused",
            type(error).__name__,
            error.code,
            getattr(error, "event", None),
            getattr(error, "term", None),
            getattr(error, "url", None),
            error.message,
        )


def reference(document: Mapping[str, Any], store: ContextStore) -> tuple[Any, ...]:
    return outcome(lambda: canonize(copy.deepcopy(dict(document)), store))


def fast(
    canonicalizer: FastCanonicalizer, document: Mapping[str, Any], store: ContextStore
) -> tuple[Any, ...]:
    return outcome(lambda: canonicalizer(document, store))


def safety(document: Mapping[str, Any], store: ContextStore) -> tuple[Any, ...]:
    """The plain safe-mode verdict (the verifier's context check, vc+jwt signing)."""
    return outcome(lambda: bool(to_dataset(copy.deepcopy(dict(document)), store)) or True)


def fast_safety(
    canonicalizer: FastCanonicalizer, document: Mapping[str, Any], store: ContextStore
) -> tuple[Any, ...]:
    return outcome(lambda: canonicalizer.check_safe(document, store) or True)
