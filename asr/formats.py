"""Transcript writers: txt, json, srt, vtt."""

from __future__ import annotations

import json

from .results import Result

FORMATS = ("txt", "json", "srt", "vtt")


def _timestamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, ms = divmod(ms, 3_600_000)
    m, ms = divmod(ms, 60_000)
    s, ms = divmod(ms, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_txt(result: Result) -> str:
    """The transcript, a line per segment (long recordings are cut at pauses), so lines stay readable."""
    return "".join(s.text + "\n" for s in result.segments) if result.segments else result.text + "\n"


def to_json(result: Result) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=1) + "\n"


def cues(result: Result) -> list[tuple[float, float, str]]:
    """(start, end, text) subtitle cues that never overlap: a segment's padded end is cut at the next one's start."""
    segs = result.segments
    out = []
    for i, s in enumerate(segs):
        end = min(s.end, segs[i + 1].start) if i + 1 < len(segs) else s.end
        out.append((s.start, max(end, s.start), s.text))
    return out


def to_srt(result: Result) -> str:
    blocks = [
        f"{i}\n{_timestamp(a, ',')} --> {_timestamp(b, ',')}\n{text}\n"
        for i, (a, b, text) in enumerate(cues(result), 1)
    ]
    return "\n".join(blocks)


def to_vtt(result: Result) -> str:
    blocks = [f"{_timestamp(a, '.')} --> {_timestamp(b, '.')}\n{text}\n" for a, b, text in cues(result)]
    return "WEBVTT\n\n" + "\n".join(blocks)


WRITERS = {"txt": to_txt, "json": to_json, "srt": to_srt, "vtt": to_vtt}
