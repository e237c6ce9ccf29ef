"""The recipes' run.sh, end to end on small corpora the tests synthesise (LibriSpeech layout, FSDD layout)."""

import json
import os
import subprocess
import sys

from conftest import ROOT, SENTENCES

ENV = {**os.environ, "ASR": f"{sys.executable} -m asr"}


def run_recipe(name: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    res = subprocess.run(
        ["bash", str(ROOT / f"recipes/{name}/run.sh"), *args], capture_output=True, text=True, env=ENV, timeout=timeout
    )
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def test_librispeech_recipe_on_a_generated_fixture(tmp_path, espeak):
    from asr.corpus.synth import Voice, make_split

    ls = tmp_path / "LibriSpeech"
    voices = [Voice("espeak", "en-us+m3"), Voice("espeak", "en-gb+f3")]
    for split, n, seed in (("train-clean-100", 16, 1), ("dev-clean", 4, 2), ("test-clean", 4, 3)):
        make_split(ls, split, voices, SENTENCES, n, seed=seed, max_sentences=1)
    exp = tmp_path / "exp"
    args = [
        "--data-dir",
        str(ls),
        "--exp-dir",
        str(exp),
        "--config",
        str(ROOT / "conf/tiny.yaml"),
        "--train-sets",
        "train-clean-100",
        "--dev-set",
        "dev-clean",
        "--test-sets",
        "dev-clean test-clean",
        "--train-args",
        "train.max_steps=20 train.valid_every=10",
    ]
    run_recipe("librispeech", "--stage", "0", *args)
    results = (exp / "RESULTS.md").read_text()
    for s in ("dev-clean", "test-clean"):
        for d in ("greedy", "beam", "beam+lm"):
            assert f"| {s} | {d} |" in results
    assert (exp / "best.pt").is_file() and (exp / "data/cmvn.pt").is_file()
    rows = [json.loads(line) for line in (exp / "data/train-clean-100.jsonl").read_text().splitlines()]
    assert len(rows) == 16 and all(r["text"] == r["text"].lower() for r in rows)
    # Idempotent: a second run skips every stage.
    again = run_recipe("librispeech", *args)
    assert again.stderr.count("done already") == 6


def fake_fsdd(root):
    """A small FSDD-layout folder: three espeak-ng "speakers" saying each digit twice."""
    import soundfile as sf

    from asr.corpus.synth import Voice, synthesize

    (root / "recordings").mkdir(parents=True)
    digits = "zero one two three four five six seven eight nine".split()
    rows = []
    for spk, voice in (("anna", "en-us+f2"), ("bob", "en-gb+m2"), ("carl", "en-us+m4")):
        for d, word in enumerate(digits):
            for take in range(2):
                audio = synthesize(word, Voice("espeak", voice), rate=0.9 + 0.2 * take)
                rel = f"recordings/{d}_{spk}_{take}.wav"
                sf.write(root / rel, audio, 16000)
                rows.append(
                    {
                        "id": f"{d}_{spk}_{take}",
                        "audio": rel,
                        "text": word,
                        "speaker": spk,
                        "duration": len(audio) / 16000,
                    }
                )
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_digits_recipe_on_a_synthesised_fsdd(tmp_path, espeak):
    root = fake_fsdd(tmp_path / "fsdd")
    exp = tmp_path / "exp"
    run_recipe(
        "digits",
        "--fsdd",
        str(root),
        "--test-speakers",
        "carl",
        "--exp-dir",
        str(exp),
        "--config",
        str(ROOT / "conf/tiny.yaml"),
        "--train-args",
        "train.max_steps=30",
    )
    results = (exp / "RESULTS.md").read_text()
    assert "| test | greedy |" in results and "| 20 |" in results
    train = (exp / "data/train.jsonl").read_text()
    assert "carl" not in train and "anna" in train


def test_synth_recipe_end_to_end(tmp_path, espeak):
    text = tmp_path / "sentences.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    fsdd = fake_fsdd(tmp_path / "fsdd")
    exp = tmp_path / "exp"
    run_recipe(
        "synth",
        "--text",
        str(text),
        "--fsdd",
        str(fsdd),
        "--fsdd-test-speakers",
        "carl",
        "--exp-dir",
        str(exp),
        "--num-train",
        "24",
        "--num-natural",
        "6",
        "--fsdd-repeat",
        "2",
        "--num-digits",
        "12",
        "--num-dev",
        "4",
        "--num-test",
        "4",
        "--num-test-natural",
        "4",
        "--config",
        str(ROOT / "conf/tiny.yaml"),
        "--train-args",
        "train.max_steps=10 train.speed_perturb=0.1 train.narrowband_prob=0.5",
    )
    results = (exp / "RESULTS.md").read_text()
    for s in ("dev", "test", "test_natural", "fsdd_test"):
        for d in ("greedy", "beam", "beam+lm"):
            assert f"| {s} | {d} |" in results
    assert "| fsdd_test | beam+digits |" in results
    digits = [json.loads(line)["text"] for line in (exp / "data/digits.jsonl").read_text().splitlines()]
    assert len(digits) == 12 and all(
        set(t.split()) <= set("zero one two three four five six seven eight nine".split()) for t in digits
    )
    lexicon = (exp / "data/lm_digits/lexicon.txt").read_text().split("\n")
    assert sorted(line.split("\t")[0] for line in lexicon if line) == sorted(
        "zero one two three four five six seven eight nine".split()
    )
    assert len((exp / "data/train2.jsonl").read_text().splitlines()) == 6
    natural_voices = (exp / "data/corpus/test_natural/VOICES.txt").read_text().split()
    assert {"rms", "ked_diphone", "us3", "en-GB"} <= set(natural_voices)
    fsdd_train = (exp / "data/fsdd/train.jsonl").read_text()
    assert "carl" not in fsdd_train
    # sentences + natural-voice sentences + digit strings + the FSDD training speakers twice
    assert f"{24 + 6 + 12 + 2 * len(fsdd_train.splitlines())} train utts" in (exp / "log.txt").read_text()


def test_real_levers_recipe_runs_a_lever_and_tabulates_it(tmp_path, tiny_model, tiny_corpus):
    """experiments/levers.sh on the tiny corpus laid out as stages 0-2 of recipes/real leave it: the subsets and
    CMVN (stage 0), one lever run with its validation curve and whole-dev default decoding (stage 1), the table
    and plot (stage 11); a finished stage is skipped when run again."""
    data = tmp_path / "data"
    rows = [json.loads(x) for x in (tiny_corpus / "train.jsonl").read_text().splitlines()]
    for row in rows:
        row["audio"] = str((tiny_corpus / row["audio"]).resolve())
    for name in ("real/train", "real/dev", "train2", "fsdd/train"):
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    common = ["--data", str(data), "--init-from", str(tiny_model), "--exp-dir", str(tmp_path / "levers")]
    common += ["--config", "conf/tiny.yaml", "--steps", "2", "--valid-every", "1", "--valid-utts", "6"]
    common += ["--train-args", "train.threads=2"]
    run_levers = lambda *a: subprocess.run(  # noqa: E731
        ["bash", str(ROOT / "experiments/levers.sh"), *common, *a], capture_output=True, text=True, env=ENV
    )
    first = run_levers("--stop-stage", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    assert len((data / "real/train_quarter.jsonl").read_text().splitlines()) == (len(rows) + 3) // 4
    assert (data / "cmvn_real_synth.pt").is_file()
    valid = [json.loads(x) for x in (tmp_path / "levers/baseline/metrics.jsonl").read_text().splitlines()]
    assert [v["step"] for v in valid if v["kind"] == "valid"] == [1, 2]
    table = run_levers("--stage", "11")
    assert table.returncode == 0, table.stderr[-3000:]
    row = [x for x in table.stdout.splitlines() if x.startswith("| baseline |")]
    assert len(row) == 1 and "–" not in row[0], table.stdout  # greedy and default-decoding figures both present
    assert (tmp_path / "levers/levers.png").stat().st_size > 1000
    again = run_levers("--stop-stage", "1")
    assert again.returncode == 0 and again.stderr.count("done already") == 2, again.stderr[-3000:]
