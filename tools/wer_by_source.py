"""WER per source (and per kind) of a decoded manifest: ``asr evaluate``'s hyp.jsonl joined with the manifest.

python tools/wer_by_source.py --manifest exp/real/data/real/dev.jsonl --hyp exp/real/decode/real_dev_greedy/hyp.jsonl
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--hyp", nargs="+", required=True, help="one or more hyp.jsonl files, printed side by side")
    args = ap.parse_args()
    from asr.metrics import wer

    rows = {}
    for line in open(args.manifest, encoding="utf-8"):
        if line.strip():
            d = json.loads(line)
            rows[d["id"]] = d
    hyps = []
    for path in args.hyp:
        hyps.append({d["id"]: d for d in map(json.loads, open(path, encoding="utf-8")) if d})
    groups = defaultdict(list)
    for uid, d in rows.items():
        groups["all"].append(uid)
        groups[d.get("source", "?")].append(uid)
        if "kind" in d:
            groups[f"{d.get('source', '?')}/{d['kind']}"].append(uid)
    print(f"{'set':<28} {'utts':>5} " + " ".join(f"{p.split('/')[-2][:18]:>18}" for p in args.hyp))
    for name, ids in sorted(groups.items(), key=lambda kv: (kv[0] != "all", kv[0])):
        cells = []
        for h in hyps:
            have = [i for i in ids if i in h]
            cells.append(f"{wer([h[i]['ref'] for i in have], [h[i]['hyp'] for i in have]):17.1f}%")
        print(f"{name:<28} {len(ids):>5} " + " ".join(cells))


if __name__ == "__main__":
    main()
