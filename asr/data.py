"""Manifests, the dataset, batching by duration.

A manifest is JSONL, one utterance per line::

    {"id": "1272-128104-0000", "audio": "dev/1272-128104-0000.flac", "duration": 5.86, "text": "mister quilter ..."}

``audio`` is absolute or relative to the manifest's folder. Durations live in the manifest, so batching never opens audio.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .audio import SAMPLE_RATE, condition, load_audio, played_at_speed, resample
from .errors import AsrError
from .text import Tokenizer, normalize_text


class ManifestError(AsrError, ValueError):
    """A manifest cannot be used; the message is one line naming the file and line."""


@dataclass(frozen=True)
class Utterance:
    id: str
    audio: str  # absolute path
    duration: float  # seconds
    text: str


def read_manifest(path: str | Path, check_audio: bool = True) -> list[Utterance]:
    """Parse and check a JSONL manifest (and, with ``check_audio``, that every audio file exists).

    Raises:
        ManifestError: missing file, not UTF-8, invalid JSON, missing or ill-typed fields, duplicate ids, missing
            audio (naming the line).
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: no such manifest")
    base = path.resolve().parent
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        line_no = path.read_bytes()[: e.start].count(b"\n") + 1
        raise ManifestError(f"{path}:{line_no}: not UTF-8 text (byte {e.object[e.start]:#x})") from None
    utts, seen, lines = [], set(), []
    for n, line in enumerate(text.splitlines(), 1):
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
        audio = audio if audio.is_absolute() else base / audio
        utts.append(Utterance(d["id"], str(audio), float(d["duration"]), d["text"]))
        lines.append(n)
    if not utts:
        raise ManifestError(f"{path}: manifest is empty")
    for n, u in zip(lines, utts) if check_audio else ():
        if not Path(u.audio).is_file():
            raise ManifestError(f"{path}:{n}: audio file {u.audio} does not exist")
    return utts


def write_manifest(path: str | Path, rows: list[dict]) -> None:
    """Write dicts as JSONL (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    tmp.replace(path)


@dataclass(frozen=True)
class ChannelOptions:
    """Real-world channels simulated on training audio (each a probability per utterance; 0 = off)."""

    reverb_prob: float = 0.0  # a simulated room (image method; rooms 3-12 m, RT60 0.15-0.9 s, random positions)
    noise_prob: float = 0.0  # white, pink or brown noise at 5-30 dB SNR
    lowpass_prob: float = 0.0  # band-limited to 3.4-7.5 kHz (old games, phones, low-rate codecs)
    gain_prob: float = 0.0  # a level of -40 to 0 dBFS (peak), before the level normalisation undoes most of it
    hum_prob: float = 0.0  # a DC offset of up to 0.1 and a 50 or 60 Hz hum of up to 0.1 (removed by the high-pass)

    @property
    def active(self) -> bool:
        return any(v > 0 for v in dataclasses.astuple(self))


ROOMS = 48  # room impulse responses simulated once per dataset


def simulate_rooms(n: int, seed: int) -> list[np.ndarray]:
    """``n`` room impulse responses at 16 kHz (pyroomacoustics shoe-box rooms, image method), each peak-normalised."""
    try:
        import pyroomacoustics as pra
    except ImportError:
        raise AsrError(
            "train.reverb_prob needs pyroomacoustics (the [train] extra: pip install -e '.[train]')"
        ) from None

    rng = np.random.default_rng([seed, 7])
    rirs = []
    for _ in range(n):
        dims = rng.uniform([3, 3, 2.4], [12, 10, 4])
        rt60 = rng.uniform(0.15, 0.9)
        try:
            absorption, max_order = pra.inverse_sabine(rt60, dims)
        except ValueError:  # the room cannot reach this RT60: a drier one
            absorption, max_order = 0.5, 10
        room = pra.ShoeBox(dims, fs=SAMPLE_RATE, materials=pra.Material(absorption), max_order=min(max_order, 12))
        room.add_source(rng.uniform(0.5, dims - 0.5))
        room.add_microphone(rng.uniform(0.5, dims - 0.5))
        room.compute_rir()
        rir = np.asarray(room.rir[0][0], dtype=np.float32)[:SAMPLE_RATE]
        rirs.append(rir / max(np.abs(rir).max(), 1e-9))
    return rirs


def _coloured_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """White, pink (1/f) or brown (1/f^2) noise of unit RMS."""
    white = rng.standard_normal(n)
    power = int(rng.integers(0, 3))  # 0 white, 1 pink, 2 brown
    if power:
        spec = np.fft.rfft(white)
        f = np.maximum(np.arange(len(spec)), 1.0)
        white = np.fft.irfft(spec / f ** (power / 2), n)
    return white / max(float(np.sqrt(np.mean(white**2))), 1e-9)


def apply_channel(
    audio: np.ndarray, rng: np.random.Generator, opts: ChannelOptions, rirs: list[np.ndarray]
) -> np.ndarray:
    """One random draw of the channels in ``opts`` on a 16 kHz utterance. (N,) → (N,) float32."""
    from scipy.signal import butter, fftconvolve, sosfilt

    n = len(audio)
    if rirs and rng.random() < opts.reverb_prob:
        rir = rirs[int(rng.integers(len(rirs)))]
        wet = fftconvolve(audio, rir)[:n]
        audio = wet * (np.abs(audio).max() / max(np.abs(wet).max(), 1e-9))
    if rng.random() < opts.lowpass_prob:
        cutoff = rng.uniform(3400, 7500)
        audio = sosfilt(butter(int(rng.integers(4, 9)), cutoff, "lowpass", fs=SAMPLE_RATE, output="sos"), audio)
    if rng.random() < opts.noise_prob:
        rms = float(np.sqrt(np.mean(audio**2))) or 1e-4
        audio = audio + _coloured_noise(n, rng) * rms * 10 ** (-rng.uniform(5, 30) / 20)
    if rng.random() < opts.gain_prob:
        audio = audio * (10 ** (rng.uniform(-40, 0) / 20) / max(float(np.abs(audio).max()), 1e-9))
    if rng.random() < opts.hum_prob:
        t = np.arange(n) / SAMPLE_RATE
        hz = 50.0 if rng.random() < 0.5 else 60.0
        audio = audio + rng.uniform(-0.1, 0.1) + rng.uniform(0, 0.1) * np.sin(2 * np.pi * hz * t + rng.uniform(0, 6.3))
    return np.clip(audio, -1, 1).astype(np.float32)


class AsrDataset(torch.utils.data.Dataset):
    """Item i → (waveform (N,) float32, token ids (L,) int64, index).

    Optional waveform augmentation (training only), drawn deterministically from ``(seed, epoch, i)`` so a resumed
    run replays it: speed perturbation (each utterance at ``1 - speed_perturb``, 1 or ``1 + speed_perturb`` times its
    speed, tempo and pitch together), with probability ``narrowband_prob`` telephone bandwidth (down to 8 kHz and
    back), and the real-world channels of ``channel`` (:func:`apply_channel`). Every waveform then goes through
    :func:`asr.audio.condition`, as at inference.
    """

    def __init__(
        self,
        utts: list[Utterance],
        tokenizer: Tokenizer,
        speed_perturb: float = 0.0,
        narrowband_prob: float = 0.0,
        seed: int = 0,
        channel: ChannelOptions = ChannelOptions(),
    ) -> None:
        self.utts, self.tokenizer = utts, tokenizer
        self.speed_perturb, self.narrowband_prob, self.seed = speed_perturb, narrowband_prob, seed
        self.channel = channel
        self.rirs = simulate_rooms(ROOMS, seed) if channel.reverb_prob > 0 else []
        self.epoch = 0  # set by the training loop before each epoch's DataLoader is built

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, int]:
        u = self.utts[i]
        audio = load_audio(u.audio)
        if self.speed_perturb or self.narrowband_prob or self.channel.active:
            audio = self._augment(audio, np.random.default_rng([self.seed, self.epoch, i]))
        audio = condition(audio)
        return torch.from_numpy(audio), torch.tensor(self.tokenizer.encode(u.text), dtype=torch.long), i

    def _augment(self, audio: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        speed = 1.0 + self.speed_perturb * int(rng.integers(-1, 2))
        if speed != 1.0:
            audio = played_at_speed(audio, speed)
        if rng.random() < self.narrowband_prob:
            audio = resample(resample(audio, SAMPLE_RATE, SAMPLE_RATE // 2), SAMPLE_RATE // 2, SAMPLE_RATE)
        if self.channel.active:
            audio = apply_channel(audio, rng, self.channel, self.rirs)
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
        self,
        durations: list[float],
        max_seconds: float,
        max_size: int = 64,
        seed: int = 0,
        jitter: float = 0.1,
        max_duration: float = float("inf"),
        min_duration: float = 0.0,
        rank: int = 0,
        world_size: int = 1,
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
        return batches[self.rank : usable : self.world_size]

    def __len__(self) -> int:
        return len(self._batches(self.epoch))

    def __iter__(self) -> Iterator[list[int]]:
        # Starts at ``position``. The consumer counts what it has used (a DataLoader prefetches ahead) and passes that
        # count back through ``load_state_dict`` when it saves a checkpoint.
        yield from self._batches(self.epoch)[self.position :]

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


def check_text(utts: list[Utterance], tokenizer: Tokenizer) -> list[str]:
    """Ids of utterances whose normalised text is empty (unusable as CTC targets)."""
    return [u.id for u in utts if not tokenizer.encode(u.text) or not normalize_text(u.text)]
