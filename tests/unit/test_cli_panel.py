"""`voicelab panel` and `voicelab consensus` (issue 14), run in-process on real batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.batches import make_batch, ranked_on_disk
from tests.conftest import install_team
from tests.unit.test_cli import run  # noqa: F401  # the CLI fixture
from voicelab import panel, store


@pytest.fixture
def batch(root: Path) -> Path:
    return make_batch(root, skin="Panel", lines=2, takes_per_line=3)


def rate_example(batch: Path) -> None:
    """Line_1: alice 1,2,3 / bob 2,1 / carol 2,3 (take numbers best first): Borda points
    take 1: 5+4 = 9, take 2: 4+5+5 = 14, take 3: 3+4 = 7, so the consensus is 2 > 1 > 3 and
    W = 0.44 (see test_api_panel). Line_2: alice 1 / bob 2: a 5-5 tie, take order wins (1 > 2),
    W = 0: the line they disagree on most."""
    for rater, number, rank in (("alice", 1, 1), ("alice", 2, 2), ("alice", 3, 3), ("bob", 2, 1),
                                ("bob", 1, 2), ("carol", 2, 1), ("carol", 3, 2)):
        panel.rate(batch, f"Line_1_take_{number}.mp3", rank, person=rater)
    panel.rate(batch, "Line_2_take_1.mp3", 1, person="alice")
    panel.rate(batch, "Line_2_take_2.mp3", 1, person="bob")


def test_panel_opens_a_blind_panel_in_the_clis_name(run, batch: Path) -> None:  # noqa: F811
    code, out, err = run("panel", batch.name, "--raters", "alice,bob,carol")
    assert code == 0, err
    assert f"batch {batch.name} is rated by a panel of 3: alice, bob, carol" in out
    assert "blind: each rater" in out and f"voicelab consensus {batch.name}" in out
    opened = store.load_metadata(batch)["panel"]
    assert opened["raters"] == ["alice", "bob", "carol"] and opened["blind"] is True
    assert opened["opened_by"] == "cli"
    code, _, err = run("panel", batch.name, "--raters", "dana")
    assert code == 1 and "already ranked by a panel" in err and len(err.strip().splitlines()) == 1


def test_panel_not_blind_and_solo_ranks_kept(run, root: Path) -> None:  # noqa: F811
    ranked = make_batch(root, ranks={"Line_1_take_2.mp3": 1})
    code, out, _ = run("panel", ranked.name, "--raters", "alice,bob", "--no-blind")
    assert code == 0 and "not blind" in out and "kept as cli's own ranking" in out
    opened = store.load_metadata(ranked)["panel"]
    assert opened["blind"] is False and opened["raters"] == ["alice", "bob", "cli"]
    assert ranked_on_disk(ranked) == {"Line_1_take_2.mp3": 1}


@pytest.mark.parametrize(("raters", "message"), [
    (",", "at least one rater"), ("alice,alice", "named twice"), ("x" * 65, "1-64 characters"),
])
def test_panel_refuses_bad_raters_in_one_line(run, batch: Path, raters: str,  # noqa: F811
                                              message: str) -> None:
    code, out, err = run("panel", batch.name, "--raters", raters)
    assert code == 1 and message in err and "Traceback" not in err and out == ""
    assert "panel" not in store.load_metadata(batch)


def test_panel_checks_raters_against_the_users(run, root: Path, batch: Path,  # noqa: F811
                                               team_file: bytes) -> None:
    install_team(root, team_file)  # vic (viewer), dana (designer), lena (lead)
    code, _, err = run("panel", batch.name, "--raters", "dana,zoe")
    assert code == 1 and "no user named 'zoe'" in err
    code, _, err = run("panel", batch.name, "--raters", "dana,vic")
    assert code == 1 and "vic is a viewer" in err
    assert "panel" not in store.load_metadata(batch)
    code, out, _ = run("panel", batch.name, "--raters", "dana,lena")
    assert code == 0 and "panel of 2: dana, lena" in out


def test_panel_on_an_unknown_or_locked_batch(run, root: Path) -> None:  # noqa: F811
    code, _, err = run("panel", "nope", "--raters", "alice")
    assert code == 1 and "no batch with id 'nope'" in err
    locked = make_batch(root, skin="Done", locked=True)
    code, _, err = run("panel", locked.name, "--raters", "alice")
    assert code == 1 and "is locked" in err


def test_consensus_prints_a_table_per_line(run, batch: Path) -> None:  # noqa: F811
    panel.open_panel(batch, ["alice", "bob", "carol"], person="lena")
    rate_example(batch)
    panel.override(batch, "Line_2_take_3.mp3", 1, person="lena")
    code, out, _ = run("consensus", batch.name)
    assert code == 0
    rows = {line.split("│")[1].strip(): [cell.strip() for cell in line.split("│")[2:-1]]
            for line in out.splitlines() if line.startswith("│")}
    # line: agreement, consensus, alice, bob, carol, state
    assert rows["Line_1"] == ["0.44", "2 > 1 > 3", "1 > 2 > 3", "2 > 1", "2 > 3", ""]
    assert rows["Line_2"] == ["0.00", "3 > 1 > 2", "1", "2", "-", "override"]
    assert list(rows) == ["Line_1", "Line_2"]
    assert "a blind panel of 3" in out and "carol 1/2 lines" in out
    # mean tau over the lines each ranked: Line_1 alice 1/3, bob 1, carol 1/3; Line_2 (the
    # override 3 > 1 > 2, over the takes someone ranked, 1 and 2) alice 1, bob -1
    assert "(mean Kendall's tau): alice 0.67, bob 0.00, carol 0.33" in out
    code, out, _ = run("consensus", batch.name, "--disagreements")
    assert [line.split("│")[1].strip() for line in out.splitlines()
            if line.startswith("│")] == ["Line_2", "Line_1"]


def test_consensus_json_is_the_report(run, batch: Path) -> None:  # noqa: F811
    panel.open_panel(batch, ["alice", "bob", "carol"], person="lena")
    rate_example(batch)
    code, out, _ = run("consensus", batch.name, "--json")
    report = json.loads(out)
    assert code == 0 and report["disagreements"] == ["Line_2", "Line_1"]
    assert report["lines"][0]["consensus"] == {"Line_1_take_1.mp3": 2, "Line_1_take_2.mp3": 1,
                                               "Line_1_take_3.mp3": 3}
    assert report["lines"][0]["agreement"] == pytest.approx(0.4444, abs=1e-4)
    assert "order_key" not in out


def test_consensus_of_a_solo_batch_is_one_clear_error(run, batch: Path) -> None:  # noqa: F811
    code, out, err = run("consensus", batch.name)
    assert code == 1 and "ranked solo" in err and f"voicelab panel {batch.name}" in err
    assert out == ""
