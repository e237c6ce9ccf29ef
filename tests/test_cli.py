import json
import subprocess
import sys

import pytest
from conftest import ROOT, run_asr

from asr.cli import COMMANDS


@pytest.mark.parametrize("cmd", sorted(COMMANDS))
def test_help_shows_example(cmd):
    out = run_asr(cmd, "--help").stdout
    assert "example:" in out and f"asr {cmd}" in out


def test_help_does_not_import_torch():
    code = (
        "import sys; from asr.cli import main\ntry:\n    main(['download', '--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)


def test_import_has_no_side_effects():
    code = (
        "import sys, asr; assert 'torch' not in sys.modules, 'torch imported'; "
        "import torch; n = torch.get_num_threads(); asr.load_model; assert torch.get_num_threads() == n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def one_line_error(res, *needles):
    assert res.returncode != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("asr: error:"), res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0]


def test_unknown_config_key(tmp_path):
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"id": "a", "audio": "a.wav", "duration": 1, "text": "x"}) + "\n")
    res = run_asr(
        "train",
        "--config",
        ROOT / "conf/tiny.yaml",
        "--train",
        m,
        "--valid",
        m,
        "--exp-dir",
        tmp_path / "e",
        "model.colour=red",
        check=False,
    )
    one_line_error(res, "unknown key 'model.colour'")


def test_overrides_anywhere(tmp_path):
    m = tmp_path / "m.jsonl"
    res = run_asr(
        "train",
        "--train",
        m,
        "--valid",
        m,
        "model.hidden=64",
        "--exp-dir",
        tmp_path / "e",
        "model.layers=1",
        "--print-config",
    )
    assert "hidden: 64" in res.stdout and "layers: 1" in res.stdout
    res = run_asr("train", "--train", m, "--valid", m, "--exp-dir", tmp_path / "e", "--colour", check=False)
    assert res.returncode == 2 and "unrecognized arguments: --colour" in res.stderr and "Traceback" not in res.stderr


def test_bad_manifest_line(tmp_path):
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"id": "a", "audio": "a.wav", "duration": 1, "text": "x"}) + "\n{oops\n")
    res = run_asr("train", "--train", m, "--valid", m, "--exp-dir", tmp_path / "e", check=False)
    one_line_error(res, "m.jsonl:2", "invalid JSON")


def test_missing_files(tmp_path):
    one_line_error(
        run_asr(
            "train",
            "--train",
            tmp_path / "no.jsonl",
            "--valid",
            tmp_path / "no.jsonl",
            "--exp-dir",
            tmp_path / "e",
            check=False,
        ),
        "no.jsonl",
    )
    one_line_error(
        run_asr(
            "evaluate",
            "--model",
            tmp_path / "no.pt",
            "--manifest",
            tmp_path / "m.jsonl",
            "--out",
            tmp_path / "o",
            check=False,
        ),
        "no.pt",
        "no such checkpoint",
    )
    one_line_error(
        run_asr(
            "train",
            "--config",
            tmp_path / "no.yaml",
            "--train",
            "x",
            "--valid",
            "x",
            "--exp-dir",
            tmp_path / "e",
            check=False,
        ),
        "no.yaml",
    )


def test_not_a_checkpoint(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_text("garbage")
    clip = ROOT / "examples" / "fsdd_7_george_3.flac"
    one_line_error(run_asr("transcribe", clip, "--model", bad, check=False), "bad.pt")


def test_bad_speeds():
    clip = ROOT / "examples" / "fsdd_7_george_3.flac"
    one_line_error(run_asr("transcribe", clip, "--speeds", "1,fast", check=False), "--speeds", "'fast'")
    one_line_error(run_asr("transcribe", clip, "--speeds", "1,3", check=False), "between 0.5 and 2")
    one_line_error(run_asr("transcribe", clip, "--speeds", "0.9,0.9", check=False), "must differ")


def test_lm_command(tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("hello world\nhello there\n")
    run_asr("lm", "--text", t, "--out-dir", tmp_path / "lm", "--order", "2")
    arpa = (tmp_path / "lm/lm.arpa").read_text()
    assert arpa.startswith("\\data\\") and "ngram 2=" in arpa and arpa.rstrip().endswith("\\end\\")
    assert "hello\th e l l o |" in (tmp_path / "lm/lexicon.txt").read_text()
    run_asr("lm", "--text", t, "--out-dir", tmp_path / "lm2", "--digit-strings", "5", "--spellings", "5")
    lexicons = [(tmp_path / d / "lexicon.txt").read_text().splitlines() for d in ("lm", "lm2")]
    assert lexicons[1][:3] == lexicons[0] and "h\th |" in lexicons[1]  # the text's words first, then letters, digits
    bad = run_asr("lm", "--text", t, "--out-dir", tmp_path / "lm3", "--digit-strings", "-1", check=False)
    one_line_error(bad, "--digit-strings")


def test_readme_python_snippet_runs_as_written():
    text = (ROOT / "README.md").read_text()
    code = text.split("Python:\n\n```python\n", 1)[1].split("```", 1)[0]
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip()
