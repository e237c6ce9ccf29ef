"""WER/CER with jiwer, and a per-utterance error report (REF/HYP alignment).

References and hypotheses are normalised with :func:`asr.text.normalize_text` before scoring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jiwer

from .text import normalize_text


@dataclass(frozen=True)
class ErrorStats:
    substitutions: int
    deletions: int
    insertions: int
    ref_len: int  # reference words (WER) or characters (CER)

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """Error rate in percent (100 × errors / reference length; errors count when the reference is empty)."""
        return 100.0 * self.errors / max(self.ref_len, 1)


def _stats(refs: list[str], hyps: list[str], unit: str) -> ErrorStats:
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    split = (lambda s: s.split()) if unit == "word" else list
    s = d = i = n = 0
    pairs = [(normalize_text(r), normalize_text(h)) for r, h in zip(refs, hyps)]
    scored = [(r, h) for r, h in pairs if r]
    for r, h in pairs:  # jiwer rejects empty references: every hypothesis unit is an insertion
        if not r:
            i += len(split(h))
    if scored:
        rs, hs = [r for r, _ in scored], [h for _, h in scored]
        out = jiwer.process_words(rs, hs) if unit == "word" else jiwer.process_characters(rs, hs)
        s, d, i = s + out.substitutions, d + out.deletions, i + out.insertions
        n = sum(len(split(r)) for r in rs)
    return ErrorStats(s, d, i, n)


def word_errors(refs: list[str], hyps: list[str]) -> ErrorStats:
    """Corpus-level word errors."""
    return _stats(refs, hyps, "word")


def char_errors(refs: list[str], hyps: list[str]) -> ErrorStats:
    """Corpus-level character errors (spaces count as characters)."""
    return _stats(refs, hyps, "char")


def wer(refs: list[str], hyps: list[str]) -> float:
    """Word error rate in percent."""
    return word_errors(refs, hyps).rate


def cer(refs: list[str], hyps: list[str]) -> float:
    """Character error rate in percent."""
    return char_errors(refs, hyps).rate


def align(ref: str, hyp: str) -> str:
    """One line marking the word alignment: ``a (b->x) c (*->d) (e->*)``."""
    r, h = normalize_text(ref).split(), normalize_text(hyp).split()
    if not r:
        return " ".join(f"(*->{w})" for w in h)
    out = []
    for chunk in jiwer.process_words(" ".join(r), " ".join(h)).alignments[0]:
        rw = r[chunk.ref_start_idx : chunk.ref_end_idx]
        hw = h[chunk.hyp_start_idx : chunk.hyp_end_idx]
        if chunk.type == "equal":
            out.extend(rw)
        elif chunk.type == "substitute":
            out.extend(f"({a}->{b})" for a, b in zip(rw, hw))
        elif chunk.type == "delete":
            out.extend(f"({a}->*)" for a in rw)
        else:
            out.extend(f"(*->{b})" for b in hw)
    return " ".join(out)


def write_error_report(
    path: str | Path, ids: list[str], refs: list[str], hyps: list[str]
) -> tuple[ErrorStats, ErrorStats]:
    """Write a summary and per-utterance REF/HYP alignments (worst utterances first); return (word, char) stats."""
    w, c = word_errors(refs, hyps), char_errors(refs, hyps)
    lines = [
        f"WER {w.rate:.2f}% [ {w.errors} / {w.ref_len}, {w.insertions} ins, {w.deletions} del, {w.substitutions} sub ]",
        f"CER {c.rate:.2f}% [ {c.errors} / {c.ref_len}, {c.insertions} ins, {c.deletions} del, {c.substitutions} sub ]",
        f"{len(ids)} utterances",
        "",
    ]
    per_utt = sorted(zip(ids, refs, hyps), key=lambda x: -word_errors([x[1]], [x[2]]).errors)
    for uid, r, h in per_utt:
        e = word_errors([r], [h])
        lines += [
            f"{uid}: {e.errors} errors / {e.ref_len} words",
            f"  REF: {normalize_text(r)}",
            f"  HYP: {normalize_text(h)}",
            f"  ALI: {align(r, h)}",
            "",
        ]
    Path(path).write_text("\n".join(lines))
    return w, c
