"""Word n-gram LM (interpolated Kneser-Ney, written as ARPA) and a spelling lexicon, from a text file, offline.

The ARPA file and the lexicon are what the flashlight beam search (``asr.decode``) loads.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

from .text import lexicon_spelling, normalize_text

BOS, EOS, UNK = "<s>", "</s>", "<unk>"


def read_sentences(path: str | Path) -> list[list[str]]:
    """Normalised, non-empty sentences of a text file, one per line, as word lists."""
    out = []
    if str(path).endswith(".jsonl"):  # a manifest: use its transcripts
        from .data import read_manifest

        lines = [u.text for u in read_manifest(path)]
    else:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
    for line in lines:
        words = normalize_text(line).split()
        if words:
            out.append(words)
    if not out:
        raise ValueError(f"{path}: no text")
    return out


def _discount(counts: Counter) -> float:
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    return n1 / (n1 + 2 * n2) if n1 + n2 > 0 else 0.5


def build_kn_lm(sentences: list[list[str]], order: int = 3) -> tuple[list[dict], list[dict]]:
    """Interpolated Kneser-Ney estimates.

    Returns:
        probs[n-1]: {n-gram tuple: log10 p}, and bows[n-1]: {n-gram tuple: log10 back-off weight}, for n = 1..order.
    """
    raw: list[Counter] = [Counter() for _ in range(order)]
    for words in sentences:
        seq = [BOS] + words + [EOS]
        for n in range(1, order + 1):
            for i in range(max(0, 1 if n == 1 else 0), len(seq) - n + 1):
                raw[n - 1][tuple(seq[i:i + n])] += 1
    # Lower orders use continuation counts (distinct left contexts), except n-grams starting with <s>.
    counts: list[Counter] = [Counter() for _ in range(order)]
    counts[order - 1] = raw[order - 1]
    for n in range(order - 1, 0, -1):
        cont = Counter(g[1:] for g in raw[n])
        for g, c in raw[n - 1].items():
            counts[n - 1][g] = c if g[0] == BOS else cont.get(g, 0)
        for g in list(counts[n - 1]):
            if counts[n - 1][g] == 0:
                del counts[n - 1][g]
    vocab = sorted({g[0] for g in counts[0]} | {EOS, UNK} - {BOS})
    probs: list[dict] = [dict() for _ in range(order)]
    bows: list[dict] = [dict() for _ in range(order)]

    # Unigrams: discounted continuation counts interpolated with a uniform distribution (gives <unk> its mass).
    d1 = _discount(counts[0])
    total = sum(c for g, c in counts[0].items() if g[0] != BOS)
    uni_gamma = d1 * sum(1 for g in counts[0] if g[0] != BOS) / total
    p1 = {w: max(counts[0].get((w,), 0) - d1, 0) / total + uni_gamma / len(vocab) for w in vocab}
    lower = {(w,): p for w, p in p1.items()}
    probs[0] = {g: math.log10(p) for g, p in lower.items()}
    probs[0][(BOS,)] = -99.0
    for n in range(2, order + 1):
        d = _discount(counts[n - 1])
        ctx_total: dict = defaultdict(int)
        ctx_types: dict = defaultdict(int)
        for g, c in counts[n - 1].items():
            ctx_total[g[:-1]] += c
            ctx_types[g[:-1]] += 1
        cur = {}
        for g, c in counts[n - 1].items():
            h = g[:-1]
            gamma = d * ctx_types[h] / ctx_total[h]
            cur[g] = (c - d) / ctx_total[h] + gamma * _backoff_prob(g[1:], lower, bows, probs)
        for h in ctx_total:
            bows[n - 2][h] = math.log10(d * ctx_types[h] / ctx_total[h])
        probs[n - 1] = {g: math.log10(p) for g, p in cur.items()}
        lower = cur
    return probs, bows


def _backoff_prob(g: tuple, lower: dict, bows: list[dict], probs: list[dict]) -> float:
    """p(g[-1] | g[:-1]) from the already-built lower orders, backing off as an ARPA reader would."""
    if g in lower:
        return lower[g]
    if len(g) == 1:
        return 10 ** probs[0][(UNK,)]
    bow = bows[len(g) - 2].get(g[:-1], 0.0)
    return 10 ** bow * 10 ** _log_lookup(g[1:], bows, probs)


def _log_lookup(g: tuple, bows: list[dict], probs: list[dict]) -> float:
    if g in probs[len(g) - 1]:
        return probs[len(g) - 1][g]
    if len(g) == 1:
        return probs[0][(UNK,)]
    return bows[len(g) - 2].get(g[:-1], 0.0) + _log_lookup(g[1:], bows, probs)


def write_arpa(path: str | Path, probs: list[dict], bows: list[dict]) -> None:
    order = len(probs)
    with open(path, "w") as f:
        f.write("\\data\\\n")
        for n in range(order):
            f.write(f"ngram {n + 1}={len(probs[n])}\n")
        for n in range(order):
            f.write(f"\n\\{n + 1}-grams:\n")
            for g in sorted(probs[n]):
                line = f"{probs[n][g]:.6f}\t{' '.join(g)}"
                if n < order - 1 and g in bows[n]:
                    line += f"\t{bows[n][g]:.6f}"
                f.write(line + "\n")
        f.write("\n\\end\\\n")


def write_lexicon(path: str | Path, words: set[str]) -> None:
    """One word per line followed by its letters and the word separator ``|`` (flashlight's format)."""
    with open(path, "w") as f:
        for w in sorted(words):
            f.write(f"{w}\t{' '.join(w)} |\n")


def lexicon_from_arpa(arpa: str | Path, out: str | Path) -> int:
    """Write a spelling lexicon for every unigram of an ARPA LM (keeping the LM's case, e.g. LibriSpeech's upper case).

    Returns the number of words written; words with characters outside a–z and apostrophes are skipped.
    """
    words, in_unigrams = [], False
    with open(arpa, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\"):
                in_unigrams = line == "\\1-grams:"
                continue
            parts = line.split()
            if in_unigrams and len(parts) >= 2 and parts[1] not in (BOS, EOS, UNK):
                words.append(parts[1])
    with open(out, "w") as f:
        n = 0
        for w in words:
            spelling = lexicon_spelling(w)
            if spelling:
                f.write(f"{w}\t{' '.join(spelling)} |\n")
                n += 1
    return n


def build_lm(text: str | Path, out_dir: str | Path, order: int = 3, exclude_held_out: bool = False) -> tuple[Path, Path]:
    """Build ``out_dir/lm.arpa`` and ``out_dir/lexicon.txt`` from a text file. Returns their paths.

    ``exclude_held_out`` drops the sentences that ``asr synth`` reserves for evaluation (``synth.split_sentences``).
    """
    sentences = read_sentences(text)
    if exclude_held_out:
        from .synth import split_sentences

        train, _ = split_sentences([" ".join(s).upper() for s in sentences])
        sentences = [s.lower().split() for s in train]
    probs, bows = build_kn_lm(sentences, order)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_arpa(out / "lm.arpa", probs, bows)
    write_lexicon(out / "lexicon.txt", {w for s in sentences for w in s})
    return out / "lm.arpa", out / "lexicon.txt"


def sentence_logprob(words: list[str], probs: list[dict], bows: list[dict]) -> float:
    """log10 P(</s>, words | <s>) under the model, by ARPA back-off rules (used by tests)."""
    order = len(probs)
    seq = [BOS] + [w if (w,) in probs[0] else UNK for w in words] + [EOS]
    total = 0.0
    for i in range(1, len(seq)):
        g = tuple(seq[max(0, i - order + 1):i + 1])
        total += _log_lookup(g, bows, probs)
    return total
