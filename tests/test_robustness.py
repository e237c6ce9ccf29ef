"""No silent empty results on real speech: array layouts, quiet recordings, mains hum, truncated files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

import asr
from asr.audio import AudioError, as_model_input, load_audio
from asr.bundled import DEFAULT_MODEL
from asr.metrics import cer
from asr.options import VadOptions

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT / "examples" / "kathleen_arctic_a0249_1592711374.flac"  # real read speech (CC0), never trained on

needs_model = pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="needs the bundled model")


@pytest.fixture(scope="module")
def greedy():
    torch.set_num_threads(2)
    return asr.load_model(opts=asr.DecodeOptions("greedy"))


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """The clip with half a second of silence around it, peak 0.5."""
    a = load_audio(CLIP)
    a = np.concatenate([np.zeros(8000, np.float32), a, np.zeros(8000, np.float32)])
    return (0.5 * a / np.abs(a).max()).astype(np.float32)


def test_array_layouts():
    x = np.arange(1000, dtype=np.float32) / 1000
    for layout in (x, x[:, None], x[None], np.stack([x, x]), np.stack([x, x], axis=1), torch.from_numpy(x)[None]):
        assert np.allclose(as_model_input(layout, 16000), x)
    with pytest.raises(AudioError, match="channels"):
        as_model_input(np.zeros((20, 30)), 16000)
    with pytest.raises(AudioError, match="expected"):
        as_model_input(np.zeros((2, 3, 4)), 16000)


@needs_model
def test_layouts_quiet_and_hum_transcribe_like_the_clean_clip(greedy, speech):
    ref = "all eyes however were staring at him in certitude of expectancy"
    cut, whole = (cer([ref], [greedy.transcribe(speech, sample_rate=16000, vad=v).text]) for v in (VadOptions(), None))
    assert cut < 50 and whole < 50
    # The segmenter's thresholds follow the level, so a -49 dBFS copy is cut like the clean one; at -60 dBFS the
    # faintest sounds reach the front end's power floor and the cut moves (50 ms with version 15). The greedy output
    # of this clip moves by up to 19 CER points with where it is cut (version 15: 17.5 cut, 25.4 whole, 36.5 at
    # -60 dBFS, exactly what the clean clip gives cut there), so a quieter copy must read as the clean clip cut where
    # the copy was cut; the other variants are held to the clean clip's worse cutting.
    clean = max(cut, whole)
    t = np.arange(len(speech)) / 16000
    variants = {
        "channel-first torch": torch.from_numpy(speech)[None],
        "stereo (2, N)": np.stack([speech, speech]),
        "-49 dBFS": speech * np.float32(10 ** (-49 / 20) / 0.5),
        "-60 dBFS": speech * np.float32(10 ** (-60 / 20) / 0.5),
        "60 Hz hum 0.3": speech + np.float32(0.3) * np.sin(2 * np.pi * 60 * t).astype(np.float32),
        "50 Hz hum 0.3": speech + np.float32(0.3) * np.sin(2 * np.pi * 50 * t).astype(np.float32),
    }
    for name, audio in variants.items():
        result = greedy.transcribe(audio, sample_rate=16000)
        assert result.segments, name
        if name.endswith("dBFS"):
            same_cut = " ".join(
                greedy.transcribe(
                    speech[round(s.start * 16000) : round(s.end * 16000)], sample_rate=16000, vad=None
                ).text
                for s in result.segments
            )
            assert cer([same_cut], [result.text]) <= 2, (name, result.text, same_cut)
        else:
            assert cer([ref], [result.text]) < clean + 10, (name, result.text)


@needs_model
def test_truncated_file_is_transcribed_as_far_as_it_goes_with_a_warning(greedy, speech, tmp_path):
    whole = tmp_path / "whole.wav"
    sf.write(whole, speech, 16000, subtype="PCM_16")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) * 6 // 10])  # the header still promises it all
    result = greedy.transcribe(cut)
    assert result.text and any("truncated" in w for w in result.warnings)
    assert not greedy.transcribe(whole).warnings
    flac, cut = tmp_path / "whole.flac", tmp_path / "cut.flac"
    sf.write(flac, speech, 16000)
    cut.write_bytes(flac.read_bytes()[: len(flac.read_bytes()) * 6 // 10])
    result = greedy.transcribe(cut)
    assert result.text and any("truncated" in w for w in result.warnings)


@needs_model
def test_default_decoding_of_real_speech_does_not_drop_words(tmp_path):
    """The shipped model with its default decoding (beam search + bundled LM) on the real held-out clips of
    examples/: read sentences, a phone number, a lone digit. The lexicon search must not buy its WER by deleting
    words it cannot match (the greedy path deletes few)."""
    from asr.evaluate import evaluate

    rec = asr.load_model(threads=2)
    result = evaluate(rec, ROOT / "examples" / "manifest.jsonl", tmp_path / "out")
    w = result.wer
    assert w.ref_len == 43
    assert w.deletions <= MAX_DELETED_WORDS, result.summary()
    assert w.rate <= MAX_DEMO_WER, result.summary()


MAX_DELETED_WORDS = 4  # of the 43 words of examples/ (the shipped model and greedy decoding delete none)
MAX_DEMO_WER = 70.0  # the shipped model: 46.5% (greedy 79.1%)
