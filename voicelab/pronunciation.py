"""One pronunciation dictionary per project: how words of a script are to be said.

Two file formats, read with the standard library only:

- `pronunciations.csv`: a header row `word,say_as` or `word,say_as,ipa` (any case, spaces
  around names ignored), then one entry per row. UTF-8, with or without a BOM. Blank rows are
  skipped. Row numbers are the spreadsheet's (header = row 1), as in dialogue scripts.
- A W3C PLS lexicon (`.pls`, XML): `<lexicon>` holding `<lexeme>`s, each with one or more
  `<grapheme>` (the word; several graphemes make several entries), and an `<alias>` (say_as)
  and/or a `<phoneme>` (IPA). The first alias and the first phoneme of a lexeme count; the
  phoneme alphabet (the lexeme's `alphabet`, else the lexicon's) must be `ipa`. A DOCTYPE is
  refused, so no entity can be declared or expanded (no "billion laughs", no external entity).

Rules of an entry: `word` is required, unique ignoring case, and has a letter or a digit and no
control character (it could not be matched in a line otherwise); `say_as` may be empty only when
`ipa` is given; no field holds a control character, and `ipa` holds no `[` or `]` (Piper reads
inline phonemes between `[[` and `]]`). Text is NFC-normalised and stripped; runs of spaces
inside a word become one space (and match any run of white space in a line). Every problem of a
file is reported at once (PronunciationError: file, row or line, field, value) and nothing is
returned, so a bad dictionary changes nothing.

Matching is whole-word (a word is not matched inside a longer word: the character before and
after is not a letter, digit or `_`), case-insensitive by default, leaves the punctuation around
the word as it was, and prefers the longest entry where several start at the same place, so
"New York" beats "York". Substitution is one pass: a say_as is never substituted again.

`Dictionary.hash` is a sha256 of the normalised entries sorted by word, so it does not depend on
row order or on the file format: the same entries in a CSV and in a PLS have the same hash.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from voicelab.config import Settings
from voicelab.errors import Problem, PronunciationError

FILE_NAMES = ("pronunciations.csv", "pronunciations.pls")
BATCH_COPY = "pronunciations.pls"
"""A batch's own copy of the dictionary its newest takes were made with (see
`generation.keep_dictionary`)."""
"""What `find_for_script` looks for beside a script."""
SUFFIXES = (".csv", ".pls")
PLS_NAMESPACE = "http://www.w3.org/2005/01/pronunciation-lexicon"
MAX_BYTES = 2_000_000
COLUMNS = ("word", "say_as", "ipa")

Rule = dict[str, str | bool]
"""An ElevenLabs pronunciation rule, as `POST /v1/pronunciation-dictionaries/add-from-rules`
takes it."""


@dataclass(frozen=True)
class Entry:
    """One word and how to say it: `say_as` (an alias spelled as it sounds) and/or `ipa`."""

    word: str
    say_as: str | None = None
    ipa: str | None = None


@dataclass(frozen=True)
class Dictionary:
    """A validated pronunciation dictionary: its entries and where it came from."""

    entries: tuple[Entry, ...]
    source: str = "pronunciations"
    language: str = "en-US"
    by_word: dict[str, Entry] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_word", {_key(e.word): e for e in self.entries})

    @functools.cached_property
    def hash(self) -> str:
        """sha256 (hex) of the normalised entries sorted by word: stable across row order,
        file format and runs; changes when any word, say_as or ipa changes."""
        rows = sorted([_key(e.word), e.word, e.say_as or "", e.ipa or ""] for e in self.entries)
        body = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def pattern(self, case_sensitive: bool = False) -> re.Pattern[str] | None:
        """The one regular expression matching every entry's word (longest first)."""
        return _pattern(tuple(e.word for e in self.entries), case_sensitive)

    def to_json(self) -> dict[str, Any]:
        """The dictionary as JSON: a checked job carries it, so no worker reads the file again."""
        return {"source": self.source, "language": self.language,
                "entries": [asdict(e) for e in self.entries]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Dictionary:
        """The dictionary `to_json` wrote, as it was (not validated again)."""
        return cls(tuple(Entry(**entry) for entry in data["entries"]), data["source"],
                   data["language"])


def _key(word: str) -> str:
    return word.casefold()


def _word_regex(word: str) -> str:
    """A word as a regular expression: its spaces match any run of white space."""
    return r"\s+".join(re.escape(part) for part in word.split(" "))


@functools.lru_cache(maxsize=32)
def _pattern(words: tuple[str, ...], case_sensitive: bool) -> re.Pattern[str] | None:
    if not words:
        return None
    alternatives = [_word_regex(word) for word in sorted(words, key=lambda w: (-len(w), w))]
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", flags)


# -- reading --------------------------------------------------------------------------------------

def load(path: Path | str) -> Dictionary:
    """Read and validate a dictionary file: `.csv` (word,say_as[,ipa]) or `.pls` (W3C PLS).

    Raises:
        PronunciationError: naming the file, with one Problem (row or line, field, value) per
            defect; the file could not be read, is not one of the two formats, or breaks a rule
            of the module docstring.
    """
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise PronunciationError(name, [Problem(
            f"a pronunciation dictionary is a .csv (word,say_as[,ipa]) or a .pls (W3C PLS) "
            f"file, not {suffix or 'a file without an extension'!r}", field="file",
            value=str(path))])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PronunciationError(name, [Problem(f"cannot read {path}: {exc.strerror}",
                                                field="file", value=str(path))]) from None
    return parse(data, name, "pls" if suffix == ".pls" else "csv")


def parse(data: bytes, name: str, kind: str) -> Dictionary:
    """A dictionary from a file's bytes; `kind` is "csv" or "pls". Raises as `load` does."""
    if len(data) > MAX_BYTES:
        raise PronunciationError(name, [Problem(
            f"the file has {len(data)} bytes; a pronunciation dictionary is at most "
            f"{MAX_BYTES} bytes", field="file", value=len(data))])
    if kind == "pls":
        return _parse_pls(data, name)
    if kind == "csv":
        return _parse_csv(data, name)
    raise ValueError(f"unknown dictionary kind {kind!r}: csv or pls")


def find_for_script(script_path: Path | str | None, settings: Settings) -> Dictionary | None:
    """The project's dictionary: VOICELAB_PRONUNCIATIONS when set, else a `pronunciations.csv`
    or `pronunciations.pls` beside the script file, else None.

    Raises:
        PronunciationError: the file is invalid (see `load`), or both files lie beside the
            script (which one is meant cannot be guessed).
    """
    if settings.pronunciations is not None:
        return load(settings.pronunciations)
    if script_path is None:
        return None
    folder = Path(script_path).parent
    found = [folder / name for name in FILE_NAMES if (folder / name).is_file()]
    if len(found) > 1:
        raise PronunciationError(found[0].name, [Problem(
            f"both {' and '.join(p.name for p in found)} are beside the script in {folder}: "
            "keep one, or choose one with VOICELAB_PRONUNCIATIONS or the job's 'pronunciations'",
            field="file", value=str(folder))])
    return load(found[0]) if found else None


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value).strip()


def _control(value: str) -> str | None:
    """The first control or format character in `value` (as U+XXXX), or None."""
    for char in value:
        if unicodedata.category(char)[0] == "C":
            return f"U+{ord(char):04X}"
    return None


class _Checker:
    """Builds entries and collects every problem of a file (one PronunciationError at the end)."""

    def __init__(self, name: str, where: str, names: tuple[str, str, str] = COLUMNS) -> None:
        self.name, self.where = name, where
        self.word_field, self.say_field, self.ipa_field = names
        self.problems: list[Problem] = []
        self.entries: list[Entry] = []
        self.first_at: dict[str, int] = {}

    def problem(self, message: str, row: int | None, field: str, value: object) -> None:
        self.problems.append(Problem(message, row=row, field=field, value=value))

    def add(self, row: int, word: str, say_as: str | None, ipa: str | None) -> None:
        word = " ".join(_clean(word).split())
        say_as = _clean(say_as) if say_as is not None else ""
        ipa = _clean(ipa) if ipa is not None else ""
        before = len(self.problems)
        w, say, ph = self.word_field, self.say_field, self.ipa_field
        if not word:
            self.problem(f"{w} is empty", row, w, word)
        elif (char := _control(word)) is not None:
            self.problem(f"{w} {word!r} holds the control character {char}, which no line "
                         "can match", row, w, word)
        elif not any(c.isalnum() for c in word):
            self.problem(f"{w} {word!r} has no letter or digit, so it cannot be matched as a "
                         "whole word", row, w, word)
        elif (first := self.first_at.get(_key(word))) is not None:
            self.problem(f"duplicate {w} {word!r} (first on {self.where} {first}; words are "
                         "matched ignoring case)", row, w, word)
        else:
            self.first_at[_key(word)] = row
        if not say_as and not ipa:
            self.problem(f"{say} is missing for {word!r} and there is no {ph}: give one or "
                         "both", row, say, say_as)
        for label, value in ((say, say_as), (ph, ipa)):
            if (char := _control(value)) is not None:
                self.problem(f"{label} {value!r} holds the control character {char}", row,
                             label, value)
        if "[" in ipa or "]" in ipa:
            self.problem(f"{ph} {ipa!r} holds '[' or ']', which cannot be passed as phonemes",
                         row, ph, ipa)
        if len(self.problems) == before:
            self.entries.append(Entry(word, say_as or None, ipa or None))

    def result(self, language: str = "en-US") -> Dictionary:
        if not self.entries and not self.problems:
            self.problem("no entries: add at least one word below the header, or remove the "
                         "file", None, "file", self.name)
        if self.problems:
            raise PronunciationError(self.name, self.problems, self.where)
        return Dictionary(tuple(self.entries), self.name, language)


def _decode(data: bytes, name: str) -> str:
    encoding = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise PronunciationError(name, [Problem(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save it as "
            "'CSV UTF-8'", field="file", value=exc.start)]) from None


def _parse_csv(data: bytes, name: str) -> Dictionary:
    text = _decode(data, name)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[list[str]] = []
    try:
        records.extend(reader)
    except csv.Error as exc:
        raise PronunciationError(name, [Problem(
            f"cannot read this row as CSV ({exc}): a quoted cell ends with a quote right before "
            'the next comma, and a quote inside it is written ""', row=len(records) + 1,
            field="file", value=None)]) from None
    numbered = [(row, r) for row, r in enumerate(records, start=1) if any(c.strip() for c in r)]
    check = _Checker(name, "row")
    if not numbered:
        check.problem("the file is empty: the first row is the header word,say_as[,ipa]",
                      None, "file", name)
        return check.result()
    header_row, header = numbered[0]
    columns = [c.strip().casefold() for c in header]
    if columns not in (list(COLUMNS[:2]), list(COLUMNS)):
        check.problem(f"the header is {','.join(header)!r}; expected 'word,say_as' or "
                      "'word,say_as,ipa'", header_row, "header", ",".join(header))
        return check.result()
    for row, cells in numbered[1:]:
        if len(cells) > len(columns):
            extra = [c for c in cells[len(columns):] if c.strip()]
            if extra:
                check.problem(f"{len(cells)} cells where the header names {len(columns)} "
                              f"(a comma inside a value needs quotes): {extra[0]!r}", row,
                              "(extra)", extra[0])
                continue
        padded = [*cells, "", ""]
        check.add(row, padded[0], padded[1], padded[2] if len(columns) == 3 else None)
    return check.result()


@dataclass
class _Node:
    """One element of a PLS file, with the line where it starts."""

    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def content(self) -> str:
        return "".join(self.text) + "".join(c.content() for c in self.children)


class _Refused(Exception):
    """A DOCTYPE or an entity declaration in a PLS file."""


def _read_xml(data: bytes, name: str) -> _Node:
    """The element tree of a PLS file via expat; DOCTYPEs and entities are refused."""
    parser = expat.ParserCreate(namespace_separator="}")
    stack: list[_Node] = []
    roots: list[_Node] = []

    def refuse(*_: Any) -> None:
        raise _Refused

    def start(tag: str, attrs: dict[str, str]) -> None:
        local = {key.rsplit("}", 1)[-1]: value for key, value in attrs.items()}
        node = _Node(tag.rsplit("}", 1)[-1], local, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def text(chars: str) -> None:
        if stack:
            stack[-1].text.append(chars)

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except _Refused:
        raise PronunciationError(name, [Problem(
            "a DOCTYPE is not accepted in a pronunciation lexicon (entities could expand "
            "without bound): remove it", row=parser.CurrentLineNumber, field="DOCTYPE",
            value=None)], "line") from None
    except expat.ExpatError as exc:
        raise PronunciationError(name, [Problem(
            f"not well-formed XML: {expat.ErrorString(exc.code)} (column {exc.offset + 1})",
            row=exc.lineno, field="xml", value=None)], "line") from None
    return roots[0]


def _parse_pls(data: bytes, name: str) -> Dictionary:
    root = _read_xml(data, name)
    check = _Checker(name, "line", ("grapheme", "alias", "phoneme"))
    if root.tag != "lexicon":
        check.problem(f"the root element is <{root.tag}>; a PLS file holds one <lexicon>",
                      root.line, "lexicon", root.tag)
        return check.result()
    alphabet = root.attrs.get("alphabet", "ipa")
    language = root.attrs.get("lang", "en-US")
    for lexeme in (c for c in root.children if c.tag == "lexeme"):
        graphemes = [c for c in lexeme.children if c.tag == "grapheme"]
        aliases = [c.content() for c in lexeme.children if c.tag == "alias"]
        phonemes = [c for c in lexeme.children if c.tag == "phoneme"]
        ipa = None
        if phonemes:
            used = phonemes[0].attrs.get("alphabet", lexeme.attrs.get("alphabet", alphabet))
            if used.casefold() != "ipa":
                check.problem(f"phoneme alphabet {used!r} is not supported: write the "
                              "phonemes in IPA (alphabet=\"ipa\")", phonemes[0].line,
                              "alphabet", used)
                continue
            ipa = phonemes[0].content()
        if not graphemes:
            check.problem("a <lexeme> without a <grapheme>: the word is missing", lexeme.line,
                          "grapheme", "")
            continue
        for grapheme in graphemes:
            check.add(grapheme.line, grapheme.content(), aliases[0] if aliases else None, ipa)
    return check.result(language)


# -- using ----------------------------------------------------------------------------------------

def substitute(text: str, dictionary: Dictionary | None, *, case_sensitive: bool = False,
               replace: Callable[[Entry, str], str] | None = None) -> str:
    """`text` with every dictionary word replaced by its say_as (module doc: whole words, case
    ignored unless `case_sensitive`, punctuation kept, longest first, one pass).

    An entry with no say_as (IPA only) leaves its word as written. `replace(entry, matched)`
    decides the replacement instead (engines use it to insert phonemes).
    """
    pattern = dictionary.pattern(case_sensitive) if dictionary else None
    if pattern is None or dictionary is None:
        return text
    def one(match: re.Match[str]) -> str:
        matched = match.group(0)
        entry = _entry_for(dictionary, matched, case_sensitive)
        if replace is not None:
            return replace(entry, matched)
        return entry.say_as if entry.say_as is not None else matched

    return pattern.sub(one, text)


def words_in(text: str, dictionary: Dictionary | None, *, case_sensitive: bool = False) -> set[str]:
    """The entries' words (as the dictionary writes them) that `text` uses, matched as
    `substitute` matches them: what makes a line's takes depend on the dictionary."""
    pattern = dictionary.pattern(case_sensitive) if dictionary else None
    if pattern is None or dictionary is None:
        return set()
    return {_entry_for(dictionary, m.group(0), case_sensitive).word
            for m in pattern.finditer(text)}


def _entry_for(dictionary: Dictionary, matched: str, case_sensitive: bool) -> Entry:
    """The entry a match of `dictionary.pattern` stands for."""
    entry = dictionary.by_word.get(_key(" ".join(matched.split())))
    if entry is not None:
        return entry
    flags = 0 if case_sensitive else re.IGNORECASE  # a case pair that casefold() keeps apart
    return next(e for e in dictionary.entries
                if re.fullmatch(_word_regex(e.word), matched, flags))


def to_rules(dictionary: Dictionary) -> list[Rule]:
    """ElevenLabs rules, one per entry: a phoneme rule (alphabet "ipa") where ipa is given,
    else an alias rule; whole words, case-insensitive, as `substitute` matches.

    The service holds one rule per string_to_replace, so an entry with both says its IPA; its
    say_as is what `substitute` uses for models that take no phoneme rules.
    """
    rules: list[Rule] = []
    for entry in dictionary.entries:
        rule: Rule = {"string_to_replace": entry.word, "case_sensitive": False,
                      "word_boundaries": True}
        if entry.ipa:
            rule.update(type="phoneme", phoneme=entry.ipa, alphabet="ipa")
        else:
            rule.update(type="alias", alias=entry.say_as or entry.word)
        rules.append(rule)
    return rules


def to_pls(dictionary: Dictionary) -> bytes:
    """The dictionary as a W3C PLS 1.0 lexicon (UTF-8 XML, alphabet ipa): every lexeme with its
    grapheme, its alias where say_as is given and its phoneme where ipa is given. `load` reads
    it back to the same entries (and the same hash)."""
    lexicon = ET.Element("lexicon", {"version": "1.0", "xmlns": PLS_NAMESPACE,
                                     "alphabet": "ipa", "xml:lang": dictionary.language})
    for entry in dictionary.entries:
        lexeme = ET.SubElement(lexicon, "lexeme")
        ET.SubElement(lexeme, "grapheme").text = entry.word
        if entry.say_as:
            ET.SubElement(lexeme, "alias").text = entry.say_as
        if entry.ipa:
            ET.SubElement(lexeme, "phoneme").text = entry.ipa
    ET.indent(lexicon)
    return ET.tostring(lexicon, encoding="utf-8", xml_declaration=True) + b"\n"
