"""The dialogue sheet beside an export's files: one row per line, for writers and producers.

`dialogue.csv` (UTF-8 with a BOM) and the same rows as `dialogue.xlsx` (openpyxl): a bold,
frozen header row, an auto-filter and columns sized to their text, so a producer opens it ready
to sort and filter.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from voicelab.delivery.rows import SETTINGS, manifest_csv

SHEET_NAME = "dialogue.csv"
WORKBOOK_NAME = "dialogue.xlsx"
MAX_COLUMN_WIDTH = 60
SHEET_FIELDS = ("skin", "voice", "line", "text", "note", "status", "take", "take_number",
                "rank", "settings", "seed", "request_id", "duration_s", "lufs_before",
                "lufs_after", "true_peak_after", "file")


def sheet_row(row: Mapping[str, Any], take: Mapping[str, Any] | None, skin: str) -> dict[str, Any]:
    """One sheet row from an export row (see deliver) and its chosen take (None: missing)."""
    settings = (take or {}).get("generation_settings") or {}
    return {
        "skin": skin, "voice": row["voice"], "line": row["line"], "text": row["text"],
        "note": row.get("note", ""), "status": row["status"],
        "take": row.get("take_file", ""), "take_number": (take or {}).get("take_number", ""),
        "rank": row["rank"] if take else "",
        "settings": json.dumps({k: settings[k] for k in SETTINGS if k in settings},
                               sort_keys=True) if take else "",
        "seed": (take or {}).get("seed", ""), "request_id": (take or {}).get("request_id", ""),
        "duration_s": row.get("duration_s", ""), "lufs_before": row.get("lufs_before", ""),
        "lufs_after": row.get("lufs_after", ""), "true_peak_after": row.get("true_peak_after", ""),
        "file": row.get("exported_as", "") if take else "",
    }


def sheet_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Sheet rows as CSV (UTF-8 with a BOM when written, so spreadsheets read accents)."""
    return manifest_csv(rows, SHEET_FIELDS)


def write_workbook(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """The sheet rows as an Excel workbook at `path`: one sheet "Dialogue", values typed (numbers
    stay numbers), text cells never read as formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Dialogue"
    sheet.append(list(SHEET_FIELDS))
    for row in rows:
        sheet.append([_cell(row.get(name, "")) for name in SHEET_FIELDS])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, name in enumerate(SHEET_FIELDS, start=1):
        longest = max([len(name), *(len(str(r.get(name, "") or "")) for r in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(MAX_COLUMN_WIDTH,
                                                                      longest + 2)
    workbook.save(path)


def _cell(value: Any) -> Any:
    """A value as a workbook cell: numbers and text as they are, None as empty."""
    return "" if value is None else value
