#!/usr/bin/env bash
# Offline recipe: synthesise a corpus with TTS voices (training voices ≠ evaluation voices), optionally add the
# Free Spoken Digit Dataset, train, decode with greedy / beam / beam + word 3-gram LM, and score.
#   recipes/synth/run.sh --text ../shared/data/text/sentences.txt --fsdd ../shared/data/fsdd --exp-dir exp/synth
cd "$(dirname "$0")/../.."
recipe_opts="text fsdd fsdd_test_speakers fsdd_repeat exp_dir config num_train num_natural natural_engines natural_share num_digits
  num_dev num_test num_test_natural noise_prob seed workers train_args"
text=""                      # sentences, one per line (required)
fsdd=""                      # optional FSDD folder; its held-out speaker becomes a test set
fsdd_test_speakers=george    # held out from training (comma-separated)
fsdd_repeat=3                # the FSDD training recordings are real speech: list them this many times per epoch
exp_dir=exp/synth
config=conf/default.yaml
num_train=30000
num_natural=8000             # more sentence utterances, weighted towards the natural-sounding voices:
natural_engines=espeak,flite,festival,mbrola,pico,piper
natural_share=flite=0.2,festival=0.2,mbrola=0.2,pico=0.1,piper=0.1   # the rest is espeak
num_digits=8000             # spoken digit strings (1-4 digits) in the training voices; 0 = none
num_dev=300
num_test=600
num_test_natural=200         # a second test set in the natural-sounding held-out voices (flite, festival, mbrola, pico)
noise_prob=0.3
seed=1
workers=2
train_args=""                # extra section.key=value overrides for asr train
source recipes/stages.sh
[ -n "$text" ] || { echo "$0: --text is required" >&2; exit 2; }
data=$exp_dir/data

if run_stage 0 "synthesise train/dev/test"; then
  $ASR synth --text "$text" --out-dir $data/corpus --split train --voices train --num-utts $num_train \
    --max-sentences 2 --noise-prob $noise_prob --seed $seed --workers $workers
  if [ "$num_natural" -gt 0 ]; then
    $ASR synth --text "$text" --out-dir $data/corpus --split train2 --voices train --engines $natural_engines \
      --engine-share $natural_share --num-utts $num_natural --max-sentences 2 --noise-prob $noise_prob \
      --seed $((seed + 6)) --workers $workers
  fi
  if [ "$num_digits" -gt 0 ]; then
    printf '%s\n' zero one two three four five six seven eight nine > $data/digits.txt
    $ASR synth --text $data/digits.txt --sentences all --out-dir $data/corpus --split digits --voices train \
      --num-utts $num_digits --max-sentences 4 --noise-prob $noise_prob --seed $((seed + 2)) --workers $workers
  fi
  $ASR synth --text "$text" --out-dir $data/corpus --split dev --voices eval --num-utts $num_dev --max-sentences 2 \
    --seed $((seed + 100)) --workers $workers
  $ASR synth --text "$text" --out-dir $data/corpus --split test --voices eval --num-utts $num_test --max-sentences 2 \
    --seed $((seed + 101)) --workers $workers
  if [ "$num_test_natural" -gt 0 ]; then
    $ASR synth --text "$text" --out-dir $data/corpus --split test_natural --voices eval --engines flite,festival,mbrola,pico \
      --num-utts $num_test_natural --max-sentences 2 --seed $((seed + 102)) --workers $workers
  fi
  stage_done 0
fi

if run_stage 1 "manifests"; then
  for s in train dev test; do $ASR prepare --root $data/corpus --split $s --out $data/$s.jsonl; done
  [ "$num_digits" -eq 0 ] || $ASR prepare --root $data/corpus --split digits --out $data/digits.jsonl
  [ "$num_natural" -eq 0 ] || $ASR prepare --root $data/corpus --split train2 --out $data/train2.jsonl
  [ "$num_test_natural" -eq 0 ] || $ASR prepare --root $data/corpus --split test_natural --out $data/test_natural.jsonl
  [ -z "$fsdd" ] || $ASR prepare --root "$fsdd" --fsdd-out-dir $data/fsdd --test-speakers $fsdd_test_speakers
  stage_done 1
fi

if run_stage 2 "word 3-gram LM and lexicon from the training sentences (evaluation sentences held out)"; then
  $ASR lm --text "$text" --exclude-held-out --order 3 --out-dir $data/lm
  # A digit grammar for the FSDD test (the task's vocabulary, like a Vosk grammar): from the FSDD training transcripts.
  [ -z "$fsdd" ] || $ASR lm --text $data/fsdd/train.jsonl --order 2 --out-dir $data/lm_digits
  stage_done 2
fi

if run_stage 3 "train"; then
  extra=""; [ "$num_digits" -eq 0 ] || extra=$data/digits.jsonl
  [ "$num_natural" -eq 0 ] || extra="$extra $data/train2.jsonl"
  [ -z "$fsdd" ] || for _ in $(seq "$fsdd_repeat"); do extra="$extra $data/fsdd/train.jsonl"; done
  $ASR train --config $config --train $data/train.jsonl $extra --valid $data/dev.jsonl --exp-dir $exp_dir $train_args
  stage_done 3
fi

if run_stage 4 "decode"; then
  sets="dev=$data/dev.jsonl test=$data/test.jsonl"
  [ "$num_test_natural" -eq 0 ] || sets="$sets test_natural=$data/test_natural.jsonl"
  [ -z "$fsdd" ] || sets="$sets fsdd_test=$data/fsdd/test.jsonl"
  decode_sets $exp_dir/best.pt $data/lm/lexicon.txt $data/lm/lm.arpa $sets
  [ -z "$fsdd" ] || $ASR evaluate --model $exp_dir/best.pt --manifest $data/fsdd/test.jsonl \
    --out $exp_dir/decode/fsdd_test_beam+digits --lm $data/lm_digits/lm.arpa --lexicon $data/lm_digits/lexicon.txt | tail -n 1
  stage_done 4
fi

if run_stage 5 "score"; then
  $ASR report --exp-dir $exp_dir
  stage_done 5
fi
