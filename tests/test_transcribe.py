"""`asr transcribe` and the Python API: folders with bad files, formats, long audio, silence, word timestamps, speeds."""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import run_asr

from asr.bundled import DEFAULT_MODEL

SR = 16000


def manifest_rows(corpus):
    return [json.loads(line) for line in (corpus / "train.jsonl").read_text().splitlines()]


def test_folder_with_bad_files(tiny_model, tiny_corpus, tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    rows = manifest_rows(tiny_corpus)[:3]
    for i, r in enumerate(rows):
        sf.write(d / ("sub" if i == 2 else "") / f"good{i}.wav", sf.read(tiny_corpus / r["audio"])[0], SR)
    (d / "corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(40))
    (d / "empty.flac").write_bytes(b"")
    (d / "notes.mp3").write_text("not audio at all")
    res = run_asr("transcribe", d, "--model", tiny_model, check=False)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    errs = [line for line in res.stderr.splitlines() if line.startswith("asr: error:")]
    assert len(errs) == 3 and all(any(n in e for e in errs) for n in ("corrupt.wav", "empty.flac", "notes.mp3"))
    out = res.stdout.strip().splitlines()
    assert len(out) == 3 and all(": " in line for line in out)
    ok = run_asr("transcribe", d, "--glob", "good*.wav", "--model", tiny_model)
    assert len(ok.stdout.strip().splitlines()) == 3
    # several inputs as JSON on stdout: JSON Lines, each naming its file
    lines = run_asr("transcribe", d, "--glob", "good*.wav", "--model", tiny_model, "--format", "json").stdout
    rows = [json.loads(line) for line in lines.strip().splitlines()]
    assert len(rows) == 3 and all(r["file"].endswith(".wav") and "words" in r for r in rows)


def test_formats(tiny_model, tiny_corpus, tmp_path):
    wav = tiny_corpus / manifest_rows(tiny_corpus)[0]["audio"]
    run_asr("transcribe", wav, "--model", tiny_model, "--format", "all", "--output-dir", tmp_path)
    stem = wav.stem
    data = json.loads((tmp_path / f"{stem}.json").read_text())
    assert set(data) == {"text", "duration", "segments", "words"} and data["words"]
    assert {"word", "start", "end", "confidence"} == set(data["words"][0])
    assert (tmp_path / f"{stem}.txt").read_text().strip() == data["text"]
    srt = (tmp_path / f"{stem}.srt").read_text()
    assert srt.startswith("1\n00:00:00,") and " --> " in srt
    assert (tmp_path / f"{stem}.vtt").read_text().startswith("WEBVTT\n\n00:00:")


def test_long_audio_is_segmented_at_pauses(tiny_model, tiny_corpus):
    import asr
    from asr.metrics import cer

    rows = manifest_rows(tiny_corpus)[:6]
    rng = np.random.default_rng(0)
    parts, starts, t = [np.zeros(5 * SR, np.float32)], [], 5.0
    for r in rows:
        a = sf.read(tiny_corpus / r["audio"], dtype="float32")[0]
        starts.append(t)
        gap = np.zeros(int(rng.uniform(1.2, 2.5) * SR), np.float32)  # pauses over VadOptions.min_gap
        parts += [a, gap]
        t += (len(a) + len(gap)) / SR
    audio = np.concatenate(parts)
    model = asr.load_model(tiny_model)
    result = model.transcribe(audio, sample_rate=SR)
    assert len(result.segments) == 6
    for seg, start in zip(result.segments, starts):
        assert -0.6 < seg.start - start < 0.4  # VadOptions.pad (0.3 s) before the clip's first sound
    # The transcript is the clips' texts in order. (The tiny model, trained on 40 clips, is sensitive to the 40 ms
    # phase at which a clip starts, so its errors on re-cut audio are higher than on the original files.)
    assert cer([" ".join(r["text"] for r in rows)], [result.text]) < 35
    assert all(a.end <= b.start + 1e-6 for a, b in zip(result.words, result.words[1:]))


def test_silence_and_noise_give_empty_transcripts(tiny_model, tmp_path):
    import asr

    model = asr.load_model(tiny_model)
    assert model.transcribe(np.zeros(10 * SR, np.float32), sample_rate=SR).text == ""
    noise = (np.random.default_rng(1).standard_normal(10 * SR) * 0.01).astype(np.float32)
    r = model.transcribe(noise, sample_rate=SR)
    assert r.text == "" and r.segments == [] and r.duration == pytest.approx(10.0)


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="needs the bundled default model (asr/assets/default.pt)")
def test_word_timestamps_within_100ms(espeak):
    """Words synthesised one by one and joined with known pauses: aligned word times match the true boundaries.

    Uses the bundled model: alignments of a model overfitted to a few dozen clips are not meaningful.
    """
    import asr
    from asr.align import align_words
    from asr.corpus.synth import Voice, synthesize, trim_silence
    from asr.decode import Hypothesis

    model = asr.load_model()
    for voice, sentence in (
        ("en-us+linda", "the cat sat on the mat"),
        ("en-gb+quincy", "please bring me a glass of water"),
    ):
        words = sentence.split()
        audio, truth, t = [np.zeros(int(0.3 * SR), np.float32)], [], 0.3
        for w in words:
            a = trim_silence(synthesize(w, Voice("espeak", voice)), keep=0.0)
            truth.append((t, t + len(a) / SR))
            audio += [a, np.zeros(int(0.25 * SR), np.float32)]
            t += len(a) / SR + 0.25
        wav = np.concatenate(audio)
        import torch

        with torch.no_grad():
            lp, n = model.model(torch.from_numpy(wav)[None], torch.tensor([len(wav)]))
        hyp = Hypothesis(sentence, model.tokenizer.encode(sentence), [], 0.0)
        got = align_words(lp[0, : int(n[0])], hyp, model.tokenizer, model.frame_shift, offset=0.0, audio=wav)
        assert [w.word for w in got] == words
        for w, (start, end) in zip(got, truth):
            assert abs(w.start - start) <= 0.1 and abs(w.end - end) <= 0.1, (voice, w, start, end)


def test_bundled_models_by_name_and_decoding_per_call(tiny_model, tiny_corpus):
    """load_model takes a bundled model's name; each call may decode its own way, decoders are built once."""
    import asr
    from asr.checkpoint import CheckpointError

    assert "default" in asr.available_models()
    assert asr.load_model("default").path == DEFAULT_MODEL
    with pytest.raises(CheckpointError):
        asr.load_model("no-such-model")
    rec = asr.load_model(tiny_model)
    wav = tiny_corpus / manifest_rows(tiny_corpus)[0]["audio"]
    greedy = rec.transcribe(wav)
    beam = asr.DecodeOptions("beam", beam_size=8)
    assert rec.transcribe(wav, decode=beam).text and rec.decoder(beam) is rec.decoder(
        asr.DecodeOptions("beam", beam_size=8)
    )
    assert rec.transcribe(wav).text == greedy.text and len(rec._decoders) == 2


def test_speeds_are_tried_on_the_first_speech_then_one_is_kept(tiny_model, tiny_corpus, monkeypatch):
    """``DecodeOptions.speeds``: each segment of a recording's first SPEED_TRIAL_S seconds of speech is decoded at
    every speed (the best-scoring hypothesis kept), later ones only at the speed that scored best in total; word
    times stay in the input's seconds at any speed."""
    import asr
    import asr.transcribe as tr

    rows = manifest_rows(tiny_corpus)[:4]
    parts = [np.zeros(SR, np.float32)]
    for r in rows:
        parts += [sf.read(tiny_corpus / r["audio"], dtype="float32")[0], np.zeros(2 * SR, np.float32)]
    audio = np.concatenate(parts)
    model = asr.load_model(tiny_model)
    heard: list[tuple[int, float]] = []  # (segments, speed) per call
    decode_segments = tr.Recognizer._decode_segments

    def spy(self, segs, decoder, speed=1.0):
        heard.append((len(segs), speed))
        return decode_segments(self, segs, decoder, speed)

    monkeypatch.setattr(tr.Recognizer, "_decode_segments", spy)
    monkeypatch.setattr(tr, "SPEED_TRIAL_S", 0.5)  # the first segment decides
    plain = model.transcribe(audio, sample_rate=SR, batch_size=1)
    assert heard == [(1, 1.0)] * 4
    heard.clear()
    tried = model.transcribe(audio, sample_rate=SR, batch_size=1, decode=asr.DecodeOptions(speeds=(1.0, 0.8)))
    assert heard[:2] == [(1, 1.0), (1, 0.8)] and len(heard) == 5 and len({s for _, s in heard[2:]}) == 1
    assert len(tried.segments) == 4
    heard.clear()
    slow = model.transcribe(audio, sample_rate=SR, batch_size=1, decode=asr.DecodeOptions(speeds=(0.8,)))
    assert {s for _, s in heard} == {0.8}
    assert [round(s.start, 3) for s in slow.segments] == [round(s.start, 3) for s in plain.segments]
    for seg in slow.segments:  # each word of a segment lies in it: times were scaled back from the slowed audio
        words = [w for w in slow.words if seg.start - 1e-3 <= w.start < seg.end]
        assert all(w.end <= seg.end + 0.05 for w in words)
    assert slow.words and slow.words[-1].end <= len(audio) / SR


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="needs the bundled default model (asr/assets/default.pt)")
def test_a_fast_native_voice_is_heard_better_slowed():
    """Real read speech (the kathleen clips in examples/, never trained on): trying the recording 10% slower and
    lower as well (the bundled default) makes fewer word errors than decoding it only as recorded."""
    import asr
    from asr.bundled import default_decode_options
    from asr.metrics import wer

    examples = Path(__file__).resolve().parent.parent / "examples"
    rows = [json.loads(line) for line in (examples / "manifest.jsonl").read_text().splitlines()]
    rows = [r for r in rows if r["id"].startswith("kathleen")]
    model = asr.load_model()
    errors = {}
    for speeds in ((1.0,), (1.0, 0.9)):
        hyps = [
            model.transcribe(examples / r["audio"], decode=default_decode_options(speeds=speeds)).text for r in rows
        ]
        errors[speeds] = wer([r["text"] for r in rows], hyps)
    assert model.opts.speeds == (1.0, 0.9)
    assert errors[(1.0, 0.9)] < errors[(1.0,)], errors
