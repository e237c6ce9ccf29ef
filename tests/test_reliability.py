"""Nothing lost, nothing run: stdin, output collisions, hostile checkpoints, real-world levels, options, errors."""

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT, run_asr

from asr.metrics import cer

SR = 16000


def corpus_wav(corpus, i=0):
    row = json.loads((corpus / "train.jsonl").read_text().splitlines()[i])
    return corpus / row["audio"], row["text"]


def test_stdin_never_deletes_a_users_file(tiny_model, tiny_corpus, tmp_path):
    wav, _ = corpus_wav(tiny_corpus)
    mine = tmp_path / "stdin-interview.wav"
    mine.write_bytes(wav.read_bytes())
    with open(wav, "rb") as f:
        res = subprocess.run(
            [sys.executable, "-m", "asr", "transcribe", str(mine), "-", "--model", str(tiny_model)],
            stdin=f,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
    assert res.returncode == 0, res.stderr
    assert mine.is_file() and mine.read_bytes() == wav.read_bytes()
    assert [line.split(":")[0] for line in res.stdout.splitlines()] == [str(mine), "stdin"]


def test_output_dir_mirrors_folders_and_refuses_collisions(tiny_model, tiny_corpus, tmp_path):
    wav, _ = corpus_wav(tiny_corpus)
    for sub in ("a", "b"):
        (tmp_path / "in" / sub).mkdir(parents=True)
        (tmp_path / "in" / sub / "x.wav").write_bytes(wav.read_bytes())
    res = run_asr("transcribe", tmp_path / "in", "--model", tiny_model, "--output-dir", tmp_path / "out")
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.txt")) == [
        "a/x.txt",
        "b/x.txt",
    ]
    assert len([line for line in res.stdout.splitlines() if " → " in line]) == 2  # one line per written file
    # one naming rule whatever else is in the folder: x.wav beside x.flac would both be x.txt, refused up front
    import soundfile as sf

    sf.write(tmp_path / "in" / "a" / "x.flac", sf.read(wav)[0], 16000)
    res = run_asr(
        "transcribe", tmp_path / "in" / "a", "--model", tiny_model, "--output-dir", tmp_path / "o2", check=False
    )
    assert res.returncode == 1 and "would both be written to" in res.stderr and "--glob" in res.stderr
    (tmp_path / "in" / "a" / "x.flac").unlink()
    # the same name from two places on the command line cannot be mirrored: an error before any work
    res = run_asr(
        "transcribe",
        tmp_path / "in/a/x.wav",
        tmp_path / "in/b/x.wav",
        "--model",
        tiny_model,
        "--output-dir",
        tmp_path / "flat",
        check=False,
    )
    assert res.returncode == 1 and "would both be written to" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "flat").exists()
    # an existing output is not replaced without --overwrite
    res = run_asr("transcribe", tmp_path / "in", "--model", tiny_model, "--output-dir", tmp_path / "out", check=False)
    assert res.returncode == 1 and "exists already" in res.stderr
    run_asr("transcribe", tmp_path / "in", "--model", tiny_model, "--output-dir", tmp_path / "out", "--overwrite")


class _Payload:
    """Unpickling this would create a file (what a hostile checkpoint could do instead)."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        import pathlib

        return pathlib.Path.touch, (pathlib.Path(self.target),)


def test_a_checkpoint_that_would_run_code_is_refused(tiny_corpus, tmp_path):
    import torch

    target = tmp_path / "pwned"
    torch.save({"config": {}, "model": {}, "x": _Payload(str(target))}, tmp_path / "evil.pt")
    wav, _ = corpus_wav(tiny_corpus)
    res = run_asr("transcribe", wav, "--model", tmp_path / "evil.pt", check=False)
    assert res.returncode == 1 and not target.exists()
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith("asr: error:") and "evil.pt: refused" in line


def test_dc_hum_and_quiet_recordings_stay_close_to_clean(tiny_model, tiny_corpus):
    import asr

    model = asr.load_model(tiny_model)
    wav, _ = corpus_wav(tiny_corpus, 1)
    clean, sr = sf.read(wav, dtype="float32")
    pad = np.zeros(SR // 2, np.float32)
    clean = np.concatenate([pad, 0.5 * clean / np.abs(clean).max(), pad])
    ref = model.transcribe(clean, sample_rate=sr).text
    assert ref
    truth = corpus_wav(tiny_corpus, 1)[1]
    clean_cer = cer([truth], [ref])
    t = np.arange(len(clean)) / sr
    variants = {
        "dc": clean + 0.1,
        "hum": clean + 0.1 * np.sin(2 * np.pi * 50 * t).astype(np.float32),
        "quiet -32 dBFS": clean * (10 ** (-32 / 20) / np.abs(clean).max()),
        "int16": (clean * 32767).astype(np.int16),
    }
    for name, audio in variants.items():
        hyp = model.transcribe(audio, sample_rate=sr).text  # as close to the words as the clean audio, give or take
        assert cer([truth], [hyp]) <= clean_cer + 15, (name, truth, ref, hyp)


def test_sound_without_speech_warns(tiny_model, tmp_path):
    tone = (0.3 * np.sin(2 * np.pi * 1000 * np.arange(5 * SR) / SR)).astype(np.float32)  # steady: never "speech"
    sf.write(tmp_path / "tone.wav", tone, SR)
    res = run_asr("transcribe", tmp_path / "tone.wav", "--model", tiny_model)
    assert res.stdout.strip() == "" and "asr: warning:" in res.stderr and "no speech found" in res.stderr
    sf.write(tmp_path / "silence.wav", np.zeros(SR, np.float32), SR)
    assert "warning" not in run_asr("transcribe", tmp_path / "silence.wav", "--model", tiny_model).stderr


def test_arrays_need_their_rate(tiny_model, tiny_corpus):
    import asr
    from asr.audio import resample
    from asr.errors import UsageError

    model = asr.load_model(tiny_model)
    wav, _ = corpus_wav(tiny_corpus)
    audio, sr = sf.read(wav, dtype="float32")
    with pytest.raises(UsageError, match="sample_rate"):
        model.transcribe(audio)
    at_48k = resample(audio, sr, 48000)
    assert cer([model.transcribe(audio, sample_rate=sr).text], [model.transcribe(at_48k, sample_rate=48000).text]) < 10


@pytest.mark.parametrize("option", [["--beam-size", "0"], ["--batch-size", "0"], ["--threads", "0"]])
def test_numeric_options_are_checked(tiny_model, tiny_corpus, option):
    wav, _ = corpus_wav(tiny_corpus)
    res = run_asr("transcribe", wav, "--model", tiny_model, *option, check=False)
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("asr: error:") and "at least 1" in res.stderr


def test_subtitle_cues_never_overlap():
    from asr.formats import cues, to_srt
    from asr.transcribe import Result, SegmentText

    r = Result("a b c", 6.0, [SegmentText(0.0, 2.3, "a"), SegmentText(2.1, 4.0, "b"), SegmentText(3.9, 6.0, "c")])
    spans = cues(r)
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1))
    assert "00:00:02,100 --> 00:00:03,900" in to_srt(r)


def test_manifest_errors_name_the_file_and_line(tmp_path):
    from asr.data import ManifestError, read_manifest

    (tmp_path / "latin1.jsonl").write_bytes(
        '{"id": "a", "audio": "x.wav", "duration": 1, "text": "caf\xe9"}\n'.encode("latin-1")
    )
    with pytest.raises(ManifestError, match=r"latin1.jsonl:1: not UTF-8"):
        read_manifest(tmp_path / "latin1.jsonl")
    sf.write(tmp_path / "a.wav", np.zeros(SR, np.float32), SR)
    rows = [
        {"id": "a", "audio": "a.wav", "duration": 1, "text": "x"},
        {"id": "b", "audio": "b.wav", "duration": 1, "text": "y"},
    ]
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(ManifestError, match=r"m.jsonl:2: audio file .*b.wav does not exist"):
        read_manifest(tmp_path / "m.jsonl")


def test_errors_are_one_line_unless_debug(tmp_path):
    res = run_asr("evaluate", "--manifest", tmp_path / "none.jsonl", "--out", tmp_path / "o", check=False)
    assert res.returncode == 1 and res.stderr.strip() == f"asr: error: {tmp_path / 'none.jsonl'}: no such manifest"
    res = run_asr("--debug", "evaluate", "--manifest", tmp_path / "none.jsonl", "--out", tmp_path / "o", check=False)
    assert res.returncode == 1 and "Traceback" in res.stderr and "ManifestError" in res.stderr
