#!/usr/bin/env bash
# Build KenLM's `build_binary` (ARPA → compact binary LM) from the kenlm source distribution on PyPI.
# PyPI's kenlm wheel and Debian have no build_binary; this needs only g++ (about 3 minutes on 2 cores).
#   tools/build_kenlm.sh [DEST]      # writes DEST/build_binary (default: .venv/bin)
set -euo pipefail
dest=${1:-.venv/bin}
mkdir -p "$dest" && dest=$(cd "$dest" && pwd)
version=0.3.0
[ -x "$dest/build_binary" ] && { echo "$dest/build_binary exists"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url=$(curl -fsSL https://pypi.org/pypi/kenlm/json | python3 -c "import json, sys
print(next(u['url'] for u in json.load(sys.stdin)['releases']['$version'] if u['url'].endswith('.tar.gz')))")
curl -fsSL -o "$work/kenlm-$version.tar.gz" "$url"
tar xzf "$work"/kenlm-$version.tar.gz -C "$work"
cd "$work/kenlm-$version"
flags="-I. -O2 -w -DNDEBUG -DKENLM_MAX_ORDER=6"
objects=""
for f in util/double-conversion/*.cc util/*.cc lm/*.cc; do
  case $f in *test.cc|*main.cc) continue ;; esac
  objects="$objects ${f%.cc}.o"
  echo "${f%.cc}.o: $f"
done > objects.mk
printf 'all: build_binary\n%%.o: %%.cc\n\t$(CXX) %s -c $< -o $@\nbuild_binary: %s\n\t$(CXX) lm/build_binary_main.cc %s -o $@ %s -lrt\n' \
  "$flags" "$objects" "$objects" "$flags" > Makefile.asr
make -s -j"$(nproc)" -f Makefile.asr -f objects.mk build_binary
cp build_binary "$dest/build_binary"
echo "wrote $dest/build_binary"
