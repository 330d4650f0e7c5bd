"""A room of designers on one `voicelab serve` with its default settings, in Chromium.

N designers (default 20) arrive within a minute, each in a browser context of their own, open
the board of one 60-line x 5-take batch and rank takes on lines of their own. Prints, against a
single designer alone measured first in the same run (the baseline):
- boards opened (and refused: a 503 is retried, as a person would, and counted);
- board open time, from navigation to takes drawn: median and p95;
- key to disk with everyone's board open: the time from a rank key until the rank is in
  metadata.json, median and p95;
- resident memory of a board kernel once rendered: median (and of the preheated kernels).
Targets (issue 26): nobody refused, open p95 under 2.5 s and median under 2 s, key to disk p95
under 100 ms, a board kernel under 120 MB. Prints figures; never fails on them.

    .venv/bin/python benchmarks/bench_team.py [--designers 20] [--within 60] [--presses 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.batches import make_batch
from tests.browser.harness import CHROMIUM, CHROMIUM_ARGS, VIEWPORT, ServeProcess, wait_until
from voicelab import store
from voicelab.dashboards import server as vl_server

LINES, TAKES = 60, 5
MB = 1024 * 1024


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def ranks(batch: Path) -> dict[str, Any]:
    return {t["file"]: t["rank"] for t in store.load_metadata(batch)["takes"]}


async def open_board(browser: Any, url: str, refused: list[int]) -> tuple[Any, float]:
    """A new designer's page on the board; seconds from navigation to takes drawn."""
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    started = time.perf_counter()
    while True:
        response = await page.goto(url, timeout=120_000)
        if response is not None and response.status == 503:
            refused.append(1)
            await asyncio.sleep(2)
            continue
        await page.wait_for_selector(".vl-rank-board .vl-take[data-file]", timeout=120_000)
        return page, time.perf_counter() - started


async def rank_lines(page: Any, batch: Path, first: int, step: int, presses: int,
                     latencies: list[float]) -> None:
    """Rank the focused take on every `step`-th line from line `first` (this designer's own:
    the board draws only the rows in view, so it moves there with `l`), timing key to disk."""
    await page.click(".vl-rank-board .vl-take[data-file] .vl-take-number")
    await move(page, first)
    for _ in range(presses):
        file = await page.get_attribute(".vl-rank-board", "data-focused-file")
        rank = 1  # the line's best take
        started = time.perf_counter()
        await page.keyboard.press(str(rank))
        while (await asyncio.to_thread(ranks, batch)).get(file) != rank:
            if time.perf_counter() - started > 30:
                raise RuntimeError(f"{file} never got rank {rank} on disk")
            await asyncio.sleep(0.005)
        latencies.append(time.perf_counter() - started)
        await move(page, step)


async def move(page: Any, lines: int) -> None:
    """`lines` lines down (`l`), once the board shows the focus there."""
    for _ in range(lines):
        before = await page.get_attribute(".vl-rank-board", "data-focused-file")
        await page.keyboard.press("l")
        with contextlib.suppress(Exception):  # the last line: the focus stays
            await page.wait_for_function(
                "f => document.querySelector('.vl-rank-board').dataset.focusedFile !== f",
                arg=before, timeout=2000)


def kernel_rss(serve: ServeProcess) -> list[float]:
    sizes = []
    for kernel in serve.kernels():
        try:
            sizes.append(kernel.memory_info().rss / MB)
        except psutil.Error:
            continue
    return sizes


async def session(serve: ServeProcess, batch: Path, designers: int, within_s: float,
                  presses: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    url = vl_server.dashboard_url(serve.url, vl_server.RANK_BOARD, batch_id=batch.name)
    refused: list[int] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM,
                                                   args=CHROMIUM_ARGS, headless=True)
        arrivals = sorted(random.uniform(0, within_s) for _ in range(designers))
        began = time.perf_counter()

        async def arrive(at: float) -> tuple[Any, float]:
            await asyncio.sleep(max(0.0, at - (time.perf_counter() - began)))
            return await open_board(browser, url, refused)

        opened = await asyncio.gather(*(arrive(at) for at in arrivals))
        pool = len(vl_server.PREHEATED)
        # the boards: the N largest kernels (the preheated ones have rendered nothing yet)
        rss = sorted(kernel_rss(serve), reverse=True)[:designers] or [0.0]
        latencies: list[float] = []
        presses = min(presses, LINES // designers)  # each line ranked once, by one designer
        await asyncio.gather(*(rank_lines(page, batch, i, designers, presses, latencies)
                               for i, (page, _) in enumerate(opened)))
        for page, _ in opened:
            await page.goto("about:blank")
        await browser.close()
    return {"opened": len(opened), "refused": len(refused),
            "open_s": [seconds for _, seconds in opened], "key_s": latencies,
            "rss_mb": rss, "kernels": len(serve.kernels()), "pool": pool}


def report(name: str, figures: dict[str, Any], base: dict[str, Any] | None) -> None:
    open_med, open_p95 = statistics.median(figures["open_s"]), p95(figures["open_s"])
    key_med, key_p95 = statistics.median(figures["key_s"]), p95(figures["key_s"])
    rss = statistics.median(figures["rss_mb"])

    def ratio(value: float, key: str, pick: Any) -> str:
        return f" ({value / pick(base[key]):.2f}x alone)" if base else ""

    print(f"{name}: {figures['opened']} board(s) opened, {figures['refused']} refusal(s)")
    print(f"  open         median {open_med:.2f} s{ratio(open_med, 'open_s', statistics.median)}"
          f", p95 {open_p95:.2f} s{ratio(open_p95, 'open_s', p95)}")
    print(f"  key to disk  median {key_med * 1000:.0f} ms"
          f"{ratio(key_med, 'key_s', statistics.median)}, p95 {key_p95 * 1000:.0f} ms"
          f"{ratio(key_p95, 'key_s', p95)}")
    print(f"  board kernel RSS median {rss:.0f} MB; kernels alive {figures['kernels']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--designers", type=int, default=20)
    parser.add_argument("--within", type=float, default=60.0, help="arrivals spread, seconds")
    parser.add_argument("--presses", type=int, default=8, help="rank keys per designer")
    args = parser.parse_args()
    random.seed(26)
    with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
        root = Path(tmp) / "audio"
        batch = make_batch(root, skin="Team", lines=LINES, takes_per_line=TAKES)
        with ServeProcess(root, "--no-worker", "--no-demo",
                          log_path=Path(tmp) / "serve.log") as serve:
            wait_until(lambda: len(serve.kernels()) == len(vl_server.PREHEATED), 120,
                       "the preheated kernels")
            print(f"preheated kernels' RSS: {', '.join(f'{r:.0f}' for r in kernel_rss(serve))}"
                  " MB")
            alone = asyncio.run(session(serve, batch, 1, 0.0, args.presses * 2))
            report("one designer alone (baseline)", alone, None)
            wait_until(lambda: len(serve.kernels()) <= alone["pool"], 120, "back to the pool")
            team = asyncio.run(session(serve, batch, args.designers, args.within,
                                       args.presses))
            report(f"{args.designers} designers arriving within {args.within:g} s", team,
                   alone)
            print(f"  health: {serve.health()}")


if __name__ == "__main__":
    main()
