"""VOICELAB_MAX_KERNELS and VOICELAB_KERNEL_CONNECT_S: defaults, and bad values named."""

from __future__ import annotations

import dataclasses
import tempfile

import pytest

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
