"""The in-memory IssuanceStore keeps the store contract (single use, expiry, digests)."""

from __future__ import annotations

import threading

from wallet_export.oid4vci.store import InMemoryStore

from .conftest import NOW
from .store_contract import _offer, check_issuance_store


def test_memory_store_keeps_the_contract() -> None:
    check_issuance_store(InMemoryStore)


def test_redeem_is_atomic_under_concurrency() -> None:
    """Two wallets racing with one pre-authorized code: exactly one wins."""
    store = InMemoryStore()
    store.add_offer(_offer(1))
    barrier = threading.Barrier(8)
    wins: list[bool] = []

    def race() -> None:
        barrier.wait()
        wins.append(store.redeem("code-1", NOW) is not None)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
