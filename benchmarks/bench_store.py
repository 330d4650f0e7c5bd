"""Benchmark the batch store against baselines measured in the same run (prints, never asserts).

1. set_rank on a 2,000-take batch vs json.dump + fsync + os.replace of the same metadata.
   Target: p50 within 2x of the baseline's p50.
2. find_batches over 5,000 batches vs an os.scandir walk that json-loads each metadata.json.
   Target: within 1.5x of the walk.

Run: .venv/bin/python benchmarks/bench_store.py [--rounds 200] [--batches 5000] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.batches import make_batch
from voicelab import ranking, store


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def baseline_save(batch_dir: Path, data: dict[str, object]) -> None:
    """The floor for a durable metadata write: json.dump, fsync, os.replace."""
    tmp = batch_dir / "baseline.json.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, batch_dir / "baseline.json")


def bench_set_rank(work: Path, rounds: int) -> tuple[float, float]:
    root = work / "rank"
    batch = make_batch(root, lines=400, takes_per_line=5)
    files = [take["file"] for take in store.load_metadata(batch)["takes"]]
    rng = random.Random(7)
    ours: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        # Interleave the two so drift in machine load hits both alike.
        start = time.perf_counter()
        ranking.set_rank(batch, rng.choice(files), rng.choice([1, 2, 3, 4, 5, None]))
        ours.append(time.perf_counter() - start)
        data = json.loads((batch / store.METADATA_NAME).read_bytes())
        start = time.perf_counter()
        baseline_save(batch, data)
        base.append(time.perf_counter() - start)
    print(f"set_rank on {len(files)} takes, {rounds} rounds")
    for label, samples in (("set_rank", ours), ("baseline", base)):
        print(
            f"  {label:9} p50 {statistics.median(samples) * 1e3:7.2f} ms"
            f"   p99 {percentile(samples, 0.99) * 1e3:7.2f} ms"
        )
    p50 = statistics.median(ours) / statistics.median(base)
    p99 = percentile(ours, 0.99) / percentile(base, 0.99)
    print(f"  ratio     p50 {p50:.2f}x (target <= 2.0)   p99 {p99:.2f}x")
    return p50, p99


def make_tree(root: Path, batches: int, takes: int) -> None:
    """Write `batches` batch folders quickly (plain writes: the tree's speed is not measured)."""
    for i in range(batches):
        batch_id = f"20250101-{i:06d}-v{i % 7}"
        batch = root / f"Skin_{i % 10}" / f"Voice-v{i % 7}" / batch_id
        (batch / store.TAKES_DIR).mkdir(parents=True)
        for name in store.RANK_DIRS:
            (batch / store.RANKED_DIR / name).mkdir(parents=True)
        data = {
            "batch_id": batch_id,
            "skin_name": f"Skin {i % 10}",
            "voice_name": f"Voice-v{i % 7}",
            "generated_at_utc": f"2025-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z",
            "generation_params": {"engine": "piper", "variants": takes},
            "ranked_at_utc": None,
            "takes": [
                {
                    "file": f"Line_{n // 3}_take_{n % 3 + 1}.mp3",
                    "line": f"Line_{n // 3}",
                    "script_text": "A short line of dialogue.",
                    "take_number": n % 3 + 1,
                    "generation_settings": {"stability": 0.5, "similarity_boost": 0.75},
                    "rank": (n % 3 + 1) if n % 2 else None,
                    "ranked_at": "2025-01-02T00:00:00Z" if n % 2 else None,
                }
                for n in range(takes)
            ],
        }
        (batch / store.METADATA_NAME).write_bytes(store.dump_metadata(data, batch))


def walk_baseline(root: Path) -> int:
    """The floor for listing batches: scandir three levels, json-load each metadata.json."""
    count = 0
    for skin in os.scandir(root):
        for voice in os.scandir(skin.path):
            for batch in os.scandir(voice.path):
                with open(os.path.join(batch.path, store.METADATA_NAME), "rb") as handle:
                    json.load(handle)
                count += 1
    return count


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def bench_find_batches(work: Path, batches: int, takes: int, repeats: int) -> tuple[float, float]:
    root = work / "find"
    make_tree(root, batches, takes)
    runs: dict[str, list[tuple[float, float]]] = {"find_batches": [], "walk+json": []}
    counts: dict[str, int] = {}
    jobs: list[tuple[str, Callable[[], int]]] = [
        ("find_batches", lambda: len(store.find_batches(root))),
        ("walk+json", lambda: walk_baseline(root)),
    ]
    for repeat in range(repeats):
        # Alternate who goes first, so neither always inherits the other's warm caches.
        for name, fn in jobs if repeat % 2 == 0 else jobs[::-1]:
            wall, cpu, count = _timed(fn)
            runs[name].append((wall, cpu))
            counts[name] = int(count)  # type: ignore[call-overload]
    if set(counts.values()) != {batches}:
        print(f"  warning: counted {counts} of {batches} batches")
    print(f"find_batches over {batches} batches of {takes} takes, best of {repeats}")
    best = {name: (min(w for w, _ in r), min(c for _, c in r)) for name, r in runs.items()}
    for name, (wall, cpu) in best.items():
        print(f"  {name:12} wall {wall * 1e3:8.1f} ms   cpu {cpu * 1e3:8.1f} ms")
    wall_ratio = best["find_batches"][0] / best["walk+json"][0]
    cpu_ratio = best["find_batches"][1] / best["walk+json"][1]
    print(f"  ratio        wall {wall_ratio:.2f}x   cpu {cpu_ratio:.2f}x (target <= 1.5)")
    return wall_ratio, cpu_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--batches", type=int, default=5000)
    parser.add_argument("--takes", type=int, default=30, help="takes per generated batch")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        p50, _ = bench_set_rank(work, args.rounds)
        wall, cpu = bench_find_batches(work, args.batches, args.takes, args.repeats)
    verdict = {True: "OK", False: "MISSED"}
    print("summary")
    print(f"  set_rank p50 / baseline p50             {p50:.2f}x  {verdict[p50 <= 2]} (<= 2.0)")
    print(f"  find_batches / scandir+json walk, wall  {wall:.2f}x  {verdict[wall <= 1.5]} (<= 1.5)")
    print(f"  find_batches / scandir+json walk, cpu   {cpu:.2f}x  {verdict[cpu <= 1.5]} (<= 1.5)")


if __name__ == "__main__":
    main()
