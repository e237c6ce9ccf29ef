"""Streaming: accuracy and latency of each streaming set-up, side by side with offline decoding of the same clips.

Each utterance of ``--manifest`` is played as a live stream (0.5 s of silence, the utterance, 1 s of silence) in
20 ms blocks. Blocks arrive on a virtual clock at real-time pace; each ``Stream.accept`` call is timed on this CPU
(one thread) and a result is ready at ``max(arrival, previous result) + compute``. From that clock:

- **final latency**: from the end of speech (the utterance's last 10 ms frame within 35 dB of its loudest) to the
  final result; it includes the endpoint wait (``--endpoint``) and the final's decoding (beam search + LM, words);
- **partial interval**: time between consecutive partial results of an utterance;
- **streams per core**: audio seconds / compute seconds on one thread (how many real-time streams one core keeps up with).

Finals are decoded with the recognizer's default decoding (the bundled LM for the bundled models); the greedy WER of
the same run is printed beside it. The offline reference is ``Recognizer.transcribe`` (what ``asr transcribe`` does).

    python tools/bench_stream.py --manifest exp/real/data/real/dev.jsonl --every 3
    python tools/bench_stream.py --manifest exp/real/data/test.jsonl --num 300
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import torch

from asr.audio import FRAME, SAMPLE_RATE, HighPass, load_audio
from asr.bundled import DEFAULT_MODEL
from asr.data import read_manifest
from asr.decode import DecodeOptions
from asr.metrics import wer
from asr.options import StreamOptions
from asr.transcribe import load_model
from asr.vad import Endpointer

BLOCK = int(0.02 * SAMPLE_RATE)


def end_of_speech(audio: np.ndarray) -> float:
    n = len(audio) // 160
    e = 10 * np.log10((audio[: n * 160].reshape(n, 160).astype(np.float64) ** 2).mean(1) + 1e-12)
    return (int(np.flatnonzero(e > e.max() - 35)[-1]) + 1) / 100


def endpointer_tail(played: np.ndarray, speech_end: float) -> float:
    """Seconds from ``speech_end`` to the last frame the online endpointer still takes for speech."""
    x, ep = HighPass()(played), Endpointer()
    n = len(x) // FRAME
    last = max((i for i in range(n) if ep.is_speech(x[i * FRAME : (i + 1) * FRAME])), default=-1)
    return (last + 1) / 100 - speech_end


def run_stream(rec, opts: StreamOptions, audio: np.ndarray) -> dict:
    """One utterance through a stream on the virtual clock; finals decoded by default and greedily."""
    stream = rec.stream(opts)
    greedy_decoder, greedy, decoder = rec.decoder(DecodeOptions()), [], stream.decoder

    def both(log_probs, lens):  # each final decoded greedily too
        greedy.append(greedy_decoder(log_probs, lens)[0].text)
        return decoder(log_probs, lens)

    stream.decoder = both
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
        "greedy": " ".join(t for t in greedy if t),
        "compute": compute,
        "final_times": final_times,
        "partial_intervals": list(np.diff(partial_times)),
    }


def pct(x: list[float], q: float) -> float:
    return float(np.percentile(x, q)) * 1000 if x else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True)
    p.add_argument("--num", type=int, default=0, help="utterances (the first N; 0: all)")
    p.add_argument("--every", type=int, default=1, help="take every N-th utterance (before --num)")
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="the bidirectional model (offline and LC-BLSTM)")
    p.add_argument("--uni-model", default="", help="a unidirectional model to compare (e.g. the former stream.pt)")
    p.add_argument("--int8", action="store_true", help="int8-quantised models (load_model(int8=True))")
    p.add_argument("--endpoint", type=float, default=StreamOptions().vad.min_gap)
    p.add_argument("--pad", type=float, default=StreamOptions().vad.pad, help="audio kept before speech (s)")
    p.add_argument(
        "--lc", default="0.16:0.16,0.16:0.32,0.16:0.64,0.32:0.32", help="LC-BLSTM set-ups: chunk:right_context,..."
    )
    args = p.parse_args()
    torch.set_num_threads(1)
    utts = read_manifest(args.manifest)[:: args.every]
    utts = utts[: args.num] if args.num else utts
    audios = [load_audio(u.audio) for u in utts]
    refs = [u.text for u in utts]
    total = sum(len(a) for a in audios) / SAMPLE_RATE

    rec = load_model(args.model, int8=args.int8)
    t0 = time.perf_counter()
    hyps = [rec.transcribe(a, sample_rate=16000).text for a in audios]
    off_time = time.perf_counter() - t0
    greedy = [rec.transcribe(a, sample_rate=16000, decode=DecodeOptions()).text for a in audios]
    off_wer = wer(refs, hyps)
    kind = ", int8" if args.int8 else ""
    print(
        f"{args.manifest}: {len(utts)} utterances, {total / 60:.1f} min, 1 thread{kind}; WER default decoding (greedy)"
    )
    print(
        f"{'set-up':<34} {'chunk+look':>10} {'WER':>13} {'−offline':>8} {'final p50/p95 ms':>17} "
        f"{'partial p50/p95 ms':>19} {'streams/core':>12}"
    )
    print(
        f"{'offline, ' + rec.path.name:<34} {'whole':>10} {off_wer:5.1f} ({wer(refs, greedy):5.1f}) {0.0:8.1f} "
        f"{'-':>17} {'-':>19} {total / off_time:12.1f}"
    )

    setups = [(f"unidirectional {args.uni_model.split('/')[-1]}", args.uni_model, 0.16, 0.0)] if args.uni_model else []
    for spec in args.lc.split(","):
        if spec:
            chunk, right = (float(x) for x in spec.split(":"))
            setups.append((f"LC-BLSTM {rec.path.name}", args.model, chunk, right))
    silence_before, silence_after = np.zeros(SAMPLE_RATE // 2, np.float32), np.zeros(SAMPLE_RATE, np.float32)
    tails = [
        endpointer_tail(np.concatenate([silence_before, a, silence_after]), 0.5 + end_of_speech(a)) for a in audios
    ]
    print(
        f"endpointer: speech heard after the end of speech p50 {pct(tails, 50):.0f} / p95 {pct(tails, 95):.0f} ms "
        f"(max {max(tails) * 1000:.0f} ms); finals cannot come before it"
    )
    for name, model_path, chunk, right in setups:
        r = rec if model_path == args.model else load_model(model_path, opts=rec.opts, int8=args.int8)
        opts = StreamOptions(
            chunk=chunk,
            right_context=right,
            vad=dataclasses.replace(StreamOptions().vad, min_gap=args.endpoint, pad=args.pad),
        )
        hyps, greedy, compute, latencies, intervals = [], [], 0.0, [], []
        for a in audios:
            played = np.concatenate([silence_before, a, silence_after])
            out = run_stream(r, opts, played)
            hyps.append(out["text"])
            greedy.append(out["greedy"])
            compute += out["compute"]
            if out["final_times"]:
                latencies.append(out["final_times"][0] - (0.5 + end_of_speech(a)))
            intervals += out["partial_intervals"]
        w = wer(refs, hyps)
        look = f"{chunk:.2f}+{right:.2f}"
        print(
            f"{name:<34} {look:>10} {w:5.1f} ({wer(refs, greedy):5.1f}) {w - off_wer:8.1f} "
            f"{pct(latencies, 50):8.0f}/{pct(latencies, 95):<8.0f} {pct(intervals, 50):9.0f}/{pct(intervals, 95):<9.0f}"
            f" {total / compute:12.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
