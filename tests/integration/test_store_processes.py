"""The batch lock and durable saves across real processes: concurrent rankers, SIGKILL mid-save."""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.batches import fast_dir, make_batch, ranked_on_disk, ranks_in
from voicelab import fsck, history, ranking, store

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
WORKERS, CHANGES = 8, 200

# One ranker process: waits for the start file, makes random rank changes on the batch and
# logs what each change_rank returned, including the revision the lock serialized it at.
RANKER = """
import json, os, random, sys, time
from voicelab import ranking

batch, start, log_path, seed, count = sys.argv[1:6]
rng = random.Random(int(seed))
files = json.loads(sys.argv[6])
while not os.path.exists(start):
    time.sleep(0.001)
with open(log_path, "w", encoding="utf-8") as log:
    for i in range(int(count)):
        name, rank = rng.choice(files), rng.choice([None, 1, 2, 3, 4, 5])
        change = ranking.change_rank(batch, name, rank)
        line = {t["file"]: t["rank"] for t in change.takes}
        log.write(json.dumps({"i": i, "file": name, "rank": rank, "revision": change.revision,
                              "changed": bool(change.moves), "line": line}) + "\\n")
"""


def _line_of(name: str) -> str:
    return name.split("_take_")[0]


@pytest.mark.timeout(240)
def test_concurrent_rankers_lose_no_change_and_leave_a_consistent_batch() -> None:
    with fast_dir() as root:
        batch = make_batch(root, lines=2, takes_per_line=6)
        files = [t["file"] for t in store.load_metadata(batch)["takes"]]
        start = root / "go"
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    RANKER,
                    str(batch),
                    str(start),
                    str(root / f"log{w}"),
                    str(w),
                    str(CHANGES),
                    json.dumps(files),
                ],
                env=env,
                cwd=REPO,
                stderr=subprocess.PIPE,
                text=True,
            )
            for w in range(WORKERS)
        ]
        start.touch()
        for proc in procs:
            _, err = proc.communicate(timeout=200)
            assert proc.returncode == 0, err
        entries = [
            json.loads(line)
            for w in range(WORKERS)
            for line in (root / f"log{w}").read_text("utf-8").splitlines()
        ]
        assert len(entries) == WORKERS * CHANGES

        # Every change that changed something got its own revision: 1..N, none lost or shared.
        changes = sorted((e for e in entries if e["changed"]), key=lambda e: e["revision"])
        assert [e["revision"] for e in changes] == list(range(1, len(changes) + 1))
        metadata = store.load_metadata(batch)
        assert metadata["revision"] == len(changes)

        # Replaying the changes in the order the lock serialized them gives, after each one,
        # exactly the line that call returned, and at the end exactly what is on disk.
        state: dict[str, int | None] = dict.fromkeys(files)
        after: dict[int, dict[str, int | None]] = {0: dict(state)}
        for entry in changes:
            line = {f: r for f, r in state.items() if _line_of(f) == _line_of(entry["file"])}
            state.update(ranking.cascade(line, entry["file"], entry["rank"]))
            assert entry["line"] == {f: state[f] for f in entry["line"]}, entry
            after[entry["revision"]] = dict(state)
        for entry in (e for e in entries if not e["changed"]):
            seen = after[entry["revision"]]  # a no-op saw the state of its revision
            assert seen[entry["file"]] == entry["rank"], entry
            assert entry["line"] == {f: seen[f] for f in entry["line"]}, entry
        assert {f: t["rank"] for t in metadata["takes"] for f in [t["file"]]} == state

        assert ranked_on_disk(batch) == ranks_in(metadata)
        assert fsck.check_batch(batch).problems == []

        # The history holds one entry per change, in the lock's order, and replays to the same.
        entries = history.read(batch)
        assert [e["seq"] for e in entries] == [e["revision"] for e in entries] == [
            e["revision"] for e in changes]
        assert history.replay(entries, files) == state


def _rank_forever(batch: str, ready: Any, seed: int) -> None:
    rng = random.Random(seed)
    files = [t["file"] for t in store.load_metadata(batch)["takes"]]
    ready.set()
    while True:
        ranking.set_rank(batch, rng.choice(files), rng.choice([None, 1, 2, 3, 4, 5]))


@pytest.mark.timeout(240)
def test_sigkill_during_saves_never_leaves_unloadable_metadata(tmp_path: Path) -> None:
    # On the real disk, not tmpfs: fsync keeps each save's temp file around long enough for
    # kills to land inside the write as well as between writes.
    context = multiprocessing.get_context("fork")  # a fast start, so many kills fit in seconds
    rng = random.Random(1234)
    leftovers_seen = entries_ignored = 0
    batch = make_batch(tmp_path, lines=80, takes_per_line=5)  # ~130 kB of metadata per save
    for round_ in range(40):
        ready = context.Event()
        proc = context.Process(target=_rank_forever, args=(str(batch), ready, round_))
        proc.start()
        assert ready.wait(30)
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(30)
        assert proc.exitcode == -signal.SIGKILL

        metadata = store.load_metadata(batch)  # always the old or the new file, whole
        expected = {store.METADATA_NAME, "takes", "ranked", store.LOCK_FILE_NAME,
                    history.HISTORY_NAME}
        stray = [n for n in os.listdir(batch) if n not in expected and not store.is_temp_name(n)]
        assert stray == []  # anything a kill leaves is named as ours, so load never reads it
        leftovers_seen += len(store.temp_files(batch))

        report = fsck.repair_batch(batch)  # what a kill can leave, repair puts right
        assert report.problems == [], report
        assert ranked_on_disk(batch) == ranks_in(metadata)
        # A kill between the history append and the save leaves an entry readers ignore.
        entries = history.read(batch)
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        ranks = {t["file"]: t["rank"] for t in metadata["takes"]}
        assert history.replay(entries, ranks) == ranks
        if (path := batch / history.HISTORY_NAME).exists():
            entries_ignored += len(path.read_bytes().splitlines()) - len(entries)
    print(f"temp files left by 40 SIGKILLs and removed by repair: {leftovers_seen}; "
          f"history lines a kill left before the save (or torn), ignored: {entries_ignored}")
