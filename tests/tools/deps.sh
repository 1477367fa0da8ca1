#!/bin/bash
# tests/tools/deps.sh - the Debian packages Flux needs, in groups:
#   build  to compile it
#   test   for make check, the benches (bench/) and the demo
#   pkg    to build the Debian package and run tests/pkg/test-package.sh
#
#   deps.sh [GROUP...]          install what is missing (default: build test)
#   deps.sh --check [GROUP...]  install nothing: name what is missing, exit 1
#
# Installing is quiet when nothing is missing (CI re-runs stay fast); it
# uses sudo when not root. Installing apache2 or redis-server may try to
# start their system services: harmless, the tests never use them. Those
# of redis-sentinel and carbon-c-relay are kept from starting (below).
#
# The check is what make check runs first, so that a missing tool stops
# the suite at once with the package to install, instead of a "command not
# found" deep inside a test. A package counts as present when dpkg says it
# is installed, or when every command listed for it is on PATH (a system
# without dpkg, or a tool installed another way).
set -euo pipefail

# Each line: a group, a Debian package, then the commands of it that the
# build, the tests, the benches or the demo run (none for a library). A
# test that runs a new command adds its package here.
FLUX_DEBS='
build build-essential         make gcc
build pkg-config              pkg-config
build libhiredis-dev
build libcjson-dev
build libcsv-dev
build zlib1g-dev
build libcurl4-openssl-dev
build libarchive-dev
build libfcgi-dev
build libyajl-dev
build libexpat1-dev
test  clang                   clang
# (the fuzz harnesses link the libFuzzer and sanitizer runtimes of clang)
test  libclang-rt-dev
# (tests/lib/sheet.bash writes workbooks with these)
test  python3-openpyxl
test  python3-xlwt
# (tests/browser.bats: the chromium of Debian, driven over its DevTools
# protocol by tests/browser/pages.py, with a font for its screenshots)
test  chromium                chromium
test  fonts-dejavu-core
test  bats                    bats
test  perl                    prove
test  apache2                 apache2 htpasswd
test  libapache2-mod-fcgid
test  spawn-fcgi              spawn-fcgi
test  multiwatch              multiwatch
test  systemd                 systemd-analyze
test  libfcgi-bin             cgi-fcgi
test  redis-server            redis-server
test  redis-tools             redis-cli
# (tests/cluster and bench/cluster.sh: Redis behind Sentinel, and the relay)
test  redis-sentinel          redis-sentinel
test  carbon-c-relay          carbon-c-relay
test  graphite-carbon         carbon-cache
test  python3-whisper         whisper-fetch
test  graphite-web            graphite-manage
test  prometheus              prometheus
test  python3                 python3
test  curl                    curl
test  wrk                     wrk
test  valgrind                valgrind
test  procps                  ps pkill
test  iproute2                ss
test  jq                      jq
test  xxd                     xxd
test  zip                     zip
test  e2fsprogs               chattr
test  bsdutils                script
test  git                     git
test  mandoc                  mandoc
test  time                    time
pkg   dpkg-dev                dpkg-buildpackage
pkg   debhelper               dh
pkg   fakeroot                fakeroot
pkg   lintian                 lintian
pkg   curl                    curl
pkg   python3                 python3
pkg   graphite-carbon         carbon-cache
pkg   python3-whisper         whisper-fetch
pkg   procps                  ps
pkg   iproute2                ss
'

check=0
if [ "${1:-}" = --check ]; then check=1; shift; fi
groups=" ${*:-build test} "

# present PACKAGE [COMMAND...]
present() {
	local pkg=$1 status cmd
	shift
	status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || status=""
	# "installed" only for fully installed packages (not config-files).
	[ "$status" = installed ] && return 0
	[ $# -gt 0 ] || ! command -v dpkg-query >/dev/null || return 1
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null || return 1
	done
}

missing=() tools=()
while read -r group pkg cmds; do
	[ -n "$group" ] && [[ $groups == *" $group "* ]] || continue
	[[ " ${missing[*]} " == *" $pkg "* ]] && continue
	# shellcheck disable=SC2086  # one word per command
	if ! present "$pkg" $cmds; then
		missing+=("$pkg")
		tools+=("$pkg${cmds:+ (${cmds// /, })}")
	fi
done <<<"$FLUX_DEBS"

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$check" = 1 ]; then
	echo "missing Debian packages: ${tools[*]}" >&2
	echo "install them with: bash tests/tools/deps.sh${*:+ $*}" \
		"(or apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "deps.sh: installing missing packages: ${missing[*]}"
SUDO=()
if [ "$EUID" -ne 0 ]; then
	SUDO=(sudo)
fi
# Installed with their services kept from starting: redis-sentinel's would
# take port 26379 and carbon-c-relay's port 2003 on every interface, where
# the tests run their own sentinels and relays on private ports. They are
# installed on their own, under an invoke-rc.d policy that refuses every
# start (unless the machine has a policy already: a container's does the
# same). The services stay enabled for the next boot.
NO_START=" redis-sentinel carbon-c-relay "
first=() quiet=()
for pkg in "${missing[@]}"; do
	if [[ $NO_START == *" $pkg "* ]]; then quiet+=("$pkg"); else first+=("$pkg"); fi
done
"${SUDO[@]}" apt-get update
if [ ${#first[@]} -gt 0 ]; then
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${first[@]}"
fi
if [ ${#quiet[@]} -gt 0 ]; then
	policy=/usr/sbin/policy-rc.d made=0 rc=0
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# tests/tools/deps.sh: no service starts while it installs\nexit 101\n' |
			"${SUDO[@]}" tee "$policy" >/dev/null
		"${SUDO[@]}" chmod 755 "$policy"
		made=1
	fi
	"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y --no-install-recommends "${quiet[@]}" || rc=$?
	if [ "$made" = 1 ]; then "${SUDO[@]}" rm -f "$policy"; fi
	exit "$rc"
fi
