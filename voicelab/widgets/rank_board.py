"""The ranking board: one batch's lines and takes, ranked by keys or drag-and-drop in a browser.

State lives in traitlets that only Python writes; the browser sends actions (rank, lock, unlock,
refresh, audio, export, undo, a line's note and more takes, and a lead's panel, override, close,
reopen) as messages, and every
rank change goes through `voicelab.panel` (on a solo batch exactly `voicelab.ranking`), on the
current state on disk, so nothing another session wrote is ever overwritten (DESIGN decision 1).
Who acts is asked anew at every action (`people.kernel_person`: the server's word, never the
browser's, DESIGN decision 11), and their role decides; the board's `person`, `role` and
`allowed` traits only let the browser hide what the role cannot do. What the traits hold depends
on who looks (`rank_state.board_view`, DESIGN decision 12): a rater of a blind panel sees only
their own ranks, of takes under opaque ids. A batch's lines change (DESIGN decision 13): the
board shows stale and removed takes for what they are, director notes (`voicelab.lines`), and
asks `voicelab.lines.more` for more takes of a line. docs/widget-protocol.md describes every
synced trait and every message, both directions.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import anywidget
import traitlets

from voicelab import lines, people, ranking, store
from voicelab import panel as panels
from voicelab.config import Settings, get_settings
from voicelab.errors import (
    LineError,
    LockGateRefused,
    PanelRefused,
    RankError,
    UnknownTake,
    VoicelabError,
)
from voicelab.widgets.rank_state import (  # PEAK_POINTS and pack_peaks: the board's API too
    PEAK_POINTS,
    SETTING_KEYS,
    BoardView,
    board_state,
    board_view,
    pack_peaks,
    rank_changes,
    rank_fields,
    take_changes,
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


EXPORT_FORMATS = ("wav",)
"""The formats "Export selects…" offers besides "as generated" (the takes' MP3)."""


def export_presets() -> list[dict[str, Any]]:
    """The delivery presets the board's export offers (`export_presets` trait): name, naming
    layout, default format and the formats the preset's tool imports."""
    from voicelab.delivery import naming

    return [{"name": name, "layout": layout.template, "format": layout.format,
             "formats": list(layout.formats)} for name, layout in naming.PRESET_LAYOUTS.items()]


LEAD_RANKS = ("you lead this panel: the board shows its consensus; set a line's final ranks "
              "in Disagreements")
"""Why rank keys in a lead's normal view change nothing (the JS says so without asking)."""
NOT_A_RATER = "{name} is not one of this panel's raters: only its raters rank here"
NOW_SHOWS = {
    "solo": "the batch's ranks, the same for everyone",
    "lead": "the panel's consensus, every rater's progress and the disagreements",
    "blind": "your own blind ranking (takes shuffled and labelled; settings hidden)",
    "rater": "your own ranking (other raters' ranks are hidden)",
}
"""What the board shows in each mode, for the notes that say it changed."""

PANEL_LINES = ("a panel's raters rank alone: notes and more takes wait until the panel "
               "ends (a lead can)")
"""Why `note` and `more` are not offered in blind and rater mode (a note may name a take)."""
MORE_LOCKED = "batch {batch_id} is locked: a lead unlocks first"

_T = TypeVar("_T")


class MoreJobs(Protocol):
    """What the board asks of `voicelab.lines.more` (a test passes its own). The request's
    fields are passed as the browser sent them: lines.more checks them."""

    def estimate_more(self, settings: Settings, metadata: store.Metadata, line: str, *,
                      takes: Any, like: Any, text: Any) -> dict[str, Any]:
        """What the request would spend (LineError: it cannot be planned)."""

    def submit_more(self, settings: Settings, batch_dir: Path, line: str, *, takes: Any,
                    like: Any, text: Any, person: str) -> str:
        """Queue the job; its task id (LineError, BatchLocked, JobConfigError)."""

    def pending_lines(self, root: Path, batch_id: str) -> dict[str, str]:
        """Lines with a "more" job queued or running: line -> task id."""


class LinesMore:
    """The real `voicelab.lines.more`, imported when first used (it brings the job queue)."""

    def estimate_more(self, settings: Settings, metadata: store.Metadata, line: str, *,
                      takes: Any, like: Any, text: Any) -> dict[str, Any]:
        """`lines.more.estimate_more` of the request, checked as a job config first
        (JobConfigError names each bad field), with the batch's pronunciations and, when its
        engine can run here, that engine's quota share."""
        from voicelab.engines import available_engines, get_engine
        from voicelab.lines import more

        job = more.parse_more({"kind": more.KIND, "batch_id": metadata["batch_id"], "line": line,
                               "takes": takes, "like": like, "text": text})
        name = metadata["generation_params"].get("engine") or settings.default_engine
        engine = get_engine(name, settings) if name in available_engines(settings) else None
        return more.estimate_more(metadata, job.line, takes=job.takes, like=job.like,
                                  text=job.text, engine=engine,
                                  dictionary=more.batch_dictionary(
                                      store.find_batch(settings.audio_root, metadata["batch_id"]),
                                      metadata, settings))

    def submit_more(self, settings: Settings, batch_dir: Path, line: str, *, takes: Any,
                    like: Any, text: Any, person: str) -> str:
        """`lines.more.submit_more`."""
        from voicelab.lines import more

        return more.submit_more(settings, batch_dir, line, takes=takes, like=like, text=text,
                                person=person)

    def pending_lines(self, root: Path, batch_id: str) -> dict[str, str]:
        """`lines.more.pending_lines`."""
        from voicelab.lines import more

        return more.pending_lines(root, batch_id)


class RankBoard(anywidget.AnyWidget):
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

    landed = 0
    """How many takes the last reload found that the board did not show (new takes landed)."""

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

    @property
    def batch_dir(self) -> Path:
        """The batch folder this board ranks."""
        return self._batch_dir

    def _people_root(self) -> Path:
        return self._root if self._root is not None else get_settings().audio_root

    def _load(self, person: people.Person) -> BoardView:
        return board_view(self._batch_dir, self._root, person, users_root=self._people_root())

    def who(self) -> people.Person:
        """The person this board acts for now, with their role read now (never cached).

        Raises:
            UsersFileError: the users file is broken (then nobody may change anything).
        """
        return people.kernel_person(self._people_root())

    def _person_now(self) -> people.Person:
        """`who()`, or a viewer named `unknown` when the users file cannot be read."""
        try:
            return self.who()
        except VoicelabError:
            return people.Person("unknown", "viewer")

    def _allowed(self, person: people.Person) -> list[str]:
        """What the board offers `person`: their role's actions, less ranking on an open
        panel they do not rate."""
        allowed = person.allowed()
        if self._view.mode in ("blind", "rater"):
            allowed = [action for action in allowed if action not in ("note", "more")]
        if self._view.mode in ("blind", "rater") and not self._view.rater:
            allowed = [action for action in allowed if action not in ("rank", "undo")]
        return allowed

    def _show(self, person: people.Person) -> None:
        with self.hold_sync():
            for name, value in (("person", person.name), ("role", person.role),
                                ("allowed", self._allowed(person))):
                if getattr(self, name) != value:
                    setattr(self, name, value)

    def show_person(self) -> people.Person:
        """Show who the board acts for (`person`, `role`, `allowed`) and return them; a users
        file that cannot be read shows a viewer named `unknown` (fail closed) and sets `error`."""
        try:
            person = self.who()
        except VoicelabError as exc:
            person = people.Person("unknown", "viewer")
            self.error = str(exc)
        self._show(person)
        return person

    def _permit(self, action: str) -> people.Person:
        """The person acting now, if their role allows `action`; shown on the board either way.

        Raises:
            Forbidden: their role does not allow it.
            UsersFileError: the users file is broken.
        """
        person = self.who()
        self._show(person)
        people.require(person, action)
        return person

    def _check_view(self, person: people.Person) -> BoardView:
        """The board's view, if it is still the one `person` sees of the batch now.

        Raises:
            RankError: it is not (a panel was opened or ended elsewhere, the role changed):
                the board has reloaded, showing what `person` sees now, and nothing changed.
        """
        view = self._view
        if _stat_key(self._batch_dir) == self._seen and view.viewer == (person.name, person.role):
            return view
        metadata = store.load_metadata(self._batch_dir, check_files=False)
        mode = panels.view_mode(metadata, locked=store.is_locked(self._batch_dir),
                                name=person.name, role=person.role)
        if mode == view.mode and person.name == view.viewer[0]:
            return view
        self.reload(person)
        raise RankError(f"this board now shows {NOW_SHOWS[mode]}: nothing was changed, "
                        "try again")

    def _file(self, key: object) -> str:
        """The take file behind a key the browser sent (in blind mode, an opaque id).

        Raises:
            UnknownTake: no take of this board has that key.
        """
        if not isinstance(key, str) or key not in self._view.files:
            raise UnknownTake(str(key))
        return self._view.files[key]

    def _refuse(self, exc: VoicelabError) -> None:
        """Say why an action was refused: `error` is cleared first, so the same refusal twice
        (a second `u` with nothing left to undo) shows again even after it was dismissed. On a
        rater's board the panel's other people are never named ("closed by someone")."""
        text = str(exc)
        for name in self._view.hidden_names:
            text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", "someone", text)
        self.error = ""
        self.error = text

    def _act(self, action: str, do: Callable[[people.Person, BoardView], _T]) -> _T | None:
        """Do one change for the person acting now, if their role allows `action` and the
        board shows what they see; None if refused (`error` says why). A refusal other than
        the role's reloads the board from disk, which may have changed meanwhile."""
        try:
            person = self._permit(action)
        except VoicelabError as exc:
            self._refuse(exc)
            return None
        try:
            return do(person, self._check_view(person))
        except VoicelabError as exc:
            with contextlib.suppress(VoicelabError):
                self.reload(person)
            self._refuse(exc)
            return None

    def _show_line(self, line: Sequence[Mapping[str, Any]]) -> None:
        """Show the rank fields of the takes of one line as voicelab.panel returned them, as
        the board's mode shows them (a rater's own ranks, or the seed's)."""
        view = self._view
        by_key = {view.keys[t["file"]]: t for t in line if t["file"] in view.keys}
        self.takes = [
            {**t, **rank_fields(new, view.mode, view.viewer[0])}
            if (new := by_key.get(t["file"])) is not None
            else t
            for t in self.takes
        ]

    def reload(self, person: people.Person | None = None) -> int:
        """Re-read the batch from disk and show it as `person` (default: whoever acts now)
        sees it; return how many takes' ranks differed (0 when the mode changed). How many
        takes are new is kept in `landed` (a job adding takes to a line)."""
        self._seen = _stat_key(self._batch_dir)
        view = self._load(person if person is not None else self._person_now())
        same = (view.mode, view.viewer[0]) == (self._view.mode, self._view.viewer[0])
        changed, self.landed = take_changes(self.takes, view.traits["takes"]) if same else (0, 0)
        self._view = view
        with self.hold_sync():
            for name, value in view.traits.items():
                if getattr(self, name) != value:
                    setattr(self, name, value)
        return changed

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
        more_estimate and more are answered by a message of their kind.
        The fields, replies and senders of every kind are in docs/widget-protocol.md.
        """
        kind = msg.get("kind")
        if kind == "rank":
            ok = self.rank(msg.get("file"), msg.get("rank"))
            if "seq" in msg:
                self.send({"kind": "ack", "seq": msg["seq"], "ok": ok})
        elif kind == "override":
            ok = self.override(msg.get("file"), msg.get("rank"))
            if "seq" in msg:
                self.send({"kind": "ack", "seq": msg["seq"], "ok": ok})
        elif kind == "undo":
            self.undo()
        elif kind == "lock":
            self.lock(msg.get("force") is True)
        elif kind == "unlock":
            self.unlock()
        elif kind == "refresh":
            self.refresh()
        elif kind == "audio":
            self._send_audio(msg.get("file"))
        elif kind == "export":
            self._send_export(msg)
        elif kind == "panel":
            self.open_panel(msg.get("raters"), msg.get("blind", True))
        elif kind == "close":
            self.close_line(msg.get("line"))
        elif kind == "reopen":
            self.reopen_line(msg.get("line"))
        elif kind == "note":
            self.write_note(msg.get("line"), msg.get("text"), msg.get("needs_pass", False))
        elif kind == "more_estimate":
            self._send_estimate(msg)
        elif kind == "more":
            self._send_more(msg)
        else:
            self.error = f"unknown message kind {kind!r}"

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

    def _decide(self, call: Any, notice: Any) -> bool:
        """A lead's decision on a panel line (`call(person)`): the board reloads (the
        consensus report changed) and says `notice(change)`. False if refused."""
        change = self._act("panel", lambda person, _view: call(person))
        if change is None:
            return False
        self.reload()
        with self.hold_sync():
            self.error = ""
            self.notice = notice(change)
        return True

    def override(self, filename: object, rank: object) -> bool:
        """A lead sets a take's final rank on its line (panel.override: cascading on the
        line's ranks as they stand; the line closes with an override, recorded). False if
        refused (not a lead, a solo or locked batch)."""
        return self._decide(lambda person: panels.override(
            self._batch_dir, self._file(filename), rank, person=person.name),
            lambda change: f"Final ranks set on line {change.line}: the line is closed.")

    def close_line(self, line: object) -> bool:
        """A lead closes a line (panel.close_line): its ranks are final, raters cannot change
        it. False if refused."""
        return self._decide(lambda person: panels.close_line(
            self._batch_dir, line, person=person.name),
            lambda _change: f"Line {line} closed: its ranks are final until a lead reopens it.")

    def reopen_line(self, line: object) -> bool:
        """A lead reopens a closed line (panel.reopen_line): any override is dropped, the
        consensus recomputed, and raters may change it again. False if refused."""
        return self._decide(lambda person: panels.reopen_line(
            self._batch_dir, line, person=person.name),
            lambda _change: f"Line {line} reopened: it holds the raters' consensus again.")

    def open_panel(self, raters: object, blind: object = True) -> bool:
        """A lead puts this batch in panel mode (panel.open_panel, in their name) with these
        raters, blind unless `blind` is False; the board then shows the panel. False if
        refused (not a lead, bad raters, a panel already, a locked batch)."""
        def do(person: people.Person, _view: BoardView) -> store.Metadata:
            if not isinstance(blind, bool):
                raise PanelRefused(f"blind is true or false, got {blind!r}")
            return panels.open_panel(self._batch_dir, raters, blind=blind, person=person.name)

        metadata = self._act("panel", do)
        if metadata is None:
            return False
        self.reload()
        names = ", ".join(metadata["panel"]["raters"])
        with self.hold_sync():
            self.error = ""
            self.notice = (f"Panel opened{' (blind)' if blind else ''}: {names} rank this "
                           "batch alone; their consensus holds the ranks.")
        return True

    def write_note(self, line: object, text: object, needs_pass: object = False) -> bool:
        """Write a line's director note and "needs another pass" flag in the acting person's
        name (lines.set_note: a designer or lead; allowed on a locked batch; an empty text and
        no flag removes it); the board shows it. False if refused."""
        def do(person: people.Person, view: BoardView) -> tuple[dict[str, Any] | None]:
            if view.mode in ("blind", "rater"):
                raise LineError(PANEL_LINES)
            if not isinstance(line, str):
                raise LineError(f"a note is on a line of this batch, not {line!r}")
            return (lines.set_note(self._batch_dir, line, text, needs_pass=needs_pass,
                                   person=person.name),)

        done = self._act("note", do)
        if done is None:
            return False
        self.reload()
        with self.hold_sync():
            self.error = ""
            self.notice = (f"Note saved on line {line}." if done[0]
                           else f"Note removed from line {line}.")
        return True

    def _more_settings(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

    def _more_check(self, person: people.Person, view: BoardView) -> store.Metadata:
        """The batch's metadata, if `person` may ask for more takes of it now.

        Raises:
            LineError: a panel's rater (blind or not) or a locked batch.
        """
        if view.mode in ("blind", "rater"):
            raise LineError(PANEL_LINES)
        metadata = store.load_metadata(self._batch_dir, check_files=False)
        if store.is_locked(self._batch_dir):
            raise LineError(MORE_LOCKED.format(batch_id=metadata["batch_id"]))
        return metadata

    def estimate_more(self, line: object, takes: object = 3, like: object = "auto",
                      text: object = None) -> dict[str, Any]:
        """What more takes of `line` would spend, before anything is spent (lines.more's
        estimate: characters, requests, takes, quota share or None). Changes nothing.

        Raises:
            Forbidden: the role may not ask for more takes. LineError: a panel's rater, a
                locked batch, or a request that cannot be planned (named).
        """
        person = self._permit("more")
        metadata = self._more_check(person, self._view)
        return self._more.estimate_more(self._more_settings(), metadata, str(line),
                                        takes=takes, like=like, text=text)

    def ask_more(self, line: object, takes: object = 3, like: object = "auto",
                 text: object = None) -> str | None:
        """Queue a job making more takes of `line` in this batch (lines.more.submit_more, in
        the acting person's name); the line shows as pending. Its task id, None if refused."""
        def do(person: people.Person, view: BoardView) -> str:
            self._more_check(person, view)
            return self._more.submit_more(self._more_settings(), self._batch_dir, str(line),
                                          takes=takes, like=like, text=text,
                                          person=person.name)

        task_id = self._act("more", do)
        if task_id is None:
            return None
        with self.hold_sync():
            self.pending = {**self.pending, str(line): task_id}
            self.error = ""
            self.notice = (f"Asked for {takes} more take{'' if takes == 1 else 's'} of {line} "
                           f"(job {task_id}).")
        return task_id

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

    def show_pending(self) -> dict[str, str]:
        """Show which lines have a "more" job queued or running (`pending`); unchanged when
        the job list cannot be read."""
        root = self._people_root()
        with contextlib.suppress(VoicelabError, OSError):
            pending = dict(self._more.pending_lines(root, self.batch_id))
            if pending != self.pending:
                self.pending = pending
        return dict(self.pending)

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

    def audio_bytes(self, filename: str) -> bytes:
        """The MP3 bytes of one take of this batch (for browsers that cannot fetch /audio/),
        by its key on the board (in blind mode, the opaque id: never the file name).

        Raises:
            UnknownTake: `filename` is not a take of this board, or its file is missing.
        """
        file = self._file(filename)
        try:
            return (self._batch_dir / store.TAKES_DIR / file).read_bytes()
        except OSError as exc:
            raise UnknownTake(str(filename)) from exc

    def export_zip(self, rank: object = 1, preset: object = "plain",
                   audio_format: object = None) -> tuple[str, bytes, list[str]]:
        """The takes ranked `rank` of a locked batch as a zip (voicelab.delivery.deliver): (file
        name, bytes, lines missing a take). `preset` (plain, wwise, unreal, fmod) names and lays
        out the files as that tool imports them; `audio_format` is None (as generated: MP3) or
        "wav".
        The plain preset as generated is the classic export (MP3 copies and a manifest).

        Raises:
            RankError: the batch is not locked yet (selects may still change).
            InvalidRank: `rank` is not 1-5.
            DeliveryError: an unknown preset or format, or one the preset's tool does not
                import (e.g. MP3 for Wwise).
        """
        from voicelab.delivery.deliver import deliver
        from voicelab.delivery.options import DeliveryError, DeliveryOptions

        if not store.is_locked(self._batch_dir):
            raise RankError("lock the batch before exporting its selects")
        if audio_format not in (None, *EXPORT_FORMATS):
            raise DeliveryError(f"format: {audio_format!r} is not one the board offers (as "
                                f"generated, {', '.join(EXPORT_FORMATS)})")
        if not isinstance(preset, str):
            raise DeliveryError(f"preset: {preset!r} is not a preset's name")
        fmt = audio_format if audio_format is not None or preset == "plain" else "mp3"
        options = DeliveryOptions(rank=rank, preset=preset, format=fmt,  # type: ignore[arg-type]
                                  make_zip=True)
        with tempfile.TemporaryDirectory() as tmp:
            result = deliver(self._batch_dir, Path(tmp), options)
            assert result.archive is not None
            return result.archive.name, result.archive.read_bytes(), result.missing

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
