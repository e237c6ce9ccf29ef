"""Word n-gram LM (interpolated Kneser-Ney, count-pruned, written as ARPA) and a spelling lexicon, offline.

The estimator streams its text: sentences are read one at a time (plain text, ``.xz``/``.gz``/``.bz2``, or a JSONL
manifest's transcripts), mapped to word ids, and their n-grams counted in chunks of integer keys with NumPy, so tens
of millions of words take minutes and memory in proportion to the distinct n-grams, not to the text. Two passes:
the first counts words (the vocabulary), the second counts n-grams.

Pruning (``min_count``) drops n-grams of order 2 and up seen fewer times; their probability mass goes to the back-off,
whose weights are recomputed so that every context's distribution still sums to one. The ARPA file and the lexicon
are what the flashlight beam search (``asr.decode``) loads.
"""

from __future__ import annotations

import array
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import AsrError
from .text import lexicon_line, lexicon_spelling, normalize_text

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
CHUNK_TOKENS = 20_000_000  # token ids buffered before their n-grams are counted


class LmError(AsrError, ValueError):
    """An LM cannot be built; one line naming the file and the reason."""


def _open_text(path: Path):
    suffix = path.suffix.lower()
    if suffix == ".xz":
        import lzma

        return lzma.open(path, "rt", encoding="utf-8", errors="replace")
    if suffix == ".gz":
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    if suffix == ".bz2":
        import bz2

        return bz2.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


EXCLUDE_MIN_WORDS = 3  # sentences shorter than this are not left out by ``exclude`` (sentence_set)


def iter_sentences(
    paths: Iterable[str | Path], exclude_held_out: bool = False, exclude: frozenset[str] = frozenset()
) -> Iterator[list[str]]:
    """Normalised, non-empty sentences (word lists) of text files, one sentence per line, or of manifests' texts.

    ``exclude_held_out`` skips, in text files, the sentences that ``asr synth`` reserves for evaluation voices (a
    manifest's transcripts are its own: "two" from a digit corpus stays, though the hash reserves it); ``exclude``
    holds normalised sentences to skip in every file (:func:`sentence_set`).
    """
    held_out = None
    if exclude_held_out:
        from .corpus.synth import is_held_out as held_out
    for path in map(Path, paths):
        if not path.is_file():
            raise LmError(f"{path}: no such text file")
        reserved = None if path.suffix == ".jsonl" else held_out
        if path.suffix == ".jsonl":
            from .data import read_manifest

            lines: Iterable[str] = (u.text for u in read_manifest(path, check_audio=False))  # text only
            f = None
        else:
            f = _open_text(path)
            lines = f
        try:
            for line in lines:
                words = normalize_text(line).split()
                text = " ".join(words)
                if words and text not in exclude and not (reserved and reserved(text)):
                    yield words
        finally:
            if f is not None:
                f.close()


def sentence_set(paths: Iterable[str | Path]) -> frozenset[str]:
    """The normalised sentences of text files or manifests, of ``EXCLUDE_MIN_WORDS`` words or more: e.g. evaluation
    sets whose sentences an LM must not see (read-speech corpora share prompts between their speakers). Shorter
    ones ("yes", "two") are everyone's sentences, not a leak of a set's prompts."""
    return frozenset(" ".join(w) for w in iter_sentences(paths) if len(w) >= EXCLUDE_MIN_WORDS)


def read_sentences(path: str | Path) -> list[list[str]]:
    """All sentences of one text file (see :func:`iter_sentences`)."""
    out = list(iter_sentences([path]))
    if not out:
        raise LmError(f"{path}: no text")
    return out


@dataclass
class NgramCounts:
    """Distinct n-grams and their counts. ``keys[n-1]`` (M,) int64 packs n word ids of ``bits`` bits each
    (first word highest), sorted; ``counts[n-1]`` (M,) int64."""

    vocab: list[str]  # id → word; 0 = <s>, 1 = </s>, 2 = <unk>
    bits: int
    keys: list[np.ndarray]
    counts: list[np.ndarray]

    @property
    def order(self) -> int:
        return len(self.keys)

    def words_of(self, n: int, keys: np.ndarray) -> np.ndarray:
        """(M,) packed n-gram keys → (M, n) word ids."""
        mask = (1 << self.bits) - 1
        return np.stack([(keys >> (self.bits * (n - 1 - j))) & mask for j in range(n)], axis=1)


def _merge(keys: list[np.ndarray], counts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    k = np.concatenate(keys)
    c = np.concatenate(counts)
    uniq, inv = np.unique(k, return_inverse=True)
    return uniq, np.bincount(inv, weights=c, minlength=len(uniq)).astype(np.int64)


def count_ngrams(sentences: Iterable[list[str]], vocab: list[str], order: int) -> NgramCounts:
    """Count the n-grams (n = 1..order) of ``sentences`` over ``vocab`` (other words count as <unk>).

    Each sentence is framed as ``<s> w1 … wk </s>``; n-grams never cross sentences, and <s> is counted only as a
    context. Raises LmError when ``order`` words of the vocabulary's id width do not fit 63 bits.
    """
    index = {w: i for i, w in enumerate(vocab)}
    bits = max(1, int(len(vocab) - 1).bit_length())
    if bits * order > 63:
        raise LmError(f"a vocabulary of {len(vocab)} words is too large for order {order}; lower --max-vocab")
    unk = index[UNK]
    parts: list[tuple[list[np.ndarray], list[np.ndarray]]] = [([], []) for _ in range(order)]
    buf = array.array("i")

    def flush() -> None:
        ids = np.frombuffer(buf, dtype=np.int32).astype(np.int64)
        if len(ids) == 0:
            return
        for n in range(1, order + 1):
            m = len(ids) - n + 1
            if m <= 0:
                continue
            key = np.zeros(m, dtype=np.int64)
            ok = np.ones(m, dtype=bool)
            for j in range(n):
                col = ids[j : j + m]
                key = (key << bits) | col
                if j < n - 1:
                    ok &= col != 1  # </s> only last
                if j > 0:
                    ok &= col != 0  # <s> only first
            if n == 1:
                ok &= ids[:m] != 0
            uniq, cnt = np.unique(key[ok], return_counts=True)
            parts[n - 1][0].append(uniq)
            parts[n - 1][1].append(cnt.astype(np.int64))
            if len(parts[n - 1][0]) > 8:  # keep memory flat: merge what has been counted so far
                k, c = _merge(*parts[n - 1])
                parts[n - 1] = ([k], [c])
        del buf[:]

    for words in sentences:
        buf.append(0)
        buf.extend(index.get(w, unk) for w in words)
        buf.append(1)
        if len(buf) >= CHUNK_TOKENS:
            flush()
    flush()
    keys, counts = [], []
    for n in range(order):
        if not parts[n][0]:
            raise LmError("no text to count n-grams from")
        k, c = _merge(*parts[n])
        keys.append(k)
        counts.append(c)
    return NgramCounts(vocab, bits, keys, counts)


def _discount(counts: np.ndarray) -> float:
    n1, n2 = int((counts == 1).sum()), int((counts == 2).sum())
    return n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5


@dataclass
class NgramLM:
    """An estimated back-off LM: per order, kept n-gram keys (sorted), log10 probabilities and log10 back-off
    weights (0 where a context has none), over ``counts.vocab``."""

    counts: NgramCounts
    keys: list[np.ndarray]
    logprob: list[np.ndarray]
    logbow: list[np.ndarray]

    def to_dicts(self) -> tuple[list[dict], list[dict]]:
        """probs[n-1] {word tuple: log10 p} and bows[n-1] {word tuple: log10 bow}, for small LMs (tests)."""
        vocab, probs, bows = self.counts.vocab, [], []
        for n in range(1, len(self.keys) + 1):
            words = self.counts.words_of(n, self.keys[n - 1])
            grams = [tuple(vocab[i] for i in row) for row in words]
            probs.append(dict(zip(grams, self.logprob[n - 1].tolist())))
            bows.append({g: b for g, b in zip(grams, self.logbow[n - 1].tolist()) if b != 0.0})
        return probs, bows


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, query: np.ndarray, default: float | np.ndarray) -> np.ndarray:
    pos = np.searchsorted(sorted_keys, query).clip(0, max(len(sorted_keys) - 1, 0))
    found = sorted_keys[pos] == query if len(sorted_keys) else np.zeros(len(query), bool)
    return np.where(found, values[pos] if len(values) else 0.0, default)


def estimate_kn(c: NgramCounts, min_count: int = 1) -> NgramLM:
    """Interpolated Kneser-Ney with one discount per order, then count pruning with renormalised back-off weights.

    Lower orders use continuation counts (distinct left contexts), except n-grams that start with <s>. The unigram
    distribution is interpolated with a uniform one, which gives <unk> its mass. N-grams of order >= 2 whose raw count
    is below ``min_count`` are dropped (a kept n-gram's prefix and suffix always have counts at least as high, so the
    ARPA file stays consistent), and each context's back-off weight is set so that its distribution sums to one.
    """
    order, bits, V = c.order, c.bits, len(c.vocab)
    # KN counts: the highest order keeps raw counts; lower ones count distinct left extensions.
    kn = [None] * order
    kn[order - 1] = c.counts[order - 1].astype(np.float64)
    for n in range(order - 1, 0, -1):
        suffixes = c.keys[n] & ((1 << (bits * n)) - 1)  # drop the first word of each (n+1)-gram
        uniq, cont = np.unique(suffixes, return_counts=True)
        cont_of = _lookup(uniq, cont.astype(np.float64), c.keys[n - 1], 0.0)
        first = c.keys[n - 1] >> (bits * (n - 1))
        kn[n - 1] = np.where(first == 0, c.counts[n - 1], cont_of).astype(np.float64)
    # Unigrams (over every word id; <s> gets log10 p = -99 as in ARPA files).
    uni_counts = np.zeros(V)
    uni_counts[c.keys[0]] = kn[0]
    real = np.arange(V) != 0
    d1 = _discount(kn[0][kn[0] > 0])
    total = uni_counts[real].sum()
    gamma1 = d1 * (uni_counts[real] > 0).sum() / total
    p1 = np.maximum(uni_counts - d1, 0) / total + gamma1 / (V - 1)
    p1[0] = 0.0
    full_keys, full_p = [np.arange(V, dtype=np.int64)], [p1]  # unpruned interpolated p of every seen n-gram
    for n in range(2, order + 1):
        keys, cnt = c.keys[n - 1], kn[n - 1]
        d = _discount(cnt)
        ctx = keys >> bits
        ctx_uniq, inv = np.unique(ctx, return_inverse=True)
        ctx_total = np.bincount(inv, weights=cnt)
        ctx_types = np.bincount(inv).astype(np.float64)
        lower = _lookup(full_keys[-1], full_p[-1], keys & ((1 << (bits * (n - 1))) - 1), 0.0)
        p = (np.maximum(cnt - d, 0) + d * ctx_types[inv] * lower) / ctx_total[inv]
        full_keys.append(keys)
        full_p.append(p)
    # Pruning and back-off weights, from the lowest order up.
    kept_keys = [np.arange(1, V, dtype=np.int64)]  # every word but <s> has a unigram probability ...
    kept_keys[0] = np.concatenate([[0], kept_keys[0]])  # ... and <s> is listed too (as a context)
    logprob = [np.log10(np.maximum(p1, 1e-99))]
    logprob[0][0] = -99.0
    logbow = [np.zeros(V)]
    for n in range(2, order + 1):
        keep = c.counts[n - 1] >= min_count if min_count > 1 else np.ones(len(full_keys[n - 1]), bool)
        keys, p = full_keys[n - 1][keep], full_p[n - 1][keep]
        # p_lower: what a reader would get backing off from the context's suffix (kept (n-1)-grams).
        suffix = keys & ((1 << (bits * (n - 1))) - 1)
        p_lower = 10 ** _lookup(kept_keys[-1], logprob[-1], suffix, -99.0)
        ctx = keys >> bits
        ctx_uniq, inv = np.unique(ctx, return_inverse=True)
        num = 1 - np.bincount(inv, weights=p, minlength=len(ctx_uniq))
        den = 1 - np.bincount(inv, weights=p_lower, minlength=len(ctx_uniq))
        bow = np.log10(np.maximum(num, 1e-12) / np.maximum(den, 1e-12))
        # contexts are (n-1)-grams that are kept (their counts are at least their extensions')
        pos = np.searchsorted(kept_keys[-1], ctx_uniq)
        logbow[-1][pos] = bow
        kept_keys.append(keys)
        logprob.append(np.log10(np.maximum(p, 1e-99)))
        logbow.append(np.zeros(len(keys)))
    return NgramLM(c, kept_keys, logprob, logbow)


def write_arpa(path: str | Path, lm: NgramLM) -> None:
    """The LM as an ARPA text file (n-grams of each order in key order)."""
    vocab = np.array(lm.counts.vocab, dtype=object)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\\data\\\n")
        for n, keys in enumerate(lm.keys, 1):
            f.write(f"ngram {n}={len(keys)}\n")
        for n in range(1, len(lm.keys) + 1):
            f.write(f"\n\\{n}-grams:\n")
            words = lm.counts.words_of(n, lm.keys[n - 1])
            grams = vocab[words[:, 0]]
            for j in range(1, n):
                grams = grams + " " + vocab[words[:, j]]
            lp, bw = lm.logprob[n - 1], lm.logbow[n - 1]
            last = n == len(lm.keys)
            for start in range(0, len(grams), 100_000):
                stop = start + 100_000
                rows = [
                    f"{p:.6f}\t{g}" if last or b == 0.0 else f"{p:.6f}\t{g}\t{b:.6f}"
                    for p, g, b in zip(lp[start:stop].tolist(), grams[start:stop], bw[start:stop].tolist())
                ]
                f.write("\n".join(rows) + "\n")
        f.write("\n\\end\\\n")


def lexicon_lines(words: Iterable[str]) -> list[str]:
    """Flashlight lexicon lines: each word that is one word of the alphabet, its letters and the separator ``|``
    (the word keeps its case, e.g. LibriSpeech's upper-case LM)."""
    out = []
    for w in words:
        spelling = lexicon_spelling(w)
        if spelling:
            out.append(lexicon_line(w, spelling))
    return out


def write_lexicon(path: str | Path, words: Iterable[str]) -> int:
    """Write :func:`lexicon_lines` of ``words`` in their order (most frequent first: a phone lexicon keeps the first
    few words of each pronunciation); returns the number of words written."""
    lines = lexicon_lines(dict.fromkeys(words))
    Path(path).write_text("".join(line + "\n" for line in lines))
    return len(lines)


def lexicon_from_arpa(arpa: str | Path, out: str | Path) -> int:
    """Write a spelling lexicon for every unigram of an ARPA LM, the likeliest first. Returns the number of words
    written."""
    words, in_unigrams = [], False
    with open(arpa, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\"):
                in_unigrams = line == "\\1-grams:"
                continue
            parts = line.split()
            if in_unigrams and len(parts) >= 2 and parts[1] not in (BOS, EOS, UNK):
                words.append((-float(parts[0]), parts[1]))
    lines = lexicon_lines(w for _, w in sorted(words))  # the likeliest words first
    Path(out).write_text("".join(line + "\n" for line in lines))
    return len(lines)


def count_words(sentences: Iterable[list[str]]) -> tuple[Counter, int]:
    """Each word's count, and the number of running words."""
    counts: Counter = Counter()
    total = 0
    for words in sentences:
        counts.update(words)
        total += len(words)
    return counts, total


def rank_words(counts: Counter) -> list[str]:
    """The words by falling count (ties alphabetically), without <s>, </s> and <unk>."""
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if w not in (BOS, EOS, UNK)]


def build_vocab(sentences: Iterable[list[str]], max_vocab: int = 0) -> tuple[list[str], int]:
    """<s>, </s>, <unk>, then the words by falling count (all, or the ``max_vocab`` most frequent).

    Returns (vocab, number of running words)."""
    counts, total = count_words(sentences)
    return vocab_of(counts, max_vocab), total


def vocab_of(counts: Counter, max_vocab: int = 0) -> list[str]:
    """<s>, </s>, <unk>, then the counted words by falling count (all, or the ``max_vocab`` most frequent)."""
    if not counts:
        raise LmError("no text")
    ranked = rank_words(counts)
    return [BOS, EOS, UNK] + (ranked[:max_vocab] if max_vocab else ranked)


DIGITS = "zero one two three four five six seven eight nine".split()
SPELT_FROM = 30_000  # spelt words are drawn from this many of the text's most frequent words


def spoken_forms(words: list[str], digit_strings: int, spellings: int, seed: int = 0) -> list[list[str]]:
    """Sentences that book text lacks but users dictate: ``digit_strings`` strings of 3–12 digits read one by one
    (phone numbers, codes; "oh" for a tenth of the zeros) and ``spellings`` of one or two of ``words`` spelt letter
    by letter (names), shuffled. Deterministic for a ``seed``."""
    import random

    rng = random.Random(seed)
    out = []
    for _ in range(digit_strings):
        digits = [rng.randrange(10) for _ in range(rng.randint(3, 12))]
        out.append(["oh" if d == 0 and rng.random() < 0.1 else DIGITS[d] for d in digits])
    pool = [w for w in words[:SPELT_FROM] if w.isalpha()]
    if spellings and not pool:
        raise LmError("no words to spell")
    for _ in range(spellings):
        out.append([letter for _ in range(rng.choice((1, 1, 2))) for letter in rng.choice(pool)])
    rng.shuffle(out)
    return out


def build_kn_lm(sentences: list[list[str]], order: int = 3, min_count: int = 1) -> NgramLM:
    """An LM from sentences in memory (small texts, tests)."""
    vocab, _ = build_vocab(sentences)
    return estimate_kn(count_ngrams(sentences, vocab, order), min_count)


def build_lm(
    texts: str | Path | list,
    out_dir: str | Path,
    order: int = 3,
    exclude_held_out: bool = False,
    min_count: int = 1,
    max_vocab: int = 0,
    log=None,
    exclude: Iterable[str | Path] = (),
    digit_strings: int = 0,
    spellings: int = 0,
) -> tuple[Path, Path]:
    """Build ``out_dir/lm.arpa`` and ``out_dir/lexicon.txt`` (the LM's vocabulary) from text files.

    ``min_count`` prunes n-grams of order >= 2 seen fewer times; ``max_vocab`` keeps the most frequent words (the
    rest are <unk>). Sentences that occur in the ``exclude`` files (text or manifests) are left out. The text is
    followed by ``digit_strings`` and ``spellings`` generated sentences (:func:`spoken_forms`). ``log`` (e.g.
    ``print``) receives one progress line per pass. Returns the two paths.
    """
    import time

    paths = [texts] if isinstance(texts, (str, Path)) else list(texts)
    log = log or (lambda msg: None)
    t0 = time.time()
    exclude = list(exclude)
    skip = sentence_set(exclude)
    if skip:
        log(f"leaving out the {len(skip)} sentences of {len(exclude)} excluded files")
    word_counts, total = count_words(iter_sentences(paths, exclude_held_out, skip))
    vocab = vocab_of(word_counts, max_vocab)
    extra = [w for w in spoken_forms(rank_words(word_counts), digit_strings, spellings) if " ".join(w) not in skip]
    if extra:  # their words join the vocabulary (at its end) but do not reorder it: the lexicon is the text's
        more, n = count_words(extra)
        vocab += sorted(set(more) - set(vocab))
        total += n
        log(f"added {digit_strings} digit strings and {spellings} spelt words ({n} words)")
    log(f"vocabulary: {len(vocab) - 3} words of {total} running words ({time.time() - t0:.0f} s)")
    counts = count_ngrams(itertools.chain(iter_sentences(paths, exclude_held_out, skip), extra), vocab, order)
    log(
        "n-grams counted: "
        + ", ".join(f"{len(k)} {n + 1}-grams" for n, k in enumerate(counts.keys))
        + f" ({time.time() - t0:.0f} s)"
    )
    lm = estimate_kn(counts, min_count)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_arpa(out / "lm.arpa", lm)
    write_lexicon(out / "lexicon.txt", vocab[3:])
    log(
        "kept: "
        + ", ".join(f"{len(k)} {n + 1}-grams" for n, k in enumerate(lm.keys))
        + f"; wrote {out / 'lm.arpa'} ({(out / 'lm.arpa').stat().st_size / 1e6:.1f} MB, {time.time() - t0:.0f} s)"
    )
    return out / "lm.arpa", out / "lexicon.txt"


def sentence_logprob(words: list[str], probs: list[dict], bows: list[dict]) -> float:
    """log10 P(</s>, words | <s>) under an LM given as dicts (:meth:`NgramLM.to_dicts`), by ARPA back-off rules."""
    order = len(probs)
    seq = [BOS] + [w if (w,) in probs[0] else UNK for w in words] + [EOS]
    return sum(log_lookup(tuple(seq[max(0, i - order + 1) : i + 1]), probs, bows) for i in range(1, len(seq)))


def log_lookup(g: tuple, probs: list[dict], bows: list[dict]) -> float:
    """log10 p(g[-1] | g[:-1]) as an ARPA reader computes it (back off through shorter contexts)."""
    if g in probs[len(g) - 1]:
        return probs[len(g) - 1][g]
    if len(g) == 1:
        return probs[0][(UNK,)]
    return bows[len(g) - 2].get(g[:-1], 0.0) + log_lookup(g[1:], probs, bows)
