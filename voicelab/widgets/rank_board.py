"""The ranking board: one batch's lines and takes, ranked by keys or drag-and-drop in a browser.

State lives in traitlets that only Python writes; the browser sends actions (rank, lock,
refresh, audio, export) as messages, and every rank change goes through `voicelab.ranking`, on
the current state on disk, so nothing another session wrote is ever overwritten (DESIGN decision 1).
docs/widget-protocol.md describes every synced trait and every message, both directions.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import numpy as np
import traitlets

from voicelab import export, quality, ranking, store
from voicelab.errors import RankError, UnknownTake, VoicelabError

_HERE = Path(__file__).parent

PEAK_POINTS = 100
"""Bytes per take in the `peaks` trait: one per 2.4 px of the board's 240 px waveform."""
SETTING_KEYS = ("stability", "similarity_boost", "style", "speed", "use_speaker_boost")
"""The generation settings the board shows on each take."""


def _stat_key(batch_dir: Path) -> tuple[int, int, int, bool]:
    """What changes whenever metadata.json is replaced or the batch is locked."""
    try:
        st = os.stat(batch_dir / store.METADATA_NAME)
    except FileNotFoundError:
        return (0, 0, 0, store.is_locked(batch_dir))
    return (st.st_mtime_ns, st.st_size, st.st_ino, store.is_locked(batch_dir))


def _quality(take: Mapping[str, Any]) -> Mapping[str, Any]:
    nested = take.get("quality")
    return nested if isinstance(nested, Mapping) else {}


def _gain_target(takes: Sequence[Mapping[str, Any]]) -> float:
    """The batch's median loudness: matching to it keeps most playback gains small."""
    values = [q["lufs"] for t in takes if isinstance((q := _quality(t)).get("lufs"), int | float)]
    return float(statistics.median(values)) if values else -23.0


def take_record(take: Mapping[str, Any], flags: list[str], target: float) -> dict[str, Any]:
    """The board's view of one take: small and JSON-ready (the waveform travels separately)."""
    facts = _quality(take)
    settings = take.get("generation_settings") or {}
    return {
        "file": take["file"],
        "line": take["line"],
        "take_number": take["take_number"],
        "rank": take["rank"],
        "ranked_at": take["ranked_at"],
        "settings": {key: settings[key] for key in SETTING_KEYS if key in settings},
        "duration_s": take.get("duration_s", facts.get("duration_s")),
        "flags": list(flags),
        "gain_db": quality.loudness_gain_db(facts.get("lufs"), target, facts.get("peak_dbfs")),
    }


def pack_peaks(stored: str | Sequence[float] | None, points: int = PEAK_POINTS) -> bytes:
    """A waveform overview as `points` bytes (0-255), max-pooled from a take's stored peaks.

    Binary and short, so a 2,000-take batch's overviews are ~200 kB in the widget state
    instead of megabytes of JSON; no values gives a flat line (all zero).
    """
    samples = quality.peak_values(stored)  # type: ignore[arg-type]
    if not len(samples):
        return bytes(points)
    pooled = np.maximum.reduceat(samples, np.arange(points) * len(samples) // points)
    return np.clip(np.rint(pooled * 255), 0, 255).astype(np.uint8).tobytes()


def board_state(batch_dir: Path, root: Path | None) -> dict[str, Any]:
    """Every trait the board shows for a batch, read from its metadata.json.

    `audio_path` is the batch's takes/ folder relative to `root` (the `/audio/` URL space);
    empty when the batch is not under `root`, so the browser asks the kernel for the bytes.

    Raises:
        MetadataError: the batch's metadata.json is missing or invalid.
    """
    metadata = store.load_metadata(batch_dir, check_files=False)
    takes = metadata["takes"]
    audio_path = ""
    if root is not None:
        rel = os.path.relpath(Path(batch_dir).resolve(), Path(root).resolve())
        if not rel.startswith(".."):
            audio_path = Path(rel, store.TAKES_DIR).as_posix() + "/"
    stored: list[list[str] | None] = [_quality(t).get("flags") for t in takes]
    computed = quality.flag_batch(takes) if any(f is None for f in stored) else []
    target = _gain_target(takes)
    lines: dict[str, str] = {}
    records = []
    for index, take in enumerate(takes):
        flags = stored[index]
        if flags is None:
            flags = computed[index]
        records.append(take_record(take, flags, target))
        lines.setdefault(take["line"], take["script_text"])
    return {
        "batch_id": metadata["batch_id"],
        "skin": metadata["skin_name"],
        "voice": metadata["voice_name"],
        "takes": records,
        "lines": [{"line": line, "script_text": text} for line, text in lines.items()],
        "peaks": b"".join(pack_peaks(_quality(t).get("peaks") or []) for t in takes),
        "audio_path": audio_path,
        "locked": store.is_locked(batch_dir),
    }


def rank_changes(before: Sequence[Mapping[str, Any]], after: Sequence[Mapping[str, Any]]) -> int:
    """How many takes have a different rank (or are new or gone) between two `takes` lists."""
    old = {t["file"]: t["rank"] for t in before}
    new = {t["file"]: t["rank"] for t in after}
    return sum(old.get(f, "gone") != new.get(f, "gone") for f in old.keys() | new.keys())


class RankBoard(anywidget.AnyWidget):
    """Keyboard-first ranking board for one batch; every change goes through voicelab.ranking."""

    _esm = _HERE / "rank_board.js"
    _css = _HERE / "rank_board.css"

    batch_id = traitlets.Unicode("").tag(sync=True)
    skin = traitlets.Unicode("").tag(sync=True)
    voice = traitlets.Unicode("").tag(sync=True)
    takes = traitlets.List(traitlets.Dict()).tag(sync=True)
    """One dict per take, in metadata order: file, line, take_number, rank (1-5 or None),
    ranked_at, settings, duration_s, flags and gain_db (for loudness-matched playback)."""
    lines = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The batch's lines in script order: {line, script_text}."""
    peaks = traitlets.Bytes(b"").tag(sync=True)
    """PEAK_POINTS bytes per take, in `takes` order: the stored waveform overview
    (quality.peaks), drawn at once while the browser decodes the audio."""
    locked = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    """Why the last action was refused; empty after an accepted one."""
    notice = traitlets.Unicode("").tag(sync=True)
    """A short note for the user, e.g. that another session changed ranks."""
    audio_base = traitlets.Unicode("/audio/").tag(sync=True)
    """URL prefix of AUDIO_ROOT; the browser falls back to asking the kernel for the bytes."""
    audio_path = traitlets.Unicode("").tag(sync=True)
    """The batch's takes/ folder under AUDIO_ROOT, e.g. `Skin/Voice-v1/<batch>/takes/`."""
    refresh_ms = traitlets.Int(1500).tag(sync=True)
    """How often the browser asks the kernel to look for changes made elsewhere."""

    def __init__(self, batch_dir: Path, root: Path | None = None, **kwargs: Any) -> None:
        """Load the board for `batch_dir`; `root` is AUDIO_ROOT (for audio URLs).

        Raises:
            MetadataError: the batch's metadata.json is missing or invalid.
        """
        self._batch_dir = Path(batch_dir)
        self._root = Path(root) if root is not None else None
        self._seen = _stat_key(self._batch_dir)
        super().__init__(**{**self._load(), **kwargs})
        self.on_msg(self._on_msg)

    @property
    def batch_dir(self) -> Path:
        """The batch folder this board ranks."""
        return self._batch_dir

    def _load(self) -> dict[str, Any]:
        return board_state(self._batch_dir, self._root)

    def reload(self) -> int:
        """Re-read the batch from disk and show it; return how many takes' ranks differed."""
        self._seen = _stat_key(self._batch_dir)
        state = self._load()
        changed = rank_changes(self.takes, state["takes"])
        with self.hold_sync():
            for name, value in state.items():
                if getattr(self, name) != value:
                    setattr(self, name, value)
        return changed

    def _on_msg(self, _widget: object, content: object, _buffers: object) -> None:
        if isinstance(content, dict):
            self.handle(content)

    def handle(self, msg: Mapping[str, Any]) -> None:
        """Act on one message from the browser: rank, lock, refresh, audio or export.

        Refusals never raise: they set `error`, and the board reloads the true state from disk.
        A rank message with a `seq` is acknowledged with {kind: "ack", seq, ok}. The fields,
        replies and senders of every kind are in docs/widget-protocol.md.
        """
        kind = msg.get("kind")
        if kind == "rank":
            ok = self.rank(msg.get("file"), msg.get("rank"))
            if "seq" in msg:
                self.send({"kind": "ack", "seq": msg["seq"], "ok": ok})
        elif kind == "lock":
            self.lock()
        elif kind == "refresh":
            self.refresh()
        elif kind == "audio":
            self._send_audio(msg.get("file"))
        elif kind == "export":
            self._send_export(msg.get("rank", 1))
        else:
            self.error = f"unknown message kind {kind!r}"

    def rank(self, filename: object, rank: object) -> bool:
        """Give a take a rank (None clears) through ranking.set_rank; False if refused."""
        try:
            if not isinstance(filename, str):
                raise UnknownTake(str(filename))
            line = ranking.set_rank(self._batch_dir, filename, rank)
        except VoicelabError as exc:
            with contextlib.suppress(VoicelabError):
                self.reload()
            self.error = str(exc)
            return False
        by_file = {t["file"]: t for t in line}
        with self.hold_sync():
            self.takes = [
                {**t, "rank": new["rank"], "ranked_at": new["ranked_at"]}
                if (new := by_file.get(t["file"])) is not None
                else t
                for t in self.takes
            ]
            self.error = ""
        return True

    def lock(self) -> bool:
        """Lock the batch (ranking.lock); the board becomes read-only. False if refused."""
        try:
            ranking.lock(self._batch_dir)
        except VoicelabError as exc:
            self.error = str(exc)
            return False
        self.reload()
        with self.hold_sync():
            self.locked = True
            self.error = ""
            self.notice = "Batch locked: ranks can no longer change."
        return True

    def refresh(self) -> int:
        """Show changes another session made on disk; return how many takes changed rank.

        Cheap when nothing changed (one stat). When something did, the board reloads and says so.
        """
        if _stat_key(self._batch_dir) == self._seen:
            return 0
        was_locked = self.locked
        try:
            changed = self.reload()
        except VoicelabError as exc:
            self.error = str(exc)
            return 0
        parts = []
        if changed:
            parts.append(f"{changed} take{'s' if changed != 1 else ''} changed rank elsewhere")
        if self.locked and not was_locked:
            parts.append("the batch was locked elsewhere")
        if parts:
            self.notice = "Updated from disk: " + "; ".join(parts) + "."
        return changed

    def audio_bytes(self, filename: str) -> bytes:
        """The MP3 bytes of one take of this batch (for browsers that cannot fetch /audio/).

        Raises:
            UnknownTake: `filename` is not a take of this batch, or its file is missing.
        """
        if not any(t["file"] == filename for t in self.takes):
            raise UnknownTake(str(filename))
        try:
            return (self._batch_dir / store.TAKES_DIR / filename).read_bytes()
        except OSError as exc:
            raise UnknownTake(filename) from exc

    def export_zip(self, rank: object = 1) -> tuple[str, bytes, list[str]]:
        """The selects of a locked batch as a zip: (file name, bytes, lines missing a take).

        Raises:
            RankError: the batch is not locked yet (selects may still change).
            InvalidRank: `rank` is not 1-5.
        """
        if not store.is_locked(self._batch_dir):
            raise RankError("lock the batch before exporting its selects")
        with tempfile.TemporaryDirectory() as tmp:
            result = export.export_batch(self._batch_dir, Path(tmp), make_zip=True,
                                         rank=rank)  # type: ignore[arg-type]
            assert result.archive is not None
            return result.archive.name, result.archive.read_bytes(), result.missing

    def _send_export(self, rank: object) -> None:
        try:
            name, data, missing = self.export_zip(rank)
        except VoicelabError as exc:
            self.error = str(exc)
            self.send({"kind": "export", "error": str(exc)})
            return
        if missing:
            self.notice = f"Exported; {len(missing)} line(s) have no rank-1 take: " + ", ".join(
                missing[:10])
        self.send({"kind": "export", "name": name, "missing": missing}, buffers=[data])

    def _send_audio(self, filename: object) -> None:
        try:
            data = self.audio_bytes(str(filename))
        except UnknownTake as exc:
            self.send({"kind": "audio", "file": filename, "error": str(exc)})
            return
        self.send({"kind": "audio", "file": filename}, buffers=[data])
