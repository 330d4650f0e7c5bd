"""The ranking board ships as one ES module and one stylesheet built from its sources.

anywidget loads `RankBoard._esm` from a Blob URL, so voicelab/widgets/rank_board.js must import
nothing: scripts/bundle.mjs bundles voicelab/widgets/rank_board/ into it (and index.css into
rank_board.css) with esbuild, and `make bundle` runs it when scripts/bundle_check.py finds the
shipped files stale. These tests fail, with what to run, while the shipped files lag their
sources; the byte-for-byte rebuild needs node and the npm packages (`make test` installs both).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
WIDGETS = REPO / "voicelab" / "widgets"
SOURCES = WIDGETS / "rank_board"
BUILT = ("rank_board.js", "rank_board.css")
MAX_LINES = 500


def _bundle_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_check", REPO / "scripts/bundle_check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_board_is_built_from_its_sources_as_they_are() -> None:
    problems = _bundle_check().problems()
    assert not problems, "\n".join([*problems, "run `make bundle` and commit the built files"])


def test_the_check_sees_a_changed_source_and_an_edited_build(tmp_path: Path) -> None:
    check = _bundle_check()
    for rel in check.ALSO:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / rel, tmp_path / rel)
    shutil.copytree(SOURCES, tmp_path / check.SOURCES)
    for name in BUILT:
        shutil.copy(WIDGETS / name, tmp_path / "voicelab" / "widgets" / name)
    assert check.problems(tmp_path) == []
    (tmp_path / check.SOURCES / ".index.js.swp").write_text("an editor's file")
    assert check.problems(tmp_path) == [], "only the .js and .css sources count"

    source = tmp_path / check.SOURCES / "labels.js"
    source.write_text(source.read_text() + "\n")
    assert [p for p in check.problems(tmp_path) if "other sources" in p] != []
    shutil.copy(SOURCES / "labels.js", source)

    built = tmp_path / "voicelab" / "widgets" / "rank_board.css"
    built.write_text(built.read_text() + "\n")
    assert check.problems(tmp_path) == [
        f"{check.BUILT[1]} was edited after it was built (edit {check.SOURCES}/ instead)"
    ]


@pytest.mark.integration
def test_rebuilding_reproduces_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    if not (REPO / "node_modules" / "esbuild").is_dir():
        pytest.fail("node_modules/ has no esbuild: run `npm ci` (`make test` and `make bundle` do)")
    command = ["node", "scripts/bundle.mjs", "--out", str(tmp_path)]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    for name in BUILT:
        assert (tmp_path / name).read_bytes() == (WIDGETS / name).read_bytes(), (
            f"rebuilding {name} from voicelab/widgets/rank_board/ gives other bytes: run "
            "`make bundle` (or `node scripts/bundle.mjs`) and commit the result"
        )


def test_each_source_module_stays_small() -> None:
    sources = [p for p in sorted(SOURCES.iterdir()) if p.suffix in (".js", ".css")]
    sizes = {p.name: len(p.read_text("utf-8").splitlines()) for p in sources}
    assert "index.js" in sizes and "index.css" in sizes
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}, "split it by concern"


def test_the_sources_do_not_ship_only_the_built_files() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    assert "voicelab.widgets.rank_board" not in config["packages"]
    patterns = config["package-data"]["voicelab.widgets"]
    assert all("/" not in p and "**" not in p for p in patterns), patterns
    assert not (SOURCES / "__init__.py").exists()
