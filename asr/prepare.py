"""Corpus folders → JSONL manifests (``asr prepare``).

LibriSpeech layout: ``<root>/<split>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` with ``<spk>-<chapter>.trans.txt``
holding ``<utt-id> <TEXT>`` lines. The synthetic corpora use the same layout.
"""

from __future__ import annotations

from pathlib import Path

from .audio import audio_duration
from .data import write_manifest
from .text import normalize_text


class PrepareError(ValueError):
    """A corpus folder is missing or malformed; one line naming the file."""


def prepare_librispeech(root: str | Path, split: str, out: str | Path) -> int:
    """Write a manifest for ``root/split`` (audio paths relative to the manifest). Returns the utterance count."""
    split_dir = Path(root) / split
    if not split_dir.is_dir():
        raise PrepareError(f"{split_dir}: no such corpus folder")
    out = Path(out)
    rows = []
    for trans in sorted(split_dir.glob("*/*/*.trans.txt")):
        for n, line in enumerate(trans.read_text().splitlines(), 1):
            if not line.strip():
                continue
            uid, _, text = line.partition(" ")
            audio = trans.parent / f"{uid}.flac"
            if not audio.is_file():
                raise PrepareError(f"{trans}:{n}: missing audio {audio.name}")
            rows.append({"id": uid, "audio": _relative(audio, out.parent), "duration": round(audio_duration(audio), 4),
                         "text": normalize_text(text)})
    if not rows:
        raise PrepareError(f"{split_dir}: no *.trans.txt files in LibriSpeech layout")
    write_manifest(out, rows)
    return len(rows)


def _relative(path: Path, base: Path) -> str:
    import os

    return os.path.relpath(path.resolve(), base.resolve())
