"""Whether the ranking board's shipped files match their sources, without node.

scripts/bundle.mjs builds voicelab/widgets/rank_board.js and rank_board.css from
voicelab/widgets/rank_board/ and writes, on each built file's first line, the sha256 of the
build's inputs (the .js and .css files under that folder, scripts/bundle.mjs and
package-lock.json: each path, a NUL, its bytes, a NUL, in path order) and of the file's body
after that line. This computes both again. `make bundle` runs it and rebuilds (npm ci, then
esbuild) only when it fails, so a clone whose shipped files are up to date needs no npm;
tests/unit/test_board_bundle.py runs it in the suite.

    python3 scripts/bundle_check.py      exit 0 when up to date, else 1 with what differs
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = "voicelab/widgets/rank_board"
ALSO = ("scripts/bundle.mjs", "package-lock.json")
BUILT = ("voicelab/widgets/rank_board.js", "voicelab/widgets/rank_board.css")
HEADER = re.compile(r"sources sha256 ([0-9a-f]{64}), body sha256 ([0-9a-f]{64})")


def inputs(repo: Path = REPO) -> list[str]:
    """The build's inputs, as repository-relative POSIX paths, sorted (as bundle.mjs sorts):
    the .js and .css files under SOURCES (no dotfile, nothing under a dot folder), and ALSO."""
    folder = repo / SOURCES
    found = [
        p.relative_to(repo).as_posix() for p in folder.rglob("*")
        if p.is_file() and p.suffix in (".js", ".css")
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    ]
    return sorted([*found, *ALSO])


def inputs_digest(repo: Path = REPO) -> str:
    """sha256 over each input's path and bytes, in order: what bundle.mjs writes."""
    digest = hashlib.sha256()
    for rel in inputs(repo):
        digest.update(rel.encode() + b"\0")
        digest.update((repo / rel).read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def problems(repo: Path = REPO) -> list[str]:
    """What differs between the shipped files and their sources; empty when up to date."""
    wanted = inputs_digest(repo)
    found = []
    for rel in BUILT:
        path = repo / rel
        if not path.exists():
            found.append(f"{rel} is missing")
            continue
        header, _, body = path.read_bytes().partition(b"\n")
        match = HEADER.search(header.decode("utf-8", "replace"))
        if not match:
            found.append(f"{rel} has no build header (sources sha256 ..., body sha256 ...)")
        elif match[1] != wanted:
            found.append(f"{rel} was built from other sources than {SOURCES}/ holds now")
        elif match[2] != hashlib.sha256(body).hexdigest():
            found.append(f"{rel} was edited after it was built (edit {SOURCES}/ instead)")
    return found


def main() -> int:
    """Print what is stale and exit 1, or exit 0 when the shipped files are up to date."""
    found = problems()
    for problem in found:
        print(f"bundle_check: {problem}", file=sys.stderr)
    if found:
        print("bundle_check: run `make bundle` to rebuild the board", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
