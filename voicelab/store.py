"""The batch directory contract: metadata.json (schema v1), durable writes, ranked/ links, locks.

A batch lives in `<ROOT>/<Skin>/<Voice>/<BatchID>/` with `takes/`, `ranked/01..05/`,
`metadata.json` and an optional `LOCKED` sentinel (seed §2-3, DESIGN decisions 6-7).
Every write here is atomic; metadata writes are serialized across processes by `batch_lock`.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import itertools
import json
import logging
import operator
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

import orjson

from voicelab.errors import BatchNotFound, MetadataError

log = logging.getLogger(__name__)

METADATA_NAME = "metadata.json"
LOCKED_NAME = "LOCKED"
LOCK_FILE_NAME = ".lock"
TAKES_DIR = "takes"
RANKED_DIR = "ranked"
RANKS = (1, 2, 3, 4, 5)
RANK_DIRS = tuple(f"{rank:02d}" for rank in RANKS)
TEMP_SUFFIX = ".tmp"

Metadata = dict[str, Any]


class BatchRecord(TypedDict):
    """One row of `find_batches`: JSON-ready, enough to list batches without opening takes."""

    skin: str
    voice: str
    batch_id: str
    path: str
    take_count: int
    ranked_count: int
    locked: bool
    generated_at_utc: str | None


def utc_now() -> str:
    """The current time as ISO-8601 UTC with milliseconds, e.g. `2025-04-17T00:08:37.120Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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


# --- durable writes ------------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (a rename is durable only once its folder is synced)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `path` so readers see the old or the new file, never a partial one.

    Temp file in the same folder, fsync, os.replace, fsync of the folder; the temp file is
    removed on any failure. Also used for MP3 takes.
    """
    tmp = path.parent / temp_name(path.name)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


# --- the per-batch inter-process lock ------------------------------------------------------


_held = threading.local()  # per thread: the lock files it holds
# A forked child holds none of its parent's locks, whatever the parent's thread was doing.
os.register_at_fork(after_in_child=_held.__dict__.clear)


@contextlib.contextmanager
def batch_lock(batch_dir: Path | str) -> Iterator[None]:
    """Hold the batch's inter-process lock: a blocking flock on `<batch>/.lock`.

    Reentrant within a thread, exclusive across threads and processes; the kernel drops it
    when a holder dies, so it never goes stale. Every metadata write takes it. (Plain flock
    rather than the filelock package: filelock 4.3 cost ~0.4 ms per acquire and hands over by
    polling; flock costs microseconds and wakes the next waiter at once.)

    Raises:
        MetadataError: the batch folder does not exist.
    """
    if not os.path.isdir(batch_dir):
        raise MetadataError(Path(batch_dir, METADATA_NAME), "batch folder does not exist")
    # realpath: two spellings of one batch must not look like two locks to the same thread.
    key = os.path.realpath(os.path.join(batch_dir, LOCK_FILE_NAME))
    held: set[str] = _held.__dict__.setdefault("paths", set())
    if key in held:  # re-entered: the outer block releases
        yield
        return
    fd = os.open(key, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- schema v1 ---------------------------------------------------------------------------

_TOP_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("batch_id", str, "a string"),
    ("skin_name", str, "a string"),
    ("voice_name", str, "a string"),
    ("generation_params", dict, "an object"),
    ("takes", list, "a list"),
)
_TAKE_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("line", str, "a string"),
    ("script_text", str, "a string"),
    ("generation_settings", dict, "an object"),
)
_TIME_FIELDS = ("generated_at_utc", "ranked_at_utc")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_iso_time(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _check_file_name(name: object) -> str | None:
    if not isinstance(name, str):
        return f"field 'file' must be a string, got {_short(name)}"
    if not name.endswith(".mp3") or name.startswith(".") or any(c in name for c in "/\\\0\n"):
        return f"field 'file' must be a bare name ending in .mp3, got {_short(name)}"
    return None


def _take_problem(take: object) -> str | None:
    if not isinstance(take, dict):
        return f"must be an object, got {_short(take)}"
    if "file" not in take:
        return "missing field 'file'"
    if (bad := _check_file_name(take["file"])) is not None:
        return bad
    for name, kind, label in _TAKE_FIELDS:
        if name not in take:
            return f"missing field {name!r}"
        if not isinstance(take[name], kind):
            return f"field {name!r} must be {label}, got {_short(take[name])}"
    number = take.get("take_number", None)
    if not _is_int(number) or number < 1:
        return f"field 'take_number' must be an integer >= 1, got {_short(number)}"
    for name in ("rank", "ranked_at"):
        if name not in take:
            return f"missing field {name!r}"
    rank = take["rank"]
    if rank is not None and (not _is_int(rank) or not 1 <= rank <= 5):
        return f"field 'rank' must be an integer 1-5 or null, got {_short(rank)}"
    ranked_at = take["ranked_at"]
    if ranked_at is not None and not _is_iso_time(ranked_at):
        return f"field 'ranked_at' must be an ISO-8601 time or null, got {_short(ranked_at)}"
    return None


_TAKE_COLUMNS = operator.itemgetter(
    "file", "line", "script_text", "take_number", "generation_settings", "rank", "ranked_at"
)
_SECOND = operator.itemgetter(1)
_RANK = operator.itemgetter("rank")
_NONE = type(None)
_RANK_VALUES = frozenset({None, *RANKS})
# Allowed types of (take_number, generation_settings, rank, ranked_at), checked in one pass.
_TYPES = frozenset(itertools.product([int], [dict], [int, _NONE], [str, _NONE]))


def _takes_ok(takes: list[Any]) -> bool:
    """Fast path: whether every take is valid, checked column by column at C speed.

    Every set_rank loads (and so validates) the whole batch; on a 2,000-take batch a per-take
    Python loop cost more than the JSON parse. False only means "look closer":
    `_raise_take_problem` then finds and names the problem.
    """
    try:
        rows = list(map(_TAKE_COLUMNS, takes))
        if not rows:
            return True
        files, lines, texts, numbers, settings, ranks, ranked_ats = zip(*rows, strict=False)
        names = "\n".join(files)
        "".join(lines)
        "".join(texts)
        list(map(datetime.fromisoformat, filter(None, ranked_ats)))
    except (KeyError, TypeError, ValueError):  # a missing field, a non-string, a bad time
        return False
    # With no newline in any name, one joined string answers for every name.
    joined = f"\n{names}\n"
    held = list(filter(_SECOND, zip(lines, ranks, strict=True)))
    return (
        names.count("\n") == len(files) - 1
        and "/" not in names
        and "\\" not in names
        and "\0" not in names
        and "\n." not in joined
        and joined.count(".mp3\n") == len(files)
        and len(set(files)) == len(files)
        and set(zip(*map(map, [type] * 4, (numbers, settings, ranks, ranked_ats)), strict=True))
        <= _TYPES
        and min(numbers) >= 1
        and set(ranks) <= _RANK_VALUES
        and "" not in ranked_ats
        and len(set(held)) == len(held)
    )


def _validate_top(data: object, path: Path | str) -> Metadata:
    if not isinstance(data, dict):
        raise MetadataError(path, f"top level must be a JSON object, got {type(data).__name__}")
    for name, kind, label in _TOP_FIELDS:
        if name not in data:
            raise MetadataError(path, f"missing field {name!r}")
        if not isinstance(data[name], kind):
            raise MetadataError(path, f"field {name!r} must be {label}, got {_short(data[name])}")
    for name in _TIME_FIELDS:
        if name not in data:
            raise MetadataError(path, f"missing field {name!r}")
        if data[name] is not None and not _is_iso_time(data[name]):
            raise MetadataError(
                path, f"field {name!r} must be an ISO-8601 time or null, got {_short(data[name])}"
            )
    revision = data.get("revision", 0)
    if not _is_int(revision) or revision < 0:
        raise MetadataError(path, f"field 'revision' must be an integer >= 0, got {revision!r}")
    return data


def validate_metadata(data: object, path: Path | str) -> Metadata:
    """Check `data` against schema v1 and return it unchanged (unknown fields are kept).

    Raises:
        MetadataError: naming `path` and the first problem (field, take, value).
    """
    metadata = _validate_top(data, path)
    if not _takes_ok(metadata["takes"]):
        _raise_take_problem(metadata["takes"], path)
    return metadata


def _raise_take_problem(takes: list[Any], path: Path | str) -> None:
    """Find the first bad take and raise a MetadataError that names it."""
    files: set[str] = set()
    holders: dict[tuple[str, int], str] = {}
    for index, take in enumerate(takes):
        if (problem := _take_problem(take)) is not None:
            name = take.get("file") if isinstance(take, dict) else None
            where = f"takes[{index}]" + (f" ({name})" if isinstance(name, str) else "")
            raise MetadataError(path, f"{where}: {problem}")
        name = take["file"]
        if name in files:
            raise MetadataError(path, f"takes[{index}]: file {name!r} is listed twice")
        files.add(name)
        if take["rank"] is not None:
            key = (take["line"], take["rank"])
            if key in holders:
                raise MetadataError(
                    path,
                    f"takes[{index}] ({name}): rank {take['rank']} of line {take['line']!r} "
                    f"is also held by {holders[key]!r}",
                )
            holders[key] = name


def _read_json(path: str) -> object:
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise MetadataError(path, "missing") from None
    except OSError as exc:
        raise MetadataError(path, f"cannot be read ({exc.strerror})") from None
    try:
        return orjson.loads(raw)  # twice as fast as json, and strict: no NaN, no Infinity
    except orjson.JSONDecodeError as exc:
        raise MetadataError(path, f"not valid JSON ({exc})") from None


def load_metadata(batch_dir: Path | str, *, check_files: bool = True) -> Metadata:
    """Read and validate a batch's metadata.json (schema v1).

    With `check_files` (the default) every take must also exist in takes/; fsck passes False
    to list all missing files itself.

    Raises:
        MetadataError: missing, not JSON, breaks schema v1, or names a take file not in takes/.
    """
    path = os.path.join(batch_dir, METADATA_NAME)
    data = validate_metadata(_read_json(path), path)
    if check_files:
        present = take_files(Path(batch_dir))
        if present is None:
            raise MetadataError(path, f"the {TAKES_DIR}/ folder is missing")
        for take in data["takes"]:
            if take["file"] not in present:
                raise MetadataError(path, f"take file {TAKES_DIR}/{take['file']} does not exist")
    return data


def take_files(batch_dir: Path) -> set[str] | None:
    """The names in the batch's takes/ folder (temp files excluded), or None if it is missing."""
    try:
        return {name for name in os.listdir(batch_dir / TAKES_DIR) if not is_temp_name(name)}
    except (FileNotFoundError, NotADirectoryError):
        return None


def dump_metadata(data: Metadata, path: Path) -> bytes:
    """Serialize metadata as strict JSON (no NaN), UTF-8, one take per line for readable diffs.

    Raises:
        MetadataError: a value cannot be written as JSON.
    """
    try:
        head = {key: value for key, value in data.items() if key != "takes"}
        encoded = [orjson.dumps(take) for take in data["takes"]]
        # orjson writes NaN and infinities as null: reading back must give the same takes.
        if orjson.loads(b"[" + b",".join(encoded) + b"]") != data["takes"]:
            raise ValueError("a take holds a value JSON cannot represent (NaN or infinity)")
        takes = b",\n  ".join(encoded).decode()
        text = json.dumps(head, ensure_ascii=False, allow_nan=False, indent=1)
    except (TypeError, ValueError, orjson.JSONEncodeError) as exc:
        raise MetadataError(path, f"cannot be written as JSON ({exc})") from None
    body = f'"takes": [\n  {takes}\n ]' if takes else '"takes": []'
    text = f"{text[:-2]},\n {body}\n}}\n" if head else f"{{\n {body}\n}}\n"
    return text.encode("utf-8")


def save_metadata(batch_dir: Path, data: Metadata) -> None:
    """Validate and durably replace metadata.json, under the batch lock (reentrant).

    Raises:
        MetadataError: `data` breaks schema v1 or holds a value JSON cannot represent;
            nothing is written then.
    """
    path = Path(batch_dir) / METADATA_NAME
    validate_metadata(data, path)
    payload = dump_metadata(data, path)
    with batch_lock(batch_dir):
        atomic_write_bytes(path, payload)


def update_metadata(batch_dir: Path, change: Callable[[Metadata], Metadata | None]) -> Metadata:
    """Locked load-modify-save: `change` edits the loaded metadata (or returns a new dict).

    Raises:
        MetadataError: the stored or the changed metadata breaks schema v1.
    """
    with batch_lock(batch_dir):
        data = load_metadata(batch_dir)
        result = change(data)
        data = data if result is None else result
        save_metadata(batch_dir, data)
        return data


def create_batch_dirs(batch_dir: Path) -> None:
    """Make a batch folder with takes/ and ranked/01..05 (existing ones are kept)."""
    batch_dir = Path(batch_dir)
    (batch_dir / TAKES_DIR).mkdir(parents=True, exist_ok=True)
    for name in RANK_DIRS:
        (batch_dir / RANKED_DIR / name).mkdir(parents=True, exist_ok=True)


# --- ranked/ links ---------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load_renameat2() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).renameat2  # type: ignore[no-any-return]
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


# --- LOCKED ----------------------------------------------------------------------------------


def lock_batch(batch_dir: Path) -> None:
    """Create the LOCKED sentinel (idempotent). Metadata is `voicelab.ranking.lock`'s job."""
    path = Path(batch_dir) / LOCKED_NAME
    if not path.exists():
        atomic_write_bytes(path, b"")


def is_locked(batch_dir: Path | str) -> bool:
    """Whether the batch has its LOCKED sentinel (ranking is then frozen)."""
    return os.path.exists(os.path.join(batch_dir, LOCKED_NAME))


# --- finding batches -------------------------------------------------------------------------


def _subdirs(path: str) -> list[str]:
    try:
        with os.scandir(path) as entries:
            return [
                e.path
                for e in entries
                if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)
            ]
    except FileNotFoundError:
        return []
    except OSError as exc:
        log.warning("cannot list %s: %s", path, exc.strerror)
        return []


def _batch_paths(root: Path | str) -> list[str]:
    return [
        batch
        for skin in _subdirs(os.fspath(root))
        for voice in _subdirs(skin)
        for batch in _subdirs(voice)
    ]


def batch_dirs(root: Path) -> list[Path]:
    """Every folder at batch depth (`root/<skin>/<voice>/<batch>`), hidden names skipped."""
    return [Path(path) for path in _batch_paths(root)]


def valid_batch_id(batch_id: str) -> bool:
    """Whether `batch_id` is a plain folder name (no separators, NUL, `..`, leading dot)."""
    return bool(batch_id) and not (
        batch_id.startswith(".") or ".." in batch_id or any(ch in batch_id for ch in "/\\\0")
    )


def find_batch(root: Path, batch_id: str) -> Path:
    """The folder of the batch `batch_id` under root (`root/*/*/<batch_id>`).

    Raises:
        BatchNotFound: no such batch, or an id that is not a plain folder name.
    """
    if not isinstance(batch_id, str) or not valid_batch_id(batch_id):
        raise BatchNotFound(str(batch_id))
    matches = [
        path
        for skin in _subdirs(os.fspath(root))
        for voice in _subdirs(skin)
        if (path := Path(voice, batch_id)).is_dir() and not path.is_symlink()
    ]
    if not matches:
        raise BatchNotFound(batch_id)
    if len(matches) > 1:
        matches.sort()
        log.warning("batch id %s is in %d folders; using %s", batch_id, len(matches), matches[0])
    return matches[0]


def _newest_first(record: BatchRecord) -> tuple[bool, datetime, str]:
    # A batch still generating (no generated_at_utc yet) is the newest of all.
    stamp = record["generated_at_utc"]
    if stamp is None:
        return (True, datetime.max.replace(tzinfo=UTC), record["batch_id"])
    when = datetime.fromisoformat(stamp)
    return (False, when if when.tzinfo else when.replace(tzinfo=UTC), record["batch_id"])


def _listing(path: str) -> BatchRecord:
    """The record of one batch, checking only what the record reports (see find_batches)."""
    metadata_path = os.path.join(path, METADATA_NAME)
    data = _validate_top(_read_json(metadata_path), metadata_path)
    takes = data["takes"]
    try:
        ranks = list(map(_RANK, takes))
        listable = set(map(type, ranks)) <= {int, _NONE} and set(ranks) <= _RANK_VALUES
    except (KeyError, TypeError):
        listable = False
    if not listable:
        validate_metadata(data, metadata_path)  # raises, naming the take
    return {
        "skin": data["skin_name"],
        "voice": data["voice_name"],
        "batch_id": data["batch_id"],
        "path": path,
        "take_count": len(ranks),
        "ranked_count": len(ranks) - ranks.count(None),
        "locked": is_locked(path),
        "generated_at_utc": data["generated_at_utc"],
    }


def find_batches(root: Path) -> list[BatchRecord]:
    """One record per listable batch under root, newest first (still generating = newest).

    Checked here is what a record reports: metadata.json parses, its top-level fields follow
    schema v1 and every take has a valid rank. The other take fields are checked when the
    batch is opened (load_metadata) and by fsck, take files are not looked at: listing
    thousands of batches stays within 1.5x of merely parsing their metadata.json. A batch that
    fails is logged and left out, never raised.
    """
    records: list[BatchRecord] = []
    for path in _batch_paths(root):
        try:
            records.append(_listing(path))
        except MetadataError as exc:
            log.warning("skipping broken batch: %s", exc)
    records.sort(key=_newest_first, reverse=True)
    return records
