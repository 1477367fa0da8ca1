#!/bin/bash
# bench/cgi.sh - plain-CGI throughput of GET /flux/metric_data against a
# trivial C CGI (prints a 204) served by the same Apache with the same wrk
# settings: the ratio is the figure (process start-up is the floor of the
# CGI model). Also the peak RSS of one metric_data request.
#   usage: bash bench/cgi.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
CONN=${2:-8}
source tests/lib/flux.bash
# carbon logging every update would spend the CPU we are measuring.
export STACK_CARBON_LOG_UPDATES=False

bash tests/lib/deps.sh
make -s -j2
B=$(mktemp -d /tmp/flux-bench.XXXXXX)
trap 'stack_stop; rm -rf "$B"' EXIT
stack_init "$B"
start_redis
start_carbon
make -s install DESTDIR="$B/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null
# FLUX_BENCH_CONF: extra flux.conf lines, e.g. to isolate a cost.
write_conf ${FLUX_BENCH_CONF:+"$FLUX_BENCH_CONF"}
start_apache "$B/inst/usr/lib/cgi-bin/flux" "$FLUX_CONF"
# The baseline: a compiled trivial CGI in place of the stack's shell one.
cc -O2 -o "$B/apache/trivial/trivial" bench/trivial.c
chmod 755 "$B/apache/trivial/trivial"

# rate URL [wrk args]: requests/s, failing when any answer was not 2xx.
rate() {
	local out
	out=$(wrk -t2 -c"$CONN" -d"${DUR}s" "$@")
	if grep -q 'Non-2xx' <<<"$out"; then
		echo "non-2xx answers:" >&2; echo "$out" >&2; return 1
	fi
	awk '/Requests\/sec/ {print $2}' <<<"$out"
}

export FLUX_BENCH_KEY=$KEY
base="http://127.0.0.1:$APACHE_PORT"
trivial=$(rate "$base/trivial/trivial")
flux=$(rate -s bench/get.lua "$base/flux/metric_data")
sent=$( (find "$WHISPER_DIR/bench" -name '*.wsp' 2>/dev/null || true) | wc -l)

T=$(( $(date +%s) / 60 * 60 ))
rss=$(env -i FLUX_CONF="$FLUX_CONF" REQUEST_METHOD=GET \
	QUERY_STRING="metric=bench.rss&value=1&timestamp=$T&key=$KEY" \
	/usr/bin/time -f '%M' "$B/inst/usr/lib/cgi-bin/flux/metric_data" \
	</dev/null 2>&1 >/dev/null | tail -1)

printf '%-34s %12s\n' "trivial CGI (req/s)" "$trivial"
printf '%-34s %12s\n' "metric_data plain CGI (req/s)" "$flux"
printf '%-34s %12s\n' "ratio metric_data / trivial" "$(awk -v a="$flux" -v b="$trivial" 'BEGIN {printf "%.3f", a / b}')"
printf '%-34s %12s\n' "peak RSS of one request (KiB)" "$rss"
printf '%-34s %12s\n' "metrics that reached whisper" "$sent"
