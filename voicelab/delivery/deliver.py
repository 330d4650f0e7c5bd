"""Deliver a batch's chosen takes into a folder the game engine imports.

`deliver` checks every option and every file name first, then writes into a staging folder
beside the destination that replaces `<dest>/<batch_id>/` whole at the end, so a refused or
failed export leaves nothing behind and never mixes with an older one. With default options it
writes what the classic export always wrote: each line's take as `<Function>.mp3` (a byte copy)
and `manifest.csv`. Any engine-ready option (format, rate, depth, loudness, naming, preset)
decodes each take, resamples, levels and encodes it (in parallel threads: libsndfile, soxr and
numpy release the GIL), adds the measured columns to the manifest and writes `dialogue.csv`
and `dialogue.xlsx`.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import zipfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voicelab import store
from voicelab.delivery import formats, loudness, naming, sheet
from voicelab.delivery.options import (
    DeliveryError,
    DeliveryOptions,
    check_options,
    is_classic,
    output_format,
)
from voicelab.delivery.rows import DELIVERY_FIELDS, MANIFEST_FIELDS, manifest_csv, selects
from voicelab.generation import safe_name

MANIFEST_NAME = "manifest.csv"
WORKERS = min(8, os.cpu_count() or 1)
_STORED = {".mp3", ".ogg", ".flac"}  # already compressed: zipped as they are
FilesDone = Callable[[int, int], None]


@dataclass(frozen=True)
class DeliveryResult:
    """What `deliver` wrote: `files` (paths relative to `folder`), `missing` lines (no take at
    the rank), the manifest, the dialogue sheet (None for the classic export), the zip (only
    with `make_zip`) and the manifest's rows."""

    folder: Path
    files: list[str]
    missing: list[str]
    manifest: Path
    sheet: Path | None = None
    archive: Path | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)

    def loudness_range(self) -> tuple[float, float] | None:
        """The lowest and highest loudness after, over the files that have one."""
        values = [float(r["lufs_after"]) for r in self.rows
                  if isinstance(r.get("lufs_after"), int | float)]
        return (min(values), max(values)) if values else None


def _round(value: float | None, places: int = 2) -> float | None:
    return None if value is None else round(value, places)


def _plan_names(rows: list[dict[str, Any]], metadata: store.Metadata,
                takes: Mapping[str, Mapping[str, Any]], options: DeliveryOptions,
                fmt: str) -> None:
    """Set each exported row's `exported_as` from the template (checked: unique, inside)."""
    template = options.naming or naming.PRESET_LAYOUTS[options.preset].template
    naming.check_template(template, fmt)
    values = [{"skin": safe_name(metadata["skin_name"]),
               "voice": safe_name(metadata["voice_name"]), "function": row["line"],
               "line": f"{number:03d}", "take": takes[row["take_file"]].get("take_number", ""),
               "rank": options.rank, "lang": options.lang}
              for number, row in enumerate(rows, start=1) if row["status"] == "exported"]
    exported = [row for row in rows if row["status"] == "exported"]
    for row, path in zip(exported, naming.name_files(template, values, fmt), strict=True):
        row["exported_as"] = path


def _targets(metadata: store.Metadata, rows: list[dict[str, Any]],
             options: DeliveryOptions) -> None:
    """Each row's category (from its take) and loudness target."""
    by_category = (loudness.read_category_targets(Path(options.loudness_by_category))
                   if options.loudness_by_category is not None else {})
    takes = {take["file"]: take for take in metadata["takes"]}
    for row in rows:
        take = takes.get(row.get("take_file") or "") or {}
        category = take.get("category")
        row["category"] = category if isinstance(category, str) else ""
        row["lufs_target"] = loudness.target_for(category, by_category, options.loudness)


def _render(source: Path, target_path: Path, row: dict[str, Any], options: DeliveryOptions,
            fmt: str) -> dict[str, Any]:
    """Decode, resample, level and encode one take into `target_path`; its manifest facts."""
    samples, rate = formats.decode(source)
    upsampling = options.sample_rate is not None and options.sample_rate > rate
    lufs = loudness.integrated_loudness(samples, rate) if upsampling else None
    samples, rate = formats.resample(samples, rate, options.sample_rate)
    target = row.get("lufs_target")
    leveled = (loudness.normalize(samples, rate, target, options.true_peak, lufs)
               if target is not None else loudness.measure(samples, rate, lufs))
    target_path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "mp3" and options.sample_rate is None and target is None:
        shutil.copyfile(source, target_path)  # as generated: no second lossy encode
    else:
        target_path.write_bytes(formats.encode(leveled.samples, rate, fmt, options.bit_depth))
    return {"format": fmt, "sample_rate": rate,
            "bit_depth": (options.bit_depth or formats.DEFAULT_BIT_DEPTH)
            if fmt in ("wav", "flac") else "",
            "duration_s": round(len(leveled.samples) / rate, 3),
            "lufs_before": _round(leveled.lufs_before),
            "true_peak_before": _round(leveled.true_peak_before),
            "lufs_after": _round(leveled.lufs_after),
            "true_peak_after": _round(leveled.true_peak_after),
            "gain_db": _round(leveled.gain_db), "limited": leveled.limited}


def _write_files(batch_dir: Path, staging: Path, rows: list[dict[str, Any]], classic: bool,
                 options: DeliveryOptions, fmt: str, progress: FilesDone | None = None) -> None:
    takes_dir = Path(batch_dir) / store.TAKES_DIR
    exported = [row for row in rows if row["status"] == "exported"]
    lock, done = threading.Lock(), [0]

    def one_done() -> None:
        if progress is not None:
            with lock:  # counted and reported in order, from any thread
                done[0] += 1
                progress(done[0], len(exported))

    if progress is not None:
        progress(0, len(exported))
    if classic:
        for row in exported:
            shutil.copyfile(takes_dir / row["take_file"], staging / row["exported_as"])
            one_done()
        return

    def render(row: dict[str, Any]) -> dict[str, Any]:
        found = _render(takes_dir / row["take_file"], staging / row["exported_as"], row,
                        options, fmt)
        one_done()
        return found

    with ThreadPoolExecutor(WORKERS) as pool:
        facts = list(pool.map(render, exported))
    for row, found in zip(exported, facts, strict=True):
        row.update(found)


def deliver(batch_dir: Path, dest: Path,
            options: DeliveryOptions = DeliveryOptions(),  # noqa: B008
            *, progress: FilesDone | None = None) -> DeliveryResult:
    """Export the takes ranked `options.rank` into `dest/<batch_id>/` (see the module doc).

    With `make_zip`, also `dest/<batch_id>_rank<N>.zip` holding the same folder. `progress`,
    if given, is called with (files written, files to write), from 0 on.

    Raises:
        DeliveryError: a bad option, naming template or category file, two lines named alike,
            a path outside `dest`, an undecodable take, or an unusable `dest` (nothing written).
        InvalidRank: a rank other than 1-5. BatchNotFound, MetadataError: from the store.
    """
    check_options(options)
    metadata = store.load_metadata(batch_dir)
    rows = selects(metadata, options.rank)
    classic = is_classic(options)
    fmt = output_format(options)
    takes = {take["file"]: take for take in metadata["takes"]}
    if not classic:
        _plan_names(rows, metadata, takes, options, fmt)
        _targets(metadata, rows, options)
    dest = Path(dest)
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeliveryError(f"cannot create export folder {dest}: {exc.strerror}") from None
    folder = dest / metadata["batch_id"]
    staging = dest / store.temp_name(metadata["batch_id"])
    staging.mkdir()
    sheet_path = None
    try:
        _write_files(batch_dir, staging, rows, classic, options, fmt, progress)
        fields = MANIFEST_FIELDS if classic else DELIVERY_FIELDS
        (staging / MANIFEST_NAME).write_text(manifest_csv(rows, fields), "utf-8")
        if not classic:
            sheet_rows = [sheet.sheet_row(row, takes.get(row.get("take_file") or ""),
                                          metadata["skin_name"]) for row in rows]
            (staging / sheet.SHEET_NAME).write_text(sheet.sheet_csv(sheet_rows), "utf-8-sig")
            sheet.write_workbook(sheet_rows, staging / sheet.WORKBOOK_NAME)
            sheet_path = folder / sheet.SHEET_NAME
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    archive = None
    if options.make_zip:
        archive = dest / f"{metadata['batch_id']}_rank{options.rank}.zip"
        temp = dest / store.temp_name(archive.name)
        try:
            temp.write_bytes(zip_bytes(folder))
            os.replace(temp, archive)
        finally:
            temp.unlink(missing_ok=True)
    return DeliveryResult(folder, [r["exported_as"] for r in rows if r["status"] == "exported"],
                          [r["line"] for r in rows if r["status"] == "missing"],
                          folder / MANIFEST_NAME, sheet_path, archive, rows)


def zip_bytes(folder: Path) -> bytes:
    """A zip of an export folder, sub-folders included, under `<folder name>/` (compressed
    audio stored as it is, WAV and CSV deflated)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            method = zipfile.ZIP_STORED if path.suffix in _STORED else zipfile.ZIP_DEFLATED
            archive.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}",
                          compress_type=method)
    return buffer.getvalue()


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


def export_batch(batch_dir: Path, dest: Path, *, rank: int = 1,
                 make_zip: bool = False) -> ExportResult:
    """Copy the takes ranked `rank` into `dest/<batch_id>/` and write `manifest.csv` there.

    With `make_zip`, also write `dest/<batch_id>_rank<N>.zip` holding the same files. An
    existing export of the same batch is replaced whole, never mixed with the new one.
    """
    result = deliver(batch_dir, dest, DeliveryOptions(rank=rank, make_zip=make_zip))
    return ExportResult(result.folder, result.files, result.missing, result.manifest,
                        result.archive)
