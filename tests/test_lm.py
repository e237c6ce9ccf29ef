import lzma
import math

import pytest

from asr.lm import BOS, UNK, build_kn_lm, build_lm, log_lookup, read_sentences, sentence_logprob

TEXT = ["the cat sat on the mat", "the dog sat on the log", "a cat ate a rat", "the cat ate", "dogs bark"] * 3
TEXT += ["the cat sat", "zebra"]


def sents():
    return [s.split() for s in TEXT]


@pytest.mark.parametrize("min_count", [1, 2, 4])
@pytest.mark.parametrize("context", [(), ("the",), ("the", "cat"), ("on", "the"), ("zebra", "the"), ("cat", "sat")])
def test_distribution_sums_to_one(context, min_count):
    probs, bows = build_kn_lm(sents(), order=3, min_count=min_count).to_dicts()
    vocab = [g[0] for g in probs[0] if g[0] != BOS]
    total = sum(10 ** log_lookup(tuple(context[-2:]) + (w,), probs, bows) for w in vocab)
    assert total == pytest.approx(1.0, abs=1e-6)


def test_pruning_drops_rare_ngrams():
    full = build_kn_lm(sents(), order=3).to_dicts()[0]
    pruned = build_kn_lm(sents(), order=3, min_count=4).to_dicts()[0]
    assert ("the", "cat", "sat") in full[2] and ("the", "cat", "sat") in pruned[2]  # seen 4 times
    assert ("a", "cat", "ate") in full[2] and ("a", "cat", "ate") not in pruned[2]  # seen 3 times
    assert full[0].keys() == pruned[0].keys()


def test_seen_beats_unseen():
    probs, bows = build_kn_lm(sents(), order=3).to_dicts()
    assert sentence_logprob("the cat sat on the mat".split(), probs, bows) > sentence_logprob(
        "mat the on sat cat the".split(), probs, bows
    )
    assert (UNK,) in probs[0] and math.isfinite(sentence_logprob(["unseen"], probs, bows))


def test_read_sentences_normalises(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("Hello, World!\n\n  \nIt's 2\n")
    assert read_sentences(p) == [["hello", "world"], ["it's", "two"]]


def _read_arpa(path):
    probs, order = {}, 0
    for line in path.read_text().splitlines():
        if line.endswith("-grams:"):
            order = int(line[1])
        elif order and line and not line.startswith("\\"):
            p, gram, *_ = line.split("\t")
            probs[tuple(gram.split())] = float(p)
    return probs


def test_build_lm_streams_compressed_text_in_chunks(tmp_path, monkeypatch):
    import asr.lm

    with lzma.open(tmp_path / "a.txt.xz", "wt") as f:
        f.write("\n".join(TEXT[:10]) + "\n")
    (tmp_path / "b.txt").write_text("\n".join(TEXT[10:]) + "\n")
    in_memory = build_kn_lm(sents(), order=3, min_count=2).to_dicts()[0]
    monkeypatch.setattr(asr.lm, "CHUNK_TOKENS", 7)  # counted in many chunks, then merged
    arpa, lexicon = build_lm([tmp_path / "a.txt.xz", tmp_path / "b.txt"], tmp_path / "lm", order=3, min_count=2)
    streamed = _read_arpa(arpa)
    expected = {g: round(p, 6) for probs in in_memory for g, p in probs.items()}
    assert streamed == expected
    assert len(lexicon.read_text().splitlines()) == len(in_memory[0]) - 3  # the words, not <s> </s> <unk>
    arpa, lexicon = build_lm([tmp_path / "b.txt", tmp_path / "a.txt.xz"], tmp_path / "lm9", order=3, max_vocab=9)
    assert arpa.read_text().startswith("\\data\\\nngram 1=12\n")  # 9 words + <s>, </s>, <unk>
    assert len(lexicon.read_text().splitlines()) == 9


def test_build_lm_leaves_out_the_sentences_of_evaluation_sets(tmp_path):
    """--exclude: a dev set's prompts (3 words or more) never reach the LM, even from training transcripts; short
    sentences everyone says stay."""
    (tmp_path / "text.txt").write_text("the dog barked at the moon\nhello there friend\ntwo\nthe cat sat\n")
    (tmp_path / "dev.jsonl").write_text(
        '{"id": "a", "audio": "a.wav", "duration": 1.0, "text": "The dog barked at the MOON."}\n'
        '{"id": "b", "audio": "b.wav", "duration": 1.0, "text": "two"}\n'
    )
    arpa, lexicon = build_lm([tmp_path / "text.txt"], tmp_path / "lm", order=2, exclude=[tmp_path / "dev.jsonl"])
    words = set(lexicon.read_text().split())
    assert not words & {"dog", "barked", "moon"}
    assert {"hello", "friend", "two", "cat"} <= words
    # asr synth's reserved sentences are left out of text files, not of a manifest's transcripts
    from asr.corpus.synth import is_held_out

    assert is_held_out("two")
    (tmp_path / "digits.jsonl").write_text('{"id": "d", "audio": "d.wav", "duration": 1.0, "text": "two"}\n')
    _, lexicon = build_lm([tmp_path / "text.txt"], tmp_path / "lm2", order=2, exclude_held_out=True)
    assert "two" not in lexicon.read_text().split()
    _, lexicon = build_lm([tmp_path / "digits.jsonl"], tmp_path / "lm3", order=2, exclude_held_out=True)
    assert lexicon.read_text().split()[0] == "two"


def _arpa_lm(path):
    """(probs, bows) per order, as :meth:`NgramLM.to_dicts` gives them, read back from an ARPA file."""
    probs, bows, order = [], [], 0
    for line in path.read_text().splitlines():
        if line.endswith("-grams:"):
            order = int(line[1])
            probs.append({}), bows.append({})
        elif order and line and not line.startswith("\\"):
            p, gram, *bow = line.split("\t")
            probs[order - 1][tuple(gram.split())] = float(p)
            if bow:
                bows[order - 1][tuple(gram.split())] = float(bow[0])
    return probs, bows


def test_digit_strings_and_spellings_teach_what_books_lack(tmp_path):
    """--digit-strings / --spellings: after digits, "four" beats "for" (the same phones), and a spelt word becomes
    likely; the lexicon keeps the text's order, and the generated sentences are the same on every run."""
    books = ["i waited for two days", "she came for the cat", "it is for you", "four men sat on the mat"] * 5
    books += ["the dog ate", "one day", "three cats", "five six seven eight nine zero"]
    (tmp_path / "books.txt").write_text("\n".join(books) + "\n")
    plain_arpa, plain_lex = build_lm([tmp_path / "books.txt"], tmp_path / "plain", order=3)
    arpa, lex = build_lm([tmp_path / "books.txt"], tmp_path / "lm", order=3, digit_strings=300, spellings=300)
    plain, lm = _arpa_lm(plain_arpa), _arpa_lm(arpa)
    number, misheard = "nine one four three two".split(), "nine one for three two".split()
    assert sentence_logprob(number, *plain) < sentence_logprob(misheard, *plain)
    assert sentence_logprob(number, *lm) > sentence_logprob(misheard, *lm) + 1
    assert sentence_logprob(list("dog"), *lm) > sentence_logprob(list("dog"), *plain) + 3
    words = lex.read_text().split("\n")
    assert words[: len(plain_lex.read_text().split("\n")) - 1] == plain_lex.read_text().split("\n")[:-1]
    assert {"oh", "g"} <= {line.split("\t")[0] for line in words if line}  # generated words join at the end
    again, _ = build_lm([tmp_path / "books.txt"], tmp_path / "again", order=3, digit_strings=300, spellings=300)
    assert again.read_bytes() == arpa.read_bytes()
