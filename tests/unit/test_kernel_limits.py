"""VOICELAB_MAX_KERNELS and VOICELAB_KERNEL_CONNECT_S: defaults, and bad values named; a
kernel start cancelled half way stays counted under the cap."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

from tests.own_loop import run_in_own_loop
from voicelab.config import Settings, load_settings
from voicelab.dashboards import dashboard_kernels, server
from voicelab.dashboards.dashboard_kernels import default_max_kernels
from voicelab.errors import ConfigError

MB = 1024 * 1024


def limits_of(environ: dict[str, str]) -> dashboard_kernels.KernelLimits:
    settings = load_settings({"AUDIO_ROOT": tempfile.gettempdir(), **environ})
    return dashboard_kernels.kernel_limits(settings, preheated=len(server.PREHEATED))


def test_the_cap_follows_the_memory_and_the_starts_the_cpus() -> None:
    import os

    limits = limits_of({})
    assert limits.max_kernels == default_max_kernels(dashboard_kernels.available_memory(),
                                                     len(server.PREHEATED))
    assert limits.start_slots == dashboard_kernels.start_slots(os.cpu_count()) >= 1
    assert limits.connect_s == dashboard_kernels.KERNEL_CONNECT_S == 30
    # (available - 1 GB headroom) / 200 MB, the CPUs do not enter it
    assert default_max_kernels(24 * 1024 * MB) == 117
    assert default_max_kernels(3 * 1024 * MB) == 10
    assert default_max_kernels(100 * MB) == 4  # never below 4
    assert default_max_kernels(64 * 1024 * MB) == 128  # never above 128
    assert default_max_kernels(None) == 4
    # however small the machine, two pages can open beside the preheated kernels
    assert default_max_kernels(None, preheated=4) == 6
    assert default_max_kernels(100 * MB, preheated=4) == 6
    assert default_max_kernels(24 * 1024 * MB, preheated=4) == 117
    assert dashboard_kernels.start_slots(2) == 2 and dashboard_kernels.start_slots(None) == 1


def test_values_are_read_and_trimmed() -> None:
    limits = limits_of({"VOICELAB_MAX_KERNELS": " 6 ",
                                   "VOICELAB_KERNEL_CONNECT_S": "2.5"})
    assert (limits.max_kernels, limits.connect_s) == (6, 2.5)
    assert limits_of({"VOICELAB_MAX_KERNELS": "64"}).max_kernels == 64
    blank = limits_of({"VOICELAB_MAX_KERNELS": "", "VOICELAB_KERNEL_CONNECT_S": " "})
    assert blank == limits_of({})


@pytest.mark.parametrize("value", ["0", "2", "-4", "four", "4.5", "1e3"])
def test_a_bad_cap_is_named(value: str) -> None:
    least = len(server.PREHEATED) + 1
    expected = "expected a whole number" + (f" of at least {least}" if value.lstrip("-").isdigit()
                                            else "")
    with pytest.raises(ConfigError, match=rf"VOICELAB_MAX_KERNELS=.*{expected}") as caught:
        limits_of({"VOICELAB_MAX_KERNELS": value})
    assert caught.value.variable == "VOICELAB_MAX_KERNELS"
    assert caught.value.value == value


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_connect_deadline_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match=r"VOICELAB_KERNEL_CONNECT_S=.*seconds above 0"):
        limits_of({"VOICELAB_KERNEL_CONNECT_S": value})


def test_serve_stops_on_a_bad_cap_before_anything_starts(settings: Settings) -> None:
    too_few = dataclasses.replace(settings, max_kernels=1)
    with pytest.raises(ConfigError, match="VOICELAB_MAX_KERNELS='1'"):
        server.serve(too_few, port=1, worker=False, demo=False)


# --- a start cancelled half way (tests/browser/test_kernel_cap.py's burst, made exact) ---------


class HeldStart(ServerKernelManager):
    """Jupyter's kernel manager for one kernel, whose start stops, its process up, at the point
    jupyter_client has not yet entered the kernel in its books, until the test lets it go on
    (`HELD`). jupyter_client awaits `start_kernel` before it adds the kernel."""

    async def start_kernel(self, **kwargs: Any) -> None:
        HELD["managers"].append(self)
        await super().start_kernel(**kwargs)
        HELD["launched"].set()
        await HELD["release"].wait()


HELD: dict[str, Any] = {}


@pytest.mark.integration
def test_a_start_cancelled_while_its_kernel_comes_up_keeps_it_counted(tmp_path: Path) -> None:
    """A page's kernel start is cancelled just after its process is up, before jupyter_client
    books it: the cap must still count that process (it used to drop it, and admit a page past
    the cap), and the kernel goes once it is up, since nobody wants it."""

    async def scenario() -> dict[str, Any]:
        HELD.update(launched=asyncio.Event(), release=asyncio.Event(), managers=[])
        manager = dashboard_kernels.kernel_manager_class()(
            kernel_manager_class=f"{__name__}.HeldStart", root_dir=str(tmp_path), max_kernels=1)
        seen: dict[str, Any] = {}
        try:
            start = asyncio.ensure_future(manager.start_kernel(kernel_name="python3"))
            await HELD["launched"].wait()  # its process runs; jupyter_client has not booked it
            seen["starting"] = manager.kernel_count()
            start.cancel()  # the request that started it goes away, right here
            with contextlib.suppress(asyncio.CancelledError):
                await start
            (km,) = HELD["managers"]
            seen["alive"] = await km.is_alive()
            seen["cancelled"] = manager.kernel_count()
            seen["admitted"] = manager.admit()
            HELD["release"].set()  # let its start finish: it is shut down, nobody wants it
            deadline = time.monotonic() + (60 if seen["cancelled"] else 0)
            while (manager.kernel_count() or await km.is_alive()) and \
                    time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            seen["after"] = manager.kernel_count()
            seen["alive_after"] = await km.is_alive()
        finally:
            HELD["release"].set()
            for km in HELD["managers"]:  # the process, booked or not
                with contextlib.suppress(Exception):
                    await km.shutdown_kernel(now=True)
            with contextlib.suppress(Exception):  # a start jupyter_client lost is no kernel
                await manager.shutdown_all(now=True)
        return seen

    seen = run_in_own_loop(scenario())
    assert seen["starting"] == 1 and seen["alive"]
    assert seen["cancelled"] == 1, "a live kernel process was not counted"
    assert seen["admitted"] is False, "a page was admitted past the cap"
    assert seen["after"] == 0 and not seen["alive_after"], seen


# --- admission: starts wait for a slot, in order; the cap and the queue refuse ----------------


def admission_manager(tmp_path: Path, **limits: Any) -> Any:
    return dashboard_kernels.kernel_manager_class()(root_dir=str(tmp_path), **limits)


def test_a_request_past_the_start_slots_waits_in_order_then_opens(tmp_path: Path) -> None:
    """Admitted requests that have not started their kernel hold the start slots; the next
    ones wait, in the order they came, and each opens as a slot frees."""

    async def scenario() -> list[str]:
        manager = admission_manager(tmp_path, max_kernels=10, start_slots=2)
        order: list[str] = []

        async def visit(name: str) -> None:
            order.append(f"{name}:{await manager.admit_page(lambda: False)}")

        assert [await manager.admit_page(lambda: False) for _ in range(2)] == ["admitted"] * 2
        waiting = [asyncio.ensure_future(visit(n)) for n in ("c", "d", "e")]
        await asyncio.sleep(0.3)
        assert order == [] and manager.books()["waiting"] == 3
        for opened in range(1, 4):
            manager.release_slot()  # a start ended: the first in the queue goes
            while len(order) < opened:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            assert len(order) == opened  # one slot, one request: the others still wait
        await asyncio.gather(*waiting)
        assert manager.books()["waiting"] == 0
        return order

    assert run_in_own_loop(scenario()) == ["c:admitted", "d:admitted", "e:admitted"]


def test_past_the_cap_the_queue_or_the_wait_a_request_is_refused(tmp_path: Path) -> None:
    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        full = admission_manager(tmp_path, max_kernels=1, start_slots=4)
        seen["first"] = await full.admit_page(lambda: False)
        seen["past the cap"] = await full.admit_page(lambda: False)  # at once, nothing waits
        slow = admission_manager(tmp_path, max_kernels=10, start_slots=1, max_waiting=1,
                                 admit_wait_s=2.0)  # far past the 0.05 s below
        await slow.admit_page(lambda: False)  # holds the one start slot
        waiter = asyncio.ensure_future(slow.admit_page(lambda: False))
        await asyncio.sleep(0.05)
        seen["queue full"] = await slow.admit_page(lambda: False)
        seen["waited too long"] = await waiter
        seen["books"] = slow.books()
        return seen

    seen = run_in_own_loop(scenario())
    assert seen["first"] == "admitted" and seen["past the cap"] == "full"
    assert seen["queue full"] == "queue" and seen["waited too long"] == "timeout"
    assert seen["books"]["waiting"] == 0 and seen["books"]["start_slots"] == 1


def test_a_request_whose_client_left_leaves_the_queue_and_reserves_nothing(
        tmp_path: Path) -> None:
    async def scenario() -> tuple[str, int, int, str]:
        manager = admission_manager(tmp_path, max_kernels=10, start_slots=1)
        await manager.admit_page(lambda: False)  # holds the one start slot
        left = asyncio.Event()
        gone = asyncio.ensure_future(manager.admit_page(left.is_set))
        behind = asyncio.ensure_future(manager.admit_page(lambda: False))
        await asyncio.sleep(0.1)
        left.set()  # the first waiter's client closes its connection
        outcome = await gone
        waiting_after = manager.books()["waiting"]
        reserved = manager._reserved
        manager.release_slot()
        return outcome, waiting_after, reserved, await behind

    outcome, waiting_after, reserved, behind = run_in_own_loop(scenario())
    assert outcome == "gone" and waiting_after == 1 and reserved == 1 and behind == "admitted"
