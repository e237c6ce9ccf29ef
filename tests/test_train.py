"""Integration: train conf/tiny.yaml on a synthesised corpus, decode with every decoder, resume after SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time

import torch
from conftest import ROOT, run_asr, train_tiny

from asr.text import tokenizer_from_state


def last_line_scores(stdout: str) -> tuple[float, float]:
    last = stdout.strip().splitlines()[-1]
    parts = last.split()
    assert parts[0] == "WER" and parts[2] == "CER" and "utterances; words:" in last, last
    return float(parts[1].rstrip("%")), float(parts[3].rstrip("%"))


def test_tiny_model_learns_training_set(tiny_model, tiny_corpus):
    exp = tiny_model.parent
    for name in ("best.pt", "last.pt", "config.yaml", "metrics.jsonl", "log.txt", "curves.png"):
        assert (exp / name).is_file(), name
    history = [json.loads(line) for line in (exp / "metrics.jsonl").read_text().splitlines()]
    losses = [h["loss"] for h in history if h["kind"] == "train"]
    assert losses[-1] < 0.25 * losses[0]
    res = run_asr(
        "evaluate",
        "--model",
        tiny_model,
        "--manifest",
        tiny_corpus / "train.jsonl",
        "--out",
        tiny_corpus / "dec_greedy",
    )
    w, c = last_line_scores(res.stdout)
    assert c < 15.0, res.stdout
    hyps = [json.loads(line) for line in (tiny_corpus / "dec_greedy/hyp.jsonl").read_text().splitlines()]
    assert len(hyps) == 40 and {"id", "ref", "hyp"} <= set(hyps[0])
    assert "ALI:" in (tiny_corpus / "dec_greedy/errors.txt").read_text()


def test_beam_and_lm_decoding(tiny_model, tiny_corpus):
    m = tiny_corpus / "train.jsonl"
    _, c_greedy = last_line_scores(
        run_asr("evaluate", "--model", tiny_model, "--manifest", m, "--out", tiny_corpus / "d1").stdout
    )
    _, c_beam = last_line_scores(
        run_asr(
            "evaluate",
            "--model",
            tiny_model,
            "--manifest",
            m,
            "--out",
            tiny_corpus / "d2",
            "--decoder",
            "beam",
            "--beam-size",
            "8",
        ).stdout
    )
    run_asr("lm", "--text", tiny_corpus / "sentences.txt", "--out-dir", tiny_corpus / "lm")
    w_lm, c_lm = last_line_scores(
        run_asr(
            "evaluate",
            "--model",
            tiny_model,
            "--manifest",
            m,
            "--out",
            tiny_corpus / "d3",
            "--lm",
            tiny_corpus / "lm/lm.arpa",
            "--lexicon",
            tiny_corpus / "lm/lexicon.txt",
        ).stdout
    )
    assert c_beam <= c_greedy + 1.0 and c_lm <= c_greedy + 1.0 and w_lm < 15.0


def test_transcribe_cli_and_api(tiny_model, tiny_corpus):
    rows = [json.loads(line) for line in (tiny_corpus / "train.jsonl").read_text().splitlines()][:3]
    files = [str(tiny_corpus / r["audio"]) for r in rows]
    bad = tiny_corpus / "corrupt.wav"
    bad.write_bytes(b"RIFF....WAVEfmt garbage")
    res = run_asr("transcribe", *files, bad, "--model", tiny_model, check=False)
    assert res.returncode == 1 and "corrupt.wav" in res.stderr and "Traceback" not in res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"{f}: ") for line, f in zip(lines, files))
    lines = [line.split(": ", 1)[1] for line in lines]
    from asr.metrics import cer

    assert cer([r["text"] for r in rows], lines) < 15.0
    import asr

    assert asr.load_model(tiny_model).transcribe(files[0]).text == lines[0]


def test_evaluate_and_transcribe_give_the_same_words(tiny_model, tiny_corpus, tmp_path):
    """One inference path: `asr evaluate` hears each file exactly as `asr transcribe` does, with and without the VAD."""
    lines = (tiny_corpus / "train.jsonl").read_text().splitlines()[:6]
    manifest = tiny_corpus / "six.jsonl"  # its audio paths are relative to it
    manifest.write_text("\n".join(lines) + "\n")
    files = [str(tiny_corpus / json.loads(line)["audio"]) for line in lines]
    for flags in ([], ["--no-vad"]):
        run_asr("evaluate", "--model", tiny_model, "--manifest", manifest, "--out", tmp_path / "dec", *flags)
        evaluated = [json.loads(line)["hyp"] for line in (tmp_path / "dec/hyp.jsonl").read_text().splitlines()]
        out = run_asr("transcribe", *files, "--model", tiny_model, *flags).stdout.strip().splitlines()
        transcribed = [line.split(": ", 1)[1] if ": " in line else "" for line in out]
        assert evaluated == transcribed and any(evaluated), (flags, evaluated, transcribed)


def test_warm_start_into_a_wider_model(tiny_model, tiny_corpus):
    """train.init_from may widen model.hidden; the wider model starts out decoding as the narrow one did."""
    m = tiny_corpus / "train.jsonl"
    exp = tiny_corpus / "wide"
    train_tiny(m, exp, f"train.init_from={tiny_model}", "model.hidden=160", "train.max_steps=2", "optim.lr=1e-7")
    assert "widened" in (exp / "log.txt").read_text()
    ckpt = torch.load(exp / "last.pt", weights_only=False)
    assert ckpt["model"]["rnns.0.fwd.weight_hh_l0"].shape == (3 * 160, 160)
    _, c_old = last_line_scores(
        run_asr("evaluate", "--model", tiny_model, "--manifest", m, "--out", tiny_corpus / "narrow_dec").stdout
    )
    _, c_new = last_line_scores(
        run_asr("evaluate", "--model", exp / "last.pt", "--manifest", m, "--out", tiny_corpus / "wide_dec").stdout
    )
    assert abs(c_new - c_old) < 1.0, (c_old, c_new)
    res = train_tiny(m, tiny_corpus / "bad", f"train.init_from={tiny_model}", "model.layers=3", check=False)
    assert res.returncode != 0 and "model config differs" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_warm_start_with_new_cmvn_statistics(tiny_model, tiny_corpus, tmp_path):
    """train.cmvn replaces the warm-start checkpoint's CMVN statistics (a fine-tune on other speech); without it
    the checkpoint's statistics are kept."""
    m = tiny_corpus / "train.jsonl"
    stats = tmp_path / "cmvn.pt"
    torch.save({"mean": torch.full((80,), -3.0), "std": torch.full((80,), 2.0)}, stats)
    args = [f"train.init_from={tiny_model}", "train.max_steps=1", "optim.lr=1e-9"]
    train_tiny(m, tmp_path / "new", *args, f"train.cmvn={stats}")
    train_tiny(m, tmp_path / "kept", *args)
    new = torch.load(tmp_path / "new" / "last.pt", weights_only=False)["model"]
    kept = torch.load(tmp_path / "kept" / "last.pt", weights_only=False)["model"]
    old = torch.load(tiny_model, weights_only=False)["model"]
    assert torch.allclose(new["cmvn.mean"], torch.full((80,), -3.0))
    assert torch.allclose(new["cmvn.istd"], torch.full((80,), 0.5))
    assert torch.equal(kept["cmvn.mean"], old["cmvn.mean"]) and torch.equal(kept["cmvn.istd"], old["cmvn.istd"])
    assert "CMVN statistics from" in (tmp_path / "new" / "log.txt").read_text()


def test_word_piece_model_warm_started_from_a_character_model(tiny_model, tiny_corpus):
    """model.word_pieces: pieces learnt from the training text travel in the checkpoint; a character model can
    warm-start the word-piece one (its letters keep their output rows); every decoder and word times work on pieces."""
    m = tiny_corpus / "train.jsonl"
    exp = tiny_corpus / "pieces"
    train_tiny(
        m,
        exp,
        f"train.init_from={tiny_model}",
        "model.word_pieces=40",
        "train.epochs=60",
    )
    assert "output layer: 29 of" in (exp / "log.txt").read_text()
    ckpt = torch.load(exp / "best.pt", weights_only=False)
    assert ckpt["tokenizer"]["type"] == "wordpiece" and len(ckpt["tokenizer"]["merges"]) == 40
    _, c = last_line_scores(
        run_asr("evaluate", "--model", exp / "best.pt", "--manifest", m, "--out", tiny_corpus / "pieces_greedy").stdout
    )
    assert c < 15.0
    run_asr("lm", "--text", tiny_corpus / "sentences.txt", "--out-dir", tiny_corpus / "pieces_lm")
    w_lm, _ = last_line_scores(
        run_asr(
            "evaluate",
            "--model",
            exp / "best.pt",
            "--manifest",
            m,
            "--out",
            tiny_corpus / "pieces_lm_dec",
            "--lm",
            tiny_corpus / "pieces_lm/lm.arpa",
            "--lexicon",
            tiny_corpus / "pieces_lm/lexicon.txt",
        ).stdout
    )
    assert w_lm < 15.0
    import asr

    row = json.loads((tiny_corpus / "train.jsonl").read_text().splitlines()[0])
    result = asr.load_model(exp / "best.pt").transcribe(tiny_corpus / row["audio"])
    assert [w.word for w in result.words] == result.text.split() and result.text
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and all(w.end > w.start for w in result.words)


def test_phone_model_from_a_character_model_and_fine_tuning_walkthrough(tiny_model, tiny_corpus, tmp_path):
    """model.units=phone, warm-started from a character model under a new output layer, as docs/model_card.md's
    fine-tuning walkthrough does it (train with init_from, export with int8 weights, transcribe): it learns the
    corpus; greedy and lexicon + LM decoding give words, with word times; the TorchScript export says its units."""
    m = tiny_corpus / "train.jsonl"
    exp = tmp_path / "phones"
    train_tiny(m, exp, f"train.init_from={tiny_model}", "model.units=phone", "train.epochs=60", "train.keep_every=10")
    assert "output layer: 2 of 41 tokens" in (exp / "log.txt").read_text()
    snapshots = sorted((exp / "snapshots").glob("step*.pt"))
    assert len(snapshots) >= 3 and "optimizer" not in torch.load(snapshots[-1], weights_only=True)
    ckpt = torch.load(exp / "best.pt", weights_only=True)
    assert ckpt["tokenizer"]["type"] == "phone" and "lexicon_xz" in ckpt["tokenizer"]  # stored compressed
    assert tokenizer_from_state(ckpt["tokenizer"]).lexicon["sat"][0] == ("S", "AE", "T")
    run_asr("export", "--model", exp / "best.pt", "--int8-weights", "--out", tmp_path / "mine.pt")
    w, _ = last_line_scores(
        run_asr("evaluate", "--model", tmp_path / "mine.pt", "--manifest", m, "--out", tmp_path / "g").stdout
    )
    assert w < 20.0
    run_asr("export", "--model", snapshots[-1], "--average", *snapshots[-3:-1], "--out", tmp_path / "mean.pt")
    w, _ = last_line_scores(
        run_asr("evaluate", "--model", tmp_path / "mean.pt", "--manifest", m, "--out", tmp_path / "a").stdout
    )
    assert w < 20.0  # the mean of the last snapshots has learnt it too
    run_asr("lm", "--text", tiny_corpus / "sentences.txt", "--out-dir", tmp_path / "lm")
    lm = ["--lm", tmp_path / "lm/lm.arpa", "--lexicon", tmp_path / "lm/lexicon.txt"]
    w_lm, _ = last_line_scores(
        run_asr("evaluate", "--model", tmp_path / "mine.pt", "--manifest", m, "--out", tmp_path / "b", *lm).stdout
    )
    assert w_lm < 15.0
    row = json.loads(m.read_text().splitlines()[0])
    out = run_asr("transcribe", tiny_corpus / row["audio"], "--model", tmp_path / "mine.pt", "--format", "json", *lm)
    result = json.loads(out.stdout)
    assert [w["word"] for w in result["words"]] == result["text"].split() and result["text"]
    run_asr("export", "--model", tmp_path / "mine.pt", "--torchscript", "--out", tmp_path / "mine.ts")
    files = {"tokens.json": "", "tokenizer.json": ""}
    torch.jit.load(str(tmp_path / "mine.ts"), _extra_files=files)
    tok = json.loads(files["tokenizer.json"])
    assert tok["type"] == "phone" and json.loads(files["tokens.json"])[2:5] == ["AA", "AE", "AH"]


def _train_cmd(corpus, exp):
    m = corpus / "train.jsonl"
    return [
        sys.executable,
        "-m",
        "asr",
        "train",
        "--config",
        str(ROOT / "conf/tiny.yaml"),
        "--train",
        str(m),
        "--valid",
        str(m),
        "--exp-dir",
        str(exp),
        "train.max_steps=36",
        "train.save_every=6",
        "train.valid_every=12",
        "train.threads=1",
        "model.dropout=0.1",
        "features.time_masks=2",
        "train.max_batch_seconds=25",
    ]


def test_resume_after_sigkill_matches_uninterrupted_run(tiny_corpus):
    ref_exp, kill_exp = tiny_corpus / "resume_ref", tiny_corpus / "resume_kill"
    subprocess.run(_train_cmd(tiny_corpus, ref_exp), check=True, capture_output=True, timeout=600)

    proc = subprocess.Popen(_train_cmd(tiny_corpus, kill_exp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while time.time() < deadline:  # kill once a mid-run checkpoint exists (somewhere after step 12)
        last = kill_exp / "last.pt"
        if last.exists() and 12 <= torch.load(last, weights_only=False)["step"] < 30:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = torch.load(kill_exp / "last.pt", weights_only=False)["step"]
    assert killed_at < 36
    res = subprocess.run(_train_cmd(tiny_corpus, kill_exp), capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and f"resumed at step {killed_at}" in res.stderr, res.stderr[-2000:]

    a = torch.load(ref_exp / "last.pt", weights_only=False)
    b = torch.load(kill_exp / "last.pt", weights_only=False)
    assert a["step"] == b["step"] == 36
    for k in a["model"]:
        assert torch.allclose(a["model"][k], b["model"][k], atol=1e-5), k
    assert [h["step"] for h in a["history"]] == [h["step"] for h in b["history"]]
