"""The pinned JSON-LD context store and its offline document loader.

A credential's meaning is fixed by its contexts, so certvc never fetches one: every context it
will process ships in ``contexts/data`` with a SHA-256 in ``manifest.json`` (checked at load),
or is added by the operator the same way. Any other URL raises ``ContextNotAllowed``
(STYLE 11; VC Data Model 2.0 section 4.3 lets verifiers pin contexts by hash). This module has
no network code at all: not ``requests``, ``urllib`` nor ``socket``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pyld.context_resolver import ContextResolver

from .errors import ContextIntegrityError, ContextNotAllowed, InputError

__all__ = [
    "ContextStore",
    "DocumentLoader",
    "default_store",
    "parse_context_option",
]

#: A pyld document loader: ``loader(url, options=None) -> RemoteDocument``.
DocumentLoader = Callable[..., dict[str, Any]]

# Resolved contexts kept per store: the pinned set plus the inline contexts of recent documents.
# Inline contexts come from untrusted input, hence the bound (oldest evicted first).
_RESOLVED_CACHE_SIZE = 256

# RFC 3986 section 3.1: scheme ":" ...; a context URL must be absolute, without whitespace.
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]+$")

_MANIFEST_KEYS = ("url", "file", "sha256")


class _BoundedCache:
    """A thread-safe LRU map with the ``get``/``[]=`` surface pyld's ContextResolver uses."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def __getitem__(self, key: str) -> Any:
        with self._lock:
            self._data.move_to_end(key)
            return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _check_url(url: object) -> str:
    if not isinstance(url, str) or not _ABSOLUTE_IRI.match(url):
        raise InputError(f"context URL must be an absolute IRI, got {url!r}")
    return url


def _parse_document(url: str, data: bytes, origin: str) -> None:
    """Refuse bytes that are not a JSON object: pyld would only fail later, and less clearly."""
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ContextIntegrityError(f"context {url} ({origin}) is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise ContextIntegrityError(f"context {url} ({origin}) is not a JSON object")


def _read_manifest(text: str, origin: str) -> list[dict[str, str]]:
    try:
        entries = json.loads(text)
    except ValueError as exc:
        raise ContextIntegrityError(f"context manifest {origin} is not valid JSON") from exc
    if not isinstance(entries, list):
        raise ContextIntegrityError(f"context manifest {origin} must be a JSON array")
    for entry in entries:
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(k), str) for k in _MANIFEST_KEYS
        ):
            raise ContextIntegrityError(
                f"context manifest {origin}: each entry needs string url, file and sha256"
            )
    return entries


@dataclass(frozen=True, eq=False)
class ContextStore:
    """An immutable set of pinned contexts, keyed by URL, holding their exact bytes.

    ``with_context`` returns a new store. Each store owns its own bounded cache of resolved
    contexts, so two stores mapping one URL to different documents never see each other's
    (pyld's default cache is process-global and keyed by URL alone). Stores compare and hash
    by identity: each is a resource with its own cache.
    """

    _documents: Mapping[str, bytes] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    _cache: _BoundedCache = field(
        default_factory=lambda: _BoundedCache(_RESOLVED_CACHE_SIZE),
        repr=False,
        compare=False,
    )
    # pyld's per-context caches (cachetools LRUs) are not thread-safe: one operation at a time.
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    @classmethod
    def pinned(cls, extra_manifest: Path | None = None) -> ContextStore:
        """Load the contexts shipped in ``contexts/data``, plus an operator manifest if given.

        ``extra_manifest`` has the shape of ``manifest.json``; its ``file`` entries are relative
        to the manifest's folder. Every file is hash-checked.

        :raises ContextIntegrityError: a file is missing, unreadable, not a JSON object, or its
            SHA-256 differs from the manifest; or a URL is pinned twice with different bytes.
        """
        data = resources.files(__package__).joinpath("data")
        store = cls()
        manifest = data.joinpath("manifest.json").read_text(encoding="utf-8")
        for entry in _read_manifest(manifest, "contexts/data/manifest.json"):
            try:
                raw = data.joinpath(entry["file"]).read_bytes()
            except OSError as exc:
                raise ContextIntegrityError(
                    f"pinned context {entry['url']}: cannot read file {entry['file']}"
                ) from exc
            store = store._add(entry["url"], raw, entry["sha256"], entry["file"])
        if extra_manifest is not None:
            store = store._add_manifest(Path(extra_manifest))
        return store

    def _add_manifest(self, manifest: Path) -> ContextStore:
        try:
            text = manifest.read_text(encoding="utf-8")
        except OSError as exc:
            raise ContextIntegrityError(f"cannot read context manifest {manifest}") from exc
        store = self
        for entry in _read_manifest(text, str(manifest)):
            path = manifest.parent / entry["file"]
            try:
                raw = path.read_bytes()
            except OSError as exc:
                raise ContextIntegrityError(
                    f"context {entry['url']}: cannot read file {entry['file']}"
                ) from exc
            store = store._add(entry["url"], raw, entry["sha256"], entry["file"])
        return store

    def with_context(
        self, url: str, source: Path | bytes | Mapping[str, Any], sha256: str | None = None
    ) -> ContextStore:
        """Return a new store that also serves ``source`` at ``url``.

        ``source`` is a file, its bytes, or an already-parsed document (hashed as compact JSON
        with sorted keys). When ``sha256`` (hex) is given it must match those bytes.

        :raises InputError: ``url`` is not an absolute IRI.
        :raises ContextIntegrityError: hash mismatch, unreadable or non-object document, or
            ``url`` already pinned to different bytes (a pinned context is never replaced).
        """
        _check_url(url)
        if isinstance(source, Path):
            try:
                raw = source.read_bytes()
            except OSError as exc:
                raise ContextIntegrityError(f"context {url}: cannot read file {source}") from exc
            origin = str(source)
        elif isinstance(source, bytes | bytearray):
            raw, origin = bytes(source), "bytes"
        elif isinstance(source, Mapping):
            raw = json.dumps(
                source, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
            origin = "mapping"
        else:
            raise InputError(f"context {url}: source must be a Path, bytes or a mapping")
        return self._add(url, raw, sha256, origin)

    def _add(self, url: str, raw: bytes, sha256: str | None, origin: str) -> ContextStore:
        _check_url(url)
        actual = _sha256(raw)
        if sha256 is not None and actual != sha256.strip().lower():
            raise ContextIntegrityError(
                f"context {url}: SHA-256 of {origin} is {actual}, manifest says {sha256}"
            )
        existing = self._documents.get(url)
        if existing is not None:
            if existing == raw:
                return self
            raise ContextIntegrityError(
                f"context {url} is already pinned to other content; refusing {origin}"
            )
        _parse_document(url, raw, origin)
        documents = dict(self._documents)
        documents[url] = raw
        return ContextStore(MappingProxyType(documents))

    def get(self, url: str) -> dict[str, Any]:
        """Return a fresh parsed copy of the context at ``url`` (callers may mutate it).

        :raises ContextNotAllowed: ``url`` is not pinned in this store.
        """
        raw = self._documents.get(url) if isinstance(url, str) else None
        if raw is None:
            raise ContextNotAllowed(str(url))
        document: dict[str, Any] = json.loads(raw)
        return document

    def __repr__(self) -> str:
        return f"ContextStore({len(self._documents)} contexts)"

    def __contains__(self, url: object) -> bool:
        return url in self._documents

    def urls(self) -> frozenset[str]:
        return frozenset(self._documents)

    def raw(self, url: str) -> bytes:
        """The exact pinned bytes (to check a digest a credential gives for a context).

        :raises ContextNotAllowed: ``url`` is not pinned in this store.
        """
        raw = self._documents.get(url)
        if raw is None:
            raise ContextNotAllowed(url)
        return raw

    def sha256(self, url: str) -> str:
        """The SHA-256 (hex) of the pinned bytes, e.g. for an audit log of what was used.

        :raises ContextNotAllowed: ``url`` is not pinned in this store.
        """
        raw = self._documents.get(url)
        if raw is None:
            raise ContextNotAllowed(url)
        return _sha256(raw)

    def document_loader(self) -> DocumentLoader:
        """A pyld document loader serving only this store; it never touches the network.

        :raises ContextNotAllowed: (from the loader) for any URL not in the store.
        """

        def load(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
            return {"contextUrl": None, "documentUrl": url, "document": self.get(url)}

        return load

    @contextmanager
    def context_resolver(self) -> Iterator[ContextResolver]:
        """Yield a pyld ``ContextResolver`` over this store's own cache, holding its lock.

        Pass it as pyld's ``contextResolver`` option so pyld's process-global cache is never
        used. Pinned contexts are tagged ``static`` so pyld caches them after the first use.
        """
        loader = self.document_loader()

        def load_static(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
            return {**loader(url, options), "tag": "static"}

        with self._lock:
            yield ContextResolver(self._cache, load_static)


@functools.cache
def default_store() -> ContextStore:
    """The store of the contexts shipped with certvc, loaded and hash-checked once.

    :raises ContextIntegrityError: a shipped context does not match its manifest.
    """
    return ContextStore.pinned()


def parse_context_option(value: str) -> tuple[str, Path]:
    """Split the CLI's ``--context URL=FILE`` into ``(url, Path(file))``.

    The split is at the last ``=``, so a URL may carry a query string.

    :raises InputError: no ``=``, an empty side, or a URL that is not absolute.
    """
    url, sep, file = value.rpartition("=")
    url, file = url.strip(), file.strip()
    if not sep or not url or not file:
        raise InputError(
            f"--context expects URL=FILE (e.g. https://example.org/ctx/v1=./ctx.json), "
            f"got {value!r}"
        )
    if not _ABSOLUTE_IRI.match(url):
        raise InputError(f"--context URL must be an absolute IRI, got {url!r} in {value!r}")
    return url, Path(file)
