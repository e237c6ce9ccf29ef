"""Energy-based speech segmentation for long recordings, over a stream of audio blocks with bounded memory.

Frames of 10 ms are speech when their energy is well above the noise floor and within a range of the loudest frame so
far: both levels move with the recording's gain, so a quiet copy is cut where the loud one is. A recording whose loudest
frame stays below an absolute level (digital silence, dither, stray bits) yields nothing. Speech regions separated by less than ``min_gap`` are merged, padded by ``pad``,
and split at the quietest frame when longer than ``max_segment``. At most ``window`` seconds are buffered.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .audio import FRAME, SAMPLE_RATE
from .audio import frame_energy_db as energy_db
from .options import VadOptions

__all__ = ["Endpointer", "Segment", "VadOptions", "segment_stream", "speech_threshold"]

NONSPEECH_RISE_DB = 0.01  # the online noise floor may rise this much per 10 ms frame (1 dB/s)


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the stream
    end: float
    audio: np.ndarray  # (N,) float32, 16 kHz


def speech_threshold(floor: float, peak: float, opts: VadOptions) -> float:
    """Energy (dB) above which a frame is speech, given the noise floor and the loudest frame so far (infinite while
    that frame is below the absolute floor)."""
    if peak <= opts.abs_floor_db:
        return float("inf")
    return max(floor + opts.floor_margin_db, peak - opts.peak_range_db)


class Endpointer:
    """Online energy VAD over 10 ms frames: the rule of :mod:`asr.vad` with levels tracked as the audio arrives.

    A frame is speech when its energy is above ``max(floor + margin, peak - range)`` and the peak is above the absolute
    floor; the peak is the loudest frame so far, the floor the quietest, rising by at most 1 dB/s.
    """

    def __init__(self, vad: VadOptions = VadOptions()) -> None:
        self.vad = vad
        self.floor: float | None = None
        self.peak = -120.0

    def is_speech(self, frame: np.ndarray) -> bool:
        """(160,) samples → speech or not."""
        e = float(energy_db(frame)[0])
        self.floor = e if self.floor is None else min(e, self.floor + NONSPEECH_RISE_DB)
        self.peak = max(self.peak, e)
        return e > speech_threshold(self.floor, self.peak, self.vad)


def _regions(speech: np.ndarray, min_gap: int) -> list[tuple[int, int]]:
    """[start, end) frame ranges of True runs, merging gaps shorter than ``min_gap`` frames."""
    idx = np.flatnonzero(np.diff(np.concatenate([[0], speech.astype(np.int8), [0]])))
    runs = list(zip(idx[::2], idx[1::2]))
    merged: list[list[int]] = []
    for s, e in runs:
        if merged and s - merged[-1][1] < min_gap:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    return [(int(s), int(e)) for s, e in merged]


def _split_long(s: int, e: int, energy: np.ndarray, max_len: int) -> list[tuple[int, int]]:
    """Split [s, e) into pieces of at most ``max_len`` frames, each cut at the quietest frame of its second half."""
    out = []
    while e - s > max_len:
        lo = s + max_len // 2
        cut = lo + int(np.argmin(energy[lo : s + max_len]))
        out.append((s, cut))
        s = cut
    out.append((s, e))
    return out


def segment_stream(blocks: Iterable[np.ndarray], opts: VadOptions = VadOptions()) -> Iterator[Segment]:
    """Speech segments of a stream of 16 kHz mono blocks, in order, with absolute times."""
    buf = np.zeros(0, dtype=np.float32)
    offset = 0  # sample index of buf[0] in the stream
    levels: dict = {}  # noise floor and peak carried across windows
    it = iter(blocks)
    done = False
    window = int(opts.window * SAMPLE_RATE)
    while not done:
        try:
            buf = np.concatenate([buf, next(it)])
            if len(buf) < window:
                continue
        except StopIteration:
            done = True
        while len(buf) >= window or (done and len(buf) > 0):
            consumed, segs = _segment_window(buf, offset, done, opts, levels)
            yield from segs
            buf, offset = buf[consumed:], offset + consumed
            if done:
                break


def _segment_window(
    buf: np.ndarray, offset: int, final: bool, opts: VadOptions, levels: dict
) -> tuple[int, list[Segment]]:
    """Segments of ``buf`` that are complete; returns (samples consumed, segments).

    Unless ``final``, a region touching the end of the buffer may continue: it is left for the next call, and the
    buffer is consumed up to just before it. A single region filling the whole window is split at quiet frames.
    """
    energy = energy_db(buf)
    n = len(energy)
    if n == 0:
        return len(buf), []
    # The noise floor is the quietest 10th percentile seen so far (rising by at most 1 dB per window, so a window of
    # continuous speech does not become its own floor); the peak is the loudest frame seen so far.
    floor = float(np.percentile(energy, 10))
    levels["floor"] = min(floor, levels.get("floor", floor) + 1.0)
    levels["peak"] = max(float(energy.max()), levels.get("peak", -120.0))
    thr = speech_threshold(levels["floor"], levels["peak"], opts)
    gap, pad, max_len = int(opts.min_gap * 100), int(opts.pad * 100), int(opts.max_segment * 100)
    regions = _regions(energy > thr, gap)
    pieces = [p for s, e in regions for p in _split_long(s, e, energy, max_len)]
    starts, ends = {s for s, _ in regions}, {e for _, e in regions}  # region edges get padding; split points don't
    cut = n
    if not final:
        if pieces and pieces[-1][1] >= n - gap:  # the last piece may continue
            open_start = pieces[-1][0]
            pieces = pieces[:-1]
            cut = max(open_start - pad, pieces[-1][1] if pieces else 0)
            if cut <= 0:  # nothing closed and the open piece starts at the buffer start: force a split
                pieces = _split_long(open_start, n, energy, max_len // 2)[:1]
                cut = pieces[0][1]
        else:
            cut = n - gap
    segs: list[Segment] = []
    last = 0  # frame where the previous segment ended: pads never make segments overlap
    for a, b in pieces:
        if b - a < opts.min_speech * 100:
            continue
        a0 = max(last, a - pad) if a in starts else a
        b0 = last = min(cut, b + pad) if b in ends else b
        segs.append(
            Segment(
                (offset + a0 * FRAME) / SAMPLE_RATE, (offset + b0 * FRAME) / SAMPLE_RATE, buf[a0 * FRAME : b0 * FRAME]
            )
        )
    return (len(buf) if final else cut * FRAME), segs
