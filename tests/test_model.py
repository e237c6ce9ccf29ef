import pytest
import torch
from torch import nn

from asr.config import load_config
from asr.model import build_model, reference_lstm, reverse_padded
from asr.warm_start import widen_state


def test_reference_lstm_matches_nn_lstm():
    torch.manual_seed(0)
    lstm = nn.LSTM(7, 5, batch_first=True)
    x = torch.randn(3, 11, 7)
    h0, c0 = torch.randn(1, 3, 5), torch.randn(1, 3, 5)
    want, (hn, cn) = lstm(x, (h0, c0))
    got, (h, c) = reference_lstm(
        x, lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0, (h0[0], c0[0])
    )
    assert torch.allclose(got, want, atol=1e-5)
    assert torch.allclose(h, hn[0], atol=1e-5) and torch.allclose(c, cn[0], atol=1e-5)


def test_reverse_padded_is_an_involution():
    x = torch.arange(12.0).reshape(2, 6, 1)
    lens = torch.tensor([6, 4])
    r = reverse_padded(x, lens)
    assert r[1, :, 0].tolist() == [9.0, 8.0, 7.0, 6.0, 10.0, 11.0]
    assert torch.equal(reverse_padded(r, lens), x)


@pytest.mark.parametrize(
    "over",
    [
        ["model.rnn_type=lstm"],
        ["model.rnn_type=gru"],
        ["model.subsampling=conv"],
        ["model.bidirectional=false"],
        ["model.proj=24", "model.subsample_factor=3"],
    ],
)
def test_padded_batch_equals_each_utterance_alone(over):
    torch.manual_seed(0)
    cfg = load_config(None, ["model.hidden=32", "model.layers=2", *over])
    model = build_model(cfg, 29).eval()
    lengths = [16000, 9000, 4321, 300]
    wavs = [torch.randn(n) * 0.1 for n in lengths]
    batch = nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    with torch.no_grad():
        lp, lens = model(batch, torch.tensor(lengths))
        for i, w in enumerate(wavs):
            alone, n = model(w.unsqueeze(0), torch.tensor([len(w)]))
            assert int(lens[i]) == int(n[0]) == alone.shape[1]
            assert torch.allclose(lp[i, : int(n[0])], alone[0], atol=1e-4)


@pytest.mark.parametrize(
    "over",
    [
        ["model.rnn_type=lstm"],
        ["model.rnn_type=gru"],
        ["model.bidirectional=false"],
        ["model.proj=24"],
        ["model.subsampling=conv"],
    ],
)
def test_widened_model_computes_what_the_narrow_one_did(over):
    torch.manual_seed(0)
    narrow = build_model(load_config(None, ["model.hidden=32", "model.layers=3", *over]), 29).eval()
    wide = build_model(load_config(None, ["model.hidden=48", "model.layers=3", *over]), 29).eval()
    wide.load_state_dict(widen_state(narrow.state_dict(), 32, wide))
    wav, lens = torch.randn(2, 12000) * 0.1, torch.tensor([12000, 8000])
    with torch.no_grad():
        a, la = narrow(wav, lens)
        b, lb = wide(wav, lens)
    assert torch.equal(la, lb) and torch.allclose(a, b, atol=1e-5)
    # The added units are live (random weights in, zeros out), so training can put them to use.
    assert wide.rnns[0].fwd.weight_hh_l0[32:48].abs().sum() > 0
    with pytest.raises(ValueError, match="smaller"):
        widen_state(wide.state_dict(), 48, narrow)


def test_output_length_formula():
    cfg = load_config(None, ["model.hidden=16", "model.layers=1"])
    model = build_model(cfg, 29).eval()
    n = 16000
    frames = (n - 400) // 160 + 1
    lp, lens = model(torch.randn(1, n), torch.tensor([n]))
    assert int(lens[0]) == lp.shape[1] == -(-frames // 4)
    assert model.frame_shift == pytest.approx(0.04)


def test_specaugment_only_in_training():
    cfg = load_config(None, ["model.hidden=16", "model.layers=1"])
    model = build_model(cfg, 29)
    wav, n = torch.randn(1, 16000), torch.tensor([16000])
    model.eval()
    a, _ = model.features(wav, n)
    b, _ = model.features(wav, n)
    assert torch.equal(a, b)
    model.train()
    c, _ = model.features(wav, n)
    assert (c == 0).float().mean() > 0.02 and not torch.equal(a, c)


def test_remapped_output_keeps_shared_tokens():
    from asr.warm_start import remap_output

    old = {"output.weight": torch.randn(4, 3), "output.bias": torch.tensor([0.5, -1.0, 2.0, 0.0]), "x": torch.ones(2)}
    new = remap_output(old, ["<b>", "a", "b", "c"], ["<b>", "a", "b", "c", "ab", "bc"])
    assert torch.equal(new["output.weight"][:4], old["output.weight"]) and torch.equal(new["x"], old["x"])
    assert torch.equal(new["output.weight"][4:], torch.zeros(2, 3))
    assert new["output.bias"][4:].tolist() == [-1.0, -1.0]
