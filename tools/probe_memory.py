"""Memory probe: how large a batch (seconds of audio) fits for a config, before a long run finds out the hard way.

For each candidate ``max_batch_seconds`` (smallest first) it builds the *worst* batch the trainer could draw — the
longest utterances of the manifest, padded to the longest — and runs one forward + CTC + backward + optimizer step
with the config's autocast. It prints the peak memory of each (CUDA: peak allocated; CPU: the process's peak RSS),
and the largest candidate under ``--budget-gb`` (default: 90% of the GPU, or 70% of RAM on CPU).

    python tools/probe_memory.py --config conf/librispeech_960h.yaml --manifest data/train.jsonl --device cuda
    python tools/probe_memory.py --config conf/default.yaml --manifest exp/synth/data/train.jsonl
"""

from __future__ import annotations

import argparse
import os
import resource

import torch

from asr.config import load_config
from asr.data import AsrDataset, collate, read_manifest
from asr.model import build_model, ctc_loss
from asr.text import CharTokenizer


def peak_gb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True)
    p.add_argument("--manifest", required=True)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seconds", default="40,80,160,320,640,1280,2560", help="candidate batch sizes (s of audio)")
    p.add_argument("--budget-gb", type=float, default=0.0)
    p.add_argument("overrides", nargs="*", metavar="section.key=value")
    args = p.parse_args()
    cfg = load_config(args.config, args.overrides)
    device = torch.device(args.device)
    if args.budget_gb:
        budget = args.budget_gb
    elif device.type == "cuda":
        budget = 0.9 * torch.cuda.get_device_properties(device).total_memory / 2**30
    else:
        budget = 0.7 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    tok = CharTokenizer()
    utts = sorted(
        (u for u in read_manifest(args.manifest) if u.duration <= cfg.train.max_duration), key=lambda u: -u.duration
    )
    ds = AsrDataset(utts, tok)
    model = build_model(cfg, len(tok)).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    use_amp = cfg.train.amp == "bf16" or (cfg.train.amp == "auto" and device.type == "cuda")
    print(
        f"{cfg.model.layers} x {cfg.model.hidden} {cfg.model.rnn_type}, amp {'bf16' if use_amp else 'off'}, "
        f"{device}, budget {budget:.1f} GB; longest utterance {utts[0].duration:.1f} s"
    )
    print(f"{'batch s':>8} {'utts':>5} {'padded s':>9} {'peak GB':>8}")
    best = None
    for secs in (float(s) for s in args.seconds.split(",")):
        n = max(1, min(cfg.train.max_batch_size, int(secs // utts[0].duration)))
        if n > len(utts):
            break
        batch = collate([ds[i] for i in range(n)])
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        try:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                lp, lens = model(batch["wav"].to(device), batch["wav_lens"].to(device))
            loss = ctc_loss(lp, lens, batch["targets"].to(device), batch["target_lens"].to(device), blank=0).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        except torch.OutOfMemoryError:
            print(f"{secs:8.0f} {n:5d} {'':>9} out of memory")
            break
        gb = peak_gb(device)
        padded = n * batch["wav"].shape[1] / 16000
        print(f"{secs:8.0f} {n:5d} {padded:9.0f} {gb:8.2f}")
        if gb > budget:
            break
        best = secs
    print(f"largest safe train.max_batch_seconds: {best:g}" if best else "even the smallest candidate does not fit")


if __name__ == "__main__":
    main()
