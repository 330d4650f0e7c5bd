"""Marks on a batch's lines: stale and removed takes, and director notes (docs/design.md,
decision 13).

A batch grows, it never forgets: nothing here deletes a take. Each change is one
read-modify-write under the batch lock with one history entry per line, like every rank change:

- **stale** (`take["stale"] = {"text_was": ..., "since": ...}`): the line's text (or a
  pronunciation it uses) changed, so its old takes no longer say the line. Their ranks are
  cleared (the seed's `rank`, and on a panel every rater's), so `ranked/` and the consensus
  forget them; the entry records what was cleared. Stale takes are never exported.
- **removed** (`take["removed"] = {"since": ...}`): the line is gone from the script. Its takes
  keep their ranks but are hidden by default and never exported.
- **notes** (`metadata["notes"][line] = {"text", "by", "at", "needs_pass"}`): a director's note
  and a "needs another pass" flag per line; notes may be written on a locked batch (they change
  no rank).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voicelab import clock, history, ranking, store
from voicelab.errors import LineError
from voicelab.store.schema import Metadata

NOTE_LIMIT = 2000
"""A note's length limit, in characters."""


def _record(batch_dir: Path, metadata: Metadata, entries: list[dict[str, Any]],
            moves: Mapping[str, tuple[int | None, int | None]]) -> None:
    """Append the entries (each numbered with its own revision), save, move links."""
    revision: int = metadata.get("revision", 0)
    for entry in entries:
        revision += 1
        history.append(batch_dir, {**entry, "revision": revision})
    metadata["revision"] = revision
    store.save_metadata(batch_dir, metadata)
    store.update_links(batch_dir, metadata, moves)


def mark_stale(batch_dir: Path, old_texts: Mapping[str, str | None], *,
               person: str = "cli") -> list[str]:
    """Mark every current take of the lines in `old_texts` (Function -> the text they said)
    stale and clear their ranks; return the files marked. One `stale` entry per line, whose
    moves clear the seed's ranks and whose `raters_cleared` holds the panel raters' ranks.

    Raises:
        BatchLocked: the batch is locked. InvalidName, MetadataError.
    """
    person = ranking.check_person(person)
    batch_dir = Path(batch_dir)
    marked: list[str] = []
    with store.batch_lock(batch_dir):
        metadata = ranking.load_open(batch_dir)
        now = clock.utc_now()
        entries, all_moves = [], {}
        for line, text_was in old_texts.items():
            moves: dict[str, tuple[int | None, int | None]] = {}
            cleared: dict[str, dict[str, int]] = {}
            files = []
            for take in ranking.line_takes(metadata, line):
                if take.get("stale") or take.get("removed"):
                    continue
                take["stale"] = {"text_was": take["script_text"] if text_was is None
                                 else text_was, "since": now}
                files.append(take["file"])
                if take["rank"] is not None:
                    moves[take["file"]] = (take["rank"], None)
                if take.get("ranks_by"):
                    cleared[take["file"]] = take["ranks_by"]
                take.update(rank=None, ranked_at=None, ranked_by=None)
                if "ranks_by" in take:
                    take["ranks_by"] = {}
            if files:
                marked += files
                entries.append({**history.make_entry(person=person, action="stale", line=line,
                                                     moves=moves, revision=0),
                                "files": files, "raters_cleared": cleared})
                all_moves.update(moves)
        if entries:
            _record(batch_dir, metadata, entries, all_moves)
    return marked


def mark_removed(batch_dir: Path, lines: list[str], *, person: str = "cli") -> list[str]:
    """Mark every take of `lines` removed (ranks kept, hidden, never exported); return the
    files marked. One `remove` entry per line.

    Raises:
        BatchLocked: the batch is locked. InvalidName, MetadataError.
    """
    person = ranking.check_person(person)
    batch_dir = Path(batch_dir)
    marked: list[str] = []
    with store.batch_lock(batch_dir):
        metadata = ranking.load_open(batch_dir)
        now = clock.utc_now()
        entries = []
        for line in lines:
            files = []
            for take in ranking.line_takes(metadata, line):
                if not take.get("removed"):
                    take["removed"] = {"since": now}
                    files.append(take["file"])
            if files:
                marked += files
                entries.append({**history.make_entry(person=person, action="remove",
                                                     line=line, revision=0), "files": files})
        if entries:
            _record(batch_dir, metadata, entries, {})
    return marked


def check_note(text: object, needs_pass: object) -> tuple[str, bool]:
    """A note's text (stripped, at most NOTE_LIMIT characters) and flag, checked.

    Raises:
        LineError: not a string, too long, or a flag that is not true/false.
    """
    if not isinstance(text, str):
        raise LineError(f"a note is text, not {type(text).__name__}")
    if len(text) > NOTE_LIMIT:
        raise LineError(f"a note has at most {NOTE_LIMIT} characters, got {len(text)}")
    if not isinstance(needs_pass, bool):
        raise LineError(f"needs_pass is true or false, not {needs_pass!r}")
    return text.strip(), needs_pass


def set_note(batch_dir: Path, line: str, text: object, *, needs_pass: object = False,
             person: str = "cli") -> dict[str, Any] | None:
    """Write a line's director note and "needs another pass" flag (an empty text and no flag
    removes the note); return the note now (None: none). One `note` entry with the note
    before and after; writing the same note again writes nothing. Allowed on a locked batch.

    Raises:
        LineError: a bad note, or no such line. InvalidName, MetadataError.
    """
    person = ranking.check_person(person)
    body, flag = check_note(text, needs_pass)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = store.load_metadata(batch_dir)
        if not any(take["line"] == line for take in metadata["takes"]):
            raise LineError(f"batch {metadata['batch_id']} has no line {line!r}")
        notes: dict[str, Any] = dict(metadata.get("notes") or {})
        before: dict[str, Any] | None = notes.get(line)
        if before is not None and (before.get("text"), before.get("needs_pass")) == (body, flag):
            return before
        after = {"text": body, "by": person, "at": clock.utc_now(), "needs_pass": flag} \
            if body or flag else None
        if after is None and before is None:
            return None
        if after is None:
            notes.pop(line, None)
        else:
            notes[line] = after
        metadata["notes"] = notes
        entry = {**history.make_entry(person=person, action="note", line=line, revision=0),
                 "note_before": before, "note_after": after}
        _record(batch_dir, metadata, [entry], {})
    return after
