"""The pronunciation dictionary: CSV and PLS parsing, refusals, matching and substitution, the
ElevenLabs rules and PLS output, where the file is found, and what a job config does with it."""
# ruff: noqa: RUF001  (IPA is written with letters that look like Latin ones: that is the point)

from __future__ import annotations

from pathlib import Path

import pytest

from voicelab import jobspec, pronunciation
from voicelab.config import Settings, load_settings
from voicelab.errors import ConfigError, JobConfigError, PronunciationError
from voicelab.pronunciation import Dictionary, Entry

CSV = (
    "word,say_as,ipa\n"
    "Aldric,ALL-drick,\n"
    '"New York","Noo Yawk",\n'
    "York,Yawk,\n"
    "Zorblax,,ˈzɔɹblæks\n"
    "Thane,thayn,θeɪn\n"
)
PLS = """<?xml version="1.0" encoding="UTF-8"?>
<lexicon version="1.0" xmlns="http://www.w3.org/2005/01/pronunciation-lexicon"
         alphabet="ipa" xml:lang="en-GB">
  <lexeme>
    <grapheme>Thane</grapheme>
    <alias>thayn</alias>
    <phoneme>θeɪn</phoneme>
  </lexeme>
  <lexeme><grapheme>York</grapheme><alias>Yawk</alias></lexeme>
  <lexeme><grapheme>Zorblax</grapheme><phoneme>ˈzɔɹblæks</phoneme></lexeme>
  <lexeme><grapheme>New York</grapheme><alias>Noo Yawk</alias></lexeme>
  <lexeme><grapheme>Aldric</grapheme><alias>ALL-drick</alias></lexeme>
</lexicon>
"""


def csv_dict(text: str = CSV) -> Dictionary:
    return pronunciation.parse(text.encode("utf-8"), "pronunciations.csv", "csv")


def pls_dict(text: str = PLS) -> Dictionary:
    return pronunciation.parse(text.encode("utf-8"), "pronunciations.pls", "pls")


def refusal(data: str | bytes, kind: str = "csv") -> PronunciationError:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(PronunciationError) as info:
        pronunciation.parse(raw, f"p.{kind}", kind)
    return info.value


# --- reading ------------------------------------------------------------------------------------


def test_csv_entries_are_read_and_normalised() -> None:
    text = "\ufeffWord , SAY_AS\n\n  New   York ,  Noo Yawk \nCafe\u0301,kaffay\n"
    d = csv_dict(text)
    assert d.entries == (Entry("New York", "Noo Yawk"), Entry("Café", "kaffay"))
    assert d.source == "pronunciations.csv"


def test_csv_with_ipa_column_keeps_ipa_and_allows_an_empty_say_as() -> None:
    d = csv_dict()
    assert d.by_word["zorblax"] == Entry("Zorblax", None, "ˈzɔɹblæks")
    assert d.by_word["thane"] == Entry("Thane", "thayn", "θeɪn")
    assert d.by_word["aldric"].ipa is None


def test_pls_is_read_with_alias_phoneme_and_language() -> None:
    d = pls_dict()
    assert set(d.entries) == set(csv_dict().entries)
    assert d.language == "en-GB"


def test_pls_lexeme_with_several_graphemes_gives_one_entry_each() -> None:
    d = pls_dict('<lexicon version="1.0" alphabet="ipa"><lexeme><grapheme>Colour</grapheme>'
                 "<grapheme>Color</grapheme><alias>kuller</alias></lexeme></lexicon>")
    assert d.entries == (Entry("Colour", "kuller"), Entry("Color", "kuller"))


def test_hash_is_stable_across_row_order_and_format_and_changes_with_an_entry() -> None:
    rows = CSV.splitlines()
    shuffled = "\n".join([rows[0], *reversed(rows[1:])]) + "\n"
    assert csv_dict().hash == csv_dict(shuffled).hash == pls_dict().hash
    assert len(csv_dict().hash) == 64
    assert csv_dict(CSV.replace("Yawk,", "Yorrk,")).hash != csv_dict().hash
    assert csv_dict(CSV.replace("θeɪn", "θein")).hash != csv_dict().hash
    assert csv_dict(CSV + "Brenna,BREN-ah,\n").hash != csv_dict().hash


def test_to_pls_reads_back_to_the_same_entries() -> None:
    d = csv_dict()
    xml = pronunciation.to_pls(d)
    assert xml.startswith(b"<?xml") and b"<lexicon" in xml and b'alphabet="ipa"' in xml
    back = pronunciation.parse(xml, "out.pls", "pls")
    assert back.entries == d.entries and back.hash == d.hash


def test_load_reads_files_by_extension(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(CSV, "utf-8")
    (tmp_path / "b.PLS").write_text(PLS, "utf-8")
    from_csv, from_pls = (pronunciation.load(tmp_path / n) for n in ("a.csv", "b.PLS"))
    assert from_csv.hash == from_pls.hash and from_pls.source == "b.PLS"


def test_load_refuses_other_extensions_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text(CSV, "utf-8")
    with pytest.raises(PronunciationError, match=r"(?s)p\.txt.*a \.csv .*or a \.pls .*not '\.txt'"):
        pronunciation.load(tmp_path / "p.txt")
    with pytest.raises(PronunciationError, match=r"(?s)missing\.csv.*cannot read"):
        pronunciation.load(tmp_path / "missing.csv")


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "row", "field", "value", "says"), [
    ("word,say_as\n,foo\n", 2, "word", "", "word is empty"),
    ("word,say_as\nYork,Yawk\nyork,Yoik\n", 3, "word", "york", "duplicate word 'york' (first on "
                                                                "row 2"),
    ("word,say_as,ipa\nYork,,\n", 2, "say_as", "", "say_as is missing for 'York' and there is "
                                                   "no ipa"),
    ("word,say_as\nYork\n", 2, "say_as", "", "say_as is missing"),
    ("word,say_as\n--,dash\n", 2, "word", "--", "cannot be matched as a whole word"),
    ("word,say_as\nYo\u200brk,Yawk\n", 2, "word", "Yo\u200brk", "control character U+200B"),
    ("word,say_as\nYork,Ya\x07wk\n", 2, "say_as", "Ya\x07wk", "control character U+0007"),
    ("word,say_as,ipa\nYork,,[[jɔk]]\n", 2, "ipa", "[[jɔk]]", "'[' or ']'"),
    ("word,say_as\nYork,Yawk,extra\n", 2, "(extra)", "extra", "3 cells where the header names 2"),
    ("term,spoken\nYork,Yawk\n", 1, "header", "term,spoken", "expected 'word,say_as'"),
])
def test_bad_csv_rows_are_named_by_row_field_and_value(
        text: str, row: int, field: str, value: object, says: str) -> None:
    error = refusal(text)
    [problem] = error.problems
    assert (problem.row, problem.field, problem.value) == (row, field, value)
    assert says in problem.message
    assert str(error).startswith("p.csv: 1 problem(s)")
    assert f"row {row}: " in str(error)


def test_every_bad_row_is_reported_at_once() -> None:
    error = refusal("word,say_as\n,a\nYork,\nYORK,b\nOK,fine\n")
    assert [(p.row, p.field) for p in error.problems] == [(2, "word"), (3, "say_as"), (4, "word")]


@pytest.mark.parametrize(("data", "says"), [
    (b"", "the file is empty"),
    (b"word,say_as\n", "no entries"),
    (b"word,say_as\nCaf\xe9,kaffay\n", "not UTF-8 text (byte 0xe9 at offset 15)"),
    (b'word,say_as\n"York,Yawk\n', "cannot read this row as CSV"),
])
def test_unreadable_csv_files_are_refused(data: bytes, says: str) -> None:
    assert says in str(refusal(data))


def test_a_doctype_is_refused_before_any_entity_expands() -> None:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lexicon [\n<!ENTITY a "aaaaaaaaaa">\n'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
            "<lexicon><lexeme><grapheme>&b;</grapheme><alias>x</alias></lexeme></lexicon>")
    error = refusal(bomb, "pls")
    [problem] = error.problems
    assert problem.field == "DOCTYPE" and problem.row == 2
    assert "line 2: a DOCTYPE is not accepted" in str(error)


@pytest.mark.parametrize(("xml", "line", "field", "value", "says"), [
    ("<lexicon>\n<lexeme>\n<grapheme>York</grapheme>\n</lexeme>\n</lexicon>", 3, "alias", "",
     "alias is missing for 'York' and there is no phoneme"),
    ("<lexicon>\n<lexeme><alias>x</alias></lexeme>\n</lexicon>", 2, "grapheme", "",
     "without a <grapheme>"),
    ("<lexicon>\n<lexeme><grapheme>York</grapheme><alias>a</alias></lexeme>\n"
     "<lexeme><grapheme>YORK</grapheme><alias>b</alias></lexeme>\n</lexicon>", 3, "grapheme",
     "YORK", "duplicate grapheme 'YORK' (first on line 2"),
    ('<lexicon alphabet="x-sampa">\n<lexeme><grapheme>York</grapheme>\n<phoneme>jO:k</phoneme>'
     "</lexeme></lexicon>", 3, "alphabet", "x-sampa", "alphabet 'x-sampa' is not supported"),
    ("<dictionary>\n</dictionary>", 1, "lexicon", "dictionary", "one <lexicon>"),
    ("<lexicon>\n<lexeme><grapheme>York</grapheme>\n</lexicon>", 3, "xml", None,
     "not well-formed XML"),
])
def test_bad_pls_lexemes_are_named_by_line_field_and_value(
        xml: str, line: int, field: str, value: object, says: str) -> None:
    error = refusal(xml, "pls")
    [problem] = error.problems
    assert (problem.row, problem.field, problem.value) == (line, field, value)
    assert says in problem.message
    assert f"line {line}: " in str(error)


# --- matching and substitution ------------------------------------------------------------------


def test_substitution_replaces_whole_words_only() -> None:
    d = csv_dict()
    assert pronunciation.substitute("Yorkshire is not York.", d) == "Yorkshire is not Yawk."
    assert pronunciation.substitute("Aldrics and _Aldric", d) == "Aldrics and _Aldric"


def test_substitution_ignores_case_and_keeps_punctuation() -> None:
    d = csv_dict()
    text = "ALDRIC! (york), aldric's \"Aldric\"? York-born."
    assert pronunciation.substitute(text, d) == (
        "ALL-drick! (Yawk), ALL-drick's \"ALL-drick\"? Yawk-born.")


def test_the_longest_entry_wins_and_substitution_is_one_pass() -> None:
    d = csv_dict()
    assert pronunciation.substitute("To New York, then York.", d) == "To Noo Yawk, then Yawk."
    assert pronunciation.substitute("new\n  york", d) == "Noo Yawk"
    prefix = csv_dict("word,say_as\nNew,Gnu\nNew York,Noo Yawk\nYork,Yawk\n")
    assert pronunciation.substitute("New York and New Town.", prefix) == (
        "Noo Yawk and Gnu Town.")
    loop = csv_dict("word,say_as\nYork,New York\nNew,Old\n")
    assert pronunciation.substitute("York", loop) == "New York"  # not "Old York"


def test_an_ipa_only_entry_keeps_its_word_and_case_sensitive_matching_is_an_option() -> None:
    d = csv_dict()
    assert pronunciation.substitute("The zorblax.", d) == "The zorblax."
    assert pronunciation.substitute("york York", d, case_sensitive=True) == "york Yawk"
    assert pronunciation.substitute("York", None) == "York"


def test_replace_decides_each_replacement() -> None:
    d = csv_dict()
    seen: list[tuple[str, str]] = []

    def mark(entry: Entry, matched: str) -> str:
        seen.append((entry.word, matched))
        return f"<{entry.ipa or entry.say_as}>"

    assert pronunciation.substitute("zorblax of NEW YORK", d, replace=mark) == (
        "<ˈzɔɹblæks> of <Noo Yawk>")
    assert seen == [("Zorblax", "zorblax"), ("New York", "NEW YORK")]


def test_words_in_names_the_entries_a_line_uses() -> None:
    d = csv_dict()
    assert pronunciation.words_in("From new york to YORK, said aldric.", d) == {
        "New York", "York", "Aldric"}
    assert pronunciation.words_in("Yorkshire pudding.", d) == set()
    assert pronunciation.words_in("York", None) == set()


def test_rules_are_phoneme_rules_where_ipa_is_given_else_alias_rules() -> None:
    rules = {r["string_to_replace"]: r for r in pronunciation.to_rules(csv_dict())}
    assert rules["York"] == {"string_to_replace": "York", "type": "alias", "alias": "Yawk",
                             "case_sensitive": False, "word_boundaries": True}
    assert rules["Thane"] == {"string_to_replace": "Thane", "type": "phoneme", "phoneme": "θeɪn",
                              "alphabet": "ipa", "case_sensitive": False,
                              "word_boundaries": True}
    assert rules["Zorblax"]["type"] == "phoneme" and len(rules) == 5


# --- where it is found --------------------------------------------------------------------------


def test_voicelab_pronunciations_names_a_file(tmp_path: Path) -> None:
    path = tmp_path / "words.csv"
    path.write_text(CSV, "utf-8")
    assert load_settings({"VOICELAB_PRONUNCIATIONS": str(path)}).pronunciations == path.resolve()
    assert load_settings({}).pronunciations is None


@pytest.mark.parametrize(("name", "says"), [("missing.csv", "no such file"),
                                            ("words.txt", "expected a pronunciations .csv")])
def test_voicelab_pronunciations_errors_name_the_variable(tmp_path: Path, name: str,
                                                          says: str) -> None:
    (tmp_path / "words.txt").write_text(CSV, "utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings({"VOICELAB_PRONUNCIATIONS": str(tmp_path / name)})
    assert info.value.variable == "VOICELAB_PRONUNCIATIONS"
    assert str(info.value).startswith("VOICELAB_PRONUNCIATIONS=") and says in str(info.value)


def test_found_beside_the_script_unless_the_setting_names_one(tmp_path: Path) -> None:
    script = tmp_path / "script.csv"
    assert pronunciation.find_for_script(script, Settings()) is None
    (tmp_path / "pronunciations.pls").write_text(PLS, "utf-8")
    found = pronunciation.find_for_script(script, Settings())
    assert found is not None and found.source == "pronunciations.pls"
    other = tmp_path / "elsewhere.csv"
    other.write_text("word,say_as\nBrenna,BREN-ah\n", "utf-8")
    chosen = pronunciation.find_for_script(script, Settings(pronunciations=other))
    assert chosen is not None and chosen.entries == (Entry("Brenna", "BREN-ah"),)
    assert pronunciation.find_for_script(None, Settings()) is None


def test_two_files_beside_the_script_are_refused(tmp_path: Path) -> None:
    (tmp_path / "pronunciations.pls").write_text(PLS, "utf-8")
    (tmp_path / "pronunciations.csv").write_text(CSV, "utf-8")
    with pytest.raises(PronunciationError) as info:
        pronunciation.find_for_script(tmp_path / "script.csv", Settings())
    assert "both pronunciations.csv and pronunciations.pls" in str(info.value)


# --- the job config -----------------------------------------------------------------------------


def write_job(tmp_path: Path, lines: list[tuple[str, str]]) -> Path:
    script = tmp_path / "script.csv"
    script.write_text("Function,Line\n" + "".join(f'{f},"{t}"\n' for f, t in lines), "utf-8")
    return script


def raw_config(script: Path, **extra: object) -> dict[str, object]:
    return {"skin_name": "Knight", "voice_ids": ["v1", "v2"], "variants": 3, "engine": "piper",
            "script_path": str(script), **extra}


def test_the_config_loads_the_dictionary_beside_the_script(tmp_path: Path) -> None:
    script = write_job(tmp_path, [("L1", "Hail, Aldric."), ("L2", "To York!")])
    assert jobspec.parse_config(raw_config(script)).pronunciations is None
    (tmp_path / "pronunciations.csv").write_text(CSV, "utf-8")
    config = jobspec.parse_config(raw_config(script))
    assert config.pronunciations is not None and config.pronunciations.hash == csv_dict().hash
    assert config.params()["pronunciations"] == "pronunciations.csv"
    assert "pronunciations" not in jobspec.parse_config(
        raw_config(script, pronunciations=None, script_path=None,
                   script_csv="Function,Line\nL1,Hi.\n")).params()


def test_the_jobs_own_path_wins_over_the_setting_and_the_file_beside(tmp_path: Path) -> None:
    script = write_job(tmp_path, [("L1", "Hail, Brenna.")])
    (tmp_path / "pronunciations.csv").write_text(CSV, "utf-8")
    (tmp_path / "own.csv").write_text("word,say_as\nBrenna,BREN-ah\n", "utf-8")
    setting = tmp_path / "setting.csv"
    setting.write_text("word,say_as\nHail,hayl\n", "utf-8")
    own = jobspec.parse_config(raw_config(script, pronunciations="own.csv"), base_dir=tmp_path,
                               settings=Settings(pronunciations=setting))
    assert own.pronunciations is not None and own.pronunciations.source == "own.csv"
    by_setting = jobspec.parse_config(raw_config(script), settings=Settings(pronunciations=setting))
    assert by_setting.pronunciations is not None
    assert by_setting.pronunciations.source == "setting.csv"


def test_a_bad_dictionary_is_a_config_problem_naming_file_row_and_value(tmp_path: Path) -> None:
    script = write_job(tmp_path, [("L1", "Hail.")])
    (tmp_path / "pronunciations.csv").write_text("word,say_as\nYork,\nyork,b\n", "utf-8")
    with pytest.raises(JobConfigError) as info:
        jobspec.parse_config(raw_config(script))
    problems = info.value.problems
    assert [p.field for p in problems] == ["pronunciations", "pronunciations"]
    assert problems[0].message.startswith("pronunciations.csv: row 2: say_as is missing for 'York'")
    assert problems[1].message.startswith("pronunciations.csv: row 3: duplicate word 'york'")
    assert problems[1].value == "york"


@pytest.mark.parametrize("value", [5, "", "  "])
def test_pronunciations_must_be_a_path(tmp_path: Path, value: object) -> None:
    script = write_job(tmp_path, [("L1", "Hail.")])
    with pytest.raises(JobConfigError) as info:
        jobspec.parse_config(raw_config(script, pronunciations=value))
    assert [p.field for p in info.value.problems] == ["pronunciations"]


def test_the_estimate_counts_characters_after_substitution(tmp_path: Path) -> None:
    lines = [("L1", "Hail, Aldric of York."), ("L2", "The zorblax sleeps.")]
    script = write_job(tmp_path, lines)
    plain = jobspec.estimate(jobspec.parse_config(raw_config(script)))
    (tmp_path / "pronunciations.csv").write_text(CSV, "utf-8")
    config = jobspec.parse_config(raw_config(script))
    spoken = len("Hail, ALL-drick of Yawk.") + len("The zorblax sleeps.")
    assert plain["characters"] == sum(len(t) for _, t in lines) * 3 * 2
    assert jobspec.estimate(config)["characters"] == spoken * 3 * 2
    assert jobspec.estimate(config)["characters"] != plain["characters"]


def test_a_line_too_long_once_substituted_is_refused(tmp_path: Path) -> None:
    text = "York " * 900  # 4500 characters; "Yawkshire-upon-Ouse " x 900 is far over 5000
    script = write_job(tmp_path, [("L1", text.strip())])
    (tmp_path / "pronunciations.csv").write_text("word,say_as\nYork,Yawkshire-upon-Ouse\n",
                                                 "utf-8")
    with pytest.raises(JobConfigError) as info:
        jobspec.parse_config(raw_config(script))
    [problem] = info.value.problems
    assert problem.row == 2 and "once the pronunciations are substituted" in problem.message
