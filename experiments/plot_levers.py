"""One table and one plot for the lever runs of ``experiments/levers.sh``: greedy dev WER/CER against steps for each
lever, the final greedy figures, the whole-dev-set default decoding and the training speed.

python experiments/plot_levers.py --exp-dir exp/levers --out exp/levers/levers.png
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def read_run(run: Path) -> dict:
    """A lever run's description, validation history, default-decoding WER (or None) and speed."""
    history = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    valid = [h for h in history if h.get("kind") == "valid"]
    speed = [h["audio_per_s"] for h in history if h.get("kind") == "train"]
    default = None
    summary = run / "dev_default.txt"
    if summary.exists():
        found = re.search(r"WER ([\d.]+)% CER ([\d.]+)%", summary.read_text())
        default = (float(found.group(1)), float(found.group(2))) if found else None
    return {
        "name": run.name,
        "lever": (run / "lever.txt").read_text().strip() if (run / "lever.txt").exists() else run.name,
        "valid": valid,
        "default": default,
        "speed": speed[-1] if speed else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exp-dir", required=True, help="the folder holding one sub-folder per lever run")
    ap.add_argument("--out", required=True, help="PNG to write")
    args = ap.parse_args()
    runs = [read_run(d) for d in sorted(Path(args.exp_dir).iterdir()) if (d / "metrics.jsonl").exists()]
    runs = [r for r in runs if r["valid"]]
    if not runs:
        raise SystemExit(f"plot_levers: {args.exp_dir}: no run with a validation yet")
    runs.sort(key=lambda r: (r["name"] != "baseline", r["name"]))

    print("| lever | steps | dev subset: loss, greedy WER / CER | whole dev, default decoding: WER / CER | s audio/s |")
    print("|---|---|---|---|---|")
    for r in runs:
        last = r["valid"][-1]
        default = f"{r['default'][0]:.1f} / {r['default'][1]:.1f}" if r["default"] else "–"
        speed = f"{r['speed']:.0f}" if r["speed"] else "–"
        greedy = f"{last['loss']:.3f}, {last['wer']:.1f} / {last['cer']:.1f}"
        print(f"| {r['lever']} | {last['step']} | {greedy} | {default} | {speed} |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    titles = {"loss": "real dev, CTC loss per token", "wer": "real dev, greedy WER %", "cer": "real dev, greedy CER %"}
    for ax, (key, title) in zip(axes, titles.items()):
        for r in runs:
            style = "k-o" if r["name"] == "baseline" else "-o"
            ax.plot([h["step"] for h in r["valid"]], [h[key] for h in r["valid"]], style, label=r["lever"], ms=3)
        ax.set(xlabel="step", title=title)
    axes[-1].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    main()
