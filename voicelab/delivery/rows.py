"""The rows of an export: one per line of the batch, its take at the rank or `missing`.

`selects` is the one row builder behind both the classic export (`deliver.export_batch`) and the
engine-ready one (`voicelab.delivery.deliver`); `manifest_csv` writes rows as the manifest.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from voicelab import store
from voicelab.errors import InvalidRank

MANIFEST_FIELDS = ("line", "text", "voice", "take_file", "rank", "status", "stability",
                   "similarity_boost", "style", "speed", "use_speaker_boost", "lufs",
                   "duration_s", "exported_as", "note", "needs_pass")
"""The classic manifest's columns (`deliver.export_batch` with no engine-ready option)."""

DELIVERY_FIELDS = (
    *MANIFEST_FIELDS, "category", "format", "sample_rate", "bit_depth", "lufs_target",
    "lufs_before",
    "true_peak_before", "lufs_after", "true_peak_after", "gain_db", "limited")
"""An engine-ready manifest's columns: the classic ones, then what was done to each file."""
SETTINGS = ("stability", "similarity_boost", "style", "speed", "use_speaker_boost")
"""The generation settings a row carries."""


def selects(metadata: store.Metadata, rank: int = 1) -> list[dict[str, Any]]:
    """One manifest row per line of the batch, in script order: its take at `rank`, or missing.

    Stale and removed takes are never exported (docs/design.md, decision 13): a removed line has no
    row, and a line's text is its current takes'. Each row carries the line's director note.
    """
    if isinstance(rank, bool) or rank not in store.RANKS:
        raise InvalidRank(rank)
    rows: dict[str, dict[str, Any]] = {}
    notes = metadata.get("notes") or {}
    for take in metadata["takes"]:
        if take.get("removed"):
            continue
        note = notes.get(take["line"]) or {}
        row = rows.setdefault(take["line"], {"line": take["line"], "text": take["script_text"],
                                             "voice": metadata["voice_name"], "rank": rank,
                                             "status": "missing", "note": note.get("text", ""),
                                             "needs_pass": bool(note.get("needs_pass"))})
        if take.get("stale"):
            continue
        row["text"] = take["script_text"]
        if take.get("rank") == rank:
            settings = take.get("generation_settings") or {}
            row.update({name: settings.get(name) for name in SETTINGS})
            row.update(take_file=take["file"], status="exported",
                       exported_as=f"{take['line']}.mp3",
                       lufs=(take.get("quality") or {}).get("lufs"),
                       duration_s=take.get("duration_s"))
    return list(rows.values())


def manifest_csv(rows: Sequence[Mapping[str, Any]],
                 fields: Sequence[str] = MANIFEST_FIELDS) -> str:
    """The rows as CSV in `fields` order: extra keys dropped, absent ones empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
