"""The ranking board and dashboard views on real temp batches; the widget asset rules."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
from pathlib import Path

import anywidget
import ipywidgets
import pytest

import voicelab.widgets
from tests.batches import make_batch
from voicelab import ranking, store
from voicelab.errors import UnknownTake
from voicelab.widgets import rank_board, views
from voicelab.widgets.rank_board import RankBoard

REPO = Path(__file__).resolve().parents[2]


def on_disk(batch_dir: Path) -> dict[str, int]:
    """`{file: rank}` as ranked/ shows it (each link checked to point into takes/)."""
    found = {}
    for rank in store.RANKS:
        for link in (batch_dir / store.RANKED_DIR / store.rank_dir(rank)).iterdir():
            assert os.readlink(link) == store.link_target(link.name)
            found[link.name] = rank
    return found


def saved_ranks(batch_dir: Path) -> dict[str, int]:
    data = store.load_metadata(batch_dir)
    return {t["file"]: t["rank"] for t in data["takes"] if t["rank"] is not None}


def shown_ranks(board: RankBoard) -> dict[str, int]:
    return {t["file"]: t["rank"] for t in board.takes if t["rank"] is not None}


def snapshot(batch_dir: Path) -> tuple[bytes, dict[str, int], bool]:
    metadata = (batch_dir / "metadata.json").read_bytes()
    return (metadata, on_disk(batch_dir), store.is_locked(batch_dir))


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, lines=3, takes_per_line=4, ranks={"Line_1_take_1.mp3": 1})


@pytest.fixture
def board(batch: Path, root: Path) -> RankBoard:
    return RankBoard(batch, root=root)


# --- loading ---------------------------------------------------------------------------------


def test_board_shows_every_take_and_line_in_script_order(board: RankBoard, batch: Path) -> None:
    assert len(board.takes) == 12
    assert [line["line"] for line in board.lines] == ["Line_1", "Line_2", "Line_3"]
    assert board.lines[0]["script_text"] == "Text of Line_1."
    first = board.takes[0]
    assert first["rank"] == 1
    assert first["settings"]["stability"] == 0.4
    assert board.audio_path == f"Skin/Voice-v1/{batch.name}/takes/"
    assert board.batch_id == batch.name and board.skin == "Skin" and not board.locked
    assert board.error == ""


def test_a_batch_outside_the_root_gets_no_audio_path(batch: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert RankBoard(batch, root=other).audio_path == ""


def test_quality_facts_give_flags_gain_and_peaks(batch: Path, root: Path) -> None:
    def add_quality(data: store.Metadata) -> None:
        for i, take in enumerate(data["takes"]):
            take["quality"] = {"lufs": -20.0 - i, "peak_dbfs": -3.0, "peaks": [0.1234, 0.5]}
        data["takes"][0]["quality"]["flags"] = ["clipping"]
        data["takes"][1]["quality"]["flags"] = []

    store.update_metadata(batch, add_quality)
    board = RankBoard(batch, root=root)
    by_file = {t["file"]: t for t in board.takes}
    assert by_file["Line_1_take_1.mp3"]["flags"] == ["clipping"]
    assert by_file["Line_1_take_2.mp3"]["flags"] == []
    # The median of -20 .. -31 is -25.5: the loudest take is turned down, the quietest up.
    assert by_file["Line_1_take_1.mp3"]["gain_db"] == -5.5
    assert by_file["Line_3_take_4.mp3"]["gain_db"] == 2.0  # +5.5 wanted, peak ceiling -1 dBFS
    assert len(board.peaks) == 12 * rank_board.PEAK_POINTS
    assert board.peaks[:100] == bytes([31] * 50 + [128] * 50)  # 0.1234 and 0.5 of 255


def test_peaks_pack_into_one_byte_per_point_by_max_pooling() -> None:
    values = [0.0] * 200
    values[3], values[199] = 1.0, 0.5
    packed = rank_board.pack_peaks(values)
    assert len(packed) == rank_board.PEAK_POINTS
    assert packed[1] == 255 and packed[99] == 128 and packed[50] == 0
    assert rank_board.pack_peaks([]) == bytes(rank_board.PEAK_POINTS)
    assert rank_board.pack_peaks([0.2, 2.0], points=4) == bytes([51, 51, 255, 255])


def test_a_batch_without_quality_has_flat_peaks(board: RankBoard) -> None:
    assert board.peaks == bytes(12 * rank_board.PEAK_POINTS)


def test_missing_flags_are_computed_from_the_quality_facts(batch: Path, root: Path) -> None:
    def add_quality(data: store.Metadata) -> None:
        for take in data["takes"]:
            take["quality"] = {"duration_s": 1.0, "clipped_samples": 0, "silence_ratio": 0.1}
        data["takes"][0]["quality"].update(duration_s=3.0, clipped_samples=50)

    store.update_metadata(batch, add_quality)
    flags = {t["file"]: t["flags"] for t in RankBoard(batch, root=root).takes}
    assert flags["Line_1_take_1.mp3"] == ["clipping", "duration_outlier"]
    assert flags["Line_1_take_2.mp3"] == []


# --- rank messages ---------------------------------------------------------------------------


def test_rank_message_saves_through_ranking_and_updates_the_board(
    board: RankBoard, batch: Path
) -> None:
    board.handle({"kind": "rank", "file": "Line_1_take_3.mp3", "rank": 1, "seq": "v:1"})
    expected = {"Line_1_take_3.mp3": 1, "Line_1_take_1.mp3": 2}
    assert saved_ranks(batch) == expected
    assert on_disk(batch) == expected
    assert shown_ranks(board) == expected
    assert board.error == ""


def test_rank_messages_follow_the_cascade_of_decision_1(board: RankBoard, batch: Path) -> None:
    steps = [(1, 1), (2, 2), (3, 4), (3, 1), (4, 2)]  # (take, rank): docs/design.md, decision 1
    for take, rank in steps:
        board.handle({"kind": "rank", "file": f"Line_2_take_{take}.mp3", "rank": rank})
    line_2 = {f: r for f, r in shown_ranks(board).items() if f.startswith("Line_2")}
    assert line_2 == {"Line_2_take_3.mp3": 1, "Line_2_take_4.mp3": 2,
                      "Line_2_take_1.mp3": 3, "Line_2_take_2.mp3": 4}
    assert saved_ranks(batch) == shown_ranks(board) == on_disk(batch)


def test_clear_message_unranks_and_removes_the_link(board: RankBoard, batch: Path) -> None:
    board.handle({"kind": "rank", "file": "Line_1_take_1.mp3", "rank": None})
    assert saved_ranks(batch) == {} == on_disk(batch)
    assert shown_ranks(board) == {}
    assert next(t for t in board.takes if t["file"] == "Line_1_take_1.mp3")["ranked_at"] is None


@pytest.mark.parametrize(
    ("message", "named"),
    [
        ({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": 7}, "7"),
        ({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": "1"}, "'1'"),
        ({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": True}, "True"),
        ({"kind": "rank", "file": "Line_9_take_1.mp3", "rank": 1}, "Line_9_take_1.mp3"),
        ({"kind": "rank", "file": "../metadata.json", "rank": 1}, "../metadata.json"),
        ({"kind": "rank", "file": None, "rank": 1}, "None"),
        ({"kind": "dance"}, "dance"),
    ],
)
def test_refused_messages_set_an_error_naming_the_value_and_change_nothing(
    board: RankBoard, batch: Path, message: dict, named: str
) -> None:
    before, shown = snapshot(batch), shown_ranks(board)
    board.handle(message)
    assert named in board.error
    assert snapshot(batch) == before
    assert shown_ranks(board) == shown


def test_an_accepted_rank_clears_the_previous_error(board: RankBoard) -> None:
    board.handle({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": 9})
    assert board.error
    board.handle({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": 2})
    assert board.error == ""


def test_a_locked_batch_is_read_only_and_refuses_ranks(root: Path) -> None:
    batch = make_batch(root, ranks={"Line_1_take_1.mp3": 1}, locked=True)
    board = RankBoard(batch, root=root)
    assert board.locked
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": 1})
    assert "locked" in board.error and batch.name in board.error
    assert snapshot(batch) == before
    assert shown_ranks(board) == {"Line_1_take_1.mp3": 1}


def test_a_batch_locked_meanwhile_refuses_and_the_board_shows_the_true_state(
    board: RankBoard, batch: Path
) -> None:
    ranking.set_rank(batch, "Line_3_take_2.mp3", 1)  # another session, then it locks
    ranking.lock(batch, force=True)
    before = snapshot(batch)
    board.handle({"kind": "rank", "file": "Line_1_take_2.mp3", "rank": 1})
    assert "locked" in board.error
    assert snapshot(batch) == before
    assert board.locked
    assert shown_ranks(board) == {"Line_1_take_1.mp3": 1, "Line_3_take_2.mp3": 1}


def test_lock_message_locks_the_batch_and_freezes_the_board(board: RankBoard, batch: Path) -> None:
    board.handle({"kind": "lock", "force": True})
    assert store.is_locked(batch)
    assert store.load_metadata(batch)["ranked_at_utc"] is not None
    assert board.locked and board.error == ""
    assert "locked" in board.notice.lower()
    board.handle({"kind": "rank", "file": "Line_2_take_1.mp3", "rank": 1})
    assert "locked" in board.error
    assert saved_ranks(batch) == {"Line_1_take_1.mp3": 1}


# --- other sessions --------------------------------------------------------------------------


def test_refresh_without_changes_does_nothing(board: RankBoard) -> None:
    takes = board.takes
    assert board.refresh() == 0
    assert board.takes is takes and board.notice == ""


def test_refresh_shows_another_sessions_changes_and_says_so(board: RankBoard, batch: Path) -> None:
    ranking.set_rank(batch, "Line_2_take_2.mp3", 1)
    ranking.set_rank(batch, "Line_1_take_4.mp3", 1)  # pushes take 1 down to 2
    board.handle({"kind": "refresh"})
    assert shown_ranks(board) == saved_ranks(batch) == {
        "Line_2_take_2.mp3": 1, "Line_1_take_4.mp3": 1, "Line_1_take_1.mp3": 2,
    }
    assert "3 takes changed rank elsewhere" in board.notice


def test_refresh_notices_a_lock_made_elsewhere(board: RankBoard, batch: Path) -> None:
    ranking.lock(batch, force=True)
    assert board.refresh() == 0
    assert board.locked
    assert "locked elsewhere" in board.notice


def test_own_changes_are_not_reported_as_someone_elses(board: RankBoard) -> None:
    board.handle({"kind": "rank", "file": "Line_2_take_1.mp3", "rank": 1})
    board.handle({"kind": "refresh"})
    assert board.notice == ""


def test_a_stale_board_never_overwrites_another_sessions_rank(
    board: RankBoard, batch: Path
) -> None:
    ranking.set_rank(batch, "Line_1_take_2.mp3", 1)  # the board has not refreshed yet
    board.handle({"kind": "rank", "file": "Line_1_take_3.mp3", "rank": 1})
    expected = {"Line_1_take_3.mp3": 1, "Line_1_take_2.mp3": 2, "Line_1_take_1.mp3": 3}
    assert saved_ranks(batch) == expected == on_disk(batch)
    assert shown_ranks(board) == expected


# --- audio fallback --------------------------------------------------------------------------


def test_audio_bytes_are_the_take_file(board: RankBoard, batch: Path) -> None:
    data = board.audio_bytes("Line_2_take_3.mp3")
    assert data == (batch / "takes" / "Line_2_take_3.mp3").read_bytes()
    assert len(data) > 100


@pytest.mark.parametrize("name", ["../metadata.json", "Line_9_take_1.mp3", "metadata.json"])
def test_audio_bytes_only_serves_takes_of_the_batch(board: RankBoard, name: str) -> None:
    with pytest.raises(UnknownTake, match=re.escape(name)):
        board.audio_bytes(name)


def test_audio_bytes_of_a_deleted_file_names_it(board: RankBoard, batch: Path) -> None:
    (batch / "takes" / "Line_1_take_2.mp3").unlink()
    with pytest.raises(UnknownTake, match=re.escape("Line_1_take_2.mp3")):
        board.audio_bytes("Line_1_take_2.mp3")


def test_audio_message_is_answered_without_error(board: RankBoard) -> None:
    board.handle({"kind": "audio", "file": "Line_1_take_1.mp3"})
    board.handle({"kind": "audio", "file": "../metadata.json"})
    assert board.error == ""  # replies go to the browser; the board's state is untouched


# --- views -----------------------------------------------------------------------------------


def test_query_param_reads_the_voila_query_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUERY_STRING", "batch_id=20250101-000000-abc%2B1&x=2")
    assert views.query_param("batch_id") == "20250101-000000-abc+1"
    assert views.query_param("missing", "fallback") == "fallback"


def test_query_param_outside_voila_gives_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUERY_STRING", raising=False)
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    assert views.query_param("batch_id") == ""


def test_rank_view_opens_the_board_of_the_batch(batch: Path, root: Path) -> None:
    view = views.rank_view(batch.name, root=root)
    assert isinstance(view, RankBoard)
    assert view.batch_dir == batch


@pytest.mark.parametrize("batch_id", ["", "20990101-000000-nope", "../etc"])
def test_rank_view_explains_a_missing_batch(root: Path, batch_id: str) -> None:
    view = views.rank_view(batch_id, root=root)
    assert isinstance(view, ipywidgets.HTML)
    assert "vl-rank-missing" in view.value
    assert "batch_id" in view.value if not batch_id else batch_id in view.value


def test_batch_table_links_each_batch_to_its_board(root: Path) -> None:
    first = make_batch(root, skin="Knight", voice="Aria-v1", ranks={"Line_1_take_1.mp3": 1})
    second = make_batch(root, skin="<i>Rogue & Co", voice="Bo-v2", locked=True)
    records = store.find_batches(root)
    page = views.batch_table_html(records)
    assert f'href="rank.ipynb?batch_id={first.name}"' in page
    assert f'data-batch-id="{second.name}" data-locked="true"' in page
    assert "&lt;i&gt;Rogue &amp; Co" in page and "<i>Rogue" not in page
    assert "1 (11%)" in page
    assert "2 of 2 batches" in page
    rogue_only = views.batch_table_html(records, "rogue LOCKED")
    assert second.name in rogue_only and first.name not in rogue_only
    assert "No batch matches" in views.batch_table_html(records, "zzz")


def test_batches_view_filters_live_and_rescans(root: Path) -> None:
    make_batch(root, skin="Knight")
    box = views.batches_view(root=root)
    assert "vl-batch-list" in box._dom_classes
    (search, refresh), table = box.children[0].children, box.children[1]
    assert "1 of 1 batches" in table.value
    search.value = "nothing-like-this"
    assert "0 of 1 batches" in table.value
    search.value = ""
    make_batch(root, skin="Mage")
    refresh.click()
    assert "2 of 2 batches" in table.value


def test_batches_view_on_an_empty_root_says_so(root: Path) -> None:
    assert "No batches yet" in views.batches_view(root=root).children[1].value


# --- asset rules (anywidget loads _esm from a Blob URL and injects _css globally) -------------


def _widget_classes() -> list[type[anywidget.AnyWidget]]:
    """Every AnyWidget subclass defined in a module of voicelab.widgets."""
    names = [m.name for m in pkgutil.iter_modules(voicelab.widgets.__path__)]
    modules = [importlib.import_module(f"voicelab.widgets.{name}") for name in names]
    found = {
        obj
        for module in modules
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, anywidget.AnyWidget) and obj is not anywidget.AnyWidget
    }
    return sorted(found, key=lambda cls: cls.__name__)


def _root_class(cls: type) -> str:
    return "vl-" + re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()


def test_every_widget_is_found() -> None:
    assert RankBoard in _widget_classes()


@pytest.mark.parametrize("cls", _widget_classes(), ids=lambda c: c.__name__)
def test_widget_esm_is_self_contained(cls: type) -> None:
    path = Path(str(inspect.getattr_static(cls, "_esm")._path))
    source = path.read_text()
    assert re.search(r"^export default\b", source, re.M), f"{path.name}: no export default"
    assert not re.search(r"^\s*import\b|\bimport\s*\(", source, re.M), f"{path.name} imports"
    assert not re.search(r"https?://", source), f"{path.name} names a URL (no CDN, no network)"
    assert f'"{_root_class(cls)}"' in source, f"{path.name} never uses its root class"


@pytest.mark.parametrize("cls", _widget_classes(), ids=lambda c: c.__name__)
def test_widget_css_is_scoped_under_its_root_class(cls: type) -> None:
    path = Path(str(inspect.getattr_static(cls, "_css")._path))
    css = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
    assert "@import" not in css and not re.search(r"https?://", css)
    selectors = [
        s.strip() for block in re.findall(r"([^{}]+)\{[^{}]*\}", css) for s in block.split(",")
    ]
    assert selectors, f"{path.name}: no CSS rules found"
    root = "." + _root_class(cls)
    unscoped = [s for s in selectors if not re.match(re.escape(root) + r"(?![\w-])", s)]
    assert not unscoped, f"{path.name}: selectors outside {root}: {unscoped}"


def test_widget_assets_ship_in_the_package() -> None:
    config = (REPO / "pyproject.toml").read_text()
    assert '"voicelab.widgets" = ["*.js", "*.css"]' in config


JS_DIR = REPO / "tests" / "js"
JS_TESTS = sorted(JS_DIR.glob("*.test.mjs"))


@pytest.mark.integration
@pytest.mark.parametrize("path", JS_TESTS, ids=lambda p: p.name)
def test_js_passes_node_test(path: Path) -> None:
    """Each tests/js file under `node --test` (node is a system dependency of `make test`)."""
    command = ["node", "--test", "--test-reporter=tap", str(path.relative_to(REPO))]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"^# pass [1-9]", result.stdout, re.M), result.stdout[-3000:]
    assert re.search(r"^# fail 0$", result.stdout, re.M), result.stdout[-3000:]


def test_every_js_file_under_tests_js_runs() -> None:
    """Each .mjs under tests/js is a test file that test_js_passes_node_test runs, or a helper a
    test file imports (`from "./helper.mjs"`): none is left out of `make test`."""
    imported = {
        (test.parent / name).resolve()
        for test in JS_TESTS
        for name in re.findall(r'from "(\./[^"]+\.mjs)"', test.read_text("utf-8"))
    }
    every = sorted(JS_DIR.rglob("*.mjs"))
    assert JS_TESTS and set(JS_TESTS) <= set(every)
    assert [p.name for p in every if p not in JS_TESTS and p.resolve() not in imported] == []


def test_export_selects_only_from_a_locked_batch(root: Path) -> None:
    import io
    import zipfile

    batch = make_batch(root, lines=2, ranks={"Line_1_take_2.mp3": 1})
    board = RankBoard(batch, root)
    sent: list[tuple[dict, list]] = []
    board.send = lambda content, buffers=None: sent.append((content, buffers or []))
    board.handle({"kind": "export"})
    assert sent[-1][0]["error"] and "lock the batch" in board.error
    board.handle({"kind": "lock", "force": True})
    board.handle({"kind": "export", "rank": 1})
    content, buffers = sent[-1]
    assert content["name"] == f"{batch.name}_rank1.zip" and content["missing"] == ["Line_2"]
    with zipfile.ZipFile(io.BytesIO(buffers[0])) as archive:
        assert sorted(archive.namelist()) == [f"{batch.name}/Line_1.mp3",
                                              f"{batch.name}/manifest.csv"]
    assert "Line_2" in board.notice
