"""The lexicon search's structures: each lexicon word spelt in the model's tokens (phones and word pieces respell
the letter-spelt lexicon; kept in the user's cache folder, so the next start reads them instead), and flashlight's
trie over those spellings."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np

from .errors import UsageError
from .lm import UNK
from .text import WORD_END, CharTokenizer, Tokenizer, lexicon_spelling

__all__ = ["UNK", "lexicon_spellings", "lexicon_trie"]

TRIE_LABELS = 6  # words flashlight's lexicon trie keeps per spelling


def cache_dir() -> Path:
    """Where computed spellings are kept: ``$XDG_CACHE_HOME/asr`` (default ``~/.cache/asr``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "asr"


def lexicon_trie(spellings: dict[str, list[list[int]]], tokenizer: Tokenizer, lm):
    """flashlight's trie of the lexicon (word ids: the order of ``spellings``): each spelling ends at its word with
    the word's unigram LM score; each node carries the best score below it (smearing), which lets the search prune."""
    from flashlight.lib.text import decoder as fl

    trie = fl.Trie(len(tokenizer.tokens), tokenizer.space)
    start = lm.start(False)
    for w, spelt in enumerate(spellings.values()):
        score = lm.score(start, w)[1]
        for ids in spelt:
            trie.insert(ids, w, score)
    trie.smear(fl.SmearingMode.MAX)
    return trie


def lexicon_spellings(
    lines: list[str], tokenizer: Tokenizer, extra: list[str] | tuple[str, ...] = ()
) -> dict[str, list[list[int]]]:
    """:func:`spell_lexicon` of ``lines`` and then ``extra`` (hotwords the lexicon lacks). A phone or word-piece
    model's spellings of ``lines`` are read from the cache folder when it spelt them before (letters are quick to
    compute and are not cached)."""
    if type(tokenizer) is CharTokenizer:
        return spell_lexicon([*lines, *extra], tokenizer)
    spellings = _cached_spellings(lines, tokenizer)
    if not extra:
        return spellings
    shared = Counter(tuple(s) for spelt in spellings.values() for s in spelt)
    out = {w: s for w, s in spellings.items() if w != UNK}
    for word, spelt in spell_lexicon(list(extra), tokenizer).items():
        keep = [s for s in spelt if shared[tuple(s)] < TRIE_LABELS]  # the trie's limit, as for the lexicon's words
        shared.update(tuple(s) for s in keep)
        out.setdefault(word, keep)
    return out


def _cached_spellings(lines: list[str], tokenizer: Tokenizer) -> dict[str, list[list[int]]]:
    """:func:`spell_lexicon`, kept in :func:`cache_dir` under a hash of the lines and the tokenizer."""
    key = hashlib.sha256("\n".join(lines).encode("utf-8"))
    key.update(repr(sorted(tokenizer.state_dict().items())).encode("utf-8"))
    path = cache_dir() / f"spellings-{key.hexdigest()[:24]}.npz"
    try:
        return _read_spellings(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # not there yet, or damaged: compute again
        pass
    spellings = spell_lexicon(lines, tokenizer)
    try:
        _write_spellings(spellings, path)
    except OSError:  # a read-only home: the next start computes them again
        pass
    return spellings


def _write_spellings(spellings: dict[str, list[list[int]]], path: Path) -> None:
    """Words, spellings per word, tokens per spelling and the token ids, as arrays (no pickles), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    spelt = [s for v in spellings.values() for s in v]
    with open(tmp, "wb") as f:
        np.savez(
            f,
            words=np.frombuffer("\n".join(spellings).encode("utf-8"), dtype=np.uint8),
            counts=np.array([len(v) for v in spellings.values()], dtype=np.int32),
            lengths=np.array([len(s) for s in spelt], dtype=np.int32),
            ids=np.array([i for s in spelt for i in s], dtype=np.int32),
        )
    os.replace(tmp, path)


def _read_spellings(path: Path) -> dict[str, list[list[int]]]:
    with np.load(path, allow_pickle=False) as z:
        words = z["words"].tobytes().decode("utf-8").split("\n")
        counts, lengths, ids = z["counts"].tolist(), z["lengths"].tolist(), z["ids"].tolist()
    if len(words) != len(counts) or sum(counts) != len(lengths) or sum(lengths) != len(ids):
        raise ValueError(f"{path}: inconsistent")
    out, k, pos = {}, 0, 0
    for word, n in zip(words, counts):
        spelt = []
        for length in lengths[k : k + n]:
            spelt.append(ids[pos : pos + length])
            pos += length
        out[word] = spelt
        k += n
    return out


def spell_lexicon(lines: list[str], tokenizer: Tokenizer) -> dict[str, list[list[int]]]:
    """Lexicon lines (a word, its letters, the word separator) → {word: its spellings as ``tokenizer``'s token ids,
    each ending with the separator}, in the lines' order, then ``UNK`` with none. Word pieces and phones respell
    each word (:func:`respelt`)."""
    end, index = tokenizer.space, tokenizer.index
    out: dict[str, list[list[int]]] = {}
    if type(tokenizer) is CharTokenizer:
        for line in lines:
            word, *letters = line.split() or [""]
            if not word:
                continue
            unknown = [t for t in letters if t != WORD_END and t not in index]
            if unknown:
                raise UsageError(f"lexicon word '{word}': '{unknown[0]}' is not one of the model's characters")
            out.setdefault(word, []).append([end if t == WORD_END else index[t] for t in letters])
    else:
        for word, spelt in respelt(lines, tokenizer).items():
            out[word] = [[index[t] for t in s] + [end] for s in spelt]
    out.pop(UNK, None)
    out[UNK] = []
    return out


def respelt(lines: list[str], tokenizer: Tokenizer) -> dict[str, list[list[str]]]:
    """Lexicon lines → {word: its spellings in ``tokenizer``'s units} (word pieces; phones, one per pronunciation).

    The words keep their case (LibriSpeech's are upper case); words with letters outside the alphabet, or that the
    tokenizer cannot spell, are dropped. A word listed twice (pronunciation variants) is spelt once. A spelling
    shared by more than ``TRIE_LABELS`` words (homophones) keeps the first ones: flashlight's trie holds no more, so
    list the lexicon most frequent word first.
    """
    out: dict[str, list[list[str]]] = {}
    shared: Counter = Counter()
    for line in lines:
        if not line.strip():
            continue
        word = line.split()[0]
        spelling = lexicon_spelling(word)
        if not spelling or word in out:
            continue
        out[word] = []
        for s in tokenizer.spellings(spelling):
            shared[tuple(s)] += 1
            if s and shared[tuple(s)] <= TRIE_LABELS:
                out[word].append(s)
    return {w: s for w, s in out.items() if s}
