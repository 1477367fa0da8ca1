#!/bin/bash
# tests/lib/check.sh - the README's test command: install the Debian
# packages that are missing, build, and run the whole suite (each suite
# starts its own redis-server, carbon-cache and Apache on private ports).
# With SANITIZE=1 in the environment the suite runs a second time on an
# AddressSanitizer + UndefinedBehaviorSanitizer build; with VALGRIND=1 the
# CGI suites run once more with every CGI under valgrind; with FUZZ=1 every
# fuzz harness runs for 10 seconds; with CLUSTER=1 the multi-node test
# (make check-cluster: Sentinel, carbon-c-relay, two nodes) runs too.
set -euo pipefail
cd "$(dirname "$0")/../.."
# make reads SANITIZE from the environment too: keep it to the runs below.
sanitize=${SANITIZE:-0} valgrind=${VALGRIND:-0} fuzz=${FUZZ:-0}
cluster=${CLUSTER:-0}
unset SANITIZE VALGRIND FUZZ CLUSTER
bash tests/tools/deps.sh
if [ "$sanitize" = 1 ]; then
	make clean >/dev/null
	make -j2 SANITIZE=1
	make check SANITIZE=1
fi
make clean >/dev/null
make -j2
if [ "$valgrind" = 1 ]; then
	make check-valgrind
fi
if [ "$fuzz" = 1 ]; then
	# Every fuzz harness for a short while: the committed corpora, crash
	# inputs included, are replayed first, so a regression fails here.
	make fuzz FUZZ_SECONDS=10
fi
if [ "$cluster" = 1 ]; then
	make check-cluster
fi
# Last, so its summary is the run's closing line.
make check
