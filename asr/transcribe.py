"""Transcription: ``load_model()`` → :class:`Recognizer`; ``Recognizer.transcribe(audio)`` → :class:`Result`.

Long recordings are read in blocks and cut at pauses (``asr.vad``), so memory stays flat in the audio's length.
Segments are decoded in batches; word times come from CTC forced alignment of the hypothesis.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from .align import align_words
from .audio import (
    SAMPLE_RATE,
    AudioError,
    HighPass,
    as_model_input,
    frame_energy_db,
    normalize_level,
    played_at_speed,
    stream_audio,
)
from .bundled import DEFAULT_MODEL, available_models, default_decode_options, resolve_model  # noqa: F401
from .checkpoint import load_checkpoint_model
from .decode import DecodeOptions, Decoder, Hypothesis, check_decode_options, make_decoder
from .errors import UsageError
from .model import resolve_device
from .results import Result, SegmentText, Word
from .vad import Segment, VadOptions, segment_stream

if TYPE_CHECKING:
    from .streaming import Stream, StreamOptions

SOUND_DB = -75.0  # a file whose loudest 10 ms frame (after the high-pass) is above this is not silent
SPEED_TRIAL_S = 20.0  # seconds of a recording's speech decoded at each of DecodeOptions.speeds before it keeps one


class Recognizer:
    """A loaded model, its tokenizer and a decoder."""

    def __init__(
        self,
        path: str | Path | None = None,
        device: str = "cpu",
        opts: DecodeOptions | None = None,
        threads: int | None = None,
        int8: bool = False,
    ) -> None:
        if threads is not None:
            torch.set_num_threads(threads)
        self.path = resolve_model(path)
        self.device = resolve_device(device)
        self.model, self.tokenizer, self.config = load_checkpoint_model(self.path, self.device)
        self.int8 = int8
        if int8:
            if self.device.type != "cpu":
                raise UsageError("int8 inference runs on the CPU only (--device cpu)")
            from .export import quantize_int8

            self.model = quantize_int8(self.model)
        if opts is None:  # the bundled model decodes with the bundled LM; other checkpoints greedily
            opts = default_decode_options() if self.path == DEFAULT_MODEL else DecodeOptions()
        self.opts = opts  # the decoding of calls that pass none
        self._decoders: dict[DecodeOptions, Future] = {}
        # The default decoder is checked now (missing files fail here) and built in the background: a lexicon search
        # over 100,000 words takes seconds to set up, which overlaps reading and encoding the first audio.
        check_decode_options(self.tokenizer, opts)
        self._decoders[opts] = ThreadPoolExecutor(1, thread_name_prefix="asr-decoder").submit(
            make_decoder, self.tokenizer, opts
        )
        self.frame_shift = self.model.frame_shift

    def decoder(self, opts: DecodeOptions | None = None) -> Decoder:
        """The decoder for ``opts`` (default: this recognizer's), built on first use and kept for later calls."""
        opts = opts or self.opts
        if opts not in self._decoders:
            done: Future = Future()
            done.set_result(make_decoder(self.tokenizer, opts))
            self._decoders[opts] = done
        return self._decoders[opts].result()  # a background build's error is raised here

    def segments(
        self,
        audio: str | Path | np.ndarray,
        vad: VadOptions | None = VadOptions(),
        level: bool = True,
        sample_rate: int | None = None,
    ) -> Iterator[Segment]:
        """The first step of :meth:`transcribe`: the speech in ``audio`` as segments ready for the model.

        The audio is read in blocks and high-passed, cut at pauses by the VAD (``vad=None``: one segment), and each
        segment is brought to the model's level (``level=False``: as it is). Arguments as for :meth:`transcribe`.
        Yields :class:`asr.vad.Segment` with (N,) float32 16 kHz audio and its times in the input.

        Raises:
            AudioError: the file cannot be read.
        """
        yield from _cut(map(HighPass(), _blocks(audio, sample_rate)), vad, level)

    @torch.no_grad()
    def emissions(self, segs: Sequence[Segment]) -> tuple[torch.Tensor, torch.Tensor]:
        """The second step: the model's output for a batch of segments, run together.

        Returns (B, T, V) float32 log-probabilities on the CPU and the (B,) number of frames of each segment
        (one frame per ``frame_shift`` seconds). A decoder (:meth:`decoder`) turns them into text.
        """
        lens = torch.tensor([len(s.audio) for s in segs])
        wav = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(s.audio) for s in segs], batch_first=True)
        log_probs, out_lens = self.model(wav.to(self.device), lens.to(self.device))
        return log_probs.float().cpu(), out_lens.cpu()

    def _decode_segments(
        self, segs: list[Segment], decoder: Decoder, speed: float = 1.0
    ) -> list[tuple[Hypothesis, list[Word]]]:
        """Hypotheses and timed words of ``segs`` played at ``speed`` (0.9: 10% slower and lower); times are in
        the input's seconds whatever the speed."""
        heard = segs if speed == 1.0 else [Segment(s.start, s.end, played_at_speed(s.audio, speed)) for s in segs]
        log_probs, out_lens = self.emissions(heard)
        hyps = decoder(log_probs, out_lens)
        return [
            (
                hyp,
                align_words(
                    log_probs[i, : int(out_lens[i])],
                    hyp,
                    self.tokenizer,
                    self.frame_shift * speed,
                    seg.start,
                    seg.audio,
                ),
            )
            for i, (seg, hyp) in enumerate(zip(segs, hyps))
        ]

    def _decode_batch(
        self, batch: list[tuple[_Input, Segment]], decoder: Decoder, speeds: tuple[float, ...]
    ) -> list[tuple[Hypothesis, list[Word]]]:
        """Each segment of ``batch`` decoded at its input's speed; while an input has not chosen one, at every speed
        of ``speeds``, keeping the best-scoring hypothesis. An input chooses the speed whose hypotheses scored best in
        total once ``SPEED_TRIAL_S`` seconds of its speech have been heard."""
        if len(speeds) == 1:
            return self._decode_segments([seg for _, seg in batch], decoder, speeds[0])
        tried: list[dict[float, tuple[Hypothesis, list[Word]]]] = [{} for _ in batch]
        for speed in speeds:
            idx = [i for i, (inp, _) in enumerate(batch) if inp.speed in (None, speed)]
            if idx:
                for i, out in zip(idx, self._decode_segments([batch[i][1] for i in idx], decoder, speed)):
                    tried[i][speed] = out
        for (inp, seg), outs in zip(batch, tried):
            if inp.speed is None:
                for speed, (hyp, _) in outs.items():
                    inp.speed_scores[speed] = inp.speed_scores.get(speed, 0.0) + hyp.score
                inp.trial_s += seg.end - seg.start
        for inp, _ in batch:
            if inp.speed is None and inp.trial_s >= SPEED_TRIAL_S:
                inp.speed = max(speeds, key=lambda s: inp.speed_scores[s])
        return [outs[max(outs, key=lambda s: outs[s][0].score)] for outs in tried]

    def describe(self) -> dict[str, str]:
        """The model and its decoding in words (what the live page shows)."""
        cfg, dec = self.model.cfg, self.opts
        units = (
            "phones" if cfg.units == "phone" else f"{cfg.word_pieces} word pieces" if cfg.word_pieces else "characters"
        )
        kind = ("Bi" if cfg.bidirectional else "") + cfg.rnn_type.upper()
        return {
            "model": self.path.name,
            "architecture": f"{cfg.layers}×{cfg.hidden} {kind}, {units}" + (", int8" if self.int8 else ""),
            "decoder": "beam search + word LM" if dec.lm else ("beam search" if dec.decoder == "beam" else "greedy"),
        }

    def transcribe(
        self,
        audio: str | Path | np.ndarray,
        batch_size: int = 8,
        vad: VadOptions | None = VadOptions(),
        progress: Callable[[float], None] | None = None,
        sample_rate: int | None = None,
        level: bool = True,
        decode: DecodeOptions | None = None,
    ) -> Result:
        """Transcribe a file (any length, any format and rate), or a (N,) or (N, channels) array of samples.

        An array needs its ``sample_rate`` (it is resampled to 16 kHz and mixed to mono); a file knows its own.
        ``vad=None`` decodes the input as one utterance (for pre-segmented clips; memory grows with the length).
        ``level=False`` skips the per-segment level normalisation (what live streaming does, which cannot know an
        utterance's level before it ends). ``decode`` overrides the recognizer's decoding for this call.

        Raises:
            AudioError: the file cannot be read.
            UsageError: an array without ``sample_rate``, or ``sample_rate`` with a file.
        """
        if not isinstance(audio, (str, Path)) or sample_rate is not None:
            (audio,) = _blocks(audio, sample_rate)  # an array in the model's layout (or the UsageError)
        ((_, result),) = self.transcribe_many([audio], batch_size, vad, progress, level, decode)
        if isinstance(result, Exception):
            raise result
        return result

    def stream(self, opts: StreamOptions | None = None, decode: DecodeOptions | None = None) -> Stream:
        """A new live stream over this model (see :mod:`asr.streaming`): partials greedy, each final decoded by
        ``decode`` (default: this recognizer's decoding, beam search + LM for the bundled model) with word times."""
        from .streaming import Stream, StreamOptions

        return Stream(self.model, self.tokenizer, opts or StreamOptions(), decoder=self.decoder(decode))

    def transcribe_many(
        self,
        inputs: Iterable[str | Path | np.ndarray],
        batch_size: int = 8,
        vad: VadOptions | None = VadOptions(),
        progress: Callable[[float], None] | None = None,
        level: bool = True,
        decode: DecodeOptions | None = None,
    ) -> Iterator[tuple[str | Path | np.ndarray, Result | AudioError]]:
        """Transcribe inputs in order, batching segments across inputs (many short files decode together).

        Every path to the model goes through here: ``asr transcribe``, ``asr evaluate`` and the Python API.
        Yields (input, Result) — or (input, AudioError) for an input that cannot be read, and goes on with the rest.
        Arrays must be (N,) float32 at 16 kHz here (``transcribe`` converts others). ``progress``, if given, is
        called with the seconds of audio read in the current input.
        """
        decoder, speeds = self.decoder(decode), (decode or self.opts).speeds
        pending: list[_Input] = []  # inputs whose segments are not all decoded yet, in order
        batch: list[tuple[_Input, Segment]] = []

        def flush() -> None:
            if batch:
                for (inp, seg), (hyp, ws) in zip(batch, self._decode_batch(batch, decoder, speeds)):
                    if hyp.text:
                        inp.segments.append(SegmentText(round(seg.start, 3), round(seg.end, 3), hyp.text))
                        inp.words.extend(ws)
                batch.clear()

        def finished() -> Iterator[tuple]:
            while pending and pending[0].done and not any(inp is pending[0] for inp, _ in batch):
                inp = pending.pop(0)
                yield inp.item, inp.error if inp.error is not None else inp.result()

        for item in inputs:
            inp = _Input(item)
            pending.append(inp)
            blocks = (
                stream_audio(item, warnings=inp.warnings)
                if isinstance(item, (str, Path))
                else [np.asarray(item, np.float32)]
            )
            try:
                for seg in _cut(inp.measure(map(HighPass(), blocks), progress), vad, level):
                    batch.append((inp, seg))
                    if len(batch) >= batch_size:
                        flush()
                        yield from finished()
            except AudioError as e:
                batch[:] = [(i, sg) for i, sg in batch if i is not inp]
                inp.error = e
            inp.done = True
            if not batch:
                yield from finished()
        flush()
        yield from finished()


@dataclass
class _Input:
    """One input of :meth:`Recognizer.transcribe_many` while its segments are decoded."""

    item: str | Path | np.ndarray
    segments: list[SegmentText] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    samples: int = 0  # read so far
    loudest_db: float = -200.0  # the loudest 10 ms frame after the high-pass
    done: bool = False  # all its segments are in a batch
    error: AudioError | None = None
    warnings: list[str] = field(default_factory=list)  # from reading it (e.g. truncated)
    speed: float | None = None  # the playback speed it is decoded at (None: still trying DecodeOptions.speeds)
    speed_scores: dict[float, float] = field(default_factory=dict)  # total hypothesis score per speed tried
    trial_s: float = 0.0  # seconds of its speech decoded at every speed
    t0: float = field(default_factory=time.perf_counter)

    def measure(self, blocks: Iterable[np.ndarray], progress) -> Iterator[np.ndarray]:
        """Pass ``blocks`` through, counting samples (and reporting them) and tracking the loudest frame."""
        for b in blocks:
            self.samples += len(b)
            if progress:
                progress(self.samples / SAMPLE_RATE)
            e = frame_energy_db(b)
            if len(e):
                self.loudest_db = max(self.loudest_db, float(e.max()))
            yield b

    def result(self) -> Result:
        warnings = list(self.warnings)
        if not self.segments and self.loudest_db > SOUND_DB:
            warnings.append(
                f"no speech found, though the audio is not silent (loudest 10 ms {self.loudest_db:.0f} dBFS)"
            )
        return Result(
            " ".join(x.text for x in self.segments),
            self.samples / SAMPLE_RATE,
            self.segments,
            self.words,
            time.perf_counter() - self.t0,
            tuple(warnings),
        )


def _blocks(audio: str | Path | np.ndarray, sample_rate: int | None) -> Iterable[np.ndarray]:
    """A file read in blocks, or an array (any layout :func:`asr.audio.as_model_input` takes) as one block."""
    if isinstance(audio, (str, Path)):
        if sample_rate is not None:
            raise UsageError(f"{audio}: sample_rate is for arrays; a file's rate is read from the file")
        return stream_audio(audio)
    if sample_rate is None:
        raise UsageError("an array needs its sample_rate, e.g. transcribe(samples, sample_rate=16000)")
    return [as_model_input(audio, sample_rate)]


def _cut(blocks: Iterable[np.ndarray], vad: VadOptions | None, level: bool) -> Iterator[Segment]:
    """High-passed blocks cut into segments at pauses (``vad=None``: all of them as one), each levelled if ``level``."""
    for seg in segment_stream(blocks, vad) if vad is not None else _whole(blocks):
        yield Segment(seg.start, seg.end, normalize_level(seg.audio)) if level else seg


def _whole(blocks: Iterable[np.ndarray]) -> Iterator[Segment]:
    """All of an input as one segment (no VAD)."""
    audio = np.concatenate(list(blocks) or [np.zeros(0, np.float32)])
    if len(audio):
        yield Segment(0.0, len(audio) / SAMPLE_RATE, audio)


def load_model(
    path: str | Path | None = None,
    device: str = "cpu",
    opts: DecodeOptions | None = None,
    threads: int | None = None,
    streaming: bool = False,
    int8: bool | None = None,
) -> Recognizer:
    """Load a checkpoint, or a bundled model by name (:func:`available_models`; None: the bundled default model).

    ``streaming=True`` asks for the set-up that streams best (``Recognizer.stream()``): the same bundled model, run
    latency-controlled, and on the CPU quantised to int8, which streams 3.3× faster per chunk at the same WER
    (docs/streaming.md). ``int8`` True/False forces the quantisation on or off (None: only when streaming on the
    CPU; asr/export.py). ``opts`` None: the bundled model decodes with the bundled LM
    (``asr.bundled.default_decode_options``), offline and streaming alike; other checkpoints greedily. ``threads``
    None leaves torch's thread count as it is (``asr transcribe`` passes :func:`asr.options.default_threads`)."""
    if int8 is None:
        int8 = streaming and resolve_device(device).type == "cpu"
    return Recognizer(path, device, opts, threads, int8)
