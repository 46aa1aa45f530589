"""Group commit: writes that arrive while a transaction runs go together in the next one.

An HTTP issuance spends most of its time on per-transaction work (round trips, the audit head's
lock, the commit), not on its own row; a CSV import certifies 1,000 rows a second because it
does that work once per chunk. Under a threaded server (gunicorn ``gthread``) the requests a
worker holds at once can share it too: the first request to find no transaction running leads
(it runs the batch in its own thread), the others wait; when the leader is done the next waiter
leads with everything queued meanwhile. Nothing waits for a timer: a request alone runs alone,
at once, and under load batches form by themselves (the classic leader/follower group commit).

A batch is not a request's business: each item gets its own result or its own error, and the
``run`` function decides what a batch shares (one transaction, with a retry of each item alone
when the shared one failed before committing).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - the item type beside R, as in typing's own examples
R = TypeVar("R")


@dataclass(eq=False)
class _Slot(Generic[I, R]):
    item: I
    done: bool = False
    value: R | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class GroupCommit(Generic[I, R]):
    """Runs ``run`` on batches of the items :meth:`submit` receives, at most ``limit`` a batch.

    ``run`` must return one outcome per item and not raise: an exception it raises is given to
    every item of the batch.
    """

    run: Callable[[Sequence[I]], Sequence[R | BaseException]]
    limit: int = 32
    #: Told each batch's size as it starts (metrics); what it raises goes to the batch's items.
    observe: Callable[[int], None] | None = None
    _queue: list[_Slot[I, R]] = field(default_factory=list)
    _busy: bool = False
    _changed: threading.Condition = field(default_factory=threading.Condition)

    @property
    def waiting(self) -> int:
        """Items submitted and not yet taken by a batch."""
        with self._changed:
            return len(self._queue)

    def submit(self, item: I) -> R:
        """``item``'s result, once the batch that took it has run; its error raised here."""
        slot: _Slot[I, R] = _Slot(item)
        with self._changed:
            self._queue.append(slot)
        while True:
            with self._changed:
                while self._busy and not slot.done:
                    self._changed.wait()
                if slot.done:
                    break
                self._busy = True
                batch = self._queue[: self.limit]
                del self._queue[: self.limit]
            try:
                self._run(batch)
            finally:
                with self._changed:
                    self._busy = False
                    self._changed.notify_all()
        if slot.error is not None:
            raise slot.error
        return slot.value  # type: ignore[return-value]

    def _run(self, batch: list[_Slot[I, R]]) -> None:
        try:
            if self.observe is not None:
                self.observe(len(batch))
            outcomes = list(self.run([slot.item for slot in batch]))
            if len(outcomes) != len(batch):
                raise AssertionError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except BaseException as error:  # noqa: BLE001 - every waiter raises it: none left hanging
            outcomes = [error] * len(batch)
        for slot, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                slot.error = outcome
            else:
                slot.value = outcome
            slot.done = True
