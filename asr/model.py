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

import numpy as np
import torch
from torch import nn

from .config import FeatureConfig, ModelConfig
from .errors import UsageError
from .features import GlobalCMVN, LogMel, SpecAugment, VoiceAugment, num_frames

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

    def chunked(self, chunk: float, right_context: float = 0.0) -> ChunkedForward:
        """This model's forward pass for one utterance whose audio arrives in pieces (streaming): ``chunk`` seconds
        of output per step, each with ``right_context`` seconds of look-ahead for a bidirectional model."""
        return ChunkedForward(self, chunk, right_context)

    @property
    def frame_shift(self) -> float:
        """Seconds per output frame."""
        return self.feat_cfg.hop_ms / 1000 * self.cfg.subsample_factor


class ChunkedForward:
    """The model's forward pass, chunk by chunk, for one utterance. ``accept`` (N,) samples → new log-probs (T, V).

    Only the model's own methods are used: :meth:`CTCModel.features` on each new run of whole feature frames,
    :meth:`CTCModel.subsample` on whole stacking groups, :meth:`CTCModel.encode` on each chunk with its look-ahead.
    """

    def __init__(self, model: CTCModel, chunk: float, right_context: float) -> None:
        if model.cfg.subsampling != "stack":
            raise UsageError("streaming needs a model with frame stacking (model.subsampling: stack)")
        self.model = model
        self.factor = model.cfg.subsample_factor
        self.chunk = max(1, round(chunk / model.frame_shift))  # output frames per step
        self.right = round(right_context / model.frame_shift) if model.cfg.bidirectional else 0
        self.win, self.hop = model.logmel.win, model.logmel.hop
        self.device = model.cmvn.mean.device
        self.samples = np.zeros(0, np.float32)  # not yet turned into feature frames
        self.feats = torch.zeros(0, model.feat_cfg.n_mels, device=self.device)  # normalised frames not yet stacked
        self.stacked = torch.zeros(0, model.subsample.out_dim, device=self.device)  # stacked, not yet through the RNN
        self.states: list | None = None  # the model's per-layer states after the last chunk

    @torch.no_grad()
    def accept(self, audio: np.ndarray) -> torch.Tensor:
        self.samples = np.concatenate([self.samples, audio.astype(np.float32, copy=False)])
        n = num_frames(len(self.samples), self.win, self.hop) if len(self.samples) >= self.win else 0
        if n:
            wav = torch.from_numpy(self.samples[: (n - 1) * self.hop + self.win]).unsqueeze(0).to(self.device)
            feats, _ = self.model.features(wav, torch.tensor([wav.shape[1]], device=self.device))
            self.feats = torch.cat([self.feats, feats[0]])
            self.samples = self.samples[n * self.hop :]
        return self._run(final=False)

    @torch.no_grad()
    def flush(self) -> torch.Tensor:
        """The log-probs of everything left (the last stacking group zero-padded, as offline)."""
        return self._run(final=True)

    def _run(self, final: bool) -> torch.Tensor:
        groups = len(self.feats) // self.factor
        if final and len(self.feats) % self.factor:
            groups += 1
        if groups:
            take = self.feats[: groups * self.factor]
            stacked, _ = self.model.subsample(take.unsqueeze(0), torch.tensor([len(take)], device=self.device))
            self.stacked = torch.cat([self.stacked, stacked[0]])
            self.feats = self.feats[groups * self.factor :]
        outs = []
        while len(self.stacked) >= self.chunk + self.right or (final and len(self.stacked)):
            c = min(self.chunk, len(self.stacked))
            x = self.stacked[: c + self.right].unsqueeze(0)
            log_probs, _, self.states = self.model.encode(
                x, torch.tensor([x.shape[1]], device=self.device), self.states, commit=c
            )
            outs.append(log_probs[0].cpu())
            self.stacked = self.stacked[c:]
        if not outs:
            return torch.zeros(0, self.model.vocab_size)
        return torch.cat(outs)


def build_model(cfg, vocab_size: int) -> CTCModel:
    """Build a :class:`CTCModel` from an ``ExperimentConfig``."""
    return CTCModel(cfg.model, cfg.features, vocab_size)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def resolve_device(name: str) -> torch.device:
    """ "auto" (CUDA when there is a GPU, else the CPU), "cpu", "cuda" or "cuda:N" → a device; a one-line
    UsageError when CUDA is asked for and absent."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"device '{name}' requested but CUDA is not available")
    return dev


def ctc_loss(
    log_probs: torch.Tensor, lens: torch.Tensor, targets: torch.Tensor, target_lens: torch.Tensor, blank: int
) -> torch.Tensor:
    """The training objective: CTC loss per utterance divided by its target length, (B,) (``.mean()`` is
    PyTorch's ``reduction="mean"``). log_probs (B, T, V) as the model gives them, lens (B,); targets (B, S)
    padded, target_lens (B,). Computed in float32; an impossible alignment counts zero, not infinity."""
    loss = nn.functional.ctc_loss(
        log_probs.float().transpose(0, 1),
        targets,
        lens,
        target_lens,
        blank=blank,
        reduction="none",
        zero_infinity=True,
    )
    return loss / target_lens.clamp(min=1)
