"""Option dataclasses that the CLI reads its defaults from; light to import (no torch)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .errors import UsageError

DEFAULT_BOOST = 2.0  # hotwords: log-probability bonus per letter (asr/hotwords.py)
MAX_BOOST = 5.0  # ... at most, per letter
MAX_WORD_BONUS = 20.0  # ... and at most this much for a whole word, so a long boosted word cannot flood the output
EVAL_BATCH_SIZE = 16  # utterances ``asr evaluate`` decodes together (sorted by length, so little padding)
MIN_SPEED, MAX_SPEED = 0.5, 2.0  # DecodeOptions.speeds
CMVN_MAX_UTTS = 1000  # utterances sampled for global CMVN statistics (training and ``asr cmvn``)


def default_threads() -> int:
    """Half the cores, at least one: on a machine busy with other work, more threads than free cores can be many
    times slower than one (see docs/benchmarks.md), while half the cores loses little when the machine is idle."""
    return max(1, (os.cpu_count() or 1) // 2)


@dataclass(frozen=True)
class TranscribeOptions:
    batch_size: int = 8  # segments decoded together (across files too)
    threads: int | None = field(default=None)  # CPU threads; None = default_threads()

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise UsageError(f"batch size must be at least 1, got {self.batch_size}")
        if self.threads is None:
            object.__setattr__(self, "threads", default_threads())
        elif self.threads < 1:
            raise UsageError(f"threads must be at least 1, got {self.threads}")


@dataclass(frozen=True)
class DecodeOptions:
    decoder: str = "greedy"  # "greedy" or "beam"
    beam_size: int = 32  # hypotheses kept per frame
    beam_size_token: int = 8  # tokens considered per frame (0 = all; docs/benchmarks.md compares them)
    token_min_logp: float = -5.0  # lexicon-free search: tokens less likely than this in a frame are not tried
    beam_threshold: float = 25.0  # prune hypotheses scoring this far below the best
    lexicon: str | None = None  # lexicon file ("word w o r d |" per line; respelt for word pieces); needed by an LM
    lm: str | None = None  # ARPA or KenLM binary word n-gram LM
    lm_weight: float = 1.5  # LM score weight (tuning in docs/devlog.md)
    word_score: float = 0.0  # insertion bonus per word
    unk_score: float = float("-inf")  # score of out-of-lexicon words (lexicon mode)
    hotwords: tuple[tuple[str, float], ...] = ()  # (word, bonus per character) pairs, see asr/hotwords.py
    log_add: bool = True  # flashlight (lexicon, hotwords): merge equal-text hypotheses by log-sum-exp, not max
    # Offline only: playback speeds a recording is decoded at while its first speech is heard; the recording keeps
    # the one whose hypotheses score best (asr/transcribe.py). 0.9 plays it slower and lower, as a slower voice.
    speeds: tuple[float, ...] = (1.0,)

    def __post_init__(self) -> None:
        if self.decoder not in ("greedy", "beam"):
            raise UsageError(f"unknown decoder '{self.decoder}' (greedy or beam)")
        if self.beam_size < 1:
            raise UsageError(f"beam size must be at least 1, got {self.beam_size}")
        if self.beam_size_token < 0:
            raise UsageError(f"beam_size_token must be 0 (all) or more, got {self.beam_size_token}")
        if self.beam_threshold <= 0:
            raise UsageError(f"beam threshold must be positive, got {self.beam_threshold}")
        if not self.speeds or any(not MIN_SPEED <= s <= MAX_SPEED for s in self.speeds):
            raise UsageError(f"speeds must be between {MIN_SPEED:g} and {MAX_SPEED:g}, got {self.speeds}")
        if len(set(self.speeds)) != len(self.speeds):
            raise UsageError(f"speeds must differ, got {self.speeds}")


@dataclass(frozen=True)
class VadOptions:
    """Speech segmentation (asr/vad.py): offline cutting at pauses, and streaming's endpointer."""

    # Offline, audio is cut at pauses of 0.7 s or more and keeps 0.3 s around its speech: on real dev clips, cutting
    # at 0.3 s pauses with 0.2 s kept made 2.8 more word errors per 100 words than decoding each clip whole (quiet
    # onsets cut off, context lost), these settings 1.0; longer gaps and pads cost accuracy on long recordings
    # (docs/devlog.md)
    min_gap: float = 0.7  # silences shorter than this do not split speech (s)
    pad: float = 0.3  # kept around each speech region (s)
    max_segment: float = 20.0  # longer regions are split at their quietest frame (s)
    min_speech: float = 0.1  # shorter regions are dropped (s)
    floor_margin_db: float = 12.0  # speech is this far above the noise floor (10th percentile)
    peak_range_db: float = 45.0  # ... and within this range of the loudest frame
    abs_floor_db: float = -80.0  # audio whose loudest frame is below this (dBFS) is silence: digital silence, dither
    window: float = 60.0  # seconds buffered at most


@dataclass(frozen=True)
class StreamOptions:
    chunk: float = 0.32  # seconds of audio per model step (and between partial results); docs/streaming.md
    right_context: float = 0.32  # look-ahead of bidirectional models (LC-BLSTM); ignored for unidirectional ones
    # the endpointer: an utterance ends after vad.min_gap seconds of non-speech (sooner than offline cutting, for
    # latency: docs/streaming.md), is cut at vad.max_segment seconds, keeps vad.pad on each side, and is dropped
    # with less than vad.min_speech seconds of speech
    vad: VadOptions = VadOptions(min_gap=0.2, pad=0.2)

    def __post_init__(self) -> None:
        if not 0.01 <= self.chunk <= 5 or self.right_context < 0 or self.vad.min_gap <= 0:
            raise UsageError("chunk must be 0.01-5 s, right context >= 0 and the endpoint gap > 0")


@dataclass(frozen=True)
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 8765  # 0: any free port (printed at start)
    max_sessions: int = 32
    max_frame_bytes: int = 1 << 20
    idle_timeout: float = 30.0  # seconds without a message before a session is closed
    workers: int = 2  # threads running the model


def parse_speeds(spec: str) -> tuple[float, ...]:
    """``"1,0.9"`` → ``(1.0, 0.9)``; UsageError naming the bad item (the range is checked by DecodeOptions)."""
    out = []
    for item in (x.strip() for x in spec.split(",")):
        try:
            out.append(float(item))
        except ValueError:
            raise UsageError(f"--speeds: '{item}' is not a number") from None
    return tuple(out)


def parse_hotwords(specs: list[str], default_boost: float = DEFAULT_BOOST) -> tuple[tuple[str, float], ...]:
    """Hotword specs → ``((word, boost per letter), …)``.

    Each spec is ``WORD[:BOOST]`` or several of them separated by commas (``"grafana,kubernetes:3"``). A word must
    normalise to one word of letters (``covid19`` would become three words and is refused, naming it); BOOST is a
    number from 0 to ``MAX_BOOST``. Raises UsageError naming the bad spec.
    """
    from .text import normalize_text

    out: dict[str, float] = {}
    for spec in (s.strip() for item in specs for s in item.split(",")):
        if not spec:
            continue
        word, sep, boost = spec.rpartition(":") if ":" in spec else (spec, "", "")
        try:
            value = float(boost) if sep else default_boost
        except ValueError:
            raise UsageError(f"hotword '{spec}': boost '{boost}' is not a number") from None
        if not 0 <= value <= MAX_BOOST:
            raise UsageError(f"hotword '{spec}': boost must be between 0 and {MAX_BOOST:g}")
        norm = normalize_text(word)
        if not norm:
            raise UsageError(f"hotword '{spec}': no letters in it")
        if " " in norm:
            raise UsageError(f"hotword '{word}': reads as several words ('{norm}'); give one word of letters")
        out[norm] = value
    return tuple(out.items())
