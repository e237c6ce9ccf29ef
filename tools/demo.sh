#!/usr/bin/env bash
# `make demo`: transcribe the clips shipped in examples/ with the bundled default model and score them.
# Without a bundled model (asr/assets/default.pt), run a small synthesise → train → evaluate loop instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ASR=".venv/bin/python -m asr"

if [ -f asr/assets/default.pt ]; then
  $ASR evaluate --manifest examples/manifest.jsonl --out exp/demo
  echo "--- transcripts (exp/demo/hyp.jsonl) ---"
  .venv/bin/python - <<'PY'
import json
for line in open("exp/demo/hyp.jsonl"):
    r = json.loads(line)
    print(f"{r['id']:>14}  REF: {r['ref']}\n{'':>14}  HYP: {r['hyp']}")
PY
  exit 0
fi

echo "No bundled model yet: synthesising a small corpus, training conf/tiny.yaml, evaluating."
d=exp/demo
head -n 400 "${TEXT:-/dev/null}" > /dev/null 2>&1 || true
mkdir -p $d
if [ ! -f $d/sentences.txt ]; then
  cat > $d/sentences.txt <<'TXT'
the cat sat on the mat
a dog ran in the park
she sells sea shells
open the red door
we like green tea
the sun is hot today
bring me a cup of milk
he reads a long book
the bird sings at dawn
turn off the light
TXT
fi
$ASR synth --text $d/sentences.txt --sentences all --out-dir $d/corpus --split train --voices train \
  --engines espeak --max-voices 3 --max-sentences 1 --num-utts 30 --seed 1
$ASR prepare --root $d/corpus --split train --out $d/train.jsonl
$ASR train --config conf/tiny.yaml --train $d/train.jsonl --valid $d/train.jsonl --exp-dir $d/exp train.valid_every=100
$ASR evaluate --model $d/exp/best.pt --manifest $d/train.jsonl --out $d/decode
