"""CTC decoding: greedy, and beam search: our CTC prefix search without a lexicon (asr/prefix_search.py), torchaudio's
flashlight decoder with a lexicon and word n-gram LM or with hotwords.

Both take log-probs (B, T, V) and lengths (B,) and return one :class:`Hypothesis` per utterance.
"""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from .errors import UsageError
from .hotwords import CharBiasLM, WordBiasLM, lexicon_with_hotwords
from .options import DecodeOptions
from .text import BLANK, SPACE, WORD_END, CharTokenizer, Tokenizer, lexicon_line, lexicon_spelling, normalize_text

__all__ = ["DecodeOptions", "Decoder", "Hypothesis", "make_decoder"]

FL_SPACE = WORD_END  # flashlight's word separator token
TRIE_LABELS = 6  # words flashlight's lexicon trie keeps per spelling


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
    """torchaudio's flashlight beam search: over words of a lexicon, with a word n-gram LM (``lm_weight`` × its
    log-probability and ``word_score`` per word) and hotword bonuses, or lexicon-free over characters with hotword
    bonuses only (asr/hotwords.py)."""

    def __init__(self, tokenizer: Tokenizer, opts: DecodeOptions) -> None:
        from torchaudio.models.decoder import ctc_decoder

        self.tokenizer, self.lexicon = tokenizer, bool(opts.lexicon)
        self.lock = threading.Lock()  # the search keeps its state in the decoder: one call at a time
        with tempfile.TemporaryDirectory() as tmp:
            lexicon, lm, weight = self._lexicon_and_lm(opts, Path(tmp) / "lexicon.txt")
            self.decoder = ctc_decoder(
                lexicon=lexicon,
                lm=lm,
                lm_weight=weight,
                tokens=[FL_SPACE if t == SPACE else t for t in tokenizer.tokens],
                nbest=1,
                beam_size=opts.beam_size,
                beam_size_token=opts.beam_size_token or None,
                beam_threshold=opts.beam_threshold,
                word_score=opts.word_score,
                unk_score=opts.unk_score,
                sil_score=0.0,
                log_add=opts.log_add,
                blank_token=BLANK,
                sil_token=FL_SPACE,
                unk_word="<unk>",
            )

    def _lexicon_and_lm(self, opts: DecodeOptions, tmp_lexicon: Path):
        """The lexicon path (None: lexicon-free), the LM (a path, a scorer object or None) and its weight."""
        if not opts.lexicon:
            return None, CharBiasLM(opts.hotwords, self.tokenizer), 1.0
        bonus = lexicon_with_hotwords(opts.lexicon, opts.hotwords, tmp_lexicon)
        if type(self.tokenizer) is not CharTokenizer:  # word pieces or phones: the file spells in letters
            respell_lexicon(tmp_lexicon, tmp_lexicon, self.tokenizer)
        if not opts.hotwords:
            return str(tmp_lexicon), opts.lm, opts.lm_weight if opts.lm else 0.0
        from flashlight.lib.text.decoder.kenlm import KenLM
        from flashlight.lib.text.dictionary import create_word_dict, load_words

        weight = opts.lm_weight if opts.lm else 1.0  # flashlight multiplies LM scores, bonus included, by this
        words = create_word_dict(load_words(str(tmp_lexicon)))  # the same word ids ctc_decoder assigns
        base = KenLM(opts.lm, words) if opts.lm else None
        return str(tmp_lexicon), WordBiasLM({words.get_index(w): b / weight for w, b in bonus.items()}, base), weight

    def __call__(self, log_probs: torch.Tensor, lens: torch.Tensor) -> list[Hypothesis]:
        emissions = log_probs.detach().float().cpu()
        lens = lens.detach().cpu().to(torch.int32)
        if self.lexicon:
            # Lexicon spellings end with the word separator, but a CTC model trained on "a b" never emits a final
            # space: append one certain separator frame so the last word completes (log 1 = 0 changes no score).
            B, T, V = emissions.shape
            emissions = torch.cat([emissions, emissions.new_full((B, 1, V), float("-inf"))], dim=1)
            emissions[torch.arange(B), lens.long()] = float("-inf")
            emissions[torch.arange(B), lens.long(), self.tokenizer.space] = 0.0
            lens = lens + 1
        with self.lock:
            results = self.decoder(emissions.contiguous(), lens)
        hyps = []
        for res in results:
            if not res:
                hyps.append(Hypothesis("", [], [], float("-inf")))
                continue
            h = res[0]
            # Flashlight puts separators at both ends; keep the ids of real characters and inner spaces only.
            steps = [(int(t), int(s)) for t, s in zip(h.tokens, h.timesteps) if int(t) != self.tokenizer.blank]
            keep = strip_separators(steps, self.tokenizer.space)
            text = normalize_text(" ".join(h.words)) if h.words else self.tokenizer.decode([t for t, _ in keep])
            hyps.append(Hypothesis(text, [t for t, _ in keep], [s for _, s in keep], float(h.score)))
        return hyps


def respell_lexicon(src: str | Path, dst: str | Path, tokenizer: Tokenizer) -> int:
    """Write lexicon ``src`` to ``dst`` with each word spelt in ``tokenizer``'s units (word pieces; phones, a line per
    pronunciation); returns the lines written.

    The words keep their case (LibriSpeech's are upper case); words with letters outside the alphabet, or that the
    tokenizer cannot spell, are dropped. A word listed twice (pronunciation variants) is spelt once. A spelling
    shared by more than ``TRIE_LABELS`` words (homophones) keeps the first ones: flashlight's trie holds no more, so
    list the lexicon most frequent word first.
    """
    out, seen, shared = [], set(), Counter()
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        word = line.split()[0]
        spelling = lexicon_spelling(word)
        if spelling and word not in seen:
            seen.add(word)
            for s in tokenizer.spellings(spelling):
                shared[tuple(s)] += 1
                if s and shared[tuple(s)] <= TRIE_LABELS:
                    out.append(lexicon_line(word, s))
    Path(dst).write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


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
