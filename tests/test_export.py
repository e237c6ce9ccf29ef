import json

import pytest
import torch
from conftest import ROOT, run_asr

from asr.checkpoint import load_checkpoint_model, model_state, save_atomic
from asr.export import quantize_int8
from asr.metrics import cer

DEFAULT = ROOT / "asr/assets/default.pt"


def test_torchscript_export_matches_eager(tmp_path):
    out = tmp_path / "model.ts"
    run_asr("export", "--model", DEFAULT, "--out", out, "--torchscript")
    files = {"tokens.json": ""}
    scripted = torch.jit.load(str(out), _extra_files=files)
    model, tokenizer, _ = load_checkpoint_model(DEFAULT)
    assert json.loads(files["tokens.json"]) == tokenizer.tokens
    torch.manual_seed(0)
    wav = torch.randn(3, 16000 * 3) * 0.1  # other lengths and batch size than the trace used
    lens = torch.tensor([48000, 30000, 9000])
    with torch.no_grad():
        a, alens = model(wav, lens)
        b, blens = scripted(wav, lens)
    assert torch.equal(alens, blens)
    assert torch.allclose(a, b, atol=1e-5)


def test_int8_is_smaller_and_close(three_utterances, tmp_path):
    path, _ = three_utterances
    model, _, _ = load_checkpoint_model(DEFAULT)
    q = quantize_int8(model)
    assert isinstance(q.rnns[0].fwd, torch.ao.nn.quantized.dynamic.LSTM)
    fp32 = run_asr("transcribe", path).stdout.strip()
    int8 = run_asr("transcribe", path, "--int8").stdout.strip()
    assert fp32 and cer([fp32], [int8]) < 10.0
    run_asr("export", "--model", DEFAULT, "--out", tmp_path / "q.ts", "--torchscript", "--int8")
    fp32_bytes = 4 * sum(v.numel() for v in model.state_dict().values())  # the bundled file may be float16
    assert (tmp_path / "q.ts").stat().st_size < fp32_bytes / 3


def test_bundled_models_fit_the_size_budget():
    for path in (ROOT / "asr/assets").glob("*.pt"):
        assert path.stat().st_size <= 25e6, path
    lm = [ROOT / "asr/assets/lm.bin", ROOT / "asr/assets/lexicon.txt"]
    assert sum(p.stat().st_size for p in lm if p.is_file()) <= 30e6


def test_bundled_files_load_as_data_only():
    import torch

    for path in (ROOT / "asr/assets").glob("*.pt"):
        assert isinstance(torch.load(path, map_location="cpu", weights_only=True), dict), path


@pytest.mark.parametrize(
    "flag, dtype, weights, size_ratio, max_diff",
    [
        ("--fp16", torch.float16, "float16", 0.55, 0.02),
        ("--int8-weights", torch.int8, "int8", 0.3, 0.05),
    ],
)
def test_smaller_weight_storage_keeps_the_outputs(tmp_path, flag, dtype, weights, size_ratio, max_diff):
    full, tokenizer, cfg = load_checkpoint_model(DEFAULT)  # float32 once loaded, whatever the file holds
    fp32, out = tmp_path / "full.pt", tmp_path / "small.pt"
    save_atomic(model_state(full, cfg, tokenizer), fp32)
    run_asr("export", "--model", fp32, "--out", out, flag)
    assert out.stat().st_size < size_ratio * fp32.stat().st_size
    ckpt = torch.load(out, weights_only=False)
    assert ckpt["model"]["rnns.0.fwd.weight_ih_l0"].dtype == dtype
    assert ckpt["model"]["cmvn.mean"].dtype == torch.float32 and ckpt["info"]["weights"] == weights
    small, _, _ = load_checkpoint_model(out)
    assert small.rnns[0].fwd.weight_ih_l0.dtype == torch.float32
    torch.manual_seed(0)
    wav, lens = torch.randn(1, 16000 * 2) * 0.1, torch.tensor([32000])
    with torch.no_grad():
        a, _ = full(wav, lens)
        b, _ = small(wav, lens)
    assert (a.exp() - b.exp()).abs().max() < max_diff


def test_blend_interpolates_weights(tmp_path):
    import torch

    from asr.checkpoint import export_model, read_checkpoint

    a = read_checkpoint(DEFAULT)
    b = {k: (v, v * 0 + 1) for k, v in a["model"].items() if v.is_floating_point()}
    other = dict(a, model={k: (torch.ones_like(v) if v.is_floating_point() else v) for k, v in a["model"].items()})
    torch.save(other, tmp_path / "ones.pt")
    meta = export_model(DEFAULT, tmp_path / "mix.pt", blend=(str(tmp_path / "ones.pt"), 0.25))
    mixed = read_checkpoint(tmp_path / "mix.pt")["model"]
    for k, (v, _) in b.items():
        assert torch.allclose(mixed[k], 0.25 * v + 0.75), k
    assert "blend" in meta and "valid_wer" not in meta


def test_average_is_the_mean_of_the_snapshots(tmp_path):
    import pytest
    import torch

    from asr.checkpoint import export_model, read_checkpoint
    from asr.cli import main
    from asr.errors import CheckpointError

    a = read_checkpoint(DEFAULT)
    for name, fill in (("ones", 1.0), ("twos", 2.0)):
        weights = {k: (torch.full_like(v, fill) if v.is_floating_point() else v) for k, v in a["model"].items()}
        torch.save(dict(a, model=weights), tmp_path / f"{name}.pt")
    out = tmp_path / "avg.pt"
    with pytest.raises(SystemExit) as done:
        main(["export", "--model", str(DEFAULT), "--average", str(tmp_path / "ones.pt"),
              str(tmp_path / "twos.pt"), "--out", str(out)])  # fmt: skip
    assert done.value.code == 0
    mean = read_checkpoint(out)
    for k, v in a["model"].items():
        if v.is_floating_point():
            assert torch.allclose(mean["model"][k], (v + 3) / 3, atol=1e-6), k
    assert "average" in mean["info"] and "valid_wer" not in mean["info"]
    smaller = dict(a, model={k: v[:1] if v.ndim else v for k, v in a["model"].items()})
    torch.save(smaller, tmp_path / "small.pt")
    with pytest.raises(CheckpointError, match="same model shape"):
        export_model(DEFAULT, tmp_path / "x.pt", average=[tmp_path / "small.pt"])
    assert not (tmp_path / "x.pt").exists()
