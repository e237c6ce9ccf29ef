"""Audio sources for ``asr stream`` (a file, optionally at real-time pace, or the microphone) and the terminal display.

Both sources yield (N,) float32 blocks at 16 kHz; :func:`run_stream` pushes them through a :class:`~asr.streaming.Stream`.
"""

from __future__ import annotations

import queue
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO

import numpy as np

from .audio import SAMPLE_RATE, stream_audio
from .errors import UsageError
from .streaming import Event, Stream

BLOCK = 0.02  # seconds per block read from a file or the microphone


def file_blocks(path: str, realtime: bool = False) -> Iterator[np.ndarray]:
    """A file as 20 ms blocks; with ``realtime``, each block is released when it would have been spoken."""
    t0 = time.perf_counter()
    sent = 0
    for big in stream_audio(path, block_s=1.0):
        for i in range(0, len(big), int(BLOCK * SAMPLE_RATE)):
            block = big[i : i + int(BLOCK * SAMPLE_RATE)]
            if realtime:
                wait = t0 + (sent + len(block)) / SAMPLE_RATE - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            sent += len(block)
            yield block


def microphone_blocks(device: str | int | None = None) -> Iterator[np.ndarray]:
    """The default (or given) input device as 20 ms blocks at 16 kHz, until Ctrl-C.

    Checks at once (before anything is loaded or "listening" is printed) that the sounddevice package, PortAudio and
    an input device are there; raises UsageError saying how to get them.
    """
    try:
        import sounddevice as sd
    except (ImportError, OSError) as e:  # OSError: the PortAudio library is missing
        raise UsageError(
            f"--mic needs the sounddevice package and PortAudio: pip install -e '.[mic]' in the asr checkout, and "
            f"apt-get install libportaudio2 ({e})"
        ) from None
    try:
        sd.check_input_settings(device=device, channels=1, samplerate=SAMPLE_RATE, dtype="float32")
    except Exception as e:
        raise UsageError(f"microphone: no usable input device ({e}); list them with: python -m sounddevice") from None
    return _microphone(sd, device)


def _microphone(sd, device) -> Iterator[np.ndarray]:
    q: queue.Queue = queue.Queue()

    def callback(indata, frames, t, status) -> None:
        q.put(indata[:, 0].copy())

    try:
        with sd.InputStream(
            samplerate=SAMPLE_RATE,
            channels=1,
            dtype="float32",
            blocksize=int(BLOCK * SAMPLE_RATE),
            device=device,
            callback=callback,
        ):
            while True:
                yield q.get()
    except sd.PortAudioError as e:
        raise UsageError(f"microphone: {e}") from None


class TerminalDisplay:
    """Final results one per line on ``out``; partials on ``err`` (rewritten in place when it is a terminal)."""

    def __init__(
        self, out: TextIO = sys.stdout, err: TextIO = sys.stderr, partials: bool = False, times: bool = False
    ) -> None:
        self.out, self.err, self.partials, self.times = out, err, partials, times
        self.tty = err.isatty()
        self.shown = False

    def __call__(self, event: Event) -> None:
        if event.type == "partial" and self.partials:
            if self.tty:
                self.err.write("\r\033[K" + event.text[-200:])
                self.shown = True
            else:
                self.err.write(f"partial: {event.text}\n")
            self.err.flush()
        elif event.type == "final":
            if self.shown:
                self.err.write("\r\033[K")
                self.err.flush()
                self.shown = False
            stamp = f"[{event.start:.2f} - {event.end:.2f}] " if self.times else ""
            self.out.write(f"{stamp}{event.text}\n")
            self.out.flush()


def run_stream(stream: Stream, blocks: Iterable[np.ndarray], on_event) -> None:
    """Feed blocks into ``stream`` and pass each event to ``on_event``; the stream is finished at the end or on
    Ctrl-C (so the last utterance is not lost)."""
    try:
        for block in blocks:
            for e in stream.accept(block):
                on_event(e)
    except KeyboardInterrupt:
        pass
    for e in stream.finish():
        on_event(e)
