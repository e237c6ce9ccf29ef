"""asr.corpus.synth: voice inventory, engine shares, and each engine's output."""

import numpy as np
import pytest

from asr.corpus.synth import SynthError, Voice, list_voices, make_split, synthesize, voice_probabilities


def test_training_and_evaluation_voices_are_disjoint(espeak):
    voices = list_voices(("espeak", "flite", "festival"))
    train = {v for v in voices if not v.is_eval}
    held = {v for v in voices if v.is_eval}
    assert train and held
    assert Voice("flite", "rms") in held and Voice("espeak", "en-gb-scotland+quincy") in held
    assert Voice("festival", "ked_diphone").is_eval and not Voice("festival", "kal_diphone").is_eval
    assert Voice("mbrola", "us3").is_eval and Voice("pico", "en-GB").is_eval
    assert (
        not Voice("mbrola", "us1").is_eval and not Voice("pico", "en-US").is_eval and not Voice("piper", "joe").is_eval
    )
    assert not {v for v in train if v.name.split("+")[-1] in {"Mike", "linda", "rms", "ked_diphone"}}


def test_engine_shares():
    voices = [Voice("espeak", f"en-us+v{i}") for i in range(90)] + [Voice("flite", "kal"), Voice("flite", "awb")]
    p = voice_probabilities(voices, {"flite": 0.25})
    assert p[-2:].sum() == pytest.approx(0.25) and p[0] == pytest.approx(0.75 / 90)
    with pytest.raises(SynthError, match="no festival voice"):
        voice_probabilities(voices, {"festival": 0.1})
    with pytest.raises(SynthError, match="leave"):
        voice_probabilities(voices, {"flite": 1.2})


@pytest.mark.parametrize(
    "engine,name",
    [
        ("espeak", "en-us+m3"),
        ("flite", "slt"),
        ("festival", "kal_diphone"),
        ("festival", "cmu_us_slt_arctic_hts"),
        ("mbrola", "us1"),
        ("pico", "en-US"),
        ("piper", "joe"),
    ],
)
def test_each_engine_speaks(espeak, engine, name):
    try:
        installed = list_voices((engine,))
    except SynthError as e:
        pytest.skip(f"{e} (make deps and make venv install it)")
    if Voice(engine, name) not in installed:
        pytest.skip(f"{engine} voice {name} is not installed (make deps installs it)")
    slow, fast = (synthesize("the cat sat on the mat", Voice(engine, name), rate=r) for r in (0.8, 1.25))
    assert slow.dtype == np.float32 and 0.6 < len(fast) / 16000 < 4 and 0.05 < np.abs(fast).max() <= 1
    if name != "cmu_us_slt_arctic_hts":  # the HTS voice has no rate control
        assert len(slow) > 1.2 * len(fast)


def test_unknown_engine_is_an_error():
    with pytest.raises(SynthError, match="unknown engine.*nosuch"):
        list_voices(("espeak", "nosuch"))


def test_split_refuses_other_settings(espeak, tmp_path):
    """Existing files are never re-synthesised, so a split made with other settings must not be added to."""
    voices = [Voice("espeak", "en-us+m3"), Voice("espeak", "en-gb+f2")]
    text = ["the cat sat on the mat", "a dog barked", "it rained all day"]
    assert make_split(tmp_path, "s", voices, text, 2, seed=1, workers=1) == 2
    assert make_split(tmp_path, "s", voices, text, 3, seed=1, workers=1) == 3  # more utterances: the same split
    assert len(list((tmp_path / "s").rglob("*.flac"))) == 3
    with pytest.raises(SynthError, match="seed changed"):
        make_split(tmp_path, "s", voices, text, 3, seed=2, workers=1)
    with pytest.raises(SynthError, match="voices changed"):
        make_split(tmp_path, "s", voices[:1], text, 3, seed=1, workers=1)
