"""Processed JSON-LD contexts, cached per store (bounded).

pyld keys its own cache of processed contexts by the identity of the active context, and gives
every non-propagated (type-scoped) context a fresh identity, so it re-processed the type-scoped
contexts of the VC and Open Badges contexts for every document: most of the time of a
canonicalization. Pinned contexts are immutable and hash-checked, so a processed context is a
pure function of the active context, the local context and the flags; ``contexts.jsonld`` keeps
successes here, never refusals (a refused context is refused again, every time).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from .loader import ContextStore

__all__ = ["ProcessedContexts", "context_key", "processed_contexts"]

# Processed active contexts kept per store. A document's inline contexts are new objects every
# time and never hit, hence the bound (oldest evicted first).
_PROCESSED_CACHE_SIZE = 512


#: (active context id, local context or its identity, processing flags)
_Key = tuple[Any, ...]


class ProcessedContexts:
    """A bounded LRU of processed active contexts for one store.

    Keyed by the active context's ``_uuid`` (pyld's identity of a processed context), the local
    context (a URL, a list of URLs, or, for a context object taken from a term definition, its
    identity, the object being kept alive by the entry) and the processing flags.
    """

    def __init__(self, maxsize: int = _PROCESSED_CACHE_SIZE) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[_Key, tuple[Any, Any]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: _Key, local_ctx: Any) -> Any:
        entry = self._data.get(key)
        if entry is None or (type(key[1]) is int and entry[0] is not local_ctx):
            return None
        self._data.move_to_end(key)
        return entry[1]

    def put(self, key: _Key, local_ctx: Any, result: Any) -> None:
        self._data[key] = (local_ctx, result)
        self._data.move_to_end(key)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)


_STORE_CONTEXTS: weakref.WeakKeyDictionary[ContextStore, ProcessedContexts] = (
    weakref.WeakKeyDictionary()
)
_STORE_CONTEXTS_LOCK = threading.Lock()


def processed_contexts(store: ContextStore) -> ProcessedContexts:
    """The processed-context cache of ``store`` (created on first use, dropped with the store)."""
    with _STORE_CONTEXTS_LOCK:
        cache = _STORE_CONTEXTS.get(store)
        if cache is None:
            cache = _STORE_CONTEXTS[store] = ProcessedContexts()
        return cache


def context_key(active_ctx: Any, local_ctx: Any, flags: tuple[bool, bool, bool]) -> _Key | None:
    """The cache key of one context processing step, or None when it is not cached.

    ``flags`` are (override_protected, propagate, validate_scoped). A context object is keyed by
    identity only when it is a scoped context (property-scoped: override_protected; type-scoped:
    not propagate): those are pyld's own objects, taken from term definitions. A document's
    embedded context is a new (deep-copied) object every time and is not cached at all.
    """
    uuid = active_ctx.get("_uuid") if isinstance(active_ctx, Mapping) else None
    if not isinstance(uuid, str):
        return None
    if isinstance(local_ctx, str):
        return (uuid, local_ctx, flags)
    if isinstance(local_ctx, list) and all(isinstance(c, str) for c in local_ctx):
        return (uuid, tuple(local_ctx), flags)
    override_protected, propagate, _ = flags
    if isinstance(local_ctx, Mapping) and (override_protected or not propagate):
        return (uuid, id(local_ctx), flags)
    return None
