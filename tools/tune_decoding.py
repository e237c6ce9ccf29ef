"""Decoding settings of a model (the bundled one by default) with the bundled LM, side by side on one manifest: WER
and search time per setting.

The model's log-probabilities are computed once, through the path ``asr evaluate`` takes (each clip cut at pauses,
each segment level-normalised); then every setting decodes them. Settings are JSON objects of ``DecodeOptions``
fields over the bundled defaults (``asr.bundled.default_decode_options``).

    python tools/tune_decoding.py --manifest exp/real/data/real/dev.jsonl \\
        '{"word_score": 1, "beam_size": 32}' '{"word_score": 0}' '{"beam_size": 64}' '{"beam_size": 256}'
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from asr.bundled import default_decode_options
from asr.data import read_manifest
from asr.metrics import wer
from asr.transcribe import load_model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True)
    p.add_argument("settings", nargs="*", help="JSON objects of DecodeOptions fields (the defaults are always run)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--model", default=None, help="checkpoint (default: the bundled model)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    rec = load_model(args.model, opts=default_decode_options())
    utts = read_manifest(args.manifest)
    t0 = time.perf_counter()
    clips = []  # per clip: the (T, V) log-probs of each segment
    for u in utts:
        out = []
        for seg in rec.segments(u.audio):  # the recognizer's own front half: high-pass, VAD, level
            lp, n = rec.emissions([seg])
            out.append(lp[0, : int(n[0])])
        clips.append(out)
    print(f"{args.manifest}: {len(utts)} clips; the network took {time.perf_counter() - t0:.1f} s")
    refs = [u.text for u in utts]
    for setting in ["{}", *args.settings]:
        opts = default_decode_options(**json.loads(setting))
        decoder = rec.decoder(opts)
        t0 = time.perf_counter()
        hyps = [
            " ".join(t for t in (decoder(lp[None], torch.tensor([len(lp)]))[0].text for lp in segs) if t)
            for segs in clips
        ]
        took = time.perf_counter() - t0
        print(
            f"beam {opts.beam_size:4d}  lm_weight {opts.lm_weight:4.2f}  word_score {opts.word_score:5.2f}  "
            f"{setting:<40} WER {wer(refs, hyps):6.2f}  search {took:5.1f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
