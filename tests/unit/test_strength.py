"""Plackett-Luce strengths of settings buckets from every rater's orderings, on real batches."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import choix
import numpy as np
import pytest

from tests.batches import make_batch
from voicelab import store, strength

RESAMPLES = 60
PEAK = 0.6


def _utility(stability: float, contrarian: bool) -> float:
    closeness = -(((stability - PEAK) / 0.2) ** 2)
    return -closeness if contrarian else closeness


def panel_batch(root: Path, rng: np.random.Generator, *, raters: dict[str, bool], lines: int,
                voice: str = "Knight-k1", takes_per_line: int = 8) -> Path:
    """A panel batch whose takes have random stabilities, ranked top-5 per line by each rater.

    `raters` maps a name to True for a contrarian (prefers stabilities far from PEAK). Every
    rater's utility of a take is the closeness to PEAK plus Gumbel noise, so their orderings
    are Plackett-Luce draws. The consensus `rank` is set to the lowest stabilities first, the
    opposite of the panel, so counting it would show.
    """
    batch = make_batch(root, voice=voice, lines=lines, takes_per_line=takes_per_line)

    def change(meta: dict[str, Any]) -> None:
        meta["panel"] = {"raters": sorted(raters), "blind": True}
        by_line: dict[str, list[dict[str, Any]]] = {}
        for take in meta["takes"]:
            take["generation_settings"]["stability"] = round(float(rng.uniform(0, 1)), 3)
            take["ranks_by"] = {}
            by_line.setdefault(take["line"], []).append(take)
        for takes in by_line.values():
            for name, contrarian in raters.items():
                utility = [_utility(t["generation_settings"]["stability"], contrarian)
                           + rng.gumbel() for t in takes]
                for rank, index in enumerate(np.argsort(utility)[::-1][:5], start=1):
                    takes[index]["ranks_by"][name] = rank
            by_stability = sorted(takes, key=lambda t: t["generation_settings"]["stability"])
            for rank, take in enumerate(by_stability[:5], start=1):
                take["rank"] = rank

    store.update_metadata(batch, change)
    return batch


PANEL = {"ann": False, "ben": False, "cat": False, "dan": True}


def _stability(root: Path) -> strength.SettingStrengths:
    result = strength.strengths(strength.judgements(root), resamples=RESAMPLES)
    return result.fits["Knight-k1"]["stability"]


def test_the_panel_preference_for_stability_near_peak_is_recovered(root: Path) -> None:
    rng = np.random.default_rng(7)
    for _ in range(3):
        panel_batch(root, rng, raters=PANEL, lines=15)
    found = strength.judgements(root)
    assert len(found) == 3 * 15 * len(PANEL)  # one per rater per line, the consensus not counted
    result = strength.strengths(found, resamples=RESAMPLES)
    fit = result.fits["Knight-k1"]["stability"]
    best = max(fit.buckets, key=lambda b: b.strength)
    assert best.low_edge <= PEAK <= best.high_edge
    assert best.low <= best.strength <= best.high
    lowest, highest = fit.buckets[0], fit.buckets[-1]
    assert (lowest.low_edge, highest.high_edge) == (0.0, 1.0)
    assert best.low > lowest.high and best.low > highest.high  # clearly above the extremes
    suggestion = strength.suggest_ranges(result)["Knight-k1"]["stability"]
    assert suggestion.low <= PEAK <= suggestion.high
    assert suggestion.high - suggestion.low <= 0.4 + 1e-9
    assert suggestion.wording in {"sure", "likely"} and suggestion.sureness >= strength.LIKELY
    assert result.raters == tuple(sorted(PANEL)) and result.batches == 3
    # similarity, style and speed never varied: nothing to fit, nothing suggested
    assert set(result.fits["Knight-k1"]) == {"stability"}


def test_the_interval_widens_with_fewer_judgements(root: Path, tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    for _ in range(3):
        panel_batch(root, rng, raters=PANEL, lines=15)
    few_root = tmp_path / "few"
    few_root.mkdir()
    panel_batch(few_root, rng, raters=PANEL, lines=3)  # the same panel, a fifteenth of it
    many, few = _stability(root), _stability(few_root)
    assert many.judgements == 180 and few.judgements == 12

    def width(fit: strength.SettingStrengths) -> float:
        return float(np.mean([b.high - b.low for b in fit.buckets]))

    assert width(few) > 1.5 * width(many)
    middle = {b.centre: b.high - b.low for b in many.buckets}
    for bucket in few.buckets:
        if bucket.centre in middle:
            assert bucket.high - bucket.low > middle[bucket.centre]


def test_the_same_judgements_give_the_same_figures(root: Path) -> None:
    panel_batch(root, np.random.default_rng(3), raters=PANEL, lines=4)
    found = strength.judgements(root)
    first = strength.strengths(found, resamples=20, seed=5)
    assert strength.strengths(found, resamples=20, seed=5) == first
    assert strength.strengths(found, resamples=20, seed=6) != first


def test_solo_lines_count_once_and_a_panel_consensus_not_at_all(root: Path) -> None:
    # make_batch gives takes 1, 2, 3 of a line stability 0.4, 0.5, 0.6
    solo = make_batch(root, voice="Bard-b1", lines=3,
                      ranks={"Line_1_take_1.mp3": 1, "Line_1_take_3.mp3": 2,
                             "Line_2_take_1.mp3": 1})

    def named(meta: dict[str, Any]) -> None:
        for take in meta["takes"]:
            if take["rank"] is not None and take["line"] == "Line_1":
                take["ranked_by"] = "eve"

    store.update_metadata(solo, named)
    # the panel prefers take 1 (0.4); the consensus rank says take 3 (0.6) wins
    panel = make_batch(root, voice="Knight-k1", lines=4,
                       ranks={f"Line_{i}_take_{n}.mp3": 4 - n for i in range(1, 5)
                              for n in (1, 2, 3)})

    def rated(meta: dict[str, Any]) -> None:
        meta["panel"] = {"raters": ["alice", "bob"], "blind": True}
        for take in meta["takes"]:
            take["ranks_by"] = {"alice": take["take_number"]} if take["line"] != "Line_4" else {}
            if take["take_number"] != 3:
                take["ranks_by"]["bob"] = take["take_number"]

    store.update_metadata(panel, rated)
    found = strength.judgements(root)
    bard = sorted((j.line, j.rater) for j in found if j.voice == "Bard-b1")
    assert bard == [("Line_1", "eve"), ("Line_2", "solo")]  # unranked Line_3: no judgement
    [line_1] = [j for j in found if j.voice == "Bard-b1" and j.line == "Line_1"]
    assert [t["file"] for t in line_1.ordering] == ["Line_1_take_1.mp3", "Line_1_take_3.mp3"]
    assert [t["file"] for t in line_1.unranked] == ["Line_1_take_2.mp3"]
    knight = [j for j in found if j.voice == "Knight-k1"]
    assert len(knight) == 3 * 2 + 1  # alice and bob on Lines 1-3, only bob on Line_4
    [bob_4] = [j for j in knight if j.rater == "bob" and j.line == "Line_4"]
    assert [t["take_number"] for t in bob_4.ordering] == [1, 2]
    assert [t["take_number"] for t in bob_4.unranked] == [3]
    result = strength.strengths(found, resamples=20)
    fit = result.fits["Knight-k1"]["stability"]
    by_centre = {b.centre: b.strength for b in fit.buckets}
    assert by_centre[0.45] > by_centre[0.55] > by_centre[0.65]
    assert fit.judgements == 7
    # seven orderings that all agree: every re-draw agrees too, but seven is too few to be sure
    suggestion = strength.suggest_ranges(result)["Knight-k1"]["stability"]
    assert (suggestion.low, suggestion.high, suggestion.sureness) == (0.4, 0.5, 1.0)
    assert suggestion.wording == "a guess" and "too few judgements" in suggestion.note


def test_takes_sharing_a_bucket_each_count() -> None:
    # Plackett-Luce on choices whose sets repeat an item: choix's I-LSR handles repeats (its
    # Markov chain adds one rate per loser), so it is the reference for the multiplicity model.
    rng = np.random.default_rng(2)
    true = np.array([0.8, 0.0, -0.8])
    data, counts, winners = [], [], []
    for _ in range(400):
        items = rng.integers(0, 3, size=4)
        if len(set(items.tolist())) < 2:
            continue
        p = np.exp(true[items]) / np.exp(true[items]).sum()
        pick = int(rng.choice(4, p=p))
        data.append((int(items[pick]), [int(i) for j, i in enumerate(items) if j != pick]))
        counts.append(np.bincount(items, minlength=3))
        winners.append(int(items[pick]))
    reference = choix.ilsr_top1(3, data)
    mine = strength.fit_plackett_luce(np.ones((1, len(data))), np.array(counts, dtype=float),
                                      np.array(winners), alpha=1e-8)[0]
    assert mine == pytest.approx(reference - reference.mean(), abs=1e-4)


def test_the_fit_is_choix_penalised_plackett_luce() -> None:
    rng = np.random.default_rng(1)
    true = rng.normal(size=6)
    data = []
    for _ in range(300):
        items = rng.choice(6, size=int(rng.integers(2, 5)), replace=False)
        p = np.exp(true[items]) / np.exp(true[items]).sum()
        winner = int(rng.choice(items, p=p))
        data.append((winner, [int(i) for i in items if i != winner]))
    counts = np.zeros((len(data), 6))
    for row, (winner, losers) in enumerate(data):
        counts[row, [winner, *losers]] = 1
    mine = strength.fit_plackett_luce(np.ones((1, len(data))), counts,
                                      np.array([w for w, _ in data]), alpha=0.1)[0]
    assert mine == pytest.approx(choix.opt_top1(6, data, alpha=0.1), abs=1e-6)


def test_buckets_follow_the_setting_limits() -> None:
    assert strength.bucket_edges("stability")[0] == (0.0, 0.1)
    assert strength.bucket_edges("speed")[-1] == (1.15, 1.2)
    assert [strength.bucket_count(s) for s in strength.SETTINGS] == [10, 10, 10, 10]
    assert strength.bucket_of("stability", 0.6) == 6  # a low edge belongs to its bucket
    assert strength.bucket_of("stability", 1.0) == 9  # the top of the range to the last one
    assert strength.bucket_of("speed", 0.75) == 1
    assert strength.bucket_of("speed", 3.0) == 9  # clipped
    assert strength.bucket_of("style", "high") is None
    assert strength.bucket_of("style", float("nan")) is None
    assert strength.bucket_of("style", True) is None


def test_no_usable_data_gives_an_empty_result(root: Path) -> None:
    assert strength.judgements(root) == []
    empty = strength.strengths([], resamples=5)
    assert empty == strength.Strengths() and strength.suggest_ranges(empty) == {}
    assert len(strength.plot_strengths(empty).axes) == len(strength.SETTINGS)
    broken = root / "Skin" / "Voice-v1" / "20250101-000000-v1"
    broken.mkdir(parents=True)
    (broken / "metadata.json").write_text("{not json")
    make_batch(root, voice="Lone-l1", lines=2, takes_per_line=1,
               ranks={"Line_1_take_1.mp3": 1})  # one take: nothing to choose between
    odd = make_batch(root, voice="Odd-o1", lines=2, takes_per_line=3,
                     ranks={"Line_1_take_1.mp3": 1, "Line_2_take_2.mp3": 1})

    def unreadable_settings(meta: dict[str, Any]) -> None:
        for take in meta["takes"]:
            take["generation_settings"] = ({"stability": "steady"} if take["take_number"] == 1
                                           else {})

    store.update_metadata(odd, unreadable_settings)
    found = strength.judgements(root)
    assert {j.voice for j in found} == {"Lone-l1", "Odd-o1"}
    result = strength.strengths(found, resamples=5)
    assert result.fits == {} and result.judgements == 0
    assert strength.suggest_ranges(result) == {}
    with pytest.raises(ValueError, match="resamples"):
        strength.strengths(found, resamples=0)


def test_the_plot_has_a_panel_per_voice_and_setting_with_error_bars(root: Path) -> None:
    rng = np.random.default_rng(5)
    panel_batch(root, rng, raters=PANEL, lines=3)
    panel_batch(root, rng, raters=PANEL, lines=3, voice="Bard-b1")
    result = strength.strengths(strength.judgements(root), resamples=10)
    fig = strength.plot_strengths(result)
    assert len(fig.axes) == 2 * len(strength.SETTINGS)
    stability = fig.axes[0]
    assert stability.get_xlabel() == "stability" and stability.containers  # the error bars
    assert "Bard-b1" in stability.get_ylabel()
    assert not fig.axes[1].containers  # similarity never varied
