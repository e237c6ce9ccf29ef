"""The CUDA path. Skipped (not failed) on machines without a GPU, such as CI."""

import json

import pytest
import torch
from conftest import ROOT, train_tiny

from asr.config import load_config
from asr.model import build_model, ctc_loss

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def model_and_batch(device: str):
    torch.manual_seed(0)
    cfg = load_config(ROOT / "conf/default.yaml", [])
    model = build_model(cfg, 29).to(device)
    wav = torch.randn(4, 16000 * 5, device=device) * 0.1
    lens = torch.tensor([16000 * 5, 16000 * 4, 16000 * 3, 16000 * 2], device=device)
    return model, wav, lens


def test_ctc_loss_finite_under_bf16():
    model, wav, lens = model_and_batch("cuda")
    targets = torch.randint(1, 29, (4, 30), device="cuda")
    with torch.autocast("cuda", dtype=torch.bfloat16):
        lp, out_lens = model(wav, lens)
    loss = ctc_loss(lp, out_lens, targets, torch.full((4,), 30, device="cuda"), blank=0).mean()
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_cuda_equals_cpu():
    model, wav, lens = model_and_batch("cpu")
    model.eval()
    with torch.no_grad():
        cpu, cpu_lens = model(wav, lens)
        gpu, gpu_lens = model.cuda()(wav.cuda(), lens.cuda())
    assert torch.equal(cpu_lens, gpu_lens.cpu())
    assert torch.allclose(cpu, gpu.cpu(), atol=2e-3)


def test_train_on_gpu(tiny_corpus, tmp_path):
    m = tiny_corpus / "train.jsonl"
    train_tiny(m, tmp_path, "train.device=cuda", "train.max_steps=40", "train.amp=bf16", "train.valid_every=40")
    log = (tmp_path / "log.txt").read_text()
    assert "device cuda" in log and "bf16 autocast" in log
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in rows if r["kind"] == "train"]
    assert len(losses) >= 2 and losses[-1] < losses[0], losses  # it learns on the GPU
