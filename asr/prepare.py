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


def prepare_fsdd(root: str | Path, out_dir: str | Path, test_speakers: list[str]) -> tuple[int, int]:
    """Speaker-disjoint manifests for the Free Spoken Digit Dataset.

    ``root/manifest.jsonl`` rows carry ``id, audio, text, speaker, duration``; this writes ``out_dir/train.jsonl``
    (all other speakers) and ``out_dir/test.jsonl`` (``test_speakers``). Returns the two utterance counts.
    """
    from .data import read_manifest

    src = Path(root) / "manifest.jsonl"
    utts = read_manifest(src)
    import json

    speakers = {}
    for line in src.read_text().splitlines():
        if line.strip():
            d = json.loads(line)
            speakers[d["id"]] = d.get("speaker") or d["id"].split("_")[1]
    unknown = set(test_speakers) - set(speakers.values())
    if unknown:
        raise PrepareError(f"{src}: no speaker named {', '.join(sorted(unknown))}")
    out = Path(out_dir)
    rows = {"train": [], "test": []}
    for u in utts:
        split = "test" if speakers[u.id] in test_speakers else "train"
        rows[split].append({"id": u.id, "audio": _relative(Path(u.audio), out), "duration": u.duration,
                            "text": normalize_text(u.text), "speaker": speakers[u.id]})
    for split, r in rows.items():
        write_manifest(out / f"{split}.jsonl", r)
    return len(rows["train"]), len(rows["test"])
