"""Benchmark the HTTP API (a real waitress process) against the package calls it wraps.

1. PATCH /api/batch/<id>/take/<file> on a 2,000-take batch vs ranking.set_rank in-process,
   interleaved. Targets: HTTP p50 within 3x of set_rank's p50; HTTP p99 under 50 ms.
2. GET /api/batches over 5,000 batches vs store.find_batches in-process (best of N).
3. GET /audio with Range: reads per second, one client and eight.

Prints figures, never asserts. Run: .venv/bin/python benchmarks/bench_api.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.api_fixtures import ApiServer
from tests.batches import make_batch, tone_mp3
from voicelab import ranking, store

TOKEN = "bench-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def show(label: str, samples: list[float]) -> None:
    print(f"  {label:18} p50 {statistics.median(samples) * 1e3:7.2f} ms"
          f"   p99 {percentile(samples, 0.99) * 1e3:7.2f} ms")


def bench_patch(server: ApiServer, batch: Path, rounds: int) -> tuple[float, float]:
    files = [take["file"] for take in store.load_metadata(batch)["takes"]]
    rng = random.Random(7)
    url = f"{server.url}/api/batch/{batch.name}/take/"
    ours: list[float] = []
    base: list[float] = []
    with requests.Session() as http:
        http.headers.update(AUTH)
        http.patch(url + files[0], json={"rank": None}).raise_for_status()  # warm up
        for _ in range(rounds):
            start = time.perf_counter()
            ranking.set_rank(batch, rng.choice(files), rng.choice([1, 2, 3, 4, 5, None]))
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            response = http.patch(url + rng.choice(files),
                                  json={"rank": rng.choice([1, 2, 3, 4, 5, None])})
            ours.append(time.perf_counter() - start)
            response.raise_for_status()
        refused: list[float] = []  # the HTTP + Flask floor: a 400 never touches the disk
        for _ in range(rounds):
            start = time.perf_counter()
            http.patch(url + files[0], json={"rank": "1"})
            refused.append(time.perf_counter() - start)
    print(f"PATCH rank on {len(files)} takes, {rounds} rounds (interleaved)")
    show("set_rank", base)
    show("PATCH over HTTP", ours)
    show("PATCH refused 400", refused)
    ratio = statistics.median(ours) / statistics.median(base)
    print(f"  ratio p50 {ratio:.2f}x (target <= 3.0)")
    return ratio, percentile(ours, 0.99)


def make_tree(root: Path, batches: int, takes: int) -> None:
    """`batches` small valid batches, written plainly (building the tree is not measured)."""
    for i in range(batches):
        batch_id = f"20250101-{i:06d}-v{i % 7}"
        batch = root / f"Skin_{i % 10}" / f"Voice-v{i % 7}" / batch_id
        (batch / store.TAKES_DIR).mkdir(parents=True)
        data = {
            "batch_id": batch_id, "skin_name": f"Skin {i % 10}", "voice_name": f"Voice-v{i % 7}",
            "generated_at_utc": f"2025-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z",
            "generation_params": {"engine": "piper"}, "ranked_at_utc": None,
            "takes": [{"file": f"L{n}_take_1.mp3", "line": f"L{n}", "script_text": "Hi.",
                       "take_number": 1, "generation_settings": {}, "rank": None,
                       "ranked_at": None} for n in range(takes)],
        }
        (batch / store.METADATA_NAME).write_bytes(store.dump_metadata(data, batch))


def bench_batches(server: ApiServer, root: Path, repeats: int) -> float:
    ours: list[float] = []
    base: list[float] = []
    count = 0
    with requests.Session() as http:
        http.headers.update(AUTH)
        for _ in range(repeats):
            start = time.perf_counter()
            found = store.find_batches(root)
            base.append(time.perf_counter() - start)
            start = time.perf_counter()
            response = http.get(f"{server.url}/api/batches")
            count = len(response.json()["data"])
            ours.append(time.perf_counter() - start)
    print(f"GET /api/batches over {len(found)} batches (HTTP saw {count}), best of {repeats}")
    print(f"  find_batches       {min(base) * 1e3:8.1f} ms")
    print(f"  GET /api/batches   {min(ours) * 1e3:8.1f} ms (incl. JSON and transfer)")
    ratio = min(ours) / min(base)
    print(f"  ratio              {ratio:.2f}x")
    return ratio


def bench_audio(server: ApiServer, url: str, size: int, seconds: float) -> dict[int, float]:
    rates: dict[int, float] = {}
    for clients in (1, 8):
        done = [0] * clients
        stop = time.perf_counter() + seconds

        def read(slot: int, done: list[int] = done, stop: float = stop) -> None:
            rng = random.Random(slot)
            with requests.Session() as http:
                http.headers.update(AUTH)
                while time.perf_counter() < stop:
                    start = rng.randrange(0, max(1, size - 4096))
                    response = http.get(url, headers={"Range": f"bytes={start}-{start + 4095}"})
                    if response.status_code != 206:
                        raise RuntimeError(f"expected 206, got {response.status_code}")
                    done[slot] += 1

        threads = [threading.Thread(target=read, args=(i,)) for i in range(clients)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        rates[clients] = sum(done) / (time.perf_counter() - began)
    print(f"GET /audio with Range (4 KiB of {size} bytes), {seconds:.0f} s each")
    for clients, rate in rates.items():
        print(f"  {clients} client(s)        {rate:8.0f} reads/s")
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--batches", type=int, default=5000)
    parser.add_argument("--takes", type=int, default=30, help="takes per listed batch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="per audio measurement")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        rank_root, list_root = Path(tmp) / "rank", Path(tmp) / "list"
        batch = make_batch(rank_root, lines=400, takes_per_line=5)
        make_tree(list_root, args.batches, args.takes)
        with ApiServer(rank_root, VOICELAB_API_TOKEN=TOKEN) as server:
            p50_ratio, p99 = bench_patch(server, batch, args.rounds)
            take = batch / store.TAKES_DIR / "Long_take_1.mp3"  # served, though not in metadata
            take.write_bytes(tone_mp3(seconds=20.0))
            audio_url = f"{server.url}/audio/{take.relative_to(rank_root).as_posix()}"
            rates = bench_audio(server, audio_url, take.stat().st_size, args.seconds)
        with ApiServer(list_root, VOICELAB_API_TOKEN=TOKEN) as server:
            list_ratio = bench_batches(server, list_root, args.repeats)
    print("summary")
    print(f"  PATCH p50 / set_rank p50      {p50_ratio:5.2f}x  "
          f"{'OK' if p50_ratio <= 3 else 'MISSED'} (<= 3.0)")
    print(f"  PATCH p99                     {p99 * 1e3:5.1f} ms "
          f"{'OK' if p99 < 0.05 else 'MISSED'} (< 50 ms)")
    print(f"  GET /api/batches / find       {list_ratio:5.2f}x")
    print(f"  /audio Range reads/s          {rates[1]:.0f} (1 client), {rates[8]:.0f} (8)")


if __name__ == "__main__":
    main()
