"""From ranking to the game: copy a batch's chosen takes, named by their line, with a manifest.

Game audio tools import one file per line, named after it, so the take ranked N of each line is
copied as `<Function>.mp3`. The manifest lists every line of the batch, including the lines
with no take at that rank (status `missing`), so nothing is silently skipped.

This is the classic export; `voicelab.delivery` does the work (and, with its options, the
engine-ready export: formats, loudness, naming presets, the dialogue sheet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voicelab.delivery.deliver import deliver, zip_bytes
from voicelab.delivery.options import DeliveryError, DeliveryOptions
from voicelab.delivery.rows import MANIFEST_FIELDS, manifest_csv, selects

__all__ = ["MANIFEST_FIELDS", "ExportError", "ExportResult", "export_batch", "manifest_csv",
           "selects", "zip_bytes"]

ExportError = DeliveryError
"""Raised when the export folder cannot be used (the delivery's error)."""


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
