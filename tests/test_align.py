import itertools

import numpy as np

from asr.align import token_spans


def brute_force_best_path(log_probs: np.ndarray, tokens: list[int], blank: int) -> list[int] | None:
    """The most likely frame path that CTC-collapses to ``tokens``, by trying every path."""
    best, best_path = -np.inf, None
    T, V = log_probs.shape
    for path in itertools.product(range(V), repeat=T):
        collapsed = [p for i, p in enumerate(path) if p != blank and (i == 0 or p != path[i - 1])]
        if collapsed == tokens:
            score = sum(log_probs[t, p] for t, p in enumerate(path))
            if score > best:
                best, best_path = score, list(path)
    return best_path


def test_forced_alignment_finds_the_best_path():
    rng = np.random.default_rng(0)
    for _ in range(40):
        T, V = int(rng.integers(2, 7)), 3
        log_probs = np.log(rng.dirichlet(np.ones(V), size=T))
        tokens = rng.integers(1, V, size=int(rng.integers(1, 4))).tolist()
        spans = token_spans(log_probs, tokens, blank=0)
        path = brute_force_best_path(log_probs, tokens, blank=0)
        if path is None:  # too few frames (repeats need a blank between them)
            assert spans is None
            continue
        assert [s[0] for s in spans] == tokens
        want = np.zeros(T, dtype=int)
        for tok, a, b, p in spans:
            want[a:b] = tok
            assert np.isclose(p, np.exp(log_probs[np.arange(a, b), tok]).mean())
        assert want.tolist() == path


def test_forced_alignment_of_a_long_utterance():
    """Hundreds of tokens over a thousand frames (state numbers far past the int8 range of the back-pointers)."""
    rng = np.random.default_rng(1)
    tokens = rng.integers(1, 30, size=300).tolist()
    frames = [f for t in tokens for f in (t, t, 0)]  # each token twice, then a blank
    log_probs = np.log(np.full((len(frames), 30), 0.01 / 29))
    log_probs[np.arange(len(frames)), frames] = np.log(0.99)
    spans = token_spans(log_probs, tokens, blank=0)
    assert [s[0] for s in spans] == tokens
    assert [(a, b) for _, a, b, _ in spans] == [(3 * k, 3 * k + 2) for k in range(len(tokens))]
