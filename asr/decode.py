"""CTC decoding: greedy, and beam search: our CTC prefix search without a lexicon (asr/prefix_search.py), torchaudio's
flashlight decoder with a lexicon and word n-gram LM or with hotwords.

Both take log-probs (B, T, V) and lengths (B,) and return one :class:`Hypothesis` per utterance.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .errors import UsageError
from .hotwords import CharBiasLM, WordBiasLM, lexicon_with_hotwords
from .text import BLANK, SPACE, CharTokenizer, WordPieceTokenizer, lexicon_spelling, normalize_text

FL_SPACE = "|"  # flashlight's word separator token


@dataclass(frozen=True)
class DecodeOptions:
    decoder: str = "greedy"  # "greedy" or "beam"
    beam_size: int = 32  # hypotheses kept per frame
    beam_size_token: int = 8  # tokens considered per frame (0 = all); 8 measured 3x faster than all, same WER
    token_min_logp: float = -5.0  # lexicon-free search: tokens less likely than this in a frame are not tried
    beam_threshold: float = 25.0  # prune hypotheses scoring this far below the best
    lexicon: str | None = None  # lexicon file ("word w o r d |" per line; respelt for word pieces); needed by an LM
    lm: str | None = None  # ARPA or KenLM binary word n-gram LM
    lm_weight: float = 1.5  # LM score weight (tuning in docs/model_card.md)
    word_score: float = 0.0  # insertion bonus per word
    unk_score: float = float("-inf")  # score of out-of-lexicon words (lexicon mode)
    hotwords: tuple[tuple[str, float], ...] = ()  # (word, bonus per character) pairs, see asr/hotwords.py
    log_add: bool = True  # flashlight (lexicon, hotwords): merge equal-text hypotheses by log-sum-exp, not max

    def __post_init__(self) -> None:
        if self.decoder not in ("greedy", "beam"):
            raise UsageError(f"unknown decoder '{self.decoder}' (greedy or beam)")
        if self.beam_size < 1:
            raise UsageError(f"beam size must be at least 1, got {self.beam_size}")
        if self.beam_size_token < 0:
            raise UsageError(f"beam_size_token must be 0 (all) or more, got {self.beam_size_token}")
        if self.beam_threshold <= 0:
            raise UsageError(f"beam threshold must be positive, got {self.beam_threshold}")


ASSETS = Path(__file__).parent / "assets"
BUNDLED_LM = ASSETS / "lm.bin"  # word 3-gram (KenLM binary) from book text and sentences; see docs/model_card.md
BUNDLED_LEXICON = ASSETS / "lexicon.txt"
BUNDLED_LM_WEIGHT = 1.5  # tuned with the bundled model on the real dev set (docs/model_card.md)
BUNDLED_WORD_SCORE = 1.0


def bundled_lm_available() -> bool:
    return BUNDLED_LM.is_file() and BUNDLED_LEXICON.is_file()


def default_decode_options(**overrides) -> DecodeOptions:
    """How the bundled model decodes by default: beam search with the bundled word LM (greedy without it)."""
    if not bundled_lm_available():
        return DecodeOptions(**overrides)
    kw = {
        "decoder": "beam",
        "lm": str(BUNDLED_LM),
        "lexicon": str(BUNDLED_LEXICON),
        "lm_weight": BUNDLED_LM_WEIGHT,
        "word_score": BUNDLED_WORD_SCORE,
    }
    return DecodeOptions(**(kw | overrides))


@dataclass(frozen=True)
class Hypothesis:
    text: str
    tokens: list[int]  # token ids, blanks and repeats removed
    timesteps: list[int]  # output frame of each token
    score: float


def greedy_search(log_probs: torch.Tensor, lens: torch.Tensor, tokenizer: CharTokenizer) -> list[Hypothesis]:
    """Best path: argmax per frame, collapse repeats, drop blanks.

    Args:
        log_probs: (B, T, V); lens: (B,).
    """
    best, idx = log_probs.detach().max(dim=-1)  # (B, T)
    hyps = []
    for b in range(log_probs.shape[0]):
        n = int(lens[b])
        ids = idx[b, :n].tolist()
        tokens, steps, prev = [], [], tokenizer.blank
        for t, i in enumerate(ids):
            if i != prev and i != tokenizer.blank:
                tokens.append(i)
                steps.append(t)
            prev = i
        hyps.append(Hypothesis(tokenizer.decode(tokens), tokens, steps, float(best[b, :n].sum())))
    return hyps


class BeamSearchDecoder:
    """CTC beam search.

    Without a lexicon it searches over characters (no LM) with :func:`asr.prefix_search.prefix_beam_search`. With a
    lexicon it searches over words with flashlight (``torchaudio.models.decoder.ctc_decoder``) and, given ``lm``,
    adds ``lm_weight`` × the n-gram log-probability and ``word_score`` per word. ``hotwords`` bias either search
    through flashlight (asr/hotwords.py).
    """

    def __init__(self, tokenizer: CharTokenizer, opts: DecodeOptions) -> None:
        from torchaudio.models.decoder import ctc_decoder

        if opts.lm and not opts.lexicon:
            raise UsageError("a word LM needs a lexicon (--lexicon)")
        for name in ("lexicon", "lm"):
            p = getattr(opts, name)
            if p and not Path(p).is_file():
                raise FileNotFoundError(f"{p}: no such {name} file")
        self.tokenizer = tokenizer
        self.lexicon = bool(opts.lexicon)
        self.opts = opts
        self.decoder = None
        if not opts.lexicon and not opts.hotwords:
            return  # prefix search
        fl_tokens = [FL_SPACE if t == SPACE else t for t in tokenizer.tokens]
        kw = dict(
            tokens=fl_tokens,
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
        for word, _ in opts.hotwords:
            if any(c not in tokenizer.index for c in word):
                raise UsageError(f"hotword '{word}': characters outside the model's alphabet")
        if not opts.lexicon:
            self.lm = CharBiasLM(opts.hotwords, tokenizer)
            self.decoder = ctc_decoder(lexicon=None, lm=self.lm, lm_weight=1.0, **kw)
            return
        from flashlight.lib.text.decoder.kenlm import KenLM
        from flashlight.lib.text.dictionary import create_word_dict, load_words

        with tempfile.TemporaryDirectory() as tmp:
            lexicon = Path(tmp) / "lexicon.txt"
            bonus = lexicon_with_hotwords(opts.lexicon, opts.hotwords, lexicon)
            if isinstance(tokenizer, WordPieceTokenizer):
                respell_lexicon(lexicon, lexicon, tokenizer)
            if not opts.hotwords:
                self.decoder = ctc_decoder(
                    lexicon=str(lexicon), lm=opts.lm, lm_weight=opts.lm_weight if opts.lm else 0.0, **kw
                )
                return
            weight = opts.lm_weight if opts.lm else 1.0  # flashlight multiplies LM scores, bonus included, by this
            words = create_word_dict(load_words(str(lexicon)))  # the same word ids ctc_decoder assigns
            base = KenLM(opts.lm, words) if opts.lm else None
            self.lm = WordBiasLM({words.get_index(w): b / weight for w, b in bonus.items()}, base)
            self.decoder = ctc_decoder(lexicon=str(lexicon), lm=self.lm, lm_weight=weight, **kw)

    def __call__(self, log_probs: torch.Tensor, lens: torch.Tensor) -> list[Hypothesis]:
        """(B, T, V), (B,) → B hypotheses."""
        emissions = log_probs.detach().float().cpu()
        lens = lens.detach().cpu().to(torch.int32)
        if self.decoder is None:
            return [self._prefix_search(emissions[b, : int(lens[b])].numpy()) for b in range(len(lens))]
        if self.lexicon:
            # Lexicon spellings end with the word separator, but a CTC model trained on "a b" never emits a final
            # space: append one certain separator frame so the last word completes (log 1 = 0 changes no score).
            B, T, V = emissions.shape
            emissions = torch.cat([emissions, emissions.new_full((B, 1, V), float("-inf"))], dim=1)
            emissions[torch.arange(B), lens.long()] = float("-inf")
            emissions[torch.arange(B), lens.long(), self.tokenizer.space] = 0.0
            lens = lens + 1
        results = self.decoder(emissions.contiguous(), lens)
        hyps = []
        for res in results:
            if not res:
                hyps.append(Hypothesis("", [], [], float("-inf")))
                continue
            h = res[0]
            tokens = [int(t) for t in h.tokens]
            steps = [int(t) for t in h.timesteps]
            # Flashlight puts separators at both ends; keep the ids of real characters and inner spaces only.
            keep = self._strip_separators([(t, s) for t, s in zip(tokens, steps) if t != self.tokenizer.blank])
            text = normalize_text(" ".join(h.words)) if h.words else self.tokenizer.decode([t for t, _ in keep])
            hyps.append(Hypothesis(text, [t for t, _ in keep], [s for _, s in keep], float(h.score)))
        return hyps

    def _strip_separators(self, steps: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """(token, frame) pairs without leading or trailing word separators."""
        a, b = 0, len(steps)
        while a < b and steps[a][0] == self.tokenizer.space:
            a += 1
        while b > a and steps[b - 1][0] == self.tokenizer.space:
            b -= 1
        return steps[a:b]

    def _prefix_search(self, emissions: np.ndarray) -> Hypothesis:
        """(T, V) log-probs → the best hypothesis, without leading or trailing separators."""
        from .prefix_search import prefix_beam_search  # numba: imported (and compiled) on first use

        o, tok = self.opts, self.tokenizer
        r = prefix_beam_search(
            emissions, tok.blank, tok.space, o.beam_size, o.beam_size_token, o.token_min_logp, o.beam_threshold
        )
        keep = self._strip_separators(list(zip(r.tokens, r.frames)))
        return Hypothesis(tok.decode([t for t, _ in keep]), [t for t, _ in keep], [f for _, f in keep], r.score)


def respell_lexicon(src: str | Path, dst: str | Path, tokenizer: CharTokenizer) -> int:
    """Write lexicon ``src`` to ``dst`` with each word spelt in ``tokenizer``'s pieces; returns the words kept.

    The words keep their case (LibriSpeech's are upper case); words with letters outside the alphabet are dropped.
    """
    out = []
    for line in Path(src).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        word = line.split()[0]
        if spelling := lexicon_spelling(word):
            out.append(f"{word}\t{' '.join(tokenizer.spell(spelling))} {FL_SPACE}")
    Path(dst).write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def make_decoder(tokenizer: CharTokenizer, opts: DecodeOptions):
    """A callable ``(log_probs (B, T, V), lens (B,)) → list[Hypothesis]`` for ``opts.decoder``."""
    if opts.decoder == "greedy":  # DecodeOptions allows only "greedy" and "beam"
        return lambda lp, lens: greedy_search(lp, lens, tokenizer)
    return BeamSearchDecoder(tokenizer, opts)
