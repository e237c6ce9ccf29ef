"""Corpus folders → JSONL manifests (``asr prepare``).

LibriSpeech layout: ``<root>/<split>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` with ``<spk>-<chapter>.trans.txt``
holding ``<utt-id> <TEXT>`` lines. The synthetic corpora use the same layout.
"""

from __future__ import annotations

from pathlib import Path

from ..audio import audio_duration
from ..data import write_manifest
from ..errors import AsrError
from ..text import normalize_text


class PrepareError(AsrError, ValueError):
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
            rows.append(
                {
                    "id": uid,
                    "audio": _relative(audio, out.parent),
                    "duration": round(audio_duration(audio), 4),
                    "text": normalize_text(text),
                }
            )
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
    from ..data import read_manifest

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
        rows[split].append(
            {
                "id": u.id,
                "audio": _relative(Path(u.audio), out),
                "duration": u.duration,
                "text": normalize_text(u.text),
                "speaker": speakers[u.id],
            }
        )
    for split, r in rows.items():
        write_manifest(out / f"{split}.jsonl", r)
    return len(rows["train"]), len(rows["test"])


# The real-speech folders (``shared/data/real`` layout: ``<source>/manifest.jsonl`` with id, audio, text, speaker,
# duration) and how each is split. Dev and test speakers never appear in training; test is never tuned on.
REAL_SOURCES = (
    "speechocean762",
    "alphanumeric",
    "fotaq",
    "bass",
    "asterisk_allison",
    "ljs_reader",
    "drascula",
    "klettres",
    "kathleen",
)
REAL_DEV_ONLY = ("kathleen",)  # native read speech: a dev set of its own (dev_kathleen.jsonl), never trained on
REAL_DEV_FOTAQ = ("fotaq-FRANK", "fotaq-LOU", "fotaq-NAOMI")  # game characters held out for dev
REAL_TEST_FOTAQ = ("fotaq-BUD", "fotaq-HENRY", "fotaq-IAN")  # ... and for test
REAL_HELD_OUT_ALPHANUMERIC = 12  # alphanumeric speakers held out for dev, and as many for test
REAL_DEV_EVERY = 5  # every 5th speaker of speechocean762's own test half is dev, the rest test


def real_split(source: str, row: dict, alnum_order: dict[str, int], so_order: dict[str, int]) -> str:
    """ "train", "dev" or "test" for one row of a real-speech manifest (speaker-disjoint by construction)."""
    spk = row.get("speaker")
    if source == "speechocean762":
        if row.get("split") != "test":
            return "train"
        return "dev" if so_order[spk] % REAL_DEV_EVERY == 0 else "test"
    if source == "alphanumeric":
        k = alnum_order[spk]
        return "dev" if k < REAL_HELD_OUT_ALPHANUMERIC else "test" if k < 2 * REAL_HELD_OUT_ALPHANUMERIC else "train"
    if source == "fotaq":
        return "dev" if spk in REAL_DEV_FOTAQ else "test" if spk in REAL_TEST_FOTAQ else "train"
    if source in REAL_DEV_ONLY:
        return "dev_only"
    return "train"


def prepare_real(root: str | Path, out_dir: str | Path, seed: int = 0) -> dict[str, int]:
    """Speaker-disjoint train/dev/test manifests from real transcribed speech (``shared/data/real``).

    Transcripts go through :func:`asr.textnorm.normalize_transcript`; rows whose text normalises to nothing are left
    out. ``kathleen`` (native read speech) is held out whole as ``dev_kathleen.jsonl``, outside ``dev.jsonl``. Writes
    ``out_dir/{train,dev,test}.jsonl`` (rows keep ``speaker`` and gain ``source``), per-source
    ``dev_<source>.jsonl`` / ``test_<source>.jsonl``, and per kind where rows have one
    (``dev_alphanumeric_numbers.jsonl``: the phone numbers). Dev is shuffled (seeded) so its first rows mix the sources.
    Returns the row count of each file written.
    """
    import hashlib
    import json

    import numpy as np

    from .textnorm import normalize_transcript

    root, out = Path(root), Path(out_dir)
    found = [s for s in REAL_SOURCES if (root / s / "manifest.jsonl").is_file()]
    if not found:
        raise PrepareError(f"{root}: none of {', '.join(REAL_SOURCES)} has a manifest.jsonl")
    splits: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    per_source: dict[str, list[dict]] = {}
    for source in found:
        src = root / source / "manifest.jsonl"
        rows = []
        for n, line in enumerate(src.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                audio, text, duration = root / source / d["audio"], d["text"], float(d["duration"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise PrepareError(f"{src}:{n}: not a manifest row ({type(e).__name__}: {e})") from None
            rows.append((d, audio, normalize_transcript(text), duration))
        speakers = sorted({d.get("speaker") for d, *_ in rows if d.get("speaker")})
        alnum_order = {s: i for i, s in enumerate(sorted(speakers, key=lambda s: hashlib.sha1(s.encode()).hexdigest()))}
        so_order = {s: i for i, s in enumerate(sorted({d["speaker"] for d, *_ in rows if d.get("split") == "test"}))}
        for d, audio, text, duration in rows:
            if not text:
                continue
            split = real_split(source, d, alnum_order, so_order)
            row: dict = {
                "id": d["id"],
                "audio": _relative(audio, out),
                "duration": duration,
                "text": text,
                "speaker": d.get("speaker"),
                "source": source,
            } | ({"kind": d["kind"]} if "kind" in d else {})
            if split == "dev_only":  # its own dev file only, so dev.jsonl stays comparable between versions
                per_source.setdefault(f"dev_{source}", []).append(row)
                continue
            splits[split].append(row)
            if split != "train":
                per_source.setdefault(f"{split}_{source}", []).append(row)
                if "kind" in row:
                    per_source.setdefault(f"{split}_{source}_{row['kind']}", []).append(row)
    order = np.random.default_rng(seed).permutation(len(splits["dev"]))
    splits["dev"] = [splits["dev"][i] for i in order]
    counts = {}
    for name, rows in list(splits.items()) + sorted(per_source.items()):
        write_manifest(out / f"{name}.jsonl", rows)
        counts[name] = len(rows)
    return counts
