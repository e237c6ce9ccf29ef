"""What recognition returns: words with times, segments, a file's result, a stream's events. Plain frozen
dataclasses, light to import (no torch), shared by offline transcription, streaming, the server and the writers."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Word:
    word: str
    start: float  # seconds
    end: float
    confidence: float  # mean posterior of the word's characters, 0..1


@dataclass(frozen=True)
class SegmentText:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Result:
    text: str
    duration: float  # seconds of audio
    segments: list[SegmentText] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    processing_time: float = 0.0  # seconds, including reading and segmenting the audio
    warnings: tuple[str, ...] = ()  # e.g. sound but no speech found

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("processing_time")
        d.pop("warnings")
        return d


@dataclass(frozen=True)
class Event:
    type: str  # "partial" or "final"
    text: str
    start: float  # seconds from the start of the stream
    end: float
    words: tuple[Word, ...] = ()  # a final's words with times and confidences (when the stream has a decoder)

    def to_dict(self) -> dict:
        """The ``/ws`` protocol's message (without the words)."""
        return {"type": self.type, "text": self.text, "start": round(self.start, 3), "end": round(self.end, 3)}
