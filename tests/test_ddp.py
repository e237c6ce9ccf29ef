"""DDP on CPU (gloo, 2 processes under torchrun) against a single process with the same global batches."""

import os
import shutil
import subprocess
import sys

import torch
from conftest import ROOT, run_asr

from asr.checkpoint import read_checkpoint
from asr.config import load_config
from asr.data import AsrDataset, DurationBucketSampler, collate, read_manifest, seed_everything
from asr.model import build_model, ctc_loss
from asr.text import CharTokenizer
from asr.train import lr_lambda

STEPS = 4
OVERRIDES = [
    "model.dropout=0.0",
    "features.freq_masks=0",
    "features.time_masks=0",
    "train.amp=off",
    "train.max_batch_size=3",
    "train.max_batch_seconds=60",
    "train.num_workers=0",
    "train.threads=1",
    "train.valid_every=1000",
    "train.save_every=1",
    "train.log_every=1",
    "optim.warmup_steps=0",
    "optim.final_lr_ratio=1.0",
]  # constant learning rate: the schedule does not depend on max_steps


def torchrun(manifest, cmvn, exp, steps: int):
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "asr",
        "train",
        "--config",
        ROOT / "conf/tiny.yaml",
        "--train",
        manifest,
        "--valid",
        manifest,
        "--exp-dir",
        exp,
        *OVERRIDES,
        f"train.cmvn={cmvn}",
        f"train.max_steps={steps}",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    res = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return res


def single_process_reference(manifest, cmvn, steps: int) -> dict:
    """The same model trained in one process; each step's batch is the union of the two ranks' batches."""
    cfg = load_config(ROOT / "conf/tiny.yaml", OVERRIDES + [f"train.cmvn={cmvn}"])
    tc = cfg.train
    seed_everything(tc.seed)
    tok = CharTokenizer()
    utts = read_manifest(manifest)
    sampler = DurationBucketSampler(
        [u.duration for u in utts],
        tc.max_batch_seconds,
        tc.max_batch_size,
        seed=tc.seed,
        jitter=tc.bucket_jitter,
        max_duration=tc.max_duration,
        min_duration=tc.min_duration,
    )
    batches = list(sampler)
    model = build_model(cfg, len(tok))
    stats = torch.load(cmvn)
    model.cmvn.set_stats(stats["mean"], stats["std"])
    opt = torch.optim.AdamW(
        model.parameters(), lr=cfg.optim.lr, betas=cfg.optim.betas, weight_decay=cfg.optim.weight_decay
    )
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_lambda(s, 0, steps, 1.0))
    ds = AsrDataset(utts, tok)
    model.train()
    for step in range(steps):
        losses = []
        for b in batches[2 * step : 2 * step + 2]:  # rank 0 takes even batches, rank 1 odd ones
            batch = collate([ds[i] for i in b])
            lp, lens = model(batch["wav"], batch["wav_lens"])
            losses.append(ctc_loss(lp, lens, batch["targets"], batch["target_lens"], blank=0).mean())
        opt.zero_grad()
        (sum(losses) / 2).backward()  # DDP averages the ranks' gradients
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.optim.grad_clip)
        opt.step()
        sched.step()
    return model.state_dict()


def test_ddp_matches_single_process_and_resumes(tiny_corpus, tmp_path):
    manifest = tiny_corpus / "train.jsonl"
    cmvn = tmp_path / "cmvn.pt"
    run_asr("cmvn", "--manifest", manifest, "--out", cmvn)
    res = torchrun(manifest, cmvn, tmp_path / "ddp", STEPS)
    assert "2 DDP ranks" in res.stderr
    ddp = read_checkpoint(tmp_path / "ddp" / "last.pt")
    assert ddp["step"] == STEPS
    ref = single_process_reference(manifest, cmvn, STEPS)
    for k, v in ref.items():
        assert torch.allclose(ddp["model"][k], v, atol=2e-5), k
    # Resume under DDP: stop after 2 steps, run again to 4; the result equals the uninterrupted run.
    torchrun(manifest, cmvn, tmp_path / "resumed", 2)
    res = torchrun(manifest, cmvn, tmp_path / "resumed", STEPS)
    assert "resumed at step 2" in res.stderr
    resumed = read_checkpoint(tmp_path / "resumed" / "last.pt")
    for k, v in ddp["model"].items():
        assert torch.allclose(resumed["model"][k], v, atol=1e-6), k
    shutil.rmtree(tmp_path / "ddp")
