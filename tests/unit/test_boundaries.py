"""The import contracts cover every module, so a new module cannot slip past the boundary."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import voicelab

REPO = Path(__file__).resolve().parents[2]


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
    return config["tool"]["importlinter"]["contracts"]  # type: ignore[no-any-return]


def test_every_voicelab_module_is_core_or_a_face() -> None:
    """Each top-level module or package of voicelab is named by the core-imports-no-face
    contract, as core (source) or as a face (forbidden to the core)."""
    (faces,) = [c for c in _contracts() if c["type"] == "forbidden"]
    named = {*faces["source_modules"], *faces["forbidden_modules"]}  # type: ignore[misc]
    modules = {f"voicelab.{m.name}" for m in pkgutil.iter_modules(voicelab.__path__)}
    assert modules - named == set(), "classify these in pyproject.toml's importlinter contract"
    assert named - modules - {"api"} == set(), "the contract names modules that do not exist"


def test_a_dashboard_kernel_does_not_import_scipy() -> None:
    """Every dashboard page starts a kernel that imports the widget views: scipy (1.3 s of
    CPU and tens of MB per kernel, through pyloudnorm) must stay out of that import."""
    code = ("import sys, voicelab.widgets.views; "
            "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('scipy', 'pyloudnorm'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=True)
    imported = done.stdout.split()
    assert not imported, f"a dashboard kernel imports {len(imported)} modules: {imported[:4]}…"
