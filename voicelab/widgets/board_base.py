"""What every action of the ranking board stands on: who acts, what they see, and refusing.

`BoardBase` holds the board's plumbing: the person acting, asked anew at every action
(`people.kernel_person`: the server's word, never the browser's, docs/design.md, decision 11) and
shown in `person`, `role` and `allowed`; the view they see (`rank_state.board_view`), checked before
each change and reloaded from disk after one; and refusals, which set `error` (on a rater's
board never naming the panel's other people). The actions are in `RankBoard` and its siblings
(`board_panel`, `board_lines`, `board_export`); the traits are declared on `RankBoard`.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anywidget

from voicelab import panel as panels
from voicelab import people, store
from voicelab.config import Settings, get_settings
from voicelab.errors import RankError, UnknownTake, VoicelabError
from voicelab.widgets.rank_state import BoardView, board_view, take_changes

NOW_SHOWS = {
    "solo": "the batch's ranks, the same for everyone",
    "lead": "the panel's consensus, every rater's progress and the disagreements",
    "blind": "your own blind ranking (takes shuffled and labelled; settings hidden)",
    "rater": "your own ranking (other raters' ranks are hidden)",
}
"""What the board shows in each mode, for the notes that say it changed."""

_T = TypeVar("_T")

if TYPE_CHECKING:  # typed as the widget it is mixed into; at run time RankBoard is the one widget
    _Widget = anywidget.AnyWidget
else:
    _Widget = object


def _stat_key(batch_dir: Path) -> tuple[int, int, int, bool]:
    """What changes whenever metadata.json is replaced or the batch is locked."""
    try:
        st = os.stat(batch_dir / store.METADATA_NAME)
    except FileNotFoundError:
        return (0, 0, 0, store.is_locked(batch_dir))
    return (st.st_mtime_ns, st.st_size, st.st_ino, store.is_locked(batch_dir))


class BoardBase(_Widget):
    """The ranking board's plumbing (see the module), mixed into `RankBoard`, the widget."""

    _batch_dir: Path
    _root: Path | None
    _settings: Settings | None
    _seen: tuple[int, int, int, bool]
    _view: BoardView
    takes: list[dict[str, Any]]  # RankBoard's synced traits that the plumbing writes
    error: str

    landed = 0
    """How many takes the last reload found that the board did not show (new takes landed)."""

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
        return panels.rater_actions(person.allowed(), self._view.mode, self._view.rater)

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
        self.error = ""
        self.error = panels.unnamed(str(exc), self._view.hidden_names)

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
            {**t, **panels.rank_fields(new, view.mode, view.viewer[0])}
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
