"""Audio input: any common file → 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 and most PCM variants; librosa (audioread) is the fallback for what
libsndfile cannot open. Resampling uses ``torchaudio.functional.resample``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # the model's input rate (Hz)


class AudioError(Exception):
    """An audio input cannot be used. ``str(err)`` is one line: ``<file>: <reason>``."""


def resample(audio: np.ndarray, orig_sr: int, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Resample a mono signal.

    Args:
        audio: (N,) float32.
    Returns:
        (N * target_sr / orig_sr,) float32.
    """
    if orig_sr == target_sr:
        return audio.astype(np.float32, copy=False)
    import torch
    import torchaudio.functional as AF

    out = AF.resample(torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)), orig_sr, target_sr)
    return out.numpy()


def _read_soundfile(path: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    data, sr = sf.read(path, dtype="float32", always_2d=True)
    return data.mean(axis=1), sr


def _read_librosa(path: str) -> tuple[np.ndarray, int]:
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data, sr = librosa.load(path, sr=None, mono=True)
    return data.astype(np.float32), int(sr)


def _check_file(path: str | Path) -> str:
    path = str(path)
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{path}: no such file")
    if p.is_dir():
        raise AudioError(f"{path}: is a directory")
    if p.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    return path


def load_audio(path: str | Path, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read an audio file, downmix to mono and resample.

    Args:
        path: wav, flac, ogg, mp3 or anything libsndfile or audioread can decode.
        sr: output sample rate.
    Returns:
        (N,) float32 in [-1, 1].
    Raises:
        AudioError: missing, empty, truncated or non-audio input.
    """
    path = _check_file(path)
    try:
        audio, orig_sr = _read_soundfile(path)
    except Exception as first:  # libsndfile failed: try audioread (mp3/m4a on old libsndfile, etc.)
        try:
            audio, orig_sr = _read_librosa(path)
        except Exception:
            reason = str(first).splitlines()[0] if str(first) else type(first).__name__
            raise AudioError(f"{path}: not a readable audio file ({reason})") from None
    if audio.size == 0:
        raise AudioError(f"{path}: contains no audio samples")
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{path}: contains NaN or infinite samples")
    return resample(audio, orig_sr, sr)


def audio_duration(path: str | Path) -> float:
    """Duration in seconds, from the header when possible (no decoding)."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        return info.frames / info.samplerate
    except Exception:
        return len(load_audio(path)) / SAMPLE_RATE


def stream_audio(path: str | Path, block_s: float = 30.0, sr: int = SAMPLE_RATE):
    """Yield an audio file as consecutive (N,) float32 mono blocks at ``sr``, holding one block in memory at a time.

    Formats libsndfile reads are decoded and resampled incrementally (soxr streaming); anything else is decoded
    whole through :func:`load_audio`.

    Raises:
        AudioError: as :func:`load_audio`.
    """
    import soundfile as sf
    import soxr

    path = _check_file(path)
    try:
        f = sf.SoundFile(path)
    except Exception:
        yield load_audio(path, sr)  # audioread fallback: whole file
        return
    total = 0
    with f:
        rs = soxr.ResampleStream(f.samplerate, sr, 1, dtype="float32") if f.samplerate != sr else None
        frames = max(1, int(block_s * f.samplerate))
        while True:
            try:
                data = f.read(frames, dtype="float32", always_2d=True)
            except Exception as e:
                raise AudioError(f"{path}: truncated or corrupt audio ({str(e).splitlines()[0]})") from None
            last = len(data) < frames
            mono = data.mean(axis=1)
            if not np.all(np.isfinite(mono)):
                raise AudioError(f"{path}: contains NaN or infinite samples")
            out = rs.resample_chunk(mono, last=last) if rs is not None else mono
            total += len(mono)
            if len(out):
                yield out.astype(np.float32, copy=False)
            if last:
                break
    if total == 0:
        raise AudioError(f"{path}: contains no audio samples")
