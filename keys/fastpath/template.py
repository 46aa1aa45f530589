"""A compiled credential shape: the RDF quads of a document, written from its leaves.

Built from a :class:`contexts.compiled.Recording` (pyld's own dataset of the document, with every
leaf traced), a template holds the serialized quads with holes where leaves go, and the
conditions under which another document of the same shape gives the same dataset: the pinned
leaves keep their values, the same leaves are equal to each other (equal ``@id`` values merge
nodes, equal values are kept once), and every IRI leaf still passes its :class:`IriRule`.
Serialization goes through ``keys.nquads`` (the same escaping as the full path).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from contexts.compiled import IriRule, Recording, Slot
from contexts.errors import InputError
from keys.nquads import (
    DEFAULT_GRAPH,
    RDF_LANGSTRING,
    XSD_STRING,
    Term,
    TermKind,
    escape_iri,
    serialize_term,
)
from keys.rdfc import canonicalize_prepared

from .codegen import Canon, Emit, Field, Fields, TemplateError, generate

__all__ = ["Template", "TemplateError", "build_template", "partition_of"]

_IRI = "IRI"
_BLANK = "blank node"
_LITERAL = "literal"


def partition_of(leaves: Sequence[str]) -> tuple[int, ...]:
    """For each leaf, the index of the first leaf equal to it: which leaves are equal."""
    first: dict[str, int] = {}
    return tuple(map(first.setdefault, leaves, count()))


_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_MESSAGE = "RDF dataset holds a lone surrogate code point"  # as keys.rdfc


@dataclass(frozen=True, eq=False)
class Template:
    """One compiled variant of a shape; see the module docstring for when it applies."""

    pinned: tuple[tuple[int, str], ...]
    partition: tuple[int, ...]
    rules: tuple[IriRule, ...]
    emit: Emit = field(repr=False)
    canon: Canon = field(repr=False)

    def matches(self, leaves: Sequence[str], partition: tuple[int, ...]) -> bool:
        if partition != self.partition:
            return False
        for index, value in self.pinned:
            if leaves[index] != value:
                return False
        for rule in self.rules:
            if not rule.admits(leaves[rule.slot]):
                return False
        return True

    def canonical(self, leaves: Sequence[str], *, max_work_factor: int = 1) -> str:
        """RDFC-1.0 canonical N-Quads of a document with these ``leaves`` (after ``matches``).

        :raises CanonicalizationLimit, InputError: as ``keys.rdfc.canonicalize_prepared``.
        """
        try:
            lines = self.canon(leaves)
        except UnicodeEncodeError as exc:  # a first-degree hash met a lone surrogate
            raise InputError(_SURROGATE_MESSAGE) from exc
        if lines is None:  # shared first-degree hashes, or quads that are one: in full
            ground, quads = self.emit(leaves)
            return canonicalize_prepared(quads, ground=ground, max_work_factor=max_work_factor)
        # No deep hashing was needed, so like keys.rdfc a lone surrogate anywhere is refused
        # (only leaves can hold one: the constants came from a canonicalized document).
        for leaf in leaves:
            if not leaf.isascii() and _SURROGATE.search(leaf) is not None:
                raise InputError(_SURROGATE_MESSAGE)
        return "".join(sorted(set(lines)))


class _Builder:
    def __init__(self) -> None:
        self.roles: dict[tuple[int, bool, str], int] = {}

    def role(self, leaf: int, as_iri: bool, suffix: str) -> int:
        return self.roles.setdefault((leaf, as_iri, suffix), len(self.roles))

    def node(self, term: Mapping[str, Any]) -> tuple[Field, str | None]:
        """A subject, object or graph IRI/blank node: (text or role, blank label)."""
        kind, value = term.get("type"), term.get("value")
        if not isinstance(value, str):
            raise TemplateError("a term without a string value")
        if kind == _BLANK:
            label = value[2:] if value.startswith("_:") else value
            if not label or type(value) is Slot:
                raise TemplateError("a blank node written from a leaf")
            return "", label
        if kind != _IRI:
            raise TemplateError(f"unexpected term type {kind!r}")
        if type(value) is Slot:
            return self.role(value.position, True, ""), None
        return serialize_term(Term(TermKind.IRI, value)), None

    def object(self, term: Mapping[str, Any]) -> tuple[Field, str | None]:
        if term.get("type") != _LITERAL:
            return self.node(term)
        value = term.get("value")
        language = term.get("language") or ""
        datatype = term.get("datatype") or (RDF_LANGSTRING if language else XSD_STRING)
        if not (isinstance(value, str) and isinstance(datatype, str)):
            raise TemplateError("a literal without a string value")
        if not isinstance(language, str):
            raise TemplateError("a literal with a non-string language")
        if type(value) is Slot:
            # The same suffix serialize_term writes after the quoted lexical form.
            suffix = serialize_term(Term(TermKind.LITERAL, "", datatype, language))[2:]
            return self.role(value.position, False, suffix), None
        return serialize_term(Term(TermKind.LITERAL, str(value), datatype, language)), None


def build_template(
    recording: Recording, leaves: Sequence[str], partition: tuple[int, ...]
) -> Template:
    """Compile ``recording`` (of a document with ``leaves``) into a template.

    :raises TemplateError: the dataset holds a form a template does not write.
    """
    builder = _Builder()
    quads: list[Fields] = []
    for name, triples in recording.dataset.items():
        if name == DEFAULT_GRAPH:
            graph: tuple[Field, str | None] = ("", None)
        elif isinstance(name, str) and name.startswith("_:"):
            graph = builder.node({"type": _BLANK, "value": name})
        else:
            graph = builder.node({"type": _IRI, "value": name})
        for triple in triples:
            predicate = triple["predicate"]
            iri = predicate.get("value")
            if predicate.get("type") != _IRI or not isinstance(iri, str) or type(iri) is Slot:
                raise TemplateError("a predicate that is not a constant IRI")
            s, s_blank = builder.node(triple["subject"])
            o, o_blank = builder.object(triple["object"])
            quads.append((s, s_blank, f"<{escape_iri(iri)}>", f"<{iri}>", o, o_blank, *graph))
    roles = sorted(builder.roles, key=builder.roles.__getitem__)
    emit, canon = generate(roles, quads, partition)
    return Template(
        pinned=tuple((i, str(leaves[i])) for i in sorted(recording.pinned)),
        partition=partition,
        rules=recording.iri_rules,
        emit=emit,
        canon=canon,
    )
