"""voicelab.paths: a client's relative path resolves to a file under the root, or to nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voicelab.paths import resolve_under


@pytest.fixture
def tree(root: Path, tmp_path: Path) -> Path:
    (root / "a" / "takes").mkdir(parents=True)
    (root / "a" / "ranked").mkdir()
    (root / "a" / "takes" / "x.mp3").write_bytes(b"mp3")
    (root / "a" / "takes" / "notes.txt").write_text("t")
    (root / "a" / "ranked" / "x.mp3").symlink_to("../takes/x.mp3")
    (tmp_path / "outside.mp3").write_bytes(b"out")
    (root / "a" / "takes" / "out.mp3").symlink_to(tmp_path / "outside.mp3")
    (root / "a" / "takes" / "txt.mp3").symlink_to("notes.txt")
    (root / ".jobs").mkdir()
    (root / ".jobs" / "j.mp3").write_bytes(b"hidden")
    return root


def test_plain_paths_and_inner_links_resolve(tree: Path) -> None:
    real = (tree / "a" / "takes" / "x.mp3").resolve()
    assert resolve_under(tree, "a/takes/x.mp3", suffix=".mp3") == real
    assert resolve_under(tree, "a/ranked/x.mp3", suffix=".mp3") == real
    assert resolve_under(tree, "a/takes/notes.txt") == (tree / "a/takes/notes.txt").resolve()


@pytest.mark.parametrize("relpath", [
    "", "/", "a/../a/takes/x.mp3", "../outside.mp3", "a/takes/out.mp3", "a/takes/txt.mp3",
    "a/takes/notes.txt", "a/takes", "a//takes/x.mp3", "./a/takes/x.mp3", "a/takes/x.mp3\0",
    "a\\takes\\x.mp3", ".jobs/j.mp3", "a/takes/missing.mp3",
])
def test_everything_else_is_none(tree: Path, relpath: str) -> None:
    assert resolve_under(tree, relpath, suffix=".mp3") is None


def test_absolute_paths_are_none(tree: Path) -> None:
    assert resolve_under(tree, str(tree / "a/takes/x.mp3"), suffix=".mp3") is None
    assert resolve_under(tree, os.sep + "etc/passwd") is None


def test_a_root_reached_through_a_link_still_works(tree: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(tree)
    assert resolve_under(alias, "a/takes/x.mp3", suffix=".mp3") is not None
