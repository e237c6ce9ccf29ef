"""Experiment configuration: defaults in dataclasses, YAML overrides, strict keys.

A YAML file in ``conf/`` holds only the keys that differ from the defaults below, grouped by section::

    model:
      rnn_type: gru
      hidden: 256

``key=value`` overrides from the command line (``model.hidden=512``) are applied last. Unknown sections or
keys and values of the wrong type raise :class:`ConfigError`. Nothing is ever constructed from YAML: names
such as ``rnn_type`` select from small dicts in code.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import AsrError


class ConfigError(AsrError, ValueError):
    """A configuration file or override is invalid (unknown key, wrong type, bad value)."""


@dataclass
class FeatureConfig:
    n_mels: int = 80  # log-mel bins
    win_ms: float = 25.0  # analysis window
    hop_ms: float = 10.0  # frame shift
    # SpecAugment, applied in training only
    freq_masks: int = 2  # number of frequency masks per utterance
    freq_width: int = 15  # maximum width of each frequency mask (bins)
    time_masks: int = 2  # number of time masks per utterance
    time_width: float = 0.05  # maximum width of each time mask, as a fraction of the utterance length
    # Voice augmentation, applied in training only, to the log-mel before CMVN (0 = off)
    warp: float = 0.0  # scale each utterance's frequencies by a factor in [1 - warp, 1 + warp] (VTLP), e.g. 0.1
    eq_db: float = 0.0  # add a smooth random spectral envelope of up to +-eq_db dB per utterance, e.g. 6
    highpass_hz: float = (
        0.0  # a random high-pass (Butterworth, order 1-4, cutoff up to highpass_hz) per utterance, e.g. 300
    )


@dataclass
class ModelConfig:
    subsampling: str = "stack"  # "stack" (frame stacking) or "conv" (two strided Conv2d layers)
    subsample_factor: int = 4  # time reduction of the front end (stack: any >= 1; conv: 4)
    conv_channels: int = 32  # channels of the conv subsampler
    rnn_type: str = "lstm"  # "lstm" or "gru"
    bidirectional: bool = True
    hidden: int = 320  # units per direction
    layers: int = 4
    dropout: float = 0.1  # between RNN layers
    proj: int = 0  # optional linear projection after each RNN layer (0 = none)
    word_pieces: int = 0  # output units: 0 = characters; N = characters plus N word pieces learnt from the train text
    units: str = "char"  # "char" (letters, or word pieces) or "phone" (CMUdict phonemes and a pronunciation lexicon)
    lexicon: str = (
        ""  # phone models: a lexicon or word list whose words the model's lexicon holds besides the train words
    )


@dataclass
class OptimConfig:
    lr: float = 1e-3  # peak learning rate (AdamW)
    weight_decay: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.98)
    warmup_steps: int = 500  # linear warm-up from 0 to lr
    final_lr_ratio: float = 0.05  # cosine decay to lr * final_lr_ratio at the last step
    grad_clip: float = 5.0  # max global gradient norm


@dataclass
class TrainConfig:
    seed: int = 1234
    epochs: int = 20
    max_steps: int = 0  # stop after this many optimizer steps (0 = epochs decide)
    max_batch_seconds: float = 240.0  # total audio per batch
    max_batch_size: int = 64  # utterances per batch
    max_duration: float = 30.0  # utterances longer than this are skipped with a warning
    min_duration: float = 0.1
    bucket_jitter: float = 0.1  # relative random jitter of durations before sorting into buckets
    num_workers: int = 2  # DataLoader workers (0 = load in the main process)
    threads: int = 0  # torch intra-op threads on CPU (0 = torch default)
    device: str = "auto"  # "auto", "cpu", "cuda" or "cuda:N"
    amp: str = "auto"  # "auto" (bf16 where the GPU or CPU supports it, else float32), "bf16" or "off"
    valid_every: int = 500  # steps between validations (also at the end of each epoch)
    save_every: int = 100  # steps between writes of last.pt
    keep_every: int = 0  # steps between weight snapshots kept in snapshots/ for asr export --average (0 = none)
    log_every: int = 10  # steps between log lines
    valid_max_utts: int = 500  # validate on at most this many utterances (of each validation manifest)
    valid_default_decoding: bool = False  # also decode validation as the bundled model does (beam + bundled LM)
    compile: bool = False  # torch.compile the model (CUDA only)
    cmvn: str = ""  # precomputed CMVN statistics (asr cmvn), also replacing init_from's; empty = computed at the start (or init_from's)
    speed_perturb: float = 0.0  # play each utterance at 1-x, 1 or 1+x times its speed (0 = off); e.g. 0.1
    narrowband_prob: float = 0.0  # fraction of utterances band-limited to telephone bandwidth (8 kHz sampling)
    # Real-world channels (asr.data.apply_channel), each a probability per utterance
    reverb_prob: float = 0.0  # simulated room reverberation
    noise_prob: float = 0.0  # white/pink/brown noise at 5-30 dB SNR
    lowpass_prob: float = 0.0  # band-limited to 3.4-7.5 kHz
    gain_prob: float = 0.0  # level -40..0 dBFS
    hum_prob: float = 0.0  # DC offset and 50/60 Hz hum
    init_from: str = ""  # start a new run from this checkpoint's weights and CMVN (fine-tuning, warm starts)


@dataclass
class ExperimentConfig:
    features: FeatureConfig = field(default_factory=FeatureConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)


class _Loader(yaml.SafeLoader):
    """YAML 1.2-style booleans: only true/false, so ``amp: off`` stays the string "off"."""


_BOOL_TAG = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != _BOOL_TAG] for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def _yaml_load(text: str):
    return yaml.load(text, Loader=_Loader)


_CHOICES = {
    ("model", "subsampling"): ("stack", "conv"),
    ("model", "rnn_type"): ("lstm", "gru"),
    ("model", "units"): ("char", "phone"),
    ("train", "amp"): ("auto", "bf16", "off"),
}


def _coerce(value: Any, typ: Any, where: str) -> Any:
    """Check/convert one YAML or command-line value to the field's declared type."""
    origin = typing.get_origin(typ)
    if origin is tuple:
        args = typing.get_args(typ)
        if isinstance(value, str):
            value = _yaml_load(value)
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, where) for v, a in zip(value, args))
    if typ is bool:
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from None
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if typ is str:
        if not isinstance(value, (str, int, float)):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    raise ConfigError(f"{where}: unsupported type {typ}")  # pragma: no cover


def _set(cfg: ExperimentConfig, section: str, key: str, value: Any, source: str) -> None:
    sections = {f.name: f for f in dataclasses.fields(cfg)}
    if section not in sections:
        raise ConfigError(f"{source}: unknown section '{section}' (known: {', '.join(sections)})")
    sub = getattr(cfg, section)
    hints = typing.get_type_hints(type(sub))
    if key not in hints:
        raise ConfigError(f"{source}: unknown key '{section}.{key}' (known: {', '.join(hints)})")
    where = f"{source}: {section}.{key}"
    value = _coerce(value, hints[key], where)
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{where}: must be one of {', '.join(choices)}, got {value!r}")
    setattr(sub, key, value)


def apply_overrides(cfg: ExperimentConfig, overrides: dict[str, Any], source: str) -> ExperimentConfig:
    """Apply a nested ``{section: {key: value}}`` dict to ``cfg`` in place (strict) and return it."""
    if not isinstance(overrides, dict):
        raise ConfigError(f"{source}: expected a mapping of sections, got {type(overrides).__name__}")
    for section, values in overrides.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: section '{section}' must be a mapping")
        for key, value in values.items():
            _set(cfg, str(section), str(key), value, source)
    return cfg


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> ExperimentConfig:
    """Build a config from the defaults, an optional YAML file of overrides, then ``section.key=value`` strings.

    Raises:
        ConfigError: unknown key, wrong type, invalid choice, missing or unparsable file.
    """
    cfg = ExperimentConfig()
    if path is not None:
        path = Path(path)
        try:
            data = _yaml_load(path.read_text())
        except OSError as e:
            raise ConfigError(f"{path}: cannot read config ({e.strerror})") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path}: not valid YAML ({str(e).splitlines()[0]})") from None
        apply_overrides(cfg, data or {}, str(path))
    for item in overrides or []:
        name, sep, value = item.partition("=")
        section, dot, key = name.partition(".")
        if not sep or not dot or not key:
            raise ConfigError(f"override '{item}': expected section.key=value")
        _set(cfg, section, key, _yaml_load(value) if value else value, f"override '{item}'")
    validate(cfg)
    return cfg


def validate(cfg: ExperimentConfig) -> None:
    """Check cross-field constraints."""
    m = cfg.model
    if m.subsampling == "conv" and m.subsample_factor != 4:
        raise ConfigError("model.subsample_factor must be 4 when model.subsampling is conv")
    if m.subsample_factor < 1 or m.hidden < 1 or m.layers < 1:
        raise ConfigError("model.subsample_factor, model.hidden and model.layers must be >= 1")
    if m.word_pieces < 0:
        raise ConfigError("model.word_pieces must be >= 0 (0 = characters)")
    if m.units == "phone" and m.word_pieces:
        raise ConfigError("model.word_pieces applies to character models only (model.units=char)")
    if m.lexicon and m.units != "phone":
        raise ConfigError("model.lexicon applies to phone models only (model.units=phone)")
    if not 0.0 <= m.dropout < 1.0:
        raise ConfigError("model.dropout must be in [0, 1)")


def config_to_dict(cfg: ExperimentConfig) -> dict[str, Any]:
    """Plain nested dict (tuples as lists), suitable for YAML and checkpoints."""

    def plain(v: Any) -> Any:
        return list(v) if isinstance(v, tuple) else v

    return {s: {k: plain(v) for k, v in d.items()} for s, d in dataclasses.asdict(cfg).items()}


def config_from_dict(data: dict[str, Any]) -> ExperimentConfig:
    """Inverse of :func:`config_to_dict` (strict)."""
    return apply_overrides(ExperimentConfig(), data, "checkpoint config")


def dump_config(cfg: ExperimentConfig) -> str:
    """The full resolved config as YAML text."""
    return yaml.safe_dump(config_to_dict(cfg), sort_keys=False)
