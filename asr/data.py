"""Manifests, the dataset, batching by duration.

A manifest is JSONL, one utterance per line::

    {"id": "1272-128104-0000", "audio": "dev/1272-128104-0000.flac", "duration": 5.86, "text": "mister quilter ..."}

``audio`` is absolute or relative to the manifest's folder. Durations live in the manifest, so batching never opens audio.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch

from .audio import SAMPLE_RATE, load_audio, resample
from .text import CharTokenizer, normalize_text


class ManifestError(ValueError):
    """A manifest cannot be used; the message is one line naming the file and line."""


@dataclass(frozen=True)
class Utterance:
    id: str
    audio: str  # absolute path
    duration: float  # seconds
    text: str


def read_manifest(path: str | Path) -> list[Utterance]:
    """Parse and check a JSONL manifest.

    Raises:
        ManifestError: missing file, invalid JSON, missing or ill-typed fields, duplicate ids.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest")
    base = path.resolve().parent
    utts, seen = [], set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            d = json.loads(line)
        except json.JSONDecodeError as e:
            raise ManifestError(f"{where}: invalid JSON ({e.msg})") from None
        if not isinstance(d, dict):
            raise ManifestError(f"{where}: expected a JSON object")
        for key, typ in (("id", str), ("audio", str), ("duration", (int, float)), ("text", str)):
            if key not in d:
                raise ManifestError(f"{where}: missing field '{key}'")
            if not isinstance(d[key], typ) or isinstance(d[key], bool):
                raise ManifestError(f"{where}: field '{key}' has the wrong type")
        if d["duration"] <= 0:
            raise ManifestError(f"{where}: duration must be positive")
        if d["id"] in seen:
            raise ManifestError(f"{where}: duplicate id '{d['id']}'")
        seen.add(d["id"])
        audio = Path(d["audio"])
        utts.append(Utterance(d["id"], str(audio if audio.is_absolute() else base / audio), float(d["duration"]), d["text"]))
    if not utts:
        raise ManifestError(f"{path}: manifest is empty")
    return utts


def write_manifest(path: str | Path, rows: list[dict]) -> None:
    """Write dicts as JSONL (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    tmp.replace(path)


class AsrDataset(torch.utils.data.Dataset):
    """Item i → (waveform (N,) float32, token ids (L,) int64, index).

    Optional waveform augmentation (training only), drawn deterministically from ``(seed, epoch, i)`` so a resumed
    run replays it: speed perturbation (each utterance at ``1 - speed_perturb``, 1 or ``1 + speed_perturb`` times its
    speed, tempo and pitch together) and, with probability ``narrowband_prob``, telephone bandwidth (down to 8 kHz
    and back).
    """

    def __init__(self, utts: list[Utterance], tokenizer: CharTokenizer, speed_perturb: float = 0.0,
                 narrowband_prob: float = 0.0, seed: int = 0) -> None:
        self.utts, self.tokenizer = utts, tokenizer
        self.speed_perturb, self.narrowband_prob, self.seed = speed_perturb, narrowband_prob, seed
        self.epoch = 0  # set by the training loop before each epoch's DataLoader is built

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        u = self.utts[i]
        audio = load_audio(u.audio)
        if self.speed_perturb or self.narrowband_prob:
            audio = self._augment(audio, np.random.default_rng([self.seed, self.epoch, i]))
        return torch.from_numpy(audio), torch.tensor(self.tokenizer.encode(u.text), dtype=torch.long), i

    def _augment(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        speed = 1.0 + self.speed_perturb * int(rng.integers(-1, 2))
        if speed != 1.0:  # played back faster: read as if recorded at speed × the rate
            audio = resample(audio, round(SAMPLE_RATE * speed), SAMPLE_RATE)
        if rng.random() < self.narrowband_prob:
            audio = resample(resample(audio, SAMPLE_RATE, SAMPLE_RATE // 2), SAMPLE_RATE // 2, SAMPLE_RATE)
        return np.ascontiguousarray(audio, dtype=np.float32)


def collate(items: list[tuple[torch.Tensor, torch.Tensor, int]]) -> dict[str, torch.Tensor]:
    """Pad a list of dataset items.

    Returns:
        wav (B, N_max), wav_lens (B,), targets (B, L_max) padded with 0, target_lens (B,), index (B,).
    """
    wavs, targets, index = zip(*items)
    return {
        "wav": torch.nn.utils.rnn.pad_sequence(list(wavs), batch_first=True),
        "wav_lens": torch.tensor([len(w) for w in wavs]),
        "targets": torch.nn.utils.rnn.pad_sequence(list(targets), batch_first=True),
        "target_lens": torch.tensor([len(t) for t in targets]),
        "index": torch.tensor(index),
    }


class DurationBucketSampler(torch.utils.data.Sampler):
    """Batches of similar-length utterances, at most ``max_seconds`` of audio and ``max_size`` utterances each.

    Each epoch sorts by jittered duration (seed + epoch), cuts batches, and shuffles their order. The sampler is
    resumable mid-epoch: ``state_dict()`` holds the epoch and the number of batches already consumed.
    Under DDP (``world_size > 1``) each rank takes every ``world_size``-th batch of the same global order.
    Utterances longer than ``max_seconds`` or ``max_duration`` are dropped (see ``skipped``).
    """

    def __init__(
        self, durations: list[float], max_seconds: float, max_size: int = 64, seed: int = 0, jitter: float = 0.1,
        max_duration: float = float("inf"), min_duration: float = 0.0, rank: int = 0, world_size: int = 1,
    ) -> None:
        self.durations = np.asarray(durations, dtype=np.float64)
        self.max_seconds, self.max_size, self.seed, self.jitter = max_seconds, max_size, seed, jitter
        self.rank, self.world_size = rank, world_size
        limit = min(max_seconds, max_duration)
        ok = (self.durations <= limit) & (self.durations >= min_duration)
        self.skipped = [int(i) for i in np.nonzero(~ok)[0]]
        self.kept = np.nonzero(ok)[0]
        self.epoch, self.position = 0, 0

    def _batches(self, epoch: int) -> list[list[int]]:
        rng = np.random.default_rng([self.seed, epoch])
        d = self.durations[self.kept] * (1 + self.jitter * rng.uniform(-1, 1, len(self.kept)))
        order = self.kept[np.argsort(d, kind="stable")]
        batches, cur, cur_max = [], [], 0.0
        for i in order:
            new_max = max(cur_max, self.durations[i])
            if cur and (new_max * (len(cur) + 1) > self.max_seconds or len(cur) >= self.max_size):
                batches.append(cur)
                cur, new_max = [], self.durations[i]
            cur.append(int(i))
            cur_max = new_max
        if cur:
            batches.append(cur)
        rng.shuffle(batches)
        usable = len(batches) - len(batches) % self.world_size if self.world_size > 1 else len(batches)
        return batches[self.rank:usable:self.world_size]

    def __len__(self) -> int:
        return len(self._batches(self.epoch))

    def __iter__(self) -> Iterator[list[int]]:
        # Starts at ``position``. The consumer counts what it has used (a DataLoader prefetches ahead) and passes that
        # count back through ``load_state_dict`` when it saves a checkpoint.
        yield from self._batches(self.epoch)[self.position:]

    def set_epoch(self, epoch: int) -> None:
        self.epoch, self.position = epoch, 0

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.position = state["epoch"], state["position"]


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (called inside ``train()``, never at import)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_text(utts: list[Utterance], tokenizer: CharTokenizer) -> list[str]:
    """Ids of utterances whose normalised text is empty (unusable as CTC targets)."""
    return [u.id for u in utts if not tokenizer.encode(u.text) or not normalize_text(u.text)]
