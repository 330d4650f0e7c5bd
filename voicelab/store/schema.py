"""Schema v1 of metadata.json (docs/design.md, schema v1), as one table of fields.

Each field says which exact types it takes (so `True` is not a rank), what else its value must
satisfy, and the words an error uses. The table drives both checks: the fast one that every
load runs over whole columns at C speed, and the explaining one that names the first bad take
when the fast one says no. A new field is one new row. Unknown fields are kept, never refused.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from voicelab.clock import is_iso_time
from voicelab.errors import MetadataError
from voicelab.store.layout import RANKS

Metadata = dict[str, Any]
NoneType = type(None)
_RANK_VALUES = frozenset({None, *RANKS})


def _always(_value: Any) -> bool:
    return True


def _is_mp3_name(name: str) -> bool:
    return name.endswith(".mp3") and not name.startswith(".") and not any(
        c in name for c in "/\\\0\n")


def _are_mp3_names(names: Sequence[str]) -> bool:
    joined = "\n".join(names)
    framed = f"\n{joined}\n"
    # With no newline in any name, one joined string answers for every name.
    return (joined.count("\n") == len(names) - 1 and "/" not in joined and "\\" not in joined
            and "\0" not in joined and "\n." not in framed
            and framed.count(".mp3\n") == len(names))


def _iso_or_none(value: Any) -> bool:
    return value is None or is_iso_time(value)


def _ranks_by_ok(value: dict[Any, Any]) -> bool:
    return all(isinstance(name, str) and name and type(rank) is int and rank in RANKS
               for name, rank in value.items())


def _ranks_by_column(values: Sequence[dict[Any, Any]]) -> bool:
    names = [name for value in values for name in value]
    ranks = [rank for value in values for rank in value.values()]
    return (set(map(type, names)) <= {str} and "" not in names
            and set(map(type, ranks)) <= {int} and set(ranks) <= set(RANKS))


def _panel_ok(value: dict[Any, Any] | None) -> bool:
    if value is None:
        return True
    raters = value.get("raters")
    return (isinstance(raters, list) and bool(raters)
            and all(isinstance(name, str) and name for name in raters)
            and len(set(raters)) == len(raters) and isinstance(value.get("blind"), bool)
            and isinstance(value.get("lines", {}), dict))


def _iso_column(values: Sequence[Any]) -> bool:
    try:
        list(map(datetime.fromisoformat, filter(None, values)))
    except ValueError:
        return False
    return "" not in values


@dataclass(frozen=True)
class Field:
    """One field of schema v1: its name, exact types, rule, and how an error describes it.

    `column_ok` is `value_ok` over a whole column, written for speed; both must accept the
    same values (tests/unit/test_store.py checks the two paths agree). `type_words` describes
    the types when they are what is wrong (default: `must_be`).
    """

    name: str
    types: frozenset[type]
    must_be: str
    value_ok: Callable[[Any], bool] = _always
    column_ok: Callable[[Sequence[Any]], bool] | None = None
    required: bool = True
    type_words: str | None = None

    def problem(self, record: Any) -> str | None:
        """What is wrong with this field of `record` (a dict), or None."""
        if self.name not in record:
            return f"missing field {self.name!r}" if self.required else None
        value = record[self.name]
        if type(value) not in self.types:
            return f"field {self.name!r} must be {self.type_words or self.must_be}, " \
                   f"got {short_repr(value)}"
        if not self.value_ok(value):
            return f"field {self.name!r} must be {self.must_be}, got {short_repr(value)}"
        return None

    def column_valid(self, column: Sequence[Any]) -> bool:
        """Whether every value of a column of this field is valid."""
        if not set(map(type, column)) <= self.types:
            return False
        if self.column_ok is not None:
            return self.column_ok(column)
        return self.value_ok is _always or all(map(self.value_ok, column))


def _kinds(*kinds: type) -> frozenset[type]:
    return frozenset(kinds)


TOP_FIELDS: tuple[Field, ...] = (
    Field("batch_id", _kinds(str), "a string"),
    Field("skin_name", _kinds(str), "a string"),
    Field("voice_name", _kinds(str), "a string"),
    Field("generation_params", _kinds(dict), "an object"),
    Field("takes", _kinds(list), "a list"),
    Field("generated_at_utc", _kinds(str, NoneType), "an ISO-8601 time or null", _iso_or_none),
    Field("ranked_at_utc", _kinds(str, NoneType), "an ISO-8601 time or null", _iso_or_none),
    Field("revision", _kinds(int), "an integer >= 0", lambda n: n >= 0, required=False),
    Field("panel", _kinds(dict, NoneType),
          "null or an object with raters (distinct names), blind (true/false) and lines",
          _panel_ok, required=False),
    Field("notes", _kinds(dict), "an object of line -> note", required=False),
)

TAKE_FIELDS: tuple[Field, ...] = (
    Field("file", _kinds(str), "a bare name ending in .mp3", _is_mp3_name, _are_mp3_names,
          type_words="a string"),
    Field("line", _kinds(str), "a string"),
    Field("script_text", _kinds(str), "a string"),
    Field("generation_settings", _kinds(dict), "an object"),
    Field("take_number", _kinds(int), "an integer >= 1", lambda n: n >= 1,
          lambda column: min(column) >= 1),
    Field("rank", _kinds(int, NoneType), "an integer 1-5 or null", _RANK_VALUES.__contains__,
          lambda column: set(column) <= _RANK_VALUES),
    Field("ranked_at", _kinds(str, NoneType), "an ISO-8601 time or null", _iso_or_none,
          _iso_column),
    Field("ranked_by", _kinds(str, NoneType), "a name (string) or null", required=False),
    Field("ranks_by", _kinds(dict), "an object of rater name -> rank 1-5", _ranks_by_ok,
          _ranks_by_column, required=False),
    Field("stale", _kinds(dict, NoneType), "null or an object with text_was and since",
          lambda v: v is None or ("text_was" in v and "since" in v), required=False),
    Field("removed", _kinds(dict, NoneType), "null or an object with since",
          lambda v: v is None or "since" in v, required=False),
    Field("category", _kinds(str, NoneType), "the script's Category (string) or null",
          required=False),
)

_REQUIRED_TAKE_FIELDS = tuple(field for field in TAKE_FIELDS if field.required)
_OPTIONAL_TAKE_FIELDS = tuple(field for field in TAKE_FIELDS if not field.required)
_TAKE_COLUMNS = operator.itemgetter(*(field.name for field in _REQUIRED_TAKE_FIELDS))
_ABSENT = object()
_FILE = operator.itemgetter("file")
_LINE_RANK = operator.itemgetter("line", "rank")
_HAS_RANK = operator.itemgetter(1)
_RANK = operator.itemgetter("rank")
_RANK_FIELD = next(field for field in TAKE_FIELDS if field.name == "rank")


def short_repr(value: object) -> str:
    """`repr(value)` cut to 60 characters, for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def takes_ok(takes: list[Any]) -> bool:
    """Fast path: whether every take is valid, checked column by column at C speed.

    Every rank change loads (and so validates) the whole batch; on a 2,000-take batch a
    per-take Python loop cost more than the JSON parse. False only means "look closer":
    `take_problem` then finds and names the problem. Required fields are read with one
    itemgetter per take; an optional field's column holds only the takes that have it.
    """
    try:
        rows = list(map(_TAKE_COLUMNS, takes))
    except (KeyError, TypeError):  # a missing field, a take that is not an object
        return False
    if not rows:
        return True
    columns = list(zip(*rows, strict=True))
    if not all(field.column_valid(column) for field, column in
               zip(_REQUIRED_TAKE_FIELDS, columns, strict=True)):
        return False
    for field in _OPTIONAL_TAKE_FIELDS:
        present = [value for take in takes
                   if (value := take.get(field.name, _ABSENT)) is not _ABSENT]
        if present and not field.column_valid(present):
            return False
    held = list(filter(_HAS_RANK, map(_LINE_RANK, takes)))
    if not (len(set(columns[0])) == len(rows) and len(set(held)) == len(held)):
        return False
    rater_held = [(take["line"], name, rank) for take in takes
                  for name, rank in (take.get("ranks_by") or {}).items()]
    return len(set(rater_held)) == len(rater_held)


def take_problem(take: object) -> str | None:
    """What is wrong with one take on its own (not against the others), or None."""
    if not isinstance(take, dict):
        return f"must be an object, got {short_repr(take)}"
    return next(filter(None, (field.problem(take) for field in TAKE_FIELDS)), None)


def raise_take_problem(takes: list[Any], path: Path | str) -> None:
    """Find the first bad take (alone or against the others) and raise a MetadataError naming
    it; return quietly when every take is valid."""
    files: set[str] = set()
    holders: dict[tuple[str, int], str] = {}
    rater_holders: dict[tuple[str, str, int], str] = {}
    for index, take in enumerate(takes):
        if (problem := take_problem(take)) is not None:
            name = take.get("file") if isinstance(take, dict) else None
            where = f"takes[{index}]" + (f" ({name})" if isinstance(name, str) else "")
            raise MetadataError(path, f"{where}: {problem}")
        name = _FILE(take)
        if name in files:
            raise MetadataError(path, f"takes[{index}]: file {name!r} is listed twice")
        files.add(name)
        if take["rank"] is not None:
            key = _LINE_RANK(take)
            if key in holders:
                raise MetadataError(
                    path,
                    f"takes[{index}] ({name}): rank {take['rank']} of line {take['line']!r} "
                    f"is also held by {holders[key]!r}",
                )
            holders[key] = name
        for rater, rank in (take.get("ranks_by") or {}).items():
            if (take["line"], rater, rank) in rater_holders:
                raise MetadataError(
                    path,
                    f"takes[{index}] ({name}): {rater}'s rank {rank} of line {take['line']!r} "
                    f"is also held by {rater_holders[take['line'], rater, rank]!r}",
                )
            rater_holders[take["line"], rater, rank] = name


def validate_top(data: object, path: Path | str) -> Metadata:
    """Check the top-level fields only (not the takes); return `data`.

    Raises:
        MetadataError: naming `path` and the first bad field.
    """
    if not isinstance(data, dict):
        raise MetadataError(path, f"top level must be a JSON object, got {type(data).__name__}")
    for field in TOP_FIELDS:
        if (problem := field.problem(data)) is not None:
            raise MetadataError(path, problem)
    return data


def validate_metadata(data: object, path: Path | str) -> Metadata:
    """Check `data` against schema v1 and return it unchanged (unknown fields are kept).

    Raises:
        MetadataError: naming `path` and the first problem (field, take, value).
    """
    metadata = validate_top(data, path)
    if not takes_ok(metadata["takes"]):
        raise_take_problem(metadata["takes"], path)
    return metadata


def ranks_listable(takes: list[Any]) -> list[int | None] | None:
    """Every take's rank when all are valid ranks (what a batch listing needs), else None."""
    try:
        ranks = list(map(_RANK, takes))
    except (KeyError, TypeError):
        return None
    return ranks if _RANK_FIELD.column_valid(ranks) else None
