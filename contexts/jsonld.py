"""JSON-LD expansion and RDF conversion in "safe mode", offline, over a ContextStore.

Data Integrity signs the RDF a credential expands to (VC-DI 1.0 section 4.1; RDFC-1.0 works on
that dataset). Plain JSON-LD silently drops undefined terms and relative IRIs, so a signature can
cover less than the JSON shows. Like jsonld.js with ``safe: true`` (lib/events.js
``safeEventHandler``), every such drop is an error here: ``UnsafeJsonLd`` with the jsonld.js
event code and the offending term or value.

pyld has no event system, so this subclasses its processor: each check sits next to the pyld
step that would drop data, and a final walk of the expanded form catches relative ``@id`` and
``@type`` values wherever they came from (node, index or type maps). No document base is used
(``base: None``): pyld would otherwise resolve relative IRIs against ``http://example.org/base/``.

Processed contexts are cached per store (bounded): pyld keys its own cache by the identity of
the active context, and gives every non-propagated (type-scoped) context a fresh identity, so it
re-processed the same scoped contexts of the VC and Open Badges contexts for every document.
Pinned contexts are immutable and hash-checked, so a processed context is a pure function of the
active context, the local context and the flags; only successes are cached, so a refusal is
raised again every time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pyld import jsonld as _pyld

from .errors import (
    CertvcError,
    ContextNotAllowed,
    ErrorCode,
    InputError,
    JsonLdError,
    SafeModeEvent,
    UnsafeJsonLd,
)
from .loader import ContextStore
from .processed import ProcessedContexts, context_key, processed_contexts

__all__ = ["ProcessedContexts", "expand", "processed_contexts", "run", "to_dataset"]

# JSON-LD 1.1 API 4.2.2 (IRI expansion) step 4: "@" followed by letters only is reserved.
_KEYWORD_FORM = re.compile(r"^@[a-zA-Z]+$")
# The absolute-IRI test of pyld and jsonld.js (blank node identifiers count as absolute).
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+\-.]*|_):[^\s]*$")
# jsonld.js REGEX_BCP47 (BCP 47 language tag shape), used for its 'invalid @language value'.
_BCP47 = re.compile(r"^[a-zA-Z]{1,8}(-[a-zA-Z0-9]{1,8})*$")
_KEYWORDS = frozenset(_pyld.KEYWORDS)
_PROTECTED = "protected term redefinition"
#: How a base direction reaches RDF: the one mode the Data Integrity suites use.
RDF_DIRECTION = "i18n-datatype"  # pyld's error code (JSON-LD 1.1 API 4.2.2 5.2.7)


def _absolute(value: object) -> bool:
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value) is not None


def _reserved(value: object) -> bool:
    """A keyword-shaped string that is not a keyword, e.g. "@foo" (JSON-LD 1.1 section 9.1)."""
    return isinstance(value, str) and value not in _KEYWORDS and bool(_KEYWORD_FORM.match(value))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _unsafe(event: SafeModeEvent, term: object, detail: str) -> UnsafeJsonLd:
    shown = term if isinstance(term, str) or term is None else repr(term)
    return UnsafeJsonLd(event, detail, term=shown)


class SafeProcessor(_pyld.JsonLdProcessor):  # type: ignore[misc]  # pyld is untyped
    """pyld's processor with jsonld.js safe-mode checks; one instance per operation."""

    def __init__(self, contexts: ProcessedContexts | None = None) -> None:
        super().__init__(on_property_dropped=self._property_dropped)
        self._last_built: dict[str, Any] = {}
        self._contexts = contexts

    # Backstop: pyld calls this for every key it drops (JSON-LD 1.1 API 13.4 step 3).
    def _property_dropped(self, expanded_property: str | None) -> None:
        raise _unsafe(
            SafeModeEvent.INVALID_PROPERTY,
            expanded_property,
            "property does not expand to an absolute IRI",
        )

    # -- context processing (JSON-LD 1.1 API 4.1, 4.2) --------------------------------------

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        for ctx in _as_list(local_ctx):
            if isinstance(ctx, str) and not _absolute(ctx):
                # Without a base a relative context URL cannot name a pinned context.
                raise ContextNotAllowed(ctx)
        key = None
        if self._contexts is not None and cycles is None:
            key = context_key(
                active_ctx, local_ctx, (override_protected, propagate, validate_scoped)
            )
            if key is not None:
                cached = self._contexts.get(key, local_ctx)
                if cached is not None:
                    return cached
        result = super()._process_context(
            active_ctx,
            local_ctx,
            options,
            override_protected=override_protected,
            propagate=propagate,
            validate_scoped=validate_scoped,
            cycles=cycles,
        )
        vocab = result.get("@vocab")
        if vocab is not None and not _absolute(vocab):
            raise _unsafe(SafeModeEvent.RELATIVE_VOCAB, vocab, "@vocab is not an absolute IRI")
        if key is not None and self._contexts is not None:
            self._contexts.put(key, local_ctx, result)
        return result

    def _create_term_definition(
        self,
        active_ctx: Any,
        local_ctx: Any,
        term: str,
        defined: Any,
        options: Any,
        override_protected: bool = False,
        validate_scoped: bool = True,
    ) -> None:
        if term not in defined:
            self._check_term_definition(term, local_ctx.get(term))
        try:
            super()._create_term_definition(
                active_ctx,
                local_ctx,
                term,
                defined,
                options,
                override_protected=override_protected,
                validate_scoped=validate_scoped,
            )
        except _pyld.JsonLdError as exc:
            if exc.code != _PROTECTED:
                raise
            # VC Data Model 2.0 section 4.3: protected terms of the base context keep their
            # meaning; a document may not redefine them.
            raise JsonLdError(
                f"protected term redefinition: {term!r}",
                term=term,
                code=ErrorCode.PROTECTED_TERM_REDEFINITION,
            ) from exc

    @staticmethod
    def _check_term_definition(term: str, value: Any) -> None:
        # JSON-LD 1.1 API 4.2.2 step 4 and 14.2: pyld only warns and drops these.
        if _reserved(term):
            raise _unsafe(SafeModeEvent.RESERVED_TERM, term, "term is reserved for keywords")
        if isinstance(value, Mapping):
            if _reserved(value.get("@reverse")):
                raise _unsafe(
                    SafeModeEvent.RESERVED_REVERSE, value["@reverse"], f"in definition of {term}"
                )
            target = value.get("@id")
        else:
            target = value
        if _reserved(target):
            raise _unsafe(SafeModeEvent.RESERVED_ID, target, f"in definition of {term}")

    # -- expansion (JSON-LD 1.1 API 13) -----------------------------------------------------

    def _expand(
        self,
        active_ctx: Any,
        active_property: Any,
        element: Any,
        options: Any,
        inside_list: bool = False,
        inside_index: bool = False,
        type_scoped_ctx: Any = None,
    ) -> Any:
        if (
            element is not None
            and not isinstance(element, dict | list)
            and not inside_list
            and (
                active_property is None
                or self._expand_iri(active_ctx, active_property, vocab=True) == "@graph"
            )
        ):
            # 13.1 step 2: a top-level or @graph scalar is dropped.
            raise _unsafe(
                SafeModeEvent.FREE_FLOATING_SCALAR, element, "scalar outside any property"
            )
        result = super()._expand(
            active_ctx,
            active_property,
            element,
            options,
            inside_list=inside_list,
            inside_index=inside_index,
            type_scoped_ctx=type_scoped_ctx,
        )
        if isinstance(element, dict) and result is None:
            # 13.1 steps 15-20: pyld dropped the whole object; _expand_object recorded it.
            raise _unsafe(*_dropped_object(self._last_built, active_property))
        return result

    def _expand_object(
        self,
        active_ctx: Any,
        active_property: Any,
        expanded_active_property: Any,
        element: Any,
        expanded_parent: Any,
        options: Any,
        inside_list: bool = False,
        type_key: Any = None,
        type_scoped_ctx: Any = None,
    ) -> None:
        for key, value in element.items():
            if key == "@context":
                continue
            expanded = self._expand_iri(active_ctx, key, vocab=True)
            if expanded is None or not (_absolute(expanded) or expanded in _KEYWORDS):
                # 13.4 step 3: the key is dropped (jsonld.js 'invalid property').
                if _reserved(key):
                    raise _unsafe(SafeModeEvent.RESERVED_TERM, key, "key is reserved")
                raise _unsafe(
                    SafeModeEvent.INVALID_PROPERTY, key, "term is not defined by any @context"
                )
            if expanded == "@id":
                for item in _as_list(value):
                    if _reserved(item):
                        raise _unsafe(SafeModeEvent.RESERVED_ID, item, "@id is reserved")
        super()._expand_object(
            active_ctx,
            active_property,
            expanded_active_property,
            element,
            expanded_parent,
            options,
            inside_list=inside_list,
            type_key=type_key,
            type_scoped_ctx=type_scoped_ctx,
        )
        self._last_built = expanded_parent

    def expand(self, input_: Any, options: Any) -> list[Any]:
        expanded: list[Any] = super().expand(input_, options)
        _check_expanded(expanded)
        return expanded

    # -- RDF (JSON-LD 1.1 API 8.3 Deserialize JSON-LD to RDF) -------------------------------

    def _graph_to_rdf(self, graph: Any, issuer: Any, options: Any) -> Any:
        for id_, node in graph.items():
            for prop, items in node.items():
                if (prop != "@type" and prop in _KEYWORDS) or not items:
                    continue
                if not _absolute(id_):
                    raise _unsafe(SafeModeEvent.RELATIVE_SUBJECT, id_, "subject is relative")
                if prop == "@type":
                    continue
                if prop.startswith("_:"):
                    raise _unsafe(
                        SafeModeEvent.BLANK_NODE_PREDICATE, prop, "predicate is a blank node"
                    )
                if not _absolute(prop):
                    raise _unsafe(SafeModeEvent.RELATIVE_PREDICATE, prop, "predicate is relative")
        return super()._graph_to_rdf(graph, issuer, options)

    def _object_to_rdf(self, item: Any, issuer: Any, triples: Any, options: Any) -> Any:
        if isinstance(item, dict) and "@direction" in item and not options.get("rdfDirection"):
            raise _unsafe(
                SafeModeEvent.RDF_DIRECTION_NOT_SET,
                item.get("@value"),
                "@direction cannot be kept in RDF without rdfDirection",
            )
        result = super()._object_to_rdf(item, issuer, triples, options)
        if result is None:
            target = item.get("@id") if isinstance(item, dict) else item
            raise _unsafe(SafeModeEvent.RELATIVE_OBJECT, target, "object IRI is relative")
        return result


def _dropped_object(built: dict[str, Any], active_property: Any) -> tuple[SafeModeEvent, Any, str]:
    """Name the jsonld.js event for an object pyld expanded to nothing."""
    where = f"under {active_property!r}" if active_property is not None else "at top level"
    if "@value" in built:
        if built["@value"] is None:
            return SafeModeEvent.NULL_VALUE, active_property, f"null @value {where}"
        return SafeModeEvent.ONLY_VALUE, active_property, f"free-floating value {where}"
    if "@list" in built:
        return SafeModeEvent.ONLY_LIST, active_property, f"free-floating list {where}"
    if set(built) == {"@language"}:
        return SafeModeEvent.ONLY_LANGUAGE, active_property, f"object with only @language {where}"
    if set(built) == {"@id"}:
        return SafeModeEvent.ONLY_ID, built["@id"], f"node with only @id {where}"
    return SafeModeEvent.EMPTY_OBJECT, active_property, f"empty object {where}"


def _check_expanded(value: Any) -> None:
    """Refuse relative @id/@type and bad @language anywhere in expanded JSON-LD (13.4)."""
    if isinstance(value, list):
        for item in value:
            _check_expanded(item)
        return
    if not isinstance(value, dict):
        return
    if "@value" in value:
        language = value.get("@language")
        if language is not None and not (isinstance(language, str) and _BCP47.match(language)):
            raise _unsafe(SafeModeEvent.INVALID_LANGUAGE, language, "@language is not a BCP 47 tag")
        return  # a value object holds no IRIs to check (@type was checked by pyld)
    for key, item in value.items():
        if key == "@id":
            for id_ in _as_list(item):
                if id_ is None:
                    raise _unsafe(SafeModeEvent.NULL_ID, None, "@id is null")
                if isinstance(id_, str) and not _absolute(id_):
                    raise _unsafe(SafeModeEvent.RELATIVE_ID, id_, "@id is not an absolute IRI")
        elif key == "@type":
            for type_ in _as_list(item):
                if isinstance(type_, str) and not _absolute(type_):
                    raise _unsafe(
                        SafeModeEvent.RELATIVE_TYPE, type_, "type is not defined by any @context"
                    )
        elif key == "@reverse" and isinstance(item, dict):
            _check_expanded([{prop: nodes} for prop, nodes in item.items()])
        elif key in _KEYWORDS:
            _check_expanded(item)  # @graph, @list, @set, @included; scalars pass through
        else:
            if key.startswith("_:"):
                raise _unsafe(SafeModeEvent.BLANK_NODE_PREDICATE, key, "predicate is a blank node")
            _check_expanded(item)


def _innermost_pyld_error(exc: BaseException) -> _pyld.JsonLdError | None:
    found = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _pyld.JsonLdError):
            found = current
        current = current.__cause__ or current.__context__
    return found


def _ours(exc: BaseException) -> CertvcError | None:
    """pyld wraps loader and handler exceptions in its own errors: find ours in the chain."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CertvcError):
            return current
        current = current.__cause__ or current.__context__
    return None


def run(
    document: Mapping[str, Any],
    store: ContextStore,
    operation: str,
    processor_factory: Callable[[ProcessedContexts], SafeProcessor] = SafeProcessor,
) -> Any:
    """Expand (``"expand"``) or convert to RDF (``"to_rdf"``) with a safe-mode processor.

    ``processor_factory`` lets ``contexts.compiled`` watch the same processing; errors are mapped
    the same way whatever the processor.
    """
    if not isinstance(document, Mapping):
        raise InputError("a JSON-LD document must be a JSON object")
    processor = processor_factory(processed_contexts(store))
    with store.context_resolver() as resolver:
        options = {
            "base": None,  # no document base: relative IRIs stay relative and are refused
            "documentLoader": store.document_loader(),
            "contextResolver": resolver,
            "processingMode": "json-ld-1.1",
            "produceGeneralizedRdf": False,
            # The RDF cryptosuites canonicalize with rdfDirection "i18n-datatype" (VC-DI-EdDSA
            # and VC-DI-ECDSA "canonize"; jsonld-signatures does the same for the legacy
            # suites): a value with @direction becomes a literal typed
            # https://www.w3.org/ns/i18n#{language}_{direction} (JSON-LD 1.1 API 8.6).
            "rdfDirection": RDF_DIRECTION,
        }
        try:
            if operation == "expand":
                return processor.expand(dict(document), options)
            return processor.to_rdf(dict(document), options)
        except CertvcError:
            raise
        except Exception as exc:  # pyld raises many types; each becomes one typed error
            ours = _ours(exc)
            if ours is not None:
                raise ours from None
            inner = _innermost_pyld_error(exc)
            if inner is None:
                raise JsonLdError(
                    f"JSON-LD processing failed: {type(exc).__name__}: {exc}",
                    code=ErrorCode.JSONLD_INVALID,
                ) from exc
            details = inner.details if isinstance(inner.details, dict) else {}
            term = details.get("term")
            raise JsonLdError(
                f"{inner.args[0] if inner.args else 'JSON-LD error'} (pyld code: {inner.code})",
                term=term if isinstance(term, str) else None,
                code=ErrorCode.JSONLD_INVALID,
            ) from exc


def expand(document: Mapping[str, Any], store: ContextStore) -> list[Any]:
    """Expand ``document`` with only ``store``'s contexts, refusing anything safe mode refuses.

    :raises ContextNotAllowed: the document names a context the store does not pin.
    :raises UnsafeJsonLd: data would be dropped or left relative (``event``, ``term``).
    :raises JsonLdError: protected term redefinition, or invalid JSON-LD (``JSONLD_INVALID``).
    """
    result: list[Any] = run(document, store, "expand")
    return result


def to_dataset(document: Mapping[str, Any], store: ContextStore) -> dict[str, list[Any]]:
    """Convert ``document`` to pyld's RDF dataset, the input of RDFC-1.0, in safe mode.

    The result maps ``"@default"`` and each named graph IRI to a list of triples
    ``{"subject", "predicate", "object"}``, each term a dict with ``type`` and ``value`` (and,
    for literals, ``datatype`` and maybe ``language``).

    :raises ContextNotAllowed: the document names a context the store does not pin.
    :raises UnsafeJsonLd: data would be dropped or left relative (``event``, ``term``).
    :raises JsonLdError: protected term redefinition, or invalid JSON-LD (``JSONLD_INVALID``).
    """
    result: dict[str, list[Any]] = run(document, store, "to_rdf")
    return result
