"""Consistency checks of batches on disk, and repair of what metadata.json can restore.

A batch is consistent when its metadata.json is valid, every take file exists, ranked/ holds
exactly the links metadata implies (and nothing else), and no temp file is left over.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from voicelab import panel, store
from voicelab.errors import MetadataError

# A temp file in takes/ this young may be an MP3 that generation is writing right now.
RECENT_TEMP_S = 300.0


@dataclass
class BatchReport:
    """What fsck found in one batch (and, after a repair, what it did)."""

    path: Path
    problems: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"{self.path}: " + ("ok" if self.ok else f"{len(self.problems)} problem(s)")]
        lines += [f"  - {problem}" for problem in self.problems]
        lines += [f"  * {repair}" for repair in self.repairs]
        return "\n".join(lines)


def _link_problems(batch_dir: Path, folder: Path, rank: int, expected: dict[str, int]) -> list[str]:
    problems: list[str] = []
    takes_dir = os.path.normpath(batch_dir / store.TAKES_DIR)
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if store.is_temp_name(entry.name):
            continue
        where = f"{store.RANKED_DIR}/{folder.name}/{entry.name}"
        if not entry.is_symlink():
            problems.append(f"{where}: not a symlink")
            continue
        target = os.readlink(entry.path)
        resolved = os.path.normpath(os.path.join(folder, target))
        if os.path.isabs(target) or os.path.dirname(resolved) != takes_dir:
            problems.append(f"{where} -> {target}: escapes the batch's {store.TAKES_DIR}/")
        elif expected.get(entry.name) != rank:
            holds = expected.get(entry.name)
            why = "no ranked take has this name" if holds is None else f"metadata ranks it {holds}"
            problems.append(f"{where}: extra link ({why})")
        elif target != store.link_target(entry.name):
            problems.append(
                f"{where} -> {target}: wrong target, expected {store.link_target(entry.name)}"
            )
    return problems


def ranked_problems(batch_dir: Path, metadata: store.Metadata) -> list[str]:
    """How ranked/ differs from what `metadata` implies (missing, extra, wrong, escaping)."""
    ranked = batch_dir / store.RANKED_DIR
    if not ranked.is_dir() or ranked.is_symlink():
        return [f"{store.RANKED_DIR}/ is missing or not a folder"]
    expected = {t["file"]: t["rank"] for t in metadata["takes"] if t["rank"] is not None}
    problems = [
        f"{store.RANKED_DIR}/{name}: unexpected entry"
        for name in sorted(os.listdir(ranked))
        if name not in store.RANK_DIRS and not store.is_temp_name(name)
    ]
    for rank, name in zip(store.RANKS, store.RANK_DIRS, strict=True):
        folder = ranked / name
        if not folder.is_dir() or folder.is_symlink():
            problems.append(f"{store.RANKED_DIR}/{name}/ is missing or not a folder")
            continue
        problems += _link_problems(batch_dir, folder, rank, expected)
        present = set(os.listdir(folder))
        problems += [
            f"{store.RANKED_DIR}/{name}/{file}: missing link (metadata ranks it {rank})"
            for file in sorted(f for f, r in expected.items() if r == rank and f not in present)
        ]
    return problems


def check_batch(batch_dir: Path) -> BatchReport:
    """Check one batch; a broken metadata.json is reported as a problem, never raised."""
    batch_dir = Path(batch_dir)
    report = BatchReport(batch_dir)
    report.problems += [
        f"leftover temp file {path.relative_to(batch_dir)}" for path in store.temp_files(batch_dir)
    ]
    try:
        metadata = store.load_metadata(batch_dir, check_files=False)
    except MetadataError as exc:
        report.problems.append(f"{store.METADATA_NAME}: {exc.reason}")
        return report
    if metadata["batch_id"] != batch_dir.name:
        report.problems.append(
            f"{store.METADATA_NAME}: batch_id {metadata['batch_id']!r} "
            f"does not match the folder name {batch_dir.name!r}"
        )
    present = store.take_files(batch_dir)
    if present is None:
        report.problems.append(f"{store.TAKES_DIR}/ is missing")
        present = set()
    report.problems += [
        f"take file {store.TAKES_DIR}/{take['file']} is missing"
        for take in metadata["takes"]
        if take["file"] not in present
    ]
    report.problems += ranked_problems(batch_dir, metadata)
    report.problems += panel.panel_problems(metadata)
    return report


def check_root(root: Path) -> list[BatchReport]:
    """Check every folder at batch depth under root (`root/<skin>/<voice>/<batch>`), by path."""
    return [check_batch(path) for path in sorted(store.batch_dirs(Path(root)))]


def repair_batch(batch_dir: Path) -> BatchReport:
    """Remove leftover temp files and restore ranked/ from metadata.json, under the batch lock.

    Temp files in takes/ younger than RECENT_TEMP_S are kept (generation may be writing them).
    Missing take files and a broken metadata.json cannot be repaired; they stay as problems.
    Returns the report after the repair, with what was done in `repairs`.
    """
    batch_dir = Path(batch_dir)
    repairs: list[str] = []
    with store.batch_lock(batch_dir):
        for path in store.temp_files(batch_dir):
            name = path.relative_to(batch_dir)
            if path.parent == batch_dir / store.TAKES_DIR and _age_s(path) < RECENT_TEMP_S:
                repairs.append(f"kept recent temp file {name} (may still be being written)")
                continue
            store.remove_path(path)
            repairs.append(f"removed leftover temp file {name}")
        try:
            metadata = store.load_metadata(batch_dir, check_files=False)
        except MetadataError:
            metadata = None
        if metadata is not None and ranked_problems(batch_dir, metadata):
            store.rebuild_symlinks(batch_dir, metadata)
            repairs.append(f"rebuilt {store.RANKED_DIR}/ from {store.METADATA_NAME}")
        report = check_batch(batch_dir)
    report.repairs = repairs
    return report


def _age_s(path: Path) -> float:
    try:
        return time.time() - path.lstat().st_mtime
    except FileNotFoundError:
        return float("inf")
