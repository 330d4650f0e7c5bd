"""Words to compare: normalising script text and recogniser output, and their word error rate.

Both sides are normalised alike (case, punctuation, numbers as words), so a take is not marked
wrong for saying "twenty one" where the script wrote "21!".
"""

from __future__ import annotations

import re
import unicodedata

import jiwer

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_WORDS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
                  "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?!\d)")
_NUMBER = re.compile(r"(\d+)(?:(st|nd|rd|th)\b|\.(\d+))?")
_SYMBOLS = {"%": " percent ", "&": " and ", "+": " plus ", "@": " at "}
_NOT_WORD = re.compile(r"[^\w']+|_")


def number_words(n: int) -> str:
    """A whole number in words, US style without "and": 21 -> "twenty one", 105 -> "one hundred
    five", -3 -> "minus three"."""
    if n < 0:
        return f"minus {number_words(-n)}"
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    for size, name in _SCALES:
        if n >= size:
            high, rest = divmod(n, size)
            return f"{number_words(high)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def ordinal_words(n: int) -> str:
    """1 -> "first", 21 -> "twenty first", 40 -> "fortieth", 100 -> "one hundredth"."""
    *head, last = number_words(n).split()
    if last in _ORDINAL_WORDS:
        last = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return " ".join([*head, last])


def _spell(match: re.Match[str]) -> str:
    whole, suffix, decimals = match.group(1), match.group(2), match.group(3)
    if suffix:
        return f" {ordinal_words(int(whole))} "
    words = number_words(int(whole))
    if decimals:
        words += " point " + " ".join(_ONES[int(d)] for d in decimals)
    return f" {words} "


def normalize(text: str) -> str:
    """Lower case, numbers as words, punctuation gone, single spaces: what WER compares.

    "The 3 gates, 21st of May!" -> "the three gates twenty first of may". Apostrophes inside
    words stay ("don't"); hyphens split words ("twenty-one" -> "twenty one").
    """
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    text = _GROUPED.sub(lambda m: m.group(0).replace(",", ""), text)
    text = _NUMBER.sub(_spell, text)
    for symbol, words in _SYMBOLS.items():
        text = text.replace(symbol, words)
    stripped = (word.strip("'") for word in _NOT_WORD.sub(" ", text).split())
    return " ".join(word for word in stripped if word)


def word_error_rate(reference: str, hypothesis: str) -> float | None:
    """The word error rate of `hypothesis` against `reference` after `normalize` (0 = every word
    right; can pass 1 when words are inserted), rounded to 3 places; None when the reference
    has no words (nothing to check)."""
    truth, heard = normalize(reference), normalize(hypothesis)
    if not truth:
        return None
    if not heard:
        return 1.0
    return round(float(jiwer.wer(truth, heard)), 3)
