"""Beam search: our decoder (asr.decode's lexicon-free prefix search) versus pyctcdecode, on the same log-probs.

The log-probs are the default model's on ``--manifest`` (computed once, outside the timing). The decoders search
without a lexicon or LM at the same beam size; the table gives decode time, the speed ratio and WER of each, for a
few pruning settings of ours (``beam_size_token``: tokens tried per frame; ``token_min_logp``: tokens less likely
than this are not tried; ``beam_threshold``: hypotheses this far below the best are dropped), and for the lexicon-free
flashlight-text search, which we used before. pyctcdecode pins numpy<2, so install it without its pins (it works with
numpy 2):

    .venv/bin/pip install --no-deps pyctcdecode pygtrie
    python tools/bench_beam.py --manifest exp/synth/data/dev.jsonl --num 300 --beam-size 32
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from asr.bundled import DEFAULT_MODEL
from asr.data import read_manifest
from asr.decode import DecodeOptions, FlashlightDecoder, greedy_search, make_decoder
from asr.metrics import wer
from asr.transcribe import load_model


def flashlight(tokenizer, beam_size: int) -> FlashlightDecoder:
    """flashlight's lexicon-free search (with no hotwords its scorer adds nothing)."""
    return FlashlightDecoder(tokenizer, DecodeOptions("beam", beam_size=beam_size))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", required=True)
    p.add_argument("--num", type=int, default=300)
    p.add_argument("--model", default=str(DEFAULT_MODEL))
    p.add_argument("--beam-size", type=int, default=32)
    p.add_argument(
        "--settings",
        default="8:-10:25,8:-5:25,0:-1000:1000",
        help="our settings to try, beam_size_token:token_min_logp:beam_threshold (0 = all tokens)",
    )
    args = p.parse_args()
    torch.set_num_threads(1)
    rec = load_model(args.model)
    utts = read_manifest(args.manifest)[: args.num]
    refs = [u.text for u in utts]
    emissions: list[torch.Tensor] = []
    for u in utts:  # each clip as one segment, through the recognizer's front half (high-pass, level)
        (seg,) = rec.segments(u.audio, vad=None)
        emissions.append(rec.emissions([seg])[0][0])
    frames = sum(len(e) for e in emissions)
    print(f"{len(utts)} utterances, {frames} frames, beam size {args.beam_size}, 1 thread")
    greedy = [h.text for e in emissions for h in greedy_search(e[None], torch.tensor([len(e)]), rec.tokenizer)]
    print(f"greedy WER {wer(refs, greedy):.2f}%")

    rows = []
    try:
        from pyctcdecode import build_ctcdecoder

        labels = ["" if i == rec.tokenizer.blank else t for i, t in enumerate(rec.tokenizer.tokens)]
        ref_dec = build_ctcdecoder(labels)
        arrays = [e.numpy().astype(np.float32) for e in emissions]
        ref_dec.decode(arrays[0], beam_width=args.beam_size)  # warm-up
        t0 = time.perf_counter()
        hyps = [" ".join(ref_dec.decode(a, beam_width=args.beam_size).split()) for a in arrays]
        ref_time = time.perf_counter() - t0
        rows.append(("pyctcdecode (defaults)", ref_time, wer(refs, hyps)))
    except ImportError:
        ref_time = None
        print("pyctcdecode is not installed: see this script's docstring")
    decoders = []
    for setting in args.settings.split(","):
        tok, min_logp, thr = setting.split(":")
        opts = DecodeOptions(
            "beam",
            beam_size=args.beam_size,
            beam_size_token=int(tok),
            token_min_logp=float(min_logp),
            beam_threshold=float(thr),
        )
        name = f"asr (tokens {int(tok) or 'all'}, min logp {min_logp}, threshold {thr})"
        decoders.append((name, make_decoder(rec.tokenizer, opts)))
    decoders.append(("flashlight (tokens 8, threshold 25, log-add)", flashlight(rec.tokenizer, args.beam_size)))
    for name, dec in decoders:
        dec(emissions[0][None], torch.tensor([len(emissions[0])]))  # warm-up (and numba's compilation)
        t0 = time.perf_counter()
        hyps = [dec(e[None], torch.tensor([len(e)]))[0].text for e in emissions]
        rows.append((name, time.perf_counter() - t0, wer(refs, hyps)))
    print(f"{'decoder':<40} {'seconds':>8} {'ms/utt':>7} {'speed-up':>9} {'WER':>7}")
    for name, secs, w in rows:
        ratio = f"{ref_time / secs:8.1f}x" if ref_time else "       -"
        print(f"{name:<40} {secs:8.2f} {1000 * secs / len(utts):7.1f} {ratio} {w:6.2f}%")


if __name__ == "__main__":
    main()
