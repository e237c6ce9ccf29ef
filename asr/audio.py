"""Audio input: any common file → 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 and most PCM variants; librosa (audioread) is the fallback for what
libsndfile cannot open. All resampling (files, arrays, training's speed and band changes, streaming) is soxr's.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np

from .errors import AsrError

SAMPLE_RATE = 16000  # the model's input rate (Hz)
FRAME = SAMPLE_RATE // 100  # 10 ms: the frame of every energy measure (VAD, levels, word times)
HIGHPASS_HZ = 80.0  # DC offset, mains hum and rumble below this are removed before the VAD and the features
LEVEL_TARGET_DB = -15.0  # speech is scaled so its loud frames (95th percentile of 10 ms energy) sit here (dBFS)
MAX_LEVEL_GAIN_DB = 60.0  # ... by at most this much (speech peaking at -60 dBFS is still heard)


class AudioError(AsrError):
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
    import soxr

    return soxr.resample(np.ascontiguousarray(audio, dtype=np.float32), orig_sr, target_sr).astype(np.float32)


def played_at_speed(audio: np.ndarray, speed: float) -> np.ndarray:
    """(N,) 16 kHz audio as heard played back at ``speed`` (> 1: faster and higher; < 1: slower and lower): read as
    if recorded at ``speed`` × the rate. Training's speed perturbation and decoding's ``speeds`` both play it so.
    Returns (≈ N / speed,) float32."""
    return resample(audio, round(SAMPLE_RATE * speed), SAMPLE_RATE)


MAX_CHANNELS = 8  # an array with at most this many rows and more columns is read as (channels, samples)


def as_model_input(samples, sample_rate: int) -> np.ndarray:
    """An array of samples at ``sample_rate`` → (N',) float32 mono at 16 kHz.

    Takes NumPy arrays and torch tensors of any numeric dtype (integers are scaled to [-1, 1]) in the common layouts:
    (N,), (N, channels) as soundfile reads them, or (channels, N) as torchaudio does (up to ``MAX_CHANNELS``
    channels); channels are averaged. Anything else is an :class:`AudioError`, never a silent empty result.
    """
    if hasattr(samples, "detach"):  # a torch tensor, on any device
        samples = samples.detach().cpu().numpy()
    a = np.asarray(samples)
    if a.ndim == 2 and a.shape[0] <= MAX_CHANNELS and a.shape[0] < a.shape[1]:
        a = a.T  # (channels, samples) → (samples, channels)
    if a.ndim == 2 and a.shape[1] > MAX_CHANNELS:
        raise AudioError(
            f"array: shape {a.shape} has more than {MAX_CHANNELS} channels either way; "
            "expected (samples,), (samples, channels) or (channels, samples)"
        )
    if a.ndim == 2:
        a = a.mean(axis=1) if a.dtype.kind == "f" else a.astype(np.float64).mean(axis=1).astype(a.dtype)
    if a.ndim != 1:
        raise AudioError(f"array: expected (samples,), (samples, channels) or (channels, samples), got {a.shape}")
    if a.dtype.kind not in "iuf":
        raise AudioError(f"array: samples must be numbers, got dtype {a.dtype}")
    if a.dtype.kind in "iu":
        info = np.iinfo(a.dtype)
        a = (a.astype(np.float64) - (info.max + info.min + 1) / 2) / ((info.max - info.min + 1) / 2)
    a = a.astype(np.float32)
    if not np.all(np.isfinite(a)):
        raise AudioError("array: contains NaN or infinite samples")
    if int(sample_rate) < 1000:
        raise AudioError(f"array: sample rate {sample_rate} Hz is not an audio rate")
    return resample(a, int(sample_rate), SAMPLE_RATE)


def frame_energy_db(audio: np.ndarray) -> np.ndarray:
    """(N,) samples → (N // 160,) energy of each 10 ms frame in dBFS."""
    n = len(audio) // FRAME
    frames = audio[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    return 10 * np.log10((frames**2).mean(axis=1) + 1e-12)


MAINS_HZ = (50.0, 60.0)  # mains hum fundamentals, notched out besides the high-pass


class HighPass:
    """Butterworth high-pass (order 8 at ``HIGHPASS_HZ``) and notches at the mains frequencies over a stream of blocks.

    Removes DC offset and mains hum (a hum of amplitude 0.3 at 50 or 60 Hz comes out over 80 dB down) before the VAD
    and the features see them; the filter state is carried from block to block, so filtering a file in blocks gives
    the same samples as filtering it whole. (N,) → (N,) float32.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        from .iir import SosFilter, butter_highpass, notch

        notches = [notch(hz, 2.0, sample_rate) for hz in MAINS_HZ]
        self.filter = SosFilter(np.concatenate([butter_highpass(8, HIGHPASS_HZ, sample_rate), *notches]))

    def __call__(self, block: np.ndarray) -> np.ndarray:
        return self.filter(block).astype(np.float32)


def remove_hum(audio: np.ndarray) -> np.ndarray:
    """A whole signal through :class:`HighPass`. (N,) → (N,) float32."""
    return HighPass()(audio)


def normalize_level(audio: np.ndarray) -> np.ndarray:
    """Scale speech so its loud frames sit at ``LEVEL_TARGET_DB`` (gain at most ``MAX_LEVEL_GAIN_DB``).

    Recordings at -40 dBFS and at 0 dBFS reach the model alike. Digital silence is returned as it is. (N,) → (N,).
    """
    e = frame_energy_db(audio)
    if len(e) == 0:
        return audio
    loud = float(np.percentile(e, 95))
    if loud < -100:
        return audio
    gain_db = min(LEVEL_TARGET_DB - loud, MAX_LEVEL_GAIN_DB)
    return (audio * np.float32(10 ** (gain_db / 20))).astype(np.float32)


def condition(audio: np.ndarray) -> np.ndarray:
    """What every path does to a 16 kHz utterance or segment before the model: :func:`remove_hum`, then
    :func:`normalize_level` (training after augmentation, ``asr evaluate`` and ``asr transcribe`` alike)."""
    return normalize_level(remove_hum(audio))


def _quiet_decoder(path: str):
    """libmpg123's own notes on damaged MP3 frames ("part2_3_length … too large") kept off our stderr."""
    from .quiet import silenced_stderr

    return silenced_stderr() if path.lower().endswith(".mp3") else contextlib.nullcontext()


def _read_soundfile(path: str) -> tuple[np.ndarray, int]:
    import soundfile as sf

    with _quiet_decoder(path):
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


def _wav_declared_frames(path: str) -> int:
    """The frame count a WAV file's header declares (libsndfile reports what is present instead); 0 if not a WAV
    or the header leaves the size open."""
    import struct

    with open(path, "rb") as f:
        head = f.read(1 << 16)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return 0
    pos, block_align = 12, 0
    while pos + 8 <= len(head):
        kind, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if kind == b"fmt " and pos + 22 <= len(head):
            block_align = struct.unpack("<H", head[pos + 20 : pos + 22])[0]
        if kind == b"data":
            return size // block_align if block_align and size not in (0, 0xFFFFFFFF) else 0
        pos += 8 + size + (size & 1)
    return 0


def _read_until_damage(f, start: int, frames: int, path: str) -> np.ndarray | None:
    """Re-read ``frames`` frames from ``start`` a tenth of a second at a time, keeping what decodes before the
    damage. (n, channels) float32, or None if nothing can be read."""
    step = max(1, f.samplerate // 10)
    pieces = []
    try:
        f.seek(start)
        while sum(len(p) for p in pieces) < frames:
            with _quiet_decoder(path):
                piece = f.read(step, dtype="float32", always_2d=True)
            pieces.append(piece)
            if len(piece) < step:
                break
    except Exception:
        pass
    return np.concatenate(pieces) if pieces else None


def stream_audio(path: str | Path, block_s: float = 30.0, sr: int = SAMPLE_RATE, warnings: list[str] | None = None):
    """Yield an audio file as consecutive (N,) float32 mono blocks at ``sr``, holding one block in memory at a time.

    Formats libsndfile reads are decoded and resampled incrementally (soxr streaming); anything else is decoded
    whole through :func:`load_audio`. A file that ends before its header says (a truncated download or copy) is
    read as far as it goes, and a line saying so is appended to ``warnings``.

    Raises:
        AudioError: as :func:`load_audio`.
    """
    import soundfile as sf
    import soxr

    path = _check_file(path)
    try:
        with _quiet_decoder(path):
            f = sf.SoundFile(path)
    except Exception:
        yield load_audio(path, sr)  # audioread fallback: whole file
        return
    total, declared, damaged = 0, 0, ""
    with f:
        rs = soxr.ResampleStream(f.samplerate, sr, 1, dtype="float32") if f.samplerate != sr else None
        frames = max(1, int(block_s * f.samplerate))
        while True:
            try:
                with _quiet_decoder(path):
                    data = f.read(frames, dtype="float32", always_2d=True)
            except Exception as e:  # a damaged or cut file: read on in small steps up to the damage, if we may
                damaged = str(e).splitlines()[0]
                data = _read_until_damage(f, total, frames, path) if warnings is not None and f.seekable() else None
                if data is None or not len(data):
                    if total == 0:
                        raise AudioError(f"{path}: truncated or corrupt audio ({damaged})") from None
                    data = np.zeros((0, f.channels), np.float32)
            last = len(data) < frames or bool(damaged)
            mono = data.mean(axis=1)
            if not np.all(np.isfinite(mono)):
                raise AudioError(f"{path}: contains NaN or infinite samples")
            out = rs.resample_chunk(mono, last=last) if rs is not None else mono
            total += len(mono)
            if len(out):
                yield out.astype(np.float32, copy=False)
            if last:
                declared = max(f.frames if f.seekable() else 0, _wav_declared_frames(path))
                break
    if damaged and warnings is not None and total:
        warnings.append(f"truncated or corrupt after {total / f.samplerate:.2f} s ({damaged}); transcribed so far")
        declared = 0
    if total == 0:
        raise AudioError(f"{path}: contains no audio samples")
    if warnings is not None and total and declared > total + f.samplerate // 100:
        warnings.append(
            f"truncated: the header promises {declared / f.samplerate:.2f} s, the file holds {total / f.samplerate:.2f} s "
            "(transcribed as far as it goes)"
        )
