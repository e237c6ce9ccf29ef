#!/usr/bin/env bash
# Install the Debian packages the tests and recipes need (called by `make deps`).
#   tools/system_deps.sh "MAIN_PACKAGES" "NONFREE_PACKAGES"
# Packages from non-free (mbrola and pico TTS voices) need Debian's contrib/non-free components: when apt knows no
# candidate for them, this adds a sources entry for them (/etc/apt/sources.list.d/asr-contrib-nonfree.sources).
set -euo pipefail
main_pkgs=$1
nonfree_pkgs=${2:-}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

missing=""
for p in $main_pkgs $nonfree_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -n "$missing" ] || exit 0
echo "installing system packages:$missing"
$SUDO apt-get update -qq
for p in $nonfree_pkgs; do
  case " $missing " in *" $p "*) ;; *) continue ;; esac
  if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    echo "enabling Debian contrib/non-free ($codename) for:$nonfree_pkgs"
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: contrib non-free\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$codename" | $SUDO tee /etc/apt/sources.list.d/asr-contrib-nonfree.sources >/dev/null
    $SUDO apt-get update -qq
  fi
  break
done
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
