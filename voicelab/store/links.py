"""The `ranked/01..05/` tree of relative symlinks, a mirror of metadata.json's ranks.

ranked/ is derived: metadata.json is the truth, and `rebuild_symlinks` makes the tree again
from it (decision 7). Links use relative targets so a batch folder can move.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from collections.abc import Callable, Mapping
from pathlib import Path

from voicelab.store.durable import fsync_dir
from voicelab.store.layout import (
    RANK_DIRS,
    RANKED_DIR,
    link_target,
    rank_dir,
    remove_path,
    temp_name,
)
from voicelab.store.schema import Metadata

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load_renameat2() -> Callable[..., int] | None:
    try:
        renameat2: Callable[..., int] = ctypes.CDLL(None, use_errno=True).renameat2
        return renameat2
    except (OSError, AttributeError):
        return None


_renameat2 = _load_renameat2()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2); False where the system cannot."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(b))



def rebuild_symlinks(batch_dir: Path, metadata: Metadata) -> None:
    """Replace the whole ranked/ tree with one built from `metadata` (all five rank folders).

    The new tree is built aside (`.ranked.<random>.tmp`) and swapped in with a rename; where the
    kernel can exchange two paths atomically, ranked/ never disappears, even for a moment.
    """
    batch_dir = Path(batch_dir)
    aside = batch_dir / temp_name(RANKED_DIR)
    ranked = batch_dir / RANKED_DIR
    try:
        aside.mkdir()
        for name in RANK_DIRS:
            (aside / name).mkdir()
        for take in metadata["takes"]:
            if take["rank"] is not None:
                link = aside / rank_dir(take["rank"]) / take["file"]
                os.symlink(link_target(take["file"]), link)
        for name in RANK_DIRS:
            fsync_dir(aside / name)
        fsync_dir(aside)
        if not os.path.lexists(ranked):
            os.rename(aside, ranked)
        elif not _exchange(aside, ranked):
            old = batch_dir / temp_name(RANKED_DIR)
            os.rename(ranked, old)
            os.rename(aside, ranked)
            aside = old
        fsync_dir(batch_dir)
    finally:
        remove_path(aside)


def update_links(
    batch_dir: Path, metadata: Metadata, moves: Mapping[str, tuple[int | None, int | None]]
) -> None:
    """Move only the links of takes whose rank changed: `moves` is `{file: (old, new)}`.

    Old links go first, so no take shows in two rank folders; each new link is made under a
    temp name and renamed into place. If ranked/ is not intact, rebuild it from `metadata`.
    The folders are not fsynced: ranked/ is derived from metadata.json (which is), and after a
    power loss `voicelab fsck --repair` rebuilds it; syncing up to five folders per change
    would double the cost of a rank change for no durability the metadata lacks.
    """
    batch_dir = Path(batch_dir)
    if not ranked_tree_intact(batch_dir):
        rebuild_symlinks(batch_dir, metadata)
        return
    for filename, (old, _new) in moves.items():
        if old is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(batch_dir / RANKED_DIR / rank_dir(old) / filename)
    for filename, (_old, new) in moves.items():
        if new is not None:
            folder = batch_dir / RANKED_DIR / rank_dir(new)
            tmp = folder / temp_name(filename)
            os.symlink(link_target(filename), tmp)
            try:
                os.replace(tmp, folder / filename)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise


def ranked_tree_intact(batch_dir: Path) -> bool:
    """Whether ranked/ and all five rank folders exist as real folders."""
    return all(
        os.path.isdir(path) and not os.path.islink(path)
        for path in [batch_dir / RANKED_DIR, *(batch_dir / RANKED_DIR / n for n in RANK_DIRS)]
    )


