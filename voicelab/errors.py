"""VoiceLab's errors. Faces catch VoicelabError; every subclass says what was wrong.

VoicelabError
├── ConfigError(variable, value, hint)      a setting from the environment or a job config
├── ScriptError(source, problems)           a dialogue script, every problem with its row
├── PronunciationError(source, problems)    a pronunciation dictionary, each problem's row/line
├── MetadataError(path, reason)             a metadata.json that breaks schema v1
├── BatchNotFound(batch_id)
├── PeopleError
│   ├── UsersFileError(path, reason)    the users file is unreadable or breaks its format
│   ├── InvalidName(name)               a person's name VoiceLab does not accept
│   ├── UnknownPerson(name)
│   ├── NotSignedIn                     no session, token or service token
│   └── Forbidden(person, action)       the person's role does not allow the action
├── JobFailed                               a job's notebook stopped on an error
├── BrokerUnavailable                       the job queue cannot be reached
├── RankError
│   ├── BatchLocked(batch_id)
│   ├── UnknownTake(filename)
│   ├── InvalidRank(value)
│   ├── UndoRefused(reason)             nothing to undo, or the line changed since
│   ├── PanelRefused, NotARater, LineClosed   a rating panel's rules
│   ├── LineError                       no such line, a bad note
│   ├── TakeRetired(filename, why)      a stale or removed take cannot be ranked
│   └── LockGateRefused(batch_id, problems)  a lock the quality gate stops (flags, no selection)
└── EngineError                             a text-to-speech back end
    ├── AuthFailed                          invalid key: stops the whole job
    ├── QuotaExhausted                      out of characters: stops the whole job
    ├── TakeRejected                        the service refused this text or these settings
    └── TransientEngineError(retry_after)   worth retrying: busy, 5xx, timeouts, dropped links
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class VoicelabError(Exception):
    """Root of every error VoiceLab raises on purpose."""


class ConfigError(VoicelabError):
    """Raised when a setting has a value VoiceLab cannot use."""

    def __init__(self, variable: str, value: object, hint: str) -> None:
        self.variable, self.value, self.hint = variable, value, hint
        super().__init__(f"{variable}={value!r}: {hint}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as possible."""

    message: str
    row: int | None = None
    field: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        return f"{where}{self.message}"


class ScriptError(VoicelabError):
    """Raised when a dialogue script cannot be used; lists every problem found."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source, self.problems = source, problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class PronunciationError(VoicelabError):
    """Raised when a pronunciation dictionary (pronunciations.csv or a PLS lexicon) cannot be
    used; lists every problem found. Each Problem's `row` is the CSV row (header = row 1) or,
    with `where="line"`, the PLS file's line; `field` and `value` name what is wrong."""

    def __init__(self, source: str, problems: list[Problem], where: str = "row") -> None:
        self.source, self.problems, self.where = source, problems, where
        lines = "\n".join(f"  - {self.describe(p)}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")

    def describe(self, problem: Problem) -> str:
        """One problem as text, located by row or line."""
        if problem.row is None:
            return problem.message
        return f"{self.where} {problem.row}: {problem.message}"


class JobConfigError(VoicelabError):
    """Raised when a generation config is invalid; lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        if len(problems) == 1:
            super().__init__(f"invalid generation config: {problems[0]}")
        else:
            lines = "\n".join(f"  - {p}" for p in problems)
            super().__init__(f"invalid generation config: {len(problems)} problems\n{lines}")


class MetadataError(VoicelabError):
    """Raised when a batch's metadata.json is missing or breaks schema v1."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


class BatchNotFound(VoicelabError):
    """Raised when no batch under the root has the asked id."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id
        super().__init__(f"no batch with id {batch_id!r}")


class PeopleError(VoicelabError):
    """Raised when who someone is, or what they may do, is in question."""


class UsersFileError(PeopleError):
    """Raised when the users file cannot be read or breaks its format: sign-in then fails
    closed, never open."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path, self.reason = Path(path), reason
        super().__init__(f"{path}: {reason}")


class InvalidName(PeopleError):
    """Raised when a person's name is not 1-32 of a-z, 0-9, '.', '_' or '-', starting with a
    letter or digit (names go into history lines, file names and URLs)."""

    def __init__(self, name: object, reason: str = "") -> None:
        self.name = name
        hint = reason or ("use 1-32 lower-case letters, digits, '.', '_' or '-', starting with "
                          "a letter or digit")
        super().__init__(f"invalid name {name!r}: {hint}")


class UnknownPerson(PeopleError):
    """Raised when no user has the given name."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no user named {name!r} (see: voicelab users list)")


class NotSignedIn(PeopleError):
    """Raised when a request carries no valid session, personal token or service token."""

    def __init__(self) -> None:
        super().__init__("sign in first: send 'Authorization: Bearer <personal token>' "
                         "or sign in at /login")


class Forbidden(PeopleError):
    """Raised when a person's role does not allow what they asked."""

    def __init__(self, person: str, role: str, action: str, needs: str) -> None:
        self.person, self.role, self.action, self.needs = person, role, action, needs
        super().__init__(f"{person} is a {role}: only a {needs} may {action}")


class JobFailed(VoicelabError):
    """Raised when a job's notebook stops on an error; names the error and the report."""


class BrokerUnavailable(VoicelabError):
    """Raised when a job cannot be queued because the broker cannot be reached."""


class RankError(VoicelabError):
    """Raised when a rank change is refused."""


class BatchLocked(RankError):
    """Raised when a locked batch is asked to change."""

    def __init__(self, batch_id: str) -> None:
        self.batch_id = batch_id
        super().__init__(f"batch {batch_id!r} is locked: ranks can no longer change")


class UnknownTake(RankError):
    """Raised when a take file is not part of the batch."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        super().__init__(f"no take named {filename!r} in this batch")


class InvalidRank(RankError):
    """Raised when a rank is not an integer 1-5 or null."""

    def __init__(self, value: object) -> None:
        self.value = value
        super().__init__(f"rank must be an integer from 1 to 5 or null, not {value!r}")


class UndoRefused(RankError):
    """Raised when an undo cannot be done: nothing left to undo, or someone else changed the
    line since (the message names who and when)."""


class PanelRefused(RankError):
    """Raised when a panel cannot be opened as asked (no raters, a bad or repeated name)."""


class NotARater(RankError):
    """Raised when someone who is not a rater of a batch's panel tries to rank it."""

    def __init__(self, person: str, raters: list[str]) -> None:
        self.person = person
        super().__init__(
            f"this batch is ranked by a panel ({', '.join(raters)}) and {person!r} is not one of "
            "its raters: a lead sets a line's final ranks with an override")


class LineClosed(RankError):
    """Raised when a rater changes a line the lead has closed (its final ranks are set)."""

    def __init__(self, line: str, by: str) -> None:
        self.line = line
        super().__init__(f"line {line!r} was closed by {by}: its final ranks are set "
                         "(a lead can reopen it)")


class LineError(RankError):
    """Raised when a change to a batch's line is refused: no such line, a bad note."""


class TakeRetired(RankError):
    """Raised when someone ranks a take that is stale or removed (docs/design.md, decision 13)."""

    def __init__(self, filename: str, why: str) -> None:
        self.filename = filename
        super().__init__(f"take {filename} is {why}: it can no longer be ranked")


class LockGateRefused(RankError):
    """Raised when a lock is asked without force and the quality gate found lines to check:
    a selected take with a QC flag or stale, or no selection at all. `problems` lists them
    (`voicelab.ranking.GateProblem`: line, problems, take); nothing was changed."""

    SHOWN = 5
    """How many lines the message names (all of them are in `problems`)."""

    def __init__(self, batch_id: str, problems: Sequence[Any]) -> None:
        self.batch_id, self.problems = batch_id, list(problems)
        named = "; ".join(f"{p.line} ({p.describe()})" for p in self.problems[: self.SHOWN])
        more = len(self.problems) - self.SHOWN
        rest = f"; and {more} more" if more > 0 else ""
        super().__init__(f"batch {batch_id!r} was not locked: {len(self.problems)} line(s) to "
                         f"check first: {named}{rest}. Lock anyway (force) to accept them")


class EngineError(VoicelabError):
    """Raised when a text-to-speech back end fails."""


class AuthFailed(EngineError):
    """Raised when the service refuses the API key; no take can succeed."""


class QuotaExhausted(EngineError):
    """Raised when the account has no characters left; no take can succeed."""


class TakeRejected(EngineError):
    """Raised when the service refuses one request for good (bad text, voice or settings)."""


class TransientEngineError(EngineError):
    """Raised when a request failed in a way that a later retry may fix."""

    def __init__(self, message: str, retry_after: float | None = None,
                 concurrency: bool = False) -> None:
        self.retry_after, self.concurrency = retry_after, concurrency
        super().__init__(message)
