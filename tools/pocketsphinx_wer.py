"""pocketsphinx's WER on a manifest, scored exactly as ``asr evaluate`` scores ours (same normalisation, same WER).

pocketsphinx (``pip install -e '.[bench]'``) decodes each utterance whole with the US English acoustic model and
3-gram LM it ships with, at 16 kHz. Writes OUT/hyp.jsonl and OUT/errors.txt like ``asr evaluate`` and prints
``WER x.xx% CER y.yy% (N utterances; words: …)`` last.

    python tools/pocketsphinx_wer.py --manifest exp/real/dev.jsonl --out exp/eval/pocketsphinx_dev
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    from pocketsphinx import Decoder

    from asr.audio import load_audio
    from asr.data import read_manifest
    from asr.evaluate import write_decoded
    from asr.text import normalize_text

    utts = read_manifest(args.manifest)
    dec = Decoder(samprate=16000)
    refs, hyps = [], []
    for u in utts:
        pcm = (np.clip(load_audio(u.audio), -1, 1) * 32767).astype("<i2").tobytes()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        hyp = dec.hyp()
        refs.append(normalize_text(u.text))
        hyps.append(normalize_text(hyp.hypstr if hyp is not None else ""))
    result = write_decoded(args.out, [u.id for u in utts], refs, hyps)
    print(result.summary())


if __name__ == "__main__":
    main()
