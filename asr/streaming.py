"""Streaming recognition: audio arrives in pieces; partial transcripts come out as it goes, and a final one per utterance.

Per stream::

    blocks of audio (any rate) → resample to 16 kHz → Endpointer (online energy VAD, the same rule as asr.vad)
      → for each utterance: CTCModel.chunked (incremental log-mel → CMVN → frame stacking → RNN layers)
      → log-probs (T, V) → incremental greedy decoding → partial events
      → at the utterance's end: the recognizer's decoder (beam search + LM for the bundled model) → final event

A **unidirectional** model carries each layer's state from chunk to chunk, so its output equals the offline
forward pass on the same utterance. A **bidirectional** model is run latency-controlled (LC-BLSTM): chunks of
``chunk`` seconds, each seen with ``right_context`` seconds of look-ahead; the forward direction carries its state
across chunks, the backward direction restarts at the end of each chunk's look-ahead.

An utterance ends (a final event) once ``min_gap`` seconds of non-speech follow it; ``pad`` seconds of audio are kept
on each side, as in offline segmentation, so on clean audio both cut the same utterances (``StreamOptions.vad``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import torch

from .align import align_words
from .audio import SAMPLE_RATE, HighPass
from .decode import Decoder, GreedyCollapse
from .errors import UsageError
from .model import ChunkedForward, CTCModel
from .options import StreamOptions
from .results import Event
from .text import Tokenizer
from .vad import FRAME, Endpointer


class IncrementalGreedyDecoder:
    """Incremental best-path decoding: feed (T, V) log-probs, read ``text``."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.path = GreedyCollapse(tokenizer.blank)

    def accept(self, log_probs: torch.Tensor) -> None:
        self.path.accept(log_probs.argmax(dim=-1).tolist())

    @property
    def text(self) -> str:
        return self.tokenizer.decode(self.path.tokens)


@dataclass
class _Utterance:
    """The utterance in progress of a :class:`Stream`; frame numbers count 10 ms frames from the stream's start."""

    first: int  # its first frame (``pad`` before the first speech frame)
    end: int  # one past its last frame so far
    speech_start: int  # its first speech frame
    speech_end: int  # one past its last speech frame
    encoder: ChunkedForward
    decoder: IncrementalGreedyDecoder
    silence: int = 0  # non-speech frames since the last speech frame
    held: list[np.ndarray] = field(default_factory=list)  # non-speech beyond the pad: fed only if speech resumes
    audio: list[np.ndarray] = field(default_factory=list)  # what was fed to the encoder
    log_probs: list[torch.Tensor] = field(default_factory=list)  # what came out


class Stream:
    """One audio stream (a microphone, a WebSocket client, a file). Not thread-safe: one caller at a time.

    ``accept(samples, sample_rate)`` and ``finish()`` return the events that the new audio produced. Partials are
    incremental greedy decoding; a final is ``decoder``'s hypothesis for the whole utterance with its words aligned
    (:func:`asr.align.align_words`), or without a decoder the greedy text and no words.
    """

    def __init__(
        self,
        model: CTCModel,
        tokenizer: Tokenizer,
        opts: StreamOptions = StreamOptions(),
        decoder: Decoder | None = None,
    ) -> None:
        self.model, self.tokenizer, self.opts, self.decoder = model, tokenizer, opts, decoder
        self.endpointer = Endpointer(opts.vad)
        self.pending = np.zeros(0, np.float32)  # samples not yet a whole 10 ms frame
        self.frame_index = 0  # 10 ms frames seen so far
        self.pad_frames = round(opts.vad.pad * 100)
        self.gap_frames = round(opts.vad.min_gap * 100)
        self.history: deque[np.ndarray] = deque(maxlen=self.pad_frames + 1)  # the last pad + 1 frames
        self.utt: _Utterance | None = None
        self.last_end = 0  # frame where the last utterance (with its pad) ended: the next one starts after it
        self.resampler = None
        self.rate: int | None = None
        self.highpass = HighPass()  # DC offset and mains hum, removed before the endpointer and the model

    def accept(self, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> list[Event]:
        """(N,) float32 samples in [-1, 1] at ``sample_rate`` → events."""
        if self.rate is None:
            self.rate = sample_rate
            if sample_rate != SAMPLE_RATE:
                import soxr

                self.resampler = soxr.ResampleStream(sample_rate, SAMPLE_RATE, 1, dtype="float32")
        elif sample_rate != self.rate:
            raise UsageError(f"sample rate changed from {self.rate} to {sample_rate} within a stream")
        audio = np.asarray(samples, dtype=np.float32).reshape(-1)
        if self.resampler is not None:
            audio = self.resampler.resample_chunk(audio)
        return self._frames(self.highpass(audio))

    def finish(self) -> list[Event]:
        """End of the stream: flush the resampler and close the utterance in progress."""
        events = []
        if self.resampler is not None:
            events += self._frames(self.highpass(self.resampler.resample_chunk(np.zeros(0, np.float32), last=True)))
        if self.utt is not None:
            events += self._close()
        return events

    def _frames(self, audio: np.ndarray) -> list[Event]:
        buf = np.concatenate([self.pending, audio])
        n = len(buf) // FRAME
        self.pending = buf[n * FRAME :]
        events: list[Event] = []
        fed: list[np.ndarray] = []  # frames for the encoder, passed in one call per block
        for k in range(n):
            idx = self.frame_index + k
            frame = buf[k * FRAME : (k + 1) * FRAME]
            speech = self.endpointer.is_speech(frame)
            self.history.append(frame)
            u = self.utt
            if u is None:
                if speech:  # an utterance starts ``pad`` before its first speech frame, never inside the last one
                    kept = min(len(self.history), idx + 1 - self.last_end)
                    first = idx + 1 - kept
                    self.utt = _Utterance(
                        first,
                        idx + 1,
                        idx,
                        idx + 1,
                        self.model.chunked(self.opts.chunk, self.opts.right_context),
                        IncrementalGreedyDecoder(self.tokenizer),
                    )
                    fed += list(self.history)[len(self.history) - kept :]
                continue
            if speech:
                fed += u.held + [frame]
                u.held, u.silence, u.speech_end, u.end = [], 0, idx + 1, idx + 1
            else:
                u.silence += 1
                if u.silence <= self.pad_frames:  # trailing pad: part of the utterance whatever follows
                    fed.append(frame)
                    u.end = idx + 1
                else:  # beyond the pad: used only if speech resumes
                    u.held.append(frame)
            if u.silence >= self.gap_frames or idx + 1 - u.first >= self.opts.vad.max_segment * 100:
                events += self._feed(fed)
                fed = []
                events += self._close()
        if fed:
            events += self._feed(fed)
        self.frame_index += n
        return events

    def _feed(self, frames: list[np.ndarray]) -> list[Event]:
        u = self.utt
        if not frames:
            return []
        audio = np.concatenate(frames)
        u.audio.append(audio)
        lp = u.encoder.accept(audio)
        if not len(lp):
            return []
        u.log_probs.append(lp)
        u.decoder.accept(lp)
        return [Event("partial", u.decoder.text, u.first / 100, u.end / 100)]

    def _close(self) -> list[Event]:
        u, self.utt = self.utt, None
        self.last_end = u.end
        rest = u.encoder.flush()
        if u.speech_end - u.speech_start < self.opts.vad.min_speech * 100:
            return []
        if self.decoder is None:
            u.decoder.accept(rest)
            return [Event("final", u.decoder.text, u.first / 100, u.end / 100)]
        log_probs = torch.cat(u.log_probs + [rest])
        (hyp,) = self.decoder(log_probs.unsqueeze(0), torch.tensor([len(log_probs)]))
        audio = np.concatenate(u.audio or [np.zeros(0, np.float32)])
        words = align_words(log_probs, hyp, self.tokenizer, self.model.frame_shift, u.first / 100, audio)
        return [Event("final", hyp.text, u.first / 100, u.end / 100, tuple(words))]

    @property
    def partial(self) -> str:
        """The text of the utterance in progress ("" between utterances)."""
        return self.utt.decoder.text if self.utt is not None else ""
