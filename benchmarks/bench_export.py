"""Benchmark the engine-ready export against a bare decode-and-write of the same takes.

500 takes of 2-3 s speech-like sound (22.05 kHz MP3, as Piper makes them, at levels from quiet
to hot, some with clicks that need the limiter) are generated once into a temp batch. Then, in
the same run, interleaved:

- baseline: soundfile reads each MP3 and writes it as a 16-bit WAV at its own rate, one by one;
- baseline 48k: the same output as the export without the loudness work (decode, soxr VHQ to
  48 kHz, 24-bit WAV), one by one: what the loudness work itself costs;
- export: `deliver` to 48 kHz 24-bit WAV at -23 LUFS, -1 dBTP (resample, measure, level, limit
  where needed, write, manifest and dialogue sheet), with its worker threads;
- export, one thread: the same with WORKERS = 1, the serial cost.

Target: export within 1.5x of a bare decode-and-write of the same files, read as "baseline
48k": the same 48 kHz 24-bit WAV files without the loudness work (the plain "baseline" at the
takes' own rate cannot be the yardstick: resampling and 24-bit writing alone cost ~1.8x of it).
Both ratios are printed. Prints, never asserts. The speech check's real-time
factor is printed at the end when benchmarks/bench_speech.py offers `real_time_factor()`.
Run: .venv/bin/python benchmarks/bench_export.py [--takes 500] [--rounds 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import soundfile
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.batches import make_batch
from tests.delivery_batches import speech_mp3
from voicelab import store
from voicelab.delivery import deliver as delivery
from voicelab.delivery.options import DeliveryOptions

OPTIONS = DeliveryOptions(format="wav", sample_rate=48000, bit_depth=24, loudness=-23.0,
                          true_peak=-1.0, preset="unreal")


def make_takes(root: Path, count: int) -> Path:
    """A batch of `count` lines, each with one ranked take of 2-3 s of speech-like sound."""
    batch = make_batch(root, lines=count, takes_per_line=1,
                       ranks={f"Line_{i}_take_1.mp3": 1 for i in range(1, count + 1)})
    for i in range(1, count + 1):
        seconds = 2.0 + (i % 11) / 10
        level = (0.03, 0.1, 0.3, 0.6, 0.9)[i % 5]
        data = speech_mp3(seconds, level, i, i % 7 == 0)
        (batch / store.TAKES_DIR / f"Line_{i}_take_1.mp3").write_bytes(data)
    return batch


def baseline(batch: Path, out: Path) -> None:
    """The floor: decode each take and write it as WAV, nothing else."""
    out.mkdir(parents=True, exist_ok=True)
    for take in sorted((batch / store.TAKES_DIR).iterdir()):
        samples, rate = soundfile.read(take, dtype="float32")
        soundfile.write(out / f"{take.stem}.wav", samples, rate, subtype="PCM_16")


def baseline_48k(batch: Path, out: Path) -> None:
    """The same output without the loudness work: decode, resample (soxr VHQ), 24-bit WAV."""
    out.mkdir(parents=True, exist_ok=True)
    for take in sorted((batch / store.TAKES_DIR).iterdir()):
        samples, rate = soundfile.read(take, dtype="float32")
        resampled = soxr.resample(samples, rate, 48000, quality="VHQ")
        soundfile.write(out / f"{take.stem}.wav", resampled, 48000, subtype="PCM_24")


def export(batch: Path, out: Path) -> None:
    delivery.deliver(batch, out, OPTIONS)


def export_serial(batch: Path, out: Path) -> None:
    workers = delivery.WORKERS
    delivery.WORKERS = 1
    try:
        delivery.deliver(batch, out, OPTIONS)
    finally:
        delivery.WORKERS = workers


def report_speech_rtf() -> None:
    """The speech check's real-time factor (benchmarks/bench_speech.py has the details and its
    accuracy): on a Piper batch of one take per line, against decoding and resampling alone."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_speech import real_time_factor

    check, baseline = real_time_factor()
    print(f"speech check: {check:.1f}x real time (seconds of audio heard per second, worker "
          f"processes and metadata writes included); decode + resample alone: {baseline:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="work folder (default: a temp folder)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-export-", dir=args.dir))
    try:
        started = time.perf_counter()
        batch = make_takes(work / "root", args.takes)
        audio_s = sum(soundfile.info(p).duration for p in (batch / store.TAKES_DIR).iterdir())
        print(f"{args.takes} takes, {audio_s:.0f} s of audio, made in "
              f"{time.perf_counter() - started:.1f} s; {delivery.WORKERS} worker thread(s)")
        jobs: dict[str, Callable[[Path, Path], None]] = {
            "baseline": baseline, "baseline 48k": baseline_48k, "export": export,
            "export 1 thread": export_serial}
        runs: dict[str, list[float]] = {label: [] for label in jobs}
        for round_number in range(args.rounds):
            for label, job in jobs.items():  # interleaved: machine noise hits all alike
                out = work / f"out-{round_number}-{label.replace(' ', '_')}"
                started = time.perf_counter()
                job(batch, out)
                runs[label].append(time.perf_counter() - started)
                shutil.rmtree(out)
        base = statistics.median(runs["baseline"])
        for label, samples in runs.items():
            median = statistics.median(samples)
            print(f"  {label:16} median {median:6.2f} s  ({median / args.takes * 1e3:5.1f} ms a "
                  f"take, {audio_s / median:6.0f}x real time)  ratio {median / base:.2f}x")
        ours = statistics.median(runs["export"])
        print(f"  target: export within 1.5x of a bare decode-and-write to the same 48 kHz WAV "
              f"-> {ours / statistics.median(runs['baseline 48k']):.2f}x (of the plain "
              f"decode-and-write at the takes' own rate: {ours / base:.2f}x)")
        report_speech_rtf()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
