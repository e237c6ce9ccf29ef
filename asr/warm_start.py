"""Warm starts: a new training run begins from another checkpoint's weights, under a new output layer (other units)
or with wider RNN layers."""

from __future__ import annotations

import dataclasses

import torch

from .checkpoint import read_checkpoint
from .config import ModelConfig, config_from_dict
from .errors import TrainError
from .model import CTCModel
from .text import Tokenizer, tokenizer_from_state


def warm_start(model: CTCModel, cfg: ModelConfig, tokenizer: Tokenizer, path: str) -> list[str]:
    """Load another checkpoint's weights into ``model`` (configured by ``cfg``, putting out ``tokenizer``'s tokens):
    its output layer mapped onto this tokenizer, its RNNs widened to ``cfg.hidden`` if that is larger. Returns notes
    for the log. Raises TrainError when the two models differ in more than that."""
    ckpt = read_checkpoint(path)
    saved = config_from_dict(ckpt["config"]).model
    m = cfg
    if dataclasses.replace(saved, hidden=m.hidden, word_pieces=m.word_pieces, units=m.units, lexicon=m.lexicon) != m:
        raise TrainError(
            f"{path}: its model config differs from this run's (other than model.hidden, units, lexicon, word_pieces)"
        )
    notes = []
    state = ckpt["model"]
    old_tokens = tokenizer_from_state(ckpt["tokenizer"]).tokens
    if old_tokens != tokenizer.tokens:
        state = remap_output(state, old_tokens, tokenizer.tokens)
        shared = len(set(old_tokens) & set(tokenizer.tokens))
        notes.append(f"output layer: {shared} of {len(tokenizer)} tokens taken from {path}")
    if saved.hidden != cfg.hidden:
        try:
            state = widen_state(state, saved.hidden, model)
        except ValueError as e:
            raise TrainError(f"{path}: {e}") from None
        notes.append(f"widened {path} from {saved.hidden} to {cfg.hidden} units per direction")
    model.load_state_dict(state)
    return notes


def widen_state(old: dict[str, torch.Tensor], old_hidden: int, new: CTCModel) -> dict[str, torch.Tensor]:
    """Warm start a wider model: a state dict of the same model with ``old_hidden`` units per direction → ``new``'s.

    Each RNN layer keeps its trained units; the added units start from ``new``'s random weights. Every weight that
    reads an added unit into an old unit, a projection or the output layer starts at zero, so the wider model
    computes exactly what the old one did until training puts the added units to use (Net2Net's idea).
    """
    cfg = new.cfg
    H, H2, dirs = old_hidden, cfg.hidden, 2 if cfg.bidirectional else 1
    if H2 < H:
        raise ValueError(f"model.hidden {H2} is smaller than the checkpoint's {H}")
    state = {k: v.detach().cpu().clone() for k, v in new.state_dict().items()}
    gates = 4 if cfg.rnn_type == "lstm" else 3
    rows = torch.cat([torch.arange(g * H2, g * H2 + H) for g in range(gates)])  # old units' gate rows, new layout
    outs = torch.cat([torch.arange(d * H2, d * H2 + H) for d in range(dirs)])  # old units' output features

    def place(name: str, src_rows: torch.Tensor | None, src_cols: torch.Tensor | None) -> None:
        """Copy ``old[name]`` into the given rows/columns of ``state[name]``; zero the rest of those rows."""
        dst = state[name]
        w = old[name].to(dst.dtype)  # an exported checkpoint may hold float16 weights
        if w.ndim == 1:
            dst[src_rows if src_rows is not None else slice(None)] = w
            return
        r = src_rows if src_rows is not None else torch.arange(dst.shape[0])
        c = src_cols if src_cols is not None else torch.arange(dst.shape[1])
        dst[r] = 0.0
        dst[r.unsqueeze(1), c.unsqueeze(0)] = w

    for k in state:
        if k not in old:
            raise ValueError(f"the checkpoint has no '{k}'")
    if cfg.subsampling == "conv":  # its linear layer has model.hidden outputs: keep the old ones
        place("subsample.linear.weight", torch.arange(H), None)
        place("subsample.linear.bias", torch.arange(H), None)
    for i in range(cfg.layers):
        if i > 0 and not cfg.proj:  # this layer reads the previous layer's units
            cols = outs
        else:  # the front end's or a projection's features: the old ones come first
            cols = torch.arange(old[f"rnns.{i}.fwd.weight_ih_l0"].shape[1])
        for direction in ("fwd", "bwd") if dirs == 2 else ("fwd",):
            p = f"rnns.{i}.{direction}."
            place(p + "weight_ih_l0", rows, cols)
            place(p + "weight_hh_l0", rows, torch.arange(H))
            place(p + "bias_ih_l0", rows, None)
            place(p + "bias_hh_l0", rows, None)
        if cfg.proj:
            place(f"projs.{i}.weight", None, outs)
            place(f"projs.{i}.bias", None, None)
    place("output.weight", None, None if cfg.proj else outs)
    place("output.bias", None, None)
    done = {k for k in state if k.startswith(("rnns.", "projs.", "output.", "subsample.linear."))}
    for k in state:
        if k not in done:
            state[k] = old[k].clone()
    return state


def remap_output(old: dict[str, torch.Tensor], old_tokens: list[str], new_tokens: list[str]) -> dict[str, torch.Tensor]:
    """A state dict whose output layer follows ``new_tokens``: tokens both vocabularies share keep their rows.

    A new token (a word piece) starts with zero weights and the lowest old bias, so it is unlikely until training
    makes it likely; the rest of the model is untouched.
    """
    state = dict(old)
    w, b = old["output.weight"], old["output.bias"]
    index = {t: i for i, t in enumerate(old_tokens)}
    new_w = w.new_zeros(len(new_tokens), w.shape[1])
    new_b = b.new_full((len(new_tokens),), float(b.min()))
    for j, t in enumerate(new_tokens):
        if t in index:
            new_w[j], new_b[j] = w[index[t]], b[index[t]]
    state["output.weight"], state["output.bias"] = new_w, new_b
    return state
