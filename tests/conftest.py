"""Shared fixtures: a small espeak-ng corpus synthesised once per session, and a tiny model trained on it once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = [
    "the cat sat on the mat",
    "a dog ran in the park",
    "she sells sea shells",
    "open the red door",
    "we like green tea",
    "the sun is hot today",
    "bring me a cup of milk",
    "he reads a long book",
    "the bird sings at dawn",
    "turn off the light",
    "my hat is blue",
    "a fish swims in the lake",
    "they walk to school",
    "the bus is late again",
    "put the box on the table",
    "i can hear the rain",
    "the baby is asleep",
    "we played a game of chess",
    "the old man sat down",
    "look at the moon",
]


def run_asr(*args: str, check: bool = True, timeout: float = 900, cwd: str | Path | None = None):
    """Run ``python -m asr ARGS`` and return the CompletedProcess."""
    res = subprocess.run(
        [sys.executable, "-m", "asr", *map(str, args)], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )
    if check and res.returncode != 0:
        raise AssertionError(f"asr {' '.join(map(str, args))} failed ({res.returncode}):\n{res.stderr[-3000:]}")
    return res


def train_tiny(manifest: Path, exp_dir: Path, *overrides: str, check: bool = True):
    """``asr train`` with conf/tiny.yaml on ``manifest`` (also the validation set) into ``exp_dir``, on two threads,
    ``overrides`` last; returns the CompletedProcess."""
    return run_asr(
        "train",
        "--config",
        ROOT / "conf/tiny.yaml",
        "--train",
        manifest,
        "--valid",
        manifest,
        "--exp-dir",
        exp_dir,
        "train.threads=2",
        *overrides,
        check=check,
    )


@pytest.fixture(scope="session", autouse=True)
def own_cache_folder(tmp_path_factory) -> None:
    """The tests, and the commands they run, keep computed lexicon spellings in a folder of their own, not the
    user's ``~/.cache/asr``."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def espeak() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: run `make deps` (the Makefile installs it)")


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, espeak) -> Path:
    """40 synthesised utterances (20 sentences × 2 espeak-ng voices) in LibriSpeech layout + ``train.jsonl``."""
    from asr.corpus.prepare import prepare_librispeech
    from asr.corpus.synth import Voice, make_split

    root = tmp_path_factory.mktemp("corpus")
    text = root / "sentences.txt"
    text.write_text("\n".join(SENTENCES) + "\n")
    voices = [Voice("espeak", "en-us+m3"), Voice("espeak", "en-gb+f3")]
    make_split(root, "train", voices, SENTENCES, 40, seed=3, max_sentences=1, jitter=0.05)
    prepare_librispeech(root, "train", root / "train.jsonl")
    return root


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus) -> Path:
    """conf/tiny.yaml trained on the tiny corpus through the CLI; returns best.pt."""
    exp = tiny_corpus / "exp"
    train_tiny(tiny_corpus / "train.jsonl", exp, "train.valid_every=80")
    return exp / "best.pt"


@pytest.fixture(scope="session")
def three_utterances(tmp_path_factory, espeak) -> tuple[Path, str]:
    """A 16 kHz WAV of three sentences in held-out voices, 0.8 s of silence around each; and its reference text."""
    import numpy as np
    import soundfile as sf

    from asr.audio import load_audio

    root = tmp_path_factory.mktemp("three")
    texts = ["please open the window in the kitchen", "the train leaves at seven tonight", "we bought fresh bread"]
    parts = [np.zeros(12800, np.float32)]
    for i, (voice, text) in enumerate(zip(["en-us+david", "en+f4", "en-us+linda"], texts)):
        wav = root / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
        a = load_audio(wav)
        parts += [0.5 * a / np.abs(a).max(), np.zeros(12800, np.float32)]
    path = root / "three.wav"
    sf.write(path, np.concatenate(parts), 16000, subtype="PCM_16")
    return path, " ".join(texts)


# The layers: a test is "integration" when it synthesises speech, trains a model or starts the CLI, a server or a
# browser in another process; everything else is a unit test (`make unit`: `pytest -m "not integration"`, about a
# minute). `make test` runs both (but not `slow` or `gpu`).
INTEGRATION_FIXTURES = {"espeak", "tiny_corpus", "tiny_model", "three_utterances"}
INTEGRATION_MODULES = {"test_ddp", "test_recipes", "test_server", "test_synth", "test_train", "test_gpu"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        uses_cli = "run_asr" in getattr(item.function, "__code__", type("", (), {"co_names": ()})).co_names
        if INTEGRATION_FIXTURES & set(item.fixturenames) or module in INTEGRATION_MODULES or uses_cli:
            item.add_marker(pytest.mark.integration)
