"""GPU training throughput of a config on synthetic batches: seconds of audio trained per second, and the 960 h
epoch time it implies. Data loading is left out (random waveforms, LibriSpeech-like lengths), so this is the
model's ceiling; run it on the machine in question:

    python tools/bench_gpu_train.py --config conf/librispeech_960h.yaml --steps 40
    python tools/bench_gpu_train.py --config conf/librispeech_960h.yaml --steps 40 train.compile=true
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from asr.config import load_config
from asr.model import build_model, ctc_loss

CHARS_PER_SECOND = 15  # LibriSpeech transcripts: about 15 characters per second of speech


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", default="conf/librispeech_960h.yaml")
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = p.parse_args()
    cfg = load_config(args.config, args.overrides)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    model = build_model(cfg, 29).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=device.type == "cuda")
    fwd = torch.compile(model) if cfg.train.compile else model
    use_amp = cfg.train.amp == "bf16" or (cfg.train.amp == "auto" and device.type == "cuda")
    rng = np.random.default_rng(0)

    def batch():
        dur = float(rng.uniform(10, 16))  # a duration bucket: every utterance of the batch about this long
        n = max(1, min(cfg.train.max_batch_size, int(cfg.train.max_batch_seconds // dur)))
        lens = torch.tensor((dur * rng.uniform(0.95, 1.0, n) * 16000).astype(np.int64))
        wav = torch.randn(n, int(lens.max())) * 0.1
        tlen = torch.tensor((lens.numpy() / 16000 * CHARS_PER_SECOND).astype(np.int64))
        targets = torch.randint(1, 29, (n, int(tlen.max())))
        return [t.to(device, non_blocking=True) for t in (wav, lens, targets, tlen)]

    audio, t0 = 0.0, 0.0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            if device.type == "cuda":
                torch.cuda.synchronize()
            audio, t0 = 0.0, time.perf_counter()
        wav, lens, targets, tlen = batch()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            lp, out_lens = fwd(wav, lens)
        loss = ctc_loss(lp, out_lens, targets, tlen, blank=0).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        audio += float(lens.sum()) / 16000
    if device.type == "cuda":
        torch.cuda.synchronize()
    speed = audio / (time.perf_counter() - t0)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    mem = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    print(
        f"{args.config} on {name}: {speed:,.0f} s of audio per second, 960 h epoch in {960 * 3600 / speed / 60:.1f} "
        f"min; batches of {cfg.train.max_batch_seconds:g} s, amp {'bf16' if use_amp else 'off'}, compile "
        f"{cfg.train.compile}, peak memory {mem:.1f} GB"
    )


if __name__ == "__main__":
    main()
