"""Streaming: accuracy and latency of each streaming set-up, side by side with the offline default model.

Each utterance of ``--manifest`` is played as a live stream (0.5 s of silence, the utterance, 1 s of silence) in
20 ms blocks. Blocks arrive on a virtual clock at real-time pace; each ``Stream.accept`` call is timed on this CPU
(one thread) and a result is ready at ``max(arrival, previous result) + compute``. From that clock:

- **final latency**: from the end of speech (the utterance's last 10 ms frame within 35 dB of its loudest) to the
  final result; it includes the endpoint wait (``--endpoint``, non-speech that ends an utterance);
- **partial interval**: time between consecutive partial results of an utterance;
- **streams per core**: audio seconds / compute seconds on one thread (how many real-time streams one core keeps up with).

WER/CER of the concatenated finals are compared with the offline default model (greedy) on the same utterances.

    python tools/bench_stream.py --manifest exp/synth/data/test.jsonl --num 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from asr.audio import SAMPLE_RATE, load_audio
from asr.data import read_manifest
from asr.metrics import cer, wer
from asr.streaming import StreamOptions
from asr.transcribe import DEFAULT_MODEL, DEFAULT_STREAM_MODEL, load_model

BLOCK = int(0.02 * SAMPLE_RATE)


def end_of_speech(audio: np.ndarray) -> float:
    n = len(audio) // 160
    e = 10 * np.log10((audio[: n * 160].reshape(n, 160).astype(np.float64) ** 2).mean(1) + 1e-12)
    return (int(np.flatnonzero(e > e.max() - 35)[-1]) + 1) / 100


def run_stream(rec, opts: StreamOptions, audio: np.ndarray) -> dict:
    """One utterance through a stream on the virtual clock."""
    stream = rec.stream(opts)
    clock, compute, finals, partial_times, final_times = 0.0, 0.0, [], [], []
    blocks = [audio[i : i + BLOCK] for i in range(0, len(audio), BLOCK)]
    for k, block in enumerate(blocks + [None]):
        arrival = min(len(audio), (k + 1) * BLOCK) / SAMPLE_RATE
        t0 = time.perf_counter()
        events = stream.accept(block) if block is not None else stream.finish()
        dt = time.perf_counter() - t0
        compute += dt
        clock = max(clock, arrival) + dt
        for e in events:
            (partial_times if e.type == "partial" else final_times).append(clock)
            if e.type == "final":
                finals.append(e.text)
    return {
        "text": " ".join(t for t in finals if t),
        "compute": compute,
        "final_times": final_times,
        "partial_intervals": list(np.diff(partial_times)),
    }


def pct(x: list[float], q: float) -> float:
    return float(np.percentile(x, q)) * 1000 if x else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True)
    p.add_argument("--num", type=int, default=200, help="utterances (the first N)")
    p.add_argument("--offline-model", default=str(DEFAULT_MODEL))
    p.add_argument("--stream-model", default=str(DEFAULT_STREAM_MODEL))
    p.add_argument("--endpoint", type=float, default=0.2)
    p.add_argument("--right-contexts", default="0.16,0.32,0.64", help="LC-BLSTM look-aheads to try (seconds)")
    args = p.parse_args()
    torch.set_num_threads(1)
    utts = read_manifest(args.manifest)[: args.num]
    audios = [load_audio(u.audio) for u in utts]
    refs = [u.text for u in utts]
    total = sum(len(a) for a in audios) / SAMPLE_RATE

    offline = load_model(args.offline_model)
    t0 = time.perf_counter()
    hyps = [offline.transcribe(a, sample_rate=16000).text for a in audios]
    off_time = time.perf_counter() - t0
    off_wer = wer(refs, hyps)
    print(f"{len(utts)} utterances, {total / 60:.1f} min, 1 thread")
    print(
        f"{'set-up':<42} {'look-ahead':>10} {'WER':>6} {'CER':>6} {'×offl':>6} {'final p50/p95 ms':>17} "
        f"{'partial p50/p95 ms':>19} {'streams/core':>12}"
    )
    print(
        f"{'offline BiLSTM, greedy (default.pt)':<42} {'whole utt':>10} {off_wer:6.1f} {cer(refs, hyps):6.1f} "
        f"{1.0:6.2f} {'-':>17} {'-':>19} {total / off_time:12.1f}"
    )

    setups = [("unidirectional LSTM (stream.pt)", args.stream_model, 0.0)]
    setups += [("LC-BLSTM of default.pt", args.offline_model, float(r)) for r in args.right_contexts.split(",") if r]
    silence_before, silence_after = np.zeros(SAMPLE_RATE // 2, np.float32), np.zeros(SAMPLE_RATE, np.float32)
    for name, model_path, right in setups:
        rec = offline if model_path == args.offline_model else load_model(model_path)
        opts = StreamOptions(right_context=right, min_gap=args.endpoint)
        hyps, compute, latencies, intervals = [], 0.0, [], []
        for a in audios:
            played = np.concatenate([silence_before, a, silence_after])
            r = run_stream(rec, opts, played)
            hyps.append(r["text"])
            compute += r["compute"]
            if r["final_times"]:
                latencies.append(r["final_times"][0] - (0.5 + end_of_speech(a)))
            intervals += r["partial_intervals"]
        w = wer(refs, hyps)
        look = f"{0.16 + right:.2f} s" if right else "0.16 s"
        print(
            f"{name:<42} {look:>10} {w:6.1f} {cer(refs, hyps):6.1f} {w / off_wer:6.2f} "
            f"{pct(latencies, 50):8.0f}/{pct(latencies, 95):<8.0f} {pct(intervals, 50):9.0f}/{pct(intervals, 95):<9.0f}"
            f" {total / compute:12.1f}"
        )


if __name__ == "__main__":
    main()
