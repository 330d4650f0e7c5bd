"""Notebooks stay thin (no logic, no outputs committed), and the dashboards run on a real batch."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.batches import make_batch

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
LOGIC = (
    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.For, ast.AsyncFor,
    ast.While, ast.With, ast.AsyncWith, ast.Try, ast.If, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp,
)


def code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def parse(source: str) -> ast.Module:
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines))


def test_the_dashboards_exist() -> None:
    assert {"batches.ipynb", "rank.ipynb"} <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_holds_no_logic(path: Path) -> None:
    for cell in code_cells(path):
        logic = [type(n).__name__ for n in ast.walk(parse(cell.source)) if isinstance(n, LOGIC)]
        assert not logic, f"{path.name}: {logic} belong in voicelab/, not in a notebook"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_the_house_shape(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "needs a title first"
    cells = code_cells(path)
    parameters = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1, f"{path.name}: one cell tagged 'parameters'"
    for node in parse(parameters[0].source).body:
        assert isinstance(node, ast.Assign), f"{path.name}: parameters are plain assignments"
        ast.literal_eval(node.value)  # raises on anything but a literal
    assert 1 <= len(cells) - 1 <= 3, f"{path.name}: one to three cells after the parameters"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    for cell in code_cells(path):
        assert cell.outputs == [] and cell.execution_count is None, f"{path.name}: strip outputs"


@pytest.fixture
def dashboard_env(root: Path) -> tuple[dict[str, str], Path]:
    """An environment whose AUDIO_ROOT holds one batch, opened as Voila would (?batch_id=)."""
    batch = make_batch(root, lines=2, takes_per_line=2, ranks={"Line_1_take_2.mp3": 1})
    env = {**os.environ, "AUDIO_ROOT": str(root), "QUERY_STRING": f"batch_id={batch.name}"}
    env.pop("VOILA_PREHEAT", None)
    return env, batch


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_dashboards_run_under_nbval(dashboard_env: tuple[dict[str, str], Path]) -> None:
    env, _batch = dashboard_env
    command = [
        sys.executable, "-m", "pytest", "--nbval-lax", "-p", "no:cacheprovider", "-q",
        "--nbval-cell-timeout=120", "notebooks/batches.ipynb", "notebooks/rank.ipynb",
    ]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=220
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and "failed" not in result.stdout


def widget_states(path: Path, env: dict[str, str]) -> list[dict]:
    """Run a notebook in a real kernel and return the state of every widget it made."""
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    ).execute(env=env)
    states = notebook.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [model["state"] for model in states.values()]


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_rank_dashboard_opens_the_batch_named_in_the_query(
    dashboard_env: tuple[dict[str, str], Path],
) -> None:
    env, batch = dashboard_env
    boards = [s for s in widget_states(REPO / "notebooks" / "rank.ipynb", env) if "takes" in s]
    assert len(boards) == 1
    board = boards[0]
    assert board["batch_id"] == batch.name and board["locked"] is False
    assert {t["file"]: t["rank"] for t in board["takes"]}["Line_1_take_2.mp3"] == 1
    assert board["_esm"].count("export default") == 1


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_batches_dashboard_links_to_the_board(dashboard_env: tuple[dict[str, str], Path]) -> None:
    env, batch = dashboard_env
    html = [s["value"] for s in widget_states(REPO / "notebooks" / "batches.ipynb", env)
            if s.get("_model_name") == "HTMLModel"]
    assert any(f'href="rank.ipynb?batch_id={batch.name}"' in value for value in html)
