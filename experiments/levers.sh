#!/usr/bin/env bash
# Which lever moves the real dev WER? Short fine-tunes of the synthetic-speech model (version 9), each changing one
# thing against a baseline (the recipe's mix: real speech x2, synthetic x2, FSDD, channel augmentation), all with the
# same budget of steps and batch size: greedy dev WER/CER during each run, default decoding (beam + bundled LM) of
# the whole real dev set at its end, then one table and one plot. Needs stages 0-2 of recipes/real/run.sh.
#   experiments/levers.sh --data exp/real/data --init-from exp/default_v9.pt --narrow-from exp/default_v7.pt
# Each lever is a stage (idempotent; a killed run resumes from its last.pt with the same command); stage 9 repeats
# the baseline with another seed, to show how far apart two runs of the same set-up land; stage 10 the peak learning rate.
cd "$(dirname "$0")/.."
recipe_opts="data init_from narrow_from narrow_hidden exp_dir config steps batch_seconds lr valid_utts valid_every train_args"
data=""                      # stages 0-2 output of recipes/real/run.sh (required)
init_from=""                 # the synthetic-speech model every lever starts from (required)
narrow_from=""               # a narrower synthetic-speech model, for the width lever (stage 8; optional)
narrow_hidden=384            # ... and its units per direction (version 7: 384)
exp_dir=exp/levers
config=conf/default.yaml
steps=200                    # optimiser steps per lever
batch_seconds=80             # audio per batch
lr=3e-4                      # peak learning rate of every lever but stage 10's
valid_utts=300               # real dev clips validated (greedy) during each run
valid_every=50
train_args=""                # extra section.key=value overrides for every run
source recipes/stages.sh  # sets ASR; ${ASR% -m asr} is its Python, which runs the plot tool too
[ -n "$data" ] && [ -n "$init_from" ] || { echo "$0: --data and --init-from are required" >&2; exit 2; }
real=$data/real/train.jsonl synth=$data/train2.jsonl fsdd=$data/fsdd/train.jsonl
warmup=$((steps / 5))

# lever NAME DESCRIPTION MANIFESTS... -- OVERRIDES...: one short fine-tune, then the whole real dev set decoded.
lever() {
  local name=$1 what=$2 manifests=() overrides=()
  shift 2
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do manifests+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  overrides=("$@")
  local dir=$exp_dir/$name
  mkdir -p "$dir"
  echo "$what" > "$dir/lever.txt"
  # shellcheck disable=SC2086
  $ASR train --config $config --train "${manifests[@]}" --valid $data/real/dev.jsonl --exp-dir "$dir" \
    train.init_from=$init_from train.max_steps=$steps train.max_batch_seconds=$batch_seconds \
    train.valid_every=$valid_every train.valid_max_utts=$valid_utts train.save_every=$valid_every \
    optim.lr=$lr optim.warmup_steps=$warmup $train_args "${overrides[@]}"
  $ASR evaluate --model "$dir/last.pt" --manifest $data/real/dev.jsonl --out "$dir/decode_dev" \
    --lm asr/assets/lm.bin --lexicon asr/assets/lexicon.txt --lm-weight 1.5 --word-score -0.5 --beam-size 128 \
    | tail -n 1 | tee "$dir/dev_default.txt"
}

if run_stage 0 "subsets of the real training speech (every 2nd and 4th clip) and CMVN over real + synthetic speech"; then
  awk 'NR % 2 == 1' $real > $data/real/train_half.jsonl
  awk 'NR % 4 == 1' $real > $data/real/train_quarter.jsonl
  $ASR cmvn --manifest $real $synth --out $data/cmvn_real_synth.pt
  stage_done 0
fi
if run_stage 1 "baseline: real x2 (20 h), synthetic x2 (5.4 h), FSDD, channel augmentation"; then
  lever baseline "baseline" $synth $synth $real $real $fsdd
  stage_done 1
fi
if run_stage 2 "real hours: a quarter of the real clips (2.5 h), x2"; then
  lever real_quarter "real hours 2.5" $synth $synth $data/real/train_quarter.jsonl $data/real/train_quarter.jsonl $fsdd
  stage_done 2
fi
if run_stage 3 "real hours: half of the real clips (5 h), x2"; then
  lever real_half "real hours 5" $synth $synth $data/real/train_half.jsonl $data/real/train_half.jsonl $fsdd
  stage_done 3
fi
if run_stage 4 "mix weight: real speech only"; then
  lever real_only "real share 100%" $real
  stage_done 4
fi
if run_stage 5 "mix weight: real x1, synthetic x6 (38% real)"; then
  lever synth_heavy "real share 38%" $synth $synth $synth $synth $synth $synth $real $fsdd
  stage_done 5
fi
if run_stage 6 "augmentation: no simulated channels (rooms, noise, low-pass, levels, hum)"; then
  lever no_channels "no channel augmentation" $synth $synth $real $real $fsdd -- \
    train.reverb_prob=0 train.noise_prob=0 train.lowpass_prob=0 train.gain_prob=0 train.hum_prob=0
  stage_done 6
fi
if run_stage 7 "normalisation: CMVN statistics over real + synthetic speech instead of the synthetic model's"; then
  lever cmvn_real "CMVN real+synthetic" $synth $synth $real $real $fsdd -- train.cmvn=$data/cmvn_real_synth.pt
  stage_done 7
fi
if run_stage 8 "width: the narrower synthetic-speech model (--narrow-from)"; then
  if [ -n "$narrow_from" ]; then
    init_from=$narrow_from lever narrow "width $narrow_hidden" $synth $synth $real $real $fsdd -- \
      model.hidden=$narrow_hidden
  fi
  stage_done 8
fi
if run_stage 9 "noise: the baseline again with another seed (another order of batches and augmentations)"; then
  lever baseline_seed2 "baseline, seed 2" $synth $synth $real $real $fsdd -- train.seed=2
  stage_done 9
fi
if run_stage 10 "optimiser: peak learning rate 1e-3 instead of $lr"; then
  lever lr_1e-3 "peak lr 1e-3" $synth $synth $real $real $fsdd -- optim.lr=1e-3
  stage_done 10
fi
if run_stage 11 "table and plot"; then
  ${ASR% -m asr} experiments/plot_levers.py --exp-dir $exp_dir --out $exp_dir/levers.png | tee $exp_dir/levers.md
  stage_done 11
fi
