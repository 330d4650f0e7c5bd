"""VOICELAB_MAX_KERNELS and VOICELAB_KERNEL_CONNECT_S: defaults, and bad values named."""

from __future__ import annotations

import pytest

from voicelab import server
from voicelab.errors import ConfigError

MB = 1024 * 1024


def test_defaults_follow_the_memory_and_the_cpus_available() -> None:
    import os

    limits = server.kernel_limits({})
    assert limits.max_kernels == server.default_max_kernels(server.available_memory(),
                                                            os.cpu_count())
    assert limits.connect_s == server.KERNEL_CONNECT_S == 30
    assert server.default_max_kernels(2 * 1024 * MB, 16) == 8  # 2 GB / 250 MB
    assert server.default_max_kernels(24 * 1024 * MB, 2) == 8  # 4 per CPU on a small machine
    assert server.default_max_kernels(100 * MB, 8) == 4  # never below 4
    assert server.default_max_kernels(64 * 1024 * MB, 64) == 32  # never above 32
    assert server.default_max_kernels(None, 8) == 4
    assert server.default_max_kernels(24 * 1024 * MB, None) == 4


def test_values_are_read_and_trimmed() -> None:
    limits = server.kernel_limits({"VOICELAB_MAX_KERNELS": " 6 ",
                                   "VOICELAB_KERNEL_CONNECT_S": "2.5"})
    assert limits == server.KernelLimits(max_kernels=6, connect_s=2.5)
    assert server.kernel_limits({"VOICELAB_MAX_KERNELS": "64"}).max_kernels == 64
    blank = server.kernel_limits({"VOICELAB_MAX_KERNELS": "", "VOICELAB_KERNEL_CONNECT_S": " "})
    assert blank == server.kernel_limits({})


@pytest.mark.parametrize("value", ["0", "2", "-4", "four", "4.5", "1e3"])
def test_a_bad_cap_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match=r"VOICELAB_MAX_KERNELS=.*at least 3") as caught:
        server.kernel_limits({"VOICELAB_MAX_KERNELS": value})
    assert caught.value.variable == "VOICELAB_MAX_KERNELS"
    assert caught.value.value == value


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_a_bad_connect_deadline_is_named(value: str) -> None:
    with pytest.raises(ConfigError, match=r"VOICELAB_KERNEL_CONNECT_S=.*seconds above 0"):
        server.kernel_limits({"VOICELAB_KERNEL_CONNECT_S": value})


def test_serve_stops_on_a_bad_cap_before_anything_starts(monkeypatch: pytest.MonkeyPatch,
                                                        settings: object) -> None:
    monkeypatch.setenv("VOICELAB_MAX_KERNELS", "lots")
    with pytest.raises(ConfigError, match="VOICELAB_MAX_KERNELS='lots'"):
        server.serve(settings, port=1, worker=False, demo=False)  # type: ignore[arg-type]
