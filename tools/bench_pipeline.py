"""The training input pipeline against the network, per core: seconds of audio a second for each stage.

Reads ``--clips`` utterances spread over a training manifest and times, on one thread: decoding and resampling
(``load_audio``), the whole dataset item with ``--config``'s augmentation (speed, telephone band, rooms, noise, level,
hum, conditioning), and the log-mel front end with its training augmentation. Compare with the network's own speed
(the ``s audio/s`` of a training log, or ``tools/bench_amp.py``): when every stage here is several times faster,
the cores spend their time on the network.

    python tools/bench_pipeline.py --manifest exp/real/data/real/train.jsonl --config conf/phones.yaml
"""

from __future__ import annotations

import argparse
import time

import torch

from asr.audio import load_audio
from asr.config import load_config
from asr.data import AsrDataset, ChannelOptions, read_manifest
from asr.model import build_model
from asr.text import CharTokenizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True)
    p.add_argument("--config", default="conf/default.yaml")
    p.add_argument("--clips", type=int, default=120)
    args = p.parse_args()
    torch.set_num_threads(1)
    cfg = load_config(args.config)
    utts = read_manifest(args.manifest)
    utts = utts[:: max(1, len(utts) // args.clips)][: args.clips]
    audio_s = sum(u.duration for u in utts)
    t = time.perf_counter()
    for u in utts:
        load_audio(u.audio)
    print(f"decode + resample       {audio_s / (time.perf_counter() - t):8.0f} s of audio a second")
    tc = cfg.train
    channel = ChannelOptions(tc.reverb_prob, tc.noise_prob, tc.lowpass_prob, tc.gain_prob, tc.hum_prob)
    ds = AsrDataset(utts, CharTokenizer(), tc.speed_perturb, tc.narrowband_prob, tc.seed, channel)
    t = time.perf_counter()
    for i in range(len(utts)):
        ds[i]
    print(f"dataset item (augmented) {audio_s / (time.perf_counter() - t):7.0f} s of audio a second")
    model = build_model(cfg, 29).train()
    wav, lens = torch.randn(8, 16000 * 10) * 0.1, torch.full((8,), 160000)
    t = time.perf_counter()
    with torch.no_grad():
        for _ in range(3):
            model.features(wav, lens)
    print(f"log-mel + augmentation  {240 / (time.perf_counter() - t):8.0f} s of audio a second")


if __name__ == "__main__":
    main()
