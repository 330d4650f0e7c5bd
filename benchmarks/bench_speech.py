"""The speech check on this project's own Piper takes: speed (real-time factor) and accuracy.

Makes a Piper batch of examples/scripts/aldric_knight.csv (the seed's 30-line knight script),
VARIANTS takes per line with settings spread over ranges, then times, in the same run:
- baseline: decode each MP3 and resample it to 16 kHz mono (what the check must do anyway);
- hear: the same plus PocketSphinx and the WER, one take at a time in this process;
- check: `voicelab.speech.check.check_batch` on the batch (worker processes, metadata writes).
Real-time factor = seconds of audio per wall second (higher is faster).

Accuracy: the WER of each take against its own line, and against every other line of the script,
and how many takes the "words" flag (WER > quality.WORDS_WER_MAX) would mark in each case.
Run: .venv/bin/python benchmarks/bench_speech.py [variants]
"""

from __future__ import annotations

import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from voicelab import jobspec, quality, store
from voicelab.engines.piper import Piper
from voicelab.generation import generate
from voicelab.speech.check import check_batch
from voicelab.speech.recognizers import PocketSphinx, RecognizerSpec, load_16k
from voicelab.speech.text import word_error_rate

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "examples" / "scripts" / "aldric_knight.csv"


def make_batch(root: Path, variants: int) -> Path:
    piper = Piper()
    config = jobspec.parse_config({
        "skin_name": "Bench", "voice_ids": [piper.voices()[0].id], "variants": variants,
        "engine": "piper", "script_path": str(SCRIPT), "seed": 7,
        "settings": {"stability": [0.3, 0.8], "speed": [0.9, 1.15], "style": [0.0, 0.4]}})
    [batch_dir] = generate(config, root, piper, concurrency=2).batch_dirs
    return batch_dir


def real_time_factor(variants: int = 1) -> tuple[float, float]:
    """The speech check's speed on a fresh Piper batch (one take per line by default): seconds
    of audio heard per wall second by `check_batch` (worker processes, metadata writes), and by
    the decode-and-resample it needs anyway (the baseline, same run)."""
    with tempfile.TemporaryDirectory() as tmp:
        batch_dir = make_batch(Path(tmp), variants)
        paths = sorted((batch_dir / "takes").glob("*.mp3"))
        started = time.perf_counter()
        audio_s = sum(len(load_16k(p)) / 16_000 for p in paths)
        baseline_s = time.perf_counter() - started
        started = time.perf_counter()
        check_batch(batch_dir, RecognizerSpec())
        return audio_s / (time.perf_counter() - started), audio_s / baseline_s


def main(variants: int = 2) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        batch_dir = make_batch(Path(tmp), variants)
        takes = store.load_metadata(batch_dir)["takes"]
        paths = [batch_dir / "takes" / t["file"] for t in takes]
        print(f"{len(takes)} Piper takes made in {time.perf_counter() - started:.1f} s "
              f"({os.cpu_count()} CPUs)")

        started = time.perf_counter()
        audio_s = sum(len(load_16k(p)) / 16_000 for p in paths)
        baseline_s = time.perf_counter() - started

        recognizer = PocketSphinx()
        started = time.perf_counter()
        heard = [recognizer.transcribe(load_16k(p)) for p in paths]
        own = [word_error_rate(t["script_text"], h) or 0.0 for t, h in zip(takes, heard,
                                                                             strict=True)]
        hear_s = time.perf_counter() - started

        started = time.perf_counter()
        summary = check_batch(batch_dir, RecognizerSpec())
        check_s = time.perf_counter() - started

    lines = {t["line"]: t["script_text"] for t in takes}
    other = [word_error_rate(text, h) or 0.0 for t, h in zip(takes, heard, strict=True)
             for line, text in lines.items() if line != t["line"]]
    limit = quality.WORDS_WER_MAX
    print(f"\n{audio_s:.1f} s of audio in {len(takes)} takes")
    print(f"{'step':<34}{'wall s':>8}{'RTF':>8}")
    for name, seconds in (("baseline: decode + resample", baseline_s),
                          ("hear: + PocketSphinx + WER (1 proc)", hear_s),
                          ("check_batch (workers, writes)", check_s)):
        print(f"{name:<34}{seconds:>8.2f}{audio_s / seconds:>8.1f}")
    print(f"recogniser alone: {audio_s / (hear_s - baseline_s):.1f}x real time; "
          f"check_batch summary {summary.to_dict()}")
    print(f"\nWER against own line:   mean {statistics.fmean(own):.3f}  max {max(own):.3f}  "
          f"flagged {sum(w > limit for w in own)}/{len(own)}")
    print(f"WER against other lines: mean {statistics.fmean(other):.3f}  min {min(other):.3f}  "
          f"not flagged {sum(w <= limit for w in other)}/{len(other)}  (threshold {limit})")
    for limit_t in (0.5, 0.6, 0.67, 0.7, 0.8):
        print(f"  at WER > {limit_t}: own-line takes flagged {sum(w > limit_t for w in own)}"
              f"/{len(own)}, other-line pairs not flagged {sum(w <= limit_t for w in other)}"
              f"/{len(other)}")
    worst = sorted(zip(own, takes, heard, strict=True), key=lambda x: -x[0])[:8]
    print("\nhighest own-line WER:")
    writer = csv.writer(sys.stdout)
    for wer, take, text in worst:
        writer.writerow([f"{wer:.3f}", take["script_text"], text])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
