"""From ranking to the game: copy a batch's chosen takes, named by their line, with a manifest.

Game audio tools import one file per line, named after it, so the take ranked N of each line is
copied as `<Function>.mp3`. The manifest lists every line of the batch, including the lines
with no take at that rank (status `missing`), so nothing is silently skipped.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import store
from voicelab.errors import InvalidRank, VoicelabError

MANIFEST_FIELDS = ("line", "text", "voice", "take_file", "rank", "status", "stability",
                   "similarity_boost", "style", "speed", "use_speaker_boost", "lufs",
                   "duration_s", "exported_as", "note", "needs_pass")


class ExportError(VoicelabError):
    """Raised when the export folder cannot be used."""


@dataclass(frozen=True)
class ExportResult:
    """What `export_batch` wrote: `exported` file names, `missing` lines (no take at the rank).

    `archive` is set only with `make_zip`.
    """

    folder: Path
    exported: list[str]
    missing: list[str]
    manifest: Path
    archive: Path | None = None


def selects(metadata: store.Metadata, rank: int = 1) -> list[dict[str, Any]]:
    """One manifest row per line of the batch, in script order: its take at `rank`, or missing.

    Stale and removed takes are never exported (DESIGN decision 13): a removed line has no row,
    and a line's text is its current takes'. Each row carries the line's director note.
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
            row.update({name: settings.get(name) for name in
                        ("stability", "similarity_boost", "style", "speed", "use_speaker_boost")})
            row.update(take_file=take["file"], status="exported",
                       exported_as=f"{take['line']}.mp3",
                       lufs=(take.get("quality") or {}).get("lufs"),
                       duration_s=take.get("duration_s"))
    return list(rows.values())


def manifest_csv(rows: list[dict[str, Any]]) -> str:
    """The manifest rows as CSV in MANIFEST_FIELDS order: extra keys dropped, absent ones empty."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, MANIFEST_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def export_batch(batch_dir: Path, dest: Path, *, rank: int = 1,
                 make_zip: bool = False) -> ExportResult:
    """Copy the takes ranked `rank` into `dest/<batch_id>/` and write `manifest.csv` there.

    With `make_zip`, also write `dest/<batch_id>_rank<N>.zip` holding the same files. An
    existing export of the same batch is replaced whole, never mixed with the new one.
    """
    metadata = store.load_metadata(batch_dir)
    rows = selects(metadata, rank)
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create export folder {dest}: {exc.strerror}") from None
    folder = dest / metadata["batch_id"]
    staging = dest / store.temp_name(metadata["batch_id"])
    staging.mkdir()
    try:
        for row in rows:
            if row["status"] == "exported":
                shutil.copyfile(Path(batch_dir) / store.TAKES_DIR / row["take_file"],
                                staging / row["exported_as"])
        (staging / "manifest.csv").write_text(manifest_csv(rows), "utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    archive = None
    if make_zip:
        archive = dest / f"{metadata['batch_id']}_rank{rank}.zip"
        archive.write_bytes(zip_bytes(folder))
    return ExportResult(folder, [r["exported_as"] for r in rows if r["status"] == "exported"],
                        [r["line"] for r in rows if r["status"] == "missing"],
                        folder / "manifest.csv", archive)


def zip_bytes(folder: Path) -> bytes:
    """A zip of an export folder (MP3s stored, not recompressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            method = zipfile.ZIP_STORED if path.suffix == ".mp3" else zipfile.ZIP_DEFLATED
            archive.write(path, f"{folder.name}/{path.name}", compress_type=method)
    return buffer.getvalue()
