"""Python source for a compiled shape: its quads, and RDFC-1.0 for the common case, inline.

Generated once per template (as ``collections.namedtuple`` generates its class) because writing
the quads and hashing the blank nodes is most of the work left per credential. The source is
made of indices only: ``L[i]`` (leaf i), ``C[k]`` (constant k), ``t{r}`` (the text of role r),
``lab[b]`` (the canonical label of blank node b); no text of a document or a context appears in
it, so nothing a credential holds can change the code.

Two functions are generated:

- ``emit(L) -> (ground lines, prepared quads)``: every quad, for ``keys.rdfc`` in full.
- ``canon(L) -> lines | None``: RDFC-1.0 when every blank node has a unique first-degree hash
  (4.4.3 step 4 then issues every canonical identifier in hash order and step 5 has nothing to
  do): the first-degree lines of each blank node (4.6, ``_:a``/``_:z``) are written directly,
  hashed, and the relabelled lines returned. It returns None (the caller runs ``emit`` and the
  full algorithm) when two hashes are equal, or when two quads with blank nodes could be the same
  quad for this document (the dataset would hold one quad, not two).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from keys.nquads import escape_iri, escape_literal
from keys.rdfc import PreparedQuad

__all__ = ["MAX_QUADS", "Canon", "Emit", "Fields", "TemplateError", "generate"]

#: Larger datasets are not compiled (the generated code and its checks grow with them).
MAX_QUADS = 2000
#: Quads sharing blank nodes and a predicate are compared pairwise; past this, not compiled.
MAX_GROUP = 64


class TemplateError(Exception):
    """The recorded dataset has a form a template does not write (the shape is not compiled)."""


# A field of a quad: serialized text, or the index of a per-document text (a "role").
Field = str | int
# (s text, s blank, predicate text, predicate raw, o text, o blank, g text, g blank)
Fields = tuple[Field, str | None, str, str, Field, str | None, Field, str | None]
Emit = Callable[[Sequence[str]], tuple[list[str], list[PreparedQuad]]]
Canon = Callable[[Sequence[str]], list[str] | None]
# (leaf, written as an IRI?, what follows a literal's closing quote)
Role = tuple[int, bool, str]


def _first_degree_hash(lines: list[str]) -> str:
    """RDFC-1.0 4.6 steps 4-5: sort the lines, hash their concatenation."""
    lines.sort()
    return hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def _canonical_labels(hashes: tuple[str, ...]) -> list[str] | None:
    """RDFC-1.0 4.4.3 step 4 when every hash is unique: c14n identifiers in hash order."""
    if len(set(hashes)) != len(hashes):
        return None
    labels = [""] * len(hashes)
    for number, blank in enumerate(sorted(range(len(hashes)), key=hashes.__getitem__)):
        labels[blank] = f"_:c14n{number}"
    return labels


# A piece of a generated expression: text (a constant), a role, or ("lab", b) for lab[b].
_Piece = str | int | tuple[str, int]


class _Source:
    def __init__(self, roles: Sequence[Role]) -> None:
        self.roles = roles
        self.constants: dict[str, int] = {}

    def const(self, text: str) -> str:
        return f"C[{self.constants.setdefault(text, len(self.constants))}]"

    def concat(self, parts: Sequence[_Piece]) -> str:
        """An expression joining the pieces, adjacent text folded into one constant."""
        merged: list[_Piece] = []
        for part in parts:
            if merged and isinstance(part, str) and isinstance(merged[-1], str):
                merged[-1] += part
            else:
                merged.append(part)
        rendered = []
        for piece in merged:
            if isinstance(piece, str):
                rendered.append(self.const(piece))
            elif isinstance(piece, int):
                rendered.append(f"t{piece}")
            else:
                rendered.append(f"lab[{piece[1]}]")
        return " + ".join(rendered) or "''"

    def roles_code(self) -> list[str]:
        body = []
        for r, (leaf, as_iri, suffix) in enumerate(self.roles):
            if as_iri:
                body.append(f"    t{r} = '<' + ei(L[{leaf}]) + '>'")
            else:
                body.append(f"    t{r} = '\"' + el(L[{leaf}]) + '\"' + {self.const(suffix)}")
        return body

    def line(self, quad: Fields, label: Callable[[str], _Piece]) -> str:
        """The N-Quads line of ``quad``, blank node b written as ``label(b)``."""
        s, s_blank, p_text, _, o, o_blank, g, g_blank = quad
        parts: list[_Piece] = [
            label(s_blank) if s_blank is not None else s,
            f" {p_text} ",
            label(o_blank) if o_blank is not None else o,
        ]
        if g_blank is not None:
            parts += [" ", label(g_blank)]
        elif g != "":
            parts += [" ", g]
        parts.append(" .\n")
        return self.concat(parts)


def _coincidences(quads: Sequence[Fields]) -> list[list[tuple[int, str]]]:
    """For each pair of distinct quads that one document could make equal, the conditions.

    Roles of different leaves never write the same text (the escaping is injective, N-Quads
    terms parse one way), and roles of equal leaves were merged by the caller, so two quads
    can become one only where a role faces a constant: the pair is one quad when each such
    role writes that constant. Only quads with the same blank nodes and predicate can be one.

    :raises TemplateError: a group of candidates too large to compare pairwise.
    """
    groups: dict[tuple[Any, ...], list[Fields]] = {}
    for quad in quads:
        groups.setdefault((quad[1], quad[2], quad[5], quad[7]), []).append(quad)
    found = []
    for group in groups.values():
        if len(group) > MAX_GROUP:
            raise TemplateError(f"{len(group)} quads share a subject and predicate")
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                conditions: list[tuple[int, str]] = []
                for a, b in zip(first, second, strict=True):
                    if a == b:
                        continue
                    if isinstance(a, int) and isinstance(b, str):
                        conditions.append((a, b))
                    elif isinstance(b, int) and isinstance(a, str):
                        conditions.append((b, a))
                    else:  # two constants or two roles that differ: never one quad
                        break
                else:
                    found.append(conditions)
    return found


def _normalized(
    quads: Sequence[Fields], roles: Sequence[Role], partition: Sequence[int]
) -> list[Fields]:
    """The quads with each role replaced by the first role writing the same text for every
    document (same leaf class, same form), duplicates removed."""
    first: dict[tuple[int, bool, str], int] = {}
    same = {
        r: first.setdefault((partition[leaf], as_iri, suffix), r)
        for r, (leaf, as_iri, suffix) in enumerate(roles)
    }
    unique: dict[Fields, None] = {}
    for quad in quads:
        normal = tuple(same[f] if isinstance(f, int) else f for f in quad)
        unique.setdefault(normal, None)  # type: ignore[arg-type]
    return list(unique)


def generate(
    roles: Sequence[Role], quads: Sequence[Fields], partition: Sequence[int]
) -> tuple[Emit, Canon]:
    """Compile ``emit`` and ``canon`` for a template's roles and quads.

    :raises TemplateError: too many quads to compile.
    """
    if len(quads) > MAX_QUADS:
        raise TemplateError(f"{len(quads)} quads (at most {MAX_QUADS} are compiled)")
    src = _Source(roles)

    def has_blank(quad: Fields) -> bool:
        return quad[1] is not None or quad[5] is not None or quad[7] is not None

    ground_lines = [src.line(q, str) for q in quads if not has_blank(q)]

    emit_body = ["def emit(L):", *src.roles_code()]
    emit_quads = []
    for s, s_blank, p_text, p_raw, o, o_blank, g, g_blank in filter(has_blank, quads):
        fields = [
            src.concat([s]),
            src.const(s_blank) if s_blank is not None else "None",
            src.const(p_text),
            src.const(p_raw),
            src.concat([o]),
            src.const(o_blank) if o_blank is not None else "None",
            src.concat([g]),
            src.const(g_blank) if g_blank is not None else "None",
        ]
        emit_quads.append("(" + ", ".join(fields) + ")")
    emit_body.append(f"    return [{', '.join(ground_lines)}], [{', '.join(emit_quads)}]")

    blank_quads = [q for q in _normalized(quads, roles, partition) if has_blank(q)]
    blanks = list(dict.fromkeys(b for q in blank_quads for b in (q[1], q[5], q[7]) if b))
    number = {b: i for i, b in enumerate(blanks)}
    canon_body = ["def canon(L):", *src.roles_code()]
    for conditions in _coincidences(blank_quads):
        test = " and ".join(f"t{r} == {src.const(text)}" for r, text in conditions)
        canon_body.append(f"    if {test}:\n        return None")
    lines = list(ground_lines)
    if blanks:
        hashes = []
        for reference in blanks:
            first_degree = [
                src.line(q, lambda b, ref=reference: "_:a" if b == ref else "_:z")  # type: ignore[misc]
                for q in blank_quads
                if reference in (q[1], q[5], q[7])
            ]
            hashes.append(f"fd([{', '.join(first_degree)}])")
        canon_body.append(f"    lab = cl(({', '.join(hashes)},))")
        canon_body.append("    if lab is None:\n        return None")
        lines += [src.line(q, lambda b: ("lab", number[b])) for q in blank_quads]
    canon_body.append(f"    return [{', '.join(lines)}]")

    namespace: dict[str, Any] = {
        "C": tuple(sorted(src.constants, key=src.constants.__getitem__)),
        "ei": escape_iri,
        "el": escape_literal,
        "fd": _first_degree_hash,
        "cl": _canonical_labels,
    }
    source = "\n".join(emit_body + canon_body) + "\n"
    exec(compile(source, "<certvc compiled shape>", "exec"), namespace)  # noqa: S102 - indices only
    return namespace["emit"], namespace["canon"]
