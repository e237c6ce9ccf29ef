"""CTC decoding: greedy, and beam search: our CTC prefix search without a lexicon (asr/prefix_search.py), the
flashlight-text decoder with a lexicon and word n-gram LM or with hotwords.

Both take log-probs (B, T, V) and lengths (B,) and return one :class:`Hypothesis` per utterance.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from .errors import UsageError
from .hotwords import CharBiasLM, WordBiasLM, lexicon_with_hotwords
from .lexicon import UNK, lexicon_spellings, lexicon_trie
from .options import DecodeOptions
from .text import Tokenizer, normalize_text

__all__ = ["DecodeOptions", "Decoder", "Hypothesis", "make_decoder"]


@dataclass(frozen=True)
class Hypothesis:
    text: str
    tokens: list[int]  # token ids, blanks and repeats removed
    timesteps: list[int]  # output frame of each token
    score: float


class Decoder(Protocol):
    """What every decoder is: ``(log_probs (B, T, V), lens (B,)) → B hypotheses``."""

    def __call__(self, log_probs: torch.Tensor, lens: torch.Tensor) -> list[Hypothesis]: ...


def strip_separators(steps: list[tuple[int, int]], space: int) -> list[tuple[int, int]]:
    """(token, frame) pairs without leading or trailing word separators."""
    a, b = 0, len(steps)
    while a < b and steps[a][0] == space:
        a += 1
    while b > a and steps[b - 1][0] == space:
        b -= 1
    return steps[a:b]


class GreedyCollapse:
    """Best-path decoding, incremental: feed frames' argmax ids, read the tokens (repeats collapsed, blanks dropped)
    and the frame each was first emitted at. The one CTC collapse, offline (:class:`GreedyDecoder`) and streaming."""

    def __init__(self, blank: int) -> None:
        self.blank, self.prev, self.frames = blank, blank, 0
        self.tokens: list[int] = []
        self.steps: list[int] = []

    def accept(self, ids: list[int]) -> None:
        for t, i in enumerate(ids, start=self.frames):
            if i != self.prev and i != self.blank:
                self.tokens.append(i)
                self.steps.append(t)
            self.prev = i
        self.frames += len(ids)


class GreedyDecoder:
    """Best path: argmax per frame, collapse repeats, drop blanks."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer

    def __call__(self, log_probs: torch.Tensor, lens: torch.Tensor) -> list[Hypothesis]:
        best, idx = log_probs.detach().max(dim=-1)  # (B, T)
        hyps = []
        for b in range(log_probs.shape[0]):
            n = int(lens[b])
            path = GreedyCollapse(self.tokenizer.blank)
            path.accept(idx[b, :n].tolist())
            hyps.append(
                Hypothesis(self.tokenizer.decode(path.tokens), path.tokens, path.steps, float(best[b, :n].sum()))
            )
        return hyps


def greedy_search(log_probs: torch.Tensor, lens: torch.Tensor, tokenizer: Tokenizer) -> list[Hypothesis]:
    """:class:`GreedyDecoder` as a function. log_probs (B, T, V); lens (B,)."""
    return GreedyDecoder(tokenizer)(log_probs, lens)


class PrefixSearchDecoder:
    """CTC prefix beam search over tokens, without a lexicon or LM (:func:`asr.prefix_search.prefix_beam_search`)."""

    def __init__(self, tokenizer: Tokenizer, opts: DecodeOptions) -> None:
        self.tokenizer, self.opts = tokenizer, opts

    def __call__(self, log_probs: torch.Tensor, lens: torch.Tensor) -> list[Hypothesis]:
        from .prefix_search import prefix_beam_search  # numba: imported (and compiled) on first use

        o, tok = self.opts, self.tokenizer
        emissions = log_probs.detach().float().cpu()
        hyps = []
        for b in range(len(lens)):
            r = prefix_beam_search(
                emissions[b, : int(lens[b])].numpy(),
                tok.blank,
                tok.space,
                o.beam_size,
                o.beam_size_token,
                o.token_min_logp,
                o.beam_threshold,
            )
            keep = strip_separators(list(zip(r.tokens, r.frames)), tok.space)
            hyps.append(
                Hypothesis(tok.decode([t for t, _ in keep]), [t for t, _ in keep], [f for _, f in keep], r.score)
            )
        return hyps


class FlashlightDecoder:
    """flashlight-text's beam search: over words of a lexicon, with a word n-gram LM (``lm_weight`` × its
    log-probability and ``word_score`` per word) and hotword bonuses, or lexicon-free over characters with hotword
    bonuses only (asr/hotwords.py)."""

    def __init__(self, tokenizer: Tokenizer, opts: DecodeOptions) -> None:
        self.tokenizer, self.lexicon = tokenizer, bool(opts.lexicon)
        self.lock = threading.Lock()  # the search keeps its state in the decoder: one call at a time
        self.search = self._lexicon_search(opts) if opts.lexicon else self._free_search(opts)

    def _free_search(self, opts: DecodeOptions):
        """Lexicon-free search over tokens with the hotwords' character bonuses as its only LM."""
        from flashlight.lib.text import decoder as fl

        self.lm = CharBiasLM(opts.hotwords, self.tokenizer)  # kept: flashlight does not own the LM object
        options = fl.LexiconFreeDecoderOptions(
            opts.beam_size,
            opts.beam_size_token or len(self.tokenizer.tokens),
            opts.beam_threshold,
            1.0,  # LM weight: the bonuses are used as they are
            0.0,  # silence score
            opts.log_add,
            fl.CriterionType.CTC,
        )
        return fl.LexiconFreeDecoder(options, self.lm, self.tokenizer.space, self.tokenizer.blank, [])

    def _lexicon_search(self, opts: DecodeOptions):
        """Search over the lexicon's words (hotwords added) with the word LM, the hotword bonuses or both."""
        from flashlight.lib.text import decoder as fl
        from flashlight.lib.text.dictionary import Dictionary

        lines, extra, bonus = lexicon_with_hotwords(opts.lexicon, opts.hotwords)
        spellings = lexicon_spellings(lines, self.tokenizer, extra)
        self.words = Dictionary(list(spellings))  # word ids, in the lexicon's order
        unk = self.words.get_index(UNK)
        self.words.set_default_index(unk)
        base = kenlm(opts.lm, self.words) if opts.lm else None
        weight = opts.lm_weight if opts.lm else (1.0 if opts.hotwords else 0.0)  # scales LM scores, bonus included
        if opts.hotwords:
            self.lm = WordBiasLM({self.words.get_index(w): b / weight for w, b in bonus.items()}, base)
        else:
            self.lm = base if base is not None else fl.ZeroLM()
        options = fl.LexiconDecoderOptions(
            opts.beam_size,
            opts.beam_size_token or len(self.tokenizer.tokens),
            opts.beam_threshold,
            weight,
            opts.word_score,
            opts.unk_score,
            0.0,  # silence score
            opts.log_add,
            fl.CriterionType.CTC,
        )
        trie = lexicon_trie(spellings, self.tokenizer, self.lm)
        return fl.LexiconDecoder(options, trie, self.lm, self.tokenizer.space, self.tokenizer.blank, unk, [], False)

    def __call__(self, log_probs: torch.Tensor, lens: torch.Tensor) -> list[Hypothesis]:
        emissions = log_probs.detach().float().cpu()
        lens = lens.detach().cpu().long()
        if self.lexicon:
            # Lexicon spellings end with the word separator, but a CTC model trained on "a b" never emits a final
            # space: append one certain separator frame so the last word completes (log 1 = 0 changes no score).
            B, T, V = emissions.shape
            emissions = torch.cat([emissions, emissions.new_full((B, 1, V), float("-inf"))], dim=1)
            emissions[torch.arange(B), lens] = float("-inf")
            emissions[torch.arange(B), lens, self.tokenizer.space] = 0.0
            lens = lens + 1
        emissions = emissions.contiguous()
        hyps = []
        for b in range(emissions.shape[0]):
            ptr = emissions.data_ptr() + emissions.element_size() * b * emissions.stride(0)
            with self.lock:
                results = self.search.decode(ptr, int(lens[b]), emissions.shape[2])
            hyps.append(self._hypothesis(results[0]) if results else Hypothesis("", [], [], float("-inf")))
        return hyps

    def _hypothesis(self, result) -> Hypothesis:
        """Our hypothesis from flashlight's best: its frame path collapsed, without the separators flashlight puts
        at both ends; the words of the lexicon where there are some."""
        path, blank = list(result.tokens), self.tokenizer.blank
        steps = [(t, i) for i, t in enumerate(path) if t != blank and (i == 0 or t != path[i - 1])]
        keep = strip_separators(steps, self.tokenizer.space)
        words = [self.words.get_entry(w) for w in result.words if w >= 0] if self.lexicon else []
        text = normalize_text(" ".join(words)) if words else self.tokenizer.decode([t for t, _ in keep])
        return Hypothesis(text, [t for t, _ in keep], [s for _, s in keep], float(result.score))


def kenlm(path: str, words):
    """flashlight's KenLM scorer of the binary or ARPA LM at ``path`` over the word ids ``words``."""
    try:
        from flashlight.lib.text.decoder.kenlm import KenLM
    except ImportError:  # older flashlight-text releases
        from flashlight.lib.text.decoder import KenLM
    return KenLM(path, words)


def check_decode_options(tokenizer: Tokenizer, opts: DecodeOptions) -> None:
    """What can be checked before a decoder is built, in a moment: the lexicon and LM that ``opts`` names exist
    (FileNotFoundError), an LM comes with a lexicon and every hotword can be spelt in the model's units
    (UsageError); each a one-line error."""
    for name in ("lexicon", "lm"):
        p = getattr(opts, name)
        if p and not Path(p).is_file():
            raise FileNotFoundError(f"{p}: no such {name} file")
    if opts.lm and not opts.lexicon:
        raise UsageError("a word LM needs a lexicon (--lexicon)")
    for word, _ in opts.hotwords:
        spelt = tokenizer.spell(word)
        if not spelt or any(c not in tokenizer.index for c in spelt):
            raise UsageError(f"hotword '{word}': the model cannot spell it (outside its alphabet or units)")


def make_decoder(tokenizer: Tokenizer, opts: DecodeOptions) -> Decoder:
    """The decoder for ``opts``: greedy; flashlight with a lexicon (and LM) or hotwords; else prefix search."""
    if opts.decoder == "greedy":
        return GreedyDecoder(tokenizer)
    check_decode_options(tokenizer, opts)
    if opts.lexicon or opts.hotwords:
        return FlashlightDecoder(tokenizer, opts)
    return PrefixSearchDecoder(tokenizer, opts)
