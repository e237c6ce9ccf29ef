import librosa
import numpy as np
import torch

from asr.config import FeatureConfig
from asr.features import LogMel, VoiceAugment, compute_cmvn_stats, mel_filterbank, num_frames


def test_frame_count_formula():
    assert num_frames(400, 400, 160) == 1
    assert num_frames(16000, 400, 160) == 98
    assert num_frames(100, 400, 160) == 1  # short input is padded to one window


def test_logmel_matches_librosa():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(8000) * 0.1).astype(np.float32)
    ours, n = LogMel(FeatureConfig())(torch.from_numpy(x)[None], torch.tensor([8000]))
    ref = librosa.feature.melspectrogram(
        y=x,
        sr=16000,
        n_fft=400,
        hop_length=160,
        win_length=400,
        center=False,
        n_mels=80,
        power=2.0,
        htk=False,
        norm="slaney",
    )
    ref = np.log(np.maximum(ref, 1e-10)).T
    assert ours.shape[1] == int(n[0]) == ref.shape[0]
    assert np.abs(ours[0].numpy() - ref).max() < 1e-2


def test_mel_filterbank_matches_librosa():
    ref = librosa.filters.mel(sr=16000, n_fft=400, n_mels=80, htk=False, norm="slaney").T  # (201, 80)
    ours = mel_filterbank(201, 80).numpy()
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < 1e-6 * np.abs(ref).max() * 100


def test_cmvn_stats_normalise():
    logmel = LogMel(FeatureConfig())
    wavs = [torch.randn(4000 * (i + 1)) * (i + 1) for i in range(4)]
    mean, std, count = compute_cmvn_stats(logmel, wavs)
    feats = torch.cat([logmel(w[None], torch.tensor([len(w)]))[0][0] for w in wavs])
    assert count == feats.shape[0]
    z = (feats - mean) / std
    assert z.mean(0).abs().max() < 1e-3 and (z.std(0) - 1).abs().max() < 1e-2


def test_voice_augment_warps_frequencies_and_reshapes_envelope():
    logmel = LogMel(FeatureConfig())
    centres = logmel.centres_hz()
    t = torch.arange(16000) / 16000
    feats, _ = logmel(torch.sin(2 * np.pi * 1000 * t)[None], torch.tensor([16000]))  # a 1 kHz tone
    feats = feats.expand(32, -1, -1).contiguous()
    warp = VoiceAugment(FeatureConfig(warp=0.2), centres).train()
    torch.manual_seed(0)
    peaks = centres[warp(feats).mean(1).argmax(1)]  # (32,) frequency of the loudest bin per utterance
    step = float((centres[1:] - centres[:-1]).max())
    assert peaks.min() >= 800 - step and peaks.max() <= 1200 + step
    assert (peaks < 930).any() and (peaks > 1070).any()  # moved both ways, not just blurred
    assert torch.equal(warp.eval()(feats), feats)  # training only

    eq = VoiceAugment(FeatureConfig(eq_db=6), centres).train()
    delta_db = (eq(feats) - feats) * 10 / np.log(10)  # (B, T, F), the same for every frame
    assert torch.allclose(delta_db, delta_db[:, :1], atol=1e-4)
    assert delta_db.abs().max() <= 3 * 6 + 6 / 2 + 1e-3 and delta_db.abs().amax((1, 2)).min() > 0.5
    assert delta_db[:, 0].diff(dim=1).abs().max() < 3  # smooth: under 3 dB between neighbouring bins


def test_voice_augment_highpass_cuts_low_frequencies_only():
    logmel = LogMel(FeatureConfig())
    centres = logmel.centres_hz()
    feats = torch.randn(64, 5, len(centres))
    hp = VoiceAugment(FeatureConfig(highpass_hz=400), centres).train()
    torch.manual_seed(0)
    delta_db = (hp(feats) - feats) * 10 / np.log(10)  # (B, T, F): the filter's power response per utterance
    assert torch.allclose(delta_db, delta_db[:, :1], atol=1e-4)
    gain = delta_db[:, 0]  # (B, F)
    assert gain.max() <= 1e-5 and gain.min() >= -VoiceAugment.HIGHPASS_FLOOR_DB - 1e-3
    assert (gain.diff(dim=1) >= -1e-4).all()  # rises with frequency
    assert gain[:, centres > 2000].min() > -0.2  # the speech band above 2 kHz is untouched
    low = gain[:, 1]  # the second bin, around 80 Hz
    assert low.min() < -30 and low.max() > -3  # some utterances lose their low end, some keep it
    assert torch.equal(hp.eval()(feats), feats)  # training only
