"""A per-client token bucket for the public endpoints (pure: the clock is injected).

Each client (by address) holds up to ``burst`` tokens, refilled at ``rate`` per second; a request
takes one. The table of clients is bounded: the least recently seen are forgotten first, so a
flood of addresses costs memory ``max_clients`` at most.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float  # seconds until one token is back (0 when allowed)


class TokenBucketLimiter:
    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> Decision:
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self._burst, now))
            tokens = min(self._burst, tokens + (now - last) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        return Decision(allowed, 0.0 if allowed else (1.0 - tokens) / self._rate)
