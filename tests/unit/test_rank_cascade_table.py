"""The rank cascade (docs/design.md, decision 1) against the table of cases shared with the JS
board.

tests/data/rank_cascade_cases.json is read here by `voicelab.ranking.cascade` and by
tests/js/rank_board.test.mjs with the board's `cascade`, so the two cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from voicelab import ranking

CASES_PATH = Path(__file__).resolve().parent.parent / "data" / "rank_cascade_cases.json"
CASES: list[dict[str, Any]] = json.loads(CASES_PATH.read_text("utf-8"))
RANKS = range(1, 6)
"""1 = best; a take pushed past 5 becomes unranked (docs/design.md, decision 1)."""


def test_the_table_has_uniquely_named_valid_cases() -> None:
    names = [case["name"] for case in CASES]
    assert len(CASES) >= 10
    assert len(set(names)) == len(names), "case names must be unique (they are test ids)"
    for case in CASES:
        assert set(case) == {"name", "ranks", "file", "rank", "expected"}, case["name"]
        assert case["file"] in case["expected"], case["name"]
        assert case["ranks"].keys() <= case["expected"].keys(), case["name"]
        for ranks in (case["ranks"], case["expected"]):
            held = [rank for rank in ranks.values() if rank is not None]
            assert all(rank in RANKS for rank in held), case["name"]
            assert len(set(held)) == len(held), f"{case['name']}: two takes share a rank"


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_cascade_gives_the_expected_ranks(case: dict[str, Any]) -> None:
    before = dict(case["ranks"])
    assert ranking.cascade(case["ranks"], case["file"], case["rank"]) == case["expected"]
    assert case["ranks"] == before, "cascade must not change its input"
