"""IIR filters in second-order sections: Butterworth high-pass and notch design, and a block filter in NumPy.

What the audio conditioning (:class:`asr.audio.HighPass`) needs, without importing ``scipy.signal`` (0.6–0.9 s of
every command's start-up). Sections are rows ``[b0, b1, b2, 1, a1, a2]`` as in SciPy; the results equal
``scipy.signal.butter(..., output="sos")``, ``iirnotch`` and ``sosfilt`` to rounding (tests/test_iir.py).

The cascade runs as one state-space system, block by block: over ``L`` samples its output is a matrix product (the
first ``L`` samples of the impulse response as a Toeplitz matrix, plus what the state at the block's start
contributes), and the states at the blocks' starts come from a prefix scan, so no loop runs per sample in Python.
"""

from __future__ import annotations

import math

import numpy as np

BLOCK = 512  # samples per matrix product


def butter_highpass(order: int, cutoff_hz: float, fs: float) -> np.ndarray:
    """Digital Butterworth high-pass (bilinear transform, pre-warped cut-off). Even ``order`` → (order/2, 6) sections."""
    if order % 2 or order < 2:
        raise ValueError(f"order must be even and positive, got {order}")
    warped = 2 * fs * math.tan(math.pi * cutoff_hz / fs)  # analogue cut-off (rad/s) that maps to cutoff_hz
    m = np.arange(-order + 1, order, 2)
    prototype = -np.exp(1j * np.pi * m / (2 * order))  # low-pass poles on the unit circle, left half-plane
    analog = warped / prototype  # low-pass → high-pass; its zeros are all at s = 0, i.e. z = 1
    poles = (2 * fs + analog) / (2 * fs - analog)
    upper = poles[poles.imag > 0]  # one of each conjugate pair
    sos = np.zeros((len(upper), 6))
    for row, p in zip(sos, upper, strict=True):
        a1, a2 = -2 * p.real, abs(p) ** 2
        gain = (1 - a1 + a2) / 4  # unit gain at Nyquist (z = -1), where b = [1, -2, 1] gives 4
        row[:] = [gain, -2 * gain, gain, 1.0, a1, a2]
    return sos


def notch(freq_hz: float, q: float, fs: float) -> np.ndarray:
    """Second-order notch at ``freq_hz`` with quality ``q`` (-3 dB width freq_hz / q). → (1, 6) section."""
    w0 = 2 * math.pi * freq_hz / fs
    gain = 1 / (1 + math.tan(w0 / q / 2))
    c = -2 * math.cos(w0)
    return np.array([[gain, gain * c, gain, 1.0, gain * c, 2 * gain - 1]])


def _state_space(sos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A cascade of sections as one system ``y = C s + D x``, ``s' = A s + B x``; the state is every section's
    transposed-direct-form-II pair ``[z1, z2]`` in turn (a structured realisation, as well conditioned as the cascade)."""
    a, b, c, d = np.zeros((0, 0)), np.zeros(0), np.zeros(0), 1.0
    for b0, b1, b2, _, a1, a2 in np.asarray(sos, dtype=np.float64):
        ai, bi, ci = np.array([[-a1, 1.0], [-a2, 0.0]]), np.array([b1 - a1 * b0, b2 - a2 * b0]), np.array([1.0, 0.0])
        n = len(b)
        grown = np.zeros((n + 2, n + 2))
        grown[:n, :n], grown[n:, :n], grown[n:, n:] = a, np.outer(bi, c), ai  # this section is driven by the output
        a, b, c, d = grown, np.concatenate([b, bi * d]), np.concatenate([b0 * c, ci]), b0 * d
    return a, b, c, d


class SosFilter:
    """A cascade of second-order sections applied to a stream of blocks; the state is carried between calls, so
    filtering a signal in pieces of any length gives the samples filtering it whole gives. (N,) → (N,) float64.

    Over a block of ``n`` samples starting in state ``s``: ``y = T x + O s`` (T: the first ``n`` samples of the
    impulse response as a lower-triangular Toeplitz matrix; O: rows ``C A^k``) and ``s' = A^n s + G x`` (G: columns
    ``A^(n-1-m) B``).
    """

    def __init__(self, sos: np.ndarray, block: int = BLOCK) -> None:
        a, b, c, d = _state_space(sos)
        n = block
        powers = [np.eye(len(b))]
        for _ in range(n):
            powers.append(a @ powers[-1])
        self.powers = np.stack(powers)  # (n+1, d, d): A^k
        impulse = np.concatenate([[d], self.powers[:-1] @ b @ c])  # (n+1,): h[0] = D, h[k] = C A^(k-1) B
        lag = np.arange(n)[:, None] - np.arange(n)[None, :]
        self.toeplitz = np.where(lag >= 0, impulse[np.clip(lag, 0, n)], 0.0)  # (n, n)
        self.from_state = c @ self.powers[:n]  # (n, d)
        self.to_state = (self.powers[:n][::-1] @ b).T  # (d, n): column m is A^(n-1-m) B
        self.steady_per_unit = np.linalg.solve(np.eye(len(b)) - a, b)  # the state after a constant 1 forever
        self.state: np.ndarray | None = None
        self.n = n

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if len(x) == 0:
            return x
        if self.state is None:  # start in the steady state of the first sample: a DC offset makes no click
            self.state = self.steady_per_unit * x[0]
        n = self.n
        k, r = divmod(len(x), n)
        blocks = x[: k * n].reshape(k, n)
        # states[i + 1] = J states[i] + G blocks[i] with J = A^n, as a prefix scan in log2(k) steps (no Python loop)
        states = np.concatenate([self.state[None], blocks @ self.to_state.T])  # (k+1, d)
        jump, step = self.powers[n], 1
        while step <= k:
            states[step:] += states[:-step] @ jump.T
            jump, step = jump @ jump, step * 2
        y = np.empty(len(x))
        y[: k * n] = (blocks @ self.toeplitz.T + states[:k] @ self.from_state.T).ravel()
        tail, s = x[k * n :], states[k]
        if r:
            y[k * n :] = self.toeplitz[:r, :r] @ tail + self.from_state[:r] @ s
            s = self.powers[r] @ s + self.to_state[:, n - r :] @ tail
        self.state = s
        return y
