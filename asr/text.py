"""Text normalisation and the tokenizers: characters, characters plus word pieces, or phones.

``normalize_text`` is applied to training targets *and* to references and hypotheses before scoring, so the model is
trained and judged on the same alphabet. Word pieces are byte-pair-encoding merges learnt inside words; phones are
CMUdict's 39 phonemes, each word spelt by a pronunciation lexicon the tokenizer carries. In all three the space
between words is a token of its own, so everything that finds words by their separator (beam search, lexicons,
hotwords, word times) works the same for each tokenizer.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Protocol

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


WORD_END = "|"  # the word separator token in lexicon spellings (flashlight's convention)


def lexicon_line(word: str, pieces: Iterable[str]) -> str:
    """One lexicon line: the word (as the LM spells it), a tab, its tokens and ``WORD_END``, space-separated."""
    return f"{word}\t{' '.join(pieces)} {WORD_END}"


_ALPHABET_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")  # what normalize_text leaves a single word as


def lexicon_spelling(word: str) -> str:
    """A lexicon word in lower case if it is one word of the alphabet (a–z and inner apostrophes), else ""."""
    low = word.lower()
    return low if _ALPHABET_WORD.fullmatch(low) else ""


class Tokenizer(Protocol):
    """What the model, the decoders and training need of a tokenizer (:class:`CharTokenizer`,
    :class:`WordPieceTokenizer`): id 0 is the CTC blank, and the word separator is a token of its own."""

    tokens: list[str]  # id → token
    index: dict[str, int]  # token → id
    blank: int
    space: int

    def __len__(self) -> int: ...
    def encode(self, text: str) -> list[int]: ...
    def spell(self, word: str) -> list[str]: ...
    def spellings(self, word: str) -> list[list[str]]: ...
    def decode(self, ids: list[int]) -> str: ...
    def state_dict(self) -> dict: ...


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

    def spell(self, word: str) -> list[str]:
        """A normalised word → its tokens (here its letters); [] if a character is outside the alphabet."""
        return list(word) if all(c in self.index for c in word) else []

    def spellings(self, word: str) -> list[list[str]]:
        """Every way the model may spell ``word`` (a lexicon line each); one for characters and word pieces."""
        return [self.spell(word)]

    def decode(self, ids: list[int]) -> str:
        """Ids (blanks and repeats already removed) → text with single spaces."""
        return " ".join("".join(self.tokens[i] for i in ids if i != self.blank).split())

    def state_dict(self) -> dict:
        return {"type": "char", "tokens": self.tokens}

    @classmethod
    def from_state_dict(cls, state: dict) -> CharTokenizer:
        return cls(state["tokens"])


class WordPieceTokenizer(CharTokenizer):
    """The characters plus word pieces: ``merges`` are byte-pair merges applied inside each word, lowest rank first.

    Tokens are the blank, the characters, then each merged piece once (in merge order). Words are separated by the
    space token, as with :class:`CharTokenizer`.
    """

    def __init__(self, merges: Iterable[tuple[str, str]]) -> None:
        self.merges = [(a, b) for a, b in merges]
        pieces = dict.fromkeys(a + b for a, b in self.merges)
        super().__init__([BLANK] + CHARS + list(pieces))
        self.rank = {pair: r for r, pair in enumerate(self.merges)}
        self._cache: dict[str, list[str]] = {}

    def spell(self, word: str) -> list[str]:
        """A normalised word → its pieces: merge the adjacent pair of lowest rank until none is left."""
        if word in self._cache:
            return self._cache[word]
        if not all(c in self.index for c in word):
            return []
        symbols = list(word)
        while len(symbols) > 1:
            ranked = [(self.rank.get(p, len(self.rank)), i) for i, p in enumerate(zip(symbols, symbols[1:]))]
            best, _ = min(ranked)
            if best == len(self.rank):
                break
            symbols = _merge(symbols, self.merges[best])
        if len(self._cache) < 200_000:
            self._cache[word] = symbols
        return symbols

    def encode(self, text: str) -> list[int]:
        """Normalised text → ids: each word's pieces, words joined by the space token."""
        ids: list[int] = []
        for word in normalize_text(text).split():
            if ids:
                ids.append(self.space)
            ids.extend(self.index[p] for p in self.spell(word))
        return ids

    def state_dict(self) -> dict:
        return {"type": "wordpiece", "merges": [list(m) for m in self.merges]}

    @classmethod
    def from_state_dict(cls, state: dict) -> WordPieceTokenizer:
        return cls(tuple(m) for m in state["merges"])


def _merge(symbols: list[str], pair: tuple[str, str]) -> list[str]:
    """Replace each adjacent occurrence of ``pair`` (left to right) by the joined piece."""
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and symbols[i] == pair[0] and symbols[i + 1] == pair[1]:
            out.append(pair[0] + pair[1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return out


def learn_word_pieces(texts: Iterable[str], size: int) -> list[tuple[str, str]]:
    """Up to ``size`` byte-pair merges learnt from the words of ``texts`` (normalised first).

    Each step merges the adjacent pair that occurs most often (ties: the pair that sorts first); pairs seen only
    once are never merged. Deterministic for the same texts.
    """
    counts = Counter(w for t in texts for w in normalize_text(t).split())
    words = [list(w) for w in counts]
    freqs = list(counts.values())
    pairs: Counter = Counter()
    where: dict[tuple[str, str], set[int]] = defaultdict(set)
    for i, w in enumerate(words):
        for p in zip(w, w[1:]):
            pairs[p] += freqs[i]
            where[p].add(i)
    merges: list[tuple[str, str]] = []
    while len(merges) < size and pairs:
        best, n = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        if n < 2:
            break
        merges.append(best)
        for i in sorted(where.pop(best)):
            old = words[i]
            for p in zip(old, old[1:]):
                pairs[p] -= freqs[i]
                if pairs[p] <= 0:
                    del pairs[p]
            words[i] = new = _merge(old, best)
            for p in zip(new, new[1:]):
                pairs[p] += freqs[i]
                where[p].add(i)
    return merges


class PhoneTokenizer:
    """Phones ↔ ids, words ↔ phones through a pronunciation lexicon carried with the model.

    Tokens are the blank, the word separator (space) and CMUdict's 39 phonemes. ``lexicon`` maps each word to its
    pronunciations (the first is used for training targets; all are offered to the lexicon beam search). A word
    outside it is pronounced by the G2P (:mod:`asr.pronounce`). Decoding phones back to words without a beam search
    (greedy, streaming partials) looks each word's phones up, most frequent word first, or takes the word whose
    pronunciation is the fewest phone edits away.
    """

    def __init__(self, lexicon: dict[str, list[tuple[str, ...]]] | str) -> None:
        """``lexicon``: word → pronunciations, or its :meth:`state_dict` text (read on first use: a model decoded by
        the lexicon search, whose spellings are cached, never needs it; 100k words take 0.6 s)."""
        from .pronounce import PHONES

        self.tokens = [BLANK, SPACE] + list(PHONES)
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.blank, self.space = 0, 1
        self._text = lexicon if isinstance(lexicon, str) else None
        self._lexicon = None if isinstance(lexicon, str) else _clean_lexicon(lexicon)
        self._reverse: dict[tuple[int, ...], str] | None = None  # built on first use (:attr:`_words`)
        self._keys: list[str] | None = None  # each pronunciation as a string of one character per phone
        self._guessed: dict[str, list[tuple[str, ...]]] = {}

    @property
    def lexicon(self) -> dict[str, list[tuple[str, ...]]]:
        """Word → its pronunciations (tuples of phones), in the lexicon's order."""
        if self._lexicon is None:  # parsed whole, then published (threads may ask at once)
            lexicon = {}
            for line in self._text.split("\n"):
                word, *prons = line.split("\t")
                if prons:
                    lexicon[word] = [tuple(p.split()) for p in prons]
            self._lexicon = lexicon
        return self._lexicon

    @property
    def _words(self) -> dict[tuple[int, ...], str]:
        """Phone ids → the first word (in lexicon order) said so; guessed words are added as they are spelt."""
        if self._reverse is None:  # built whole, then published: threads decoding at once never see it half-built
            words: dict[tuple[int, ...], str] = {}
            for w, prons in self.lexicon.items():
                for p in prons:
                    words.setdefault(tuple(self.index[x] for x in p), w)
            self._reverse = words
        return self._reverse

    def __len__(self) -> int:
        return len(self.tokens)

    def spellings(self, word: str) -> list[list[str]]:
        """A normalised word → its pronunciations (lexicon, else the G2P's guess; [] if it has none)."""
        prons = self.lexicon.get(word) or self._guessed.get(word)
        if prons is None:
            from .pronounce import pronounce

            prons = self._guessed[word] = pronounce([word]).get(word, [])
            for p in prons:  # a word it was asked to spell (a hotword) can be read back too
                self._words.setdefault(tuple(self.index[x] for x in p), word)
            self._keys = None
        return [list(p) for p in prons]

    def spell(self, word: str) -> list[str]:
        """A normalised word → its first pronunciation."""
        prons = self.spellings(word)
        return prons[0] if prons else []

    def encode(self, text: str) -> list[int]:
        """Normalised text → phone ids, words joined by the space token (unpronounceable words are dropped)."""
        ids: list[int] = []
        for word in normalize_text(text).split():
            phones = self.spell(word)
            if phones:
                if ids:
                    ids.append(self.space)
                ids.extend(self.index[p] for p in phones)
        return ids

    def _nearest(self, phones: tuple[int, ...]) -> str:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        if self._keys is None:
            self._key_words = list(self._words.values())
            self._keys = ["".join(chr(0x100 + i) for i in k) for k in self._words]
        query = "".join(chr(0x100 + i) for i in phones)
        best = process.extractOne(query, self._keys, scorer=Levenshtein.distance)
        return self._key_words[best[2]] if best else ""

    def decode(self, ids: list[int]) -> str:
        """Phone ids (blanks and repeats removed) → words: each run of phones between separators is looked up."""
        words, run = [], []
        for i in [*ids, self.space]:
            if i == self.space:
                if run:
                    key = tuple(run)
                    words.append(self._words.get(key) or self._nearest(key))
                run = []
            elif i != self.blank:
                run.append(i)
        return " ".join(w for w in words if w)

    def state_dict(self) -> dict:
        """The lexicon as one string (``word<TAB>P H O N E S<TAB>VARIANT 2…`` per line): compact in a checkpoint."""
        if self._text is None:
            self._text = "\n".join("\t".join([w, *(" ".join(p) for p in prons)]) for w, prons in self.lexicon.items())
        return {"type": "phone", "tokens": self.tokens, "lexicon": self._text}

    @classmethod
    def from_state_dict(cls, state: dict) -> PhoneTokenizer:
        """From :meth:`state_dict`, or a checkpoint's packed form (``lexicon_xz``: the lexicon xz-compressed, as a
        uint8 tensor or bytes; asr.checkpoint.packed)."""
        text = state.get("lexicon")
        if text is None:
            import lzma

            xz = state["lexicon_xz"]
            text = lzma.decompress(xz if isinstance(xz, bytes) else xz.numpy().tobytes()).decode("utf-8")
        tok = cls(text)
        if tok.tokens != list(state["tokens"]):
            raise ValueError("the checkpoint's phone set differs from this version's")
        return tok


def _clean_lexicon(lexicon: dict[str, list[tuple[str, ...]]]) -> dict[str, list[tuple[str, ...]]]:
    """Words with at least one pronunciation, each a tuple of phones."""
    return {w: [tuple(p) for p in prons] for w, prons in lexicon.items() if prons}


UNITS = ("char", "phone")


def build_tokenizer(
    word_pieces: int, texts: Iterable[str], units: str = "char", words: Iterable[str] = ()
) -> Tokenizer:
    """Characters (``word_pieces=0``), characters plus up to ``word_pieces`` pieces learnt from ``texts``, or phones
    (``units="phone"``) with a lexicon for the words of ``texts`` (most frequent first) and then ``words``."""
    if units == "phone":
        from .pronounce import pronounce

        counts = Counter(w for t in texts for w in normalize_text(t).split())
        vocab = [w for w, _ in counts.most_common()] + [w for w in words if w not in counts]
        return PhoneTokenizer(pronounce(vocab))
    texts = list(texts)
    return WordPieceTokenizer(learn_word_pieces(texts, word_pieces)) if word_pieces else CharTokenizer()


def tokenizer_from_state(state: dict) -> Tokenizer:
    """The tokenizer a checkpoint's ``state["tokenizer"]`` describes."""
    kind = state.get("type", "char")
    if kind == "wordpiece":
        return WordPieceTokenizer.from_state_dict(state)
    if kind == "phone":
        return PhoneTokenizer.from_state_dict(state)
    return CharTokenizer.from_state_dict(state)
