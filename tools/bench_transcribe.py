"""Transcription speed and memory, side by side with pocketsphinx, on the same long recording.

Builds a recording of about ``--minutes`` minutes from a manifest's utterances joined by pauses (so the reference text
is known), then runs, each in a fresh process: ``asr`` (model load included) on 1 and 2 threads, and pocketsphinx
(`pip install pocketsphinx`; it ships an English model) if installed. Prints RTF, peak RSS and WER per system.

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


def child_pocketsphinx(path: str) -> dict:
    t0 = time.perf_counter()
    from pocketsphinx import Decoder

    dec = Decoder(samprate=SR)
    words = []
    with sf.SoundFile(path) as f:
        dec.start_utt()
        for block in f.blocks(blocksize=SR * 30, dtype="int16"):
            dec.process_raw(block.tobytes(), full_utt=False)
        dec.end_utt()
        if dec.hyp() is not None:
            words.append(dec.hyp().hypstr)
    return {"text": " ".join(words).lower(), "seconds": time.perf_counter() - t0}


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
    p.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        kind, path, *rest = args.child
        out = child_asr(path, int(rest[0]), rest[1] if len(rest) > 1 else None) if kind == "asr" \
            else child_pocketsphinx(path)
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
    print(f"{'system':<22} {'RTF':>7} {'peak RSS':>10} {'WER':>7}")
    base = None
    for name, r in rows:
        if "error" in r:
            print(f"{name:<22} unavailable: {r['error']}")
            continue
        rtf = r["seconds"] / duration
        base = base or rtf
        print(f"{name:<22} {rtf:7.4f} {r['max_rss_mb']:8.0f} MB {wer([ref], [r['text']]):6.1f}%")
    ps = dict(rows).get("pocketsphinx", {})
    if "seconds" in ps:
        ours = dict(rows)["asr (1 thread)"]
        if "seconds" in ours:
            print(f"asr (1 thread) is {ps['seconds'] / ours['seconds']:.1f}x faster than pocketsphinx")


if __name__ == "__main__":
    main()
