"""A factory of real, valid batches on disk (tiny real MP3s, metadata via store, ranked/ links)."""

from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from voicelab import store
from voicelab.audio import encode_mp3
from voicelab.errors import BatchNotFound

SAMPLE_RATE = 16_000
_last_stamp: list[datetime] = []


@functools.cache
def tone_mp3(seconds: float = 0.1, hz: float = 440.0) -> bytes:
    """A short sine tone as MP3 bytes (encoded once per argument pair)."""
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return encode_mp3(0.3 * np.sin(2 * np.pi * hz * t), SAMPLE_RATE)


def _next_stamp() -> datetime:
    # Strictly increasing, so batches made one after another sort newest-first reliably.
    now = datetime.now(UTC).replace(microsecond=datetime.now(UTC).microsecond // 1000 * 1000)
    if _last_stamp and now <= _last_stamp[-1]:
        now = _last_stamp[-1] + timedelta(milliseconds=1)
    _last_stamp[:] = [now]
    return now


def _unique_batch_id(root: Path, base: str) -> str:
    candidate, n = base, 1
    while True:
        try:
            store.find_batch(root, candidate)
        except BatchNotFound:
            return candidate
        n += 1
        candidate = f"{base}-{n}"


def take_name(line: str, number: int) -> str:
    """The take file name for a line and take number (docs/design.md, decision 5)."""
    return f"{line}_take_{number}.mp3"


def make_batch(
    root: Path,
    *,
    skin: str = "Skin",
    voice: str = "Voice-v1",
    batch_id: str | None = None,
    lines: int = 3,
    takes_per_line: int = 3,
    ranks: dict[str, int] | None = None,
    locked: bool = False,
) -> Path:
    """Write a real valid batch under root and return its folder.

    Lines are `Line_1..Line_<lines>`, files `Line_<i>_take_<n>.mp3`; `ranks` maps file names to
    ranks (it must respect one take per rank per line). `locked` writes LOCKED and ranked_at_utc.
    """
    stamp = _next_stamp()
    iso = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    voice_id = voice.rsplit("-", 1)[-1]
    batch_id = batch_id or _unique_batch_id(root, f"{stamp:%Y%m%d-%H%M%S}-{voice_id}")
    batch_dir = Path(root) / skin / voice / batch_id
    store.create_batch_dirs(batch_dir)
    ranks = dict(ranks or {})
    takes = []
    for i in range(1, lines + 1):
        line = f"Line_{i}"
        for n in range(1, takes_per_line + 1):
            name = take_name(line, n)
            (batch_dir / store.TAKES_DIR / name).write_bytes(tone_mp3())
            rank = ranks.pop(name, None)
            takes.append(
                {
                    "file": name,
                    "line": line,
                    "script_text": f"Text of {line}.",
                    "take_number": n,
                    "generation_settings": {
                        "stability": round(0.3 + 0.1 * n, 2),
                        "similarity_boost": 0.75,
                        "style": 0.0,
                        "use_speaker_boost": True,
                        "speed": 1.0,
                    },
                    "rank": rank,
                    "ranked_at": iso if rank is not None else None,
                    "seed": 1000 + n,
                }
            )
    if ranks:
        raise ValueError(f"make_batch: ranks name takes that are not in the batch: {sorted(ranks)}")
    metadata = {
        "schema_version": 1,
        "batch_id": batch_id,
        "skin_name": skin,
        "voice_name": voice,
        "generated_at_utc": iso,
        "generation_params": {
            "engine": "piper",
            "voice_id": voice_id,
            "takes_per_line": takes_per_line,
        },
        "ranked_at_utc": iso if locked else None,
        "complete": True,
        "takes": takes,
    }
    store.save_metadata(batch_dir, metadata)
    store.rebuild_symlinks(batch_dir, metadata)
    if locked:
        store.lock_batch(batch_dir)
    return batch_dir


def ranked_on_disk(batch_dir: Path) -> dict[str, int]:
    """`{file: rank}` as ranked/ shows it; every entry must be a relative link into takes/."""
    found: dict[str, int] = {}
    for rank in store.RANKS:
        for link in sorted((batch_dir / store.RANKED_DIR / store.rank_dir(rank)).iterdir()):
            assert link.is_symlink(), f"{link} is not a symlink"
            assert os.readlink(link) == store.link_target(link.name), f"{link} points elsewhere"
            assert link.name not in found, f"{link.name} is in two rank folders"
            found[link.name] = rank
    return found


def ranks_in(metadata: store.Metadata) -> dict[str, int]:
    """`{file: rank}` of the ranked takes in metadata."""
    return {t["file"]: t["rank"] for t in metadata["takes"] if t["rank"] is not None}


@contextlib.contextmanager
def fast_dir() -> Iterator[Path]:
    """A real temp folder on tmpfs when there is one: for tests making thousands of fsyncs."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="voicelab-", dir=base) as name:
        yield Path(name)


def flag_take(batch_dir: Path, file: str, *flags: str) -> None:
    """Give one take these QC flags in metadata (its other quality facts kept), as a
    generation that measured a problem would."""
    metadata = store.load_metadata(batch_dir)
    for take in metadata["takes"]:
        if take["file"] == file:
            take["quality"] = {**(take.get("quality") or {}), "flags": list(flags)}
    store.save_metadata(batch_dir, metadata)
