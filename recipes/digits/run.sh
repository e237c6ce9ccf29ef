#!/usr/bin/env bash
# Free Spoken Digit Dataset (real recordings, 8 kHz): speaker-disjoint split, train, decode, score.
#   recipes/digits/run.sh --fsdd ../shared/data/fsdd --exp-dir exp/digits
cd "$(dirname "$0")/../.."
recipe_opts="fsdd test_speakers exp_dir config train_args"
fsdd=""                     # FSDD folder with manifest.jsonl (required)
test_speakers=george        # held out for testing (comma-separated)
exp_dir=exp/digits
config=conf/digits.yaml
train_args=""
source recipes/stages.sh
[ -n "$fsdd" ] || { echo "$0: --fsdd is required" >&2; exit 2; }
data=$exp_dir/data

if run_stage 1 "speaker-disjoint manifests"; then
  $ASR prepare --root "$fsdd" --fsdd-out-dir $data --test-speakers $test_speakers
  stage_done 1
fi

if run_stage 2 "LM and lexicon from the training transcripts"; then
  $ASR lm --text $data/train.jsonl --order 2 --out-dir $data/lm
  stage_done 2
fi

if run_stage 3 "train"; then
  # The held-out speaker must stay unseen, so validation uses the training speakers' data.
  $ASR train --config $config --train $data/train.jsonl --valid $data/train.jsonl --exp-dir $exp_dir \
    train.valid_max_utts=300 $train_args
  stage_done 3
fi

if run_stage 4 "decode"; then
  decode_sets $exp_dir/best.pt $data/lm/lexicon.txt $data/lm/lm.arpa test=$data/test.jsonl
  stage_done 4
fi

if run_stage 5 "score"; then
  $ASR report --exp-dir $exp_dir
  stage_done 5
fi
