"""Self-describing checkpoints: config, tokenizer and CMVN travel with the weights. Writes are atomic."""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from .config import config_from_dict, config_to_dict
from .errors import CheckpointError, UsageError
from .model import CTCModel, build_model
from .text import Tokenizer, tokenizer_from_state

FORMAT_VERSION = 1


def _numpy_globals() -> list:
    """The NumPy classes a training ``last.pt`` written before random states were stored as tensors holds (an
    array and its dtype); allowed on load, nothing else."""
    import numpy as np

    multiarray = (np._core if hasattr(np, "_core") else np.core).multiarray
    return [multiarray._reconstruct, np.ndarray, np.dtype, type(np.dtype(np.uint32))]


def save_atomic(obj: Any, path: str | Path) -> None:
    """``torch.save`` to a temp file in the same folder, fsync, then rename over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def model_state(model: CTCModel, cfg, tokenizer: Tokenizer) -> dict:
    """The inference part of a checkpoint (weights incl. CMVN buffers, config, tokenizer)."""
    raw = getattr(model, "module", model)  # DDP
    raw = getattr(raw, "_orig_mod", raw)  # torch.compile
    return {
        "format": FORMAT_VERSION,
        "config": config_to_dict(cfg),
        "tokenizer": packed(tokenizer.state_dict()),
        "model": {k: v.detach().cpu() for k, v in raw.state_dict().items()},
    }


def packed(tokenizer_state: dict) -> dict:
    """A tokenizer state as a checkpoint stores it: a pronunciation lexicon (2.5 MB of text for 100,000 words)
    xz-compressed into a uint8 tensor (0.7 MB), which :func:`asr.text.tokenizer_from_state` reads back."""
    if not isinstance(tokenizer_state.get("lexicon"), str):
        return tokenizer_state
    import lzma

    xz = lzma.compress(tokenizer_state["lexicon"].encode("utf-8"), preset=1)  # 0.2 s a save
    rest = {k: v for k, v in tokenizer_state.items() if k != "lexicon"}
    return rest | {"lexicon_xz": torch.frombuffer(bytearray(xz), dtype=torch.uint8)}


# Weights stored under other names by earlier releases: the front end's window and filters were torchaudio's.
RENAMED = {"logmel.mel.spectrogram.window": "logmel.window", "logmel.mel.mel_scale.fb": "logmel.fb"}


def read_checkpoint(path: str | Path) -> dict:
    """A checkpoint's contents, int8 weights turned back into float32 and old weight names renamed; a
    :class:`CheckpointError` (one line) for a missing, unreadable, unsafe or too new file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:  # tensors and plain Python values only: a pickle that would run code or build other objects is refused
        with torch.serialization.safe_globals(_numpy_globals()):
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        if "Unsupported global" not in msg:
            raise CheckpointError(f"{path}: not a readable checkpoint (UnpicklingError)") from None
        what = msg.split("Unsupported global: GLOBAL ")[-1].split()[0]
        raise CheckpointError(
            f"{path}: refused: the file holds Python objects other than tensors and plain values "
            f"({what}); asr checkpoints never do"
        ) from None
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or "model" not in ckpt:
        raise CheckpointError(f"{path}: not an asr checkpoint")
    if ckpt.get("format", 1) > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format {ckpt['format']} is newer than this asr understands "
            f"({FORMAT_VERSION}); upgrade asr"
        )
    scales = ckpt.pop("scales", {})  # int8 weight matrices (``export_model(..., weights="int8")``) → float32
    ckpt["model"] = {RENAMED.get(k, k): v.float() * scales[k] if k in scales else v for k, v in ckpt["model"].items()}
    return ckpt


def _stored_matrices(weights: dict[str, torch.Tensor]) -> list[str]:
    """The RNN, projection and output weight matrices; the front end, CMVN and biases stay float32."""
    return [
        k
        for k, v in weights.items()
        if v.ndim == 2 and v.is_floating_point() and not k.startswith(("logmel.", "cmvn."))
    ]


def load_checkpoint_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[CTCModel, Tokenizer, Any]:
    """Rebuild the model from a checkpoint alone. Returns (model in eval mode, tokenizer, config)."""
    ckpt = read_checkpoint(path)
    cfg = config_from_dict(ckpt["config"])
    tokenizer = tokenizer_from_state(ckpt["tokenizer"])
    model = build_model(cfg, len(tokenizer))
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval(), tokenizer, cfg


def _same_shape_weights(path: str | Path, state: dict[str, torch.Tensor], src: str | Path) -> dict[str, torch.Tensor]:
    """The weights of checkpoint ``path``, which must be a model of the same shape as ``state``."""
    other = read_checkpoint(path)["model"]
    if other.keys() != state.keys() or any(other[k].shape != v.shape for k, v in state.items()):
        raise CheckpointError(f"{path}: not the same model shape as {src}")
    return other


def export_model(
    src: str | Path,
    dst: str | Path,
    weights: str = "float32",
    blend: tuple[str, float] | None = None,
    average: Sequence[str | Path] = (),
    **info,
) -> dict:
    """Write the inference part of checkpoint ``src`` (a training ``best.pt`` or ``last.pt``) to ``dst``.

    ``weights="float16"`` stores the RNN, projection and output weight matrices as float16 (half the file);
    ``"int8"`` stores each of those (R, C) matrices as int8 with one float32 scale per row under ``"scales"`` (R, 1),
    a quarter of the file. Loading turns them back into float32; the front end, CMVN and biases stay float32.
    ``blend=(other, a)`` writes ``a`` × these weights + (1 - ``a``) × those of checkpoint ``other``, a model of the
    same shape (e.g. a fine-tuned model pulled back towards the model it started from). ``average=[a, b, …]`` writes
    the mean of these weights and those of checkpoints ``a, b, …`` (earlier snapshots of the same run: the mean of
    the last few is usually better than the last alone). ``info`` (e.g. the recipe
    that trained it) is stored under ``"info"`` with the step and validation scores. Returns that info.
    """
    if weights not in ("float32", "float16", "int8"):
        raise UsageError(f"weights must be float32, float16 or int8, not {weights!r}")
    ckpt = read_checkpoint(src)
    meta = ckpt.get("info") or {
        "trained_steps": ckpt.get("step"),
        "valid_wer": ckpt.get("valid_wer"),
        "valid_cer": ckpt.get("valid_cer"),
    }  # an exported checkpoint keeps its info
    meta = dict(meta) | info
    state, scales = dict(ckpt["model"]), {}
    if blend is not None and average:
        raise UsageError("blend and average cannot be combined")
    if blend is not None:
        other_path, a = blend
        if not 0.0 <= a <= 1.0:
            raise UsageError(f"blend weight must be in [0, 1], got {a}")
        other = _same_shape_weights(other_path, state, src)
        state = {k: a * v + (1 - a) * other[k] if v.is_floating_point() else v for k, v in state.items()}
        meta["blend"] = f"{a:g} x {Path(src).name} + {1 - a:g} x {Path(other_path).name}"
    if average:
        total = {k: v.double() for k, v in state.items() if v.is_floating_point()}
        for path in average:
            other = _same_shape_weights(path, state, src)
            for k in total:
                total[k] += other[k].double()
        n = 1 + len(average)
        state = {k: (total[k] / n).to(v.dtype) if k in total else v for k, v in state.items()}
        meta["average"] = " + ".join(Path(p).name for p in [src, *average]) + f", / {n}"
    if blend is not None or average:
        for k in ("valid_wer", "valid_cer"):  # they were measured on the model alone
            meta.pop(k, None)
    for k in _stored_matrices(state) if weights != "float32" else []:
        if weights == "float16":
            state[k] = state[k].half()
        else:  # symmetric, per output row: w ≈ q * scale with q in [-127, 127]
            scales[k] = (state[k].abs().amax(dim=1, keepdim=True) / 127).clamp_min(1e-12)
            state[k] = (state[k] / scales[k]).round().clamp(-127, 127).to(torch.int8)
    meta.pop("weights", None)  # re-exporting a float16 or int8 file says what this file holds
    if weights != "float32":
        meta["weights"] = weights
    out = {k: ckpt[k] for k in ("format", "config")} | {"tokenizer": packed(ckpt["tokenizer"])}
    out |= {"model": state, "info": meta}
    save_atomic(out | ({"scales": scales} if scales else {}), dst)
    return meta
