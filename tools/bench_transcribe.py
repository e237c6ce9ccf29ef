"""Transcription speed and memory, side by side with pocketsphinx, on the same long recording.

Builds a recording of about ``--minutes`` minutes from a manifest's utterances joined by pauses (so the reference text
is known), then runs, each in a fresh process: ``asr`` (import and model load included) on 1 and 2 threads, and
pocketsphinx (``pip install -e '.[bench]'``; it ships an English model) if installed. Prints RTF, peak RSS and WER per
system, then runs ``asr`` once more on the recording repeated ``--long-repeats`` times to show peak RSS does not
grow with length.

    python tools/bench_transcribe.py --manifest exp/synth/data/test.jsonl --minutes 10
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def build_recording(manifest: str, minutes: float, out: Path, seed: int = 0) -> str:
    from asr.audio import load_audio
    from asr.data import read_manifest

    utts = read_manifest(manifest)
    rng = np.random.default_rng(seed)
    texts, total = [], 0
    with sf.SoundFile(out, "w", SR, 1, subtype="PCM_16") as f:
        while total < minutes * 60 * SR:
            u = utts[int(rng.integers(len(utts)))]
            a = load_audio(u.audio)
            gap = np.zeros(int(rng.uniform(0.5, 1.5) * SR), np.float32)
            f.write(np.concatenate([a, gap]))
            total += len(a) + len(gap)
            texts.append(u.text)
    return " ".join(texts)


def child_asr(path: str, threads: int, model: str | None) -> dict:
    t0 = time.perf_counter()
    import torch

    torch.set_num_threads(threads)
    import asr

    rec = asr.load_model(model)
    text = rec.transcribe(path).text
    return {"text": text, "seconds": time.perf_counter() - t0}


class _PCM16:
    """File-like view of a sound file as raw 16-bit PCM bytes (what pocketsphinx's Segmenter reads)."""

    def __init__(self, f: sf.SoundFile) -> None:
        self.f = f

    def read(self, n: int) -> bytes:
        return self.f.read(n // 2, dtype="int16").tobytes()


def child_pocketsphinx(path: str) -> dict:
    """pocketsphinx as its docs use it on long audio: its own voice-activity segmenter, one utterance per segment."""
    t0 = time.perf_counter()
    from pocketsphinx import Decoder, Segmenter

    words = []
    with sf.SoundFile(path) as f:
        dec = Decoder(samprate=f.samplerate)
        for speech in Segmenter(sample_rate=f.samplerate).segment(_PCM16(f)):
            dec.start_utt()
            dec.process_raw(speech.pcm, full_utt=True)
            dec.end_utt()
            if dec.hyp() is not None and dec.hyp().hypstr:
                words.append(dec.hyp().hypstr)
    return {"text": " ".join(words).lower(), "seconds": time.perf_counter() - t0}


def repeat_recording(src: Path, times: int, out: Path) -> None:
    """``src`` played ``times`` times in a row, written block by block (for the memory-versus-length check)."""
    with sf.SoundFile(out, "w", SR, 1, subtype="PCM_16") as dst:
        for _ in range(times):
            with sf.SoundFile(src) as f:
                for block in f.blocks(blocksize=SR * 60, dtype="int16"):
                    dst.write(block)


def run_child(args: list[str]) -> dict:
    res = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True)
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", help="utterances to build the recording from")
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    p.add_argument("--work", default="exp/bench_transcribe")
    p.add_argument(
        "--long-repeats",
        type=int,
        default=6,
        help="also run asr (1 thread) on the recording repeated this many times, for peak RSS (0: skip)",
    )
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, path, *rest = args.child
        out = (
            child_asr(path, int(rest[0]), rest[1] if len(rest) > 1 else None)
            if kind == "asr"
            else child_pocketsphinx(path)
        )
        out["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(out))
        return
    from asr.metrics import wer

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    wav = work / f"recording_{args.minutes:g}min.wav"
    ref = build_recording(args.manifest, args.minutes, wav)
    duration = sf.info(wav).duration
    print(f"recording: {wav} ({duration / 60:.1f} min)")
    rows = []
    for threads in (1, 2):
        r = run_child(["asr", str(wav), str(threads)] + ([args.model] if args.model else []))
        rows.append((f"asr ({threads} thread{'s' if threads > 1 else ''})", r))
    r = run_child(["pocketsphinx", str(wav)])
    rows.append(("pocketsphinx", r))
    long_row = None
    if args.long_repeats > 1:
        long_wav = work / f"recording_{args.minutes * args.long_repeats:g}min.wav"
        repeat_recording(wav, args.long_repeats, long_wav)
        long_row = run_child(["asr", str(long_wav), "1"] + ([args.model] if args.model else []))
    print(f"{'system':<22} {'RTF':>7} {'peak RSS':>10} {'WER':>7}")
    base = None
    for name, r in rows:
        if "error" in r:
            print(f"{name:<22} unavailable: {r['error']}")
            continue
        rtf = r["seconds"] / duration
        base = base or rtf
        print(f"{name:<22} {rtf:7.4f} {r['max_rss_mb']:8.0f} MB {wer([ref], [r['text']]):6.1f}%")
    if long_row is not None and "error" not in long_row:
        minutes = duration * args.long_repeats / 60
        print(
            f"asr (1 thread) on {minutes:.0f} min: RTF {long_row['seconds'] / (duration * args.long_repeats):.4f}, "
            f"peak RSS {long_row['max_rss_mb']:.0f} MB (vs {dict(rows)['asr (1 thread)'].get('max_rss_mb', 0):.0f} MB "
            f"on {duration / 60:.0f} min)"
        )
    ps = dict(rows).get("pocketsphinx", {})
    if "seconds" in ps:
        ours = dict(rows)["asr (1 thread)"]
        if "seconds" in ours:
            print(f"asr (1 thread) is {ps['seconds'] / ours['seconds']:.1f}x faster than pocketsphinx")


if __name__ == "__main__":
    main()
