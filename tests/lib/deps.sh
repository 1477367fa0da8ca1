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
  redis-server redis-sentinel graphite-carbon python3-whisper graphite-web prometheus
  carbon-c-relay
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

# Installed with their services kept from starting: redis-sentinel's would
# take port 26379 and carbon-c-relay's port 2003 on every interface, and
# the tests run their own sentinels and relays on private ports. They are
# installed on their own, under an invoke-rc.d policy that refuses every
# start (unless the machine has a policy already: a container's does the
# same). The services stay enabled for the next boot.
NO_START="redis-sentinel carbon-c-relay"
first=() quiet=()
for pkg in "${missing[@]}"; do
  case " $NO_START " in
    *" $pkg "*) quiet+=("$pkg") ;;
    *) first+=("$pkg") ;;
  esac
done
"${SUDO[@]}" apt-get update
if [ ${#first[@]} -gt 0 ]; then
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${first[@]}"
fi
if [ ${#quiet[@]} -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  made=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# tests/lib/deps.sh: no service starts while it installs\nexit 101\n' |
      "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    made=1
  fi
  rc=0
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${quiet[@]}" || rc=$?
  if [ "$made" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi
  exit "$rc"
fi
