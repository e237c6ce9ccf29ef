"""Copies of a manifest's clips band-limited to RATE / 2 (resampled down to RATE and back to 16 kHz), for the
devlog's kathleen playback table:

    python experiments/band_limited.py KAT300 11025 OUT_DIR     # writes OUT_DIR/*.flac and OUT_DIR/manifest.jsonl
    python -m asr evaluate --manifest OUT_DIR/manifest.jsonl --out X
"""

import json
import sys
from pathlib import Path

import soundfile as sf

from asr.audio import SAMPLE_RATE, load_audio, resample


def main(manifest: str, rate: int, out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    base = Path(manifest).parent
    rows = []
    for line in open(manifest):
        row = json.loads(line)
        audio = load_audio(base / row["audio"])
        path = out / f"{row['id']}.flac"
        sf.write(path, resample(resample(audio, SAMPLE_RATE, rate), rate, SAMPLE_RATE), SAMPLE_RATE)
        rows.append({**row, "audio": str(path.resolve())})
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
