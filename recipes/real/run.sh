#!/usr/bin/env bash
# The next default model: a phone model (conf/phones.yaml) trained on real speech (speaker-disjoint dev and test
# held out; kathleen's native read speech held out whole as a second dev set), synthetic read sentences in many TTS
# voices and FSDD, with simulated rooms, noise,
# band limits, levels and hum, starting from the previous default model's encoder; the word 3-gram LM from book text
# and the training transcripts;
# decoding of the real and synthetic evaluation sets.
#   recipes/real/run.sh --real ../shared/data/real --text ../shared/data/text/sentences.txt \
#     --books ../shared/data/text/books.txt.xz --fsdd ../shared/data/fsdd --init-from asr/assets/default.pt
# Every stage is idempotent, and stage 4 resumes a killed run from exp_dir/last.pt with the same command (if exp/ is
# lost, the same command starts again from --init-from, e.g. the last shipped model).
cd "$(dirname "$0")/../.."
recipe_opts="real text books fsdd init_from exp_dir config num_synth seed workers lm_min_count lm_weight word_score
  beam_size speeds train_args"
real=""                      # shared/data/real: folders holding manifest.jsonl (required)
text=""                      # sentences for synthesis and the LM (required)
books=""                     # more LM text (plain or .xz), optional
fsdd=""                      # optional FSDD folder (george held out)
init_from=""                 # checkpoint to start from (the previous default model)
exp_dir=exp/real
config=conf/phones.yaml
num_synth=2400               # synthetic read sentences in the training voices (natural-sounding engines weighted up)
seed=1
workers=2
lm_min_count=2               # n-grams (n >= 2) seen fewer times are pruned from the LM
lm_weight=1.5                # decoding with the LM (tuned on the real dev set, docs/model_card.md)
word_score=-0.5
beam_size=512
speeds=1,0.9                 # each recording also tried 10% slower, keeping the better-scoring speed
train_args=""                # extra section.key=value overrides for asr train
source recipes/stages.sh
[ -n "$real" ] && [ -n "$text" ] || { echo "$0: --real and --text are required" >&2; exit 2; }
data=$exp_dir/data

if run_stage 0 "real speech: normalised, speaker-disjoint train/dev/test manifests"; then
  $ASR prepare --root "$real" --real-out-dir $data/real
  stage_done 0
fi

if run_stage 1 "synthesise training sentences (read speech in many voices) and the held-out synthetic test sets"; then
  $ASR synth --text "$text" --out-dir $data/corpus --split test --voices eval --num-utts 600 --max-sentences 2 \
    --seed $((seed + 101)) --workers $workers
  $ASR synth --text "$text" --out-dir $data/corpus --split test_natural --voices eval --engines flite,festival,mbrola,pico \
    --num-utts 200 --max-sentences 2 --seed $((seed + 102)) --workers $workers
  $ASR synth --text "$text" --out-dir $data/corpus --split train2 --voices train \
    --engines espeak,flite,festival,mbrola,pico,piper --engine-share flite=0.2,festival=0.2,mbrola=0.2,pico=0.1,piper=0.1 \
    --num-utts $num_synth --max-sentences 2 --noise-prob 0.3 --seed $((seed + 6)) --workers $workers
  stage_done 1
fi

if run_stage 2 "manifests of the synthetic sets and FSDD"; then
  for s in train2 test test_natural; do $ASR prepare --root $data/corpus --split $s --out $data/$s.jsonl; done
  [ -z "$fsdd" ] || $ASR prepare --root "$fsdd" --fsdd-out-dir $data/fsdd --test-speakers george
  stage_done 2
fi

if run_stage 3 "word 3-gram LM and lexicon: sentences, book text, training transcripts x3, digit strings and spelt words (evaluation sentences excluded)"; then
  transcripts=$data/real/train.jsonl                 # in-domain text: phone numbers, spelled names, isolated digits
  [ -z "$fsdd" ] || transcripts="$transcripts $data/fsdd/train.jsonl"
  held_out="$data/real/dev*.jsonl $data/real/test*.jsonl"
  [ -z "$fsdd" ] || held_out="$held_out $data/fsdd/test.jsonl"
  # shellcheck disable=SC2086  # word splitting of the file lists is meant
  $ASR lm --text "$text" $books $transcripts $transcripts $transcripts --exclude $held_out --exclude-held-out \
    --order 3 --min-count $lm_min_count --max-vocab 100000 --digit-strings 20000 --spellings 20000 --out-dir $data/lm
  # The bundled form: a KenLM trie with 8-bit quantised probabilities and back-offs (smaller, loads at once).
  bash tools/build_kenlm.sh $data/lm/bin
  $data/lm/bin/build_binary -q 8 -b 8 trie $data/lm/lm.arpa $data/lm/lm.bin
  stage_done 3
fi

if run_stage 4 "train (resumable), then export the best checkpoint with int8 weights"; then
  [ -n "$init_from" ] || { echo "$0: --init-from is required for training" >&2; exit 2; }
  fsdd_train=""
  [ -z "$fsdd" ] || fsdd_train=$data/fsdd/train.jsonl
  $ASR train --config $config --train $data/real/train.jsonl $data/train2.jsonl $fsdd_train \
    --valid $data/real/dev.jsonl $data/real/dev_kathleen.jsonl --exp-dir $exp_dir train.init_from=$init_from $train_args
  $ASR export --model $exp_dir/best.pt --int8-weights --out $exp_dir/default.pt --info recipe=recipes/real/run.sh
  stage_done 4
fi

if run_stage 5 "decode: real dev and held-out digits, synthetic test sets, FSDD george (greedy, beam + LM)"; then
  sets="real_dev=$data/real/dev.jsonl kathleen=$data/real/dev_kathleen.jsonl"
  sets="$sets real_dev_numbers=$data/real/dev_alphanumeric_numbers.jsonl"
  sets="$sets test=$data/test.jsonl test_natural=$data/test_natural.jsonl"
  [ -z "$fsdd" ] || sets="$sets fsdd_george=$data/fsdd/test.jsonl"
  for item in $sets; do
    set=${item%%=*} manifest=${item#*=}
    $ASR evaluate --model $exp_dir/default.pt --manifest "$manifest" --out $exp_dir/decode/${set}_greedy | tail -n 1
    $ASR evaluate --model $exp_dir/default.pt --manifest "$manifest" --out $exp_dir/decode/${set}_beam+lm \
      --lm $data/lm/lm.bin --lexicon $data/lm/lexicon.txt --lm-weight $lm_weight --word-score $word_score --beam-size $beam_size \
      --speeds $speeds | tail -n 1
  done
  stage_done 5
fi

if run_stage 6 "score"; then
  $ASR report --exp-dir $exp_dir
  stage_done 6
fi
