# shellcheck shell=bash
# bench/lib.bash - what bench/run.sh, clients.sh and cluster.sh share:
# messages, and bench_stack NAME, which checks the packages, builds, and
# starts a private stack (tests/lib/stack.bash) in a new /tmp/flux-NAME.*
# directory with redis and carbon-cache, Flux installed under $B/inst
# (CGIDIR: its programs). The stack stops on exit (BENCH_STOP, default
# stack_stop; cluster.sh: cluster_stop), and its directory goes unless
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
	BENCH_STOP=${BENCH_STOP:-stack_stop}
	if [ "${FLUX_BENCH_KEEP:-0}" = 1 ]; then
		trap '"$BENCH_STOP" >/dev/null 2>&1; echo "bench: stack kept in $B" >&2' EXIT
	else
		trap '"$BENCH_STOP" >/dev/null 2>&1; rm -rf "$B"' EXIT
	fi
	stack_init "$B" || die "stack_init failed"
	start_redis && start_carbon || die "redis/carbon did not start"
	make -s install DESTDIR="$B/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null ||
		die "make install failed"
	CGIDIR="$B/inst/usr/lib/flux/cgi-bin"
}

# cpu_ticks ERE: the CPU time (user + system, in clock ticks) used so far
# by the processes whose command line matches ERE.
cpu_ticks() {
	local p cmd s t=0
	local -a f
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) || continue
		[[ $cmd =~ $1 ]] || continue
		s=$(<"$p/stat") 2>/dev/null || continue
		# After "pid (comm) ": state is f[0], utime f[11], stime f[12].
		read -ra f <<<"${s##*) }"
		t=$((t + f[11] + f[12]))
	done
	echo "$t"
}

# cpu_mark NAME=ERE...: remembers each group's CPU time now (CPU_<NAME>).
# cpu_used SECONDS NAME=ERE...: each group's cores used since its mark,
# as "name 0.42 name 0.10 ...".
cpu_mark() {
	local g
	for g in "$@"; do
		printf -v "CPU_${g%%=*}" '%s' "$(cpu_ticks "${g#*=}")"
	done
}
cpu_used() {
	local secs=$1 g v out="" hz
	hz=$(getconf CLK_TCK)
	shift
	for g in "$@"; do
		v="CPU_${g%%=*}"
		out+=$(awk -v a="${!v}" -v b="$(cpu_ticks "${g#*=}")" -v hz="$hz" -v s="$secs" \
			-v n="${g%%=*}" 'BEGIN { printf "%s %.2f ", n, (b - a) / hz / s }')
	done
	echo "${out% }"
}
