"""The ranking board: one batch's lines and takes, ranked by keys or drag-and-drop in a browser.

State lives in traitlets that only Python writes; the browser sends actions (rank, lock, unlock,
refresh, audio, export, undo, a line's note and more takes, and a lead's panel, override, close,
reopen) as messages, each handed by the MESSAGES table to its handler, and every
rank change goes through `voicelab.panel` (on a solo batch exactly `voicelab.ranking`), on the
current state on disk, so nothing another session wrote is ever overwritten (docs/design.md,
decision 1). Who acts is asked anew at every action (`people.kernel_person`: the server's word,
never the browser's, docs/design.md, decision 11), and their role decides; the board's `person`,
`role` and `allowed` traits only let the browser hide what the role cannot do. What the traits hold
depends on who looks (`rank_state.board_view`, docs/design.md, decision 12): a rater of a blind
panel sees only their own ranks, of takes under opaque ids (`voicelab.panel.blind`). A batch's lines
change (docs/design.md, decision 13): the board shows stale and removed takes for what they are,
director notes (`voicelab.lines`), and asks `voicelab.lines.more` for more takes of a line.
docs/widget-protocol.md describes every synced trait and every message, both directions.

This module declares the widget, its traits and its messages (received and sent), with the
rank, undo, lock and refresh actions; `board_base` holds the plumbing every action uses, and
`board_panel` (a lead's panel decisions), `board_lines` (notes, more takes) and `board_export`
(audio bytes, the selects as a zip) the other actions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from voicelab import panel as panels
from voicelab import people, ranking
from voicelab.config import Settings
from voicelab.errors import LockGateRefused, RankError, VoicelabError
from voicelab.widgets.board_base import NOW_SHOWS, _stat_key
from voicelab.widgets.board_export import EXPORT_FORMATS, ExportActions, export_presets
from voicelab.widgets.board_lines import LineActions, LinesMore, MoreJobs
from voicelab.widgets.board_panel import PanelActions
from voicelab.widgets.rank_state import (  # PEAK_POINTS and pack_peaks: the board's API too
    PEAK_POINTS,
    SETTING_KEYS,
    BoardView,
    board_state,
    pack_peaks,
    rank_changes,
    take_record,
)

__all__ = ["EXPORT_FORMATS", "PEAK_POINTS", "SETTING_KEYS", "LinesMore", "MoreJobs",
           "RankBoard", "board_state", "export_presets", "pack_peaks", "rank_changes",
           "take_record"]

_HERE = Path(__file__).parent

LEAD_RANKS = ("you lead this panel: the board shows its consensus; set a line's final ranks "
              "in Disagreements")
"""Why rank keys in a lead's normal view change nothing (the JS says so without asking)."""
NOT_A_RATER = "{name} is not one of this panel's raters: only its raters rank here"


class RankBoard(PanelActions, LineActions, ExportActions, anywidget.AnyWidget):
    """Keyboard-first ranking board for one batch; every change goes through voicelab.panel
    (on a solo batch, exactly voicelab.ranking), in the name of the person looking."""

    _esm = _HERE / "rank_board.js"
    _css = _HERE / "rank_board.css"

    batch_id = traitlets.Unicode("").tag(sync=True)
    skin = traitlets.Unicode("").tag(sync=True)
    voice = traitlets.Unicode("").tag(sync=True)
    takes = traitlets.List(traitlets.Dict()).tag(sync=True)
    """One dict per take (rank_state.take_record): file, line, take_number, rank (1-5 or None),
    ranked_at, ranked_by (who gave the rank, or None), settings, duration_s, flags and gain_db
    (for loudness-matched playback); in blind mode (rank_state.blind_record) `file` is an
    opaque id, `take_number` the shuffled position, `label` A, B, C... and `settings` empty."""
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
    checks the role again at every action; this only hides what would be refused. On an open
    panel, someone who is not one of its raters lacks `rank` and `undo`."""
    mode = traitlets.Unicode("solo").tag(sync=True)
    """How the person looking sees the batch (rank_state.MODES): solo, lead, blind or rater."""
    panel = traitlets.Dict().tag(sync=True)
    """The panel's report (rank_state.panel_report) in lead mode only; `{}` in every other."""
    raters_offered = traitlets.List(traitlets.Unicode()).tag(sync=True)
    """The users "Rate as a panel" offers (designers and leads), only to someone who may open
    a panel, on an open solo batch; else empty."""
    notes = traitlets.Dict().tag(sync=True)
    """Director notes by line (rank_state.notes_view): {text, by, at, needs_pass}; `{}` in blind
    and rater mode."""
    pending = traitlets.Dict().tag(sync=True)
    """Lines with a "more takes" job queued or running: line -> task id (refreshed by refresh)."""
    export_presets = traitlets.List(traitlets.Dict()).tag(sync=True)
    """What "Export selects…" offers (export_presets()): one {name, layout, format, formats} per
    delivery preset (plain, wwise, unreal, fmod): its naming layout, the format it writes by
    default and the formats its tool imports."""
    lock_problems = traitlets.List(traitlets.Dict()).tag(sync=True)
    """What the lock dialog lists before a lead locks (rank_state.lock_problems, from
    ranking.lock_gate): {line, problems, take, words} per line whose selected take has a QC
    flag or is stale, or that has no selection; empty when clean, locked, or not a lead's."""

    def __init__(self, batch_dir: Path, root: Path | None = None, *,
                 more_jobs: MoreJobs | None = None, settings: Settings | None = None,
                 **kwargs: Any) -> None:
        """Load the board for `batch_dir`, as the person looking sees it; `root` is AUDIO_ROOT
        (for audio URLs and the users file). `more_jobs` estimates and queues more takes of a
        line (default: voicelab.lines.more), with `settings` (default: get_settings()).

        Raises:
            MetadataError: the batch's metadata.json is missing or invalid.
        """
        self._batch_dir = Path(batch_dir)
        self._root = Path(root) if root is not None else None
        self._more = more_jobs if more_jobs is not None else LinesMore()
        self._settings = settings
        self._seen = _stat_key(self._batch_dir)
        self._view = self._load(self._person_now())
        super().__init__(**{"export_presets": export_presets(), **self._view.traits, **kwargs})
        self.show_person()
        self.show_pending()
        self.on_msg(self._on_msg)

    def _on_msg(self, _widget: object, content: object, _buffers: object) -> None:
        if isinstance(content, dict):
            self.handle(content)

    def handle(self, msg: Mapping[str, Any]) -> None:
        """Act on one message from the browser: rank, undo, lock, unlock, refresh, audio,
        export, note, more_estimate, more, and a lead's panel, override, close and reopen.

        Each action asks who acts now and whether their role allows it. Refusals never raise:
        they set `error` (a role's refusal changes nothing), and after a refused change the
        board reloads the true state from disk.
        A rank or override message with a `seq` is acknowledged with {kind: "ack", seq, ok};
        more_estimate and more are answered by a message of their kind. MESSAGES maps each
        kind to its handler; the fields, replies and senders of every kind are in
        docs/widget-protocol.md.
        """
        kind = msg.get("kind")
        handler = MESSAGES.get(kind) if isinstance(kind, str) else None
        if handler is None:
            self.error = f"unknown message kind {kind!r}"
        else:
            handler(self, msg)

    def _ack(self, msg: Mapping[str, Any], ok: bool) -> None:
        """Acknowledge a rank or override message that carries a `seq`."""
        if "seq" in msg:
            self.send({"kind": "ack", "seq": msg["seq"], "ok": ok})

    def rank(self, filename: object, rank: object) -> bool:
        """Give a take a rank (None clears) in the acting person's name (a designer or lead)
        through panel.rate: on a solo batch the shared ranking (ranking.change_rank), on a
        panel their own; `filename` is the take's key on the board. False if refused."""
        def do(person: people.Person, view: BoardView) -> ranking.RankChange:
            if view.mode == "lead":
                raise RankError(LEAD_RANKS)
            if view.mode in ("blind", "rater") and not view.rater:
                raise RankError(NOT_A_RATER.format(name=person.name))
            return panels.rate(self._batch_dir, self._file(filename), rank, person=person.name)

        change = self._act("rank", do)
        if change is None:
            return False
        with self.hold_sync():
            self._show_line(change.takes)
            self.error = ""
        return True

    def undo(self) -> bool:
        """Undo the acting person's last change on this batch (panel.undo: their own ranking
        on a panel, a lead's override, else ranking.undo); the board shows the line as it is
        now. False if refused (nothing to undo, someone else changed the line since, a locked
        batch, a viewer)."""
        change = self._act("undo", lambda person, _view: panels.undo(
            self._batch_dir, person=person.name))
        if change is None:
            return False
        line = change.line or (change.takes[0]["line"] if change.takes else "")
        self.notice = ""  # two undos on one line: the same notice shows again
        if self.mode == "lead":
            self.reload()  # the consensus report changed too
        with self.hold_sync():
            self._show_line(change.takes)
            self.error = ""
            self.notice = f"Undid your last change on line {line}." if line else "Undone."
        return True

    def lock(self, force: bool = False) -> bool:
        """Lock the batch (ranking.lock, in the lead's name); the board becomes read-only, and
        on a panel batch the consensus is final. Behind the quality gate: unless `force` (the
        dialog's "Lock anyway", after it listed `lock_problems`), a line whose selected take
        has a QC flag or is stale, or has no selection, refuses the lock (LockGateRefused)
        and the board reloads to list them. False if refused."""
        try:
            person = self._permit("lock")
            ranking.lock(self._batch_dir, person=person.name, force=force)
        except VoicelabError as exc:
            if isinstance(exc, LockGateRefused):  # what the gate found shows in the dialog
                with contextlib.suppress(VoicelabError):
                    self.reload()
            self._refuse(exc)
            return False
        warned = len(self.lock_problems)
        self.reload(person)
        with self.hold_sync():
            self.locked = True
            self.error = ""
            self.notice = ("Batch locked: ranks can no longer change." if not (force and warned)
                           else f"Batch locked anyway, past {warned} line"
                                f"{'' if warned == 1 else 's'} to check (recorded): ranks can "
                                "no longer change.")
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
        self.reload(person)
        with self.hold_sync():
            self.locked = False
            self.error = ""
            self.notice = "Batch unlocked: ranks can change again."
        return True

    def refresh(self) -> int:
        """Show changes another session made on disk; return how many takes changed rank.

        Cheap when nothing changed (one stat). When something did, the board reloads and says so.
        Who the board acts for is shown anew too, so a role changed meanwhile shows at once, and
        the board shows what that person sees (a panel opened or ended elsewhere included), and
        which lines have more takes coming (`pending`).
        """
        person = self.show_person()
        self.show_pending()
        if (_stat_key(self._batch_dir) == self._seen
                and self._view.viewer == (person.name, person.role)):
            return 0
        was_locked, was_mode = self.locked, self.mode
        try:
            changed = self.reload(person)
        except VoicelabError as exc:
            self.error = str(exc)
            return 0
        self._show(person)  # what the board offers may depend on the new view
        parts = []
        if changed:
            parts.append(f"{changed} take{'s' if changed != 1 else ''} changed rank elsewhere")
        if self.landed:
            parts.append(f"{self.landed} new take{'s' if self.landed != 1 else ''}")
        if self.locked and not was_locked:
            parts.append("the batch was locked elsewhere")
        if was_locked and not self.locked:
            parts.append("the batch was unlocked elsewhere")
        if self.mode != was_mode:
            parts.append(f"the board shows {NOW_SHOWS[self.mode]}")
        if parts:
            self.notice = "Updated from disk: " + "; ".join(parts) + "."
        return changed

    def _send_estimate(self, msg: Mapping[str, Any]) -> None:
        asked = {key: msg.get(key) for key in ("line", "takes", "like", "text")}
        reply = {"kind": "more_estimate", "seq": msg.get("seq"), **asked}
        try:
            estimate = self.estimate_more(asked["line"], msg.get("takes", 3),
                                          msg.get("like", "auto"), asked["text"])
        except VoicelabError as exc:
            self.send({**reply, "error": str(exc)})
            return
        self.send({**reply, "estimate": estimate})

    def _send_more(self, msg: Mapping[str, Any]) -> None:
        task_id = self.ask_more(msg.get("line"), msg.get("takes", 3), msg.get("like", "auto"),
                                msg.get("text"))
        reply = {"kind": "more", "line": msg.get("line"), "takes": msg.get("takes")}
        if task_id is None:
            self.send({**reply, "ok": False, "error": self.error})
        else:
            self.send({**reply, "ok": True, "task_id": task_id})

    def _send_export(self, msg: Mapping[str, Any]) -> None:
        rank = msg.get("rank", 1)
        try:
            self._permit("export")
            name, data, missing = self.export_zip(rank, msg.get("preset", "plain"),
                                                  msg.get("format"))
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


Handler = Callable[[RankBoard, Mapping[str, Any]], object]
MESSAGES: dict[str, Handler] = {
    "rank": lambda board, msg: board._ack(msg, board.rank(msg.get("file"), msg.get("rank"))),
    "override": lambda board, msg: board._ack(msg, board.override(msg.get("file"),
                                                                  msg.get("rank"))),
    "undo": lambda board, msg: board.undo(),
    "lock": lambda board, msg: board.lock(msg.get("force") is True),
    "unlock": lambda board, msg: board.unlock(),
    "refresh": lambda board, msg: board.refresh(),
    "audio": lambda board, msg: board._send_audio(msg.get("file")),
    "export": lambda board, msg: board._send_export(msg),
    "panel": lambda board, msg: board.open_panel(msg.get("raters"), msg.get("blind", True)),
    "close": lambda board, msg: board.close_line(msg.get("line")),
    "reopen": lambda board, msg: board.reopen_line(msg.get("line")),
    "note": lambda board, msg: board.write_note(msg.get("line"), msg.get("text"),
                                                msg.get("needs_pass", False)),
    "more_estimate": lambda board, msg: board._send_estimate(msg),
    "more": lambda board, msg: board._send_more(msg),
}
"""Every message kind the browser sends -> its handler (docs/widget-protocol.md, Browser →
Python): each calls one public action (or a `_send_*` that answers), which checks the role and
sets `error` instead of raising."""
