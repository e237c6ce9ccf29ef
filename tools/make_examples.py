"""Regenerate examples/: clips for `make demo`, spoken by held-out evaluation voices (never in training data) from
held-out sentences, plus one Free Spoken Digit Dataset recording (CC BY-SA 4.0) when --fsdd is given.

    python tools/make_examples.py --text ../shared/data/text/sentences.txt --fsdd ../shared/data/fsdd
"""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from asr.audio import SAMPLE_RATE
from asr.corpus.synth import Voice, split_sentences, synthesize

VOICES = [
    Voice("flite", "rms"),
    Voice("espeak", "en-us+linda"),
    Voice("espeak", "en-gb-x-rp+quincy"),
    Voice("espeak", "en-029+Mike"),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--text", required=True)
    p.add_argument("--fsdd", help="FSDD folder (adds one recording of its held-out speaker george)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "examples"))
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    _, held = split_sentences([s.strip() for s in Path(args.text).read_text().splitlines() if s.strip()])
    rng = np.random.default_rng(args.seed)
    rows = []
    for i, voice in enumerate(VOICES):
        text = held[int(rng.integers(len(held)))].lower()
        audio = synthesize(text, voice)
        name = f"tts_{i}_{voice.engine}_{voice.name.replace('+', '_')}.flac"
        sf.write(out / name, audio, SAMPLE_RATE)
        rows.append(
            {"id": name.rsplit(".", 1)[0], "audio": name, "duration": round(len(audio) / SAMPLE_RATE, 3), "text": text}
        )
    if args.fsdd:
        src = Path(args.fsdd) / "recordings" / "7_george_3.wav"
        shutil.copy(src, out / "fsdd_7_george_3.wav")
        info = sf.info(src)
        rows.append(
            {
                "id": "fsdd_7_george_3",
                "audio": "fsdd_7_george_3.wav",
                "duration": round(info.frames / info.samplerate, 3),
                "text": "seven",
            }
        )
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
