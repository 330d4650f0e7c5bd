"""A batch's lines on the ranking board: a line's director note, and more takes of a line
(estimated, then queued as a job through `voicelab.lines.more`; the line shows as pending)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Protocol

from voicelab import lines, people, store
from voicelab.config import Settings, get_settings
from voicelab.errors import LineError, VoicelabError
from voicelab.widgets.board_base import BoardBase
from voicelab.widgets.rank_state import BoardView

PANEL_LINES = ("a panel's raters rank alone: notes and more takes wait until the panel "
               "ends (a lead can)")
"""Why `note` and `more` are not offered in blind and rater mode (a note may name a take)."""
MORE_LOCKED = "batch {batch_id} is locked: a lead unlocks first"


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
        """A `voicelab.jobs.kinds.More` job, queued."""
        from voicelab import jobs
        from voicelab.jobs.kinds import More

        return jobs.submit(settings, More.request(settings, batch_dir, line, takes=takes,
                                                  like=like, text=text, person=person))

    def pending_lines(self, root: Path, batch_id: str) -> dict[str, str]:
        """`voicelab.jobs.kinds.more.pending_lines`."""
        from voicelab.jobs.kinds.more import pending_lines

        return pending_lines(root, batch_id)


class LineActions(BoardBase):
    """The line actions of `RankBoard` (see the module)."""

    _more: MoreJobs
    pending: dict[str, str]  # a synced trait of RankBoard

    def _more_settings(self) -> Settings:
        return self._settings if self._settings is not None else get_settings()

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

    def show_pending(self) -> dict[str, str]:
        """Show which lines have a "more" job queued or running (`pending`); unchanged when
        the job list cannot be read."""
        root = self._people_root()
        with contextlib.suppress(VoicelabError, OSError):
            pending = dict(self._more.pending_lines(root, self.batch_id))
            if pending != self.pending:
                self.pending = pending
        return dict(self.pending)
