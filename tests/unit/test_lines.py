"""A batch's lines over time: the script diff, stale and removed marks, director notes
(voicelab.lines), and what they mean for ranking, export and the history."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.batches import make_batch, ranked_on_disk, ranks_in
from voicelab import fsck, history, lines, panel, ranking, store
from voicelab.delivery import deliver, rows
from voicelab.errors import BatchLocked, LineError, TakeRetired
from voicelab.script import Script, parse_script


def take(line: int, number: int) -> str:
    return f"Line_{line}_take_{number}.mp3"


def script(*rows: tuple[str, str]) -> Script:
    body = "Function,Line\n" + "".join(f"{function},{text}\n" for function, text in rows)
    return parse_script(body.encode(), name="edited.csv")


def replays(batch: Path) -> None:
    metadata = store.load_metadata(batch)
    entries = history.read(batch)
    assert history.replay(entries, [t["file"] for t in metadata["takes"]]) == {
        t["file"]: t["rank"] for t in metadata["takes"]}
    assert fsck.check_batch(batch).ok, fsck.check_batch(batch).problems
    assert ranked_on_disk(batch) == ranks_in(metadata)


# --- the diff --------------------------------------------------------------------------------


def test_the_diff_sorts_lines_into_new_changed_removed_and_unchanged(root: Path) -> None:
    batch = make_batch(root, lines=3)  # texts "Text of Line_<i>."
    edited = script(("Line_1", "Text of Line_1."), ("Line_2", "A new text."), ("Line_9", "Hi."))
    diff = lines.diff_script(store.load_metadata(batch), edited)
    assert [line.function for line in diff.new] == ["Line_9"]
    assert [(c.function, c.old_text, c.line.text) for c in diff.changed] == [
        ("Line_2", "Text of Line_2.", "A new text.")]
    assert diff.removed == ["Line_3"] and diff.unchanged == ["Line_1"]
    assert diff.counts() == {"new": 1, "changed": 1, "removed": 1, "unchanged": 1}
    assert [line.function for line in diff.to_generate] == ["Line_9", "Line_2"]
    same = script(*((f"Line_{i}", f"Text of Line_{i}.") for i in (1, 2, 3)))
    assert lines.diff_script(store.load_metadata(batch), same).empty


def test_a_changed_pronunciation_makes_the_lines_using_it_changed(root: Path) -> None:
    batch = make_batch(root, lines=2)
    same = script(("Line_1", "Text of Line_1."), ("Line_2", "Text of Line_2."))
    diff = lines.diff_script(store.load_metadata(batch), same,
                             changed_words={"Aldric"}, words_of={"Line_2": ["aldric"]})
    assert [(c.function, c.reason) for c in diff.changed] == [("Line_2", "pronunciation")]
    assert diff.unchanged == ["Line_1"]


def test_stale_and_removed_lines_are_seen_as_such_by_the_next_diff(root: Path) -> None:
    batch = make_batch(root, lines=3)
    lines.mark_stale(batch, {"Line_1": None})
    lines.mark_removed(batch, ["Line_3"])
    metadata = store.load_metadata(batch)
    assert lines.current_texts(metadata) == {"Line_1": None, "Line_2": "Text of Line_2."}
    again = script(*((f"Line_{i}", f"Text of Line_{i}.") for i in (1, 2, 3)))
    diff = lines.diff_script(metadata, again)
    assert [(c.function, c.reason) for c in diff.changed] == [("Line_1", "stale")]
    assert [line.function for line in diff.new] == ["Line_3"]  # a returning line
    assert diff.unchanged == ["Line_2"]


# --- stale and removed marks -----------------------------------------------------------------


def test_stale_takes_lose_their_ranks_with_a_history_entry_and_cannot_be_ranked(
        root: Path) -> None:
    batch = make_batch(root, ranks={take(1, 1): 1, take(1, 2): 2, take(2, 1): 1})
    marked = lines.mark_stale(batch, {"Line_1": "Old text."}, person="lena")
    assert marked == [take(1, n) for n in (1, 2, 3)]
    metadata = store.load_metadata(batch)
    stale = [t for t in metadata["takes"] if t["line"] == "Line_1"]
    assert {t["stale"]["text_was"] for t in stale} == {"Old text."}
    assert {t["rank"] for t in stale} == {None}
    assert ranks_in(metadata) == {take(2, 1): 1}
    last = history.read(batch)[-1]
    assert last["action"] == "stale" and last["person"] == "lena"
    assert last["before"] == {take(1, 1): 1, take(1, 2): 2} and len(last["files"]) == 3
    with pytest.raises(TakeRetired, match="stale"):
        ranking.change_rank(batch, take(1, 3), 1)
    assert lines.mark_stale(batch, {"Line_1": "Old text."}) == []  # already stale: no-op
    replays(batch)


def test_removed_takes_keep_their_ranks_but_are_hidden_from_export(
        root: Path, tmp_path: Path) -> None:
    batch = make_batch(root, ranks={take(1, 1): 1, take(2, 2): 1})
    lines.mark_removed(batch, ["Line_2"], person="lena")
    metadata = store.load_metadata(batch)
    assert ranks_in(metadata) == {take(1, 1): 1, take(2, 2): 1}
    assert all(t["removed"] for t in metadata["takes"] if t["line"] == "Line_2")
    with pytest.raises(TakeRetired, match="removed"):
        ranking.change_rank(batch, take(2, 1), 2)
    ranking.lock(batch, person="lena", force=True)
    result = deliver.export_batch(batch, tmp_path / "out")
    assert result.exported == ["Line_1.mp3"] and result.missing == ["Line_3"]
    assert "Line_2" not in (result.manifest).read_text()
    replays(batch)


def test_stale_marks_on_a_panel_clear_every_raters_ranks_and_replay(root: Path) -> None:
    batch = make_batch(root)
    panel.open_panel(batch, ["alice", "bob"], person="lena")
    panel.rate(batch, take(1, 1), 1, person="alice")
    panel.rate(batch, take(1, 2), 1, person="bob")
    panel.rate(batch, take(2, 1), 1, person="bob")
    lines.mark_stale(batch, {"Line_1": None})
    metadata = store.load_metadata(batch)
    assert all(not t["ranks_by"] for t in metadata["takes"] if t["line"] == "Line_1")
    assert history.replay_raters(history.read(batch)) == {"alice": {},
                                                          "bob": {take(2, 1): 1}}
    with pytest.raises(TakeRetired):
        panel.rate(batch, take(1, 3), 1, person="alice")
    replays(batch)


def test_marks_refuse_a_locked_batch_and_change_nothing(root: Path) -> None:
    batch = make_batch(root, locked=True)
    before = (batch / store.METADATA_NAME).read_bytes()
    for call in (lambda: lines.mark_stale(batch, {"Line_1": None}),
                 lambda: lines.mark_removed(batch, ["Line_1"])):
        with pytest.raises(BatchLocked):
            call()
    assert (batch / store.METADATA_NAME).read_bytes() == before


# --- director notes --------------------------------------------------------------------------


def test_a_note_is_written_recorded_replaced_and_removed(root: Path, tmp_path: Path) -> None:
    batch = make_batch(root)
    note = lines.set_note(batch, "Line_2", "  Warmer, less shouty. ", needs_pass=True,
                          person="lena")
    assert note is not None and note["text"] == "Warmer, less shouty." and note["by"] == "lena"
    assert store.load_metadata(batch)["notes"]["Line_2"]["needs_pass"] is True
    revision = store.load_metadata(batch)["revision"]
    lines.set_note(batch, "Line_2", "Warmer, less shouty.", needs_pass=True, person="dana")
    assert store.load_metadata(batch)["revision"] == revision  # the same note: nothing written
    ranking.lock(batch, person="lena", force=True)
    lines.set_note(batch, "Line_2", "Perfect now.", person="dana")  # a locked batch takes notes
    chosen = {row["line"]: row for row in rows.selects(store.load_metadata(batch))}
    assert chosen["Line_2"]["note"] == "Perfect now." and chosen["Line_2"]["needs_pass"] is False
    manifest = deliver.export_batch(batch, tmp_path / "out").manifest.read_text()
    assert "note,needs_pass" in manifest.splitlines()[0] and "Perfect now." in manifest
    assert lines.set_note(batch, "Line_2", "", person="lena") is None
    assert "Line_2" not in store.load_metadata(batch)["notes"]
    notes = [e for e in history.read(batch) if e["action"] == "note"]
    assert [(e["person"], (e["note_after"] or {}).get("text")) for e in notes] == [
        ("lena", "Warmer, less shouty."), ("dana", "Perfect now."), ("lena", None)]
    assert "needs another pass" in history.format_entries(notes)


@pytest.mark.parametrize(("line", "text", "flag", "words"), [
    ("Line_9", "hi", False, "no line 'Line_9'"), ("Line_1", 3, False, "a note is text"),
    ("Line_1", "x" * (lines.NOTE_LIMIT + 1), False, "at most"),
    ("Line_1", "ok", "yes", "needs_pass is true or false")])
def test_a_bad_note_is_refused_saying_why(root: Path, line: str, text: object, flag: object,
                                          words: str) -> None:
    batch = make_batch(root)
    before = (batch / store.METADATA_NAME).read_bytes()
    with pytest.raises(LineError, match=words):
        lines.set_note(batch, line, text, needs_pass=flag)
    assert (batch / store.METADATA_NAME).read_bytes() == before


# --- planning more takes ---------------------------------------------------------------------


def test_more_like_the_best_take_spreads_tightly_around_it_and_numbers_continue(
        root: Path) -> None:
    from voicelab.lines.plan import LIKE_SPREAD, plan_more

    batch = make_batch(root, ranks={take(1, 2): 1})  # take 2: stability 0.5
    metadata = store.load_metadata(batch)
    plan = plan_more(metadata, "Line_1", takes=4)
    assert plan.like == 1 and not plan.text_changed and plan.text == "Text of Line_1."
    assert [t.file for t in plan.takes] == [take(1, n) for n in (4, 5, 6, 7)]
    stabilities = sorted(t.settings.stability for t in plan.takes)
    assert all(abs(s - 0.5) <= LIKE_SPREAD + 1e-9 for s in stabilities)
    assert len(set(stabilities)) == 4  # spread, not four copies
    assert len({t.seed for t in plan.takes} | {1001, 1002, 1003}) == 7  # new seeds
    assert plan == plan_more(metadata, "Line_1", takes=4)  # the same plan again
    assert plan.characters == 4 * len("Text of Line_1.")


def test_more_without_a_best_take_uses_the_batch_ranges_and_an_edited_text(root: Path) -> None:
    from voicelab.lines.plan import plan_more

    batch = make_batch(root)
    data = store.load_metadata(batch)
    data["generation_params"]["settings"] = {"stability": [0.2, 0.4], "speed": 1.1}
    store.save_metadata(batch, data)
    plan = plan_more(store.load_metadata(batch), "Line_2", takes=2, text=" Louder now! ")
    assert plan.like is None and plan.text_changed and plan.text == "Louder now!"
    assert all(0.2 <= t.settings.stability <= 0.4 and t.settings.speed == 1.1
               for t in plan.takes)
    assert {t.line.text for t in plan.takes} == {"Louder now!"}


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"line": "Line_9"}, "no line 'Line_9'"), ({"takes": 0}, "1 to 20"),
    ({"takes": 21}, "1 to 20"), ({"like": 2}, "no rank-2 take"), ({"text": "  "}, "empty")])
def test_more_refuses_what_it_cannot_plan(root: Path, kwargs: dict[str, object],
                                          words: str) -> None:
    from voicelab.lines.plan import plan_more

    metadata = store.load_metadata(make_batch(root, ranks={take(1, 1): 1}))
    arguments: dict[str, object] = {"line": "Line_1", **kwargs}
    line = arguments.pop("line")
    with pytest.raises(LineError, match=words):
        plan_more(metadata, line, **arguments)  # type: ignore[arg-type]
