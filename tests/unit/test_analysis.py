"""Settings against ranks, across ranked batches."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.batches import make_batch
from voicelab import analysis


def ranked_fixture(root: Path) -> None:
    # stability is 0.4, 0.5, 0.6 for takes 1, 2, 3 of every line; the steadiest take wins.
    ranks = {f"Line_{i}_take_{n}.mp3": 4 - n for i in (1, 2, 3, 4) for n in (1, 2, 3)}
    make_batch(root, voice="Knight-k1", lines=4, ranks=ranks)
    make_batch(root, voice="Knight-k1", lines=2, ranks={"Line_1_take_3.mp3": 1})
    make_batch(root, voice="Bard-b1", lines=2)


def test_rows_cover_ranked_lines_only(root: Path) -> None:
    ranked_fixture(root)
    rows = analysis.ranked_rows(root)
    assert {r.voice for r in rows} == {"Knight-k1"}
    assert len(rows) == 4 * 3 + 3
    top = [r for r in rows if r.rank == 1]
    assert len(top) == 5 and all(r.settings["stability"] == 0.6 and r.score == 5 for r in top)
    assert {r.score for r in rows} == {0, 3, 4, 5}


def test_correlation_and_suggestion_point_to_the_winners(root: Path) -> None:
    ranked_fixture(root)
    rows = analysis.ranked_rows(root)
    corr = analysis.correlations(rows)["Knight-k1"]
    assert corr["stability"] is not None and corr["stability"] > 0.8
    assert corr["speed"] is None  # speed never varied
    suggestion = analysis.suggest_ranges(rows)["Knight-k1"]
    assert suggestion["winners"] == 5
    assert suggestion["settings"]["stability"] == [0.55, 0.65]
    assert suggestion["settings"]["speed"] == pytest.approx([0.975, 1.025], abs=0.006)
    assert analysis.suggest_ranges(rows, min_winners=6) == {}
    assert [w["line"] for w in analysis.winners(rows)].count("Line_1") == 2


def test_plot_has_one_panel_per_setting(root: Path) -> None:
    ranked_fixture(root)
    fig = analysis.plot_settings_vs_rank(analysis.ranked_rows(root))
    assert len(fig.axes) == len(analysis.SETTINGS)
    assert fig.axes[0].collections and fig.axes[0].get_xlabel() == "stability"
