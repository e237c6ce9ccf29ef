#!/usr/bin/env bash
# `make demo`: transcribe the clips shipped in examples/ with the bundled default model, then score them.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
summary=$($PY -m asr evaluate --manifest examples/manifest.jsonl --out exp/demo | tail -n 1)
$PY - <<'PY'
import json
for line in open("exp/demo/hyp.jsonl"):
    r = json.loads(line)
    print(f"{r['id']}\n  REF: {r['ref']}\n  HYP: {r['hyp']}")
PY
echo "Per-clip alignments: exp/demo/errors.txt"
echo "$summary"
