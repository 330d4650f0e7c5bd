"""voicelab.store on real temp folders: schema v1, durable saves, ranked/ links, lock, finding."""

from __future__ import annotations

import copy
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batches import make_batch, ranked_on_disk, ranks_in
from voicelab import clock, store
from voicelab.errors import BatchNotFound, MetadataError
from voicelab.store import links, schema


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, ranks={"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2})


def _write_raw(batch_dir: Path, data: Any) -> None:
    (batch_dir / store.METADATA_NAME).write_text(json.dumps(data), encoding="utf-8")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if store.is_temp_name(p.name))


# --- load_metadata ---------------------------------------------------------------------------


def test_load_returns_the_metadata_make_batch_wrote(batch: Path) -> None:
    data = store.load_metadata(batch)
    assert data["batch_id"] == batch.name
    assert len(data["takes"]) == 9
    assert ranks_in(data) == {"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2}


def test_unknown_fields_survive_a_save_and_load(batch: Path) -> None:
    data = store.load_metadata(batch)
    data["studio_note"] = {"mic": "U87", "levels": [1, 2]}
    data["takes"][0]["duration_s"] = 1.25
    data["takes"][0]["quality"] = {"flags": ["quiet"]}
    store.save_metadata(batch, data)
    again = store.load_metadata(batch)
    assert again == data
    assert again["studio_note"] == {"mic": "U87", "levels": [1, 2]}
    assert again["takes"][0]["quality"] == {"flags": ["quiet"]}


def test_load_of_a_missing_metadata_names_the_path(batch: Path) -> None:
    (batch / store.METADATA_NAME).unlink()
    with pytest.raises(MetadataError) as caught:
        store.load_metadata(batch)
    assert caught.value.path == batch / store.METADATA_NAME
    assert caught.value.reason == "missing"


def test_load_of_broken_json_says_so(batch: Path) -> None:
    (batch / store.METADATA_NAME).write_text('{"batch_id": "x", ', encoding="utf-8")
    with pytest.raises(MetadataError, match="not valid JSON") as caught:
        store.load_metadata(batch)
    assert str(batch / store.METADATA_NAME) in str(caught.value)


def test_load_of_non_utf8_bytes_is_a_metadata_error(batch: Path) -> None:
    (batch / store.METADATA_NAME).write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(MetadataError, match="not valid JSON"):
        store.load_metadata(batch)


def _broken(data: dict[str, Any], change: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    take = data["takes"][4]
    match change:
        case "top-list":
            return [data]  # type: ignore[return-value]
        case "no-batch-id":
            del data["batch_id"]
        case "skin-int":
            data["skin_name"] = 7
        case "params-list":
            data["generation_params"] = []
        case "takes-dict":
            data["takes"] = {}
        case "no-ranked-at-utc":
            del data["ranked_at_utc"]
        case "generated-not-iso":
            data["generated_at_utc"] = "yesterday"
        case "revision-negative":
            data["revision"] = -1
        case "take-not-object":
            data["takes"][4] = "Line_2_take_2.mp3"
        case "no-file":
            del take["file"]
        case "file-with-slash":
            take["file"] = "../Line_2_take_2.mp3"
        case "file-backslash":
            take["file"] = "a\\b.mp3"
        case "file-not-mp3":
            take["file"] = "Line_2_take_2.wav"
        case "file-hidden":
            take["file"] = ".Line_2_take_2.mp3"
        case "file-int":
            take["file"] = 3
        case "line-none":
            take["line"] = None
        case "no-script-text":
            del take["script_text"]
        case "take-number-zero":
            take["take_number"] = 0
        case "take-number-bool":
            take["take_number"] = True
        case "take-number-str":
            take["take_number"] = "2"
        case "settings-list":
            take["generation_settings"] = [0.5]
        case "no-rank":
            del take["rank"]
        case "no-ranked-at":
            del take["ranked_at"]
        case "ranked-at-not-iso":
            take["ranked_at"] = "soon"
        case "ranked-at-empty":
            take["ranked_at"] = ""
        case "duplicate-file":
            take["file"] = data["takes"][3]["file"]
        case "duplicate-line-rank":
            data["takes"][3]["rank"] = 2
            take["rank"] = 2
        case _:
            raise AssertionError(change)
    return data


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("top-list", "top level must be a JSON object, got list"),
        ("no-batch-id", "missing field 'batch_id'"),
        ("skin-int", "field 'skin_name' must be a string, got 7"),
        ("params-list", "field 'generation_params' must be an object, got []"),
        ("takes-dict", "field 'takes' must be a list, got {}"),
        ("no-ranked-at-utc", "missing field 'ranked_at_utc'"),
        ("generated-not-iso", "field 'generated_at_utc' must be an ISO-8601 time or null"),
        ("revision-negative", "field 'revision' must be an integer >= 0, got -1"),
        ("take-not-object", "takes[4]: must be an object, got 'Line_2_take_2.mp3'"),
        ("no-file", "takes[4]: missing field 'file'"),
        ("file-with-slash", "must be a bare name ending in .mp3, got '../Line_2_take_2.mp3'"),
        ("file-backslash", "must be a bare name ending in .mp3"),
        ("file-not-mp3", "must be a bare name ending in .mp3, got 'Line_2_take_2.wav'"),
        ("file-hidden", "must be a bare name ending in .mp3"),
        ("file-int", "takes[4]: field 'file' must be a string, got 3"),
        ("line-none", "takes[4] (Line_2_take_2.mp3): field 'line' must be a string, got None"),
        ("no-script-text", "takes[4] (Line_2_take_2.mp3): missing field 'script_text'"),
        ("take-number-zero", "field 'take_number' must be an integer >= 1, got 0"),
        ("take-number-bool", "field 'take_number' must be an integer >= 1, got True"),
        ("take-number-str", "field 'take_number' must be an integer >= 1, got '2'"),
        ("settings-list", "field 'generation_settings' must be an object, got [0.5]"),
        ("no-rank", "takes[4] (Line_2_take_2.mp3): missing field 'rank'"),
        ("no-ranked-at", "missing field 'ranked_at'"),
        ("ranked-at-not-iso", "field 'ranked_at' must be an ISO-8601 time or null, got 'soon'"),
        ("ranked-at-empty", "field 'ranked_at' must be an ISO-8601 time or null, got ''"),
        ("duplicate-file", "takes[4]: file 'Line_2_take_1.mp3' is listed twice"),
        (
            "duplicate-line-rank",
            "takes[4] (Line_2_take_2.mp3): rank 2 of line 'Line_2' is also held by "
            "'Line_2_take_1.mp3'",
        ),
    ],
)
def test_load_names_each_schema_violation(batch: Path, change: str, reason: str) -> None:
    _write_raw(batch, _broken(store.load_metadata(batch), change))
    with pytest.raises(MetadataError) as caught:
        store.load_metadata(batch)
    assert reason in caught.value.reason
    assert caught.value.path == batch / store.METADATA_NAME


@pytest.mark.parametrize("rank", [0, 6, -1, "3", 2.5, True, False, [1]])
def test_load_rejects_a_rank_outside_1_to_5(batch: Path, rank: object) -> None:
    data = store.load_metadata(batch)
    data["takes"][5]["rank"] = rank
    _write_raw(batch, data)
    with pytest.raises(MetadataError) as caught:
        store.load_metadata(batch)
    assert caught.value.reason == (
        f"takes[5] (Line_2_take_3.mp3): field 'rank' must be an integer 1-5 or null, got {rank!r}"
    )


def test_load_rejects_a_take_file_missing_from_takes(batch: Path) -> None:
    (batch / "takes" / "Line_3_take_2.mp3").unlink()
    with pytest.raises(MetadataError, match=r"take file takes/Line_3_take_2\.mp3 does not exist"):
        store.load_metadata(batch)
    assert store.load_metadata(batch, check_files=False)["batch_id"] == batch.name


def test_load_rejects_a_batch_without_takes_folder(batch: Path) -> None:
    for mp3 in (batch / "takes").iterdir():
        mp3.unlink()
    (batch / "takes").rmdir()
    with pytest.raises(MetadataError, match="the takes/ folder is missing"):
        store.load_metadata(batch)


def test_a_temp_file_in_takes_does_not_count_as_a_take(batch: Path) -> None:
    os.rename(batch / "takes" / "Line_1_take_2.mp3", batch / "takes" / ".Line_1_take_2.mp3.x.tmp")
    with pytest.raises(MetadataError, match=r"Line_1_take_2\.mp3 does not exist"):
        store.load_metadata(batch)


_take = st.fixed_dictionaries(
    {
        "file": st.sampled_from(["a.mp3", "b.mp3", "c.mp3", "d.mp3", ".e.mp3", "f/g.mp3", "h.wav"]),
        "line": st.sampled_from(["L1", "L2", 3]),
        "script_text": st.sampled_from(["hi", None]),
        "take_number": st.sampled_from([1, 2, 0, True, 1.0]),
        "generation_settings": st.sampled_from([{}, {"speed": 1.0}, []]),
        "rank": st.sampled_from([None, 1, 2, 5, 0, 6, True, 2.0]),
        "ranked_at": st.sampled_from([None, "2025-01-01T00:00:00Z", "x", "", 0]),
    },
    optional={
        "ranks_by": st.sampled_from([{}, {"ann": 1}, {"ann": 2, "bo": 1}, {"ann": 6}, {"": 1},
                                     {"ann": True}, {"ann": 1.0}, {3: 1}, [], None]),
        "stale": st.sampled_from([None, {"text_was": "x", "since": "t"}, {"since": "t"}, "x"]),
        "removed": st.sampled_from([None, {"since": "t"}, {}, True]),
    },
)
_takes = st.lists(
    st.one_of(_take, _take.map(lambda t: {k: v for k, v in t.items() if k != "rank"})),
    max_size=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(takes=_takes)
def test_fast_take_check_agrees_with_the_explaining_one(takes: list[dict[str, Any]]) -> None:
    """The column-wise fast path accepts exactly what the per-take explanation accepts."""
    try:
        schema.raise_take_problem(takes, "m.json")
        slow_ok = True
    except MetadataError:
        slow_ok = False
    assert schema.takes_ok(takes) == slow_ok


# --- save_metadata ---------------------------------------------------------------------------


def test_save_replaces_the_file_and_leaves_no_temp_file(batch: Path) -> None:
    data = store.load_metadata(batch)
    data["takes"][0]["rank"] = None
    inode = (batch / store.METADATA_NAME).stat().st_ino
    store.save_metadata(batch, data)
    assert store.load_metadata(batch)["takes"][0]["rank"] is None
    assert (batch / store.METADATA_NAME).stat().st_ino != inode  # replaced, not rewritten
    assert _leftovers(batch) == []


def test_save_refuses_invalid_metadata_and_changes_nothing(batch: Path) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    data = store.load_metadata(batch)
    data["takes"][2]["rank"] = 9
    with pytest.raises(MetadataError, match="got 9"):
        store.save_metadata(batch, data)
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert _leftovers(batch) == []


@pytest.mark.parametrize("value", [float("nan"), object(), {1, 2}])
def test_save_refuses_values_json_cannot_hold(batch: Path, value: object) -> None:
    before = (batch / store.METADATA_NAME).read_bytes()
    data = store.load_metadata(batch)
    data["generation_params"]["odd"] = value
    with pytest.raises(MetadataError, match="cannot be written as JSON"):
        store.save_metadata(batch, data)
    assert (batch / store.METADATA_NAME).read_bytes() == before
    assert _leftovers(batch) == []


def test_save_writes_strict_readable_json(batch: Path) -> None:
    data = store.load_metadata(batch)
    data["skin_name"] = "Château ☃"
    store.save_metadata(batch, data)
    text = (batch / store.METADATA_NAME).read_text(encoding="utf-8")
    assert json.loads(text) == data
    assert "Château ☃" in text
    assert text.count("\n") >= len(data["takes"])  # one take per line, for readable diffs


def test_save_of_a_batch_without_takes_round_trips(root: Path) -> None:
    batch = root / "S" / "V" / "B"
    store.create_batch_dirs(batch)
    data = {
        "batch_id": "B",
        "skin_name": "S",
        "voice_name": "V",
        "generated_at_utc": None,
        "generation_params": {},
        "ranked_at_utc": None,
        "takes": [],
    }
    store.save_metadata(batch, data)
    assert store.load_metadata(batch) == data


def test_save_works_while_the_caller_holds_the_batch_lock(batch: Path) -> None:
    data = store.load_metadata(batch)
    data["generation_params"]["note"] = "under lock"
    with store.batch_lock(batch):
        store.save_metadata(batch, data)
    assert store.load_metadata(batch)["generation_params"]["note"] == "under lock"


def test_save_into_a_missing_batch_folder_is_a_metadata_error(root: Path, batch: Path) -> None:
    with pytest.raises(MetadataError, match="batch folder does not exist"):
        store.save_metadata(root / "nope", store.load_metadata(batch))


def test_atomic_write_removes_its_temp_file_when_the_replace_fails(tmp_path: Path) -> None:
    target = tmp_path / "occupied"
    (target / "inside").mkdir(parents=True)  # os.replace cannot put a file over a folder
    with pytest.raises(OSError):
        store.atomic_write_bytes(target, b"data")
    assert _leftovers(tmp_path) == []
    assert (target / "inside").is_dir()


def test_update_metadata_is_a_locked_load_modify_save(batch: Path) -> None:
    def rename(data: store.Metadata) -> None:
        data["skin_name"] = "Renamed"

    result = store.update_metadata(batch, rename)
    assert result["skin_name"] == "Renamed"
    assert store.load_metadata(batch)["skin_name"] == "Renamed"
    replaced = store.update_metadata(batch, lambda data: {**data, "voice_name": "Other"})
    assert store.load_metadata(batch) == replaced
    assert replaced["voice_name"] == "Other"


# --- batch_lock ------------------------------------------------------------------------------


def test_batch_lock_is_reentrant_and_excludes_other_threads(batch: Path) -> None:
    inside = threading.Event()
    events: list[str] = []

    def other() -> None:
        with store.batch_lock(batch):
            events.append("other")
            inside.set()

    with store.batch_lock(batch), store.batch_lock(batch):
        thread = threading.Thread(target=other)
        thread.start()
        assert not inside.wait(0.3)  # cannot get in while this thread holds the lock
        events.append("main")
    thread.join(timeout=30)
    assert events == ["main", "other"]


def test_batch_lock_file_is_hidden_and_not_a_temp_name(batch: Path) -> None:
    with store.batch_lock(batch):
        pass
    assert (batch / store.LOCK_FILE_NAME).exists()
    assert not store.is_temp_name(store.LOCK_FILE_NAME)
    assert store.is_temp_name(store.temp_name("metadata.json"))
    assert store.temp_name("x") != store.temp_name("x")


# --- ranked/ links ---------------------------------------------------------------------------


def test_rebuild_makes_all_five_folders_with_relative_links(batch: Path) -> None:
    assert sorted(p.name for p in (batch / "ranked").iterdir()) == list(store.RANK_DIRS)
    assert ranked_on_disk(batch) == {"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2}
    link = batch / "ranked" / "02" / "Line_1_take_3.mp3"
    assert os.readlink(link) == "../../takes/Line_1_take_3.mp3"
    assert link.resolve() == (batch / "takes" / "Line_1_take_3.mp3").resolve()


def test_rebuild_replaces_a_drifted_tree_and_leaves_no_temp(batch: Path) -> None:
    (batch / "ranked" / "01" / "Line_1_take_1.mp3").unlink()
    os.symlink("/etc/passwd", batch / "ranked" / "04" / "evil.mp3")
    (batch / "ranked" / "stray.txt").write_text("x")
    (batch / "ranked" / "05").rmdir()
    store.rebuild_symlinks(batch, store.load_metadata(batch))
    assert sorted(p.name for p in (batch / "ranked").iterdir()) == list(store.RANK_DIRS)
    assert ranked_on_disk(batch) == {"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2}
    assert _leftovers(batch) == []


def test_rebuild_creates_ranked_when_it_is_missing(batch: Path) -> None:
    store.remove_path(batch / "ranked")
    store.rebuild_symlinks(batch, store.load_metadata(batch))
    assert ranked_on_disk(batch) == {"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2}


def test_rebuild_replaces_a_ranked_that_is_a_file(batch: Path) -> None:
    store.remove_path(batch / "ranked")
    (batch / "ranked").write_text("not a folder")
    store.rebuild_symlinks(batch, store.load_metadata(batch))
    assert ranked_on_disk(batch) == {"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2}
    assert _leftovers(batch) == []


def test_exchange_swaps_two_folders_where_the_kernel_can(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "from_a").touch()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "from_b").touch()
    if not links._exchange(tmp_path / "a", tmp_path / "b"):
        pytest.skip("renameat2(RENAME_EXCHANGE) is not available here")
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["from_b"]
    assert [p.name for p in (tmp_path / "b").iterdir()] == ["from_a"]


def test_update_links_moves_only_the_named_takes(batch: Path) -> None:
    untouched = (batch / "ranked" / "01" / "Line_1_take_1.mp3").lstat().st_ino
    data = store.load_metadata(batch)
    store.update_links(batch, data, {"Line_1_take_3.mp3": (2, 3), "Line_2_take_1.mp3": (None, 1)})
    assert ranked_on_disk(batch) == {
        "Line_1_take_1.mp3": 1,
        "Line_1_take_3.mp3": 3,
        "Line_2_take_1.mp3": 1,
    }
    assert (batch / "ranked" / "01" / "Line_1_take_1.mp3").lstat().st_ino == untouched
    assert _leftovers(batch) == []


def test_update_links_rebuilds_from_metadata_when_a_rank_folder_is_gone(batch: Path) -> None:
    store.remove_path(batch / "ranked" / "02")
    data = store.load_metadata(batch)
    store.update_links(batch, data, {"Line_3_take_1.mp3": (None, 4)})
    assert ranked_on_disk(batch) == ranks_in(data)  # metadata is the truth, not the moves


# --- LOCKED, create_batch_dirs ---------------------------------------------------------------


def test_lock_batch_is_idempotent(batch: Path) -> None:
    assert not store.is_locked(batch)
    store.lock_batch(batch)
    store.lock_batch(batch)
    assert store.is_locked(batch)
    assert (batch / "LOCKED").read_bytes() == b""


def test_create_batch_dirs_makes_takes_and_five_rank_folders(root: Path) -> None:
    batch = root / "Skin" / "Voice-v9" / "20250101-000000-v9"
    store.create_batch_dirs(batch)
    store.create_batch_dirs(batch)  # idempotent
    assert (batch / "takes").is_dir()
    assert sorted(p.name for p in (batch / "ranked").iterdir()) == list(store.RANK_DIRS)


# --- find_batch, find_batches ----------------------------------------------------------------


def test_find_batch_finds_it_under_any_skin_and_voice(root: Path) -> None:
    make_batch(root, skin="A", voice="One-v1", batch_id="20250101-000000-v1")
    wanted = make_batch(root, skin="B", voice="Two-v2", batch_id="20250101-000000-v2")
    assert store.find_batch(root, "20250101-000000-v2") == wanted


@pytest.mark.parametrize(
    "batch_id", ["", "..", "../x", "a/b", "a\\b", "a\0b", ".hidden", "x..y", "*", "2025*"]
)
def test_find_batch_rejects_ids_that_are_not_plain_names(root: Path, batch_id: str) -> None:
    make_batch(root, batch_id="20250101-000000-v1")
    with pytest.raises(BatchNotFound) as caught:
        store.find_batch(root, batch_id)
    assert caught.value.batch_id == batch_id


def test_find_batch_of_an_unknown_id_raises(root: Path) -> None:
    make_batch(root)
    (root / "Skin" / "Voice-v1" / "not-a-dir").write_text("x")
    for batch_id in ("20990101-000000-v1", "not-a-dir"):
        with pytest.raises(BatchNotFound, match=batch_id):
            store.find_batch(root, batch_id)


def test_find_batches_lists_records_newest_first(root: Path) -> None:
    old = make_batch(root, skin="Old", ranks={"Line_1_take_1.mp3": 1})
    new = make_batch(root, skin="New", voice="Hero-v2", lines=2, takes_per_line=2, locked=True)
    records = store.find_batches(root)
    assert [r["path"] for r in records] == [str(new), str(old)]
    assert records[0] == {
        "skin": "New",
        "voice": "Hero-v2",
        "batch_id": new.name,
        "path": str(new),
        "take_count": 4,
        "ranked_count": 0,
        "locked": True,
        "generated_at_utc": store.load_metadata(new)["generated_at_utc"],
        "panel": None,
    }
    assert records[1]["ranked_count"] == 1
    assert records[1]["locked"] is False
    json.dumps(records)  # JSON-ready as it is


def test_find_batches_puts_a_batch_still_generating_first(root: Path) -> None:
    generating = make_batch(root, skin="Gen")
    done = make_batch(root, skin="Done")
    data = store.load_metadata(generating)
    data["generated_at_utc"] = None
    store.save_metadata(generating, data)
    assert [r["path"] for r in store.find_batches(root)] == [str(generating), str(done)]


def test_find_batches_skips_and_logs_broken_batches(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = make_batch(root, skin="Good")
    broken = make_batch(root, skin="Broken")
    (broken / store.METADATA_NAME).write_text("{oops", encoding="utf-8")
    bad_rank = make_batch(root, skin="BadRank")
    data = store.load_metadata(bad_rank)
    data["takes"][0]["rank"] = 7
    _write_raw(bad_rank, data)
    empty = root / "Skin" / "Voice-v1" / "empty-folder"
    empty.mkdir(parents=True)
    (root / "Skin" / "Voice-v1" / ".hidden").mkdir()
    with caplog.at_level(logging.WARNING, logger="voicelab.store"):
        records = store.find_batches(root)
    assert [r["path"] for r in records] == [str(good)]
    logged = caplog.text
    assert str(broken / store.METADATA_NAME) in logged and "not valid JSON" in logged
    assert "got 7" in logged
    assert str(empty / store.METADATA_NAME) in logged and "missing" in logged


def test_find_batches_does_not_open_take_files(root: Path) -> None:
    batch = make_batch(root)
    (batch / "takes" / "Line_2_take_2.mp3").unlink()  # fsck's business, not the listing's
    assert [r["batch_id"] for r in store.find_batches(root)] == [batch.name]


def test_find_batches_of_a_missing_or_empty_root_is_empty(root: Path) -> None:
    assert store.find_batches(root) == []
    assert store.find_batches(root / "nope") == []


def test_utc_now_is_iso_8601_utc() -> None:
    from datetime import UTC, datetime

    stamp = clock.utc_now()
    assert stamp.endswith("Z")
    assert datetime.fromisoformat(stamp).tzinfo == UTC


def test_remove_dead_temps_takes_what_killed_writers_left_and_nothing_live(root: Path) -> None:

    batch = make_batch(root, lines=2)
    takes = batch / store.TAKES_DIR
    existing = sorted(p.name for p in takes.iterdir())[0]
    dead_take = takes / store.temp_name(existing)  # its take was written again since
    dead_take.write_bytes(b"half an mp3")
    unfinished = takes / store.temp_name("Line_9_take_1.mp3")  # no such take (yet)
    unfinished.write_bytes(b"half")
    dead_meta = batch / store.temp_name(store.METADATA_NAME)
    dead_meta.write_bytes(b"{")
    dead_tree = batch / store.temp_name(store.RANKED_DIR)
    (dead_tree / "01").mkdir(parents=True)
    with store.batch_lock(batch):
        removed = store.remove_dead_temps(batch)
    assert sorted(removed) == sorted([dead_take.name, dead_meta.name, dead_tree.name])
    assert unfinished.exists() and not dead_take.exists() and not dead_tree.exists()
    assert [p.name for p in store.temp_files(batch)] == [unfinished.name]
    assert (takes / existing).exists()
