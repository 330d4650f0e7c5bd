"""What each person may see of a panel batch, and the consensus report (pure functions).

Blind means blind in every channel (docs/design.md, decision 12): while a blind panel is open (the
batch not locked), a rater sees each line's takes in an order shuffled for them and that line
(stable across reloads: a keyed hash, not a random draw), labelled A, B, C..., under opaque ids; no
settings, seeds, take numbers or file names; only their own ranks, never another rater's nor
the consensus. Raters of a panel that is not blind see settings, but still only their own
ranks. Leads see everything: the consensus, every rater's ranks, agreement and progress. Once
the batch is locked, the panel is over and everyone sees the consensus. What a rater's view of
a take holds is `voicelab.panel.blind`'s one rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from voicelab.panel.changes import line_state, panel_of, rater_ranks
from voicelab.panel.consensus import kendalls_w, ranked_files, rater_tau
from voicelab.store.schema import Metadata

Take = dict[str, Any]
MODES = ("solo", "lead", "blind", "rater")
"""How a person sees a batch: solo (no panel, or a locked one for non-leads), lead (everything),
blind (a rater, or anyone not a lead, of an open blind panel) and rater (an open panel that is
not blind: settings shown, only one's own ranks)."""

def view_mode(metadata: Metadata, *, locked: bool, name: str, role: str) -> str:
    """Which of MODES `name` (with `role`) sees `metadata` in."""
    panel = panel_of(metadata)
    if panel is None:
        return "solo"
    if role == "lead":
        return "lead"
    if locked:
        return "solo"
    return "blind" if panel.get("blind", True) else "rater"


def _key(panel: Mapping[str, Any]) -> bytes:
    return bytes.fromhex(panel.get("order_key") or "")[:64]


def _digest(key: bytes, rater: str, filename: str) -> bytes:
    return hashlib.blake2b(f"{rater}\x1f{filename}".encode(), digest_size=12, key=key).digest()


def blind_id(panel: Mapping[str, Any], rater: str, filename: str) -> str:
    """A take's opaque id for one rater: a keyed hash (the panel's secret `order_key`), stable,
    and telling nothing of the file; a line's takes are shown to that rater in id order."""
    return "t" + _digest(_key(panel), rater, filename).hex()


def label(position: int) -> str:
    """The label of the `position`-th take (0-based) of a blind line: A..Z, AA, AB..."""
    text = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        text = chr(ord("A") + rest) + text
    return text


def blind_lines(metadata: Metadata, rater: str) -> list[tuple[Take, str, str]]:
    """Every take as (take, opaque id, label), lines in script order, each line's takes in the
    order shuffled for `rater`: by their opaque ids, a keyed hash of rater and file (stable
    across reloads, different per rater and per line)."""
    key = _key(panel_of(metadata) or {})
    by_line: dict[str, list[tuple[str, Take]]] = {}
    for take in metadata["takes"]:
        by_line.setdefault(take["line"], []).append(
            ("t" + _digest(key, rater, take["file"]).hex(), take))
    result = []
    for members in by_line.values():
        members.sort(key=lambda pair: pair[0])
        result += [(take, take_id, label(i)) for i, (take_id, take) in enumerate(members)]
    return result


def resolve_blind(metadata: Metadata, rater: str, take_id: object) -> str | None:
    """The file behind a rater's opaque id (None: not one of theirs)."""
    key = _key(panel_of(metadata) or {})
    return next((take["file"] for take in metadata["takes"]
                 if "t" + _digest(key, rater, take["file"]).hex() == take_id), None)


def own_rank(take: Mapping[str, Any], rater: str) -> int | None:
    """`rater`'s own rank of a take (None: unranked by them)."""
    rank: int | None = (take.get("ranks_by") or {}).get(rater)
    return rank


def progress(metadata: Metadata) -> dict[str, dict[str, int]]:
    """Per rater: how many lines they ranked at least one take of (`done`) of `total`."""
    panel = panel_of(metadata) or {"raters": []}
    lines = {take["line"] for take in metadata["takes"]}
    done: dict[str, set[str]] = {name: set() for name in panel["raters"]}
    for take in metadata["takes"]:
        for name in take.get("ranks_by") or {}:
            if name in done:
                done[name].add(take["line"])
    return {name: {"done": len(seen), "total": len(lines)} for name, seen in done.items()}


def line_report(panel: Mapping[str, Any], members: Sequence[Take]) -> dict[str, Any]:
    """One line of the consensus report: consensus ranks, each rater's, agreement, decisions."""
    files = [take["file"] for take in members]
    by_rater = rater_ranks(members, panel["raters"])
    consensus = {take["file"]: take["rank"] for take in members}
    state = line_state(panel, members[0]["line"])
    return {
        "line": members[0]["line"],
        "script_text": members[0]["script_text"],
        "consensus": consensus,
        "ranks_by": by_rater,
        "agreement": kendalls_w(by_rater, files),
        "rater_agreement": {name: rater_tau(ranks, consensus, ranked_files(by_rater, files))
                            for name, ranks in by_rater.items() if ranks},
        "raters_ranked": sorted(name for name, ranks in by_rater.items() if ranks),
        "closed": bool(state),
        "closed_by": state.get("closed_by"),
        "override": bool(state.get("override")),
    }


def consensus_report(metadata: Metadata) -> dict[str, Any]:
    """The panel's consensus, per line in script order (None for a solo batch).

    Each line: `consensus` (file -> rank, the seed's `rank`), `ranks_by` (rater -> file ->
    rank), `agreement` (Kendall's W, None with fewer than two raters), `rater_agreement`
    (rater -> Kendall's tau with the consensus), `closed`, `closed_by` and `override`. Also
    the panel's raters, blind, method, each rater's progress, and each rater's mean agreement
    with the consensus over the lines they ranked.
    """
    panel = panel_of(metadata)
    if panel is None:
        return {}
    by_line: dict[str, list[Take]] = {}
    for take in metadata["takes"]:
        by_line.setdefault(take["line"], []).append(take)
    lines = [line_report(panel, sorted(members, key=lambda t: t["take_number"]))
             for members in by_line.values()]
    taus: dict[str, list[float]] = {name: [] for name in panel["raters"]}
    for line in lines:
        for name, tau in line["rater_agreement"].items():
            if tau is not None:
                taus[name].append(tau)
    return {
        "batch_id": metadata["batch_id"],
        "raters": list(panel["raters"]),
        "blind": bool(panel.get("blind", True)),
        "method": panel.get("method", "borda"),
        "opened_by": panel.get("opened_by"),
        "progress": progress(metadata),
        "rater_agreement": {name: round(sum(v) / len(v), 4) if v else None
                            for name, v in taus.items()},
        "lines": lines,
    }


def disagreements(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The report's lines that two or more raters ranked, least agreement first (open lines
    before closed ones at equal agreement)."""
    lines = [line for line in report.get("lines", []) if line["agreement"] is not None]
    return sorted(lines, key=lambda line: (line["agreement"], line["closed"]))
