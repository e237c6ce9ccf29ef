"""The high-pass and notch filters without scipy.signal: the same designs and outputs as SciPy's, in blocks or whole."""

import numpy as np
import pytest
from scipy import signal

from asr.audio import HIGHPASS_HZ, MAINS_HZ, SAMPLE_RATE, HighPass
from asr.iir import SosFilter, butter_highpass, notch


def _response(sos: np.ndarray) -> np.ndarray:
    return np.abs(signal.sosfreqz(sos, worN=2048, fs=SAMPLE_RATE)[1])


@pytest.mark.parametrize(("order", "hz"), [(8, HIGHPASS_HZ), (4, 300.0), (2, 1000.0)])
def test_butterworth_high_pass_matches_scipy(order, hz):
    ours = butter_highpass(order, hz, SAMPLE_RATE)
    theirs = signal.butter(order, hz, "highpass", fs=SAMPLE_RATE, output="sos")
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(_response(ours), _response(theirs), atol=1e-9)
    # the same poles, paired the same way up to order
    np.testing.assert_allclose(np.sort_complex(signal.sos2zpk(ours)[1]), np.sort_complex(signal.sos2zpk(theirs)[1]))


@pytest.mark.parametrize("hz", MAINS_HZ)
def test_notch_matches_scipy(hz):
    b, a = signal.iirnotch(hz, 2.0, fs=SAMPLE_RATE)
    np.testing.assert_allclose(notch(hz, 2.0, SAMPLE_RATE), [[*b, *a]], rtol=1e-12)


def test_block_filter_equals_sosfilt_whole_and_in_any_pieces():
    rng = np.random.default_rng(0)
    x = rng.normal(size=20_011) * 0.1 + 0.3  # a DC offset: the filter starts in its steady state, as SciPy's zi
    sos = np.concatenate([butter_highpass(8, HIGHPASS_HZ, SAMPLE_RATE), notch(50.0, 2.0, SAMPLE_RATE)])
    expected, _ = signal.sosfilt(sos, x, zi=signal.sosfilt_zi(sos) * x[0])
    np.testing.assert_allclose(SosFilter(sos)(x), expected, atol=1e-10)
    pieces = SosFilter(sos)
    cuts = np.cumsum(rng.integers(0, 700, size=60))
    cuts = cuts[cuts < len(x)]
    out = np.concatenate([pieces(p) for p in np.split(x, cuts)])  # empty pieces and pieces shorter than a block too
    np.testing.assert_allclose(out, expected, atol=1e-10)


def _amplitude(x: np.ndarray, hz: float) -> float:
    t = np.arange(len(x)) / SAMPLE_RATE
    basis = np.stack([np.sin(2 * np.pi * hz * t), np.cos(2 * np.pi * hz * t)], axis=1)
    return float(np.hypot(*np.linalg.lstsq(basis, x, rcond=None)[0]))


def test_high_pass_removes_hum_and_keeps_the_speech_band():
    t = np.arange(SAMPLE_RATE * 2) / SAMPLE_RATE
    x = 0.3 * np.sin(2 * np.pi * 60 * t) + 0.1 * np.sin(2 * np.pi * 1000 * t) + 0.2  # hum, a tone, DC
    out = HighPass()(x.astype(np.float32))
    assert out.dtype == np.float32
    steady = out[SAMPLE_RATE:].astype(np.float64)  # after the start-up transient
    assert 20 * np.log10(_amplitude(steady, 60.0) / 0.3) < -80
    assert abs(_amplitude(steady, 1000.0) - 0.1) < 1e-3
    assert abs(steady.mean()) < 1e-4
