"""Acoustic front end, owned by the model: log-mel, global CMVN, voice augmentation, SpecAugment.

Frames are computed without centre padding, so frame ``t`` covers samples ``[t*hop, t*hop + win)`` and depends only on the
utterance itself: a padded batch gives the same features as each utterance alone, and streaming gives the same frames as
offline processing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from torch import nn

from .audio import SAMPLE_RATE
from .config import FeatureConfig
from .options import CMVN_MAX_UTTS

LOG_FLOOR = 1e-10  # power floor before the log


def num_frames(num_samples: torch.Tensor | int, win: int, hop: int) -> torch.Tensor | int:
    """Frames produced from ``num_samples`` samples (at least one; shorter inputs are zero-padded to ``win``)."""
    if isinstance(num_samples, torch.Tensor):
        return torch.clamp(num_samples - win, min=0) // hop + 1
    return max(num_samples - win, 0) // hop + 1


def hz_to_mel(hz: torch.Tensor) -> torch.Tensor:
    """Slaney's mel scale: linear below 1 kHz (3 mels per 200 Hz), logarithmic above (27 mels per factor 6.4)."""
    lin = hz / (200 / 3)
    return torch.where(hz < 1000, lin, 15 + torch.log(hz.clamp(min=1e-10) / 1000) * (27 / math.log(6.4)))


def mel_to_hz(mel: torch.Tensor) -> torch.Tensor:
    """The inverse of :func:`hz_to_mel`."""
    return torch.where(mel < 15, mel * (200 / 3), 1000 * torch.exp((mel - 15) * (math.log(6.4) / 27)))


def mel_filterbank(n_freqs: int, n_mels: int, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """(n_freqs, n_mels) triangular filters on Slaney's mel scale from 0 Hz to Nyquist, each of unit area
    (Slaney normalisation), for a one-sided power spectrum of ``n_freqs`` bins."""
    freqs = torch.linspace(0, sample_rate // 2, n_freqs)
    edges = mel_to_hz(torch.linspace(0.0, float(hz_to_mel(torch.tensor(sample_rate / 2.0))), n_mels + 2))
    widths = edges[1:] - edges[:-1]  # (n_mels + 1,)
    slopes = edges.unsqueeze(0) - freqs.unsqueeze(1)  # (n_freqs, n_mels + 2)
    rising, falling = -slopes[:, :-2] / widths[:-1], slopes[:, 2:] / widths[1:]
    fb = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return fb * (2.0 / (edges[2:] - edges[:-2]))


class LogMel(nn.Module):
    """Log-mel filterbank energies: Hann-windowed power spectra (no centre padding) through :func:`mel_filterbank`.

    Input (B, N) float waveforms at 16 kHz and (B,) sample counts; output (B, T, n_mels) and (B,) frame counts,
    ``T = (N - win) // hop + 1``. Computed in float32 whatever the autocast state.
    """

    def __init__(self, cfg: FeatureConfig) -> None:
        super().__init__()
        self.win = int(SAMPLE_RATE * cfg.win_ms / 1000)
        self.hop = int(SAMPLE_RATE * cfg.hop_ms / 1000)
        self.n_mels = cfg.n_mels
        self.register_buffer("window", torch.hann_window(self.win))  # (win,)
        self.register_buffer("fb", mel_filterbank(self.win // 2 + 1, cfg.n_mels))  # (win // 2 + 1, n_mels)

    def forward(self, wav: torch.Tensor, wav_lens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if wav.shape[1] < self.win:
            wav = nn.functional.pad(wav, (0, self.win - wav.shape[1]))
        with torch.autocast(wav.device.type, enabled=False):
            spec = torch.stft(
                wav.float(), self.win, self.hop, window=self.window, center=False, onesided=True, return_complex=True
            )  # (B, win // 2 + 1, T)
            power = spec.abs().pow(2.0).transpose(1, 2)  # (B, T, win // 2 + 1)
            feats = torch.log(torch.matmul(power, self.fb).clamp(min=LOG_FLOOR))
        return feats, num_frames(wav_lens, self.win, self.hop)

    def centres_hz(self) -> torch.Tensor:
        """(n_mels,) centre frequency of each mel filter (its weighted mean frequency)."""
        freqs = torch.linspace(0, SAMPLE_RATE / 2, self.fb.shape[0])
        return (self.fb * freqs.unsqueeze(1)).sum(0) / self.fb.sum(0)


class GlobalCMVN(nn.Module):
    """Normalise features with mean and inverse std over the whole training set (stored as buffers).

    (B, T, F) → (B, T, F).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("istd", torch.ones(dim))

    def set_stats(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        self.mean.copy_(mean)
        self.istd.copy_(1.0 / std.clamp(min=1e-5))

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        return (feats - self.mean) * self.istd


class SpecAugment(nn.Module):
    """Frequency and time masking (set to 0, the global mean after CMVN). Active in training mode only.

    (B, T, F) features and (B,) lengths → (B, T, F).
    """

    def __init__(self, cfg: FeatureConfig) -> None:
        super().__init__()
        self.freq_masks, self.freq_width = cfg.freq_masks, cfg.freq_width
        self.time_masks, self.time_width = cfg.time_masks, cfg.time_width

    def forward(self, feats: torch.Tensor, lens: torch.Tensor) -> torch.Tensor:
        if not self.training or (self.freq_masks == 0 and self.time_masks == 0):
            return feats
        B, T, F = feats.shape
        dev = feats.device
        keep = torch.ones(B, T, F, dtype=torch.bool, device=dev)
        f_idx = torch.arange(F, device=dev)
        t_idx = torch.arange(T, device=dev)
        for _ in range(self.freq_masks):
            w = torch.randint(0, self.freq_width + 1, (B, 1), device=dev)
            f0 = (torch.rand(B, 1, device=dev) * (F - w)).long()
            keep &= ~((f_idx >= f0) & (f_idx < f0 + w)).unsqueeze(1)
        max_w = (lens.to(dev).float() * self.time_width).long().unsqueeze(1)
        for _ in range(self.time_masks):
            w = (torch.rand(B, 1, device=dev) * (max_w + 1).float()).long()
            t0 = (torch.rand(B, 1, device=dev) * (lens.to(dev).unsqueeze(1) - w).clamp(min=0).float()).long()
            keep &= ~((t_idx >= t0) & (t_idx < t0 + w)).unsqueeze(2)
        return feats * keep


class VoiceAugment(nn.Module):
    """Make each training utterance sound like another voice: warp its frequency axis and reshape its spectral envelope.

    - Warp (vocal tract length perturbation): bin ``m`` takes the log-mel value at frequency ``centre[m] / alpha``,
      ``alpha`` uniform in ``[1 - warp, 1 + warp]`` per utterance, interpolated between neighbouring bins.
    - Envelope: three Gaussian bumps (random centre, width 4-16 bins, gain within +-eq_db dB) plus a linear tilt
      within +-eq_db dB from the lowest to the highest bin, added to the log power.
    - Microphone: the power response of a Butterworth high-pass, order 1-4, cutoff uniform in ``[0, highpass_hz]``,
      floored at ``-HIGHPASS_FLOOR_DB`` (real recordings keep a noise floor), added to the log power. Many microphones
      and recording chains cut the low frequencies that studio-like training audio keeps.

    Works on log-mel before CMVN and is active in training mode only. (B, T, F) → (B, T, F).
    """

    BUMPS = 3
    HIGHPASS_FLOOR_DB = 40.0

    def __init__(self, cfg: FeatureConfig, centres_hz: torch.Tensor) -> None:
        super().__init__()
        self.warp, self.eq_db, self.highpass_hz = cfg.warp, cfg.eq_db, cfg.highpass_hz
        self.register_buffer("centres", centres_hz.float(), persistent=False)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        if not self.training or (self.warp == 0 and self.eq_db == 0 and self.highpass_hz == 0):
            return feats
        B, T, F = feats.shape
        dev = feats.device
        if self.warp:
            alpha = 1 + self.warp * (2 * torch.rand(B, 1, device=dev) - 1)
            src_hz = self.centres.unsqueeze(0) / alpha  # (B, F): where each output bin reads from
            hi = torch.searchsorted(self.centres, src_hz.contiguous()).clamp(1, F - 1)
            lo = hi - 1
            frac = ((src_hz - self.centres[lo]) / (self.centres[hi] - self.centres[lo])).clamp(0, 1)
            frac = frac.unsqueeze(1)
            feats = (
                torch.gather(feats, 2, lo.unsqueeze(1).expand(B, T, F)) * (1 - frac)
                + torch.gather(feats, 2, hi.unsqueeze(1).expand(B, T, F)) * frac
            )
        env_db = torch.zeros(B, F, device=dev)  # the utterance's added envelope, in dB of power
        if self.eq_db:
            bins = torch.arange(F, device=dev, dtype=feats.dtype)
            centre = torch.rand(B, self.BUMPS, 1, device=dev) * F
            width = 4 + 12 * torch.rand(B, self.BUMPS, 1, device=dev)
            gain = self.eq_db * (2 * torch.rand(B, self.BUMPS, 1, device=dev) - 1)
            env_db += (gain * torch.exp(-0.5 * ((bins - centre) / width) ** 2)).sum(1)
            env_db += self.eq_db * (2 * torch.rand(B, 1, device=dev) - 1) * (bins / (F - 1) - 0.5)
        if self.highpass_hz:
            cutoff = self.highpass_hz * torch.rand(B, 1, device=dev)
            order = torch.randint(1, 5, (B, 1), device=dev)
            ratio = cutoff / self.centres.unsqueeze(0)  # (B, F)
            env_db += (-10 * torch.log10(1 + ratio ** (2 * order))).clamp(min=-self.HIGHPASS_FLOOR_DB)
        if self.eq_db or self.highpass_hz:
            feats = feats + (env_db * (math.log(10) / 10)).to(feats.dtype).unsqueeze(1)  # dB of power → natural log
        return feats


@torch.no_grad()
def compute_cmvn_stats(
    logmel: LogMel, waveforms: Iterable[torch.Tensor], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Mean and std of log-mel features over all frames of the given (N,) waveforms.

    Returns:
        mean (F,), std (F,), number of frames.
    """
    logmel = logmel.to(device)
    total = torch.zeros(logmel.n_mels, dtype=torch.float64, device=device)
    total_sq = torch.zeros_like(total)
    count = 0
    for wav in waveforms:
        wav = wav.to(device).unsqueeze(0)
        feats, _ = logmel(wav, torch.tensor([wav.shape[1]], device=device))
        f = feats[0].double()
        total += f.sum(0)
        total_sq += (f * f).sum(0)
        count += f.shape[0]
    if count == 0:
        raise ValueError("no frames to compute CMVN statistics from")
    mean = total / count
    var = (total_sq / count - mean * mean).clamp(min=1e-10)
    return mean.float().cpu(), var.sqrt().float().cpu(), count


def save_cmvn_stats(
    manifests: list[str], out: str, max_utts: int = CMVN_MAX_UTTS, seed: int = 0, cfg: FeatureConfig | None = None
) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Compute CMVN statistics over a random sample of the manifests' utterances and save them to ``out``."""
    import numpy as np

    from .audio import condition, load_audio
    from .data import read_manifest

    utts = [u for m in manifests for u in read_manifest(m)]
    pick = np.random.default_rng(seed).permutation(len(utts))[:max_utts]
    wavs = (torch.from_numpy(condition(load_audio(utts[int(i)].audio))) for i in pick)
    mean, std, frames = compute_cmvn_stats(LogMel(cfg or FeatureConfig()), wavs)
    from pathlib import Path

    Path(out).parent.mkdir(parents=True, exist_ok=True)
    torch.save({"mean": mean, "std": std, "frames": frames, "n_mels": len(mean)}, out)
    return mean, std, frames
