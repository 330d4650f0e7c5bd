"""What the API shows each person of a batch ranked by a panel (docs/design.md, decision 12).

Blind means blind in every channel a rater can read, so every route that answers with a batch's
takes asks here first. `voicelab.panel.view_mode` says how a person sees a batch:

- solo (no panel, or a locked one for non-leads) and lead: the metadata as stored, except the
  panel's `order_key` (from it and the file names anyone could rebuild a rater's blind ids and
  order, so no answer carries it);
- rater (an open panel that is not blind): `panel.rater_metadata` (settings shown, only their
  own ranks, `ranked_at` null: as stored it is the consensus's time), and never `ranked/` over
  /audio (which links hold which rank is the consensus);
- blind (a rater, or any non-lead, of an open blind panel): `panel.rater_metadata`'s blind
  shape (opaque ids, labels, no file names, settings, seeds or other ranks); takes are named
  by those ids only, and /audio refuses every take of the batch (a file name tells the take).

The history of an open panel batch names every rater's moves, so it is a lead's only.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import NotFound

from voicelab import panel, store
from voicelab.errors import Forbidden, MetadataError, VoicelabError
from voicelab.people import Person
from voicelab.store import BatchRecord, Metadata

log = logging.getLogger(__name__)
Take = dict[str, Any]
FULL = ("solo", "lead")
"""The view modes that read the metadata as stored."""


def mode_of(metadata: Metadata, batch_dir: Path, caller: Person) -> str:
    """How `caller` sees this batch: one of panel.MODES (solo, lead, blind, rater)."""
    return panel.view_mode(metadata, locked=store.is_locked(batch_dir), name=caller.name,
                           role=caller.role)


@contextlib.contextmanager
def names_hidden(metadata: Metadata, batch_dir: Path, caller: Person) -> Iterator[None]:
    """A refusal raised inside names none of the panel's other people to a rater of it ("line
    'L1' was closed by someone"), as the board says it; a lead's and a solo batch's as is."""
    try:
        yield
    except VoicelabError as exc:
        names = panel.hidden_names(metadata, mode_of(metadata, batch_dir, caller), caller.name)
        if names:
            exc.args = (panel.unnamed(str(exc), names),)
        raise


def public_panel(panel_object: dict[str, Any]) -> dict[str, Any]:
    """A panel object as any answer may carry it: without its `order_key`."""
    return {key: value for key, value in panel_object.items() if key != "order_key"}


def without_order_key(metadata: Metadata) -> Metadata:
    """The metadata with its panel (if any) made public; a solo batch's is returned as is."""
    found = panel.panel_of(metadata)
    if found is None:
        return metadata
    return {**metadata, "panel": public_panel(found)}


def metadata_for(metadata: Metadata, batch_dir: Path, caller: Person) -> Metadata:
    """The batch's metadata as `caller` may read it (see the module)."""
    mode = mode_of(metadata, batch_dir, caller)
    if mode in FULL:
        return without_order_key(metadata)
    return _rater_view(metadata, caller, mode)


def _rater_view(metadata: Metadata, caller: Person, mode: str) -> Metadata:
    """`panel.rater_metadata` for `caller` in `mode` (blind or rater)."""
    return panel.rater_metadata(metadata, name=caller.name, blind=mode == "blind")


def line_for(metadata: Metadata, takes: list[Take], mode: str, caller: Person) -> list[Take]:
    """The answer to a rank change or undo: the changed line's `takes` as `caller` may see them
    in `mode` (for a rater: their own ranks, and in blind mode ids and labels, not files)."""
    if mode in FULL:
        return takes
    seen: list[Take] = _rater_view({**metadata, "takes": takes}, caller, mode)["takes"]
    return seen


def take_file(metadata: Metadata, mode: str, caller: Person, name: str) -> str:
    """The file a caller names as `name`: in blind mode a rater names takes by their opaque ids
    only (a file name would let them rank a known take and learn its label), so an id that is
    not theirs is a 404. Anyone else's `name` is the file name (a non-rater's change is refused
    by `panel.rate` anyway)."""
    found = panel.panel_of(metadata)
    if mode != "blind" or found is None or caller.name not in found["raters"]:
        return name
    file = panel.resolve_blind(metadata, caller.name, name)
    if file is None:
        raise NotFound(f"no take with id {name!r} on your board: a rater of a blind panel names "
                       f"takes by the ids GET /api/batch/{metadata['batch_id']} gives them")
    return file


def refuse_history(batch_dir: Path, caller: Person) -> None:
    """Raise Forbidden for a non-lead reading the history of an open panel batch."""
    if caller.role != "lead" and open_panel_of(batch_dir) is not None:
        raise Forbidden(caller.name, caller.role,
                        "read the history of a batch while its panel is open (it names every "
                        "rater's ranks)", "lead")


# --- what a listing and /audio need: a panel's summary, cached by metadata.json's stat ------


class PanelSummary(NamedTuple):
    """What a listing and /audio need of an open panel: blind, and each rater's ranked takes."""

    blind: bool
    ranked_by: dict[str, int]


@functools.lru_cache(maxsize=512)
def _summary(path: str, _mtime_ns: int, _size: int) -> PanelSummary | None:
    metadata = store.load_metadata(path, check_files=False)
    found = panel.panel_of(metadata)
    if found is None:
        return None
    counts: dict[str, int] = {}
    for take in metadata["takes"]:
        for name in take.get("ranks_by") or {}:
            counts[name] = counts.get(name, 0) + 1
    return PanelSummary(bool(found.get("blind", True)), counts)


def open_panel_of(batch_dir: Path | str) -> PanelSummary | None:
    """The summary of the batch's panel if it has one and is not locked, else None.

    Cached by metadata.json's mtime and size (saves are atomic renames: a new file, a new
    stat), so /audio pays one stat per request for a batch it has seen.
    """
    if store.is_locked(Path(batch_dir)):
        return None
    try:
        stat = os.stat(os.path.join(batch_dir, store.METADATA_NAME))
    except OSError:
        return None
    return _summary(os.fspath(batch_dir), stat.st_mtime_ns, stat.st_size)


def listing_for(records: list[BatchRecord], caller: Person) -> list[BatchRecord]:
    """The batch list as `caller` may read it: for a non-lead, an open panel batch's
    `ranked_count` counts only their own ranked takes (the consensus count would tell them how
    far the other raters are)."""
    if caller.role == "lead":
        return records
    result = []
    for record in records:
        if record.get("panel") and record["ranked_count"] and not record["locked"]:
            try:
                summary = open_panel_of(record["path"])
            except MetadataError as exc:  # broken since it was listed: left out, as the list does
                log.warning("skipping broken batch: %s", exc)
                continue
            if summary is not None:
                record = {**record, "ranked_count": summary.ranked_by.get(caller.name, 0)}
        result.append(record)
    return result


def refuse_audio(relpath: str, real: Path, caller: Person) -> None:
    """Raise a 403 when `caller` may not fetch this MP3 while its batch's panel is open: any
    take of a blind panel (the file name tells the take: listen on the board), and `ranked/`
    of any panel (which take holds which rank is the consensus). Leads fetch anything."""
    if caller.role == "lead" or real.parent.name != store.TAKES_DIR:
        return
    summary = open_panel_of(real.parent.parent)
    if summary is None:
        return
    if summary.blind:
        raise HTTPForbidden("this batch is being rated by a blind panel: its takes cannot be "
                            "fetched by file name until it is locked; listen on the board")
    if store.RANKED_DIR in PurePosixPath(relpath).parts:
        raise HTTPForbidden("this batch is being rated by a panel: ranked/ holds its consensus, "
                            "which only a lead may read until it is locked; play takes/ instead")
