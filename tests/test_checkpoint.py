import torch

from asr.checkpoint import CheckpointError, load_checkpoint_model, model_state, save_atomic
from asr.config import load_config
from asr.model import build_model
from asr.text import CharTokenizer


def test_checkpoint_describes_itself(tmp_path):
    cfg = load_config(None, ["model.hidden=16", "model.layers=1", "model.rnn_type=gru"])
    tok = CharTokenizer()
    model = build_model(cfg, len(tok)).eval()
    model.cmvn.set_stats(torch.full((80,), -5.0), torch.full((80,), 2.0))
    save_atomic(model_state(model, cfg, tok), tmp_path / "m.pt")
    assert not list(tmp_path.glob(".*tmp*"))  # temp file renamed away
    loaded, tok2, cfg2 = load_checkpoint_model(tmp_path / "m.pt")
    assert cfg2.model.rnn_type == "gru" and tok2.tokens == tok.tokens
    wav = torch.randn(1, 8000)
    with torch.no_grad():
        assert torch.equal(model(wav, torch.tensor([8000]))[0], loaded(wav, torch.tensor([8000]))[0])
    assert torch.equal(loaded.cmvn.mean, torch.full((80,), -5.0))


def test_checkpoint_with_earlier_weight_names_loads(tmp_path):
    """Checkpoints written while the front end was torchaudio's MelSpectrogram keep loading, computing the same."""
    cfg = load_config(None, ["model.hidden=16", "model.layers=1"])
    tok = CharTokenizer()
    model = build_model(cfg, len(tok)).eval()
    state = model_state(model, cfg, tok)
    renamed = {"logmel.window": "logmel.mel.spectrogram.window", "logmel.fb": "logmel.mel.mel_scale.fb"}
    state["model"] = {renamed.get(k, k): v for k, v in state["model"].items()}
    save_atomic(state, tmp_path / "old.pt")
    loaded, _, _ = load_checkpoint_model(tmp_path / "old.pt")
    wav = torch.randn(1, 8000)
    with torch.no_grad():
        assert torch.equal(model(wav, torch.tensor([8000]))[0], loaded(wav, torch.tensor([8000]))[0])


def test_bad_checkpoints(tmp_path):
    import pytest

    (tmp_path / "x.pt").write_bytes(b"nope")
    with pytest.raises(CheckpointError, match="x.pt: not a readable checkpoint"):
        load_checkpoint_model(tmp_path / "x.pt")
    torch.save({"a": 1}, tmp_path / "y.pt")
    with pytest.raises(CheckpointError, match="not an asr checkpoint"):
        load_checkpoint_model(tmp_path / "y.pt")
