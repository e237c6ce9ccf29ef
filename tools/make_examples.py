"""Regenerate examples/: real recordings of held-out speakers for `make demo` (none of them is ever trained on).

- three sentences read by kathleen (native US English, CMU ARCTIC prompts; CC0 1.0), the native read-speech dev set;
- one sentence read by a Mandarin-L1 speaker of speechocean762's dev speakers (free for any use; Zhang et al. 2021);
- one phone number read by a held-out speaker of the alphanumeric set (MIT licence);
- one recording of the digit "seven" by FSDD's held-out speaker george (CC BY-SA 4.0).

Transcripts are the normalised ones of `asr prepare --real-out-dir`; audio is stored as 16 kHz FLAC.

    python tools/make_examples.py --prepared exp/real/data/real --fsdd ../shared/data/fsdd
"""

import argparse
import json
from pathlib import Path

import soundfile as sf

from asr.audio import SAMPLE_RATE, load_audio

PICKS = [  # (manifest of `asr prepare --real-out-dir`, row number)
    ("dev_kathleen.jsonl", 3),
    ("dev_kathleen.jsonl", 400),
    ("dev_kathleen.jsonl", 1200),
    ("dev_speechocean762.jsonl", 0),
    ("dev_alphanumeric_numbers.jsonl", 1),
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prepared", required=True, help="the folder `asr prepare --real-out-dir` wrote")
    p.add_argument("--fsdd", required=True, help="FSDD folder (one recording of its held-out speaker george)")
    p.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "examples"))
    args = p.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for manifest, n in PICKS:
        path = Path(args.prepared) / manifest
        row = json.loads(path.read_text().splitlines()[n])
        audio = load_audio((path.parent / row["audio"]).resolve())
        name = f"{row['source']}_{row['id'].split('-', 1)[-1]}.flac"
        sf.write(out / name, audio, SAMPLE_RATE)
        rows.append(
            {"id": name[:-5], "audio": name, "duration": round(len(audio) / SAMPLE_RATE, 3), "text": row["text"]}
        )
    src = Path(args.fsdd) / "recordings" / "7_george_3.flac"
    audio = load_audio(src)
    sf.write(out / "fsdd_7_george_3.flac", audio, SAMPLE_RATE)
    rows.append(
        {
            "id": "fsdd_7_george_3",
            "audio": "fsdd_7_george_3.flac",
            "duration": round(len(audio) / SAMPLE_RATE, 3),
            "text": "seven",
        }
    )
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
