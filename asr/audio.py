"""Audio input: any common file → 16 kHz mono float32.

soundfile (libsndfile) reads wav/flac/ogg/mp3 and most PCM variants; librosa (audioread) is the fallback for what
libsndfile cannot open. All resampling (files, arrays, training's speed and band changes, streaming) is soxr's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import AsrError

SAMPLE_RATE = 16000  # the model's input rate (Hz)
FRAME = SAMPLE_RATE // 100  # 10 ms: the frame of every energy measure (VAD, levels, word times)
HIGHPASS_HZ = 80.0  # DC offset, mains hum and rumble below this are removed before the VAD and the features
LEVEL_TARGET_DB = -15.0  # speech is scaled so its loud frames (95th percentile of 10 ms energy) sit here (dBFS)
MAX_LEVEL_GAIN_DB = 40.0  # ... by at most this much (quieter input stays quieter)


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


def as_model_input(samples, sample_rate: int) -> np.ndarray:
    """An array of samples ((N,) or (N, channels), any numeric dtype; integers are scaled to [-1, 1]) at
    ``sample_rate`` → (N',) float32 mono at 16 kHz."""
    a = np.asarray(samples)
    if a.ndim == 2:
        a = a.mean(axis=1) if a.dtype.kind == "f" else a.astype(np.float64).mean(axis=1).astype(a.dtype)
    if a.ndim != 1:
        raise AudioError(f"array: expected (samples,) or (samples, channels), got shape {a.shape}")
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


class HighPass:
    """Butterworth high-pass (order 8 at ``HIGHPASS_HZ``, 33 dB down at 50 Hz) over a stream of blocks.

    Removes DC offset and mains hum before the VAD and the features sees them; the filter state is carried from
    block to block, so filtering a file in blocks gives the same samples as filtering it whole. (N,) → (N,) float32.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE) -> None:
        from scipy.signal import butter

        self.sos = butter(8, HIGHPASS_HZ, "highpass", fs=sample_rate, output="sos")
        self.zi: np.ndarray | None = None

    def __call__(self, block: np.ndarray) -> np.ndarray:
        from scipy.signal import sosfilt, sosfilt_zi

        if len(block) == 0:
            return block.astype(np.float32, copy=False)
        if self.zi is None:  # start in the steady state of the first sample: a DC offset makes no click
            self.zi = sosfilt_zi(self.sos) * float(block[0])
        out, self.zi = sosfilt(self.sos, block.astype(np.float64), zi=self.zi)
        return out.astype(np.float32)


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
