from pathlib import Path

import pytest
import torch

from asr.config import ConfigError, config_from_dict, config_to_dict, load_config
from asr.model import build_model

CONFS = sorted((Path(__file__).parent.parent / "conf").glob("*.yaml"))


def test_there_are_configs():
    names = {p.name for p in CONFS}
    assert {"tiny.yaml", "bilstm_small.yaml", "gru_small.yaml", "librispeech_960h.yaml"} <= names


@pytest.mark.parametrize("path", CONFS, ids=lambda p: p.name)
def test_every_config_loads_and_builds(path):
    cfg = load_config(path)
    model = build_model(cfg, 29).eval()
    wav = torch.randn(2, 16000)
    log_probs, lens = model(wav, torch.tensor([16000, 12000]))
    assert log_probs.shape[0] == 2 and log_probs.shape[2] == 29
    assert torch.allclose(log_probs.exp().sum(-1), torch.ones(()), atol=1e-4)


def test_overrides_and_round_trip():
    cfg = load_config(None, ["model.hidden=64", "model.rnn_type=gru", "optim.betas=[0.8, 0.9]", "train.amp=off"])
    assert cfg.model.hidden == 64 and cfg.model.rnn_type == "gru" and cfg.optim.betas == (0.8, 0.9)
    assert config_to_dict(config_from_dict(config_to_dict(cfg))) == config_to_dict(cfg)


@pytest.mark.parametrize(
    "override,match",
    [
        ("model.hiden=3", "unknown key 'model.hiden'"),
        ("modle.hidden=3", "unknown section"),
        ("model.hidden=abc", "expected an integer"),
        ("model.rnn_type=rnn", "must be one of"),
        ("model.bidirectional=maybe", "true/false"),
        ("nodot", "section.key=value"),
    ],
)
def test_bad_overrides(override, match):
    with pytest.raises(ConfigError, match=match):
        load_config(None, [override])


def test_bad_yaml_key(tmp_path):
    p = tmp_path / "x.yaml"
    p.write_text("model:\n  layers: 2\n  colour: red\n")
    with pytest.raises(ConfigError, match=r"x.yaml: unknown key 'model.colour'"):
        load_config(p)


def test_amp_auto_follows_the_cpu(monkeypatch):
    """amp auto: bf16 where the CPU supports it, float32 elsewhere; an explicit bf16 where it cannot run is one error."""
    import torch

    from asr.train import TrainError, resolve_amp

    cpu = torch.device("cpu")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    assert resolve_amp("auto", cpu) is False and resolve_amp("off", cpu) is False
    with pytest.raises(TrainError, match="train.amp=bf16: this CPU .* no bf16 support"):
        resolve_amp("bf16", cpu)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)
    assert resolve_amp("auto", cpu) is True and resolve_amp("bf16", cpu) is True and resolve_amp("off", cpu) is False
    assert resolve_amp("auto", cpu, "gru") is False and resolve_amp("bf16", cpu, "gru") is True  # no bf16 GRU kernel
