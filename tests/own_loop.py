"""Run a coroutine on an event loop of its own, in a thread of its own.

The browser tests' session-wide Playwright (its sync API) keeps an event loop marked as running
on the main thread for the rest of the session, so a later `asyncio.run` there raises "cannot
be called from a running event loop". A thread has no running loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on a fresh thread; its result or its exception, here."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="own-loop") as pool:
        return pool.submit(asyncio.run, main).result()
