"""Dashboard kernels as a bounded resource, for `voicelab serve`.

Each dashboard visit costs a kernel, a Python process (~80 MB for a rendered board):
- at most VOICELAB_MAX_KERNELS live at once, the preheated ones included: by default as many as
  the memory available at start holds (an idle kernel costs memory, no CPU). Past that, a page
  request gets a plain 503 page and starts nothing. Every admitted page request costs exactly
  one kernel start: a cold start, or the pool's refill after it hands its warm kernel out;
- what the CPUs limit is kernels *starting* at once (START_SLOTS_PER_CPU): a page request that
  would start one more waits, in order, in a bounded queue (MAX_WAITING) for up to
  ADMIT_WAIT_S, and its browser simply waits for the page; only a full queue or a wait past
  that gets the 503 page. A request whose client leaves while it waits leaves the queue and
  starts nothing;
- a client that leaves before its page is complete gets no kernel, or has it shut down as
  soon as it is handed out (a warm one) or the page is rendered (a cold one): a reload, a
  link-preview bot or a retrying proxy costs a kernel for seconds, not for the idle cull;
- a page's kernel whose websocket (`/api/kernels/<id>/channels`) has not opened within
  VOICELAB_KERNEL_CONNECT_S of Voila sending the page (a client that reads pages but runs no
  JavaScript) is shut down;
- `/healthz` answers from the books, touching no kernel and asking for no sign-in.

Built on Voila 0.5's pooling kernel manager and render handler: what of theirs is not public
(the pool list, how the handler takes its kernel) is reached through
`voicelab.dashboards.voila_compat`, which tests/unit/test_voila_compat.py checks; re-run
tests/browser/test_kernel_cap.py after upgrading Voila.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab.config import DEFAULT_KERNEL_CONNECT_S, Settings
from voicelab.dashboards import voila_compat
from voicelab.errors import ConfigError

# Kernels (docs/design.md, decision 14). The default cap leaves each kernel KERNEL_BUDGET_BYTES of
# the memory available at start, less HEADROOM_BYTES for the server, its workers and their job
# kernels, within MAX_KERNELS_DEFAULT. A board's kernel measures ~80 MB once rendered
# (benchmarks/bench_team.py); the budget leaves room for larger batches.
KERNEL_BUDGET_BYTES = 200 * 1024 * 1024
HEADROOM_BYTES = 1024 * 1024 * 1024
MAX_KERNELS_DEFAULT = (4, 128)
MIN_PAGES = 2  # dashboard pages the default cap always leaves room for, beside the preheated
START_SLOTS_PER_CPU = 1  # kernel starts at once: each one is a second or two of a whole CPU
MAX_WAITING = 64  # page requests waiting for a start slot; more are refused at once
ADMIT_WAIT_S = 30.0  # the longest a page request waits for a start slot
WAIT_POLL_S = 0.05
KERNEL_CONNECT_S = DEFAULT_KERNEL_CONNECT_S  # a page's kernel waits this long for its websocket
RETRY_AFTER_S = 60
REFUSALS_LOG_S = 10
BUSY_MESSAGE = "too many open dashboards: close a tab or try again in a minute"
BUSY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>VoiceLab: too many open dashboards</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; color: #1f2328; max-width: 36rem;
       margin: 12vh auto; padding: 0 1.5rem; }}
h1 {{ font-size: 1.35rem; margin: 0 0 .75rem; }}
p {{ margin: 0 0 .75rem; }}
.note {{ color: #59636e; font-size: .9rem; }}
</style></head>
<body><h1>VoiceLab is busy</h1>
<p>{message}.</p>
<p class="note">Every open dashboard runs its own Python process, and this server runs at most
{max_kernels} at a time. <a href="">Try again</a></p>
</body></html>
"""


def busy_page(max_kernels: int) -> str:
    """The 503 page: plain HTML with its style inline, nothing fetched from anywhere."""
    return BUSY_PAGE.format(message=BUSY_MESSAGE[0].upper() + BUSY_MESSAGE[1:],
                            max_kernels=max_kernels)


@dataclass(frozen=True)
class KernelLimits:
    """How many dashboard kernels may live and start at once, and how long a page has to
    connect to its kernel."""

    max_kernels: int
    connect_s: float = KERNEL_CONNECT_S
    start_slots: int = 1


def available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable), or None where it cannot be read."""
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo", encoding="ascii") as info:
        for line in info:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def default_max_kernels(available: int | None, preheated: int = 0) -> int:
    """The cap when VOICELAB_MAX_KERNELS is unset: the memory available, less HEADROOM_BYTES,
    over KERNEL_BUDGET_BYTES, within MAX_KERNELS_DEFAULT, and never so low that fewer than
    MIN_PAGES pages could open beside the `preheated` kernels."""
    low, high = MAX_KERNELS_DEFAULT
    low = max(low, preheated + MIN_PAGES)
    if available is None:
        return low
    return max(low, min(high, (available - HEADROOM_BYTES) // KERNEL_BUDGET_BYTES))


def start_slots(cpus: int | None) -> int:
    """Kernels that may start at once: START_SLOTS_PER_CPU per CPU."""
    return max(1, START_SLOTS_PER_CPU * (cpus or 1))


def kernel_limits(settings: Settings, preheated: int) -> KernelLimits:
    """The kernel cap, start slots and connect deadline for serve: VOICELAB_MAX_KERNELS and
    VOICELAB_KERNEL_STARTS (or the machine's defaults) and VOICELAB_KERNEL_CONNECT_S, as read
    into `settings`.

    Raises:
        ConfigError: VOICELAB_MAX_KERNELS leaves no kernel for a page beside the preheated ones.
    """
    least = preheated + 1  # the preheated kernels count, and a page needs one more
    max_kernels = settings.max_kernels
    if max_kernels is None:
        max_kernels = default_max_kernels(available_memory(), preheated)
    elif max_kernels < least:
        raise ConfigError("VOICELAB_MAX_KERNELS", str(max_kernels),
                          f"expected a whole number of at least {least} (the "
                          f"{preheated} preheated kernels count toward it)")
    return KernelLimits(max_kernels, settings.kernel_connect_s,
                        settings.kernel_starts or start_slots(os.cpu_count()))


class PageTicket:
    """One admitted page request's kernel slot, held until its kernel holds it.

    Admission reserves the slot; it passes to the kernel the request starts (or to the pool's
    refill when the request takes a warm kernel) in the same step, so the count never dips or
    doubles. While the request is in progress its kernel is "attached" and never reaped.
    The kernel is `person`'s: only they may reach it (`manager.owners`, dashboards.sign_in).
    """

    def __init__(self, manager: Any, person: str) -> None:
        self.manager, self.person, self.reserved = manager, person, True
        self.kernel_id: str | None = None
        self.abandoned = False

    def release(self) -> None:
        if self.reserved:
            self.reserved = False
            self.manager.release_slot()

    def attach(self, kernel_id: str) -> None:
        self.kernel_id = kernel_id
        self.manager.attached.add(kernel_id)
        self.manager.owners[kernel_id] = self.person

    def abandon(self) -> None:
        """The client closed the connection: no kernel is started or handed out for it now.

        A kernel it already has stays until Voila has finished rendering into it (shutting it
        down mid-render only fills the log with DeadKernelError tracebacks), then goes.
        """
        self.abandoned = True

    def close(self) -> None:
        """The request is over: its kernel now has the connect deadline to be connected to,
        unless its client has left (then nothing will ever connect: it goes now)."""
        self.release()
        if self.kernel_id:
            self.manager.attached.discard(self.kernel_id)
            if self.abandoned:
                self.manager.shut_down_soon(self.kernel_id, "its client left")


class PageKernels:
    """The kernel manager as Voila's render handler sees it for one admitted request.

    Voila's handler takes its kernel in one of two calls, `get_rendered_notebook` (a warm
    pool kernel) or `start_kernel` (a cold one); both pass the request's ticket on.
    """

    def __init__(self, manager: Any, ticket: PageTicket) -> None:
        self._manager, self._ticket = manager, ticket

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)

    def _check_client(self) -> None:
        import tornado.web

        if self._ticket.abandoned:  # 499, as nginx logs it: nobody is there to read a reply
            raise tornado.web.HTTPError(499, reason="Client Closed Request")

    async def get_rendered_notebook(self, *args: Any, **kwargs: Any) -> Any:
        self._check_client()
        try:
            rendered = await self._manager.get_rendered_notebook(*args, **kwargs)
        finally:
            self._ticket.release()  # the pool's refill holds the request's slot now
        render_task, kernel_id = voila_compat.rendered_notebook_parts(rendered)
        if self._ticket.abandoned:  # it left while the kernel was warming up: nobody wants it
            render_task.cancel()
            self._manager.shut_down_soon(kernel_id, "its client left before it was ready")
            self._check_client()
        self._ticket.attach(kernel_id)
        return rendered

    async def start_kernel(self, **kwargs: Any) -> str:
        self._check_client()
        kernel_id = kwargs.pop("kernel_id", None) or self._manager.new_kernel_id()
        self._ticket.attach(kernel_id)
        self._ticket.release()  # the starting kernel counts from here on, in this same step
        kernel_id = await self._manager.start_kernel(kernel_id=kernel_id, **kwargs)
        return str(kernel_id)


@functools.cache
def kernel_manager_class() -> type:
    """Jupyter's kernel manager with the cap and the connect deadline (built on first use).

    Voila builds its pooling manager on top of this class (VoilaConfiguration's
    multi_kernel_manager_class), so pool kernels start through `start_kernel` here as well.
    The count is exact: kernels running or starting, plus pool refills queued but not started
    yet, plus admitted requests that have not taken their kernel yet.
    """
    import asyncio

    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from tornado.ioloop import PeriodicCallback
    from traitlets import Float, Integer

    class BoundedKernelManager(AsyncMappingKernelManager):
        max_kernels = Integer(MAX_KERNELS_DEFAULT[0], config=True,
                              help="Kernels running at most, preheated ones included.")
        connect_timeout = Float(KERNEL_CONNECT_S, config=True,
                                help="Seconds a page has to open its kernel's websocket.")
        start_slots = Integer(1, config=True, help="Kernels starting at once, at most.")
        max_waiting = Integer(MAX_WAITING, config=True,
                              help="Page requests waiting for a start slot, at most.")
        admit_wait_s = Float(ADMIT_WAIT_S, config=True,
                             help="Seconds a page request waits for a start slot, at most.")

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._reserved = 0
            self._starting: set[str] = set()
            self._unwanted: set[str] = set()  # starting kernels whose caller was cancelled
            self._claims: dict[asyncio.Task[Any], str] = {}  # task -> the kernel it started
            self._pool_tasks: set[asyncio.Task[Any]] = set()  # pool fills not finished yet
            self.attached: set[str] = set()  # kernels of page requests in progress
            self.owners: dict[str, str] = {}  # page kernel -> the person whose page it is
            self._connected: set[str] = set()
            self._unwatched_since: dict[str, float] = {}
            self._reaping: dict[str, asyncio.Future[None]] = {}  # kernel -> its shutdown
            self._reaper: Any = None
            self._refused, self._refused_logged_at = 0, -math.inf
            self._waiting: list[object] = []  # page requests waiting for a start slot, in order

        # --- the books --------------------------------------------------------------------

        def _running(self) -> set[str]:
            """Kernels jupyter_client has started (and not yet shut down)."""
            return set(self.list_kernel_ids())

        def _refresh_pool_tasks(self) -> None:
            for task in voila_compat.pool_tasks(self):
                if not task.done() and task not in self._pool_tasks:
                    self._pool_tasks.add(task)
                    task.add_done_callback(self._pool_tasks.discard)

        def _queued(self) -> int:
            """Pool refills queued to start a kernel (not started yet)."""
            self._refresh_pool_tasks()
            return sum(1 for task in self._pool_tasks
                       if not task.done() and task not in self._claims)

        def kernel_count(self) -> int:
            """Kernels running or starting, and pool refills queued to start one."""
            return len(self._starting | self._running()) + self._queued()

        def starting_count(self) -> int:
            """Kernel starts in flight: kernels starting, pool kernels being made ready (started
            and running their notebook, or queued to), and admitted requests that will start
            one (a cold start, or the refill of the warm kernel they take)."""
            self._refresh_pool_tasks()
            busy = {task for task in self._pool_tasks if not task.done()}
            pooled = {self._claims[task] for task in busy if task in self._claims}
            return len(self._starting - pooled) + len(busy) + self._reserved

        def books(self) -> dict[str, int]:
            """What `/healthz` reports: kernels alive, starting and in all (the cap counts
            these), page requests waiting for a start slot, and the limits."""
            total = self.kernel_count()
            starting = min(total, len(self._starting) + self._queued())
            return {"kernels": total, "alive": total - starting, "starting": starting,
                    "waiting": len(self._waiting), "max_kernels": self.max_kernels,
                    "start_slots": self.start_slots}

        def admit(self) -> bool:
            """Reserve a kernel for a page request, unless that would pass the cap."""
            if self.kernel_count() + self._reserved >= self.max_kernels:
                return False
            self._reserved += 1
            return True

        async def admit_page(self, gone: Callable[[], bool]) -> str:
            """Admit a page request once a start slot is free, in the order they came.

            Returns "admitted" (a kernel is reserved for it: see PageTicket), "full" (the cap
            is reached: nothing will free a kernel soon), "queue" (MAX_WAITING wait already),
            "timeout" (no start slot within `admit_wait_s`) or "gone" (its client left).
            """
            if self.kernel_count() + self._reserved >= self.max_kernels:
                return "full"
            if len(self._waiting) >= self.max_waiting:
                return "queue"
            me = object()
            self._waiting.append(me)
            deadline = time.monotonic() + self.admit_wait_s
            try:
                while True:
                    if gone():
                        return "gone"
                    if self._waiting[0] is me and self.starting_count() < self.start_slots:
                        return "admitted" if self.admit() else "full"
                    if time.monotonic() >= deadline:
                        return "timeout"
                    await asyncio.sleep(WAIT_POLL_S)
            finally:
                self._waiting.remove(me)

        def release_slot(self) -> None:
            self._reserved = max(0, self._reserved - 1)

        def note_refusal(self, path: str, why: str) -> None:
            """Log refusals at most every REFUSALS_LOG_S (tornado logs each 503 anyway)."""
            self._refused += 1
            now = time.monotonic()
            if now - self._refused_logged_at >= REFUSALS_LOG_S:
                self.log.warning("Refused %d page request(s), the last for %s (%s): %d kernels "
                                 "of at most %d (VOICELAB_MAX_KERNELS), %d waiting to start",
                                 self._refused, path, self._refusal_reason(why),
                                 self.kernel_count(), self.max_kernels, len(self._waiting))
                self._refused, self._refused_logged_at = 0, now

        def _refusal_reason(self, why: str) -> str:
            return {"full": "the cap is reached",
                    "queue": f"{self.max_waiting} requests wait to start already",
                    "timeout": f"no start slot within {self.admit_wait_s:g} s"}.get(why, why)

        async def start_kernel(self, *, kernel_id: str | None = None, **kwargs: Any) -> str:  # type: ignore[override]
            """Start a kernel, counted as starting until jupyter_client has it or it failed.

            The start runs in a task of its own, shielded from its caller: a caller cancelled
            half way (a page request that went away) must not cancel jupyter_client's start,
            which would leave the kernel's process running in no book (uncounted by the cap,
            never shut down). A kernel whose caller was cancelled stays counted until its start
            ends, and is then shut down: nobody is left to use it.
            """
            kernel_id = kernel_id or self.new_kernel_id()
            task = asyncio.current_task()
            if task is not None and task not in self._claims:
                self._claims[task] = kernel_id
                task.add_done_callback(lambda done: self._claims.pop(done, None))
            self._starting.add(kernel_id)
            start = asyncio.ensure_future(super().start_kernel(kernel_id=kernel_id, **kwargs))
            start.add_done_callback(functools.partial(self._start_ended, kernel_id))
            try:
                started: str = await asyncio.shield(start)
            except asyncio.CancelledError:
                if not start.done():
                    self._unwanted.add(kernel_id)  # see _start_ended
                elif not start.cancelled() and start.exception() is None:
                    self.shut_down_soon(kernel_id, "its start was cancelled")
                raise
            return started

        def _start_ended(self, kernel_id: str, start: asyncio.Future[str]) -> None:
            self._starting.discard(kernel_id)
            unwanted = kernel_id in self._unwanted
            self._unwanted.discard(kernel_id)
            if start.cancelled():
                return
            if start.exception() is not None:  # its caller has it, unless it was cancelled
                if unwanted:
                    self.log.error("Kernel %s failed to start", kernel_id,
                                   exc_info=start.exception())
                return
            if unwanted:
                self.shut_down_soon(kernel_id, "its start was cancelled")

        def notify_connect(self, kernel_id: str) -> None:
            super().notify_connect(kernel_id)
            self._connected.add(kernel_id)

        # --- the connect deadline ---------------------------------------------------------

        def initialize_culler(self) -> None:
            super().initialize_culler()
            if self._reaper is None:
                interval_s = max(0.2, min(1.0, self.connect_timeout / 10))
                self._reaper = PeriodicCallback(self._reap, interval_s * 1000)
                self._reaper.start()

        def _pooled(self) -> set[str]:
            """Kernels waiting in a pool, or being made ready for one."""
            ids = {kernel_id for task, kernel_id in self._claims.items()
                   if task in self._pool_tasks and not task.done()}
            for task in voila_compat.pool_tasks(self):
                kernel_id = voila_compat.pool_kernel_id(task)
                if kernel_id is not None:
                    ids.add(kernel_id)
            return ids

        def _reap(self) -> None:
            """Shut down page kernels whose page has not connected within the deadline."""
            now = time.monotonic()
            running = self._running()
            alive = self._starting | running
            self._refresh_pool_tasks()
            kept = self._pooled() | self.attached | self._connected | set(self._reaping)
            unwatched = running - self._starting - kept
            for kernel_id in unwatched:
                since = self._unwatched_since.setdefault(kernel_id, now)
                if now - since >= self.connect_timeout:
                    self.shut_down_soon(kernel_id, f"no page connected to it within "
                                                   f"{self.connect_timeout:g} s")
            for kernel_id in set(self._unwatched_since) - unwatched:
                del self._unwatched_since[kernel_id]
            self._connected &= alive
            for kernel_id in set(self.owners) - alive:
                del self.owners[kernel_id]
            voila_compat.forget_request_info(alive)

        def shut_down_soon(self, kernel_id: str, why: str) -> None:
            """Shut a page's kernel down that no page uses (unless one has connected after all)."""
            if kernel_id not in self._reaping and kernel_id not in self._connected:
                self._reaping[kernel_id] = asyncio.ensure_future(self._shut_down(kernel_id, why))

        async def _shut_down(self, kernel_id: str, why: str) -> None:
            self.log.warning("Shutting down kernel %s: %s", kernel_id, why)
            try:
                if kernel_id in self:  # now: nothing in it is anyone's, so no graceful exit
                    await self.shutdown_kernel(kernel_id, now=True)
            except Exception:
                self.log.exception("Could not shut down kernel %s", kernel_id)
            finally:
                self._reaping.pop(kernel_id, None)

        async def shutdown_all(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
            if self._reaper is not None:
                self._reaper.stop()
            await super().shutdown_all(*args, **kwargs)

    return BoundedKernelManager


def starts_a_kernel(path: str | None) -> bool:
    """Whether a Voila request for `path` runs a notebook and so must be admitted under the cap."""
    return bool(path) and Path(str(path)).suffix.lower() == ".ipynb"


