# Shared by the recipes' run.sh: option parsing, the stage guard, logging, and the decode/score stages.
# A recipe sets its defaults, sources this file with "$@", then lists its stages. All logic lives in `python -m asr`.
set -euo pipefail

recipe_cmd="$0 $*"
stage=${stage:-0}
stop_stage=${stop_stage:-100}
overwrite=false
# Parse --name value options into the variables the recipe declared (--stop-stage → stop_stage).
while [ $# -gt 0 ]; do
  name=$(echo "${1#--}" | tr '-' '_')
  if [ "$1" = "--help" ] || [ "$1" = "-h" ] || ! declare -p "$name" >/dev/null 2>&1; then
    echo "usage: $0 [--stage N] [--stop-stage M] [--overwrite true]$(for v in $recipe_opts; do printf ' [--%s X]' "${v//_/-}"; done)" >&2
    [ "$1" = "--help" ] || [ "$1" = "-h" ] && exit 0
    echo "$0: unknown option $1" >&2; exit 2
  fi
  [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 2; }
  printf -v "$name" '%s' "$2"
  shift 2
done

ASR=${ASR:-python -m asr}
mkdir -p "$exp_dir"
echo "$recipe_cmd" > "$exp_dir/run.sh.cmd"  # how this experiment was run

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*" >&2; }

# run_stage N DESCRIPTION: true when stage N is selected and not yet done (a .done marker under $exp_dir/.stages).
run_stage() {
  local n=$1; shift
  [ "$stage" -le "$n" ] && [ "$stop_stage" -ge "$n" ] || return 1
  if [ -f "$exp_dir/.stages/$n.done" ] && [ "$overwrite" != true ]; then
    log "stage $n ($*): done already (remove $exp_dir/.stages/$n.done or pass --overwrite true to redo)"
    return 1
  fi
  log "stage $n: $*"
  return 0
}
stage_done() { mkdir -p "$exp_dir/.stages"; touch "$exp_dir/.stages/$1.done"; }

# decode_sets MODEL LEXICON LM SET=MANIFEST...: greedy, beam and beam+LM on each set, then RESULTS.md.
decode_sets() {
  local model=$1 lexicon=$2 lm=$3; shift 3
  for item in "$@"; do
    local set=${item%%=*} manifest=${item#*=}
    $ASR evaluate --model "$model" --manifest "$manifest" --out "$exp_dir/decode/${set}_greedy" | tail -n 1
    $ASR evaluate --model "$model" --manifest "$manifest" --out "$exp_dir/decode/${set}_beam" --decoder beam | tail -n 1
    $ASR evaluate --model "$model" --manifest "$manifest" --out "$exp_dir/decode/${set}_beam+lm" \
      --lm "$lm" --lexicon "$lexicon" | tail -n 1
  done
}
