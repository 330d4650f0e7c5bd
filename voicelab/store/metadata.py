"""Reading and writing a batch's metadata.json: strict JSON in, validated, durable out."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import orjson

from voicelab.errors import MetadataError
from voicelab.store.durable import atomic_write_bytes, batch_lock
from voicelab.store.layout import METADATA_NAME, TAKES_DIR, take_files
from voicelab.store.schema import Metadata, validate_metadata


def read_json(path: str) -> object:
    """Parse a JSON file strictly (no NaN, no Infinity).

    Raises:
        MetadataError: the file is missing, unreadable or not JSON.
    """
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise MetadataError(path, "missing") from None
    except OSError as exc:
        raise MetadataError(path, f"cannot be read ({exc.strerror})") from None
    try:
        return orjson.loads(raw)  # twice as fast as json, and strict
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
    data = validate_metadata(read_json(path), path)
    if check_files:
        present = take_files(Path(batch_dir))
        if present is None:
            raise MetadataError(path, f"the {TAKES_DIR}/ folder is missing")
        for take in data["takes"]:
            if take["file"] not in present:
                raise MetadataError(path, f"take file {TAKES_DIR}/{take['file']} does not exist")
    return data


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
