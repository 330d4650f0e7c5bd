"""Who changed what in a batch: the append-only change log `<batch>/history.jsonl` (decision 11).

One JSON object per line, oldest first; every change to a batch appends exactly one, under the
batch lock, so the log replays to the metadata's ranks. An entry:

    {"seq": 7, "time": "2026-11-29T10:02:13.120Z", "person": "bob", "action": "rank",
     "line": "Greeting_01", "take": "Greeting_01_take_3.mp3",
     "before": {"Greeting_01_take_3.mp3": null, "Greeting_01_take_1.mp3": 1},
     "after": {"Greeting_01_take_3.mp3": 1, "Greeting_01_take_1.mp3": 2},
     "revision": 12}

- `seq` counts 1, 2, ... within the batch, without gaps; `time` is `clock.utc_now()`.
- `action` is one of ACTIONS: `rank` and `clear` (a take given a rank or none, `take` being that
  take), `undo` (with `undoes`, the seq it undid), `lock` and `unlock` (`line` and `take` null,
  `before` and `after` empty), and `baseline` (see below). A lock forced past the quality gate
  (`ranking.lock(..., force=True)`) also has `forced: true` and `problems`, the lines it was
  warned about: `[{"line", "problems", "take"}]`.
- `before` and `after` map file -> rank (null = unranked) for exactly the takes whose rank the
  change moved: the cascade's moves. Replaying every `after` in order gives the ranks.
- `revision` is the metadata `revision` the change saved.
- Panel batches (`voicelab.panel`, decision 12): `before` and `after` still move the seed's `rank`
  (the consensus), so replay still gives the metadata's ranks. A change to one rater's own ranking
  also names the `rater` and moves their ranks in `rater_before` and `rater_after` (`replay_raters`
  replays those). `panel` opens a panel (a solo ranking there becomes the opener's), `override`
  is a lead setting a line's final ranks, `close` and `reopen` freeze and free a line.
- A batch's lines (`voicelab.lines`, decision 13): `takes` adds takes to a line (`files`), `stale`
  marks a line's takes stale (`files`; its moves clear their ranks, `raters_cleared` holds the
  panel raters' ranks it cleared), `remove` marks a line's takes removed (`files`, ranks kept),
  `note` writes a line's director note (`note_before`, `note_after`).
- `baseline`: a batch ranked before it had a history gets, ahead of its first entry, one entry by
  "voicelab" whose `after` holds every ranked take's rank then, so replay starts from the truth.

Crash safety: writers append the entry first and save metadata.json second. A crash between the
two leaves an entry whose `revision` is greater than the metadata's: readers ignore it and the next
`append` truncates it away, together with any torn last line. Nothing else is ever removed: the
history grows by one line per change, for as long as the batch lives (it is the record). Reading
streams the file; `append` reads only its tail, so a long history does not slow ranking down.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from voicelab import clock, store
from voicelab.errors import MetadataError, UndoRefused
from voicelab.store.metadata import read_json
from voicelab.store.schema import validate_top

HISTORY_NAME = "history.jsonl"
ACTIONS = ("baseline", "rank", "clear", "lock", "unlock", "undo", "panel", "override", "close",
           "reopen", "stale", "remove", "note", "takes")
UNDOABLE = ("rank", "clear", "override")
"""The actions undo takes back: a person's rank changes and a lead's override (never lock,
unlock, an undo, or opening a panel or closing a line)."""
BASELINE_PERSON = "voicelab"
_TAIL_CHUNK = 16_384

Entry = dict[str, Any]
Ranks = dict[str, int | None]
Moves = Mapping[str, tuple[int | None, int | None]]


@dataclass(frozen=True)
class UndoPlan:
    """What an undo will do: take back entry `undoes` by putting the line's ranks as they were.

    `moves` is `{file: (rank now, rank restored)}` for the takes whose rank changes.
    """

    undoes: int
    line: str
    take: str | None
    moves: dict[str, tuple[int | None, int | None]]
    rater: str | None = None
    """Set when the undo restores that panel rater's own ranking (`moves` are of it)."""


def history_path(batch_dir: Path | str) -> Path:
    """Where a batch's history lives: `<batch>/history.jsonl`."""
    return Path(batch_dir) / HISTORY_NAME


def make_entry(
    *,
    person: str,
    action: str,
    revision: int,
    line: str | None = None,
    take: str | None = None,
    moves: Moves | None = None,
    undoes: int | None = None,
    rater: str | None = None,
    rater_moves: Moves | None = None,
) -> Entry:
    """A new entry (stamped now, not yet numbered: `append` gives it its `seq`).

    `moves` is `{file: (old rank, new rank)}` for the takes the change moved; `revision` is the
    metadata revision the change is about to save. A change to a panel rater's own ranking
    names the `rater` and their `rater_moves` (same shape).
    """
    moves = moves or {}
    entry: Entry = {
        "time": clock.utc_now(),
        "person": person,
        "action": action,
        "line": line,
        "take": take,
        "before": {name: old for name, (old, _new) in moves.items()},
        "after": {name: new for name, (_old, new) in moves.items()},
        "revision": revision,
    }
    if undoes is not None:
        entry["undoes"] = undoes
    if rater is not None:
        rater_moves = rater_moves or {}
        entry["rater"] = rater
        entry["rater_before"] = {name: old for name, (old, _new) in rater_moves.items()}
        entry["rater_after"] = {name: new for name, (_old, new) in rater_moves.items()}
    return entry


def _check_entry(entry: Mapping[str, Any]) -> None:
    problems = []
    if entry.get("action") not in ACTIONS:
        problems.append(f"action must be one of {', '.join(ACTIONS)}")
    if not isinstance(entry.get("person"), str) or not entry["person"]:
        problems.append("person must be a non-empty string")
    revision = entry.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool) or revision < 0:
        problems.append("revision must be an integer >= 0")
    if not isinstance(entry.get("before"), dict) or not isinstance(entry.get("after"), dict):
        problems.append("before and after must be objects")
    if entry.get("action") == "undo" and not isinstance(entry.get("undoes"), int):
        problems.append("an undo must say which seq it undoes")
    if problems:
        raise ValueError(f"not a history entry ({'; '.join(problems)}): {dict(entry)!r}")


def _parse(raw: bytes) -> Entry | None:
    """The entry on one line, or None when the line is not one (torn, garbage)."""
    try:
        entry = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if (
        isinstance(entry, dict)
        and type(entry.get("seq")) is int
        and type(entry.get("revision")) is int
        and entry.get("action") in ACTIONS
    ):
        return entry
    return None


def _valid_end(fd: int, size: int, revision: int) -> tuple[int, Entry | None]:
    """Where the kept history ends, and its last entry (None: nothing is kept).

    Walks back from the end over a torn last line, lines that are not entries, and entries of
    `revision` or later (left-overs of a crash between append and save), reading only the tail.
    """
    chunk = _TAIL_CHUNK
    while True:
        start = max(0, size - chunk)
        data = os.pread(fd, size - start, start)
        end = data.rfind(b"\n") + 1  # past the last complete line; what follows is torn
        while end > 0:
            begin = data.rfind(b"\n", 0, end - 1) + 1
            if begin == 0 and start > 0:
                break  # this line may start before the chunk: read more
            entry = _parse(data[begin : end - 1])
            if entry is not None and entry["revision"] < revision:
                return start + end, entry
            end = begin
        if start == 0:
            return 0, None
        chunk *= 4


def _latest(times: Iterable[object]) -> str | None:
    best: tuple[datetime, str] | None = None
    for time in times:
        try:
            stamp = datetime.fromisoformat(time)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
        if best is None or stamp > best[0]:
            best = (stamp, str(time))
    return None if best is None else best[1]


def baseline(metadata: store.Metadata) -> Entry | None:
    """The `baseline` entry of a batch ranked before it had a history (None: nothing ranked).

    Deterministic, so reading before the first append shows what that append will write: its
    time is the latest `ranked_at` of the ranked takes (else the batch's generation time).
    """
    ranked = [t for t in metadata["takes"] if t["rank"] is not None]
    if not ranked:
        return None
    time = (_latest(t.get("ranked_at") for t in ranked)
            or _latest([metadata.get("generated_at_utc")]) or clock.utc_now())
    return {"seq": 1, "time": time, "person": BASELINE_PERSON, "action": "baseline",
            "line": None, "take": None, "before": {},
            "after": {t["file"]: t["rank"] for t in ranked},
            "revision": metadata.get("revision", 0)}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def append(batch_dir: Path | str, entry: Mapping[str, Any]) -> Entry:
    """Append one entry to the batch's history, durably; return it as written (with `seq`).

    Call it holding the batch lock (`store.batch_lock`, reentrant: taken here too), before
    saving the metadata the entry describes: `entry["revision"]` is the revision that save will
    write, one more than the metadata's now. Entries of that revision or later are left-overs of
    a crash between an append and its save: they are truncated away first, with a torn last line.

    The line is written with O_APPEND and fsynced; a missing file is created atomically (temp
    file, fsync, rename), with the `baseline` entry first when the batch already holds ranks.

    Raises:
        ValueError: `entry` is not a history entry (a programming error).
        MetadataError: the batch folder or its metadata is missing or invalid.
    """
    _check_entry(entry)
    batch_dir = Path(batch_dir)
    path = history_path(batch_dir)
    with store.batch_lock(batch_dir):
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        except FileNotFoundError:
            fd = -1
        try:
            last = None
            if fd >= 0:
                size = os.fstat(fd).st_size
                keep, last = _valid_end(fd, size, entry["revision"])
                if keep < size:
                    os.ftruncate(fd, keep)
            lines: list[Entry] = []
            if last is None and (first := baseline(
                    store.load_metadata(batch_dir, check_files=False))) is not None:
                lines.append(first)
            seq = (last["seq"] if last is not None else len(lines)) + 1
            written: Entry = {"seq": seq}
            written.update((key, value) for key, value in entry.items() if key != "seq")
            written.setdefault("time", clock.utc_now())
            lines.append(written)
            payload = b"".join(orjson.dumps(line) + b"\n" for line in lines)
            if fd < 0:
                store.atomic_write_bytes(path, payload)
            else:
                _write_all(fd, payload)
                os.fsync(fd)
        finally:
            if fd >= 0:
                os.close(fd)
    return written


def _metadata_revision(batch_dir: Path) -> int:
    path = batch_dir / store.METADATA_NAME
    revision: int = validate_top(read_json(os.fspath(path)), path).get("revision", 0)
    return revision


class _Damaged(Exception):
    """A line other than the last is not an entry (at `line`)."""

    def __init__(self, line: int) -> None:
        self.line = line
        super().__init__(line)


def _scan(path: Path, revision: int) -> Iterator[Entry]:
    """Stream the file's entries up to `revision`; skip a torn tail; raise _Damaged inside."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 (a generator holds it across yields)
    except FileNotFoundError:
        return
    with handle:
        bad: int | None = None
        for number, raw in enumerate(handle, start=1):
            entry = _parse(raw) if raw.endswith(b"\n") else None
            if entry is None:
                bad = bad or number
                continue
            if bad is not None:
                raise _Damaged(bad)
            if entry["revision"] <= revision:
                yield entry


def read(batch_dir: Path | str, *, revision: int | None = None) -> list[Entry]:
    """The batch's valid entries, oldest first, streamed from the file line by line.

    Entries of a revision beyond the metadata's (`revision`, read from metadata.json when not
    given) are crash left-overs and skipped, as is a torn last line. A batch with no entry yet
    has none, except one ranked before history existed: it shows the `baseline` its first
    change will write (reading never writes), so the history always replays to its ranks.
    Reading takes no lock; only if it meets a damaged line (which a writer truncating a crash
    left-over at that moment could show) does it read again under the batch lock.

    Raises:
        MetadataError: metadata.json is missing or invalid, or a line other than the last is
            not a history entry (the file was damaged by something other than VoiceLab).
    """
    batch_dir = Path(batch_dir)
    if revision is None:
        revision = _metadata_revision(batch_dir)
    path = history_path(batch_dir)
    try:
        entries = list(_scan(path, revision))
    except _Damaged:
        with store.batch_lock(batch_dir):
            try:
                entries = list(_scan(path, revision))
            except _Damaged as damaged:
                raise MetadataError(path, f"line {damaged.line} is not a history entry") from None
    if not entries and (first := baseline(store.load_metadata(batch_dir, check_files=False))):
        entries.append(first)
    return entries


def replay(entries: Iterable[Mapping[str, Any]], files: Iterable[str]) -> Ranks:
    """The ranks the history leads to: `{file: rank or None}` for `files` (pure).

    Starts with every file unranked and applies each entry's `after` in order; a file named by
    the history but not in `files` appears too, so a mismatch shows.
    """
    ranks: Ranks = dict.fromkeys(files)
    for entry in entries:
        ranks.update(entry.get("after") or {})
    return ranks


def replay_raters(entries: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Each panel rater's own ranks the history leads to: `{rater: {file: rank}}` (pure;
    unranked takes left out, as in a take's `ranks_by`)."""
    raters: dict[str, dict[str, int]] = {}
    for entry in entries:
        for name, cleared in (entry.get("raters_cleared") or {}).items():
            for rater in cleared:
                raters.get(rater, {}).pop(name, None)
        if (rater := entry.get("rater")) is None:
            continue
        ranks = raters.setdefault(rater, {})
        for name, rank in (entry.get("rater_after") or {}).items():
            if rank is None:
                ranks.pop(name, None)
            else:
                ranks[name] = rank
    return raters


def _when(time: str) -> str:
    """`2026-11-29T10:02:13.120Z` -> `2026-11-29 10:02 UTC`."""
    try:
        return datetime.fromisoformat(time).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(time)


LINE_ACTIONS = ("override", "close", "reopen")
"""A lead's decisions on a panel line: a rater's change made before one cannot be undone."""


def _conflicts(later: Sequence[Mapping[str, Any]], target: Mapping[str, Any],
               person: str) -> list[Mapping[str, Any]]:
    """The entries after `target` that changed what undoing it would restore: for a rater's own
    ranking, a lead's decision on the line; otherwise, anyone else's change of the line."""
    line = target["line"]
    if target.get("rater") is not None:
        return [e for e in later if e.get("line") == line and e["action"] in LINE_ACTIONS]
    return [e for e in later if e.get("line") == line and e["person"] != person]


def plan_undo(
    entries: Sequence[Mapping[str, Any]], person: str, ranks: Mapping[str, int | None],
    rater_ranks: Mapping[str, int | None] | None = None,
) -> UndoPlan:
    """Plan `person`'s next undo (pure): which entry it takes back, and the rank moves.

    The target is the person's latest `rank`, `clear` or `override` not yet undone (so undo
    again walks further back); undo restores that entry's line to the entry's `before`. `ranks`
    is the batch's ranks now, `{file: rank or None}` (at least the line's takes). On a panel,
    a target that changed the person's own ranking (it names a `rater`) restores
    `rater_before` instead, against `rater_ranks` (the person's own ranks now, same shape), and
    the plan's `rater` says so: the moves are then of that ranking.

    Raises:
        UndoRefused: nothing left to undo; someone else changed that line after it (the
            message names who and when); or the line no longer holds what the entry left
            (changed outside the history).
    """
    undone = {e.get("undoes") for e in entries if e["action"] == "undo"}
    index = next(
        (i for i in range(len(entries) - 1, -1, -1)
         if entries[i]["person"] == person and entries[i]["action"] in UNDOABLE
         and entries[i]["seq"] not in undone),
        None,
    )
    if index is None:
        raise UndoRefused(f"nothing to undo: {person} has no change left to take back here")
    target = entries[index]
    line = target["line"]
    if others := _conflicts(entries[index + 1 :], target, person):
        last = others[-1]
        raise UndoRefused(
            f"line {line} was changed since by {last['person']} at {_when(last['time'])}"
        )
    rater = target.get("rater")
    before, after = target["before"], target["after"]
    if rater is not None:
        ranks, before, after = rater_ranks or {}, target["rater_before"], target["rater_after"]
    if any(ranks.get(name, -1) != rank for name, rank in after.items()):
        raise UndoRefused(
            f"line {line} no longer holds the ranks change #{target['seq']} left "
            "(it was changed outside the history)"
        )
    moves = {name: (ranks[name], rank) for name, rank in before.items() if ranks[name] != rank}
    return UndoPlan(undoes=target["seq"], line=line, take=target.get("take"), moves=moves,
                    rater=rater)


def _rank_text(rank: object) -> str:
    return "-" if rank is None else str(rank)


def _moves_text(entry: Mapping[str, Any], before: Mapping[str, Any],
                after: Mapping[str, Any]) -> str:
    prefix = f"{entry.get('line')}_" if entry.get("line") else ""
    parts = []
    for name in sorted(after, key=lambda name: name != entry.get("take")):  # the take first
        short = name.removeprefix(prefix).removesuffix(".mp3")
        parts.append(f"{short}: {_rank_text(before.get(name))} -> {_rank_text(after[name])}")
    return ", ".join(parts)


def _changes_text(entry: Mapping[str, Any]) -> str:
    before, after = entry.get("before") or {}, entry.get("after") or {}
    if entry["action"] == "baseline":
        return f"{len(after)} ranked take(s) before the history began"
    if entry["action"] == "note":
        note = entry.get("note_after") or {}
        flag = " (needs another pass)" if note.get("needs_pass") else ""
        return f"note: {note.get('text')!r}{flag}" if note else "note removed"
    if entry["action"] == "lock" and entry.get("forced"):
        return f"forced past {len(entry.get('problems') or [])} line(s) to check"
    if entry["action"] in ("takes", "remove", "stale") and entry.get("files"):
        moved = _moves_text(entry, before, after)
        text = f"{entry['action']}: {len(entry['files'])} take(s)"
        return f"{text}; ranks cleared: {moved}" if moved else text
    text = _moves_text(entry, before, after)
    if entry.get("rater") is not None:
        own = _moves_text(entry, entry.get("rater_before") or {}, entry.get("rater_after") or {})
        text = f"{entry['rater']}'s ranks: {own or 'none'}" + (
            f"; consensus: {text}" if text else "")
    if entry["action"] == "undo":
        text = f"{text} (undoes #{entry.get('undoes')})".lstrip()
    return text


def format_entries(entries: Iterable[Mapping[str, Any]]) -> str:
    """The entries as a plain-text table for people: seq, time (UTC), person, action, line,
    take, and each moved take's rank before -> after ('-' is unranked)."""
    header = ("#", "time (UTC)", "person", "action", "line", "take", "ranks before->after")
    rows = [header]
    for entry in entries:
        time = entry.get("time") or ""
        try:
            shown = datetime.fromisoformat(time).strftime("%Y-%m-%d %H:%M:%S")
        except (TypeError, ValueError):
            shown = str(time)
        rows.append((str(entry["seq"]), shown, str(entry["person"]), str(entry["action"]),
                     entry.get("line") or "", entry.get("take") or "", _changes_text(entry)))
    if len(rows) == 1:
        return "no changes recorded"
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)),
                   row[-1]]).rstrip()
        for row in rows
    )
