"""Document shapes: what of a JSON-LD document decides its RDF, and what only fills it in.

Signing thousands of credentials built by one generator expands the same structure again and
again; only the strings differ. :func:`read_shape` splits a document into a hashable *shape*
(every key, the nesting, list lengths, the kinds of the values, and the exact values of
``@context``, ``type``/``@type``, ``@language``, ``@direction``, ``@index`` and booleans) and its
string *leaves* in a fixed order. :func:`record` runs the real safe-mode processor once on a
document whose leaves are :class:`Slot` strings (a ``str`` that remembers its index) and reports
where each leaf landed in the RDF dataset, so the dataset of any document of the same shape can be
written from its leaves alone (``keys.fastpath``).

A leaf can change the RDF in only three ways, each caught here:

- IRI expansion (JSON-LD 1.1 API 5.2): pyld's ``_expand_iri`` is watched. A leaf it returned
  unchanged is admitted later only when :class:`IriRule` proves pyld would return that value
  unchanged too (an absolute IRI that is no term and whose prefix is no term, not a blank node
  identifier, no keyword). Any other leaf (a term, a compact IRI, a vocabulary-relative value, a
  blank node identifier) is *pinned*: its exact value becomes part of the key.
- Equality: nodes with the same ``@id`` merge and equal values are kept once, so the caller keys
  on which leaves are equal (see ``keys.fastpath``).
- Literal conversion: only ``xsd:double`` rewrites a string (JSON-LD 1.1 API 8.6); such leaves are
  pinned.

Anything outside the cases above (numbers, ``null``, lists, reverse properties, ``@nest``,
``@graph`` objects, ``@included``, ``@json``, index/language/id/type maps, embedded or inline
contexts) makes the shape *unsupported*, and the caller keeps to the full path.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import CertvcError
from .jsonld import ProcessedContexts, SafeProcessor, run
from .loader import ContextStore

__all__ = [
    "IriRule",
    "Recording",
    "Shape",
    "Slot",
    "Unsupported",
    "read_shape",
    "record",
    "with_leaves",
]

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
# The absolute-IRI test of the safe-mode checks (stricter than pyld's own, so both agree).
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+\-.]*:[^\s]*$")
# Keys whose values decide the processing itself: kept exactly in the shape.
_EXACT_KEYS = frozenset({"@context", "type", "@type", "@language", "@direction", "@index"})
# Keywords a supported document may use as keys (directly or through an alias).
_KEYWORD_KEYS = frozenset({"@id", "@type", "@value", "@language", "@direction", "@context"})
# Containers a supported term may declare (a @graph container wraps each value in a graph).
_CONTAINERS = frozenset({"@set", "@graph"})
_MAX_DEPTH = 64

# Shape tokens; negative ints never collide with a key (a str) or a size (a non-negative int).
_DICT, _LIST, _STR, _TRUE, _FALSE = -1, -2, -3, -4, -5


class Unsupported(Exception):
    """The document uses a feature the compiled path does not cover (internal signal)."""


class Slot(str):
    """A leaf string that remembers its position, to be found again in pyld's output."""

    __slots__ = ("position",)
    #: Not ``index``: that is ``str.index``, which the slot must keep.
    position: int

    def __new__(cls, value: str, index: int) -> Slot:
        slot = super().__new__(cls, value)
        slot.position = index
        return slot

    # pyld deep-copies its input; a copy must stay the same traceable leaf.
    def __copy__(self) -> Slot:
        return self

    def __deepcopy__(self, memo: Any) -> Slot:
        return self


def _exact(value: Any) -> Hashable:
    if type(value) is str:
        return value
    if type(value) is list:
        exact = tuple(value)
        for item in exact:  # a loop, not all(<generator>): this runs for every credential
            if type(item) is not str:
                break
        else:
            return exact
    raise Unsupported("a context, type, language, direction or index that is not a string")


def _walk(
    value: dict[str, Any] | list[Any], tokens: list[Any], leaves: list[str], depth: int
) -> None:
    """Append the shape of a dict or list to ``tokens`` and its string leaves to ``leaves``.

    Values are handled inline, not by a call per value: this runs for every credential.
    """
    if depth > _MAX_DEPTH:
        raise Unsupported("nested too deep")
    append = tokens.append
    if type(value) is dict:
        append(_DICT)
        append(len(value))
        for key, item in value.items():
            if type(key) is not str:
                raise Unsupported("a key that is not a string")
            append(key)
            if key in _EXACT_KEYS:
                if key == "@context" and depth:
                    raise Unsupported("an embedded context")
                append(_exact(item))
                continue
            kind = type(item)
            if kind is str:
                append(_STR)
                leaves.append(item)
            elif kind is dict or kind is list:
                _walk(item, tokens, leaves, depth + 1)
            elif kind is bool:
                append(_TRUE if item else _FALSE)
            else:
                raise Unsupported(f"a {kind.__name__} value")
        return
    append(_LIST)
    append(len(value))
    for item in value:
        kind = type(item)
        if kind is str:
            append(_STR)
            leaves.append(item)
        elif kind is dict or kind is list:
            # type() is compared, not isinstance (speed): mypy cannot narrow on it
            _walk(item, tokens, leaves, depth + 1)  # type: ignore[arg-type]
        elif kind is bool:
            append(_TRUE if item else _FALSE)
        else:
            raise Unsupported(f"a {kind.__name__} value")


#: What :func:`read_shape` returns: the hashable shape, and the string leaves in order.
Shape = tuple[tuple[Any, ...], list[str]]


def read_shape(document: Mapping[str, Any]) -> Shape | None:
    """The shape of ``document`` and its string leaves, or None when the shape is unsupported.

    None for every document holding a JSON number or null anywhere (they are not compiled):
    the issuer relies on that to skip the shape rules' walk for tiny numbers (tests/contexts).
    """
    if type(document) is not dict:
        return None
    tokens: list[Any] = []
    leaves: list[str] = []
    try:
        _walk(document, tokens, leaves, 0)
    except Unsupported:
        return None
    return tuple(tokens), leaves


def _rebuild(value: Any, leaves: Sequence[str], position: list[int]) -> Any:
    kind = type(value)
    if kind is str:
        leaf = leaves[position[0]]
        position[0] += 1
        return leaf
    if kind is dict:
        return {
            key: item if key in _EXACT_KEYS else _rebuild(item, leaves, position)
            for key, item in value.items()
        }
    if kind is list:
        return [_rebuild(item, leaves, position) for item in value]
    return value


def with_leaves(document: Mapping[str, Any], leaves: Sequence[str]) -> dict[str, Any]:
    """A copy of ``document`` (of a supported shape) with its leaves replaced, in order."""
    rebuilt: dict[str, Any] = _rebuild(document, leaves, [0])
    return rebuilt


@dataclass(frozen=True)
class IriRule:
    """When a new leaf keeps pyld's ``_expand_iri`` an identity (JSON-LD 1.1 API 5.2).

    ``terms`` are the terms of every active context the leaf was expanded in; ``vocab`` whether
    it was expanded as a vocabulary IRI (a term would then be replaced by its IRI).
    """

    slot: int
    vocab: bool
    terms: frozenset[str]

    def admits(self, value: str) -> bool:
        if _ABSOLUTE_IRI.match(value) is None:
            return False  # relative, blank ("_:"), keyword-shaped: not an identity (or refused)
        if self.vocab and value in self.terms:
            return False  # 5.2 step 4: a term expands to its IRI mapping
        prefix, _, suffix = value.partition(":")
        # 5.2 step 6.2-6.4: "//" keeps the value; otherwise a prefix term would be expanded.
        return suffix.startswith("//") or prefix not in self.terms


@dataclass(frozen=True)
class Recording:
    """pyld's dataset of a slotted document, and what each leaf did on the way.

    ``dataset`` holds :class:`Slot` objects wherever a leaf passed through unchanged; ``pinned``
    leaves must keep their exact value for the dataset to hold; ``iri_rules`` guard the leaves
    that pass through as IRIs.
    """

    dataset: Mapping[str, list[dict[str, Any]]]
    pinned: frozenset[int]
    iri_rules: tuple[IriRule, ...]


class _Recorder(SafeProcessor):
    """The safe-mode processor, watching IRI expansion of leaves and refusing the unsupported."""

    def __init__(self, contexts: ProcessedContexts) -> None:
        super().__init__(contexts)
        self.uses: dict[int, list[tuple[bool, frozenset[str], bool]]] = {}
        self._terms: dict[int, tuple[Any, frozenset[str]]] = {}

    def _terms_of(self, active_ctx: Any) -> frozenset[str]:
        mappings = active_ctx["mappings"]
        known = self._terms.get(id(mappings))
        if known is None or known[0] is not mappings:
            known = (mappings, frozenset(mappings))
            self._terms[id(mappings)] = known
        return known[1]

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        result = super()._expand_iri(
            active_ctx, value, base=base, vocab=vocab, local_ctx=local_ctx, defined=defined
        )
        if type(value) is Slot:
            self.uses.setdefault(value.position, []).append(
                (vocab, self._terms_of(active_ctx), result is value)
            )
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
        mappings = active_ctx["mappings"]
        for key in element:
            if key == "@context":
                continue
            expanded = self._expand_iri(active_ctx, key, vocab=True)
            if isinstance(expanded, str) and expanded.startswith("@"):
                if expanded not in _KEYWORD_KEYS:
                    raise Unsupported(f"keyword {expanded}")
            definition = mappings.get(key)
            if definition:
                containers = definition.get("@container") or []
                if not set(containers) <= _CONTAINERS:
                    raise Unsupported(f"container {containers} of {key}")
                if definition.get("reverse") or definition.get("@type") == "@json":
                    raise Unsupported(f"reverse or @json term {key}")
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


def _note(term: Mapping[str, Any], kinds: dict[int, set[str]], pinned: set[int]) -> None:
    value = term.get("value")
    if type(value) is not Slot:
        return
    kinds.setdefault(value.position, set()).add(term.get("type", ""))
    if term.get("datatype") == XSD_DOUBLE:
        pinned.add(value.position)  # JSON-LD 1.1 API 8.6: the lexical form is rewritten


def _caused_by_unsupported(error: BaseException) -> bool:
    """pyld wraps what a processor raises; find our signal in the chain."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, Unsupported):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def record(document: Mapping[str, Any], leaves: Sequence[str], store: ContextStore) -> Recording:
    """Convert ``document`` (of a supported shape) to RDF once, tracing every leaf.

    :raises Unsupported: the document uses a feature outside the compiled path.
    :raises CertvcError: as :func:`contexts.to_dataset` (callers run that first).
    """
    slotted = with_leaves(document, [Slot(leaf, i) for i, leaf in enumerate(leaves)])
    recorders: list[_Recorder] = []

    def factory(contexts: ProcessedContexts) -> _Recorder:
        recorder = _Recorder(contexts)
        recorders.append(recorder)
        return recorder

    try:
        dataset = run(slotted, store, "to_rdf", factory)
    except CertvcError as error:
        if _caused_by_unsupported(error):
            raise Unsupported(str(error)) from error
        raise
    uses = recorders[0].uses
    iri: dict[int, IriRule] = {}
    pinned: set[int] = set()
    for index, calls in uses.items():
        if all(unchanged for _, _, unchanged in calls):
            rule = IriRule(
                index,
                any(vocab for vocab, _, _ in calls),
                frozenset().union(*(terms for _, terms, _ in calls)),
            )
            if rule.admits(leaves[index]):
                iri[index] = rule
                continue
        pinned.add(index)
    kinds: dict[int, set[str]] = {}
    for name, triples in dataset.items():
        if type(name) is Slot:
            pinned.add(name.position)
        for triple in triples:
            _note(triple["subject"], kinds, pinned)
            _note(triple["predicate"], kinds, pinned)
            _note(triple["object"], kinds, pinned)
    # A leaf is free to vary only as an IRI guarded by its rule or as a plain literal; one that
    # reached no triple, or reached one some other way, keeps its exact value.
    for index in range(len(leaves)):
        expected = {"IRI"} if index in iri else {"literal"}
        if kinds.get(index) != expected:
            pinned.add(index)
    rules = tuple(rule for i, rule in sorted(iri.items()) if i not in pinned)
    return Recording(dataset, frozenset(pinned), rules)
