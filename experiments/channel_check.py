"""Compare the recording channel of FSDD speakers, and how a model copes with one speaker's channel put on another.

Prints each speaker's mean band energy (dB relative to the recording's mean power spectrum), then the greedy WER of
a model on the first ``--num`` recordings of two speakers as recorded and after a high-pass plus a 1.5-3.5 kHz boost.

    python experiments/channel_check.py --fsdd ../shared/data/fsdd --model asr/assets/default.pt
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import jiwer
import numpy as np
import scipy.signal as ss
import soundfile as sf
import torch

from asr.audio import SAMPLE_RATE, load_audio
from asr.checkpoint import load_checkpoint_model
from asr.decode import greedy_search

EDGES_HZ = [0, 125, 250, 500, 750, 1000, 1500, 2000, 2500, 3000, 3500, 4000]


def band_db(x: np.ndarray, sr: int) -> np.ndarray:
    """(len(EDGES_HZ) - 1,) mean power per band, in dB relative to the mean power over all frequencies."""
    power = np.abs(np.fft.rfft(x, n=8192)) ** 2
    freqs = np.fft.rfftfreq(8192, 1 / sr)
    bands = [power[(freqs >= lo) & (freqs < hi)].mean() for lo, hi in zip(EDGES_HZ, EDGES_HZ[1:])]
    return 10 * np.log10(np.array(bands) / power.mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fsdd", required=True, help="FSDD folder with manifest.jsonl")
    ap.add_argument("--model", default="asr/assets/default.pt")
    ap.add_argument("--speakers", nargs="+", default=["george", "nicolas"], help="speakers to decode")
    ap.add_argument("--num", type=int, default=150, help="recordings per decoded speaker")
    args = ap.parse_args()
    root = Path(args.fsdd)
    rows = [json.loads(line) for line in open(root / "manifest.jsonl")]

    bands = collections.defaultdict(list)
    for r in rows:
        x, sr = sf.read(root / r["audio"])
        bands[r["speaker"]].append(band_db(x, sr))
    print("band (Hz)  " + " ".join(f"{lo:>6d}" for lo in EDGES_HZ[:-1]))
    for spk, v in sorted(bands.items()):
        print(f"{spk:10s} " + " ".join(f"{m:6.1f}" for m in np.mean(v, 0)))

    torch.set_num_threads(1)
    model, tok, _ = load_checkpoint_model(args.model)
    model.eval()
    highpass = ss.butter(4, 200, "highpass", fs=SAMPLE_RATE, output="sos")
    presence = ss.butter(2, [1500, 3500], "bandpass", fs=SAMPLE_RATE, output="sos")

    def george_like(x: np.ndarray) -> np.ndarray:
        y = ss.sosfilt(highpass, x)
        return y + ss.sosfilt(presence, y)

    channels = {"as recorded": lambda x: x, "high-pass 200 Hz + 1.5-3.5 kHz boost": george_like}
    for spk in args.speakers:
        utts = [r for r in rows if r["speaker"] == spk][: args.num]
        for name, channel in channels.items():
            hyps = []
            for r in utts:
                x = torch.from_numpy(channel(load_audio(root / r["audio"])).astype(np.float32))
                with torch.no_grad():
                    log_probs, lens = model(x[None], torch.tensor([len(x)]))
                hyps.append(greedy_search(log_probs, lens, tok)[0].text or "-")
            wer = 100 * jiwer.wer([r["text"] for r in utts], hyps)
            print(f"{spk} {name}: WER {wer:.1f}% ({len(utts)} recordings)")


if __name__ == "__main__":
    main()
