#!/usr/bin/env bash
# Install the Debian packages the tests and recipes need (called by `make deps`).
#   tools/system_deps.sh "MAIN_PACKAGES" "NONFREE_PACKAGES"
# Packages from non-free (mbrola and pico TTS voices) need Debian's contrib/non-free components: when apt knows no
# candidate for them, this adds a sources entry for them (/etc/apt/sources.list.d/asr-contrib-nonfree.sources).
set -euo pipefail
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing() { for p in $1; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done; }
main_missing=$(missing "$1")
nonfree_missing=$(missing "${2:-}")
[ -n "$main_missing$nonfree_missing" ] || exit 0
echo "installing system packages:" $main_missing $nonfree_missing
$SUDO apt-get update -qq
first_nonfree=$(echo $nonfree_missing | cut -d' ' -f1)
if [ -n "$first_nonfree" ] && ! apt-cache policy "$first_nonfree" | grep -q 'Candidate: [0-9]'; then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
  echo "enabling Debian contrib/non-free ($codename)"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$codename" | $SUDO tee /etc/apt/sources.list.d/asr-contrib-nonfree.sources >/dev/null
  $SUDO apt-get update -qq
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $main_missing $nonfree_missing >/dev/null
