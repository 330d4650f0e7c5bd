"""What a rater of an open panel may see of a take: one rule, in one place (docs/design.md,
decision 12).

`rater_take` is the one function that builds a rater's view of a take, and `rater_views` gives
every take of a batch through it in the order the rater sees them. Both faces shape their
answers from those views and read nothing else of a take for a rater: the API
(`rater_metadata`, through api/visibility.py) and the ranking board (widgets/rank_state.py).

Blind (a rater, or any non-lead, of an open blind panel): the view holds only the keys of
BLIND_VIEW: an opaque id, a label and a position in the rater's shuffled order of the line, the
line and its text, the rater's own rank, the QC flags, the loudness facts and waveform, what the
speech check heard, and whether the take is stale or removed. Never a file name, settings, a
seed, a take number, another rater's rank, the consensus, or any field added to a take later.
Not blind (an open panel that is not blind): the take as stored, less HIDDEN_FROM_RATERS, with
the rater's own `rank` and no `ranked_at` (as stored it is the consensus's time).

Also here, what else a rater's view of a panel hides: the rank fields each mode shows
(`rank_fields`), the actions a board offers in each mode (`rater_actions`), and the panel's
other people, never named to a rater (`hidden_names`, `unnamed`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from voicelab.panel.changes import panel_of
from voicelab.panel.views import blind_lines, own_rank, progress
from voicelab.store.schema import Metadata

Take = dict[str, Any]

RATER_MODES = ("blind", "rater")
"""The view modes of a rater (or non-lead) of an open panel: only their own ranks."""

BLIND_FIELDS = ("line", "script_text", "duration_s")
"""The fields of a stored take a blind rater may read as they are (`duration_s`: the measured
one under `quality` when the take has none of its own)."""
BLIND_QUALITY = ("lufs", "peak_dbfs", "peaks")
"""The measured facts under a take's `quality` a blind view carries: for loudness-matched
playback and the waveform, never an identity."""
BLIND_VIEW = ("id", "label", "position", *BLIND_FIELDS, "rank", "flags", "stale", "text_was",
              "removed", "heard", "wer", *BLIND_QUALITY)
"""Every key a blind view of a take may carry: the allow-list (tests/unit/test_blind_view.py
feeds every field of the schema, and an unknown one, and checks both faces keep to it)."""
API_BLIND_TAKE = ("id", "label", *BLIND_FIELDS, "flags", "rank")
"""A take in the API's blind answers (OpenAPI `BlindTake`): a part of BLIND_VIEW."""
HIDDEN_FROM_RATERS = ("ranks_by", "ranked_by")
"""What a rater's view of a panel that is not blind drops from a stored take: every rater's
ranks, and who gave the consensus rank."""


class BlindSeat(NamedTuple):
    """Where a take sits for one blind rater: its opaque id, its label, and its position (from
    1) in the rater's shuffled order of its line."""

    id: str
    label: str
    position: int


def retired_fields(take: Mapping[str, Any]) -> dict[str, Any]:
    """On a stale take (its line's text changed) `stale: True` and `text_was`, the text it
    says; on a removed take (its line left the script) `removed: True`; nothing on a current
    take. Neither may be ranked (docs/design.md, decision 13). The same in every mode: the old text
    is the line's, not the take's identity."""
    fields: dict[str, Any] = {}
    if stale := take.get("stale"):
        fields.update(stale=True, text_was=stale.get("text_was")
                      if isinstance(stale, Mapping) else None)
    if take.get("removed"):
        fields["removed"] = True
    return fields


def _quality(take: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = take.get("quality")
    return nested if isinstance(nested, Mapping) else {}


def heard_fields(take: Mapping[str, Any]) -> dict[str, Any]:
    """What the speech check heard (`heard`, `wer`), only for a checked take: words, not an
    identity, so blind views carry them too."""
    speech = _quality(take).get("speech")
    if isinstance(speech, Mapping) and isinstance(speech.get("wer"), int | float):
        return {"heard": str(speech.get("heard") or ""), "wer": float(speech["wer"])}
    return {}


def rank_fields(take: Mapping[str, Any], mode: str, name: str) -> dict[str, Any]:
    """The rank fields a take shows in `mode` (panel.MODES) to `name`: the seed's (solo: the
    shared ranks, lead: the consensus) or, to a rater, their own (with no time, which would
    tell when the consensus moved)."""
    if mode not in RATER_MODES:
        return {"rank": take["rank"], "ranked_at": take["ranked_at"],
                "ranked_by": take.get("ranked_by")}
    rank = own_rank(take, name)
    return {"rank": rank, "ranked_at": None, "ranked_by": name if rank is not None else None}


def rater_take(take: Mapping[str, Any], rater: str, *, seat: BlindSeat | None = None,
               flags: Sequence[str] | None = None) -> Take:
    """A take as `rater` (a rater, or any non-lead, of an open panel) may see it.

    Blind, when `seat` places it in the rater's order: only BLIND_VIEW keys, `flags` being the
    take's QC flags (default: as stored). Not blind (`seat` None): the take as stored, less
    HIDDEN_FROM_RATERS, with the rater's own `rank` and `ranked_at` null.
    """
    if seat is None:
        return {**{key: value for key, value in take.items() if key not in HIDDEN_FROM_RATERS},
                "rank": own_rank(take, rater), "ranked_at": None}
    facts = _quality(take)
    view: Take = {"id": seat.id, "label": seat.label, "position": seat.position,
                  **{key: take[key] for key in BLIND_FIELDS if key in take}}
    if "duration_s" not in view and "duration_s" in facts:
        view["duration_s"] = facts["duration_s"]
    view.update(rank=own_rank(take, rater),
                flags=list(flags if flags is not None else facts.get("flags") or []),
                **retired_fields(take), **heard_fields(take),
                **{key: facts[key] for key in BLIND_QUALITY if key in facts})
    return {key: view[key] for key in BLIND_VIEW if key in view}


def blind_seats(metadata: Metadata, rater: str) -> list[tuple[Take, BlindSeat]]:
    """Every take with its seat for `rater`, lines in script order, each line's takes in the
    order shuffled for them (`views.blind_lines`)."""
    positions: dict[str, int] = {}
    seats = []
    for take, take_id, mark in blind_lines(metadata, rater):
        positions[take["line"]] = position = positions.get(take["line"], 0) + 1
        seats.append((take, BlindSeat(take_id, mark, position)))
    return seats


def rater_views(metadata: Metadata, rater: str, *, blind: bool,
                flags: Mapping[str, Sequence[str]] | None = None) -> list[tuple[str, Take]]:
    """(file, view) for every take as `rater` sees the batch (`rater_take`): blind, in their
    shuffled order, with `flags` by file (default: as stored); else in the stored order. The
    file is for the face's own use (what a board key names), never to show."""
    if not blind:
        return [(take["file"], rater_take(take, rater)) for take in metadata["takes"]]
    return [(take["file"], rater_take(take, rater, seat=seat,
                                      flags=None if flags is None else flags[take["file"]]))
            for take, seat in blind_seats(metadata, rater)]


def rater_metadata(metadata: Metadata, *, name: str, blind: bool) -> Metadata:
    """The batch metadata as a rater (or non-lead) of an open panel may read it (the API's).

    Blind: takes carry API_BLIND_TAKE of their `rater_take` view, in the reader's shuffled
    order, and no generation parameters. Not blind: the takes as `rater_take` gives them.
    The panel shows its size (not who else rates), blindness and the reader's own progress.
    """
    panel = panel_of(metadata) or {}
    head = {key: metadata[key] for key in ("batch_id", "skin_name", "voice_name",
                                            "generated_at_utc", "ranked_at_utc")}
    head["panel"] = {"size": len(panel.get("raters", [])), "blind": blind, "you": name,
                     "progress": progress(metadata).get(name)}
    head["generation_params"] = {} if blind else metadata["generation_params"]
    views = [view for _file, view in rater_views(metadata, name, blind=blind)]
    head["takes"] = [{key: view[key] for key in API_BLIND_TAKE if key in view}
                     for view in views] if blind else views
    return head


def rater_actions(actions: Iterable[str], mode: str, rater: bool) -> list[str]:
    """Of the `actions` a role allows, those a board offers in `mode`: a panel's raters rank
    alone, so no notes or more takes (a note may name a take), and someone who is not one of
    its raters may not rank or undo on it."""
    hidden = {"note", "more"} | ({"rank", "undo"} if not rater else set())
    return [action for action in actions if mode not in RATER_MODES or action not in hidden]


def hidden_names(metadata: Metadata, mode: str, name: str) -> tuple[str, ...]:
    """The panel's other people (raters, opener, who closed a line), whom a rater's view in
    `mode` never names, longest first; none for a lead or on a solo batch."""
    panel = panel_of(metadata)
    if panel is None or mode not in RATER_MODES:
        return ()
    hidden = {*panel["raters"], panel.get("opened_by") or ""}
    hidden |= {state.get("closed_by") or "" for state in (panel.get("lines") or {}).values()
               if isinstance(state, dict)}
    hidden -= {name, ""}
    return tuple(sorted(hidden, key=len, reverse=True))


def unnamed(text: str, names: Sequence[str]) -> str:
    """`text` with each of `names` (whole names only) replaced by "someone"."""
    for name in names:
        text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", "someone", text)
    return text
