#!/bin/bash
# tests/lib/deps.sh - install the Debian packages Flux needs to build and
# test, but only if one of them is missing (so CI re-runs stay quiet/fast).
# Uses sudo only when not root.  Installing apache2/redis-server may try to
# start the system services; harmless: the tests never use those instances.
set -euo pipefail

# One package per word; extend here.
FLUX_DEB_PACKAGES="
  build-essential pkg-config make gcc clang
  libhiredis-dev libcjson-dev libcsv-dev zlib1g-dev
  libcurl4-openssl-dev libarchive-dev libfcgi-dev libyajl-dev libexpat1-dev time
  bats apache2 libapache2-mod-fcgid spawn-fcgi
  redis-server graphite-carbon python3-whisper graphite-web prometheus
  curl wrk valgrind procps iproute2 jq
  zip python3-openpyxl python3-xlwt
"

missing=()
for pkg in $FLUX_DEB_PACKAGES; do
  # db:Status-Status is "installed" only for fully installed packages
  # ("config-files", "not-installed", unknown -> missing).
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=""
  if [ "$status" != installed ]; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps.sh: installing missing packages: ${missing[*]}"
SUDO=()
if [ "$EUID" -ne 0 ]; then
  SUDO=(sudo)
fi
"${SUDO[@]}" apt-get update
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
