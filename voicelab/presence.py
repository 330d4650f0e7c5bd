"""Who has which batch open, and on which line: in memory, in the one server that serves them.

A board says "I am here, on this line" every few seconds (and when its line changes); a view not
heard from for TTL_S is gone (a closed tab drops out within seconds, an unload says so at once).
Nothing is written to disk: presence changes with every key press and matters only now. The
book is bounded (MAX_VIEWS): past it, the view heard from longest ago makes room.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

TTL_S = 8.0
MAX_VIEWS = 2000


@dataclass(frozen=True)
class Here:
    """One open view of a batch: whose, on which line (None before they pick one), heard when."""

    view: str
    person: str
    line: str | None
    at: float


class Presence:
    """The book of open views, safe to use from the API's threads."""

    def __init__(self, ttl_s: float = TTL_S, max_views: int = MAX_VIEWS) -> None:
        self.ttl_s, self.max_views = ttl_s, max_views
        self._views: dict[tuple[str, str], Here] = {}
        self._lock = threading.Lock()

    def beat(self, batch_id: str, view: str, person: str, line: str | None,
             now: float | None = None) -> None:
        """`person`'s view `view` of the batch is open, on `line`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._expire(now)
            key = (batch_id, view)
            if key not in self._views and len(self._views) >= self.max_views:
                del self._views[min(self._views, key=lambda k: self._views[k].at)]
            self._views[key] = Here(view, person, line, now)

    def leave(self, batch_id: str, view: str) -> None:
        """The view is closed."""
        with self._lock:
            self._views.pop((batch_id, view), None)

    def here(self, batch_id: str, now: float | None = None) -> list[Here]:
        """The batch's open views, by person and view."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._expire(now)
            return sorted((h for (b, _), h in self._views.items() if b == batch_id),
                          key=lambda h: (h.person, h.view))

    def counts(self, now: float | None = None) -> dict[str, int]:
        """How many people have each batch open (a person's several tabs count once)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._expire(now)
            people: dict[str, set[str]] = {}
            for (batch_id, _), here in self._views.items():
                people.setdefault(batch_id, set()).add(here.person)
        return {batch_id: len(names) for batch_id, names in sorted(people.items())}

    def _expire(self, now: float) -> None:
        for key in [k for k, h in self._views.items() if now - h.at > self.ttl_s]:
            del self._views[key]
