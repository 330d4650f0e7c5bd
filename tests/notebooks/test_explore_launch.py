"""explore.ipynb against ranked batches (nbval, and the widgets it made), and launch.ipynb."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.batches import make_batch
from tests.notebooks.test_notebooks import REPO, widget_states

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


@pytest.fixture
def ranked_env(root: Path) -> dict[str, str]:
    ranks = {f"Line_{i}_take_{n}.mp3": 4 - n for i in (1, 2, 3) for n in (1, 2, 3)}
    make_batch(root, voice="Knight-k1", lines=3, ranks=ranks)
    make_batch(root, voice="Knight-k1", lines=2, ranks={"Line_2_take_3.mp3": 1})
    return {**os.environ, "AUDIO_ROOT": str(root)}


def test_explore_runs_under_nbval(ranked_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
         "--nbval-cell-timeout=180", "notebooks/explore.ipynb"],
        cwd=REPO, env=ranked_env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_explore_auditions_the_grid_and_suggests_ranges(ranked_env: dict[str, str]) -> None:
    states = widget_states(REPO / "notebooks" / "explore.ipynb", ranked_env)
    [player] = [s for s in states if s.get("_esm", "").count("vl-take-player")]
    assert len(player["takes"]) == 4
    assert {t["label"].split(" · ")[0] for t in player["takes"]} == {
        "stability 0.30", "stability 0.80"}
    html = " ".join(s.get("value", "") for s in states if s.get("_model_name") == "HTMLModel")
    assert "Suggested ranges" in html and "Knight-k1" in html and "0.60 to 0.70" in html


def test_launch_dashboard_builds_a_disabled_form(root: Path) -> None:
    states = widget_states(REPO / "notebooks" / "launch.ipynb",
                           {**os.environ, "AUDIO_ROOT": str(root)})
    [start] = [s for s in states if s.get("description") == "Start generation"]
    assert start["disabled"] is True
    labels = {s.get("description") for s in states}
    assert {"Skin name", "Variants per line", "Stability", "Similarity", "Style", "Speed",
            "Speaker boost", "Model", "Engine"} <= labels
