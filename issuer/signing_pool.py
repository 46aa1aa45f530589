"""Signing a batch of certifications in worker processes (``certvc import-csv --jobs N``).

Building and signing a credential is pure CPU work (about 0.2 ms with the fast
canonicalizer), and a bulk import spends about half its time there; the database work stays in
the one process that holds the transaction. The workers are forked before any database
connection is opened (forking a process holding an SQLite or PostgreSQL connection hands the
same socket or file lock to two processes), and inherit the issuing context with its keys: a
key is never pickled, sent or written anywhere (the signer refuses to be pickled). Documents go
to the workers and signed texts come back in order.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from datetime import datetime
from multiprocessing.pool import Pool
from types import TracebackType
from typing import Any

from contexts.errors import CertvcError

from .db.models import SecuringSuite
from .services import issuance
from .services.issuing_context import IssuerContext

__all__ = ["SigningPool", "available"]

# The context of a worker process, set once by the pool's initializer (inherited through fork).
_CTX: IssuerContext | None = None

_Item = tuple[dict[str, Any], SecuringSuite]
_Result = tuple[bool, str, str]  # (signed, text or message, key id)


def available() -> bool:
    """Worker processes need ``fork`` (the key is inherited, never sent): not on Windows."""
    return "fork" in multiprocessing.get_all_start_methods()


def _start(ctx: IssuerContext) -> None:
    global _CTX
    _CTX = ctx


def _sign(job: tuple[Sequence[_Item], datetime]) -> list[_Result]:
    assert _CTX is not None, "the pool initializer sets the context"
    items, now = job
    out: list[_Result] = []
    for result in issuance.sign_here(_CTX, items, now):
        if isinstance(result, CertvcError):
            out.append((False, result.message, ""))
        else:
            out.append((True, *result))
    return out


class SigningPool:
    """An :data:`issuance.BatchSigner` over ``processes`` forked workers signing for ``ctx``.

    Create it before the first database connection; use it as a context manager.
    """

    def __init__(self, ctx: IssuerContext, processes: int) -> None:
        if processes < 2 or not available():
            raise ValueError("a signing pool needs 2 or more processes and fork")
        self._ctx = ctx
        self._processes = processes
        context = multiprocessing.get_context("fork")
        self._pool: Pool = context.Pool(processes, initializer=_start, initargs=(ctx,))

    def __call__(
        self, ctx: IssuerContext, items: Sequence[_Item], now: datetime
    ) -> list[tuple[str, str] | CertvcError]:
        if ctx is not self._ctx:
            raise ValueError("the pool signs for the context it was forked with")
        size = max(1, -(-len(items) // (self._processes * 2)))
        jobs = [(list(items[start : start + size]), now) for start in range(0, len(items), size)]
        results: list[tuple[str, str] | CertvcError] = []
        for part in self._pool.map(_sign, jobs, chunksize=1):
            for ok, text, key_id in part:
                results.append((text, key_id) if ok else CertvcError(text))
        return results

    def close(self) -> None:
        self._pool.close()
        self._pool.join()

    def __enter__(self) -> SigningPool:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._pool.terminate()
            self._pool.join()
