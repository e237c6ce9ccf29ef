"""The bundled model and the decoding policy: which file ``load_model()`` loads, and how a model decodes when the
user says nothing (the bundled model with the bundled LM, others greedily). Light to import (no torch), so the CLI
can refuse bad options before anything heavy loads."""

from __future__ import annotations

from pathlib import Path

from .errors import CheckpointError, UsageError
from .options import DEFAULT_BOOST, DecodeOptions, parse_hotwords

DEFAULT_MODEL = Path(__file__).parent / "assets" / "default.pt"  # the bundled model


BUNDLED_MODELS = {"default": DEFAULT_MODEL}  # load_model(name)


def available_models() -> list[str]:
    """Names of the bundled models that :func:`load_model` takes in place of a path."""
    return [name for name, path in BUNDLED_MODELS.items() if path.is_file()]


def default_model_path() -> Path:
    """The bundled model: for offline decoding and, run latency-controlled (LC-BLSTM), for streaming alike."""
    path = DEFAULT_MODEL
    if not path.is_file():
        raise CheckpointError(f"{path}: no bundled default model; pass --model CKPT")
    return path


def resolve_model(path: str | Path | None) -> Path:
    """A checkpoint path, or a bundled model's name (None: the default one). A file of that name wins."""
    if path is None:
        return default_model_path()
    if isinstance(path, str) and path in BUNDLED_MODELS and not Path(path).exists():
        if not BUNDLED_MODELS[path].is_file():
            raise CheckpointError(f"{path}: this installation has no bundled '{path}' model")
        return BUNDLED_MODELS[path]
    return Path(path)


ASSETS = Path(__file__).parent / "assets"
BUNDLED_LM = ASSETS / "lm.bin"  # word 3-gram (KenLM binary) from book text and sentences; docs/model_card.md
BUNDLED_LEXICON = ASSETS / "lexicon.txt"
BUNDLED_LM_WEIGHT = 1.5  # tuned with the bundled model on the real dev set (docs/devlog.md)
BUNDLED_WORD_SCORE = -0.5
BUNDLED_BEAM_SIZE = 512  # on the real dev set and kathleen, 512 made 1.5 points fewer errors than 128 (docs/devlog.md)
BUNDLED_SPEEDS = (1.0, 0.9)  # a fast or high voice heard 10% slower and lower, when that scores better (devlog)


def bundled_lm_available() -> bool:
    return BUNDLED_LM.is_file() and BUNDLED_LEXICON.is_file()


def default_decode_options(**overrides) -> DecodeOptions:
    """How the bundled model decodes by default: beam search with the bundled word LM (greedy without it)."""
    if not bundled_lm_available():
        return DecodeOptions(**overrides)
    kw = {
        "decoder": "beam",
        "lm": str(BUNDLED_LM),
        "lexicon": str(BUNDLED_LEXICON),
        "lm_weight": BUNDLED_LM_WEIGHT,
        "word_score": BUNDLED_WORD_SCORE,
        "beam_size": BUNDLED_BEAM_SIZE,
        "speeds": BUNDLED_SPEEDS,
    }
    return DecodeOptions(**(kw | overrides))


def decode_options(
    bundled: bool,
    decoder: str | None = None,
    no_lm: bool = False,
    lm: str | None = None,
    lexicon: str | None = None,
    hotwords: list[str] = (),
    hotword_boost: float = DEFAULT_BOOST,
    **given,
) -> DecodeOptions:
    """Decoding options from what a user asked for (the CLI's flags; ``given``: beam_size, lm_weight, word_score,
    speeds, None when not given). The bundled model decodes with the bundled LM unless told otherwise; other models
    greedily, or with beam search when a beam size, an LM, a lexicon or hotwords are given."""
    words = parse_hotwords(list(hotwords), hotword_boost)
    if words and decoder == "greedy":
        raise UsageError("--hotwords needs the beam search (drop --decoder greedy)")
    if no_lm and (lm or lexicon):
        raise UsageError("--no-lm contradicts --lm/--lexicon")
    given = {k: v for k, v in given.items() if v is not None}
    if bundled and decoder != "greedy" and not (no_lm or lm or lexicon):
        return default_decode_options(hotwords=words, **given)
    beam = decoder == "beam" or (decoder is None and bool(given.get("beam_size") or lm or lexicon or words))
    return DecodeOptions(decoder="beam" if beam else "greedy", lm=lm, lexicon=lexicon, hotwords=words, **given)
