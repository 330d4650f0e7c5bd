"""What the ranking board shows: its synced state, read from a batch's metadata.json.

`board_state` gives every trait `RankBoard` loads from disk; `take_record` is one take as the
board sees it (small and JSON-ready), `pack_peaks` its waveform overview as bytes.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from voicelab import quality, store

PEAK_POINTS = 100
"""Bytes per take in the `peaks` trait: one per 2.4 px of the board's 240 px waveform."""
SETTING_KEYS = ("stability", "similarity_boost", "style", "speed", "use_speaker_boost")
"""The generation settings the board shows on each take."""


def _quality(take: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = take.get("quality")
    return nested if isinstance(nested, Mapping) else {}


def _gain_target(takes: Sequence[Mapping[str, Any]]) -> float:
    """The batch's median loudness: matching to it keeps most playback gains small."""
    values = [q["lufs"] for t in takes if isinstance((q := _quality(t)).get("lufs"), int | float)]
    return float(statistics.median(values)) if values else -23.0


def take_record(take: Mapping[str, Any], flags: list[str], target: float) -> dict[str, Any]:
    """The board's view of one take: small and JSON-ready (the waveform travels separately)."""
    facts = _quality(take)
    settings = take.get("generation_settings") or {}
    return {
        "file": take["file"],
        "line": take["line"],
        "take_number": take["take_number"],
        "rank": take["rank"],
        "ranked_at": take["ranked_at"],
        "ranked_by": take.get("ranked_by"),
        "settings": {key: settings[key] for key in SETTING_KEYS if key in settings},
        "duration_s": take.get("duration_s", facts.get("duration_s")),
        "flags": list(flags),
        "gain_db": quality.loudness_gain_db(facts.get("lufs"), target, facts.get("peak_dbfs")),
    }


def pack_peaks(stored: str | Sequence[float] | None, points: int = PEAK_POINTS) -> bytes:
    """A waveform overview as `points` bytes (0-255), max-pooled from a take's stored peaks.

    Binary and short, so a 2,000-take batch's overviews are ~200 kB in the widget state
    instead of megabytes of JSON; no values gives a flat line (all zero).
    """
    samples = quality.peak_values(stored)  # type: ignore[arg-type]
    if not len(samples):
        return bytes(points)
    pooled = np.maximum.reduceat(samples, np.arange(points) * len(samples) // points)
    return np.clip(np.rint(pooled * 255), 0, 255).astype(np.uint8).tobytes()


def board_state(batch_dir: Path, root: Path | None) -> dict[str, Any]:
    """Every trait the board shows for a batch, read from its metadata.json.

    `audio_path` is the batch's takes/ folder relative to `root` (the `/audio/` URL space);
    empty when the batch is not under `root`, so the browser asks the kernel for the bytes.

    Raises:
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    metadata = store.load_metadata(batch_dir, check_files=False)
    takes = metadata["takes"]
    audio_path = ""
    if root is not None:
        rel = os.path.relpath(Path(batch_dir).resolve(), Path(root).resolve())
        if not rel.startswith(".."):
            audio_path = Path(rel, store.TAKES_DIR).as_posix() + "/"
    stored: list[list[str] | None] = [_quality(t).get("flags") for t in takes]
    computed = quality.flag_batch(takes) if any(f is None for f in stored) else []
    target = _gain_target(takes)
    lines: dict[str, str] = {}
    records = []
    for index, take in enumerate(takes):
        flags = stored[index]
        if flags is None:
            flags = computed[index]
        records.append(take_record(take, flags, target))
        lines.setdefault(take["line"], take["script_text"])
    return {
        "batch_id": metadata["batch_id"],
        "skin": metadata["skin_name"],
        "voice": metadata["voice_name"],
        "takes": records,
        "lines": [{"line": line, "script_text": text} for line, text in lines.items()],
        "peaks": b"".join(pack_peaks(_quality(t).get("peaks") or []) for t in takes),
        "audio_path": audio_path,
        "locked": store.is_locked(batch_dir),
    }


def rank_changes(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> int:
    """How many takes have a different rank (or are new or gone) between two `takes` lists."""
    old = {t["file"]: t["rank"] for t in before}
    new = {t["file"]: t["rank"] for t in after}
    return sum(old.get(f, "gone") != new.get(f, "gone") for f in old.keys() | new.keys())
