"""`asr transcribe` speed at each thread count, on an idle machine and on one busy with another process.

The busy case starts a competing process first: torch matmuls on every core (as another training run or
transcription would). Each cell is the wall time of `asr transcribe --threads N --no-lm` on the same recording
(built from a manifest, about ``--seconds`` long), in a fresh process; ratios are against 1 thread on the same
machine state.

    python tools/bench_threads.py --manifest exp/real/data/real/dev.jsonl --seconds 120
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOAD = """
import torch
torch.set_num_threads({threads})
a = torch.randn(1024, 1024)
while True:
    a = torch.tanh(a @ a)
"""


def run(wav: str, threads: int, model: str | None) -> float:
    cmd = [sys.executable, "-m", "asr", "transcribe", wav, "--threads", str(threads), "--no-lm"]
    if model:
        cmd += ["--model", model]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, nargs="+", default=None, help="default: 1, half the cores, all cores")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_transcribe import build_recording

    from asr.options import default_threads

    cores = os.cpu_count() or 1
    counts = args.threads or sorted({1, default_threads(), cores})
    wav = str(Path(tempfile.mkdtemp()) / "recording.wav")
    build_recording(args.manifest, args.seconds / 60, Path(wav))
    rows = []
    for state in ("idle", "busy"):
        load = None
        if state == "busy":
            load = subprocess.Popen([sys.executable, "-c", LOAD.format(threads=cores)])
            time.sleep(3)
        try:
            times = {n: run(wav, n, args.model) for n in counts}
        finally:
            if load is not None:
                load.kill()
                load.wait()
        rows.append((state, times))
    print(f"{args.seconds:.0f} s of audio, {cores} cores, default --threads {default_threads()}")
    print(f"{'machine':<8} " + " ".join(f"{f'{n} thread(s)':>22}" for n in counts))
    for state, times in rows:
        base = times[counts[0]]
        print(f"{state:<8} " + " ".join(f"{times[n]:8.1f} s ({times[n] / base:4.2f}x 1)".rjust(22) for n in counts))


if __name__ == "__main__":
    main()
