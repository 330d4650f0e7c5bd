"""Finding batches under AUDIO_ROOT (`<root>/<skin>/<voice>/<batch>`) and listing them."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from voicelab.errors import BatchNotFound, MetadataError
from voicelab.store.layout import METADATA_NAME, is_locked
from voicelab.store.metadata import read_json
from voicelab.store.schema import ranks_listable, validate_metadata, validate_top

log = logging.getLogger(__name__)


class BatchRecord(TypedDict):
    """One row of `find_batches`: JSON-ready, enough to list batches without opening takes."""

    skin: str
    voice: str
    batch_id: str
    path: str
    take_count: int
    ranked_count: int
    locked: bool
    generated_at_utc: str | None
    panel: PanelSummary | None


class PanelSummary(TypedDict):
    """A panel batch's listing: how many raters, and whether it is blind (never who)."""

    raters: int
    blind: bool



def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return [
                e.path
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            ]
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("cannot list %s: %s", path, exc.strerror)
        return []


def _batch_paths(root: Path | str) -> list[str]:
    return [
        batch
        for skin in _subdirs(os.fspath(root))
        for voice in _subdirs(skin)
        for batch in _subdirs(voice)
    ]


def batch_dirs(root: Path) -> list[Path]:
    """Every folder at batch depth (`root/<skin>/<voice>/<batch>`), hidden names skipped."""
    return [Path(path) for path in _batch_paths(root)]


def valid_batch_id(batch_id: str) -> bool:
    """Whether `batch_id` is a plain folder name (no separators, NUL, `..`, leading dot)."""
    return bool(batch_id) and not (
        batch_id.startswith(".") or ".." in batch_id or any(ch in batch_id for ch in "/\\\0")
    )


def find_batch(root: Path, batch_id: str) -> Path:
    """The folder of the batch `batch_id` under root (`root/*/*/<batch_id>`).

    Raises:
        BatchNotFound: no such batch, or an id that is not a plain folder name.
    """
    if not isinstance(batch_id, str) or not valid_batch_id(batch_id):
        raise BatchNotFound(str(batch_id))
    matches = [
        path
        for skin in _subdirs(os.fspath(root))
        for voice in _subdirs(skin)
        if (path := Path(voice, batch_id)).is_dir() and not path.is_symlink()
    ]
    if not matches:
        raise BatchNotFound(batch_id)
    if len(matches) > 1:
        matches.sort()
        log.warning("batch id %s is in %d folders; using %s", batch_id, len(matches), matches[0])
    return matches[0]


def _newest_first(record: BatchRecord) -> tuple[bool, datetime, str]:
    # A batch still generating (no generated_at_utc yet) is the newest of all.
    stamp = record["generated_at_utc"]
    if stamp is None:
        return (True, datetime.max.replace(tzinfo=UTC), record["batch_id"])
    when = datetime.fromisoformat(stamp)
    return (False, when if when.tzinfo else when.replace(tzinfo=UTC), record["batch_id"])


def _listing(path: str) -> BatchRecord:
    """The record of one batch, checking only what the record reports (see find_batches)."""
    metadata_path = os.path.join(path, METADATA_NAME)
    data = validate_top(read_json(metadata_path), metadata_path)
    ranks = ranks_listable(data["takes"])
    if ranks is None:
        validate_metadata(data, metadata_path)  # raises, naming the take
        raise MetadataError(metadata_path, "a take's rank is not listable")
    return {
        "skin": data["skin_name"],
        "voice": data["voice_name"],
        "batch_id": data["batch_id"],
        "path": path,
        "take_count": len(ranks),
        "ranked_count": len(ranks) - ranks.count(None),
        "locked": is_locked(path),
        "generated_at_utc": data["generated_at_utc"],
        "panel": {"raters": len(panel["raters"]), "blind": panel["blind"]}
        if isinstance(panel := data.get("panel"), dict) else None,
    }


def find_batches(root: Path) -> list[BatchRecord]:
    """One record per listable batch under root, newest first (still generating = newest).

    Checked here is what a record reports: metadata.json parses, its top-level fields follow
    schema v1 and every take has a valid rank. The other take fields are checked when the
    batch is opened (load_metadata) and by fsck, take files are not looked at: listing
    thousands of batches stays within 1.5x of merely parsing their metadata.json. A batch that
    fails is logged and left out, never raised.
    """
    records: list[BatchRecord] = []
    for path in _batch_paths(root):
        try:
            records.append(_listing(path))
        except MetadataError as exc:
            log.warning("skipping broken batch: %s", exc)
    records.sort(key=_newest_first, reverse=True)
    return records
