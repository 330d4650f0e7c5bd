"""Benchmark rating panels against baselines measured in the same run (prints, never asserts).

On a 2,000-take batch (400 lines x 5 takes) ranked by 5 raters:
1. One rater's rank change with its consensus recomputation (`panel.rate`: load, the rater's
   cascade, Borda for the line, history entry, durable save, links) vs a bare durable save of
   the same metadata (json.dump + fsync + os.replace). Target: p99 under 20 ms; the ratio says
   what the panel costs beyond the save every change needs anyway.
2. The recomputation alone (`consensus_moves` for the changed line), for scale.
3. A blind rater's board state vs today's solo board state of a batch of the same size (target:
   within 1.2x), and the lead's (with the consensus report) for scale.

Run: .venv/bin/python benchmarks/bench_panel.py [--rounds 300] [--dir PATH]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_store import baseline_save, percentile
from tests.batches import make_batch
from voicelab import panel, ranking, store
from voicelab.panel.changes import consensus_moves
from voicelab.panel.consensus import borda

RATERS = ["r1", "r2", "r3", "r4", "r5"]


def ranked_panel_batch(root: Path, lines: int, takes: int) -> Path:
    """A batch whose every line each rater ranked (random orders), consensus in place."""
    batch = make_batch(root, lines=lines, takes_per_line=takes)
    panel.open_panel(batch, RATERS, person="lead")
    data = store.load_metadata(batch)
    rng = random.Random(14)
    by_line: dict[str, list[dict[str, object]]] = {}
    for take in data["takes"]:
        by_line.setdefault(take["line"], []).append(take)
    for members in by_line.values():
        for take in members:
            take["ranks_by"] = {}
        for rater in RATERS:
            for rank, take in enumerate(rng.sample(members, len(members)), start=1):
                take["ranks_by"][rater] = rank  # type: ignore[index]
        files = [str(t["file"]) for t in members]
        ranks = panel.changes.rater_ranks(members, RATERS)  # type: ignore[arg-type]
        for file, rank in borda(ranks, files).items():
            take = next(t for t in members if t["file"] == file)
            take["rank"], take["ranked_by"] = rank, panel.PANEL_NAME
            take["ranked_at"] = data["generated_at_utc"] if rank else None
    store.save_metadata(batch, data)
    store.rebuild_symlinks(batch, data)
    return batch


def summary(label: str, samples: list[float]) -> str:
    return (f"  {label:22} p50 {statistics.median(samples) * 1e3:8.3f} ms"
            f"   p99 {percentile(samples, 0.99) * 1e3:8.3f} ms")


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def bench_rate(batch: Path, rounds: int) -> None:
    data = store.load_metadata(batch)
    files = [take["file"] for take in data["takes"]]
    rng = random.Random(7)
    ours, base, alone = [], [], []
    for _ in range(rounds):
        file, rank, rater = rng.choice(files), rng.choice([1, 2, 3, 4, 5]), rng.choice(RATERS)
        ours.append(timed(lambda: panel.rate(batch, file, rank, person=rater)))  # noqa: B023
        raw = json.loads((batch / store.METADATA_NAME).read_bytes())
        base.append(timed(lambda: baseline_save(batch, raw)))  # noqa: B023
        members = ranking.line_takes(raw, next(t["line"] for t in raw["takes"]
                                               if t["file"] == file))
        alone.append(timed(lambda: consensus_moves(raw["panel"], members)))  # noqa: B023
    print(f"one rater's rank change on {len(files)} takes, {len(RATERS)} raters, {rounds} rounds")
    print(summary("panel.rate", ours))
    print(summary("bare metadata save", base))
    print(summary("consensus recompute", alone))
    p99 = percentile(ours, 0.99)
    print(f"  panel.rate p99 {p99 * 1e3:.2f} ms (target < 20 ms)   ratio to the bare save: "
          f"p50 {statistics.median(ours) / statistics.median(base):.2f}x   "
          f"p99 {p99 / percentile(base, 0.99):.2f}x")


def bench_board(batch: Path, root: Path, rounds: int) -> None:
    from voicelab.people import Person
    from voicelab.widgets.rank_state import board_view

    solo = make_batch(root, lines=400, takes_per_line=5)
    rater, lead = Person("r1", "designer"), Person("lead", "lead")
    blind, plain, leading = [], [], []
    for _ in range(rounds):
        blind.append(timed(lambda: board_view(batch, root, rater)))
        plain.append(timed(lambda: board_view(solo, root, rater)))
        leading.append(timed(lambda: board_view(batch, root, lead)))
    print(f"the board's state for 2,000 takes, {rounds} rounds")
    print(summary("blind rater's board", blind))
    print(summary("solo board (today's)", plain))
    print(summary("lead's board + report", leading))
    print(f"  blind / solo p50 {statistics.median(blind) / statistics.median(plain):.2f}x "
          "(target <= 1.2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=None, help="where to work (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        batch = ranked_panel_batch(root / "panel", lines=400, takes=5)
        bench_rate(batch, args.rounds)
        bench_board(batch, root / "panel", max(10, args.rounds // 10))


if __name__ == "__main__":
    main()
