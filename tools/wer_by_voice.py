"""WER/CER of one decode (``asr evaluate``'s hyp.jsonl) broken down by TTS voice: by variant and by accent/engine.

The speaker of an ``asr synth`` utterance is the first field of its id; the split's VOICES.txt maps it to the voice.

    python tools/wer_by_voice.py --hyp exp/synth/decode/test_greedy/hyp.jsonl \
        --voices exp/synth/data/corpus/test/VOICES.txt
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from asr.metrics import cer, wer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hyp", required=True, help="hyp.jsonl written by asr evaluate")
    p.add_argument("--voices", required=True, help="VOICES.txt of the synthesised split")
    args = p.parse_args()
    voices = {}
    for line in Path(args.voices).read_text().splitlines():
        spk, engine, name = line.split("\t")
        voices[spk] = (engine, name)
    groups: dict[str, dict[str, tuple[list[str], list[str]]]] = {
        "variant": defaultdict(lambda: ([], [])),
        "accent": defaultdict(lambda: ([], [])),
    }
    for line in Path(args.hyp).read_text().splitlines():
        r = json.loads(line)
        engine, name = voices[r["id"].split("-")[0]]
        accent, _, variant = name.rpartition("+") if engine == "espeak" else (engine, "", name)
        for kind, key in (("variant", variant), ("accent", accent)):
            groups[kind][key][0].append(r["ref"])
            groups[kind][key][1].append(r["hyp"])
    for kind, by in groups.items():
        print(f"| {kind} | utterances | WER | CER |\n|---|---|---|---|")
        for key, (refs, hyps) in sorted(by.items(), key=lambda kv: wer(*kv[1])):
            print(f"| {key} | {len(refs)} | {wer(refs, hyps):.1f}% | {cer(refs, hyps):.1f}% |")
        print()


if __name__ == "__main__":
    main()
