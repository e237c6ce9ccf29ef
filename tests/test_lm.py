import math

import pytest

from asr.lm import BOS, UNK, build_kn_lm, read_sentences, sentence_logprob

TEXT = ["the cat sat on the mat", "the dog sat on the log", "a cat ate a rat", "the cat ate", "dogs bark"] * 3


def sents():
    return [s.split() for s in TEXT]


@pytest.mark.parametrize("context", [(), ("the",), ("the", "cat"), ("on", "the"), ("zebra", "the")])
def test_distribution_sums_to_one(context):
    probs, bows = build_kn_lm(sents(), order=3)
    vocab = [g[0] for g in probs[0] if g[0] != BOS]
    from asr.lm import _log_lookup

    total = sum(10 ** _log_lookup(tuple(context[-2:]) + (w,), bows, probs) for w in vocab)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_seen_beats_unseen():
    probs, bows = build_kn_lm(sents(), order=3)
    assert sentence_logprob("the cat sat on the mat".split(), probs, bows) > \
        sentence_logprob("mat the on sat cat the".split(), probs, bows)
    assert (UNK,) in probs[0] and math.isfinite(sentence_logprob(["unseen"], probs, bows))


def test_read_sentences_normalises(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("Hello, World!\n\n  \nIt's 2\n")
    assert read_sentences(p) == [["hello", "world"], ["it's", "two"]]
