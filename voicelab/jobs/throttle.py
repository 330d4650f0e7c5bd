"""How many requests run at once, and how a failed request is retried.

`AdaptiveLimiter` bounds in-flight requests and shrinks the bound when the service says it has
too many concurrent requests, then grows back after a run of successes (additive increase,
multiplicative-style decrease by one), so throughput stays near the account's real limit.
`retry_delay` is the backoff policy: exponential with full jitter, Retry-After honoured.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Slots(Protocol):
    """Anything that hands out request slots; a shared budget (e.g. in Redis) fits too."""

    def slot(self) -> AbstractContextManager[None]: ...

    def on_concurrency_limit(self) -> None: ...

    def on_success(self) -> None: ...


class AdaptiveLimiter:
    """A resizable semaphore: at most `limit` holders; the limit adapts to the service."""

    def __init__(self, maximum: int, *, grow_after: int = 8) -> None:
        self.maximum = max(1, maximum)
        self.limit = self.maximum
        self.grow_after = grow_after
        self.in_flight = 0
        self.peak = 0
        self._successes = 0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: self.in_flight < self.limit)
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify()

    def on_concurrency_limit(self) -> None:
        """The service refused a request for concurrency: run one fewer at once."""
        with self._cond:
            self._successes = 0
            self.limit = max(1, min(self.limit, self.in_flight) - 1) if self.in_flight > 1 else 1

    def on_success(self) -> None:
        with self._cond:
            self._successes += 1
            if self._successes >= self.grow_after and self.limit < self.maximum:
                self._successes = 0
                self.limit += 1
                self._cond.notify()


def retry_delay(attempt: int, retry_after: float | None, *, base: float = 0.5,
                cap: float = 30.0, concurrency: bool = False) -> float:
    """Seconds to wait before retry number `attempt` (1-based).

    Retry-After wins when given. A concurrency refusal frees up as soon as any request
    finishes, so it waits briefly; other transient failures back off exponentially.
    """
    if retry_after is not None:
        return min(cap, max(0.0, retry_after)) + random.uniform(0, 0.05)
    if concurrency:
        return random.uniform(0.02, min(1.0, 0.05 * 2 ** min(attempt, 5)))
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))
