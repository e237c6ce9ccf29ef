"""The acoustic model: waveform → log-mel → CMVN → (SpecAugment) → subsampling → stacked Bi/Uni LSTM|GRU → log-probs.

How ``nn.LSTM`` computes one step (PyTorch's gate order in ``weight_ih``/``weight_hh`` is i, f, g, o)::

    i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)     input gate
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)     forget gate
    g_t = tanh   (W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)     cell candidate
    o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)     output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

``reference_lstm`` below is these equations written out; a test checks it reproduces ``nn.LSTM`` with the same
weights. It documents the model; the fast path is cuDNN / oneDNN through ``nn.LSTM``.

Padding: a bidirectional layer is two unidirectional RNNs. The forward one runs on the padded batch (its outputs before
an utterance's end never see the padding); the backward one runs on each utterance reversed *within its own length*,
so it starts at the utterance's last real frame. A padded batch therefore gives the same outputs as each utterance
alone, without packed sequences (whose backward pass is much slower on CPU than padded tensors; docs/benchmarks.md).
"""

from __future__ import annotations

import torch
from torch import nn

from .config import FeatureConfig, ModelConfig
from .features import GlobalCMVN, LogMel, SpecAugment, VoiceAugment

RNNS = {"lstm": nn.LSTM, "gru": nn.GRU}


def reference_lstm(
    x: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor,
    b_hh: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One unidirectional LSTM layer, step by step, from the equations in the module docstring.

    Args:
        x: (B, T, D) inputs; w_ih (4H, D); w_hh (4H, H); b_ih, b_hh (4H,); state: (h, c), each (B, H).
    Returns:
        outputs (B, T, H) and the final (h, c).
    """
    B, T, _ = x.shape
    H = w_hh.shape[1]
    h, c = state if state is not None else (x.new_zeros(B, H), x.new_zeros(B, H))
    outs = []
    for t in range(T):
        gates = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, g, o = gates.chunk(4, dim=1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        outs.append(h)
    return torch.stack(outs, dim=1), (h, c)


def reverse_padded(x: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of a padded batch within its own length; padding stays in place.

    (B, T, D) → (B, T, D). Applying it twice gives the input back.
    """
    B, T = x.shape[:2]
    t = torch.arange(T, device=x.device).unsqueeze(0)
    lens = lens.to(x.device).unsqueeze(1)
    idx = torch.where(t < lens, lens - 1 - t, t)
    return x.gather(1, idx.unsqueeze(2).expand_as(x))


def length_mask(lens: torch.Tensor, T: int) -> torch.Tensor:
    """(B,) lengths → (B, T) bool, True on real frames."""
    return torch.arange(T, device=lens.device).unsqueeze(0) < lens.unsqueeze(1)


class Subsampler(nn.Module):
    """Reduce the frame rate by ``factor``. (B, T, F), (B,) → (B, ceil(T/factor), out_dim), (B,).

    ``stack`` concatenates ``factor`` consecutive frames; ``conv`` is two 3×3 Conv2d layers with stride 2 and ReLU,
    then a linear layer. Frames past each length are zeroed so padding never leaks into real outputs.
    """

    def __init__(self, cfg: ModelConfig, n_mels: int) -> None:
        super().__init__()
        self.kind, self.factor = cfg.subsampling, cfg.subsample_factor
        if self.kind == "stack":
            self.out_dim = n_mels * self.factor
        else:
            ch = cfg.conv_channels
            self.conv1 = nn.Conv2d(1, ch, 3, stride=2, padding=1)
            self.conv2 = nn.Conv2d(ch, ch, 3, stride=2, padding=1)
            self.out_dim = cfg.hidden
            self.linear = nn.Linear(ch * ((n_mels + 3) // 4), self.out_dim)

    def out_lens(self, lens: torch.Tensor) -> torch.Tensor:
        if self.kind == "stack":
            return (lens + self.factor - 1) // self.factor
        return ((lens + 1) // 2 + 1) // 2

    def forward(self, x: torch.Tensor, lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x * length_mask(lens, x.shape[1]).unsqueeze(2)
        if self.kind == "stack":
            B, T, F = x.shape
            pad = (-T) % self.factor
            x = nn.functional.pad(x, (0, 0, 0, pad))
            return x.reshape(B, (T + pad) // self.factor, F * self.factor), self.out_lens(lens)
        half = (lens + 1) // 2
        y = torch.relu(self.conv1(x.unsqueeze(1)))  # (B, C, T/2, F/2)
        y = y * length_mask(half, y.shape[2])[:, None, :, None]
        y = torch.relu(self.conv2(y))  # (B, C, T/4, F/4)
        B, C, T4, F4 = y.shape
        return self.linear(y.permute(0, 2, 1, 3).reshape(B, T4, C * F4)), self.out_lens(lens)


class RNNLayer(nn.Module):
    """One (bi)directional LSTM/GRU layer over a padded batch. (B, T, D), (B,) → (B, T, H·dirs)."""

    def __init__(self, rnn_type: str, input_size: int, hidden: int, bidirectional: bool) -> None:
        super().__init__()
        rnn = RNNS[rnn_type]
        self.fwd = rnn(input_size, hidden, batch_first=True)
        self.bwd = rnn(input_size, hidden, batch_first=True) if bidirectional else None

    def forward(self, x: torch.Tensor, lens: torch.Tensor, state=None, commit: int | None = None):
        """Returns the outputs (B, T, H·dirs) and the forward direction's state after the first ``commit`` frames.

        ``state`` is the forward direction's state before ``x`` (None: zeros). With ``commit < T`` the frames after
        it are look-ahead: the forward direction runs on through them without keeping that state, and the backward
        direction, which always starts at each sequence's last frame, sees them (latency-controlled BLSTM).
        """
        T = x.shape[1]
        commit = T if commit is None else commit
        y, new_state = self.fwd(x[:, :commit], state)
        if commit < T:
            y = torch.cat([y, self.fwd(x[:, commit:], new_state)[0]], dim=1)
        if self.bwd is None:
            return y, new_state
        yb, _ = self.bwd(reverse_padded(x, lens))
        return torch.cat([y, reverse_padded(yb, lens)], dim=2), new_state


class CTCModel(nn.Module):
    """Waveform in, CTC log-probabilities out.

    ``forward(wav (B, N), wav_lens (B,)) → (log_probs (B, T', V) float32, out_lens (B,))`` with
    ``T' = ceil(((N - win) // hop + 1) / subsample_factor)``.
    """

    def __init__(self, model_cfg: ModelConfig, feat_cfg: FeatureConfig, vocab_size: int) -> None:
        super().__init__()
        self.cfg, self.feat_cfg, self.vocab_size = model_cfg, feat_cfg, vocab_size
        self.logmel = LogMel(feat_cfg)
        self.cmvn = GlobalCMVN(feat_cfg.n_mels)
        self.voiceaug = VoiceAugment(feat_cfg, self.logmel.centres_hz())
        self.specaug = SpecAugment(feat_cfg)
        self.subsample = Subsampler(model_cfg, feat_cfg.n_mels)
        dirs = 2 if model_cfg.bidirectional else 1
        layers, projs = [], []
        size = self.subsample.out_dim
        for _ in range(model_cfg.layers):
            layers.append(RNNLayer(model_cfg.rnn_type, size, model_cfg.hidden, model_cfg.bidirectional))
            size = model_cfg.hidden * dirs
            projs.append(nn.Linear(size, model_cfg.proj) if model_cfg.proj else nn.Identity())
            size = model_cfg.proj or size
        self.rnns = nn.ModuleList(layers)
        self.projs = nn.ModuleList(projs)
        self.dropout = nn.Dropout(model_cfg.dropout)
        self.output = nn.Linear(size, vocab_size)

    def features(self, wav: torch.Tensor, wav_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N), (B,) → normalised (and, in training, augmented) log-mel (B, T, F), (B,)."""
        feats, lens = self.logmel(wav, wav_lens)
        feats = self.specaug(self.cmvn(self.voiceaug(feats)), lens)
        return feats, lens

    def encode(
        self, x: torch.Tensor, lens: torch.Tensor, states: list | None = None, commit: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, list]:
        """The network after the front end; offline decoding and both kinds of streaming all run through it.

        Args:
            x: subsampled frames (B, T, D) from :meth:`subsample`; lens (B,) their lengths.
            states: per-layer forward-direction states from the previous chunk (None: the start of an utterance).
            commit: frames of this chunk (None: all of ``x``); the frames after it are look-ahead (LC-BLSTM).
        Returns:
            log-probs (B, commit, V) float32, their lengths (B,), and the per-layer states after ``commit`` frames.
        """
        commit = x.shape[1] if commit is None else commit
        new_states = []
        for i, (rnn, proj) in enumerate(zip(self.rnns, self.projs)):
            x = self.dropout(x) if i > 0 else x
            x, st = rnn(x, lens, states[i] if states is not None else None, commit)
            x = proj(x)
            new_states.append(st)
        logits = self.output(self.dropout(x[:, :commit]))
        return logits.float().log_softmax(dim=-1), lens.clamp(max=commit), new_states

    def forward(self, wav: torch.Tensor, wav_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        feats, lens = self.features(wav, wav_lens)
        log_probs, out_lens, _ = self.encode(*self.subsample(feats, lens))
        return log_probs, out_lens

    @property
    def frame_shift(self) -> float:
        """Seconds per output frame."""
        return self.feat_cfg.hop_ms / 1000 * self.cfg.subsample_factor


def build_model(cfg, vocab_size: int) -> CTCModel:
    """Build a :class:`CTCModel` from an ``ExperimentConfig``."""
    return CTCModel(cfg.model, cfg.features, vocab_size)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


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
