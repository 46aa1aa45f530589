"""The fast canonicalizer: compiled credential shapes in front of the full pyld path.

A :class:`FastCanonicalizer` is a ``Canonicalizer`` (``(document, store) -> canonical N-Quads``)
that answers exactly what the plain path (safe-mode ``to_dataset`` then RDFC-1.0) answers, and
usually without running pyld: the second time a shape is seen, it is compiled
(``contexts.compiled.record`` then :func:`build_template`), and each later document of that
shape is written from its leaves. A template is kept only after two checks against the full
path, on the document it was compiled from and on a probe where every free leaf is changed
(which breaks any equality the template could have silently relied on). A shape that uses a
feature the compiler does not cover, or whose template fails a check, is not compiled again:
its documents take the full path (unless a template made earlier matches). Refusals are never
cached: a document that matches no template goes the full path, so it is refused with the same
error, code and term.

Memory is bounded: per store at most ``max_shapes`` shapes, each with at most ``max_variants``
templates, and a fixed-size frequency sketch; stores are held weakly. When the cache is full a
new shape is let in only if it has been looked up more often lately than the least recently
used shape it would evict (TinyLFU admission, Einziger et al. 2017): with more shapes in
rotation than the cache holds, plain LRU evicts every template before its first use and
compiling (three full runs each) makes the fast path slower than the plain one; with admission
the cache keeps a stable set of shapes and the rest take the full path at its plain cost.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contexts.compiled import Shape, Unsupported, read_shape, record, with_leaves
from contexts.errors import CertvcError
from contexts.jsonld import to_dataset
from contexts.loader import ContextStore
from keys.rdfc import canonicalize

from .template import Template, TemplateError, build_template, partition_of

__all__ = ["FastCanonicalizer", "FastPathStats"]

_PROBE_SUFFIX = "-certvc-probe-"
_MAX_COUNT = 15  # a frequency counter saturates here (4 bits, as in TinyLFU)
_HALVES = bytes(count >> 1 for count in range(256))  # bytes.translate table: every counter halved


@dataclass(frozen=True)
class FastPathStats:
    """What the canonicalizer did since it was made (for benchmarks and tests)."""

    hits: int  # documents written from a template
    full: int  # documents that took the full pyld path
    compiled: int  # templates kept
    rejected: int  # shapes found unsupported or failing a check, left to the full path
    shapes: int  # shapes held now, over all stores
    templates: int  # templates held now, over all stores


class _Shape:
    """What is known of one shape: its templates, and whether to compile more of them."""

    __slots__ = ("closed", "misses", "slots", "templates")

    def __init__(self, slots: tuple[int, ...]) -> None:
        self.slots = slots  # its counters in the store's _Frequency
        self.misses = 0
        self.closed = False  # unsupported, or a compile failed its checks: compile no more
        self.templates: list[Template] = []

    def match(self, leaves: Sequence[str], partition: tuple[int, ...]) -> Template | None:
        for template in self.templates:
            if template.matches(leaves, partition):
                return template
        return None


class _Frequency:
    """How often each shape key was looked up lately: a count-min sketch of 4-bit counters.

    A fixed ``bytearray`` (``_WIDTH_PER_SHAPE`` counters per cached shape) remembers many more
    shapes than the cache holds without keeping their keys; a key's count is the least of its
    four counters (16-bit slices of its hash), so a collision can only overstate it. Every
    ``_PERIOD_PER_SHAPE`` lookups per cached shape all counters are halved: popularity fades.
    """

    _WIDTH_PER_SHAPE = 16
    _PERIOD_PER_SHAPE = 10

    def __init__(self, maxsize: int) -> None:
        width = 1 << max(4, (self._WIDTH_PER_SHAPE * maxsize - 1).bit_length())
        self._mask = width - 1
        self._counts = bytearray(width)
        self._period = self._PERIOD_PER_SHAPE * maxsize
        self._added = 0

    def slots(self, key: Hashable) -> tuple[int, ...]:
        """Where ``key`` is counted (kept on its cache entry: a lookup hit hashes nothing)."""
        code, mask = hash(key), self._mask
        return code & mask, code >> 16 & mask, code >> 32 & mask, code >> 48 & mask

    def count(self, slots: tuple[int, ...]) -> int:
        counts = self._counts
        return min([counts[slot] for slot in slots])

    def add(self, slots: tuple[int, ...]) -> None:
        counts = self._counts
        for slot in slots:
            if counts[slot] < _MAX_COUNT:
                counts[slot] += 1
        self._added += 1
        if self._added >= self._period:
            self._counts = counts.translate(_HALVES)
            self._added = 0


class _ShapeCache:
    """At most ``maxsize`` shapes: least recently used evicted, newcomers admitted by frequency."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.shapes: OrderedDict[Hashable, _Shape] = OrderedDict()
        self.frequency = _Frequency(maxsize)

    def get_or_add(self, key: Hashable) -> _Shape | None:
        """The entry of ``key``; None when it is not cached and does not earn a place."""
        shape = self.shapes.get(key)
        if shape is not None:
            self.shapes.move_to_end(key)
            self.frequency.add(shape.slots)
            return shape
        slots = self.frequency.slots(key)
        earlier = self.frequency.count(slots)  # lookups before this one
        self.frequency.add(slots)
        if len(self.shapes) >= self.maxsize:
            # A template (three full runs) wins ties; counting this lookup as well would
            # favour the newcomer in every rotation (it was just seen, the victim is next).
            victim_key, victim = next(iter(self.shapes.items()))
            if earlier <= self.frequency.count(victim.slots) + bool(victim.templates):
                return None
            del self.shapes[victim_key]
        shape = self.shapes[key] = _Shape(slots)
        return shape


def _full(document: Mapping[str, Any], store: ContextStore, max_work_factor: int) -> str:
    return canonicalize(to_dataset(document, store), max_work_factor=max_work_factor)


def _probe_leaves(template: Template, leaves: Sequence[str]) -> list[str] | None:
    """Change every free leaf (equal leaves alike), keeping each IRI leaf inside its rule."""
    frozen = {value for _, value in template.pinned}  # a free leaf equal to these stays
    changed: dict[str, str] = {}
    probe = list(leaves)
    for index, leaf in enumerate(leaves):
        if leaf not in frozen:
            probe[index] = changed.setdefault(leaf, f"{leaf}{_PROBE_SUFFIX}{len(changed)}")
    new_values = set(changed.values())
    if len(new_values) != len(changed) or new_values & set(leaves):
        return None
    if not template.matches(probe, partition_of(probe)):
        return None
    return probe


class FastCanonicalizer:
    """A ``Canonicalizer`` equal to the plain path, writing known shapes from their leaves.

    ``compile_after``: how many times a shape must miss before it is compiled (compiling costs
    three full runs, so one-off shapes are left alone). ``max_work_factor`` is RDFC-1.0's bound
    (``keys.rdfc``), the same for both paths.
    """

    def __init__(
        self,
        *,
        max_shapes: int = 256,
        max_variants: int = 4,
        compile_after: int = 2,
        max_work_factor: int = 1,
    ) -> None:
        if max_shapes < 1 or max_variants < 1 or compile_after < 1:
            raise ValueError("max_shapes, max_variants and compile_after must be positive")
        self.max_shapes = max_shapes
        self.max_variants = max_variants
        self.compile_after = compile_after
        self.max_work_factor = max_work_factor
        self._stores: weakref.WeakKeyDictionary[ContextStore, _ShapeCache] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._hits = self._full_runs = self._compiled = self._rejected = 0

    def __repr__(self) -> str:
        return f"FastCanonicalizer(max_shapes={self.max_shapes}, max_variants={self.max_variants})"

    # -- the Canonicalizer interface ---------------------------------------------------------

    def __call__(self, document: Mapping[str, Any], store: ContextStore) -> str:
        """RDFC-1.0 canonical N-Quads of ``document``, as ``keys.suites.canonize`` gives them.

        :raises JsonLdError, ContextNotAllowed, CanonicalizationLimit, InputError: as the plain
            path, for the same documents.
        """
        found = self._lookup(document, store)
        if isinstance(found, tuple):
            template, leaves = found
            return template.canonical(leaves, max_work_factor=self.max_work_factor)
        dataset = to_dataset(document, store)
        if found is not None:
            canonical = self._compile(found, document, dataset, store)
            if canonical is not None:
                return canonical
        return canonicalize(dataset, max_work_factor=self.max_work_factor)

    def check_safe(
        self, document: Mapping[str, Any], store: ContextStore, *, shape: Shape | None = None
    ) -> None:
        """JSON-LD safe mode alone: refuse exactly what ``contexts.to_dataset`` refuses.

        A document matching a template passed safe mode already (the template was made from a
        passing document and the same processing); anything else runs ``to_dataset``.
        ``shape``: ``read_shape(document)`` when the caller has it already (None: read here).
        """
        found = self._lookup(document, store, shape)
        if isinstance(found, tuple):
            return
        dataset = to_dataset(document, store)
        if found is not None:
            self._compile(found, document, dataset, store)

    def stats(self) -> FastPathStats:
        with self._lock:
            caches = list(self._stores.values())
            shapes = sum(len(c.shapes) for c in caches)
            templates = sum(len(s.templates) for c in caches for s in c.shapes.values())
        return FastPathStats(
            self._hits, self._full_runs, self._compiled, self._rejected, shapes, templates
        )

    # -- internals ---------------------------------------------------------------------------

    def _cache(self, store: ContextStore) -> _ShapeCache:
        cache = self._stores.get(store)
        if cache is None:
            cache = self._stores[store] = _ShapeCache(self.max_shapes)
        return cache

    def _lookup(
        self, document: Mapping[str, Any], store: ContextStore, shape: Shape | None = None
    ) -> tuple[Template, list[str]] | _Pending | None:
        """A matching template, or what compiling this document needs, or None (full path)."""
        if shape is None:
            shape = read_shape(document)
        if shape is None:
            with self._lock:
                self._full_runs += 1
            return None
        key, leaves = shape
        partition = partition_of(leaves)
        with self._lock:
            entry = self._cache(store).get_or_add(key)
            if entry is None:
                self._full_runs += 1
                return None
            template = entry.match(leaves, partition)
            if template is not None:
                self._hits += 1
                return template, leaves
            self._full_runs += 1
            if entry.closed or len(entry.templates) >= self.max_variants:
                return None
            entry.misses += 1
            if entry.misses < self.compile_after:
                return None
        return _Pending(entry, leaves, partition)

    def _compile(
        self,
        pending: _Pending,
        document: Mapping[str, Any],
        dataset: Mapping[str, Any],
        store: ContextStore,
    ) -> str | None:
        """Compile the shape of a document that passed the full path; its canonical form."""
        try:
            canonical = canonicalize(dataset, max_work_factor=self.max_work_factor)
        except CertvcError:
            return None  # the caller raises it again; nothing learnt about the shape
        leaves, partition = pending.leaves, pending.partition
        template = None
        try:
            template = build_template(record(document, leaves, store), leaves, partition)
            if not self._agrees(template, leaves, canonical):
                template = None
            else:
                probe = _probe_leaves(template, leaves)
                if probe is None or not self._agrees(
                    template,
                    probe,
                    _full(with_leaves(document, probe), store, self.max_work_factor),
                ):
                    template = None
        except (Unsupported, TemplateError, CertvcError):
            template = None
        with self._lock:
            if template is None:
                # Templates already kept were each checked on their own documents and stay.
                pending.entry.closed = True
                self._rejected += 1
            elif len(pending.entry.templates) < self.max_variants:
                pending.entry.templates.append(template)
                self._compiled += 1
        return canonical

    def _agrees(self, template: Template, leaves: Sequence[str], canonical: str) -> bool:
        return template.canonical(leaves, max_work_factor=self.max_work_factor) == canonical


@dataclass(frozen=True)
class _Pending:
    entry: _Shape
    leaves: list[str]
    partition: tuple[int, ...]
