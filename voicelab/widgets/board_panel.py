"""A lead's actions on a panel batch, on the ranking board: open a panel, and decide a line
(override its ranks, close it, reopen it), each through `voicelab.panel` in the lead's name."""

from __future__ import annotations

from typing import Any

from voicelab import panel as panels
from voicelab import people, store
from voicelab.errors import PanelRefused
from voicelab.widgets.board_base import BoardBase
from voicelab.widgets.rank_state import BoardView


class PanelActions(BoardBase):
    """The panel actions of `RankBoard` (see the module)."""

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
