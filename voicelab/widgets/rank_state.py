"""What the ranking board shows, and to whom: its synced state, read from a batch's metadata.

`board_view` gives every trait `RankBoard` loads from disk, for the person looking: the traits
depend on who looks (docs/design.md, decision 12, `voicelab.panel.views`). A solo batch shows
everyone the seed's ranks. On a panel batch a lead sees the consensus and the panel's report
(`panel`); a rater sees only their own ranks; a rater (or any non-lead) of an open blind panel sees
each line's takes under opaque ids, in the order shuffled for them and labelled A, B, C..., without
settings, seeds, take numbers or file names, and gets the audio through the kernel. Nothing
of another rater's ranks or the consensus reaches a non-lead while the panel is open: a rater's
records are made from the core's view of each take (`voicelab.panel.blind.rater_take`, the one
rule the API follows too) and from nothing else of it.
`take_record` is one take as the board sees it (small and JSON-ready), `pack_peaks` its
waveform overview as bytes. A batch's lines change over time (docs/design.md, decision 13): a take
whose line's text changed is `stale` (shown struck through, never ranked), the takes of a line gone
from the script are `removed` (hidden unless asked for); `line_records` gives each line its
current text, and `notes_view` the director notes the person may see.
"""

from __future__ import annotations

import contextlib
import os
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voicelab import panel, people, quality, ranking, store
from voicelab.errors import VoicelabError
from voicelab.panel.blind import BlindSeat, heard_fields, retired_fields
from voicelab.panel.views import MODES

__all__ = ["MODES", "BoardView", "blind_record", "board_state", "board_view", "heard_fields",
           "line_records", "lock_problems", "notes_view", "pack_peaks", "panel_report",
           "rank_changes", "rater_record", "retired_fields", "take_changes", "take_record"]

PEAK_POINTS = 100
"""Bytes per take in the `peaks` trait: one per 2.4 px of the board's 240 px waveform."""
SETTING_KEYS = ("stability", "similarity_boost", "style", "speed", "use_speaker_boost")
"""The generation settings the board shows on each take."""


def _quality(take: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = take.get("quality")
    return nested if isinstance(nested, Mapping) else {}


def _gain_target(takes: Sequence[Mapping[str, Any]]) -> float:
    """The batch's median loudness: matching to it keeps most playback gains small."""
    values = [q["lufs"] for t in takes if isinstance((q := _quality(t)).get("lufs"), int | float)]
    return float(statistics.median(values)) if values else -23.0


def take_record(take: Mapping[str, Any], flags: list[str], target: float) -> dict[str, Any]:
    """The board's view of one take: small and JSON-ready (the waveform travels separately)."""
    facts = _quality(take)
    settings = take.get("generation_settings") or {}
    return {
        "file": take["file"],
        "line": take["line"],
        "take_number": take["take_number"],
        "rank": take["rank"],
        "ranked_at": take["ranked_at"],
        "ranked_by": take.get("ranked_by"),
        "settings": {key: settings[key] for key in SETTING_KEYS if key in settings},
        "duration_s": take.get("duration_s", facts.get("duration_s")),
        "flags": list(flags),
        "gain_db": quality.loudness_gain_db(facts.get("lufs"), target, facts.get("peak_dbfs")),
        **retired_fields(take),
        **heard_fields(take),
    }


def pack_peaks(stored: str | Sequence[float] | None, points: int = PEAK_POINTS) -> bytes:
    """A waveform overview as `points` bytes (0-255), max-pooled from a take's stored peaks.

    Binary and short, so a 2,000-take batch's overviews are ~200 kB in the widget state
    instead of megabytes of JSON; no values gives a flat line (all zero).
    """
    samples = quality.peak_values(stored)  # type: ignore[arg-type]
    if not len(samples):
        return bytes(points)
    pooled = np.maximum.reduceat(samples, np.arange(points) * len(samples) // points)
    return np.clip(np.rint(pooled * 255), 0, 255).astype(np.uint8).tobytes()


RATER_ROLES = ("designer", "lead")
"""The roles the "Rate as a panel" dialog offers as raters (a viewer cannot rank)."""


@dataclass(frozen=True)
class BoardView:
    """What one person's board shows of a batch (`traits`), and which take each key names.

    `files` maps the key a take has on the board (its `file` field) to its file name: the
    identity, except in blind mode, where the keys are the rater's opaque ids.
    """

    traits: dict[str, Any]
    mode: str
    viewer: tuple[str, str]
    """(name, role) of the person it was made for."""
    rater: bool
    """Whether that person is one of the panel's raters (False on a solo batch)."""
    files: dict[str, str] = field(default_factory=dict)
    """The key of each take on the board -> its file name."""
    keys: dict[str, str] = field(default_factory=dict)
    """A take's file name -> its key on the board (`files` reversed)."""
    hidden_names: tuple[str, ...] = ()
    """The panel's other people (raters, opener, who closed a line), whom a rater's board never
    names: texts shown to a rater (errors) have them replaced."""


def blind_record(take: Mapping[str, Any], key: str, label: str, position: int,
                 flags: list[str], target: float, name: str) -> dict[str, Any]:
    """A take as a blind rater's board shows it, at `key` (its opaque id), `label` and
    `position` in its line: `rater_record` of the core's blind view (`panel.rater_take`)."""
    return rater_record(panel.rater_take(take, name, seat=BlindSeat(key, label, position),
                                         flags=flags), "blind", flags, target, name)


def rater_record(view: Mapping[str, Any], mode: str, flags: list[str], target: float,
                 name: str) -> dict[str, Any]:
    """The board's record of a take from `panel.rater_take`'s view of it for `name`, and
    nothing else of the take. Blind: an opaque key, its label and position in the line, their
    own rank and the facts that tell nothing of its identity (duration, QC flags, the
    loudness-matching gain); no settings. Rater (not blind): `take_record` of the view, which
    holds only their own rank. `flags`: the take's QC flags (in a blind view already)."""
    own = {"ranked_by": name if view["rank"] is not None else None}
    if mode != "blind":
        return {**take_record(view, flags, target), **own}
    return {
        "file": view["id"],
        "line": view["line"],
        "take_number": view["position"],
        "label": view["label"],
        "rank": view["rank"],
        "ranked_at": None,
        **own,
        "settings": {},
        "duration_s": view.get("duration_s"),
        "flags": list(view["flags"]),
        "gain_db": quality.loudness_gain_db(view.get("lufs"), target, view.get("peak_dbfs")),
        **{key: view[key] for key in ("stale", "text_was", "removed", "heard", "wer")
           if key in view},
    }


def line_records(takes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The batch's lines in script order (first take order): `{line, script_text, removed}`.

    `script_text` is the line's current text (its current takes'), so a line whose text changed
    shows the new text above its struck-through stale takes; while every take is stale, the
    newest take's. `removed`: every take of the line is removed (the line left the script).
    """
    lines: dict[str, dict[str, Any]] = {}
    for take in takes:
        current = not take.get("stale") and not take.get("removed")
        record = lines.setdefault(take["line"], {"line": take["line"], "current": False,
                                                 "script_text": take["script_text"],
                                                 "removed": True})
        if current or not record["current"]:
            record["script_text"] = take["script_text"]
        record["current"] = record["current"] or current
        record["removed"] = record["removed"] and bool(take.get("removed"))
    return [{key: record[key] for key in ("line", "script_text", "removed")}
            for record in lines.values()]


NOTE_FIELDS = ("text", "by", "at", "needs_pass")


def notes_view(metadata: store.Metadata, mode: str) -> dict[str, dict[str, Any]]:
    """The director notes the board shows (`notes` trait): line -> {text, by, at, needs_pass}.

    None in `blind` and `rater` mode: a panel's raters rank alone, and a note may name a take
    ("take 3 is the one") a blind rater must not tell apart.
    """
    if mode in ("blind", "rater"):
        return {}
    notes = metadata.get("notes") or {}
    return {line: {key: note.get(key) for key in NOTE_FIELDS}
            for line, note in notes.items() if isinstance(note, Mapping)}


def panel_report(metadata: store.Metadata) -> dict[str, Any]:
    """The `panel` trait of a lead's board: raters, method, progress, and every line, least
    agreement first (then the lines fewer than two raters ranked, in script order), with each
    rater's ranks, agreement (Kendall's W), each rater's tau and the lead's decisions."""
    report = panel.consensus_report(metadata)
    if not report:
        return {}
    ordered = panel.disagreements(report)
    rest = [line for line in report["lines"] if line["agreement"] is None]
    keep = ("line", "agreement", "rater_agreement", "ranks_by", "raters_ranked", "closed",
            "closed_by", "override")
    return {
        **{key: report[key] for key in ("raters", "blind", "method", "opened_by", "progress",
                                        "rater_agreement")},
        "lines": [{key: line[key] for key in keep} for line in ordered + rest],
    }


def lock_problems(metadata: store.Metadata, mode: str, person: people.Person,
                  locked: bool) -> list[dict[str, Any]]:
    """What the lock dialog lists before a lead locks (`ranking.lock_gate`): one
    `{line, problems, take, words}` per line whose selected take has a QC flag or is stale, or
    which has no selection (`words`: the problems as people read them). Only for someone who may
    lock an open batch, in `solo` or `lead` mode (a lead's view of a panel: the consensus);
    empty otherwise, so a blind rater never sees which take is a line's best."""
    if locked or mode not in ("solo", "lead") or not person.may("lock"):
        return []
    return [{**problem.as_dict(), "words": problem.describe()}
            for problem in ranking.lock_gate(metadata)]


def raters_offered(root: Path | None) -> list[str]:
    """The users who may rank (designers and leads), by name: what "Rate as a panel" offers;
    empty without a users file (or when it cannot be read)."""
    if root is None:
        return []
    with contextlib.suppress(VoicelabError, OSError):
        return [user.name for user in people.list_users(root) if user.role in RATER_ROLES]
    return []


def _audio_path(batch_dir: Path, root: Path | None) -> str:
    if root is None:
        return ""
    rel = os.path.relpath(Path(batch_dir).resolve(), Path(root).resolve())
    return "" if rel.startswith("..") else Path(rel, store.TAKES_DIR).as_posix() + "/"


def _flags(takes: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """Every take's QC flags, as stored, else computed by comparing the takes of its line."""
    stored: list[list[str] | None] = [_quality(t).get("flags") for t in takes]
    computed = quality.flag_batch(takes) if any(f is None for f in stored) else []
    return [f if f is not None else computed[i] for i, f in enumerate(stored)]


def board_view(batch_dir: Path, root: Path | None, person: people.Person = people.CLI,
               users_root: Path | None = None) -> BoardView:
    """Every trait the board shows `person` for a batch, read from its metadata.json.

    `audio_path` is the batch's takes/ folder relative to `root` (the `/audio/` URL space);
    empty when the batch is not under `root`, or in blind mode (a path names the take), so
    the browser asks the kernel for the bytes. `mode` is `panel.view_mode`'s. `panel` is the
    panel's report in lead mode only (else `{}`); `raters_offered` lists the users of
    `users_root` who may rate, for a person who may open a panel on an open solo batch only.

    Raises:
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    metadata = store.load_metadata(batch_dir, check_files=False)
    locked = store.is_locked(batch_dir)
    mode = panel.view_mode(metadata, locked=locked, name=person.name, role=person.role)
    takes = metadata["takes"]
    flags = dict(zip((t["file"] for t in takes), _flags(takes), strict=True))
    target = _gain_target(takes)
    if mode in panel.RATER_MODES:  # the core's views of the takes, and nothing else of them
        views = panel.rater_views(metadata, person.name, blind=mode == "blind", flags=flags)
        files = [file for file, _view in views]
        records = [rater_record(view, mode, flags[file], target, person.name)
                   for file, view in views]
        peaks = [view.get("peaks") if mode == "blind" else _quality(view).get("peaks")
                 for _file, view in views]
    else:
        files = [take["file"] for take in takes]
        records = [take_record(take, flags[take["file"]], target) for take in takes]
        peaks = [_quality(take).get("peaks") for take in takes]
    the_panel = panel.panel_of(metadata)
    offered = mode == "solo" and not locked and person.may("panel")
    traits = {
        "batch_id": metadata["batch_id"],
        "skin": metadata["skin_name"],
        "voice": metadata["voice_name"],
        "takes": records,
        "lines": line_records(takes),
        "notes": notes_view(metadata, mode),
        "peaks": b"".join(pack_peaks(stored or []) for stored in peaks),
        "audio_path": "" if mode == "blind" else _audio_path(batch_dir, root),
        "locked": locked,
        "mode": mode,
        "panel": panel_report(metadata) if mode == "lead" else {},
        "raters_offered": raters_offered(users_root) if offered else [],
        "lock_problems": lock_problems(metadata, mode, person, locked),
    }
    return BoardView(
        traits=traits, mode=mode, viewer=(person.name, person.role),
        hidden_names=panel.hidden_names(metadata, mode, person.name),
        rater=the_panel is not None and person.name in the_panel["raters"],
        files={record["file"]: file for record, file in zip(records, files, strict=True)},
        keys={file: record["file"] for record, file in zip(records, files, strict=True)})


def board_state(batch_dir: Path, root: Path | None,
                person: people.Person = people.CLI) -> dict[str, Any]:
    """Every trait the board shows `person` (the CLI lead by default) for a batch: see
    `board_view`.

    Raises:
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    return board_view(batch_dir, root, person).traits


def take_changes(before: Sequence[Mapping[str, Any]],
                 after: Sequence[Mapping[str, Any]]) -> tuple[int, int]:
    """Between two `takes` lists: how many takes in both have a different rank, and how many
    takes are new (a job adding takes to a line, docs/design.md, decision 13)."""
    old = {t["file"]: t["rank"] for t in before}
    new = {t["file"]: t["rank"] for t in after}
    return (sum(old[f] != new[f] for f in old.keys() & new.keys()),
            len(new.keys() - old.keys()))


def rank_changes(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> int:
    """How many takes have a different rank (or are new or gone) between two `takes` lists."""
    old = {t["file"]: t["rank"] for t in before}
    new = {t["file"]: t["rank"] for t in after}
    return sum(old.get(f, "gone") != new.get(f, "gone") for f in old.keys() | new.keys())
