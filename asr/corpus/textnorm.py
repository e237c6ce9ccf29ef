"""Written English → spoken words, for real transcripts: numbers, years, ordinals, money, times, abbreviations.

``normalize_transcript("Mr. Smith paid $3.50 on May 21st, 1948.")`` →
``"mister smith paid three dollars fifty cents on may twenty first nineteen forty eight"``.

Numbers are read the way people read them aloud: a four-digit number from 1100 to 2099 that is not a quantity
(no comma, no currency, no unit) is a year ("nineteen forty eight"), ``1990s`` → "nineteen nineties", a long digit
string (five digits or more, or with a leading zero) is read digit by digit (phone numbers, codes), other numbers
are cardinals ("four hundred and seven"). The result is in the model's alphabet (:func:`asr.text.normalize_text`).
"""

from __future__ import annotations

import re

from ..text import normalize_text

# Abbreviations that are always written with a full stop and always read the same way (case-sensitive).
_ABBREVIATIONS = {
    "Mr": "mister",
    "Mrs": "missus",
    "Ms": "miz",
    "Dr": "doctor",
    "Prof": "professor",
    "Capt": "captain",
    "Col": "colonel",
    "Gen": "general",
    "Lt": "lieutenant",
    "Sgt": "sergeant",
    "Jr": "junior",
    "Sr": "senior",
    "St": "saint",
    "Mt": "mount",
    "vs": "versus",
    "etc": "et cetera",
    "approx": "approximately",
}
_ABBREV_RE = re.compile(r"\b(" + "|".join(_ABBREVIATIONS) + r")\.(?=\s|$|,)")
_LATIN = [(re.compile(r"\be\.\s?g\.", re.I), " for example "), (re.compile(r"\bi\.\s?e\.", re.I), " that is ")]
_SYMBOLS = {"&": " and ", "%": " percent ", "@": " at ", "+": " plus ", "=": " equals ", "#": " number "}
_CURRENCY = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "€": ("euro", "euros", "cent", "cents"),
}

_MONEY_RE = re.compile(r"([$£€])\s?(\d[\d,]*)(?:\.(\d{1,2}))?")
_TIME_RE = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_DECADE_RE = re.compile(r"\b(1[1-9]|20)(\d0)'?s\b")
_ORDINAL_RE = re.compile(r"\b(\d+)(st|nd|rd|th)\b", re.I)
_NUMBER_RE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_DIGIT_RUN_RE = re.compile(r"(?<![\d.,])\d+(?:[ -]\d+)+(?![\d.,])")  # "0800 555 0199", "555-0199"


def _digit_run(m: re.Match) -> str:
    """Groups of digits read as one code (a phone number) when they add up to 7 digits or more, or one starts
    with 0; otherwise each group is a number of its own."""
    groups = re.split(r"[ -]", m.group())
    if sum(map(len, groups)) >= 7 or any(len(g) > 1 and g.startswith("0") for g in groups):
        return f" {' '.join(_digits(g) for g in groups)} "
    return " ".join(groups)


def _num2words(value, to: str = "cardinal") -> str:
    try:
        from num2words import num2words
    except ImportError:
        from ..errors import AsrError

        raise AsrError("preparing transcripts needs num2words (the [data] extra: pip install -e '.[data]')") from None

    return num2words(value, lang="en", to=to)


def _money(m: re.Match) -> str:
    one, many, sub_one, sub_many = _CURRENCY[m.group(1)]
    whole = int(m.group(2).replace(",", ""))
    words = f"{_num2words(whole)} {one if whole == 1 else many}"
    if m.group(3):
        sub = int(m.group(3).ljust(2, "0"))
        if sub:
            words += f" {_num2words(sub)} {sub_one if sub == 1 else sub_many}"
    return f" {words} "


def _time(m: re.Match) -> str:
    hours, minutes = int(m.group(1)), int(m.group(2))
    if hours > 24 or minutes > 59:
        return f" {_number(m.group(1))} {_number(m.group(2))} "
    if minutes == 0:
        return f" {_num2words(hours)} o'clock "
    return f" {_num2words(hours)} {'oh ' if minutes < 10 else ''}{_num2words(minutes)} "


def _decade(m: re.Match) -> str:
    words = _num2words(int(m.group(1) + m.group(2)), to="year").split()
    last = words[-1]
    words[-1] = last[:-1] + "ies" if last.endswith("y") else last + "s"
    return f" {' '.join(words)} "


def _ordinal(m: re.Match) -> str:
    return f" {_num2words(int(m.group(1)), to='ordinal')} "


def _digits(s: str) -> str:
    return " ".join(_num2words(int(c)) for c in s)


def _number(s: str) -> str:
    """One numeral as words: a year, a digit string, a decimal or a cardinal."""
    if "," in s and re.fullmatch(r"\d{1,3}(,\d{3})+", s):
        return _num2words(int(s.replace(",", "")))
    s = s.rstrip(",")
    if "," in s:  # "1,2,3": a list, not a number
        return " ".join(_number(p) for p in s.split(",") if p)
    if "." in s:
        whole, frac = s.split(".", 1)
        return f"{_number(whole)} point {_digits(frac)}"
    if len(s) > 1 and s.startswith("0") or len(s) >= 5:
        return _digits(s)
    value = int(s)
    if len(s) == 4 and 1100 <= value <= 2099:
        return _num2words(value, to="year")
    return _num2words(value)


def normalize_transcript(text: str) -> str:
    """A transcript as written (case, punctuation, numerals, abbreviations) → lower-case words of a–z and apostrophes.

    Examples: "Dr. Who's 2nd TARDIS" → "doctor who's second tardis"; "48 Ridge Road 407" →
    "forty eight ridge road four hundred and seven"; "Call 0800 555 0199" → "call zero eight zero zero five five
    five zero one nine nine" (digit groups of a phone number are read digit by digit).
    """
    for rx, words in _LATIN:
        text = rx.sub(words, text)
    text = _ABBREV_RE.sub(lambda m: f"{_ABBREVIATIONS[m.group(1)]} ", text)
    text = re.sub(r"\bNo\.\s?(?=\d)", "number ", text)
    text = _MONEY_RE.sub(_money, text)
    text = _TIME_RE.sub(_time, text)
    text = _DECADE_RE.sub(_decade, text)
    text = _ORDINAL_RE.sub(_ordinal, text)
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)  # "WD40" → "WD 40"
    text = _DIGIT_RUN_RE.sub(_digit_run, text)
    text = _NUMBER_RE.sub(lambda m: f" {_number(m.group())} ", text)
    for sym, words in _SYMBOLS.items():
        text = text.replace(sym, words)
    return normalize_text(text)
