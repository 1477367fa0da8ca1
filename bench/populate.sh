#!/bin/bash
# bench/populate.sh - how long flux-batch populate takes to back-fill a
# 90-day, 1-minute history (~130,000 points) from a real graphite-web,
# against the baseline of fetching the same render URLs with curl alone
# (SPEC 10: figures are ratios against a baseline measured in the same
# run). Also reports flux-batch's peak RSS and checks that every point
# reached whisper with its exact value.
#
# Usage: bench/populate.sh [RUNS]   (default 3; medians are reported)
# Needs: make (flux-batch, populate_metric), tests/tools/deps.sh packages.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-3}
# shellcheck source=../tests/lib/flux.bash
source "$TOP/tests/lib/flux.bash"
# 90 days of 1-minute points need a longer retention than the tests' 7d.
STACK_WHISPER_RETENTIONS=60s:100d
STACK_CARBON_LOG_UPDATES=False
PY=/usr/bin/python3

die() { echo "bench: $*" >&2; exit 1; }

[ -x "$TOP/batch/flux-batch" ] && [ -x "$TOP/cgi-bin/populate_metric" ] ||
	die "build first: make"

stack_init "$(mktemp -d /tmp/flux-bench.XXXXXX)" || die "stack_init failed"
trap 'stack_stop; rm -rf "$STACK_DIR"' EXIT
start_redis && start_carbon && start_graphite_web || die "stack did not start"
write_conf "GRAPHITE_PORT = $GRAPHITE_WEB_PORT"
GW="http://127.0.0.1:$GRAPHITE_WEB_PORT"

# The remote history, written straight into whisper: 90 days less an hour
# (clear of the from=-90days edge), ending a minute before this one.
T=$(( $(date +%s) / 60 * 60 ))
END=$((T - 60))
N=$((90 * 1440 - 60))
"$PY" - "$WHISPER_DIR/bench/remote/cpu.wsp" "$END" "$N" <<'PY' || die "cannot write history"
import math, os, sys, whisper
path, end, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(os.path.dirname(path), exist_ok=True)
whisper.create(path, [(60, 144000)], xFilesFactor=0.5, aggregationMethod="average")
# Full-precision doubles, so the value check covers every conversion.
whisper.update_many(path, [(end - i * 60, math.sin(i / 97.0) * 1000 / 3)
                           for i in range(n)])
PY

# Vista's URLs for populate_at_resolutions (90days, 30days, 7days,
# 24hours), with absolute from/until so that consecutive windows join
# exactly (graphite-web includes the until bucket, excludes the from one).
URLS=()
prev=$((T - 90 * 86400))
for edge in $((T - 30 * 86400)) $((T - 7 * 86400)) $((T - 86400)) "$T"; do
	URLS+=("$GW/render/?from=$prev&until=$edge&format=json&target=bench.remote.cpu")
	prev=$edge
done

now_s() { local t=${EPOCHREALTIME/,/.}; echo "$t"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# (a) the baseline: the same render requests, curl only. flux-batch asks
# for a compressed answer (graphite-web gzips: 2.9 MB -> 1.1 MB for the
# largest URL), so the baseline does too; plain curl is shown as well.
fetch_all() {
	local u
	for u in "${URLS[@]}"; do
		curl -sf "$@" -o /dev/null "$u" || return 1
	done
}
fetch_all || die "graphite-web does not answer the render URLs"   # warm-up
A=() A0=()
for ((r = 1; r <= RUNS; r++)); do
	t0=$(now_s); fetch_all --compressed || die "curl failed"; t1=$(now_s)
	A+=("$(elapsed "$t0" "$t1")")
	t0=$(now_s); fetch_all || die "curl failed"; t1=$(now_s)
	A0+=("$(elapsed "$t0" "$t1")")
done
# Part of (b): flux-batch asks the local render API for the last timestamp
# of a new metric, six windows in turn; timed here on its own with curl.
t0=$(now_s)
for w in -50mins -6hours -24hours -7days -30days -90days; do
	curl -sf -o /dev/null "$GW/render?target=bench.nothing&format=json&from=$w"
done
t1=$(now_s)
LOOKUPS=$(elapsed "$t0" "$t1")

# Wait until carbon has written every point of METRIC (so one run's
# writes do not slow the next) and check each value against the remote.
verify() {
	"$PY" - "$WHISPER_DIR" "$T" "$N" "$1" <<'PY'
import sys, time, whisper
d, t, n, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
def points(m):
    (start, end, step), vals = whisper.fetch("%s/%s.wsp" % (d, m.replace(".", "/")),
                                             t - 91 * 86400, t)
    return {start + i * step: v for i, v in enumerate(vals) if v is not None}
remote = points("bench.remote.cpu")
assert len(remote) == n, (len(remote), n)
deadline = time.time() + 180
while True:
    try:
        got = points(name)
    except (IOError, OSError):
        got = {}
    if got == remote or time.time() > deadline:
        break
    time.sleep(0.5)
same = sum(1 for k, v in remote.items() if got.get(k) == v)
print("%s: %d of %d points in whisper with the exact value" % (name, same, n))
sys.exit(0 if same == n and len(got) == n else 1)
PY
}

# (c) the delivery baseline: the same points sent to carbon by a plain
# pickle sender in frames under 1 MB, waiting, as flux-batch does, for
# carbon to close its side (it has then read everything).
send_baseline() {
	"$PY" - "$WHISPER_DIR" "$T" "$CARBON_PICKLE_PORT" "$1" <<'PY'
import pickle, socket, struct, sys, time, whisper
d, t, port, name = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
(start, end, step), vals = whisper.fetch(d + "/bench/remote/cpu.wsp", t - 91 * 86400, t)
pts = [(name, (start + i * step, v)) for i, v in enumerate(vals) if v is not None]
frames = []
for i in range(0, len(pts), 15000):
    p = pickle.dumps(pts[i:i + 15000], protocol=2)
    frames.append(struct.pack("!L", len(p)) + p)
t0 = time.monotonic()
s = socket.create_connection(("127.0.0.1", port))
for f in frames:
    s.sendall(f)
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
s.close()
print("%.3f" % (time.monotonic() - t0))
PY
}
C=()
for ((r = 1; r <= RUNS; r++)); do
	C+=("$(send_baseline "bench.baseline.run$r")") || die "pickle baseline failed"
	verify "bench.baseline.run$r" >/dev/null || die "baseline points missing"
done

# (b) flux-batch populate for a job with those URLs, a new metric each run.
urls_json=$(printf '%s\n' "${URLS[@]}" | jq -Rnc '[inputs]')
B=() RSS=() CHECKS=()
for ((r = 1; r <= RUNS; r++)); do
	populate_post "$(jq -nc --arg k "$KEY" --arg m "bench.populated.run$r" \
	    --argjson u "$urls_json" '{remote_host_type: "graphite",
	    remote_target: "bench.remote.cpu", metric: $m, namespace_prefix: null,
	    key: $k, token: "None", user: "None", password: "None",
	    fetch_resolution_urls: $u}')"
	[ "$cgi_status" = 204 ] || die "populate_metric answered $cgi_status $cgi_body"
	t0=$(now_s)
	/usr/bin/time -v -o "$STACK_DIR/time.$r" "$TOP/batch/flux-batch" populate \
	    2>"$STACK_DIR/batch.$r.log" || die "flux-batch failed: $(cat "$STACK_DIR/batch.$r.log")"
	t1=$(now_s)
	B+=("$(elapsed "$t0" "$t1")")
	RSS+=("$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$STACK_DIR/time.$r")")
	CHECKS+=("$(verify "bench.populated.run$r")") || die "verification failed: ${CHECKS[*]}"
done

ma=$(median "${A[@]}") mb=$(median "${B[@]}") mc=$(median "${C[@]}")
echo "history: $N points (90 days at 1 minute, less an hour) of bench.remote.cpu, ${#URLS[@]} render URLs; $RUNS runs, medians"
echo "(a) graphite-web render of the URLs, curl:          $ma s  (runs: ${A[*]}; without --compressed: $(median "${A0[@]}") s)"
echo "(c) pickle delivery of the same points, python:     $mc s  (runs: ${C[*]})"
echo "(b) flux-batch populate, same URLs:                 $mb s  (runs: ${B[*]})"
echo "    ratio (b)/(a):       $(awk -v a="$ma" -v b="$mb" 'BEGIN { printf "%.2f", b / a }')"
echo "    ratio (b)/((a)+(c)): $(awk -v a="$ma" -v b="$mb" -v c="$mc" 'BEGIN { printf "%.2f", b / (a + c) }')"
echo "    local last-timestamp lookups in (b), 6 empty renders by curl: $LOOKUPS s"
echo "    flux-batch peak RSS: $(( $(printf '%s\n' "${RSS[@]}" | sort -n | tail -1) / 1024 )) MiB (max of runs; KiB: ${RSS[*]})"
echo "    flux-batch's own account of its median run:"
for ((r = 1; r <= RUNS; r++)); do
	[ "${B[r - 1]}" = "$mb" ] || continue
	sed -n 's/^[^ ]* flux flux-batch\[[0-9]*\]: info: populate .bench[^:]*: /      /p' "$STACK_DIR/batch.$r.log" |
	    sed 's|http://127.0.0.1:[0-9]*/render/?from=\([0-9]*\)&until=\([0-9]*\)[^'"'"']*|render \1..\2|'
	break
done
printf '%s\n' "${CHECKS[@]}"
