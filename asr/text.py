"""Text normalisation and the character tokenizer.

``normalize_text`` is applied to training targets *and* to references and hypotheses before scoring, so the model is
trained and judged on the same alphabet.
"""

from __future__ import annotations

import re
import unicodedata

BLANK = "<blank>"  # CTC blank, always id 0
SPACE = " "
CHARS = [SPACE, "'"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]

_DIGITS = "zero one two three four five six seven eight nine".split()
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def normalize_text(text: str) -> str:
    """Lower-case a–z, apostrophes inside words and single spaces.

    Accents are stripped, digits are spelled one by one ("42" → "four two"), hyphens and other punctuation become
    word breaks.
    """
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = re.sub(r"[0-9]", lambda m: f" {_DIGITS[int(m.group())]} ", text)
    text = re.sub(r"[^a-z' ]+", " ", text)
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)  # quotes, not apostrophes
    return " ".join(text.split())


class CharTokenizer:
    """Characters ↔ ids. Id 0 is the CTC blank; the rest are space, apostrophe and a–z."""

    def __init__(self, tokens: list[str] | None = None) -> None:
        self.tokens = list(tokens) if tokens is not None else [BLANK] + CHARS
        if self.tokens[0] != BLANK:
            raise ValueError("token 0 must be the blank")
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.blank = 0
        self.space = self.index[SPACE]

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, text: str) -> list[int]:
        """Normalised text → ids (characters outside the vocabulary are dropped)."""
        return [self.index[c] for c in normalize_text(text) if c in self.index]

    def decode(self, ids: list[int]) -> str:
        """Ids (blanks and repeats already removed) → text with single spaces."""
        return " ".join("".join(self.tokens[i] for i in ids if i != self.blank).split())

    def state_dict(self) -> dict:
        return {"type": "char", "tokens": self.tokens}

    @classmethod
    def from_state_dict(cls, state: dict) -> "CharTokenizer":
        return cls(state["tokens"])
