"""Safe resolution of a client-given relative path to a file under a root (the /audio route).

Whatever the client sends, the answer is a real file inside the root or nothing: `..`,
absolute paths, NUL, backslashes, hidden names (`.jobs/`, temp files) and symlinks that lead
out of the root all resolve to None. Links inside the root (ranked/0N -> takes/) are fine.
"""

from __future__ import annotations

import os
from pathlib import Path


def _plain_parts(relpath: str) -> list[str] | None:
    """The path's segments if every one is a plain visible name, else None."""
    if not relpath or "\0" in relpath or "\\" in relpath or relpath.startswith("/"):
        return None
    parts = relpath.split("/")
    if any(not part or part.startswith(".") for part in parts):
        return None
    return parts


def resolve_under(root: Path, relpath: str, *, suffix: str | None = None) -> Path | None:
    """The real path of the regular file `relpath` names under `root`, or None.

    None when the path is not a plain relative path (see module doc), does not exist, is not
    a regular file, resolves (through any symlink) outside `root`, or, with `suffix`, when the
    requested name or the file it resolves to does not end in `suffix` (case-insensitive).
    """
    parts = _plain_parts(relpath)
    if parts is None:
        return None
    if suffix and not parts[-1].lower().endswith(suffix.lower()):
        return None
    real_root = os.path.realpath(root)
    real = os.path.realpath(os.path.join(real_root, *parts))
    if os.path.commonpath([real_root, real]) != real_root or real == real_root:
        return None
    if suffix and not real.lower().endswith(suffix.lower()):
        return None
    return Path(real) if os.path.isfile(real) else None
