"""Rank rules: a rank is a position within a line, with a cascade (DESIGN decision 1), and lock.

Every change is one read-modify-write under the batch lock, so concurrent clients (API,
dashboards, processes) cannot break "at most one take of a line per rank".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import clock, store
from voicelab.errors import BatchLocked, InvalidRank, UnknownTake

Take = dict[str, Any]


@dataclass(frozen=True)
class RankChange:
    """What one accepted `change_rank` did.

    `revision` is the batch's metadata `revision` after the change: it grows by one with every
    change ranking writes, so callers can order changes and tell that none was lost. A call
    that changes nothing writes nothing and reports the current revision.
    """

    takes: list[Take]
    moves: dict[str, tuple[int | None, int | None]]
    revision: int


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


def change_rank(batch_dir: Path, filename: str, rank: object) -> RankChange:
    """Give one take a rank (or None to clear it), cascading within its line, atomically.

    Sets `ranked_at` on every take whose rank changes (cleared when it becomes unranked),
    bumps the metadata `revision`, saves, and then moves only the links that changed.

    Raises:
        InvalidRank: `rank` is not an int 1-5 or None (checked first; nothing is read).
        BatchLocked: the batch has its LOCKED sentinel.
        UnknownTake: no take of the batch has this file name.
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    new_rank = check_rank(rank)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        if store.is_locked(batch_dir):
            raise BatchLocked(batch_dir.name)
        metadata = store.load_metadata(batch_dir)
        take = next((t for t in metadata["takes"] if t["file"] == filename), None)
        if take is None:
            raise UnknownTake(filename)
        members = line_takes(metadata, take["line"])
        after = cascade({t["file"]: t["rank"] for t in members}, filename, new_rank)
        moves = {t["file"]: (t["rank"], after[t["file"]]) for t in members}
        moves = {name: move for name, move in moves.items() if move[0] != move[1]}
        revision: int = metadata.get("revision", 0)
        if moves:
            now = clock.utc_now()
            for member in members:
                if member["file"] in moves:
                    member["rank"] = after[member["file"]]
                    member["ranked_at"] = now if member["rank"] is not None else None
            revision += 1
            metadata["revision"] = revision
            store.save_metadata(batch_dir, metadata)
            store.update_links(batch_dir, metadata, moves)
    return RankChange(takes=members, moves=moves, revision=revision)


def set_rank(batch_dir: Path, filename: str, rank: object) -> list[Take]:
    """Give one take a rank (1-5) or clear it (None); return its line's takes by take_number.

    See `change_rank` for the rules and the errors raised.
    """
    return change_rank(batch_dir, filename, rank).takes


def lock(batch_dir: Path) -> store.Metadata:
    """Freeze ranking: set `ranked_at_utc` (first lock only) and write LOCKED; return metadata.

    Idempotent: locking again keeps the first `ranked_at_utc`.

    Raises:
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = store.load_metadata(batch_dir)
        if metadata["ranked_at_utc"] is None:
            metadata["ranked_at_utc"] = clock.utc_now()
            metadata["revision"] = metadata.get("revision", 0) + 1
            store.save_metadata(batch_dir, metadata)
        store.lock_batch(batch_dir)
    return metadata
