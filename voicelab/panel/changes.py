"""Changes to a panel batch: open a panel, a rater's rank, undo, a lead's override, close, reopen.

A panel batch (docs/design.md, decision 12) keeps each rater's own ranks per take in `ranks_by`
(`{rater: rank}`, ranked takes only) and its `panel` object in the metadata:

    "panel": {"raters": ["alice", "bob", "carol"], "blind": true, "method": "borda",
              "opened_by": "lena", "opened_at": "...", "order_key": "<hex>",
              "lines": {"Greeting_01": {"closed_by": "lena", "closed_at": "...",
                                        "override": true}}}

The seed's `rank` (and so `ranked/`) holds the consensus of each line (`consensus.borda`),
recomputed for the changed line on every rater change, or a lead's final ranks where the lead
overrode the line. A closed line is frozen: raters cannot change it until a lead reopens it.

Every change here is one read-modify-write under the batch lock with one history entry, exactly
as `voicelab.ranking` does for solo batches (whose functions these call on a solo batch), so the
history replays both to the consensus (`history.replay`) and to each rater's ranking
(`history.replay_raters`). Who may do what is the faces' business: raters rank, leads open,
override, close and reopen.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicelab import clock, history, people, ranking, store
from voicelab.errors import LineClosed, NotARater, PanelRefused
from voicelab.panel.consensus import borda
from voicelab.ranking import RankChange, Take
from voicelab.store.schema import Metadata

PANEL_NAME = "panel"
"""The `ranked_by` of a take whose rank is the panel's consensus."""
METHOD = "borda"
MAX_RATERS = 32
"""A panel's size limit: a listening test of more is a survey, not a panel."""


@dataclass(frozen=True)
class _Plan:
    """What a change does to one line before it is recorded: consensus (`rank`) moves, the
    rater's own moves (when it changes a rater's ranking) and the history fields."""

    action: str
    line: str | None
    take: str | None = None
    moves: Mapping[str, tuple[int | None, int | None]] | None = None
    rater: str | None = None
    rater_moves: Mapping[str, tuple[int | None, int | None]] | None = None
    ranked_by: str = PANEL_NAME
    undoes: int | None = None


def panel_of(metadata: Metadata) -> dict[str, Any] | None:
    """The batch's panel object, or None for a solo batch."""
    panel = metadata.get("panel")
    return panel if isinstance(panel, dict) else None


def line_state(panel: Mapping[str, Any], line: str) -> dict[str, Any]:
    """A line's lead decisions: `{}` when open, else closed_by, closed_at and override."""
    state = (panel.get("lines") or {}).get(line)
    return state if isinstance(state, dict) else {}


def rater_ranks(takes: Iterable[Take], raters: Sequence[str]) -> dict[str, dict[str, int]]:
    """`{rater: {file: rank}}` over `takes`, for the panel's raters only (in their order)."""
    result: dict[str, dict[str, int]] = {name: {} for name in raters}
    for take in takes:
        for name, rank in (take.get("ranks_by") or {}).items():
            if name in result:
                result[name][take["file"]] = rank
    return result


def consensus_moves(panel: Mapping[str, Any], members: Sequence[Take]
                    ) -> dict[str, tuple[int | None, int | None]]:
    """How the line's `rank` must move to hold its consensus (nothing for a closed line)."""
    if line_state(panel, members[0]["line"]):
        return {}
    files = [t["file"] for t in members]
    target = borda(rater_ranks(members, panel["raters"]), files)
    return {t["file"]: (t["rank"], target[t["file"]]) for t in members
            if t["rank"] != target[t["file"]]}


def check_raters(raters: object) -> list[str]:
    """A panel's raters as a list of distinct names (1..MAX_RATERS).

    Raises:
        PanelRefused: not a list of non-empty names, repeated, empty or too many.
    """
    if isinstance(raters, str):
        raters = [part.strip() for part in raters.split(",") if part.strip()]
    if not isinstance(raters, list | tuple) or not raters:
        raise PanelRefused("a panel needs at least one rater (a list of names)")
    names: list[str] = []
    for name in raters:
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise PanelRefused(f"a rater must be a name of 1-64 characters, got {name!r}")
        if name in names:
            raise PanelRefused(f"rater {name!r} is named twice")
        names.append(name)
    if len(names) > MAX_RATERS:
        raise PanelRefused(f"a panel has at most {MAX_RATERS} raters, got {len(names)}")
    return names


def check_rater_people(root: Path, raters: Sequence[str]) -> None:
    """On a root with users (`people.sign_in_required`), every rater must be a user whose role
    may rank; with no users (an open loopback server, the CLI alone) any name may rate.

    Raises:
        PanelRefused: a rater is no user, or a viewer (the message names them).
        UsersFileError: the users file is broken.
    """
    if not people.sign_in_required(root):
        return
    for name in raters:
        record = people.find_user(root, name)
        if record is None:
            raise PanelRefused(f"no user named {name!r} to rate (see: voicelab users list)")
        if not people.Person(name, record.role).may("rank"):
            raise PanelRefused(f"{name} is a {record.role} and cannot rate: only a designer or "
                               "a lead ranks")


def _moves(before: Mapping[str, int | None], after: Mapping[str, int | None]
           ) -> dict[str, tuple[int | None, int | None]]:
    return {name: (before.get(name), rank) for name, rank in after.items()
            if before.get(name) != rank}


def _apply_rater(members: Sequence[Take], rater: str,
                 moves: Mapping[str, tuple[int | None, int | None]]) -> None:
    for member in members:
        if member["file"] in moves:
            ranks = dict(member.get("ranks_by") or {})
            new = moves[member["file"]][1]
            if new is None:
                ranks.pop(rater, None)
            else:
                ranks[rater] = new
            member["ranks_by"] = ranks


def _apply_ranks(members: Sequence[Take], moves: Mapping[str, tuple[int | None, int | None]],
                 by: str) -> None:
    now = clock.utc_now()
    for member in members:
        if member["file"] in moves:
            member["rank"] = rank = moves[member["file"]][1]
            member["ranked_at"] = now if rank is not None else None
            member["ranked_by"] = by if rank is not None else None


def _change(batch_dir: Path, person: str,
            plan_for: Callable[[Metadata, dict[str, Any]], _Plan],
            solo: Callable[[Metadata, str], RankChange] | None = None) -> RankChange:
    """One panel change under the batch lock: plan it on the metadata, apply the rater's moves,
    then the consensus moves, record one history entry, save, move the links. A plan that moves
    nothing and decides nothing writes nothing. A solo batch gets `solo` (the same change by
    `voicelab.ranking`, on the metadata loaded once), or is refused."""
    person = ranking.check_person(person)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = ranking.load_open(batch_dir)
        panel = panel_of(metadata)
        if panel is None:
            if solo is not None:
                return solo(metadata, person)
            raise PanelRefused(f"batch {metadata['batch_id']} is ranked solo, not by a panel")
        lines_before = dict(panel.get("lines") or {})
        plan = plan_for(metadata, panel)
        members = ranking.line_takes(metadata, plan.line) if plan.line else []
        if plan.rater is not None and plan.rater_moves:
            _apply_rater(members, plan.rater, plan.rater_moves)
        moves = dict(plan.moves) if plan.moves is not None else (
            consensus_moves(panel, members) if members else {})
        _apply_ranks(members, moves, plan.ranked_by)
        revision: int = metadata.get("revision", 0)
        decided = (panel.get("lines") or {}) != lines_before
        if moves or plan.rater_moves or decided:
            revision += 1
            metadata["revision"] = revision
            history.append(batch_dir, history.make_entry(
                person=person, action=plan.action, line=plan.line, take=plan.take,
                moves=moves, revision=revision, undoes=plan.undoes, rater=plan.rater,
                rater_moves=plan.rater_moves))
            store.save_metadata(batch_dir, metadata)
            store.update_links(batch_dir, metadata, moves)
    return RankChange(takes=members, moves=moves, revision=revision, line=plan.line)


def _open_line(panel: Mapping[str, Any], line: str) -> None:
    if state := line_state(panel, line):
        raise LineClosed(line, state.get("closed_by", "a lead"))


def open_panel(batch_dir: Path, raters: object, *, blind: bool = True,
               person: str = "cli") -> Metadata:
    """Put a batch in panel mode with these raters (blind by default); return the metadata.

    A batch that already holds solo ranks keeps them as the opener's own ranking: the opener
    joins the raters (if not named) with those ranks, and the consensus starts from them.
    Records a `panel` entry (with the opener's ranking moves, if any).

    Raises:
        PanelRefused: bad raters, or the batch already has a panel.
        BatchLocked: the batch is locked.
        InvalidName: `person` is not a non-empty string.
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    names = check_raters(raters)
    person = ranking.check_person(person)
    batch_dir = Path(batch_dir)
    with store.batch_lock(batch_dir):
        metadata = ranking.load_open(batch_dir)
        if (existing := panel_of(metadata)) is not None:
            raise PanelRefused(f"batch {metadata['batch_id']} is already ranked by a panel "
                               f"({', '.join(existing['raters'])})")
        solo = {t["file"]: t["rank"] for t in metadata["takes"] if t["rank"] is not None}
        if solo and person not in names:
            names.append(person)
        panel: dict[str, Any] = {
            "raters": names, "blind": bool(blind), "method": METHOD, "opened_by": person,
            "opened_at": clock.utc_now(), "order_key": secrets.token_hex(16), "lines": {}}
        metadata["panel"] = panel
        for take in metadata["takes"]:
            take["ranks_by"] = {person: take["rank"]} if take["rank"] is not None else {}
        moves: dict[str, tuple[int | None, int | None]] = {}
        by_line: dict[str, list[Take]] = {}
        for take in metadata["takes"]:
            by_line.setdefault(take["line"], []).append(take)
        for members in by_line.values():
            members.sort(key=lambda take: take["take_number"])
            line_moves = consensus_moves(panel, members)
            _apply_ranks(members, line_moves, PANEL_NAME)
            moves.update(line_moves)
        metadata["revision"] = revision = metadata.get("revision", 0) + 1
        history.append(batch_dir, history.make_entry(
            person=person, action="panel", moves=moves, revision=revision,
            rater=person if solo else None, rater_moves=_moves({}, solo) if solo else None))
        store.save_metadata(batch_dir, metadata)
        store.update_links(batch_dir, metadata, moves)
    return metadata


def rate(batch_dir: Path, filename: object, rank: object, *, person: str = "cli") -> RankChange:
    """Rank a take in `person`'s name: on a panel, in their own ranking (cascading within it),
    then the line's consensus moves; on a solo batch, `ranking.change_rank`.

    Raises:
        InvalidRank, InvalidName, BatchLocked, UnknownTake, MetadataError: as change_rank.
        NotARater: on a panel, `person` is not one of its raters.
        LineClosed: a lead closed the take's line.
    """
    new_rank = ranking.check_rank(rank)

    def plan(metadata: Metadata, panel: dict[str, Any]) -> _Plan:
        if person not in panel["raters"]:
            raise NotARater(person, panel["raters"])
        take = ranking.find_take(metadata, filename)
        _open_line(panel, take["line"])
        members = ranking.line_takes(metadata, take["line"])
        mine = {t["file"]: (t.get("ranks_by") or {}).get(person) for t in members}
        after = ranking.cascade(mine, take["file"], new_rank)
        return _Plan(action="clear" if new_rank is None else "rank", line=take["line"],
                     take=take["file"], rater=person, rater_moves=_moves(mine, after))

    return _change(batch_dir, person, plan, lambda metadata, name: ranking.apply_rank(
        Path(batch_dir), metadata, str(filename), new_rank, name))


def undo(batch_dir: Path, *, person: str) -> RankChange:
    """Take back `person`'s latest change (their own ranking on a panel, or a lead's override);
    on a solo batch, `ranking.undo`. Changes made before the panel opened are not undone on it
    (the solo ranks became the opener's ranking).

    Raises:
        UndoRefused, InvalidName, BatchLocked, MetadataError: as ranking.undo.
        LineClosed: the change's line was closed since (a lead reopens it first).
    """
    def plan(metadata: Metadata, panel: dict[str, Any]) -> _Plan:
        entries = history.read(batch_dir, revision=metadata.get("revision", 0))
        opened = max((i for i, e in enumerate(entries) if e["action"] == "panel"), default=-1)
        entries = entries[opened + 1:]  # solo changes became the opener's ranking: final
        ranks = {t["file"]: t["rank"] for t in metadata["takes"]}
        own = {t["file"]: (t.get("ranks_by") or {}).get(person) for t in metadata["takes"]}
        undo_plan = history.plan_undo(entries, person, ranks, own)
        if undo_plan.rater is None:
            return _Plan(action="undo", line=undo_plan.line, take=undo_plan.take,
                         moves=undo_plan.moves, ranked_by=person, undoes=undo_plan.undoes)
        _open_line(panel, undo_plan.line)
        return _Plan(action="undo", line=undo_plan.line, take=undo_plan.take,
                     rater=person, rater_moves=undo_plan.moves, undoes=undo_plan.undoes)

    return _change(batch_dir, person, plan, lambda metadata, name: ranking.apply_undo(
        Path(batch_dir), metadata, name))


def override(batch_dir: Path, filename: object, rank: object, *,
             person: str = "cli") -> RankChange:
    """A lead sets a take's final rank on its line (cascading within the line's ranks as they
    stand, the consensus first): the line is closed with an override, recorded as such.

    Raises:
        PanelRefused: a solo batch. InvalidRank, InvalidName, BatchLocked, UnknownTake,
        MetadataError: as change_rank.
    """
    new_rank = ranking.check_rank(rank)

    def plan(metadata: Metadata, panel: dict[str, Any]) -> _Plan:
        take = ranking.find_take(metadata, filename)
        members = ranking.line_takes(metadata, take["line"])
        now = {t["file"]: t["rank"] for t in members}
        after = ranking.cascade(now, take["file"], new_rank)
        _decide(panel, take["line"], person, override=True)
        return _Plan(action="override", line=take["line"], take=take["file"],
                     moves=_moves(now, after), ranked_by=person)

    return _change(batch_dir, person, plan)


def _decide(panel: dict[str, Any], line: str, person: str, *, override: bool) -> None:
    state = line_state(panel, line)
    lines = panel.setdefault("lines", {})
    lines[line] = {"closed_by": person, "closed_at": clock.utc_now(),
                   "override": override or bool(state.get("override"))}


def _line_of(metadata: Metadata, line: object) -> str:
    if not isinstance(line, str) or not any(t["line"] == line for t in metadata["takes"]):
        raise PanelRefused(f"batch {metadata['batch_id']} has no line {line!r}")
    return line


def close_line(batch_dir: Path, line: object, *, person: str = "cli") -> RankChange:
    """A lead closes a line: its ranks (consensus or override) are final; raters cannot change
    it. Closing a closed line changes nothing.

    Raises:
        PanelRefused: a solo batch, or no such line. BatchLocked, InvalidName, MetadataError.
    """
    def plan(metadata: Metadata, panel: dict[str, Any]) -> _Plan:
        name = _line_of(metadata, line)
        if not line_state(panel, name):
            _decide(panel, name, person, override=False)
        return _Plan(action="close", line=name, moves={})

    return _change(batch_dir, person, plan)


def reopen_line(batch_dir: Path, line: object, *, person: str = "cli") -> RankChange:
    """A lead reopens a closed line: any override is dropped and the consensus recomputed;
    raters may change it again. Reopening an open line changes nothing.

    Raises:
        PanelRefused: a solo batch, or no such line. BatchLocked, InvalidName, MetadataError.
    """
    def plan(metadata: Metadata, panel: dict[str, Any]) -> _Plan:
        name = _line_of(metadata, line)
        (panel.get("lines") or {}).pop(name, None)
        return _Plan(action="reopen", line=name)

    return _change(batch_dir, person, plan)


def panel_problems(metadata: Metadata) -> list[str]:
    """What breaks a panel batch's own rules (empty when sound, and for a solo batch): a rank
    in `ranks_by` of someone not a rater, or an open line whose `rank` is not its consensus."""
    panel = panel_of(metadata)
    if panel is None:
        return []
    problems = []
    raters = set(panel.get("raters") or [])
    by_line: dict[str, list[Take]] = {}
    for take in metadata["takes"]:
        by_line.setdefault(take["line"], []).append(take)
        if strangers := sorted(set(take.get("ranks_by") or {}) - raters):
            problems.append(f"{take['file']}: ranks_by names {', '.join(strangers)}, "
                            "who are not raters of the panel")
    for line, members in by_line.items():
        members.sort(key=lambda take: take["take_number"])
        if consensus_moves(panel, members):
            problems.append(f"line {line}: its ranks are not the panel's consensus "
                            "(voicelab fsck --repair does not change ranks; a lead can reopen "
                            "the line to recompute it)")
    return problems
