"""A batch folder's names: `<ROOT>/<Skin>/<Voice>/<BatchID>/` with `takes/`, `ranked/01..05/`,
`metadata.json`, an optional `LOCKED` sentinel (docs/design.md: the batch contract, decisions 6-7),
and the temp names our writers use while a write is in flight.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path

METADATA_NAME = "metadata.json"
LOCKED_NAME = "LOCKED"
LOCK_FILE_NAME = ".lock"
TAKES_DIR = "takes"
RANKED_DIR = "ranked"
RANKS = (1, 2, 3, 4, 5)
RANK_DIRS = tuple(f"{rank:02d}" for rank in RANKS)
TEMP_SUFFIX = ".tmp"


def rank_dir(rank: int) -> str:
    """The folder name under ranked/ for a rank: 1 -> `01`."""
    return f"{rank:02d}"


def link_target(filename: str) -> str:
    """What a link in ranked/0N/ points at: relative, so a batch can move (decision 7)."""
    return f"../../{TAKES_DIR}/{filename}"


def temp_name(name: str) -> str:
    """A recognisable, unique temp name for `name`: `.<name>.<random>.tmp` (fsck finds them)."""
    return f".{name}.{secrets.token_hex(6)}{TEMP_SUFFIX}"


def is_temp_name(name: str) -> bool:
    """Whether a directory entry is one of our temp names (the batch `.lock` file is not)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def create_batch_dirs(batch_dir: Path) -> None:
    """Make a batch folder with takes/ and ranked/01..05 (existing ones are kept)."""
    batch_dir = Path(batch_dir)
    (batch_dir / TAKES_DIR).mkdir(parents=True, exist_ok=True)
    for name in RANK_DIRS:
        (batch_dir / RANKED_DIR / name).mkdir(parents=True, exist_ok=True)


def take_files(batch_dir: Path) -> set[str] | None:
    """The names in the batch's takes/ folder (temp files excluded), or None if it is missing."""
    try:
        return {name for name in os.listdir(batch_dir / TAKES_DIR) if not is_temp_name(name)}
    except (FileNotFoundError, NotADirectoryError):
        return None


def remove_path(path: Path) -> None:
    """Remove a file, link or folder tree; a missing path is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def temp_files(batch_dir: Path) -> list[Path]:
    """Temp files and folders of our writers in the batch, takes/ and ranked/ (sorted)."""
    batch_dir = Path(batch_dir)
    folders = [batch_dir, batch_dir / TAKES_DIR, batch_dir / RANKED_DIR]
    folders += [batch_dir / RANKED_DIR / name for name in RANK_DIRS]
    found: list[Path] = []
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found += [folder / name for name in names if is_temp_name(name)]
    return sorted(found)


def remove_dead_temps(batch_dir: Path) -> list[str]:
    """Remove what writers killed mid-write left behind; returns the names removed.

    Call it holding the batch lock. Temp entries in the batch folder and ranked/ are then dead
    (their writers hold that lock); one in takes/ is dead once the take it was becoming exists
    (the take was written again since). Anything else is left to `voicelab fsck --repair`.
    """
    removed = []
    for path in temp_files(batch_dir):
        target = path.name[1:].removesuffix(TEMP_SUFFIX).rpartition(".")[0]
        if path.parent.name != TAKES_DIR or (path.parent / target).exists():
            remove_path(path)
            removed.append(path.name)
    return removed


def is_locked(batch_dir: Path | str) -> bool:
    """Whether the batch has its LOCKED sentinel (ranking is then frozen)."""
    return os.path.exists(os.path.join(batch_dir, LOCKED_NAME))
