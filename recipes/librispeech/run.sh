#!/usr/bin/env bash
# LibriSpeech: download → prepare → CMVN → train → decode (greedy, beam, beam + 3-gram LM) → score.
# Stage-gated and idempotent: rerun the same command to resume (training resumes from $exp_dir/last.pt).
#   recipes/librispeech/run.sh --dl-dir /data/librispeech --exp-dir exp/ls960 --config conf/librispeech_960h.yaml
#   recipes/librispeech/run.sh --data-dir /data/LibriSpeech --train-sets train-clean-100 --stage 1
cd "$(dirname "$0")/../.."
recipe_opts="dl_dir data_dir exp_dir config train_sets dev_set test_sets train_args"
dl_dir=downloads/librispeech      # stage 0 downloads and extracts here
data_dir=""                        # an existing LibriSpeech folder (holding train-clean-100/ ...): skips stage 0
exp_dir=exp/librispeech
config=conf/librispeech_960h.yaml
train_sets="train-clean-100 train-clean-360 train-other-500"
dev_set=dev-clean
test_sets="dev-clean dev-other test-clean test-other"
train_args=""
source recipes/stages.sh
[ -n "$data_dir" ] || data_dir=$dl_dir/LibriSpeech
data=$exp_dir/data
mkdir -p $data
lm_arpa=$dl_dir/lm/3-gram.pruned.1e-7.arpa

if run_stage 0 "download LibriSpeech and the LM resources (openslr, md5-checked, resumable)"; then
  if [ -d "$data_dir" ] && [ "$data_dir" != "$dl_dir/LibriSpeech" ]; then
    log "using existing $data_dir; skipping the download"
  else
    $ASR download --dest $dl_dir --parts $(echo $train_sets $test_sets | tr ' ' '\n' | sort -u) --lm
  fi
  stage_done 0
fi

if run_stage 1 "manifests"; then
  for s in $(echo $train_sets $test_sets | tr ' ' '\n' | sort -u); do
    $ASR prepare --root $data_dir --split $s --out $data/$s.jsonl
  done
  stage_done 1
fi

if run_stage 2 "global CMVN statistics"; then
  $ASR cmvn --manifest $(for s in $train_sets; do echo $data/$s.jsonl; done) --out $data/cmvn.pt
  stage_done 2
fi

if run_stage 3 "train"; then
  $ASR train --config $config --train $(for s in $train_sets; do echo $data/$s.jsonl; done) \
    --valid $data/$dev_set.jsonl --exp-dir $exp_dir train.cmvn=$data/cmvn.pt $train_args
  stage_done 3
fi

if run_stage 4 "decode"; then
  if [ -f "$lm_arpa" ]; then   # the official pruned 3-gram, with a spelling lexicon of its words
    $ASR lm --lexicon-from-arpa $lm_arpa --out-dir $data/lm
    lm=$lm_arpa
  else                         # no LM resources (offline): a 3-gram of the training transcripts
    $ASR lm --text $data/$(echo $train_sets | cut -d' ' -f1).jsonl --out-dir $data/lm
    lm=$data/lm/lm.arpa
  fi
  decode_sets $exp_dir/best.pt $data/lm/lexicon.txt $lm $(for s in $test_sets; do echo "$s=$data/$s.jsonl"; done)
  stage_done 4
fi

if run_stage 5 "score"; then
  $ASR report --exp-dir $exp_dir
  stage_done 5
fi
