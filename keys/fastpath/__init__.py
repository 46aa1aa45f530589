"""The fast path to canonical N-Quads: compiled credential shapes, byte-identical to pyld's.

``default_canonicalizer()`` is the product's canonicalizer (Data Integrity signing and
verification, and the JSON-LD safety check of vc+jwt); ``keys.suites.canonize`` stays the plain
reference path, used by ``certvc bench --reference`` and the equivalence tests.
"""

from __future__ import annotations

import functools

from .canonicalizer import FastCanonicalizer as FastCanonicalizer
from .canonicalizer import FastPathStats as FastPathStats


@functools.cache
def default_canonicalizer() -> FastCanonicalizer:
    """The process's shared fast canonicalizer (its caches are bounded, see FastCanonicalizer)."""
    return FastCanonicalizer()


__all__ = ["FastCanonicalizer", "FastPathStats", "default_canonicalizer"]
