# shellcheck shell=bash
# bench/lib.bash - what bench/run.sh and bench/clients.sh share: messages,
# and bench_stack NAME, which checks the packages, builds, and starts a
# private stack (tests/lib/stack.bash) in a new /tmp/flux-NAME.* directory
# with redis and carbon-cache, Flux installed under $B/inst (CGIDIR: its
# programs). The stack stops on exit, and its directory goes unless
# FLUX_BENCH_KEEP=1. Source it from the top of the tree.
# shellcheck source=../tests/lib/flux.bash
source tests/lib/flux.bash

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
FAILED=0
failed() { echo "bench: FAILED: $*" >&2; FAILED=1; }

bench_stack() {
	bash tests/tools/deps.sh || die "missing packages"
	make -s -j2 all || die "build failed"
	B=$(mktemp -d "/tmp/flux-$1.XXXXXX")
	if [ "${FLUX_BENCH_KEEP:-0}" = 1 ]; then
		trap 'stack_stop; echo "bench: stack kept in $B" >&2' EXIT
	else
		trap 'stack_stop; rm -rf "$B"' EXIT
	fi
	stack_init "$B" || die "stack_init failed"
	start_redis && start_carbon || die "redis/carbon did not start"
	make -s install DESTDIR="$B/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null ||
		die "make install failed"
	CGIDIR="$B/inst/usr/lib/flux/cgi-bin"
}
