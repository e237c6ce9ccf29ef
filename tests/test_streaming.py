import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from conftest import ROOT, run_asr

from asr.audio import load_audio
from asr.config import load_config
from asr.model import build_model
from asr.options import DecodeOptions
from asr.streaming import Stream, StreamOptions
from asr.transcribe import load_model


def random_config(bidirectional: bool):
    return load_config(
        ROOT / "conf/stream_lstm.yaml",
        ["model.hidden=64", "model.layers=3", f"model.bidirectional={str(bidirectional).lower()}"],
    )


def random_model(bidirectional: bool, seed: int = 0):
    torch.manual_seed(seed)
    m = build_model(random_config(bidirectional), 29).eval()
    m.cmvn.set_stats(torch.full((80,), -8.0), torch.full((80,), 3.0))
    return m


def chunked(model, audio: np.ndarray, opts: StreamOptions, block: int) -> torch.Tensor:
    enc = model.chunked(opts.chunk, opts.right_context)
    outs = [enc.accept(audio[i : i + block]) for i in range(0, len(audio), block)] + [enc.flush()]
    return torch.cat(outs)


@pytest.fixture(scope="module")
def speech(three_utterances) -> np.ndarray:
    return load_audio(three_utterances[0])[: 16000 * 4]


@pytest.mark.parametrize("block", [160, 1000, 7777])
def test_unidirectional_chunks_equal_offline(speech, block):
    model = random_model(bidirectional=False)
    with torch.no_grad():
        offline, n = model(torch.from_numpy(speech)[None], torch.tensor([len(speech)]))
    streamed = chunked(model, speech, StreamOptions(chunk=0.16), block)
    assert streamed.shape == offline[0].shape
    assert torch.allclose(streamed, offline[0], atol=1e-4)


def test_lc_blstm(speech):
    model = random_model(bidirectional=True)
    with torch.no_grad():
        offline, _ = model(torch.from_numpy(speech)[None], torch.tensor([len(speech)]))
    # A look-ahead longer than the audio makes every chunk's backward pass start at the true end: exactly offline.
    full = chunked(model, speech, StreamOptions(chunk=0.16, right_context=100.0), 1600)
    assert torch.allclose(full, offline[0], atol=1e-4)
    # A short look-ahead changes the outputs (the backward direction restarts per chunk) but not their number.
    short = chunked(model, speech, StreamOptions(chunk=0.16, right_context=0.16), 1600)
    assert short.shape == offline[0].shape and not torch.allclose(short, offline[0], atol=1e-3)


def test_stream_cuts_the_utterances_offline_segmentation_cuts(three_utterances):
    path, _ = three_utterances
    rec = load_model(ROOT / "asr/assets/default.pt")
    # offline cutting with the endpointer's settings (the offline default cuts only at longer pauses)
    offline = [(s.start, s.end) for s in rec.transcribe(path, vad=StreamOptions().vad).segments]
    audio = load_audio(path)
    stream = Stream(rec.model, rec.tokenizer)
    events = [e for i in range(0, len(audio), 320) for e in stream.accept(audio[i : i + 320])] + stream.finish()
    finals = [e for e in events if e.type == "final"]
    assert len(finals) == 3
    flat = [t for e in finals for t in (e.start, e.end)]
    assert flat == pytest.approx([t for seg in offline for t in seg], abs=0.011)
    # partials come every chunk while an utterance is open (this bidirectional model: LC-BLSTM)
    opts = StreamOptions()
    for e in finals:
        partials = [p for p in events if p.type == "partial" and p.start == e.start]
        # the first waits for the look-ahead
        assert len(partials) >= (e.end - e.start - opts.chunk - opts.right_context) / opts.chunk - 1


def test_stream_equals_transcribe_for_a_unidirectional_model(three_utterances, tmp_path):
    """A unidirectional model streams exactly its offline forward pass: `asr stream` prints `transcribe`'s words."""
    from asr.checkpoint import model_state, save_atomic
    from asr.text import CharTokenizer

    path, _ = three_utterances
    ckpt = tmp_path / "uni.pt"
    model = random_model(bidirectional=False, seed=3)
    save_atomic(model_state(model, random_config(False), CharTokenizer()), ckpt)
    streamed = run_asr("stream", path, "--model", ckpt).stdout.strip().splitlines()
    # live streaming has the high-pass but no level normalisation (an utterance's level is known only at its end)
    offline = load_model(ckpt).transcribe(path, vad=StreamOptions().vad, level=False).text
    assert len(streamed) == 3 and all(streamed)
    assert " ".join(streamed) == offline


def test_stream_finals_use_the_recognizers_decoder(three_utterances):
    """The bundled model streams with the bundled LM: each final is the beam search of its utterance, with words."""
    path, _ = three_utterances
    rec = load_model()
    assert rec.opts.lm is not None
    audio = load_audio(path)
    stream = rec.stream()
    events = [e for i in range(0, len(audio), 1600) for e in stream.accept(audio[i : i + 1600])] + stream.finish()
    finals = [e for e in events if e.type == "final"]
    assert len(finals) == 3
    for e in finals:
        assert [w.word for w in e.words] == e.text.split()
        assert all(e.start <= w.start < w.end <= e.end + 0.01 for w in e.words)
        assert all(0 < w.confidence <= 1 for w in e.words)
    lexicon = {line.split()[0] for line in open(rec.opts.lexicon)}
    assert all(w in lexicon for e in finals for w in e.text.split())  # lexicon-constrained: LM words only


def test_stream_resamples_and_keeps_real_time_pace(three_utterances, tmp_path):
    import soundfile as sf
    import soxr

    from asr.metrics import cer

    path, _ = three_utterances
    a = load_audio(path)[: 16000 * 3]
    sf.write(tmp_path / "a.wav", a, 16000)
    sf.write(tmp_path / "b.flac", soxr.resample(a, 16000, 48000), 48000)  # the same audio at 48 kHz
    t0 = time.perf_counter()
    x = run_asr("stream", tmp_path / "a.wav", "--realtime").stdout
    assert time.perf_counter() - t0 > 3.0
    y = run_asr("stream", tmp_path / "b.flac").stdout
    assert x.strip() and cer([x], [y]) < 20.0


def test_stream_bad_input_is_one_line():
    for args in (["/no/such.wav"], [], ["--mic", "x.wav"]):
        res = run_asr("stream", *args, check=False)
        assert res.returncode == 1 and res.stderr.startswith("asr: error:") and len(res.stderr.splitlines()) == 1
    res = subprocess.run(
        [sys.executable, "-m", "asr", "stream", "--mic"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )  # no microphone (or no sounddevice) here
    assert res.returncode == 1 and res.stderr.strip().splitlines()[-1].startswith("asr: error:")
    assert "listening" not in res.stderr
    assert "pip install -e '.[mic]'" in res.stderr or "input device" in res.stderr


def test_the_streaming_set_up_is_the_bundled_model_in_int8_with_the_lm():
    from asr.bundled import DEFAULT_MODEL

    rec = load_model(streaming=True)
    assert rec.path == DEFAULT_MODEL and rec.int8 and rec.opts.lm is not None
    assert not load_model().int8  # offline transcription stays float32 unless asked


def test_stream_final_times_never_overlap():
    """Two sounds 0.3 s apart (longer than the 0.2 s endpoint gap, shorter than two 0.2 s pads): the second final
    starts where the first one's padded end is, not inside it."""
    rec = load_model(ROOT / "asr/assets/default.pt", opts=DecodeOptions("greedy"))
    rng = np.random.default_rng(0)
    burst = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    audio = np.concatenate([np.zeros(8000), burst, np.zeros(4800), burst, np.zeros(8000)]).astype(np.float32)
    stream = rec.stream(StreamOptions())
    events = [e for i in range(0, len(audio), 1600) for e in stream.accept(audio[i : i + 1600])] + stream.finish()
    ends = [(e.start, e.end) for e in events if e.type == "final"]
    assert len(ends) == 2 and ends[0][1] <= ends[1][0] and ends[1][0] < 1.9
