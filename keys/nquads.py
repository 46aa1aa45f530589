"""Canonical N-Quads: terms, the serializer RDFC-1.0 hashes, and a strict parser.

pyld's serializer escapes only ``\\ \\t \\n \\r "``; canonical N-Quads (RDF 1.1 N-Triples
"Canonical N-Triples", used by RDFC-1.0 section 5) needs every control character escaped, so a
signature over a literal holding U+0008 or U+007F would not verify against other implementations.
Escaping follows Digital Bazaar's rdf-canonize (lib/NQuads.js): ECHAR for ``\\b \\t \\n \\f \\r
\\" \\\\``, ``\\u00XX`` with uppercase hex for the other code points U+0000-U+001F and U+007F,
everything else (non-BMP included) written as itself.

Datasets travel in pyld's shape (what ``JsonLdProcessor().to_rdf`` returns without a format):
``{'@default': [triple, ...], '<graph name>': [...]}``, each triple
``{'subject': {'type', 'value'}, 'predicate': {...}, 'object': {'type', 'value', 'datatype',
'language'?}}``, blank node values written ``_:label``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any, NamedTuple

from contexts.errors import InputError

RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
DEFAULT_GRAPH = "@default"

_PYLD_IRI = "IRI"
_PYLD_BLANK = "blank node"
_PYLD_LITERAL = "literal"


class TermKind(Enum):
    IRI = "IRI"
    BLANK = "blank node"
    LITERAL = "literal"

    # Members are singletons: identity hashing is correct and much cheaper than Enum's.
    __hash__ = object.__hash__


class Term(NamedTuple):
    """One RDF term. ``value`` of a blank node is its label without ``_:``."""

    kind: TermKind
    value: str
    datatype: str = ""
    language: str = ""


class Quad(NamedTuple):
    """One quad; ``graph`` is None for the default graph."""

    subject: Term
    predicate: Term
    object: Term
    graph: Term | None


# --- escaping (canonical N-Quads, rdf-canonize lib/NQuads.js) -----------------------------

_LITERAL_ESCAPES: dict[int, str] = {cp: f"\\u{cp:04X}" for cp in (*range(0x20), 0x7F)}
_LITERAL_ESCAPES.update(
    {0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r", 0x22: '\\"', 0x5C: "\\\\"}
)
_LITERAL_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f\x7f"\\]')

# IRIREF excludes U+0000-U+0020 and <>"{}|^`\ ; such characters (only in invalid IRIs) are
# written as UCHAR, as rdf-canonize does, so the output is still parseable N-Quads.
_IRI_ESCAPES: dict[int, str] = {
    cp: f"\\u{cp:04X}" for cp in (*range(0x21), *map(ord, '<>"{}|^`\\'))
}
_IRI_NEEDS_ESCAPE = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def escape_literal(value: str) -> str:
    """Escape a literal's lexical form for a canonical ``"..."`` string."""
    if _LITERAL_NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_LITERAL_ESCAPES)


def escape_iri(value: str) -> str:
    """Escape an IRI for ``<...>``; valid IRIs come back unchanged."""
    if _IRI_NEEDS_ESCAPE.search(value) is None:
        return value
    return value.translate(_IRI_ESCAPES)


def serialize_term(term: Term) -> str:
    """The canonical N-Quads form of one term."""
    if term.kind is TermKind.IRI:
        return f"<{escape_iri(term.value)}>"
    if term.kind is TermKind.BLANK:
        return f"_:{term.value}"
    text = f'"{escape_literal(term.value)}"'
    if term.datatype == RDF_LANGSTRING:
        return f"{text}@{term.language}" if term.language else text
    if term.datatype and term.datatype != XSD_STRING:
        return f"{text}^^<{escape_iri(term.datatype)}>"
    return text


def serialize_quad(quad: Quad) -> str:
    """One canonical N-Quads statement, ending in ``\\n``."""
    line = (
        f"{serialize_term(quad.subject)} {serialize_term(quad.predicate)} "
        f"{serialize_term(quad.object)}"
    )
    if quad.graph is not None:
        line += f" {serialize_term(quad.graph)}"
    return line + " .\n"


# --- pyld dataset <-> quads ------------------------------------------------------------------


def _text(value: Any, where: str) -> str:
    if type(value) is not str:
        raise InputError(f"RDF dataset: {where} is not a string")
    return value


def _blank_label(value: str, where: str) -> str:
    label = value[2:] if value.startswith("_:") else value
    if not label:
        raise InputError(f"RDF dataset: {where} is an empty blank node label")
    return label


def _term(raw: Any, where: str, *, literal_ok: bool) -> Term:
    try:
        kind = raw["type"]
        value = raw["value"]
    except (KeyError, TypeError) as exc:
        raise InputError(f"RDF dataset: {where} is not a term object") from exc
    if type(value) is not str:
        raise InputError(f"RDF dataset: {where} value is not a string")
    if kind == _PYLD_IRI:
        return Term(TermKind.IRI, value)
    if kind == _PYLD_BLANK:
        return Term(TermKind.BLANK, _blank_label(value, where))
    if kind == _PYLD_LITERAL and literal_ok:
        language = raw.get("language") or ""
        datatype = raw.get("datatype") or (RDF_LANGSTRING if language else XSD_STRING)
        return Term(
            TermKind.LITERAL,
            value,
            _text(datatype, f"{where} datatype"),
            _text(language, f"{where} language"),
        )
    raise InputError(f"RDF dataset: {where} has an unusable term type")


def _graph_term(name: Any) -> Term | None:
    name = _text(name, "graph name")
    if name == DEFAULT_GRAPH:
        return None
    if name.startswith("_:"):
        return Term(TermKind.BLANK, _blank_label(name, "graph name"))
    return Term(TermKind.IRI, name)


def dataset_to_quads(dataset: Mapping[str, Iterable[Mapping[str, Any]]]) -> list[Quad]:
    """Read a pyld dataset into quads, in input order (duplicates are left to the caller).

    :raises InputError: when the dataset is not of pyld's shape, has a literal as subject or a
        non-IRI predicate (generalized RDF is outside RDFC-1.0).
    """
    if not isinstance(dataset, Mapping):
        raise InputError("RDF dataset is not a mapping of graph names to triples")
    quads: list[Quad] = []
    for name, triples in dataset.items():
        graph = _graph_term(name)
        for triple in triples:
            try:
                subject, predicate, obj = triple["subject"], triple["predicate"], triple["object"]
            except (KeyError, TypeError) as exc:
                raise InputError(
                    "RDF dataset: a triple lacks subject, predicate or object"
                ) from exc
            p = _term(predicate, "predicate", literal_ok=False)
            if p.kind is not TermKind.IRI:
                raise InputError("RDF dataset: predicate is not an IRI")
            quads.append(
                Quad(
                    _term(subject, "subject", literal_ok=False),
                    p,
                    _term(obj, "object", literal_ok=True),
                    graph,
                )
            )
    return quads


def _pyld_term(term: Term) -> dict[str, str]:
    if term.kind is TermKind.BLANK:
        return {"type": _PYLD_BLANK, "value": f"_:{term.value}"}
    if term.kind is TermKind.IRI:
        return {"type": _PYLD_IRI, "value": term.value}
    out = {"type": _PYLD_LITERAL, "value": term.value, "datatype": term.datatype}
    if term.language:
        out["language"] = term.language
    return out


def quads_to_dataset(quads: Iterable[Quad]) -> dict[str, list[dict[str, Any]]]:
    """Write quads in pyld's dataset shape (the inverse of :func:`dataset_to_quads`)."""
    dataset: dict[str, list[dict[str, Any]]] = {}
    for quad in quads:
        if quad.graph is None:
            name = DEFAULT_GRAPH
        elif quad.graph.kind is TermKind.BLANK:
            name = f"_:{quad.graph.value}"
        else:
            name = quad.graph.value
        dataset.setdefault(name, []).append(
            {
                "subject": _pyld_term(quad.subject),
                "predicate": _pyld_term(quad.predicate),
                "object": _pyld_term(quad.object),
            }
        )
    return dataset


# --- parser (RDF 1.1 N-Quads grammar, section 5) -------------------------------------------

_HEX4 = r"\\u[0-9A-Fa-f]{4}"
_HEX8 = r"\\U[0-9A-Fa-f]{8}"
_IRIREF = rf'<((?:[^\x00-\x20<>"{{}}|^`\\]|{_HEX4}|{_HEX8})*)>'
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_BLANK = rf"_:((?:[{_PN_CHARS_U}0-9])(?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
_STRING = rf'"((?:[^"\\\n\r]|\\[tbnrf"\'\\]|{_HEX4}|{_HEX8})*)"'
_LANGTAG = r"@([a-zA-Z]+(?:-[a-zA-Z0-9]+)*)"
_WS = r"[ \t]"
_QUAD = re.compile(
    rf"{_WS}*(?:{_IRIREF}|{_BLANK}){_WS}*{_IRIREF}{_WS}*"
    rf"(?:{_IRIREF}|{_BLANK}|{_STRING}(?:\^\^{_IRIREF}|{_LANGTAG})?){_WS}*"
    rf"(?:(?:{_IRIREF}|{_BLANK}){_WS}*)?\.{_WS}*(?:#[^\r\n]*)?"
)
_BLANK_LINE = re.compile(rf"{_WS}*(?:#[^\r\n]*)?")
_EOL = re.compile(r"[\r\n]+")
_UCHAR = re.compile(rf"{_HEX4}|{_HEX8}")
_ESCAPE = re.compile(rf"\\[tbnrf\"'\\]|{_HEX4}|{_HEX8}")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def _code_point(escape: str, line_number: int) -> str:
    cp = int(escape[2:], 16)
    if 0xD800 <= cp <= 0xDFFF or cp > 0x10FFFF:
        raise InputError(f"N-Quads line {line_number}: {escape} is not a Unicode scalar value")
    return chr(cp)


def _unescape(text: str, line_number: int, pattern: re.Pattern[str]) -> str:
    if "\\" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        escape = match.group(0)
        if escape[1] in "uU":
            return _code_point(escape, line_number)
        return _ECHARS[escape[1]]

    return pattern.sub(one, text)


def _iri(text: str, line_number: int) -> Term:
    value = _unescape(text, line_number, _UCHAR)
    if _SCHEME.match(value) is None:
        # N-Quads section 2.4 (RDF 1.1): IRIs must be absolute.
        raise InputError(f"N-Quads line {line_number}: relative IRI <{text}>")
    return Term(TermKind.IRI, value)


def parse_quads(text: str) -> list[Quad]:
    """Parse N-Quads into quads, in document order, duplicates dropped.

    :raises InputError: on any line that is not an N-Quads statement, comment or blank.
    """
    seen: dict[Quad, None] = {}
    for line_number, line in enumerate(_EOL.split(text), start=1):
        if _BLANK_LINE.fullmatch(line):
            continue
        m = _QUAD.fullmatch(line)
        if m is None:
            raise InputError(f"N-Quads line {line_number}: not a valid statement")
        g = m.groups()
        subject = _iri(g[0], line_number) if g[0] is not None else Term(TermKind.BLANK, g[1])
        predicate = _iri(g[2], line_number)
        if g[3] is not None:
            obj = _iri(g[3], line_number)
        elif g[4] is not None:
            obj = Term(TermKind.BLANK, g[4])
        else:
            value = _unescape(g[5], line_number, _ESCAPE)
            if g[6] is not None:
                obj = Term(TermKind.LITERAL, value, _iri(g[6], line_number).value)
            elif g[7] is not None:
                obj = Term(TermKind.LITERAL, value, RDF_LANGSTRING, g[7])
            else:
                obj = Term(TermKind.LITERAL, value, XSD_STRING)
        if g[8] is not None:
            graph: Term | None = _iri(g[8], line_number)
        elif g[9] is not None:
            graph = Term(TermKind.BLANK, g[9])
        else:
            graph = None
        seen.setdefault(Quad(subject, predicate, obj, graph), None)
    return list(seen)


def parse_nquads(text: str) -> dict[str, list[dict[str, Any]]]:
    """Parse N-Quads (ECHAR and UCHAR unescaped) into a pyld-shaped dataset.

    :raises InputError: on malformed input.
    """
    return quads_to_dataset(parse_quads(text))
