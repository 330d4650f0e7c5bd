"""Rank rules: a rank is a position within a line, with a cascade (docs/design.md, decision 1), lock
(behind a quality gate), unlock and undo.

Every change is one read-modify-write under the batch lock, so concurrent clients (API,
dashboards, processes) cannot break "at most one take of a line per rank". Every change names
its `person` and appends one entry to the batch's history (`voicelab.history`) before saving
the metadata, so the history always replays to the metadata's ranks (decision 11).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import clock, history, store
from voicelab.errors import (
    BatchLocked,
    InvalidName,
    InvalidRank,
    LockGateRefused,
    PanelRefused,
    TakeRetired,
    UnknownTake,
)

Take = dict[str, Any]


@dataclass(frozen=True)
class RankChange:
    """What one accepted `change_rank` (or `undo`) did.

    `takes` is the line's takes by take_number; `moves` is `{file: (old rank, new rank)}` for
    the takes whose rank changed. `revision` is the batch's metadata `revision` after the
    change: it grows by one with every change ranking writes, so callers can order changes and
    tell that none was lost. A call that changes nothing writes nothing (no history entry
    either) and reports the current revision. `line` is the line changed.
    """

    takes: list[Take]
    moves: dict[str, tuple[int | None, int | None]]
    revision: int
    line: str | None = None


def check_person(person: object) -> str:
    """Return `person` if it is a name to record (a non-empty string).

    Who may do what is the faces' business (`voicelab.people`); the core only records the name.

    Raises:
        InvalidName: not a non-empty string.
    """
    if isinstance(person, str) and person:
        return person
    raise InvalidName(person, "a change must name who made it (a non-empty string)")


def check_rank(rank: object) -> int | None:
    """Return `rank` if it is an int 1-5 or None (bools and strings are not ranks).

    Raises:
        InvalidRank: anything else.
    """
    if rank is None or (isinstance(rank, int) and not isinstance(rank, bool) and 1 <= rank <= 5):
        return rank
    raise InvalidRank(rank)


def cascade(
    ranks: Mapping[str, int | None], filename: str, rank: int | None
) -> dict[str, int | None]:
    """The line's ranks after giving `filename` the rank `rank` (pure; decision 1).

    The take leaves its old rank first; whoever holds the new rank moves down one, and so on
    until a free rank; a take pushed past 5 becomes unranked.
    """
    result = dict(ranks)
    result[filename] = None
    if rank is None:
        return result
    holder_of = {r: f for f, r in result.items() if r is not None}
    mover, position = filename, rank
    while True:
        displaced = holder_of.get(position)
        result[mover] = position
        if displaced is None:
            return result
        mover, position = displaced, position + 1
        if position > max(store.RANKS):
            result[mover] = None
            return result


def line_takes(metadata: store.Metadata, line: str) -> list[Take]:
    """The takes of one line, sorted by take_number."""
    return sorted(
        (take for take in metadata["takes"] if take["line"] == line),
        key=lambda take: take["take_number"],
    )


def find_take(metadata: store.Metadata, filename: object) -> Take:
    """The take named `filename`, if it may be ranked.

    Raises:
        UnknownTake: no take of the batch has this file name.
        TakeRetired: it is stale or removed (docs/design.md, decision 13).
    """
    take: Take | None = next((t for t in metadata["takes"] if t["file"] == filename), None)
    if take is None:
        raise UnknownTake(str(filename))
    if take.get("stale"):
        raise TakeRetired(take["file"], "stale (its line's text changed; rank its new takes)")
    if take.get("removed"):
        raise TakeRetired(take["file"], "removed (its line is gone from the script)")
    return take


def _apply(members: list[Take], moves: history.Moves, person: str) -> None:
    """Give the moved takes their new ranks, stamped now and by `person` (cleared if unranked)."""
    now = clock.utc_now()
    for member in members:
        if member["file"] in moves:
            member["rank"] = moves[member["file"]][1]
            ranked = member["rank"] is not None
            member["ranked_at"] = now if ranked else None
            member["ranked_by"] = person if ranked else None


def load_open(batch_dir: Path) -> store.Metadata:
    """The metadata of a batch that is not locked (call it holding the batch lock).

    Raises:
        BatchLocked: the batch has its LOCKED sentinel.
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    if store.is_locked(batch_dir):
        raise BatchLocked(batch_dir.name)
    return store.load_metadata(batch_dir)


def _refuse_panel(metadata: store.Metadata) -> None:
    if metadata.get("panel"):
        raise PanelRefused(f"batch {metadata['batch_id']} is ranked by a panel: its ranks are "
                           "the consensus (voicelab.panel ranks in a rater's name)")


def change_rank(
    batch_dir: Path, filename: str, rank: object, *, person: str = "cli"
) -> RankChange:
    """Give one take a rank (or None to clear it), cascading within its line, atomically.

    Sets `ranked_at` and `ranked_by` (`person`) on every take whose rank changes (both cleared
    when it becomes unranked), bumps the metadata `revision`, appends one history entry
    (`rank`, or `clear` for None) with the moves, saves, and then moves only the links that
    changed. A change that moves nothing writes nothing.

    Raises:
        InvalidRank: `rank` is not an int 1-5 or None (checked first; nothing is read).
        InvalidName: `person` is not a non-empty string.
        BatchLocked: the batch has its LOCKED sentinel.
        PanelRefused: the batch is ranked by a panel (`voicelab.panel.rate` ranks there).
        UnknownTake: no take of the batch has this file name.
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    new_rank = check_rank(rank)
    person = check_person(person)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = load_open(batch_dir)
        _refuse_panel(metadata)
        return apply_rank(batch_dir, metadata, filename, new_rank, person)


def apply_rank(batch_dir: Path, metadata: store.Metadata, filename: str, new_rank: int | None,
               person: str) -> RankChange:
    """`change_rank` on metadata already loaded under the batch lock (checked arguments)."""
    take = find_take(metadata, filename)
    members = line_takes(metadata, take["line"])
    after = cascade({t["file"]: t["rank"] for t in members}, filename, new_rank)
    moves = {t["file"]: (t["rank"], after[t["file"]]) for t in members}
    moves = {name: move for name, move in moves.items() if move[0] != move[1]}
    revision: int = metadata.get("revision", 0)
    if moves:
        _apply(members, moves, person)
        revision += 1
        metadata["revision"] = revision
        history.append(batch_dir, history.make_entry(
            person=person, action="clear" if new_rank is None else "rank",
            line=take["line"], take=filename, moves=moves, revision=revision))
        store.save_metadata(batch_dir, metadata)
        store.update_links(batch_dir, metadata, moves)
    return RankChange(takes=members, moves=moves, revision=revision, line=take["line"])


def set_rank(
    batch_dir: Path, filename: str, rank: object, *, person: str = "cli"
) -> list[Take]:
    """Give one take a rank (1-5) or clear it (None); return its line's takes by take_number.

    See `change_rank` for the rules, what is recorded, and the errors raised.
    """
    return change_rank(batch_dir, filename, rank, person=person).takes


NO_SELECTION = "no_selection"
"""The gate's problem for a line with no rank-1 take."""
STALE = "stale"
"""The gate's problem for a selected take whose line's text changed since (docs/design.md,
decision 13)."""
PROBLEM_WORDS = {NO_SELECTION: "no selection", STALE: "stale (the line's text changed)",
                 "clipping": "clipping", "mostly_silence": "mostly silence",
                 "duration_outlier": "duration outlier", "words": "wrong words"}
"""How people read each problem; any other QC flag reads as itself, underscores as spaces."""


@dataclass(frozen=True)
class GateProblem:
    """One line the quality gate stops a lock on.

    `problems` are QC flags of the selected take as stored (`clipping`, `mostly_silence`,
    `duration_outlier`, `words`, or any other), `stale`, or `no_selection` (then `take` is
    None); `take` is the selected take's file.
    """

    line: str
    problems: tuple[str, ...]
    take: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: `{"line", "problems", "take"}` (what the API, the board and the history
        carry)."""
        return {"line": self.line, "problems": list(self.problems), "take": self.take}

    def describe(self) -> str:
        """The problems in words, e.g. `clipping, wrong words`."""
        return ", ".join(problem_words(p) for p in self.problems)


def problem_words(problem: str) -> str:
    """One gate problem as people read it (PROBLEM_WORDS, else the flag with spaces)."""
    return PROBLEM_WORDS.get(problem, problem.replace("_", " "))


def _stored_flags(take: Mapping[str, Any]) -> list[str] | None:
    facts = take.get("quality")
    if not isinstance(facts, Mapping):
        return []
    flags = facts.get("flags")
    if flags is None:
        return None if facts else []
    return [str(flag) for flag in flags] if isinstance(flags, list | tuple) else []


def _selected_flags(members: Sequence[Take], selected: Take) -> list[str]:
    """The selected take's QC flags: as stored by generation (and the speech check), else, for
    a take measured before flags were stored, computed from its line's facts as the board does."""
    stored = _stored_flags(selected)
    if stored is not None:
        return stored
    from voicelab import quality  # numpy and pyloudnorm: only for old batches

    return quality.flag_takes(members)[list(members).index(selected)]


def lock_gate(metadata: store.Metadata) -> list[GateProblem]:
    """What stands between this batch and a lock, line by line in script order.

    A line is listed when its selected take (rank 1: on a panel batch the consensus, the seed's
    `rank`) has a QC flag or is stale, or when it has no selection at all. Removed takes (their
    line left the script) are ignored, and a line made only of them too. Pure: reads nothing.
    """
    lines: dict[str, list[Take]] = {}
    for take in metadata["takes"]:
        if not take.get("removed"):
            lines.setdefault(take["line"], []).append(take)
    found = []
    for line, members in lines.items():
        selected = next((t for t in members if t.get("rank") == 1), None)
        if selected is None:
            found.append(GateProblem(line, (NO_SELECTION,), None))
            continue
        problems = _selected_flags(members, selected)
        if selected.get("stale"):
            problems.append(STALE)
        if problems:
            found.append(GateProblem(line, tuple(dict.fromkeys(problems)), selected["file"]))
    return found


def check_lock(batch_dir: Path) -> list[GateProblem]:
    """`lock_gate` of a batch as it is on disk now (what a lock without force would refuse).

    Raises:
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    return lock_gate(store.load_metadata(Path(batch_dir), check_files=False))


def lock(batch_dir: Path, *, person: str = "cli", force: bool = False) -> store.Metadata:
    """Freeze ranking: set `ranked_at_utc` (first lock only) and write LOCKED; return metadata.

    Behind a quality gate (`lock_gate`, on the metadata read under the batch lock): when some
    line's selected take has a QC flag or is stale, or a line has no selection, the lock is
    refused (`LockGateRefused`, listing them) and nothing changes, unless `force`; then it
    locks anyway and its history entry records `forced: true` and the `problems` (each
    `GateProblem.as_dict`). A clean batch locks the same either way.

    Idempotent: locking again keeps the first `ranked_at_utc` (and an already locked batch is
    not gated again). When it actually locks (LOCKED was absent) it bumps `revision` and appends
    a `lock` entry by `person` to the history.

    Raises:
        InvalidName: `person` is not a non-empty string.
        LockGateRefused: not `force`, and the gate found problems (`.problems`).
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    person = check_person(person)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = store.load_metadata(batch_dir)
        locking = not store.is_locked(batch_dir)
        problems = lock_gate(metadata) if locking else []
        if problems and not force:
            raise LockGateRefused(metadata["batch_id"], problems)
        if metadata["ranked_at_utc"] is None or locking:
            if metadata["ranked_at_utc"] is None:
                metadata["ranked_at_utc"] = clock.utc_now()
            metadata["revision"] = metadata.get("revision", 0) + 1
            if locking:
                entry = history.make_entry(person=person, action="lock",
                                           revision=metadata["revision"])
                if problems:
                    entry.update(forced=True, problems=[p.as_dict() for p in problems])
                history.append(batch_dir, entry)
            store.save_metadata(batch_dir, metadata)
        store.lock_batch(batch_dir)
    return metadata


def unlock(batch_dir: Path, *, person: str) -> store.Metadata:
    """Open a locked batch again: ranks may change; return the metadata.

    Removes LOCKED (durably), sets `ranked_at_utc` back to null, bumps `revision` and appends an
    `unlock` entry by `person`. Idempotent: on an open batch it writes nothing. Who may unlock
    (a lead) is the faces' business.

    Raises:
        InvalidName: `person` is not a non-empty string.
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    person = check_person(person)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = store.load_metadata(batch_dir)
        if not store.is_locked(batch_dir):
            return metadata
        metadata["ranked_at_utc"] = None
        metadata["revision"] = metadata.get("revision", 0) + 1
        history.append(batch_dir, history.make_entry(
            person=person, action="unlock", revision=metadata["revision"]))
        store.save_metadata(batch_dir, metadata)
        store.unlock_batch(batch_dir)
    return metadata


def undo(batch_dir: Path, *, person: str) -> RankChange:
    """Take back `person`'s latest rank change on the batch; again walks further back.

    Restores that change's line to its ranks before it (`history.plan_undo`): the takes it
    moves get `ranked_at` now and `ranked_by` `person` (both cleared when unranked); bumps
    `revision`, appends an `undo` entry (with `undoes`, the seq taken back), saves, and moves
    only the changed links. Returns the line's takes like `change_rank`.

    Raises:
        InvalidName: `person` is not a non-empty string.
        BatchLocked: the batch has its LOCKED sentinel.
        PanelRefused: the batch is ranked by a panel (`voicelab.panel.undo` undoes there).
        UndoRefused: nothing left to undo, or someone else changed that line since (the
            message names who and when).
        MetadataError: the batch's metadata.json (or history) is missing or invalid.
    """
    person = check_person(person)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = load_open(batch_dir)
        _refuse_panel(metadata)
        return apply_undo(batch_dir, metadata, person)


def apply_undo(batch_dir: Path, metadata: store.Metadata, person: str) -> RankChange:
    """`undo` on metadata already loaded under the batch lock (a checked person)."""
    revision: int = metadata.get("revision", 0)
    entries = history.read(batch_dir, revision=revision)
    ranks = {t["file"]: t["rank"] for t in metadata["takes"]}
    plan = history.plan_undo(entries, person, ranks)
    members = line_takes(metadata, plan.line)
    _apply(members, plan.moves, person)
    revision += 1
    metadata["revision"] = revision
    history.append(batch_dir, history.make_entry(
        person=person, action="undo", line=plan.line, take=plan.take, moves=plan.moves,
        revision=revision, undoes=plan.undoes))
    store.save_metadata(batch_dir, metadata)
    store.update_links(batch_dir, metadata, plan.moves)
    return RankChange(takes=members, moves=plan.moves, revision=revision, line=plan.line)
