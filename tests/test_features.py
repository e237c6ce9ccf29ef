import librosa
import numpy as np
import torch

from asr.config import FeatureConfig
from asr.features import LogMel, compute_cmvn_stats, num_frames


def test_frame_count_formula():
    assert num_frames(400, 400, 160) == 1
    assert num_frames(16000, 400, 160) == 98
    assert num_frames(100, 400, 160) == 1  # short input is padded to one window


def test_logmel_matches_librosa():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(8000) * 0.1).astype(np.float32)
    ours, n = LogMel(FeatureConfig())(torch.from_numpy(x)[None], torch.tensor([8000]))
    ref = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=400, hop_length=160, win_length=400, center=False,
                                         n_mels=80, power=2.0, htk=False, norm="slaney")
    ref = np.log(np.maximum(ref, 1e-10)).T
    assert ours.shape[1] == int(n[0]) == ref.shape[0]
    assert np.abs(ours[0].numpy() - ref).max() < 1e-2


def test_cmvn_stats_normalise():
    logmel = LogMel(FeatureConfig())
    wavs = [torch.randn(4000 * (i + 1)) * (i + 1) for i in range(4)]
    mean, std, count = compute_cmvn_stats(logmel, wavs)
    feats = torch.cat([logmel(w[None], torch.tensor([len(w)]))[0][0] for w in wavs])
    assert count == feats.shape[0]
    z = (feats - mean) / std
    assert z.mean(0).abs().max() < 1e-3 and (z.std(0) - 1).abs().max() < 1e-2
