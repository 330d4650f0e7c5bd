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


def test_defaults_follow_the_memory_and_the_cpus_available() -> None:
    import os

    limits = limits_of({})
    assert limits.max_kernels == default_max_kernels(dashboard_kernels.available_memory(),
                                                     os.cpu_count(), len(server.PREHEATED))
    assert limits.connect_s == dashboard_kernels.KERNEL_CONNECT_S == 30
    assert default_max_kernels(2 * 1024 * MB, 16) == 8  # 2 GB / 250 MB
    assert default_max_kernels(24 * 1024 * MB, 2) == 8  # 4 per CPU on a small machine
    assert default_max_kernels(100 * MB, 8) == 4  # never below 4
    assert default_max_kernels(64 * 1024 * MB, 64) == 32  # never above 32
    assert default_max_kernels(None, 8) == 4
    assert default_max_kernels(24 * 1024 * MB, None) == 4
    # however small the machine, two pages can open beside the preheated kernels
    assert default_max_kernels(None, 1, preheated=4) == 6
    assert default_max_kernels(100 * MB, 1, preheated=4) == 6
    assert default_max_kernels(24 * 1024 * MB, 2, preheated=4) == 8


def test_values_are_read_and_trimmed() -> None:
    limits = limits_of({"VOICELAB_MAX_KERNELS": " 6 ",
                                   "VOICELAB_KERNEL_CONNECT_S": "2.5"})
    assert limits == dashboard_kernels.KernelLimits(max_kernels=6, connect_s=2.5)
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
