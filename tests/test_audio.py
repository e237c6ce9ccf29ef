import numpy as np
import pytest
import soundfile as sf

from asr.audio import SAMPLE_RATE, AudioError, load_audio


def tone(sr: int, seconds: float = 0.5, channels: int = 1) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    x = 0.5 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize(
    "fmt,subtype,sr,channels",
    [
        ("WAV", "PCM_16", 16000, 1),
        ("WAV", "PCM_24", 44100, 2),
        ("WAV", "FLOAT", 8000, 1),
        ("WAV", "PCM_U8", 22050, 1),
        ("FLAC", "PCM_16", 48000, 2),
        ("OGG", "VORBIS", 32000, 1),
        ("MP3", "MPEG_LAYER_III", 44100, 2),
    ],
)
def test_formats_resample_and_downmix(tmp_path, fmt, subtype, sr, channels):
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(path, tone(sr, 0.5, channels), sr, format=fmt, subtype=subtype)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - SAMPLE_RATE * 0.5) < 0.06 * SAMPLE_RATE  # mp3 adds encoder padding
    # The 440 Hz tone survives: its FFT peak is at 440 Hz.
    spec = np.abs(np.fft.rfft(audio))
    assert abs(np.argmax(spec) * SAMPLE_RATE / len(audio) - 440) < 10


@pytest.mark.parametrize(
    "content,reason",
    [
        (None, "no such file"),
        (b"", "empty file"),
        (b"this is not audio at all" * 10, "not a readable audio file"),
    ],
)
def test_bad_input_names_file_and_reason(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError) as err:
        load_audio(path)
    msg = str(err.value)
    assert str(path) in msg and reason in msg and "\n" not in msg


def test_truncated_file(tmp_path):
    good = tmp_path / "good.flac"
    sf.write(good, tone(16000, 1.0), 16000)
    bad = tmp_path / "trunc.flac"
    bad.write_bytes(good.read_bytes()[:60])
    with pytest.raises(AudioError, match="trunc.flac"):
        load_audio(bad)


def test_header_only_wav_is_empty(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(path)
