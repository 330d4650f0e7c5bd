"""What a blind rater may see of a take: one rule (`voicelab.panel.blind.rater_take`), and both
faces keep to it.

A take carries every field of the schema table (`voicelab.store.schema.TAKE_FIELDS`, so a field
added later is fed too), the facts generation and the speech check write, and a field nobody
knows. Each value a blind rater must not read is marked `zz` (or is a number of its own); a
blind view, from the API (`api.visibility`) and from the board (`widgets.rank_state`), carries
only the keys of an explicit allow-list below, and none of those values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api import visibility
from voicelab import panel, people
from voicelab.panel import blind
from voicelab.store.schema import TAKE_FIELDS, NoneType, take_problem
from voicelab.widgets import rank_state

# The allow-lists, written out here (not imported) so that widening one is a visible change.
CORE_BLIND = {"id", "label", "position", "line", "script_text", "duration_s", "rank", "flags",
              "stale", "text_was", "removed", "heard", "wer", "lufs", "peak_dbfs", "peaks"}
API_BLIND = {"id", "label", "line", "script_text", "duration_s", "flags", "rank"}
BOARD_BLIND = {"file", "line", "take_number", "label", "rank", "ranked_at", "ranked_by",
               "settings", "duration_s", "flags", "gain_db", "stale", "text_was", "removed",
               "heard", "wer"}

RATER, OTHER, LEAD = "dana", "zzother", "zzlead"
OWN_RANK, CONSENSUS_RANK, TAKE_NUMBER = 2, 5, 7
SECRET_NUMBERS = ("424242", "0.123456", "2031-01-02T03:04:05", "9090909")
"""Values a blind view must never hold: the seed, a setting, the consensus's time, and the
value given to any number field the schema gains later."""

SAMPLES: dict[str, Any] = {
    "file": "zzsecret_take_7.mp3",
    "line": "Gate",
    "script_text": "Hold the gate",
    "generation_settings": {"stability": 0.123456, "zzsetting": "zzgeneration_settings"},
    "take_number": TAKE_NUMBER,
    "rank": CONSENSUS_RANK,
    "ranked_at": "2031-01-02T03:04:05+00:00",
    "ranked_by": "zzranked_by",
    "ranks_by": {RATER: OWN_RANK, OTHER: CONSENSUS_RANK},
    "stale": {"text_was": "Hold the old gate", "since": "zzstale_since"},
    "removed": {"since": "zzremoved_since"},
    "category": "zzcategory",
}
"""A value for each schema field whose rule asks for a shape; any other field gets one by its
types (`_sample`), marked so that a view holding it fails."""


def _sample(field: Any) -> Any:
    """A valid value for a schema field a blind rater must not read, marked `zz`."""
    if field.name in SAMPLES:
        return SAMPLES[field.name]
    if str in field.types:
        return f"zz{field.name}"
    if dict in field.types:
        return {f"zz{field.name}": f"zz{field.name}"}
    if int in field.types:
        return 9090909
    if field.types == {NoneType}:
        return None
    raise AssertionError(f"give the new take field {field.name!r} a sample in SAMPLES")


def full_take() -> dict[str, Any]:
    """A take with every schema field, what generation and the speech check add, and more."""
    take = {field.name: _sample(field) for field in TAKE_FIELDS}
    take.update({
        "seed": 424242,
        "duration_s": 1.5,
        "zz_unknown_field": "zz_unknown_value",
        "quality": {
            "peak_dbfs": -3.0, "clipped_samples": 0, "leading_silence_s": 0.1,
            "trailing_silence_s": 0.1, "silence_ratio": 0.2, "lufs": -20.0, "peaks": "",
            "flags": ["clipping"], "zzquality_extra": "zzquality_extra",
            "speech": {"wer": 0.25, "heard": "hold the gate", "engine": "zzengine",
                       "checked_at": "zzchecked_at"},
        },
    })
    problem = take_problem(take)
    assert problem is None, f"the full take breaks the schema: {problem}"
    return take


def metadata_of(take: dict[str, Any], *, blind_panel: bool = True) -> dict[str, Any]:
    return {
        "batch_id": "Skin-Voice-20310102", "skin_name": "Skin", "voice_name": "Voice-v1",
        "generation_params": {"engine": "zzengine", "seed": 424242},
        "generated_at_utc": None, "ranked_at_utc": None, "takes": [take],
        "panel": {"raters": [RATER, OTHER], "blind": blind_panel, "method": "borda",
                  "opened_by": LEAD, "order_key": "0123456789abcdef", "lines": {}},
    }


@pytest.fixture
def batch_dir(tmp_path: Path) -> Callable[..., Path]:
    def write(**kw: Any) -> Path:
        folder = tmp_path / "batch"
        folder.mkdir(exist_ok=True)
        (folder / "metadata.json").write_text(json.dumps(metadata_of(full_take(), **kw)))
        return folder
    return write


def assert_nothing_secret(view: Any) -> None:
    text = json.dumps(view, default=str)
    assert "zz" not in text, text
    for value in SECRET_NUMBERS:
        assert value not in text, (value, text)


def test_the_core_allow_list_is_the_one_written_here() -> None:
    assert set(blind.BLIND_VIEW) == CORE_BLIND
    assert set(blind.API_BLIND_TAKE) == API_BLIND and API_BLIND <= CORE_BLIND


def test_the_core_blind_view_holds_only_allowed_fields() -> None:
    seat = blind.BlindSeat("t00ff", "A", 1)
    view = blind.rater_take(full_take(), RATER, seat=seat)
    assert set(view) <= CORE_BLIND
    assert_nothing_secret(view)
    assert (view["rank"], view["position"], view["id"]) == (OWN_RANK, 1, "t00ff")
    assert view["text_was"] == "Hold the old gate" and view["flags"] == ["clipping"]


def test_the_apis_blind_view_holds_only_allowed_fields(batch_dir: Callable[..., Path]) -> None:
    folder = batch_dir()
    metadata = json.loads((folder / "metadata.json").read_text())
    caller = people.Person(RATER, "designer")
    seen = visibility.metadata_for(metadata, folder, caller)
    assert seen["generation_params"] == {}
    assert_nothing_secret(seen)
    (take,) = seen["takes"]
    assert set(take) <= API_BLIND and take["rank"] == OWN_RANK
    line = visibility.line_for(metadata, metadata["takes"], "blind", caller)
    assert [set(t) <= API_BLIND for t in line] == [True]
    assert_nothing_secret(line)


def test_the_boards_blind_view_holds_only_allowed_fields(batch_dir: Callable[..., Path]) -> None:
    view = rank_state.board_view(batch_dir(), None, people.Person(RATER, "designer"))
    assert view.mode == "blind"
    (record,) = view.traits["takes"]
    assert set(record) <= BOARD_BLIND
    assert record["settings"] == {} and record["take_number"] == 1
    assert (record["rank"], record["ranked_at"], record["ranked_by"]) == (OWN_RANK, None, RATER)
    assert_nothing_secret({**view.traits, "peaks": None})
    assert set(view.files.values()) == {SAMPLES["file"]}  # the kernel's own map, never sent


@pytest.mark.parametrize("face", ["api", "board"])
def test_settings_are_hidden_blind_and_shown_to_a_rater_of_a_panel_that_is_not(
        batch_dir: Callable[..., Path], face: str) -> None:
    caller = people.Person(RATER, "designer")

    def takes(folder: Path) -> list[dict[str, Any]]:
        if face == "board":
            return rank_state.board_view(folder, None, caller).traits["takes"]
        metadata = json.loads((folder / "metadata.json").read_text())
        return visibility.metadata_for(metadata, folder, caller)["takes"]

    (hidden,) = takes(batch_dir(blind_panel=True))
    assert "generation_settings" not in hidden and not hidden.get("settings")
    (shown,) = takes(batch_dir(blind_panel=False))
    settings = shown["settings"] if face == "board" else shown["generation_settings"]
    assert settings["stability"] == 0.123456
    assert "ranks_by" not in shown and shown["rank"] == OWN_RANK and shown["ranked_at"] is None
    assert shown.get("ranked_by") in (None, RATER) and OTHER not in json.dumps(shown)


def test_both_faces_build_a_raters_takes_through_the_one_function(
        batch_dir: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    real = blind.rater_take

    def spy(take: Any, rater: str, **kw: Any) -> dict[str, Any]:
        calls.append(kw.get("seat") is not None)
        return real(take, rater, **kw)

    monkeypatch.setattr(blind, "rater_take", spy)
    folder = batch_dir()
    caller = people.Person(RATER, "designer")
    visibility.metadata_for(json.loads((folder / "metadata.json").read_text()), folder, caller)
    assert calls == [True]
    rank_state.board_view(folder, None, caller)
    assert calls == [True, True]
    assert panel.rater_metadata is blind.rater_metadata
