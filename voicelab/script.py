"""Dialogue-script parsing: CSV bytes from real spreadsheets -> validated (Function, Line) rows.

Accepted: UTF-8 with or without BOM, UTF-16 with BOM (Excel's "Unicode Text"), cp1252 (with a
warning); CRLF, LF or CR line ends; `,` `;` or tab delimiters (read from the header row); header
names in any case with surrounding spaces; an optional `Category` column (kept on each line for
per-category loudness on export); other extra columns (ignored); quoted multi-line cells; blank
rows (skipped). Everything else is rejected with one ScriptError listing every problem.

Row numbers are the spreadsheet's: one per CSV record, counting the header and blank rows, so a
quoted cell spanning several physical lines is still one row (header = row 1, first line = 2).

Function values name take files (`<Function>_take_<n>.mp3`, docs/design.md, decision 5), so they
must match FUNCTION_PATTERN, must not be a Windows device name (CON, NUL, COM1...), and must be
unique ignoring case, because macOS and Windows file systems would make `Intro_1` and `intro_1`
collide.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import os
import re
import zipfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from voicelab.errors import Problem, ScriptError

logger = logging.getLogger(__name__)

FUNCTION_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,100}")
_MAX_FUNCTION = 100
DELIMITERS = (",", ";", "\t")
_ALLOWED = "1-100 characters from A-Z a-z 0-9 _ - (no spaces, dots or slashes)"
_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)]
)
_EXPORT = "; open it and export (save as) CSV UTF-8"
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "looks like an Excel 97-2003 workbook" + _EXPORT),
    (b"ID3", "looks like an MP3 audio file"),
    (b"RIFF", "looks like a WAV audio file"),
    (b"OggS", "looks like an Ogg audio file"),
    (b"fLaC", "looks like a FLAC audio file"),
    (b"%PDF", "looks like a PDF document"),
    (b"\x89PNG", "looks like a PNG image"),
    (b"\xff\xd8\xff", "looks like a JPEG image"),
    (b"\x1f\x8b", "looks like a gzip archive"),
)


@dataclass(frozen=True)
class ScriptLine:
    """One dialogue line: its Function (take-file stem), its text, and its spreadsheet row."""

    function: str
    text: str
    row: int
    category: str | None = None
    """The optional `Category` column (e.g. barks, cinematics): per-category loudness on export."""


@dataclass(frozen=True)
class Script:
    """A validated script, with how it was read (encoding, delimiter) and any warnings."""

    lines: tuple[ScriptLine, ...]
    encoding: str
    delimiter: str
    warnings: tuple[str, ...] = ()

    @property
    def characters(self) -> int:
        """Characters of text the engine will be sent once per take (quota planning)."""
        return sum(len(line.text) for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        """The parsed script as JSON: a checked job carries it, so no worker parses it again."""
        return {"lines": [asdict(line) for line in self.lines], "encoding": self.encoding,
                "delimiter": self.delimiter, "warnings": list(self.warnings)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Script:
        """The script `to_json` wrote, as it was (not validated again)."""
        return cls(tuple(ScriptLine(**line) for line in data["lines"]), data["encoding"],
                   data["delimiter"], tuple(data["warnings"]))


def parse_script(
    source: bytes | str | os.PathLike[str],
    *,
    name: str | None = None,
    max_text_length: int = 10_000,
) -> Script:
    """Parse and validate a dialogue script given as CSV bytes or as a path (a `str` is a path).

    Raises:
        ScriptError: naming the source, with one Problem (row, field, value) per defect found.
    """
    if isinstance(source, bytes):
        name = name or "script"
        data = source
    else:
        if isinstance(source, str) and "\n" in source:
            raise TypeError("parse_script: a str is a path; pass CSV text as bytes (text.encode())")
        path = Path(source)
        name = name or path.name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ScriptError(name, [Problem(f"cannot read {path}: {exc.strerror}")]) from exc
    text, encoding, warnings = decode_script(data, name)
    delimiter, records = _read_records(text, name)
    lines = _validate(records, name, max_text_length)
    return Script(tuple(lines), encoding, delimiter, tuple(warnings))


def decode_script(data: bytes, name: str) -> tuple[str, str, list[str]]:
    """A script file's text, its encoding and any warning: UTF-16 (BOM), UTF-8 (BOM optional),
    then cp1252 with a warning. The one decoder for files, uploads and the launch form.

    Raises:
        ScriptError: the file is binary or no encoding reads it (a problem of the file as a
            whole, so nothing in it can be checked further).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", []
        except UnicodeDecodeError as exc:
            raise ScriptError(name, [Problem(f"not valid UTF-16 text ({exc.reason})")]) from exc
    if kind := _binary_kind(data):
        raise ScriptError(name, [Problem(f"not a CSV text file: it {kind}")])
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return data.decode(encoding), encoding, []
    except UnicodeDecodeError as exc:
        offset = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError as exc:
        problem = Problem(
            f"not UTF-8 or Windows-1252 text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); save it as 'CSV UTF-8'"
        )
        raise ScriptError(name, [problem]) from exc
    warning = (
        f"{name}: not UTF-8 (byte 0x{data[offset]:02x} at offset {offset}); read as "
        "Windows-1252 (cp1252). Check accented letters and quotes; save as 'CSV UTF-8' next time."
    )
    logger.warning("%s", warning)
    return text, "cp1252", [warning]


def _binary_kind(data: bytes) -> str | None:
    """Say what a non-text file looks like (a workbook, audio, an archive), or None for text."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.startswith("xl/") for n in names):
            return "looks like an Excel workbook (.xlsx)" + _EXPORT
        if "content.xml" in names or "Index/Document.iwa" in names:
            return "looks like a spreadsheet document (.ods or .numbers)" + _EXPORT
        return "looks like a zip archive"
    for magic, kind in _SIGNATURES:
        if data.startswith(magic):
            return kind
    if len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0:
        return "looks like an MP3 audio file"
    if b"\x00" in data[:8192]:
        return "looks like a binary file"
    return None


def _read_records(text: str, name: str) -> tuple[str, list[list[str]]]:
    """Split text into CSV records with the delimiter that makes the header name both columns."""
    header = next((ln for ln in text.splitlines() if ln.strip(' \t,;"')), "")
    delimiter = _pick_delimiter(header)
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True
    )
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        problem = Problem(
            f"cannot read this row as CSV ({exc}): a quoted cell must end with a quote right "
            'before the next delimiter, and a quote inside it is written ""',
            row=len(records) + 1,
        )
        raise ScriptError(name, [problem]) from exc
    return delimiter, records


def _pick_delimiter(header: str) -> str:
    """The first delimiter whose split names Function and Line, else the one splitting most."""

    def columns(delimiter: str) -> set[str]:
        return {c.strip().strip('"').strip().casefold() for c in header.split(delimiter)}

    for delimiter in DELIMITERS:
        if {"function", "line"} <= columns(delimiter):
            return delimiter
    return max(DELIMITERS, key=lambda d: header.count(d))


def _validate(records: list[list[str]], name: str, max_text_length: int) -> list[ScriptLine]:
    """Check header and rows; raise one ScriptError with every problem, else return the lines."""
    numbered = [(i, r) for i, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    if not numbered:
        raise ScriptError(name, [Problem("no lines: the file is empty (no header, no rows)")])
    header_row, header = numbered[0]
    columns, problems = _find_columns(header, header_row)
    if problems:
        raise ScriptError(name, problems)
    if len(numbered) == 1:
        raise ScriptError(name, [Problem("no lines: the file has a header row but no data rows")])
    lines: list[ScriptLine] = []
    seen: dict[str, tuple[int, str]] = {}
    found = [c.strip().casefold() for c in header]
    category_at = found.index("category") if "category" in found else None
    for row, record in numbered[1:]:
        function, text = (_cell(record, i) for i in columns)
        category = _cell(record, category_at) if category_at is not None else ""
        row_problems = _check_function(function, row, seen) + _check_text(
            text, row, max_text_length
        ) + _check_category(category, row)
        if any(c.strip() for c in record[len(header):]):
            row_problems.append(Problem(
                f"has {len(record)} cells but the header names {len(header)}: text holding the "
                "separator must be quoted, or the line is cut short", row, "Line", text))
        problems += row_problems
        if not row_problems:
            lines.append(ScriptLine(function, text, row, category or None))
    if problems:
        raise ScriptError(name, problems)
    return lines


def _find_columns(header: list[str], row: int) -> tuple[tuple[int, int], list[Problem]]:
    """Locate the Function and Line columns in the header (any case, spaces ignored)."""
    found = [c.strip().casefold() for c in header]
    shown = ", ".join(repr(c.strip()) for c in header)
    problems: list[Problem] = []
    indexes: list[int] = []
    for column in ("Function", "Line"):
        at = [i for i, c in enumerate(found) if c == column.casefold()]
        if not at:
            message = (
                f"missing column {column!r} in the header row (found {shown}); "
                "the header must name a Function column and a Line column"
            )
            problems.append(Problem(message, row, column))
        elif len(at) > 1:
            message = f"column {column!r} appears {len(at)} times in the header row; keep one"
            problems.append(Problem(message, row, column))
        indexes.append(at[0] if at else -1)
    return (indexes[0], indexes[1]), problems


def _check_category(value: str, row: int) -> list[Problem]:
    """A Category is optional; when given, a short single-line name."""
    if len(value) > _MAX_FUNCTION or "\n" in value:
        return [Problem(f"Category {_show(value)} must be one line of at most {_MAX_FUNCTION} "
                        "characters", row, "Category", value)]
    return []


def _cell(record: list[str], index: int) -> str:
    """A cell's text, stripped, with CRLF/CR inside multi-line cells turned into LF."""
    value = record[index] if index < len(record) else ""
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def _check_function(value: str, row: int, seen: dict[str, tuple[int, str]]) -> list[Problem]:
    """Empty, unsafe, reserved or duplicate (ignoring case) Function values."""
    key = value.casefold()
    if not value:
        message = "Function is empty"
    elif len(value) > _MAX_FUNCTION:
        message = f"Function {_show(value)} is {len(value)} characters long: use {_ALLOWED}"
    elif not FUNCTION_PATTERN.fullmatch(value):
        hint = re.sub(r"[^A-Za-z0-9_-]+", "_", value).strip("_")
        example = f", e.g. {hint!r}" if hint else ""
        message = f"Function {_show(value)} cannot name a take file: use {_ALLOWED}{example}"
    elif key in _RESERVED:
        message = f"Function {value!r} is a reserved device name on Windows; rename it"
    elif key in seen:
        first_row, first = seen[key]
        case = "" if first == value else f" ({first!r}; names differing only in case collide)"
        message = f"Function {value!r} duplicates row {first_row}{case}; Functions must be unique"
    else:
        seen[key] = (row, value)
        return []
    return [Problem(message, row, "Function", value)]


def _check_text(value: str, row: int, max_length: int) -> list[Problem]:
    """Empty text, or text longer than the model accepts."""
    if not value:
        return [Problem("Line is empty", row, "Line", value)]
    if len(value) > max_length:
        message = (
            f"Line {_show(value)} is {len(value)} characters; "
            f"the model allows at most {max_length}: split it"
        )
        return [Problem(message, row, "Line", value)]
    return []


def _show(value: str, limit: int = 40) -> str:
    """A value for a message: quoted, and cut short when long."""
    return repr(value) if len(value) <= limit else repr(value[:limit]) + "..."
