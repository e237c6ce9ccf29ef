"""Training throughput: ``asr train``'s loop versus a naive reference loop, same data and model size, same run.

- **asr**: ``asr.train.train`` itself with ``--config`` (duration-bucketed batches, 4x frame stacking, padding-
  invariant RNN layers, bf16 autocast as configured) for ``--steps`` steps; speed from its own log.
- **naive**: what a first implementation does: random (unsorted) batches with the same mean seconds per batch, padded
  to the longest, log-mel at 100 frames/s (no subsampling), one ``nn.LSTM(bidirectional=True)`` stack of the same
  layers and width, float32, CTC loss, AdamW.

Both print seconds of audio trained per wall-clock second. Then the model's arithmetic (multiply-adds of the RNN
and output layers, forward + backward ≈ 3x forward) is compared with this machine's measured matmul peak.

    python tools/bench_train.py --manifest exp/synth/data/train.jsonl --config conf/default.yaml --steps 30
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from asr.config import load_config
from asr.data import AsrDataset, collate, read_manifest
from asr.features import LogMel
from asr.text import CharTokenizer
from asr.train import train


def naive_loop(utts, cfg, steps: int, batch_size: int, threads: int) -> float:
    """Seconds of audio per second for the reference loop."""
    torch.set_num_threads(threads)
    tok = CharTokenizer()
    logmel = LogMel(cfg.features)
    mc = cfg.model
    rnn_cls = nn.LSTM if mc.rnn_type == "lstm" else nn.GRU
    rnn = rnn_cls(cfg.features.n_mels, mc.hidden, num_layers=mc.layers, bidirectional=True, batch_first=True)
    out = nn.Linear(2 * mc.hidden, len(tok))
    params = list(rnn.parameters()) + list(out.parameters())
    opt = torch.optim.AdamW(params, lr=1e-3)
    ds = AsrDataset(utts, tok)
    rng = random.Random(0)
    audio, t0 = 0.0, None
    for step in range(steps + 2):
        if step == 2:  # the first steps warm up the allocator and kernels
            audio, t0 = 0.0, time.perf_counter()
        batch = collate([ds[i] for i in rng.sample(range(len(ds)), batch_size)])
        feats, lens = logmel(batch["wav"], batch["wav_lens"])
        y, _ = rnn(feats)
        lp = out(y).log_softmax(-1)
        loss = nn.functional.ctc_loss(
            lp.transpose(0, 1), batch["targets"], lens, batch["target_lens"], zero_infinity=True
        )
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 5.0)
        opt.step()
        audio += float(batch["wav_lens"].sum()) / 16000
    return audio / (time.perf_counter() - t0)


def matmul_peak(threads: int, dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    """Measured GFLOP/s of an n×n matmul."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    t0 = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def model_gflop_per_audio_second(cfg, vocab: int = 29) -> float:
    """Training arithmetic per second of audio for our model (RNN + output layer; forward + backward = 3x)."""
    mc = cfg.model
    fps = 1000 / cfg.features.hop_ms / mc.subsample_factor
    dirs = 2 if mc.bidirectional else 1
    d_in = cfg.features.n_mels * mc.subsample_factor
    flops = 0.0
    gates = 4 if mc.rnn_type == "lstm" else 3
    for _ in range(mc.layers):
        flops += dirs * 2 * gates * mc.hidden * (d_in + mc.hidden)
        d_in = mc.hidden * dirs
    flops += 2 * d_in * vocab
    return 3 * flops * fps / 1e9


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True, help="training utterances")
    p.add_argument("--config", default="conf/default.yaml")
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--naive-steps", type=int, default=5, help="the naive loop is slow: fewer steps (after 2 warm-up)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    cfg = load_config(
        args.config,
        [
            f"train.threads={args.threads}",
            f"train.max_steps={args.steps}",
            "train.valid_every=100000",
            "train.save_every=100000",
            "train.log_every=5",
        ],
    )
    utts = [u for u in read_manifest(args.manifest) if u.duration <= cfg.train.max_duration]
    mean_dur = sum(u.duration for u in utts) / len(utts)
    with tempfile.TemporaryDirectory() as tmp:
        valid = Path(tmp) / "valid.jsonl"
        valid.write_text("".join(json.dumps(dataclasses.asdict(u)) + "\n" for u in utts[:8]))
        train(cfg, args.manifest, valid, Path(tmp) / "exp")
        logs = [json.loads(x) for x in (Path(tmp) / "exp" / "metrics.jsonl").read_text().splitlines()]
    ours = [h for h in logs if h.get("kind") == "train"][-1]["audio_per_s"]
    batch_size = max(1, round(cfg.train.max_batch_seconds / mean_dur))
    naive = naive_loop(utts, cfg, args.naive_steps, batch_size, args.threads)
    print(
        f"model {cfg.model.layers} x {cfg.model.hidden} {'Bi' if cfg.model.bidirectional else ''}"
        f"{cfg.model.rnn_type.upper()}, {args.threads} threads, {args.steps} steps (naive: {args.naive_steps}), batches of "
        f"~{cfg.train.max_batch_seconds:g} s"
    )
    print(f"{'loop':<52} {'audio s/s':>10}")
    print(f"{'naive (unsorted, padded, 100 fps, fp32)':<52} {naive:10.1f}")
    print(f"{'asr train (' + args.config + ', amp ' + cfg.train.amp + ')':<52} {ours:10.1f}")
    print(f"speed-up {ours / naive:.2f}x")
    need = model_gflop_per_audio_second(cfg)
    for dtype in (torch.float32, torch.bfloat16):
        peak = matmul_peak(args.threads, dtype)
        print(
            f"matmul peak {str(dtype).split('.')[-1]:<8} {peak:7.1f} GFLOP/s; asr train uses {need * ours:6.1f} "
            f"GFLOP/s ({need:.2f} GFLOP per audio second) = {100 * need * ours / peak:.0f}% of it"
        )


if __name__ == "__main__":
    main()
