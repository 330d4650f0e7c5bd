"""voicelab.script: what spreadsheets really export is read; every defect is reported by row."""

from __future__ import annotations

import csv
import io
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicelab.errors import Problem, ScriptError
from voicelab.script import FUNCTION_PATTERN, Script, ScriptLine, parse_script

DATA = Path(__file__).resolve().parents[1] / "data" / "scripts"
REPO = Path(__file__).resolve().parents[2]
SEED = DATA / "seed"
"""The seed's sample scripts, copied from the original brief (see its README.md)."""


def _rows(script: Script) -> list[tuple[str, str, int]]:
    return [(line.function, line.text, line.row) for line in script.lines]


def _problems(name: str, **kwargs: int) -> list[Problem]:
    with pytest.raises(ScriptError) as caught:
        parse_script(DATA / name, **kwargs)
    assert caught.value.source == name
    assert str(caught.value).startswith(f"{name}: ")
    return caught.value.problems


ACCEPTED = {
    "excel_bom_semicolon.csv": (
        "utf-8-sig",
        ";",
        [
            ("Intro_1", "Hello there; traveler.", 2),
            ("Intro_2", "Second line, with a comma", 3),
        ],
    ),
    "cp1252_encoded.csv": (
        "cp1252",
        ",",
        [
            ("Intro_1", "Café au lait, s\u2019il vous plaît", 2),
            ("Intro_2", "\u201cQuoted\u201d \u2014 naïve", 3),
        ],
    ),
    "crlf_tab.csv": (
        "utf-8",
        "\t",
        [
            ("Taunt_1", "Is that all, really?", 2),
            ("Taunt_2", "Tabs\tinside quotes; fine", 3),
        ],
    ),
    "classic_mac_cr.csv": (
        "utf-8",
        ",",
        [("Idle_1", "Waiting.", 2), ("Idle_2", "Still waiting.", 3)],
    ),
    "multiline_quoted.csv": (
        "utf-8",
        ",",
        [
            ("Story_1", "First line\nsecond line\n\nafter a blank line", 2),
            ("Story_2", 'He said "halt", then\nfell silent.', 3),
            ("Story_3", "Plain", 4),  # one spreadsheet row per record, not per physical line
        ],
    ),
    "header_case_extra_column.csv": (
        "utf-8",
        ",",
        [
            ("Greet_1", "Hi.", 2),
            ("Greet_2", "A line that\nspans two rows.", 3),
            ("Greet_3", "padded text", 4),
        ],
    ),
    "blank_rows.csv": (
        "utf-8",
        ",",
        # Blank rows (empty, ",,", whitespace-only) are skipped but still counted, as a
        # spreadsheet shows them: the header sits on row 2 here.
        [("Intro_1", "One", 4), ("Intro_2", "Two", 7)],
    ),
    "excel_unicode_text.txt": ("utf-16", "\t", [("Intro_1", "Ça va? ✓", 2)]),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_spreadsheet_exports_are_read(name: str) -> None:
    encoding, delimiter, rows = ACCEPTED[name]
    script = parse_script(DATA / name)
    assert (script.encoding, script.delimiter) == (encoding, delimiter)
    assert _rows(script) == rows
    assert all(isinstance(line, ScriptLine) for line in script.lines)


def test_cp1252_is_read_with_a_warning_that_names_the_file(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="voicelab.script"):
        script = parse_script(DATA / "cp1252_encoded.csv")
    assert len(script.warnings) == 1
    warning = script.warnings[0]
    assert warning.startswith("cp1252_encoded.csv: not UTF-8")
    assert "cp1252" in warning and "CSV UTF-8" in warning
    assert warning in caplog.messages


def test_utf8_scripts_have_no_warnings() -> None:
    assert parse_script(DATA / "excel_bom_semicolon.csv").warnings == ()


def test_bytes_that_are_neither_utf8_nor_cp1252_are_rejected() -> None:
    [problem] = _problems("not_cp1252.csv")
    assert "0x81" in problem.message and "CSV UTF-8" in problem.message


def test_missing_line_column_is_reported_on_the_header_row() -> None:
    [problem] = _problems("missing_line_column.csv")
    assert (problem.row, problem.field) == (1, "Line")
    assert "'Text'" in problem.message  # says what the header does hold


def test_missing_function_column_is_reported_on_the_header_row() -> None:
    [problem] = _problems("missing_function_column.csv")
    assert (problem.row, problem.field) == (1, "Function")
    assert "'Name'" in problem.message


def test_a_column_named_twice_is_rejected() -> None:
    [problem] = _problems("duplicate_column.csv")
    assert (problem.row, problem.field) == (1, "Line")
    assert "2 times" in problem.message


def test_empty_cells_are_reported_with_their_rows() -> None:
    problems = _problems("empty_cells.csv")
    # Row 4 holds only whitespace, so it is a blank row; row 5 has no Line cell at all.
    assert [(p.row, p.field, p.value) for p in problems] == [
        (2, "Line", ""),
        (3, "Function", ""),
        (5, "Line", ""),
    ]
    assert "Line is empty" in str(problems[0]) and "row 2" in str(problems[0])


def test_duplicate_functions_are_rejected_ignoring_case() -> None:
    problems = _problems("duplicate_function.csv")
    assert [(p.row, p.field, p.value) for p in problems] == [
        (4, "Function", "Intro_1"),
        (5, "Function", "INTRO_2"),
    ]
    assert "duplicates row 2" in problems[0].message
    assert "duplicates row 3" in problems[1].message and "case" in problems[1].message


def test_unsafe_function_names_are_rejected_saying_what_is_allowed() -> None:
    problems = _problems("unsafe_function_names.csv")
    values = ["../../escape", "Intro 1/2", "Con", "Attack.mp3", "Seléct_1", "A" * 101]
    assert [(p.row, p.field, p.value) for p in problems] == [
        (row, "Function", value) for row, value in enumerate(values, start=2)
    ]
    unsafe = [p for p in problems if p.value != "Con"]
    assert all("A-Z a-z 0-9 _ -" in p.message for p in unsafe)
    assert "e.g. 'Intro_1_2'" in problems[1].message
    assert "reserved" in problems[2].message
    assert "101 characters" in problems[5].message
    assert len(problems[5].message) < 200  # a long value is cut short in the message


def test_function_pattern_allows_1_to_100_safe_characters() -> None:
    assert FUNCTION_PATTERN.pattern == "[A-Za-z0-9_-]{1,100}"
    head = b"Function,Line\n"
    ok = parse_script(head + b"A" * 100 + b",Fine\n")
    assert ok.lines[0].function == "A" * 100
    with pytest.raises(ScriptError):
        parse_script(head + b"A" * 101 + b",Fine\n")


def test_text_longer_than_the_model_allows_is_rejected() -> None:
    [problem] = _problems("too_long.csv")
    assert (problem.row, problem.field) == (3, "Line")
    assert len(str(problem.value)) == 10_001
    assert "10001 characters" in problem.message and "10000" in problem.message
    assert len(problem.message) < 200


def test_max_text_length_is_the_callers_limit() -> None:
    data = b"Function,Line\nA_1,0123456789\n"
    assert parse_script(data, max_text_length=10).characters == 10
    with pytest.raises(ScriptError) as caught:
        parse_script(data, max_text_length=9)
    assert caught.value.problems[0].row == 2


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("workbook_renamed.csv", "Excel workbook (.xlsx); open it and export"),
        ("legacy_xls.csv", "Excel 97-2003 workbook"),
        ("audio_take.mp3.csv", "MP3 audio"),
        ("zip_archive.csv", "zip archive"),
        ("not_text.bin", "binary file"),
    ],
)
def test_files_that_are_not_text_say_what_they_look_like(name: str, says: str) -> None:
    [problem] = _problems(name)
    assert problem.message.startswith("not a CSV text file")
    assert says in problem.message


def test_an_mp3_with_an_id3_tag_is_recognised() -> None:
    with pytest.raises(ScriptError, match="MP3 audio"):
        parse_script(
            b"ID3\x04\x00\x00\x00\x00\x00\x00" + (DATA / "audio_take.mp3.csv").read_bytes()
        )


@pytest.mark.parametrize(
    ("name", "says"),
    [("empty.csv", "no lines"), ("header_only.csv", "no lines")],
)
def test_a_script_without_lines_is_rejected(name: str, says: str) -> None:
    [problem] = _problems(name)
    assert says in problem.message


def test_an_unclosed_quote_names_its_row_instead_of_swallowing_the_rest() -> None:
    [problem] = _problems("unclosed_quote.csv")
    assert problem.row == 3
    assert "quote" in problem.message


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    data = b"Function,Line\nok_1,Fine\nbad name,Text\nok_1,Again\nempty_1,\n,No function\n"
    with pytest.raises(ScriptError) as caught:
        parse_script(data, name="mixed.csv")
    rows = [(p.row, p.field) for p in caught.value.problems]
    assert rows == [(3, "Function"), (4, "Function"), (5, "Line"), (6, "Function")]
    text = str(caught.value)
    assert text.startswith("mixed.csv: 4 problem(s)")
    assert "row 3: Function 'bad name'" in text


def test_a_duplicate_of_a_row_with_other_problems_is_still_caught() -> None:
    data = b"Function,Line\nA_1,\nA_1,Text\n"
    with pytest.raises(ScriptError) as caught:
        parse_script(data)
    assert [(p.row, p.field) for p in caught.value.problems] == [(2, "Line"), (3, "Function")]


def test_bytes_are_named_script_unless_a_name_is_given() -> None:
    with pytest.raises(ScriptError, match=r"^script: "):
        parse_script(b"")
    with pytest.raises(ScriptError, match=r"^upload\.csv: "):
        parse_script(b"", name="upload.csv")


def test_a_path_may_be_a_str_or_a_path(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(b"Function,Line\nA_1,Hello\n")
    assert parse_script(str(path)) == parse_script(path)
    assert parse_script(path).lines == (ScriptLine("A_1", "Hello", 2),)


def test_a_missing_file_is_a_script_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(tmp_path / "nope.csv")
    assert caught.value.source == "nope.csv"
    assert str(tmp_path / "nope.csv") in str(caught.value)


def test_csv_text_passed_as_str_is_refused_with_a_hint() -> None:
    with pytest.raises(TypeError, match="bytes"):
        parse_script("Function,Line\nA_1,Hello\n")


def test_characters_counts_the_text_sent_per_take() -> None:
    script = parse_script(DATA / "multiline_quoted.csv")
    assert script.characters == sum(len(t) for _, t, _ in _rows(script))
    assert script.characters == len("First line\nsecond line\n\nafter a blank line") + len(
        'He said "halt", then\nfell silent.'
    ) + len("Plain")


def test_the_example_script_is_thirty_realistic_lines() -> None:
    script = parse_script(DATA / "example_30_lines.csv")
    assert len(script.lines) == 30
    assert all(3 <= len(line.text.split()) <= 20 for line in script.lines)
    assert {"Intro_1", "Attack_3"} <= {line.function for line in script.lines}
    shipped = REPO / "examples" / "scripts" / "knight_30_lines.csv"
    assert shipped.read_bytes() == (DATA / "example_30_lines.csv").read_bytes()


# -- Round trip: whatever Python's csv module writes from valid lines reads back exactly. -----

_WINDOWS_DEVICES = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)
}
_function = st.from_regex(FUNCTION_PATTERN, fullmatch=True).filter(
    lambda f: f.casefold() not in _WINDOWS_DEVICES
)
_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r")
    | st.sampled_from(['"', ",", ";", "\t", "\n", "'", " "]),
    min_size=1,
    max_size=80,
).filter(lambda t: t == t.strip() and t != "")


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(_function, _text), min_size=1, max_size=12, unique_by=lambda p: p[0].casefold()
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
    bom=st.booleans(),
    terminator=st.sampled_from(["\r\n", "\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    header=st.sampled_from([("Function", "Line"), ("function", "LINE"), (" Function ", "Line ")]),
)
def test_valid_lines_round_trip_through_the_csv_module(
    pairs: list[tuple[str, str]],
    delimiter: str,
    bom: bool,
    terminator: str,
    quoting: int,
    header: tuple[str, str],
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    writer.writerow(header)
    writer.writerows(pairs)
    data = buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")
    script = parse_script(data)
    assert [(line.function, line.text) for line in script.lines] == pairs
    assert [line.row for line in script.lines] == list(range(2, len(pairs) + 2))
    assert script.delimiter == delimiter
    assert script.encoding == ("utf-8-sig" if bom else "utf-8")
    assert script.warnings == ()


# -- The seed's sample scripts (tests/data/scripts/seed/README.md). ---------------------------


@pytest.mark.parametrize("path", [REPO / "examples" / "scripts" / "aldric_knight.csv",
                                  SEED / "large_500.csv"], ids=lambda path: path.name)
def test_seed_scripts_parse(path: Path) -> None:
    script = parse_script(path)
    assert script.lines
    assert all(FUNCTION_PATTERN.fullmatch(line.function) for line in script.lines)
    assert script.lines[0].row == 2


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("duplicate_function.csv", [3]),
        ("empty_cells.csv", [2, 3]),
        ("missing_line_column.csv", [1]),
        ("unsafe_function_names.csv", [2, 3, 4]),
    ],
)
def test_seed_awkward_scripts_are_rejected_by_row(name: str, rows: list[int]) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(SEED / name)
    assert [p.row for p in caught.value.problems] == rows


@pytest.mark.parametrize(
    "name", ["cp1252_encoded.csv", "excel_bom_semicolon.csv", "header_case_extra_column.csv"]
)
def test_seed_awkward_scripts_are_accepted(name: str) -> None:
    script = parse_script(SEED / name)
    assert script.lines and script.lines[0].row == 2


def test_an_optional_category_column_is_kept_on_each_line() -> None:
    script = parse_script(b"Function,Line, category \nBark_1,Hey!,barks\nIntro_1,Long ago.,\n",
                          name="s.csv")
    assert [(line.function, line.category) for line in script.lines] == [
        ("Bark_1", "barks"), ("Intro_1", None)]
    assert parse_script(b"Function,Line\nA_1,Hi.\n", name="s.csv").lines[0].category is None
    with pytest.raises(ScriptError) as caught:
        parse_script(b"Function,Line,Category\nA_1,Hi.,\"two\nlines\"\n", name="s.csv")
    [problem] = caught.value.problems
    assert (problem.row, problem.field) == (2, "Category") and "one line" in problem.message
