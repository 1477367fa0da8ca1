#!/bin/bash
# bench/populate_memory.sh - flux-batch populate's peak memory (and time)
# for one job of several large remote answers, against an older revision
# built and run in the same run on the same answers (SPEC 10: figures are
# ratios against a baseline measured in the same run).
#
# The remote is tests/tools/remote.py serving one Graphite render answer of
# POINTS datapoints (10-second steps, ending a minute ago) to each of the
# job's ANSWERS URLs. Issue 11 measured 522 MB for 8 answers of ~1.3 M
# points before answers were streamed into bins.
#
#   usage: bash bench/populate_memory.sh [BASE_REV] [ANSWERS] [POINTS]
#          (defaults: main, 8, 1300000)
# Needs: make, tests/tools/deps.sh packages, GNU time (/usr/bin/time).
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
BASE=${1:-main}
ANSWERS=${2:-8}
POINTS=${3:-1300000}
# shellcheck source=../tests/lib/flux.bash
source "$TOP/tests/lib/flux.bash"
PY=/usr/bin/python3

die() { echo "bench: $*" >&2; exit 1; }

[ -x /usr/bin/time ] || die "needs GNU time (apt-get install time)"
make -s -C "$TOP" -j2 all >/dev/null || die "make failed"
B=$(mktemp -d /tmp/flux-popmem.XXXXXX)
stack_init "$B/stack" || die "stack_init failed"
trap 'stack_stop; git -C "$TOP" worktree remove --force "$B/base" >/dev/null 2>&1; rm -rf "$B"' EXIT
git -C "$TOP" worktree add -q --detach "$B/base" "$BASE" || die "no revision $BASE"
make -s -C "$B/base" -j2 all >/dev/null 2>&1 || die "cannot build $BASE"
start_redis && start_fake_remote || die "stack did not start"
# Settings both revisions know; nothing is sent to carbon, so what is
# measured is fetching, parsing and binning.
write_conf "FLUX_SEND_TO_CARBON = false" "GRAPHITE_PORT = $(flux_free_port)"
# The older build must read the file too: settings it may not know go.
sed -i -e '/^FLUX_SELF_METRICS /d' -e '/^FLUX_BATCH_LOG /d' "$FLUX_CONF"
export FLUX_FETCH_TIMEOUT_MS=120000

END=$(( $(date +%s) / 60 * 60 - 60 ))
"$PY" - "$REMOTE_DIR/big.json" "$END" "$POINTS" <<'PY' || die "cannot write the answer"
import math, sys
path, end, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    f.write('[{"target": "bench.remote", "datapoints": [')
    f.write(", ".join("[%.6f, %d]" % (math.sin(i / 97.0) * 1000, end - (n - 1 - i) * 10)
                      for i in range(n)))
    f.write("]}]")
PY
SIZE=$(stat -c %s "$REMOTE_DIR/big.json")
urls_json=$(for i in $(seq "$ANSWERS"); do echo "$REMOTE_URL/file/big.json?answer=$i"; done |
	jq -Rnc '[inputs]')

# run TOP METRIC: queue a job with that tree's CGI, run its flux-batch;
# prints "<peak RSS KiB> <seconds>".
run() {
	local tree=$1 metric=$2 body="$B/body.json"
	jq -nc --arg k "$KEY" --arg m "$metric" --argjson u "$urls_json" \
	    '{remote_host_type: "graphite", remote_target: "bench.remote", metric: $m,
	    namespace_prefix: null, key: $k, token: "None", user: "None",
	    password: "None", fetch_resolution_urls: $u}' > "$body"
	env -i "PATH=$PATH" "FLUX_CONF=$FLUX_CONF" REQUEST_METHOD=POST QUERY_STRING= \
	    "CONTENT_LENGTH=$(stat -c %s "$body")" "$tree/cgi-bin/populate_metric" \
	    < "$body" > "$B/cgi.out" 2>&1 || die "populate_metric failed"
	grep -q '^Status: 204' "$B/cgi.out" || die "populate_metric: $(cat "$B/cgi.out")"
	/usr/bin/time -f '%M %e' -o "$B/time" "$tree/batch/flux-batch" populate \
	    2>"$B/batch.log" || die "flux-batch ($tree) failed: $(tail -3 "$B/batch.log")"
	grep -q "$ANSWERS of $ANSWERS URLs fetched" "$B/batch.log" ||
	    die "flux-batch ($tree) did not fetch every answer: $(tail -3 "$B/batch.log")"
	cat "$B/time"
}

read -r base_kib base_s < <(run "$B/base" bench.base) || exit 1
read -r new_kib new_s < <(run "$TOP" bench.new) || exit 1
echo "job: $ANSWERS URLs, each answering $POINTS datapoints ($((SIZE / 1048576)) MiB of Graphite JSON)"
echo "baseline $BASE ($(git -C "$TOP" rev-parse --short "$BASE")): peak RSS $((base_kib / 1024)) MiB, $base_s s"
echo "this tree ($(git -C "$TOP" rev-parse --short HEAD)):  peak RSS $((new_kib / 1024)) MiB, $new_s s"
echo "ratio peak RSS this/baseline: $(awk -v a="$new_kib" -v b="$base_kib" 'BEGIN { printf "%.3f", a / b }')"
echo "ratio time this/baseline:     $(awk -v a="$new_s" -v b="$base_s" 'BEGIN { printf "%.3f", a / b }')"
