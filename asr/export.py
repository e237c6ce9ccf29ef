"""Faster CPU inference and deployment: dynamic int8 quantisation, and TorchScript export.

``quantize_int8(model)`` stores the LSTM/GRU and linear weights as int8 and quantises activations on the fly
(PyTorch's dynamic quantisation); the front end stays float32. ``export_torchscript(model, path, tokens)`` traces
``forward(wav (B, N), wav_lens (B,)) → (log_probs (B, T, V), lengths (B,))``; the file runs with ``torch.jit.load``
and no ``asr`` package, and carries the V output tokens (id 0 the blank, " " the word separator) as the extra file
``tokens.json``, and the whole tokenizer as ``tokenizer.json``: its ``type`` says what the units are ("char",
"wordpiece" or "phone"; a phone model's ``lexicon`` maps words to phones, a line ``word<TAB>P H O N E S`` each).
Inputs must be at least one analysis window (25 ms) long.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import torch
from torch import nn

from .model import CTCModel
from .text import tokenizer_from_state


def quantize_int8(model: CTCModel) -> nn.Module:
    """A copy of ``model`` (eval mode) with int8 RNN and linear layers, for CPU inference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the eager-mode quantisation API warns that it is moving to torchao
        return torch.ao.quantization.quantize_dynamic(model.eval(), {nn.LSTM, nn.GRU, nn.Linear}, dtype=torch.qint8)


def export_torchscript(model: nn.Module, path: str | Path, tokenizer: dict, seconds: float = 2.0) -> None:
    """Trace ``model`` on a batch of two example inputs of different lengths; save it with the tokenizer's state
    (``Tokenizer.state_dict()``) to ``path``.

    Read the tokens back with ``files = {"tokens.json": ""}; torch.jit.load(path, _extra_files=files)``.
    """
    n = int(16000 * seconds)
    wav = torch.randn(2, n) * 0.1
    lens = torch.tensor([n, n * 3 // 4])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
        traced = torch.jit.trace(model.eval(), (wav, lens), check_trace=False)
    state = tokenizer | {"tokens": tokenizer.get("tokens") or tokenizer_from_state(tokenizer).tokens}
    traced.save(
        str(path), _extra_files={"tokens.json": json.dumps(state["tokens"]), "tokenizer.json": json.dumps(state)}
    )
