"""Feature extraction: the model's log-mel front end (torch.stft, batched) versus librosa, on the same audio.

Both compute 80 slaney mel bands over 25 ms windows every 10 ms (no centre padding), then the natural log. Prints
the time of each, the speed ratio, and the largest difference between their features (they should agree).

    python tools/bench_features.py --manifest exp/synth/data/dev.jsonl --num 300
"""

from __future__ import annotations

import argparse
import time

import librosa
import numpy as np
import torch

from asr.audio import load_audio
from asr.config import FeatureConfig
from asr.data import read_manifest
from asr.features import LOG_FLOOR, LogMel


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True)
    p.add_argument("--num", type=int, default=300)
    p.add_argument("--batch", type=int, default=16, help="utterances per batch for ours")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    audios = [load_audio(u.audio) for u in read_manifest(args.manifest)[: args.num]]
    seconds = sum(len(a) for a in audios) / 16000
    logmel = LogMel(FeatureConfig())

    def librosa_feats(a: np.ndarray) -> np.ndarray:
        m = librosa.feature.melspectrogram(
            y=a,
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
        return np.log(np.maximum(m, LOG_FLOOR)).T

    def ours(batch: list[np.ndarray]) -> list[np.ndarray]:
        lens = torch.tensor([len(a) for a in batch])
        wav = torch.nn.utils.rnn.pad_sequence([torch.from_numpy(a) for a in batch], batch_first=True)
        with torch.no_grad():
            feats, flens = logmel(wav, lens)
        return [feats[i, : int(flens[i])].numpy() for i in range(len(batch))]

    order = sorted(range(len(audios)), key=lambda i: len(audios[i]))  # batches of similar length, as in training
    batches = [[audios[i] for i in order[k : k + args.batch]] for k in range(0, len(order), args.batch)]
    ours(batches[0]), librosa_feats(audios[0])  # warm-up
    t0 = time.perf_counter()
    mine = [f for b in batches for f in ours(b)]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    ref = [librosa_feats(audios[i]) for i in order]
    t_ref = time.perf_counter() - t0
    diff = max(float(np.abs(a - b).max()) for a, b in zip(mine, ref))
    print(f"{len(audios)} utterances, {seconds / 60:.1f} min of audio, {args.threads} thread(s)")
    print(f"{'extractor':<30} {'seconds':>8} {'x real time':>12}")
    print(f"{'librosa (per utterance)':<30} {t_ref:8.3f} {seconds / t_ref:12.0f}")
    print(f"{'asr LogMel (batch ' + str(args.batch) + ')':<30} {t_ours:8.3f} {seconds / t_ours:12.0f}")
    print(f"speed-up {t_ref / t_ours:.1f}x; largest |difference| of log-mel values {diff:.2e}")


if __name__ == "__main__":
    main()
