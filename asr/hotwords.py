"""Hotword biasing inside the beam search: words the user expects get a bonus while they are being spelled.

The bonus is ``boost`` log-probability per letter of the hotword, so a longer word earns more (at most
``MAX_WORD_BONUS`` for a whole word, so a long boosted word cannot flood the output). It is given
*during* the search, not by rescoring finished hypotheses, which is what lets a word the acoustic model finds unlikely
survive pruning:

* lexicon-free search (:class:`CharBiasLM`): each character that continues a hotword from the start of a word earns
  the bonus; if the word then goes another way (or ends early) the bonus earned so far is taken back, so only whole
  hotwords keep it.
* lexicon search (:class:`WordBiasLM`): the hotword's score is raised by its whole bonus on top of the word
  n-gram LM (if any). Flashlight spreads each word's best score over its spelling prefixes ("smearing"), so partial
  hotwords are favoured too. Hotwords missing from the lexicon are added to it.

Both are flashlight ``LM`` subclasses; flashlight calls ``score`` once per (hypothesis, token or word).
"""

from __future__ import annotations

from pathlib import Path

from flashlight.lib.text.decoder import LM, LMState

from .options import MAX_WORD_BONUS
from .text import Tokenizer, lexicon_line


def word_bonus(word: str, boost: float) -> float:
    """A whole hotword's bonus: ``boost`` per letter, at most ``MAX_WORD_BONUS``."""
    return min(boost * len(word), MAX_WORD_BONUS)


class CharBiasLM(LM):
    """Character-level biasing for lexicon-free search: a trie of hotwords, walked from each word start."""

    def __init__(self, hotwords: tuple[tuple[str, float], ...], tokenizer: Tokenizer) -> None:
        super().__init__()
        self.space = tokenizer.space
        self.children: list[dict[int, int]] = [{}]  # trie node → {token: child node}; node 0 is the root
        self.bonus: list[float] = [0.0]  # bonus for reaching a node
        self.is_end: list[bool] = [False]
        for word, boost in hotwords:
            node = 0
            spelt = tokenizer.spell(word)  # letters, word pieces or phones, as the model spells it
            for piece in spelt:
                tok = tokenizer.index[piece]
                if tok not in self.children[node]:
                    self.children[node][tok] = len(self.children)
                    self.children.append({})
                    self.bonus.append(0.0)
                    self.is_end.append(False)
                node = self.children[node][tok]
                self.bonus[node] = max(self.bonus[node], word_bonus(word, boost) / len(spelt))
            self.is_end[node] = True
        self.states: dict[LMState, tuple[int, float]] = {}  # state → (trie node or -1, bonus so far)

    def start(self, start_with_nothing: bool) -> LMState:
        state = LMState()
        self.states = {state: (0, 0.0)}
        return state

    def score(self, state: LMState, token: int) -> tuple[LMState, float]:
        node, earned = self.states[state]
        child = state.child(token)
        if token == self.space:  # a word ends: keep the bonus of a whole hotword, take back a partial one
            new, delta = (0, 0.0), (0.0 if node > 0 and self.is_end[node] else -earned)
        elif node < 0:  # inside a word that is no hotword
            new, delta = (-1, 0.0), 0.0
        elif token in self.children[node]:
            nxt = self.children[node][token]
            new, delta = (nxt, earned + self.bonus[nxt]), self.bonus[nxt]
        else:
            new, delta = (-1, 0.0), -earned
        self.states[child] = new
        return child, delta

    def finish(self, state: LMState) -> tuple[LMState, float]:
        node, earned = self.states[state]
        return state, (0.0 if node > 0 and self.is_end[node] else -earned)


class WordBiasLM(LM):
    """Word-level biasing for lexicon search, added to an optional base LM (flashlight's KenLM).

    ``bonus`` maps word index → score added to the base LM's log-probability (already divided by the LM weight).
    """

    def __init__(self, bonus: dict[int, float], base=None) -> None:
        super().__init__()
        self.bonus, self.base = bonus, base
        self.states: dict = {}

    def start(self, start_with_nothing: bool) -> LMState:
        state = LMState()
        self.states = {state: self.base.start(start_with_nothing) if self.base is not None else None}
        return state

    def score(self, state: LMState, word: int) -> tuple[LMState, float]:
        child = state.child(word)
        score = self.bonus.get(word, 0.0)
        if self.base is not None:
            base_child, base_score = self.base.score(self.states[state], word)
            self.states[child] = base_child
            score += base_score
        else:
            self.states[child] = None
        return child, score

    def finish(self, state: LMState) -> tuple[LMState, float]:
        if self.base is None:
            return state, 0.0
        return state, self.base.finish(self.states[state])[1]


def lexicon_with_hotwords(
    lexicon: str, hotwords: tuple[tuple[str, float], ...]
) -> tuple[list[str], list[str], dict[str, float]]:
    """The lines of ``lexicon``, lines for the hotwords it lacks, and {lexicon word: bonus per word}.

    A hotword matches lexicon entries case-insensitively (LibriSpeech's lexicon is upper case).
    """
    lines = Path(lexicon).read_text(encoding="utf-8").splitlines()
    if not hotwords:
        return lines, [], {}
    entries: dict[str, list[str]] = {}
    for line in lines:
        if line.strip():
            entries.setdefault(line.split()[0].lower(), []).append(line.split()[0])
    bonus, extra = {}, []
    for word, boost in hotwords:
        for entry in entries.get(word, [word]):
            bonus[entry] = word_bonus(word, boost)
        if word not in entries:
            extra.append(lexicon_line(word, word))
    return lines, extra, bonus
