"""Slowing down password guessing: past a few free failures, a name or an address waits longer.

After `free` failures the wait doubles with each further one (1 s, 2 s, 4 s ... at most
MAX_WAIT_S); a successful sign-in clears it. Names and addresses get separate books, so an
office behind one address survives a colleague's typos (see voicelab.dashboards.sign_in). The books
hold at most MAX_KEYS keys: the oldest go first, so a flood of made-up names cannot grow memory.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

FIRST_WAIT_S = 1.0
MAX_WAIT_S = 60.0
MAX_KEYS = 10_000


class SignInBackoff:
    """Per-key (a name, an address) failure counts and the time until the next try."""

    def __init__(self, free: int = 0, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = MAX_KEYS) -> None:
        self._free, self._clock, self._max_keys = free, clock, max_keys
        self._books: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self._guard = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        """Seconds until any of `keys` may try again (0 when all may now)."""
        now = self._clock()
        with self._guard:
            waits = [self._books[k][1] - now for k in keys if k in self._books]
        return max([0.0, *waits])

    def failed(self, *keys: str) -> None:
        """Count a failed sign-in against every key."""
        now = self._clock()
        with self._guard:
            for key in keys:
                count = self._books.pop(key, (0, now))[0] + 1
                over = count - self._free
                wait = min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** (over - 1)) if over > 0 else 0.0
                self._books[key] = (count, now + wait)
            while len(self._books) > self._max_keys:
                self._books.popitem(last=False)

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of every key."""
        with self._guard:
            for key in keys:
                self._books.pop(key, None)

    def __len__(self) -> int:
        return len(self._books)
