"""RDF Dataset Canonicalization (RDFC-1.0, W3C Recommendation 2024-05-21) with bounded work.

Hand-written because pyld's URDNA2015 escapes literals incompletely (see ``keys.nquads``) and has
no bound on Hash N-Degree Quads, so a "poison" dataset of interlinked, indistinguishable blank
nodes can keep a verifier busy for hours. The bound is rdf-canonize's (Digital Bazaar, v4/v5):
at most ``n ** max_work_factor`` calls of Hash N-Degree Quads, ``n`` the number of blank nodes
whose first-degree hash is shared (section 4.4.3 step 5 input), so the same inputs are refused.

Sections cited are those of the Recommendation: 4.3 identifier issuer, 4.4 canonicalization
algorithm, 4.5 issue identifier, 4.6 Hash First Degree Quads, 4.7 Hash Related Blank Node,
4.8 Hash N-Degree Quads, 5 serialization.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cmp_to_key
from typing import Any, NamedTuple

from contexts.errors import InputError
from keys.nquads import (
    Quad,
    Term,
    TermKind,
    dataset_to_quads,
    escape_iri,
    parse_quads,
    serialize_term,
)

from .errors import CanonicalizationLimit

__all__ = [
    "PreparedQuad",
    "canonicalize",
    "canonicalize_nquads",
    "canonicalize_prepared",
    "canonicalize_quads",
]

_HASHES: dict[str, Callable[..., Any]] = {
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}

# A second fence, not in rdf-canonize: permutations of related blank nodes of which some were
# issued identifiers earlier in the same Hash N-Degree Quads call can be rejected by path
# comparison (4.8.3 step 5.4.4.3) without a recursive call, so they escape the call count, and k
# such nodes cost up to k! iterations. Each allowed call buys this many permutations.
_PERMUTATIONS_PER_CALL = 5040  # 7!
# Like rdf-canonize, a bound past 2**53 calls counts as no bound at all.
_UNBOUNDED_CALLS = 2**53


class PreparedQuad(NamedTuple):
    """A quad with its non-blank parts serialized once; ``*_blank`` hold blank labels.

    The input of :func:`canonicalize_prepared`: a compiled credential shape
    (``keys.fastpath``) writes these directly from a document's values, as plain tuples of the
    same eight fields (the canonicalizer reads them by position).
    """

    s_text: str
    s_blank: str | None
    predicate_text: str  # canonical <...> form
    predicate_raw: str  # '<' + IRI + '>' unescaped, as 4.7.3 step 2 appends it
    o_text: str
    o_blank: str | None
    g_text: str  # '' for the default graph
    g_blank: str | None


def _serialize(
    quads: Iterable[PreparedQuad], labels: Mapping[str, str], ground: Iterable[str] = ()
) -> str:
    """Section 5: every quad with its blank nodes relabelled, sorted by code point, joined.

    Written inline (this runs for every credential); ``ground`` lines (quads without blank
    nodes, already serialized) join them.
    """
    lines = list(ground)
    for s_text, s_blank, p_text, _, o_text, o_blank, g_text, g_blank in quads:
        s = s_text if s_blank is None else "_:" + labels[s_blank]
        o = o_text if o_blank is None else "_:" + labels[o_blank]
        if g_blank is not None:
            lines.append(f"{s} {p_text} {o} _:{labels[g_blank]} .\n")
        elif g_text:
            lines.append(f"{s} {p_text} {o} {g_text} .\n")
        else:
            lines.append(f"{s} {p_text} {o} .\n")
    lines.sort()
    return "".join(lines)


def _split(term: Term | None) -> tuple[str, str | None]:
    if term is None:
        return "", None
    if term.kind is TermKind.BLANK:
        return "", term.value
    return serialize_term(term), None


def _prepare(quad: Quad) -> PreparedQuad:
    s_text, s_blank = _split(quad.subject)
    o_text, o_blank = _split(quad.object)
    g_text, g_blank = _split(quad.graph)
    predicate = quad.predicate.value
    return PreparedQuad(
        s_text,
        s_blank,
        f"<{escape_iri(predicate)}>",
        f"<{predicate}>",
        o_text,
        o_blank,
        g_text,
        g_blank,
    )


@dataclass(slots=True)
class _IdentifierIssuer:
    """4.3 blank node identifier issuer: prefix, counter, and issued map in issue order."""

    prefix: str
    issued: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def issue(self, existing: str) -> str:
        """4.5 Issue Identifier algorithm."""
        found = self.issued.get(existing)
        if found is not None:
            return found
        identifier = f"{self.prefix}{self.counter}"
        self.counter += 1
        self.issued[existing] = identifier
        return identifier

    def copy(self) -> _IdentifierIssuer:
        return _IdentifierIssuer(self.prefix, dict(self.issued), self.counter)


def _utf16_key(label: str) -> bytes:
    # rdf-canonize orders with JavaScript string comparison, i.e. by UTF-16 code units.
    return label.encode("utf-16-be", "surrogatepass")


def _permutations(items: Sequence[str]) -> Iterator[list[str]]:
    """All permutations in rdf-canonize's order (Permuter.js: Steinhaus-Johnson-Trotter).

    The order decides which equally good path is met first and so how many Hash N-Degree Quads
    calls are made; following it keeps the work limit tripping on the same inputs. A repeated
    label (one node related twice the same way) is never mobile, as in Permuter.js.
    """
    current = sorted(items, key=_utf16_key)
    keys = {item: _utf16_key(item) for item in current}
    left = dict.fromkeys(current, True)  # direction: True looks left
    length = len(current)
    while True:
        yield list(current)
        k: str | None = None
        pos = 0
        for i, element in enumerate(current):
            ek = keys[element]
            if (k is None or ek > keys[k]) and (
                (left[element] and i > 0 and ek > keys[current[i - 1]])
                or (not left[element] and i < length - 1 and ek > keys[current[i + 1]])
            ):
                k, pos = element, i
        if k is None:
            return
        swap = pos - 1 if left[k] else pos + 1
        current[pos], current[swap] = current[swap], k
        kk = keys[k]
        for element in current:
            if keys[element] > kk:
                left[element] = not left[element]


def _max_calls(n_shared: int, factor: int) -> float:
    """rdf-canonize's maxDeepIterations: ``n_shared ** factor``, 0 for factor 0."""
    if factor == 0:
        return 0
    if n_shared <= 1:
        return n_shared
    calls: int = n_shared**factor
    if factor >= 64 or calls > _UNBOUNDED_CALLS:
        return math.inf
    return calls


def _concat_cmp(a: str, b: str) -> int:
    return (a + b > b + a) - (a + b < b + a)


# Sorting by this order gives the lexicographically smallest concatenation of the strings.
_CONCAT_ORDER = cmp_to_key(_concat_cmp)


class _Canonicalizer:
    """4.2 canonicalization state plus the work counters; one instance per dataset."""

    def __init__(
        self,
        quads: list[PreparedQuad],
        *,
        max_work_factor: int,
        hasher: Any,
        ground: Iterable[str] = (),
    ) -> None:
        self._quads = quads
        self._ground = ground
        self._max_work_factor = max_work_factor
        self._hasher = hasher
        self._quads_of: dict[str, list[PreparedQuad]] = {}
        self._first_degree: dict[str, str] = {}
        self._canonical = _IdentifierIssuer("c14n")
        self._max_calls: float = 0
        self._calls_left: float = 0
        self._permutations_left: float = 0

    def _hash(self, data: str) -> str:
        digest: str = self._hasher(data.encode("utf-8")).hexdigest()
        return digest

    # 4.4.3 canonicalization algorithm
    def run(self) -> str:
        # step 2: blank node to quads map (one entry per quad per node, in first-seen order)
        quads_of = self._quads_of
        for quad in self._quads:
            s_blank, o_blank, g_blank = quad[1], quad[5], quad[7]
            if s_blank is not None:
                quads_of.setdefault(s_blank, []).append(quad)
            if o_blank is not None and o_blank != s_blank:
                quads_of.setdefault(o_blank, []).append(quad)
            if g_blank is not None and g_blank != s_blank and g_blank != o_blank:
                quads_of.setdefault(g_blank, []).append(quad)
        if not self._quads_of:
            return _serialize(self._quads, {}, self._ground)  # 5: no blank nodes

        # step 3: first-degree hashes, hash to blank nodes map
        by_hash: dict[str, list[str]] = {}
        for label in self._quads_of:
            by_hash.setdefault(self._hash_first_degree_quads(label), []).append(label)

        # step 4: issue canonical identifiers for unique hashes, in hash order. (The draft's
        # "simple" loop ran once in practice: first-degree hashes never use canonical ids.)
        shared: list[list[str]] = []
        for h in sorted(by_hash):
            labels = by_hash[h]
            if len(labels) > 1:
                shared.append(labels)
            else:
                self._canonical.issue(labels[0])

        # The work bound (rdf-canonize maxWorkFactor): non-unique count ** factor calls.
        self._max_calls = _max_calls(sum(len(labels) for labels in shared), self._max_work_factor)
        self._calls_left = self._max_calls
        self._permutations_left = max(self._max_calls, 1) * _PERMUTATIONS_PER_CALL

        # step 5: the remaining hashes, in hash order
        for labels in shared:
            hash_path_list: list[tuple[str, _IdentifierIssuer]] = []
            for label in labels:
                if label in self._canonical.issued:  # 5.2.1
                    continue
                temporary = _IdentifierIssuer("b")  # 5.2.2
                temporary.issue(label)  # 5.2.3
                hash_path_list.append(self._hash_n_degree_quads(label, temporary))  # 5.2.4
            # 5.3: by hash (a stable sort, as rdf-canonize), issuing in each issuer's order
            for _, issuer in sorted(hash_path_list, key=lambda result: result[0]):
                for existing in issuer.issued:
                    self._canonical.issue(existing)

        # steps 6-7 and section 5: relabel, serialize, sort by code point, concatenate
        return _serialize(self._quads, self._canonical.issued, self._ground)

    # 4.6 Hash First Degree Quads
    def _hash_first_degree_quads(self, reference: str) -> str:
        cached = self._first_degree.get(reference)
        if cached is not None:
            return cached

        # 4.6.3 step 3.1.1: _:a for the reference node, _:z for every other blank node (never
        # a canonical id: the Recommendation kept the deployed behaviour). Steps 3-4 inline.
        nquads = []
        for s_text, s_blank, p_text, _, o_text, o_blank, g_text, g_blank in self._quads_of[
            reference
        ]:
            s = s_text if s_blank is None else ("_:a" if s_blank == reference else "_:z")
            o = o_text if o_blank is None else ("_:a" if o_blank == reference else "_:z")
            if g_blank is not None:
                g = "_:a" if g_blank == reference else "_:z"
                nquads.append(f"{s} {p_text} {o} {g} .\n")
            elif g_text:
                nquads.append(f"{s} {p_text} {o} {g_text} .\n")
            else:
                nquads.append(f"{s} {p_text} {o} .\n")
        nquads.sort()
        result = self._hash("".join(nquads))  # step 5
        self._first_degree[reference] = result
        return result

    # 4.7 Hash Related Blank Node
    def _hash_related_blank_node(
        self, related: str, quad: PreparedQuad, issuer: _IdentifierIssuer, position: str
    ) -> str:
        data = position  # step 1
        if position != "g":  # step 2
            data += quad[3]  # predicate_raw (a plain tuple is accepted too)
        canonical = self._canonical.issued.get(related)  # step 3
        if canonical is not None:
            data += "_:" + canonical
        elif related in issuer.issued:
            data += "_:" + issuer.issued[related]
        else:
            data += self._hash_first_degree_quads(related)
        return self._hash(data)  # steps 4-5

    def _hash_n_degree_quads(
        self, identifier: str, issuer: _IdentifierIssuer
    ) -> tuple[str, _IdentifierIssuer]:
        """4.8 Hash N-Degree Quads, run without Python recursion (deep chains are legal)."""
        stack = [self._hash_n_degree_step(identifier, issuer)]
        result: tuple[str, _IdentifierIssuer] | None = None
        while True:
            try:
                request = stack[-1].send(result)
            except StopIteration as done:
                stack.pop()
                result = done.value
                if not stack:
                    finished: tuple[str, _IdentifierIssuer] = done.value
                    return finished
                continue
            stack.append(self._hash_n_degree_step(*request))
            result = None

    def _hash_n_degree_step(
        self, identifier: str, issuer: _IdentifierIssuer
    ) -> Generator[
        tuple[str, _IdentifierIssuer],
        tuple[str, _IdentifierIssuer] | None,
        tuple[str, _IdentifierIssuer],
    ]:
        """One 4.8.3 invocation; a recursive call (step 5.4.5.1) is yielded to the driver."""
        if self._calls_left <= 0:
            raise CanonicalizationLimit(
                "RDFC-1.0 work limit reached: too many indistinguishable blank nodes "
                f"(more than {self._max_calls} Hash N-Degree Quads calls)"
            )
        self._calls_left -= 1
        canonical = self._canonical.issued

        # steps 1-3: hash to related blank nodes map
        related_map: dict[str, list[str]] = {}
        for quad in self._quads_of[identifier]:
            for related, position in (
                (quad[1], "s"),  # s_blank, o_blank, g_blank
                (quad[5], "o"),
                (quad[7], "g"),
            ):
                if related is None or related == identifier:
                    continue
                h = self._hash_related_blank_node(related, quad, issuer, position)
                related_map.setdefault(h, []).append(related)

        data_to_hash: list[str] = []  # step 4
        for related_hash in sorted(related_map):  # step 5
            data_to_hash.append(related_hash)  # 5.1
            members = related_map[related_hash]
            if all(m in canonical or m in issuer.issued for m in members):
                # 5.2-5.6 in closed form: when every member already has an identifier no
                # permutation issues one or recurses, so the chosen path is the smallest
                # concatenation of those identifiers and the chosen issuer equals issuer.
                ids = ["_:" + (canonical.get(m) or issuer.issued[m]) for m in members]
                data_to_hash.append("".join(sorted(ids, key=_CONCAT_ORDER)))
                continue
            chosen_path = ""  # 5.2
            chosen_issuer: _IdentifierIssuer | None = None  # 5.3
            for permutation in _permutations(members):  # 5.4
                self._permutations_left -= 1
                if self._permutations_left < 0:
                    raise CanonicalizationLimit(
                        "RDFC-1.0 work limit reached: too many blank node permutations"
                    )
                issuer_copy = issuer.copy()  # 5.4.1
                path = ""  # 5.4.2
                recursion_list: list[str] = []  # 5.4.3
                skip = False
                for related in permutation:  # 5.4.4
                    c = canonical.get(related)
                    if c is not None:  # 5.4.4.1
                        path += "_:" + c
                    else:  # 5.4.4.2
                        if related not in issuer_copy.issued:
                            recursion_list.append(related)
                        path += "_:" + issuer_copy.issue(related)
                    # 5.4.4.3: once path sorts after chosen path no extension can sort before
                    # it, so the length test of the spec is not needed for the same outcome.
                    if chosen_path and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion_list:  # 5.4.5
                    result = yield (related, issuer_copy)  # 5.4.5.1
                    assert result is not None
                    path += "_:" + issuer_copy.issue(related)  # 5.4.5.2
                    path += f"<{result[0]}>"  # 5.4.5.3
                    issuer_copy = result[1]  # 5.4.5.4
                    if chosen_path and path > chosen_path:  # 5.4.5.5
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:  # 5.4.6
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data_to_hash.append(chosen_path)  # 5.5
            assert chosen_issuer is not None  # the first permutation is never skipped
            issuer = chosen_issuer  # 5.6
        return self._hash("".join(data_to_hash)), issuer  # step 6


def canonicalize_prepared(
    quads: Iterable[PreparedQuad],
    *,
    ground: Iterable[str] = (),
    max_work_factor: int = 1,
    hash_algorithm: str = "sha256",
) -> str:
    """RDFC-1.0 canonical N-Quads of already serialized quads (duplicates count once).

    ``ground`` holds the canonical lines (ending in `` .\\n``) of quads without blank nodes:
    nothing in RDFC-1.0 changes them, so they are only deduplicated and sorted in. (A line with
    no blank node never equals one with a blank node: N-Quads lines parse unambiguously.)

    :raises CanonicalizationLimit: when the work bound is reached.
    :raises InputError: when a term holds a lone surrogate code point.
    :raises ValueError: for a negative work factor or an unsupported hash algorithm.
    """
    if isinstance(max_work_factor, bool) or not isinstance(max_work_factor, int):
        raise ValueError("max_work_factor must be an int")
    if max_work_factor < 0:
        raise ValueError("max_work_factor must not be negative")
    hasher = _HASHES.get(hash_algorithm)
    if hasher is None:
        raise ValueError(f"unsupported RDFC-1.0 hash algorithm: {hash_algorithm}")
    # A dataset is a set: equal canonical forms are one quad (this also merges "x" with
    # "x"^^xsd:string, the same RDF literal).
    prepared = list(dict.fromkeys(quads))
    try:
        result = _Canonicalizer(
            prepared, max_work_factor=max_work_factor, hasher=hasher, ground=set(ground)
        ).run()
        result.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate (possible in JSON strings) has no UTF-8 form: it cannot be signed.
        raise InputError("RDF dataset holds a lone surrogate code point") from exc
    return result


def canonicalize_quads(
    quads: Iterable[Quad], *, max_work_factor: int = 1, hash_algorithm: str = "sha256"
) -> str:
    """RDFC-1.0 canonical N-Quads of a set of quads (duplicates count once).

    :raises CanonicalizationLimit: when the work bound is reached.
    :raises InputError: when a term holds a lone surrogate code point.
    :raises ValueError: for a negative work factor or an unsupported hash algorithm.
    """
    return canonicalize_prepared(
        (_prepare(q) for q in quads), max_work_factor=max_work_factor, hash_algorithm=hash_algorithm
    )


def canonicalize(
    dataset: Mapping[str, Any], *, max_work_factor: int = 1, hash_algorithm: str = "sha256"
) -> str:
    """RDFC-1.0 canonical N-Quads of a pyld RDF dataset (``JsonLdProcessor().to_rdf`` output).

    Lines end in ``\\n``, are sorted by code point, blank nodes are ``_:c14n0``...; the input is
    not modified. ``max_work_factor`` is rdf-canonize's: 0 allows no deep hashing, 1 (default)
    linear, 2 quadratic, ...

    :raises CanonicalizationLimit: when the work bound is reached (a poison dataset).
    :raises InputError: when the dataset is not of pyld's shape.
    :raises ValueError: for a negative work factor or an unsupported hash algorithm.
    """
    return canonicalize_quads(
        dataset_to_quads(dataset), max_work_factor=max_work_factor, hash_algorithm=hash_algorithm
    )


def canonicalize_nquads(
    text: str, *, max_work_factor: int = 1, hash_algorithm: str = "sha256"
) -> str:
    """RDFC-1.0 canonical N-Quads of an N-Quads document.

    :raises InputError: when the text is not N-Quads.
    :raises CanonicalizationLimit: when the work bound is reached.
    """
    return canonicalize_quads(
        parse_quads(text), max_work_factor=max_work_factor, hash_algorithm=hash_algorithm
    )
