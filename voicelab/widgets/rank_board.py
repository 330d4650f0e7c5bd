"""The ranking board: one batch's lines and takes, ranked by keys or drag-and-drop in a browser.

State lives in traitlets that only Python writes; the browser sends actions (rank, lock, unlock,
refresh, audio, export, undo) as messages, and every rank change goes through
`voicelab.ranking`, on the current state on disk, so nothing another session wrote is ever
overwritten (DESIGN decision 1). Who acts is asked anew at every action (`people.kernel_person`:
the server's word, never the browser's, DESIGN decision 11), and their role decides; the board's
`person`, `role` and `allowed` traits only let the browser hide what the role cannot do.
docs/widget-protocol.md describes every synced trait and every message, both directions.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from voicelab import export, people, ranking, store
from voicelab.config import get_settings
from voicelab.errors import RankError, UnknownTake, VoicelabError
from voicelab.widgets.rank_state import (  # PEAK_POINTS and pack_peaks: the board's API too
    PEAK_POINTS,
    SETTING_KEYS,
    board_state,
    pack_peaks,
    rank_changes,
    take_record,
)

__all__ = ["PEAK_POINTS", "SETTING_KEYS", "RankBoard", "board_state", "pack_peaks",
           "rank_changes", "take_record"]

_HERE = Path(__file__).parent


def _stat_key(batch_dir: Path) -> tuple[int, int, int, bool]:
    """What changes whenever metadata.json is replaced or the batch is locked."""
    try:
        st = os.stat(batch_dir / store.METADATA_NAME)
    except FileNotFoundError:
        return (0, 0, 0, store.is_locked(batch_dir))
    return (st.st_mtime_ns, st.st_size, st.st_ino, store.is_locked(batch_dir))


RANK_FIELDS = ("rank", "ranked_at", "ranked_by")
"""What a rank change (or its undo) changes on a take record."""


class RankBoard(anywidget.AnyWidget):
    """Keyboard-first ranking board for one batch; every change goes through voicelab.ranking."""

    _esm = _HERE / "rank_board.js"
    _css = _HERE / "rank_board.css"

    batch_id = traitlets.Unicode("").tag(sync=True)
    skin = traitlets.Unicode("").tag(sync=True)
    voice = traitlets.Unicode("").tag(sync=True)
    takes = traitlets.List(traitlets.Dict()).tag(sync=True)
    """One dict per take, in metadata order: file, line, take_number, rank (1-5 or None),
    ranked_at, ranked_by (who gave the rank, or None), settings, duration_s, flags and gain_db
    (for loudness-matched playback)."""
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
    person = traitlets.Unicode("").tag(sync=True)
    """The name of the person this board acts for (people.kernel_person), e.g. `alice`."""
    role = traitlets.Unicode("").tag(sync=True)
    """Their role now: viewer, designer or lead."""
    allowed = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """The actions their role allows (people.ACTIONS order): what the board offers. Python
    checks the role again at every action; this only hides what would be refused."""

    def __init__(self, batch_dir: Path, root: Path | None = None, **kwargs: Any) -> None:
        """Load the board for `batch_dir`; `root` is AUDIO_ROOT (for audio URLs).

        Raises:
            MetadataError: the batch's metadata.json is missing or invalid.
        """
        self._batch_dir = Path(batch_dir)
        self._root = Path(root) if root is not None else None
        self._seen = _stat_key(self._batch_dir)
        super().__init__(**{**self._load(), **kwargs})
        self.show_person()
        self.on_msg(self._on_msg)

    @property
    def batch_dir(self) -> Path:
        """The batch folder this board ranks."""
        return self._batch_dir

    def _load(self) -> dict[str, Any]:
        return board_state(self._batch_dir, self._root)

    def who(self) -> people.Person:
        """The person this board acts for now, with their role read now (never cached).

        Raises:
            UsersFileError: the users file is broken (then nobody may change anything).
        """
        root = self._root if self._root is not None else get_settings().audio_root
        return people.kernel_person(root)

    def show_person(self) -> people.Person:
        """Show who the board acts for (`person`, `role`, `allowed`) and return them; a users
        file that cannot be read shows a viewer named `unknown` (fail closed) and sets `error`."""
        try:
            person = self.who()
        except VoicelabError as exc:
            person = people.Person("unknown", "viewer")
            self.error = str(exc)
        with self.hold_sync():
            for name, value in (("person", person.name), ("role", person.role),
                                ("allowed", person.allowed())):
                if getattr(self, name) != value:
                    setattr(self, name, value)
        return person

    def _permit(self, action: str) -> people.Person:
        """The person acting now, if their role allows `action`; shown on the board either way.

        Raises:
            Forbidden: their role does not allow it.
            UsersFileError: the users file is broken.
        """
        person = self.who()
        with self.hold_sync():
            self.person, self.role, self.allowed = person.name, person.role, person.allowed()
        people.require(person, action)
        return person

    def _refuse(self, exc: VoicelabError) -> None:
        """Say why an action was refused: `error` is cleared first, so the same refusal twice
        (a second `u` with nothing left to undo) shows again even after it was dismissed."""
        self.error = ""
        self.error = str(exc)

    def _show_line(self, line: Sequence[Mapping[str, Any]]) -> None:
        """Show the rank fields of the takes of one line as ranking returned them."""
        by_file = {t["file"]: t for t in line}
        self.takes = [
            {**t, **{k: new.get(k) for k in RANK_FIELDS}}
            if (new := by_file.get(t["file"])) is not None
            else t
            for t in self.takes
        ]

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
        """Act on one message from the browser: rank, undo, lock, unlock, refresh, audio or
        export.

        Each action asks who acts now and whether their role allows it. Refusals never raise:
        they set `error` (a role's refusal changes nothing), and after a refused rank or undo the
        board reloads the true state from disk.
        A rank message with a `seq` is acknowledged with {kind: "ack", seq, ok}. The fields,
        replies and senders of every kind are in docs/widget-protocol.md.
        """
        kind = msg.get("kind")
        if kind == "rank":
            ok = self.rank(msg.get("file"), msg.get("rank"))
            if "seq" in msg:
                self.send({"kind": "ack", "seq": msg["seq"], "ok": ok})
        elif kind == "undo":
            self.undo()
        elif kind == "lock":
            self.lock()
        elif kind == "unlock":
            self.unlock()
        elif kind == "refresh":
            self.refresh()
        elif kind == "audio":
            self._send_audio(msg.get("file"))
        elif kind == "export":
            self._send_export(msg.get("rank", 1))
        else:
            self.error = f"unknown message kind {kind!r}"

    def rank(self, filename: object, rank: object) -> bool:
        """Give a take a rank (None clears) through ranking.set_rank, in the name of the person
        acting (a designer or lead); False if refused."""
        try:
            person = self._permit("rank")
        except VoicelabError as exc:
            self._refuse(exc)
            return False
        try:
            if not isinstance(filename, str):
                raise UnknownTake(str(filename))
            line = ranking.set_rank(self._batch_dir, filename, rank, person=person.name)
        except VoicelabError as exc:
            with contextlib.suppress(VoicelabError):
                self.reload()
            self._refuse(exc)
            return False
        with self.hold_sync():
            self._show_line(line)
            self.error = ""
        return True

    def undo(self) -> bool:
        """Undo the acting person's last change on this batch (ranking.undo restores the line's
        ranks and links); the board shows the line as it is now. False if refused (nothing to
        undo, someone else changed the line since, a locked batch, a viewer)."""
        try:
            person = self._permit("undo")
        except VoicelabError as exc:
            self._refuse(exc)
            return False
        try:
            change = ranking.undo(self._batch_dir, person=person.name)
        except VoicelabError as exc:
            with contextlib.suppress(VoicelabError):
                self.reload()
            self._refuse(exc)
            return False
        line = change.line or (change.takes[0]["line"] if change.takes else "")
        self.notice = ""  # two undos on one line: the same notice shows again
        with self.hold_sync():
            self._show_line(change.takes)
            self.error = ""
            self.notice = f"Undid your last change on line {line}." if line else "Undone."
        return True

    def lock(self) -> bool:
        """Lock the batch (ranking.lock, in the lead's name); the board becomes read-only.
        False if refused."""
        try:
            person = self._permit("lock")
            ranking.lock(self._batch_dir, person=person.name)
        except VoicelabError as exc:
            self._refuse(exc)
            return False
        self.reload()
        with self.hold_sync():
            self.locked = True
            self.error = ""
            self.notice = "Batch locked: ranks can no longer change."
        return True

    def unlock(self) -> bool:
        """Open a locked batch again (ranking.unlock, recorded in the lead's name); ranks may
        change again. False if refused (only a lead may unlock)."""
        try:
            person = self._permit("unlock")
            ranking.unlock(self._batch_dir, person=person.name)
        except VoicelabError as exc:
            self._refuse(exc)
            return False
        self.reload()
        with self.hold_sync():
            self.locked = False
            self.error = ""
            self.notice = "Batch unlocked: ranks can change again."
        return True

    def refresh(self) -> int:
        """Show changes another session made on disk; return how many takes changed rank.

        Cheap when nothing changed (one stat). When something did, the board reloads and says so.
        Who the board acts for is shown anew too, so a role changed meanwhile shows at once.
        """
        self.show_person()
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
        if was_locked and not self.locked:
            parts.append("the batch was unlocked elsewhere")
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
            self._permit("export")
            name, data, missing = self.export_zip(rank)
        except VoicelabError as exc:
            self._refuse(exc)
            self.send({"kind": "export", "error": str(exc)})
            return
        if missing:
            self.notice = f"Exported; {len(missing)} line(s) have no rank-1 take: " + ", ".join(
                missing[:10])
        self.send({"kind": "export", "name": name, "missing": missing}, buffers=[data])

    def _send_audio(self, filename: object) -> None:
        try:
            self._permit("listen")
            data = self.audio_bytes(str(filename))
        except VoicelabError as exc:
            self.send({"kind": "audio", "file": filename, "error": str(exc)})
            return
        self.send({"kind": "audio", "file": filename}, buffers=[data])
