"""``asr`` with every utterance's frequency axis warped by one fixed factor at inference, as training's vocal-tract
perturbation (:class:`asr.features.VoiceAugment`) does with a random one. The devlog's kathleen playback table:

    ALPHA=1.08 python experiments/fixed_warp.py evaluate --manifest KAT300 --out X --speeds 1
    ALPHA=1.111 python experiments/fixed_warp.py evaluate --manifest KAT300 --out X --speeds 0.9   # formants back up
"""

import os
import sys

import torch

import asr.features
from asr.cli import main


def warped(self: asr.features.VoiceAugment, feats: torch.Tensor) -> torch.Tensor:
    """(B, T, F) log-mel → the same with bin m read at frequency ``centre[m] / ALPHA`` (linear between bins)."""
    alpha = float(os.environ["ALPHA"])
    B, T, F = feats.shape
    src_hz = (self.centres / alpha).expand(B, F).contiguous()
    hi = torch.searchsorted(self.centres, src_hz).clamp(1, F - 1)
    lo = hi - 1
    frac = ((src_hz - self.centres[lo]) / (self.centres[hi] - self.centres[lo])).clamp(0, 1).unsqueeze(1)
    at = lambda idx: torch.gather(feats, 2, idx.unsqueeze(1).expand(B, T, F))  # noqa: E731
    return at(lo) * (1 - frac) + at(hi) * frac


if __name__ == "__main__":
    asr.features.VoiceAugment.forward = warped
    sys.exit(main(sys.argv[1:]))
