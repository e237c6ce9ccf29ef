"""Training speed in float32 against bf16 autocast, and which LSTM kernel runs, for one or more model sizes.

For each ``--size LAYERSxHIDDEN`` it runs ``asr train`` (the real loop: data loading, augmentation, features, CTC,
AdamW) for ``--steps`` steps with ``train.amp=off`` and, where this machine supports bf16, ``train.amp=bf16``,
alternating the two so that other load on the machine affects both alike, and prints seconds of audio trained per
second and the bf16/fp32 ratio. It also reports whether ``nn.LSTM`` on this CPU runs PyTorch's oneDNN (mkldnn)
kernel in each precision, read from the profiler's op names.

    python tools/bench_amp.py --manifest exp/real/data/real/train.jsonl --size 3x608 --size 4x384 --size 5x320
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import torch

from asr.config import load_config
from asr.data import read_manifest
from asr.quiet import silenced_stderr
from asr.train import train


def lstm_kernel(bf16: bool) -> str:
    """The op that carries nn.LSTM's forward on this CPU: oneDNN's (mkldnn_rnn_layer) or the generic loop."""
    lstm = torch.nn.LSTM(80, 64, batch_first=True)
    x = torch.randn(2, 20, 80)
    with silenced_stderr(), torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16), torch.no_grad():
            lstm(x)
    names = {e.key for e in prof.key_averages()}
    return "oneDNN (mkldnn_rnn_layer)" if any("mkldnn_rnn" in n for n in names) else "generic (aten::lstm cells)"


def speed(config: str, size: str, amp: str, manifest: str, steps: int, threads: int) -> float:
    layers, hidden = size.split("x")
    overrides = [f"model.layers={layers}", f"model.hidden={hidden}", f"train.amp={amp}", f"train.threads={threads}"]
    overrides += [f"train.max_steps={steps}", "train.valid_every=100000", "train.save_every=100000"]
    overrides += ["train.log_every=5", "train.valid_default_decoding=false", "train.init_from="]
    cfg = load_config(config, overrides)
    utts = read_manifest(manifest)
    with tempfile.TemporaryDirectory() as tmp:
        valid = Path(tmp) / "valid.jsonl"
        valid.write_text("".join(json.dumps(dataclasses.asdict(u)) + "\n" for u in utts[:4]))
        cmvn = Path(tmp) / "cmvn.pt"  # fixed statistics: the benchmark times training, not the CMVN pass
        torch.save({"mean": torch.zeros(cfg.features.n_mels), "std": torch.ones(cfg.features.n_mels)}, cmvn)
        cfg.train.cmvn = str(cmvn)
        train(cfg, manifest, valid, Path(tmp) / "exp")
        logs = [json.loads(x) for x in (Path(tmp) / "exp" / "metrics.jsonl").read_text().splitlines()]
    return [h for h in logs if h.get("kind") == "train"][-1]["audio_per_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True, help="training utterances")
    p.add_argument("--config", default="conf/default.yaml")
    p.add_argument("--size", action="append", default=[], help="LAYERSxHIDDEN, e.g. 3x608 (repeatable)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    bf16 = bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    print(f"bf16 on this CPU: {'yes' if bf16 else 'no'}; nn.LSTM kernel: float32 {lstm_kernel(False)}", end="")
    print(f", bf16 {lstm_kernel(True)}" if bf16 else "")
    print(f"{'model':<8} {'float32 s/s':>12} {'bf16 s/s':>10} {'bf16/fp32':>10}")
    for size in args.size or ["3x608"]:
        fp32 = speed(args.config, size, "off", args.manifest, args.steps, args.threads)
        half = speed(args.config, size, "bf16", args.manifest, args.steps, args.threads) if bf16 else float("nan")
        print(f"{size:<8} {fp32:12.1f} {half:10.1f} {half / fp32:10.2f}", flush=True)


if __name__ == "__main__":
    main()
