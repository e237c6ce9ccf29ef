"""Word times and confidences for a decoded utterance: CTC forced alignment of the hypothesis' tokens, then each
word's span fitted to the sound.

Used by offline transcription and by streaming finals alike (:func:`align_words`).
"""

from __future__ import annotations

import numpy as np
import torch

from .audio import frame_energy_db
from .decode import Hypothesis
from .results import Word
from .text import Tokenizer

FRAME_CENTER = 0.0125  # seconds from an output frame's start to the centre of its first analysis window


def align_words(
    log_probs: torch.Tensor,
    hyp: Hypothesis,
    tokenizer: Tokenizer,
    frame_shift: float,
    offset: float = 0.0,
    audio: np.ndarray | None = None,
) -> list[Word]:
    """The words of ``hyp`` with start and end times (seconds, plus ``offset``) and confidences (the mean
    probability of their tokens on the aligned frames).

    Args:
        log_probs: (T, V) the utterance's log-probs, ``frame_shift`` seconds per frame.
        hyp: the decoder's hypothesis for them.
        audio: (N,) the utterance's samples at 16 kHz; given, word spans are fitted to the sound
            (:func:`refine_word_times`).
    """
    if not hyp.tokens:
        return []
    spans = token_spans(log_probs.detach().float().cpu().numpy(), hyp.tokens, tokenizer.blank)
    if spans is None:  # too few frames for the tokens: use the decoder's timesteps
        spans = [(t, s, s + 1, float(log_probs[s, t].exp())) for t, s in zip(hyp.tokens, hyp.timesteps)]
    groups, cur = [], []
    for span in spans + [(tokenizer.space, 0, 0, 0.0)]:
        if span[0] != tokenizer.space:
            cur.append(span)
        elif cur:
            groups.append(cur)
            cur = []
    times = [(g[0][1] * frame_shift + FRAME_CENTER, g[-1][2] * frame_shift + FRAME_CENTER) for g in groups]
    if audio is not None:
        times = refine_word_times(times, audio)
    # The decoder's words where it gave one per group (a phone model's words are not its tokens), else spelt out.
    said = hyp.text.split()
    if len(said) != len(groups):
        said = [tokenizer.decode([c[0] for c in g]) for g in groups]
    return [
        Word(w, round(offset + a, 3), round(offset + b, 3), round(float(np.mean([c[3] for c in g])), 3))
        for w, g, (a, b) in zip(said, groups, times)
    ]


def token_spans(log_probs: np.ndarray, tokens: list[int], blank: int) -> list[tuple[int, int, int, float]] | None:
    """CTC forced alignment: the most likely frame path that spells ``tokens`` (Viterbi over the usual blank-
    interleaved states), as one (token, first frame, end frame, mean probability on its frames) per token; None when
    the frames are too few for the tokens.

    Args:
        log_probs: (T, V) log-probs.
        tokens: the L token ids to align (no blanks).
    """
    T, L = log_probs.shape[0], len(tokens)
    states = np.full(2 * L + 1, blank, dtype=np.int64)  # blank, t1, blank, t2, ..., tL, blank
    states[1::2] = tokens
    S = len(states)
    skip = np.zeros(S, dtype=bool)  # a state may be entered from two back: a token after a blank and another token
    skip[3::2] = states[3::2] != states[1:-2:2]
    score = np.full(S, -np.inf)
    score[:2] = log_probs[0, states[:2]]
    back = np.zeros((T, S), dtype=np.int8)  # how many states back the best way in came from
    for t in range(1, T):
        stay, step = score, np.concatenate(([-np.inf], score[:-1]))
        jump = np.where(skip, np.concatenate(([-np.inf, -np.inf], score[:-2])), -np.inf)
        options = np.stack([stay, step, jump])  # (3, S)
        back[t] = options.argmax(axis=0)
        score = options.max(axis=0) + log_probs[t, states]
    ends = [S - 1, S - 2] if S > 1 else [0]
    s = max(ends, key=lambda i: score[i])
    if not np.isfinite(score[s]):
        return None
    path = np.empty(T, dtype=np.int64)
    for t in range(T - 1, -1, -1):
        path[t] = s
        s -= int(back[t, s])
    spans, probs = [], np.exp(log_probs[np.arange(T), states[path]])
    for t in range(T):
        if path[t] % 2 and (t == 0 or path[t] != path[t - 1]):  # a token state entered
            spans.append([int(states[path[t]]), t, t + 1, [probs[t]]])
        elif path[t] % 2:
            spans[-1][2] += 1
            spans[-1][3].append(probs[t])
    return [(tok, a, b, float(np.mean(p))) for tok, a, b, p in spans]


def refine_word_times(
    times: list[tuple[float, float]], audio: np.ndarray, range_db: float = 30.0
) -> list[tuple[float, float]]:
    """Fit CTC word spans to the sound: move each start past leading silence (a first token's span can swallow the
    pause before it), or back while the audio before it still sounds (a token is often emitted after its onset), and
    each end forward while the audio still sounds (CTC emits a long vowel once, early).

    A 10 ms frame sounds when its energy is within ``range_db`` of the word's loudest frame and above the segment's
    noise floor; a start never goes before the previous word's end, an end never passes the next word's start.
    """
    e = frame_energy_db(audio)
    n = len(e)
    if n == 0:
        return times
    floor = np.percentile(e, 10) + 6.0
    out = []
    for i, (a, b) in enumerate(times):
        limit = min(n, int((times[i + 1][0] if i + 1 < len(times) else n / 100) * 100))
        f0, f = int(a * 100), int(b * 100)
        if f0 >= f or f >= n:
            out.append((a, b))
            continue
        thr = max(e[f0:f].max() - range_db, floor)
        start = f0
        while start < f - 1 and e[start] <= thr:
            start += 1
        lower = int(round(out[-1][1] * 100)) if out else 0
        while start == f0 and f0 > lower and e[f0 - 1] > thr:  # sound just before the span: the onset came earlier
            f0 -= 1
            start = f0
        while f < limit and e[f] > thr:
            f += 1
        begin = start / 100 if start < int(a * 100) else max(a, start / 100)
        out.append((begin, max(b, f / 100)))
    return out
