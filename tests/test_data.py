import json

import pytest
import torch

from asr.data import DurationBucketSampler, ManifestError, collate, read_manifest


def write(path, lines):
    path.write_text("\n".join(lines) + "\n")
    return path


def test_manifest_relative_paths(tmp_path):
    m = write(tmp_path / "m.jsonl", [json.dumps({"id": "a", "audio": "x/a.wav", "duration": 1.5, "text": "hi"})])
    (u,) = read_manifest(m, check_audio=False)
    assert u.audio == str(tmp_path.resolve() / "x/a.wav") and u.duration == 1.5


@pytest.mark.parametrize(
    "line,match",
    [
        ("{not json", r"m.jsonl:1: invalid JSON"),
        (json.dumps({"id": "a", "audio": "a.wav", "text": "x"}), r"m.jsonl:1: missing field 'duration'"),
        (json.dumps({"id": "a", "audio": "a.wav", "duration": "2", "text": "x"}), "wrong type"),
        (json.dumps({"id": "a", "audio": "a.wav", "duration": -1, "text": "x"}), "positive"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_manifest_lines(tmp_path, line, match):
    with pytest.raises(ManifestError, match=match):
        read_manifest(write(tmp_path / "m.jsonl", [line]))


def test_duplicate_ids_and_missing(tmp_path):
    row = json.dumps({"id": "a", "audio": "a.wav", "duration": 1, "text": "x"})
    with pytest.raises(ManifestError, match="m.jsonl:2: duplicate id"):
        read_manifest(write(tmp_path / "m.jsonl", [row, row]))
    with pytest.raises(ManifestError, match="no such manifest"):
        read_manifest(tmp_path / "nope.jsonl")


def test_bucket_sampler_properties():
    durs = [0.5 + (i * 7919 % 100) / 10 for i in range(300)] + [50.0]
    s = DurationBucketSampler(durs, max_seconds=30, max_size=16, seed=1)
    batches = list(iter(s))
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(300)) and s.skipped == [300]  # every index once; too long skipped
    assert all(max(durs[i] for i in b) * len(b) <= 30 and len(b) <= 16 for b in batches)
    assert batches == list(iter(DurationBucketSampler(durs, 30, 16, seed=1)))  # deterministic
    s.set_epoch(1)
    assert list(iter(s)) != batches  # reshuffled per epoch


def test_bucket_sampler_resume_and_shard():
    durs = [1 + i % 13 for i in range(200)]
    s = DurationBucketSampler(durs, 40, seed=2)
    s.set_epoch(3)
    full = list(iter(s))
    s.load_state_dict({"epoch": 3, "position": 5})
    assert list(iter(s)) == full[5:]
    shards = [list(iter(DurationBucketSampler(durs, 40, seed=2, rank=r, world_size=2))) for r in range(2)]
    assert len(shards[0]) == len(shards[1])
    assert not {i for b in shards[0] for i in b} & {i for b in shards[1] for i in b}


def test_collate_pads():
    items = [(torch.ones(5), torch.tensor([1, 2]), 0), (torch.ones(3), torch.tensor([3]), 1)]
    b = collate(items)
    assert b["wav"].shape == (2, 5) and b["wav_lens"].tolist() == [5, 3]
    assert b["targets"].tolist() == [[1, 2], [3, 0]] and b["target_lens"].tolist() == [2, 1]


def test_waveform_augmentation(tmp_path):
    import numpy as np
    import soundfile as sf

    from asr.data import AsrDataset, Utterance
    from asr.text import CharTokenizer

    t = np.arange(16000) / 16000
    sf.write(tmp_path / "a.wav", (0.3 * np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)), 16000)
    utts = [Utterance(str(i), str(tmp_path / "a.wav"), 1.0, "a") for i in range(40)]
    plain = AsrDataset(utts, CharTokenizer())
    assert len(plain[0][0]) == 16000
    aug = AsrDataset(utts, CharTokenizer(), speed_perturb=0.1, narrowband_prob=0.5, seed=3)
    lengths = {len(aug[i][0]) for i in range(40)}
    assert {round(n / 16000, 2) for n in lengths} == {0.91, 1.0, 1.11}  # 1.1×, 1×, 0.9× the speed (±1 sample)
    assert all(torch.equal(aug[i][0], aug[i][0]) for i in range(5))  # deterministic per (seed, epoch, item)

    def high_band(x):  # fraction of energy above 4.5 kHz
        spec = np.abs(np.fft.rfft(x.numpy())) ** 2
        return spec[int(len(spec) * 4500 / 8000) :].sum() / spec.sum()

    bands = [high_band(aug[i][0]) for i in range(40)]
    assert sum(b < 1e-3 for b in bands) >= 10 and sum(b > 0.3 for b in bands) >= 10
    before = [aug[i][0] for i in range(40)]
    aug.epoch = 1
    assert any(not torch.equal(b, aug[i][0]) for i, b in enumerate(before))  # a new draw each epoch
