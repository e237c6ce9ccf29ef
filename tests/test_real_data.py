"""Real transcripts: the normaliser, and `asr prepare --real-out-dir` on a small fixture of real-data folders."""

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import run_asr

from asr.corpus.textnorm import normalize_transcript


@pytest.mark.parametrize(
    "written, spoken",
    [
        (
            "Mr. Smith paid $3.50 on May 21st, 1948.",
            "mister smith paid three dollars fifty cents on may twenty first nineteen forty eight",
        ),
        ("48 Ridge Road 407", "forty eight ridge road four hundred and seven"),
        ("This is the 1940's.", "this is the nineteen forties"),
        ('We won the "1948 Tidy Store Award"', "we won the nineteen forty eight tidy store award"),
        ("Meet me at 3:30, not 4:00!", "meet me at three thirty not four o'clock"),
        ("Call 0800 555 0199", "call zero eight zero zero five five five zero one nine nine"),
        ("Press 1 to mute, 2 to lock", "press one to mute two to lock"),
        ("the 10 20 30 rule", "the ten twenty thirty rule"),
        ("WD40! 1,000,000 people; 3.14%", "wd forty one million people three point one four percent"),
        ("Dr. Jekyll & Mrs. Hyde, e.g. St. John", "doctor jekyll and missus hyde for example saint john"),
        ("That agent is already logged on.  Please enter", "that agent is already logged on please enter"),
        ("I had to INSPECT it... well-known \u2018quotes\u2019", "i had to inspect it well known quotes"),
        ("Don't you dare, it's O'Brien's", "don't you dare it's o'brien's"),
        ("s a f f r o n", "s a f f r o n"),
        ("Room No. 5, the 2nd floor", "room number five the second floor"),
    ],
)
def test_normalize_transcript(written, spoken):
    assert normalize_transcript(written) == spoken


def _fixture(root):
    """Three real-data folders in the shared layout, with one-second clips at their own rates and formats."""
    rows = {
        "speechocean762": [
            (f"so-{s}-{i}", f"so762-{s:04d}", "train" if s < 3 else "test", "WE CALL IT BEAR")
            for s in range(8)
            for i in range(2)
        ],
        "alphanumeric": [
            (f"an-{s}-{k}", f"R_{s}", None, "48 Ridge Road 407" if k == "addresses" else "one two")
            for s in range(30)
            for k in ("numbers", "addresses")
        ],
        "fotaq": [
            (f"fq-{c}-{i}", f"fotaq-{c}", None, "It's the 1940's!") for c in ("JOE", "FRANK", "BUD") for i in range(3)
        ],
    }
    rates = {"speechocean762": 16000, "alphanumeric": 16000, "fotaq": 11025}
    for source, items in rows.items():
        (root / source / "clips").mkdir(parents=True)
        lines = []
        for uid, spk, split, text in items:
            sr = rates[source]
            path = f"clips/{uid}.{'ogg' if source != 'fotaq' else 'flac'}"
            sf.write(root / source / path, 0.1 * np.random.default_rng(0).standard_normal(sr).astype(np.float32), sr)
            d = {"id": uid, "audio": path, "text": text, "speaker": spk, "duration": 1.0, "sample_rate": sr}
            if split:
                d["split"] = split
            if source == "alphanumeric":
                d["kind"] = uid.rsplit("-", 1)[1]
            lines.append(json.dumps(d))
        (root / source / "manifest.jsonl").write_text("\n".join(lines) + "\n")


def test_prepare_real_is_speaker_disjoint_and_normalised(tmp_path):
    _fixture(tmp_path / "real")
    out = tmp_path / "manifests"
    res = run_asr("prepare", "--root", tmp_path / "real", "--real-out-dir", out)
    assert "train" in res.stdout
    split = {
        name: [json.loads(x) for x in (out / f"{name}.jsonl").read_text().splitlines()]
        for name in ("train", "dev", "test")
    }
    speakers = {name: {r["speaker"] for r in rows} for name, rows in split.items()}
    assert not speakers["train"] & speakers["dev"] and not speakers["train"] & speakers["test"]
    assert not speakers["dev"] & speakers["test"]
    assert {"fotaq-FRANK"} <= speakers["dev"] and {"fotaq-BUD"} <= speakers["test"]
    assert {r["source"] for r in split["dev"]} == {"speechocean762", "alphanumeric", "fotaq"}
    texts = {r["text"] for rows in split.values() for r in rows}
    assert "forty eight ridge road four hundred and seven" in texts and "it's the nineteen forties" in texts
    assert all(r["speaker"].startswith("so762") for r in split["train"] if r["source"] == "speechocean762")
    numbers = [json.loads(x) for x in (out / "dev_alphanumeric_numbers.jsonl").read_text().splitlines()]
    assert numbers and all(r["kind"] == "numbers" for r in numbers)
    # the manifests are usable as they are: every audio path resolves and reads
    from asr.audio import load_audio
    from asr.data import read_manifest

    for u in read_manifest(out / "dev.jsonl"):
        assert len(load_audio(u.audio)) == 16000


def test_real_recipe_prepares_and_resumes_by_stage(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    _fixture(tmp_path / "real")
    env = dict(os.environ, ASR=f"{sys.executable} -m asr")
    cmd = [
        "bash",
        str(ROOT / "recipes/real/run.sh"),
        "--real",
        str(tmp_path / "real"),
        "--text",
        "unused.txt",
        "--exp-dir",
        str(tmp_path / "exp"),
        "--stop-stage",
        "0",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "exp/data/real/dev_alphanumeric_numbers.jsonl").is_file()
    again = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert again.returncode == 0 and "done already" in again.stderr
