"""The dialogue sheet beside an export's files: one row per line, for writers and producers.

`dialogue.csv` only: `dialogue.xlsx` would need openpyxl, which VoiceLab does not install.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

SHEET_NAME = "dialogue.csv"
SHEET_FIELDS = ("skin", "voice", "line", "text", "note", "status", "take", "take_number",
                "rank", "settings", "seed", "request_id", "duration_s", "lufs_before",
                "lufs_after", "true_peak_after", "file")
_SETTINGS = ("stability", "similarity_boost", "style", "speed", "use_speaker_boost")


def sheet_row(row: Mapping[str, Any], take: Mapping[str, Any] | None, skin: str) -> dict[str, Any]:
    """One sheet row from an export row (see deliver) and its chosen take (None: missing)."""
    settings = (take or {}).get("generation_settings") or {}
    return {
        "skin": skin, "voice": row["voice"], "line": row["line"], "text": row["text"],
        "note": row.get("note", ""), "status": row["status"],
        "take": row.get("take_file", ""), "take_number": (take or {}).get("take_number", ""),
        "rank": row["rank"] if take else "",
        "settings": json.dumps({k: settings[k] for k in _SETTINGS if k in settings},
                               sort_keys=True) if take else "",
        "seed": (take or {}).get("seed", ""), "request_id": (take or {}).get("request_id", ""),
        "duration_s": row.get("duration_s", ""), "lufs_before": row.get("lufs_before", ""),
        "lufs_after": row.get("lufs_after", ""), "true_peak_after": row.get("true_peak_after", ""),
        "file": row.get("exported_as", "") if take else "",
    }


def sheet_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Sheet rows as CSV (UTF-8 with a BOM when written, so spreadsheets read accents)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, SHEET_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
