"""Streaming recognition: audio arrives in pieces; partial transcripts come out as it goes, and a final one per utterance.

Per stream::

    blocks of audio (any rate) → resample to 16 kHz → Endpointer (online energy VAD, the same rule as asr.vad)
      → for each utterance: ChunkEncoder (incremental log-mel → CMVN → frame stacking → RNN layers)
      → log-probs (T, V) → incremental greedy decoding → partial events
      → at the utterance's end: the recognizer's decoder (beam search + LM for the bundled model) → final event

A **unidirectional** model carries each layer's state from chunk to chunk, so its output equals the offline
forward pass on the same utterance. A **bidirectional** model is run latency-controlled (LC-BLSTM): chunks of
``chunk`` seconds, each seen with ``right_context`` seconds of look-ahead; the forward direction carries its state
across chunks, the backward direction restarts at the end of each chunk's look-ahead.

An utterance ends (a final event) once ``min_gap`` seconds of non-speech follow it; ``pad`` seconds of audio are kept
on each side, as in offline segmentation, so on clean audio both cut the same utterances.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .audio import SAMPLE_RATE, HighPass
from .errors import UsageError
from .model import CTCModel
from .options import StreamOptions
from .results import Event, Word
from .text import Tokenizer
from .vad import FRAME, VadOptions, energy_db, speech_threshold

NONSPEECH_RISE_DB = 0.01  # the online noise floor may rise this much per 10 ms frame (1 dB/s)


class Endpointer:
    """Online energy VAD over 10 ms frames: the rule of :mod:`asr.vad` with levels tracked as the audio arrives.

    A frame is speech when its energy is above ``max(floor + margin, peak - range, absolute floor)``; the peak is the
    loudest frame so far, the floor the quietest, rising by at most 1 dB/s.
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


class ChunkEncoder:
    """The model's forward pass, chunk by chunk, for one utterance. ``accept`` (N,) samples → new log-probs (T, V).

    Only the model's own methods are used: :meth:`CTCModel.features` on each new run of whole feature frames,
    :meth:`CTCModel.subsample` on whole stacking groups, :meth:`CTCModel.encode` on each chunk with its look-ahead.
    """

    def __init__(self, model: CTCModel, opts: StreamOptions) -> None:
        if model.cfg.subsampling != "stack":
            raise UsageError("streaming needs a model with frame stacking (model.subsampling: stack)")
        self.model = model
        self.factor = model.cfg.subsample_factor
        self.chunk = max(1, round(opts.chunk / model.frame_shift))  # output frames per step
        self.right = round(opts.right_context / model.frame_shift) if model.cfg.bidirectional else 0
        self.win, self.hop = model.logmel.win, model.logmel.hop
        self.device = model.cmvn.mean.device
        self.samples = np.zeros(0, np.float32)  # not yet turned into feature frames
        self.feats = torch.zeros(0, model.feat_cfg.n_mels, device=self.device)  # normalised frames not yet stacked
        self.stacked = torch.zeros(0, model.subsample.out_dim, device=self.device)  # stacked, not yet through the RNN
        self.states: list | None = None  # the model's per-layer states after the last chunk

    @torch.no_grad()
    def accept(self, audio: np.ndarray) -> torch.Tensor:
        self.samples = np.concatenate([self.samples, audio.astype(np.float32, copy=False)])
        n = 0 if len(self.samples) < self.win else (len(self.samples) - self.win) // self.hop + 1
        if n:
            wav = torch.from_numpy(self.samples[: (n - 1) * self.hop + self.win]).unsqueeze(0).to(self.device)
            feats, _ = self.model.features(wav, torch.tensor([wav.shape[1]], device=self.device))
            self.feats = torch.cat([self.feats, feats[0]])
            self.samples = self.samples[n * self.hop :]
        return self._run(final=False)

    @torch.no_grad()
    def flush(self) -> torch.Tensor:
        """The log-probs of everything left (the last stacking group zero-padded, as offline)."""
        return self._run(final=True)

    def _run(self, final: bool) -> torch.Tensor:
        groups = len(self.feats) // self.factor
        if final and len(self.feats) % self.factor:
            groups += 1
        if groups:
            take = self.feats[: groups * self.factor]
            stacked, _ = self.model.subsample(take.unsqueeze(0), torch.tensor([len(take)], device=self.device))
            self.stacked = torch.cat([self.stacked, stacked[0]])
            self.feats = self.feats[groups * self.factor :]
        outs = []
        while len(self.stacked) >= self.chunk + self.right or (final and len(self.stacked)):
            c = min(self.chunk, len(self.stacked))
            x = self.stacked[: c + self.right].unsqueeze(0)
            log_probs, _, self.states = self.model.encode(
                x, torch.tensor([x.shape[1]], device=self.device), self.states, commit=c
            )
            outs.append(log_probs[0].cpu())
            self.stacked = self.stacked[c:]
        if not outs:
            return torch.zeros(0, self.model.vocab_size)
        return torch.cat(outs)


class IncrementalGreedyDecoder:
    """Incremental best-path decoding: feed (T, V) log-probs, read ``text``."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.tokens: list[int] = []
        self.prev = tokenizer.blank

    def accept(self, log_probs: torch.Tensor) -> None:
        for i in log_probs.argmax(dim=-1).tolist():
            if i != self.prev and i != self.tokenizer.blank:
                self.tokens.append(i)
            self.prev = i

    @property
    def text(self) -> str:
        return self.tokenizer.decode(self.tokens)


Finaliser = Callable[[torch.Tensor, float, np.ndarray], tuple[str, tuple["Word", ...]]]
"""(log-probs (T, V) of an utterance, its start in seconds, its audio (N,)) → (text, words)."""


@dataclass
class _Utterance:
    """The utterance in progress of a :class:`Stream`; frame numbers count 10 ms frames from the stream's start."""

    first: int  # its first frame (``pad`` before the first speech frame)
    end: int  # one past its last frame so far
    speech_start: int  # its first speech frame
    speech_end: int  # one past its last speech frame
    encoder: ChunkEncoder
    decoder: IncrementalGreedyDecoder
    silence: int = 0  # non-speech frames since the last speech frame
    held: list[np.ndarray] = field(default_factory=list)  # non-speech beyond the pad: fed only if speech resumes
    audio: list[np.ndarray] = field(default_factory=list)  # what was fed to the encoder
    log_probs: list[torch.Tensor] = field(default_factory=list)  # what came out


class Stream:
    """One audio stream (a microphone, a WebSocket client, a file). Not thread-safe: one caller at a time.

    ``accept(samples, sample_rate)`` and ``finish()`` return the events that the new audio produced. Partials are
    incremental greedy decoding; a final is ``finalise`` of the whole utterance (None: the greedy text, no words).
    """

    def __init__(
        self,
        model: CTCModel,
        tokenizer: Tokenizer,
        opts: StreamOptions = StreamOptions(),
        vad: VadOptions = VadOptions(),
        finalise: Finaliser | None = None,
    ) -> None:
        self.model, self.tokenizer, self.opts, self.finalise = model, tokenizer, opts, finalise
        self.endpointer = Endpointer(vad)
        self.pending = np.zeros(0, np.float32)  # samples not yet a whole 10 ms frame
        self.frame_index = 0  # 10 ms frames seen so far
        self.pad_frames = round(opts.pad * 100)
        self.gap_frames = round(opts.min_gap * 100)
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
                        ChunkEncoder(self.model, self.opts),
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
            if u.silence >= self.gap_frames or idx + 1 - u.first >= self.opts.max_utterance * 100:
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
        if u.speech_end - u.speech_start < self.opts.min_speech * 100:
            return []
        if self.finalise is None:
            u.decoder.accept(rest)
            return [Event("final", u.decoder.text, u.first / 100, u.end / 100)]
        log_probs = torch.cat(u.log_probs + [rest])
        text, words = self.finalise(log_probs, u.first / 100, np.concatenate(u.audio or [np.zeros(0, np.float32)]))
        return [Event("final", text, u.first / 100, u.end / 100, words)]

    @property
    def partial(self) -> str:
        """The text of the utterance in progress ("" between utterances)."""
        return self.utt.decoder.text if self.utt is not None else ""
