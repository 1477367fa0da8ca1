#!/bin/bash
# bench/faults.sh - load under faults, through the real stack: redis,
# carbon-cache and Apache running the installed CGIs (as www-data).
#
# For each fault, N clients post the same K metrics at the same timestamps
# (one step a minute apart, each client's value unique to it and the
# step) while the fault is injected; a client retries a step until it gets
# 204 (as real clients retry a 503) and stops if it never does, so that
# de-duplication never discards a point whose predecessor a client still
# owes. The fault is then repaired, `flux-batch flush` replays the spool,
# and bench/faults_check.py counts what reached whisper (or the capture):
# every point of a 204 must be there with a value some client sent for it.
#
#   usage: bash bench/faults.sh [CLIENTS] [STEPS] [METRICS]
#   env:   FAULTS_MODE=fcgid runs the CGIs as resident FastCGI responders
#          (Apache mod_fcgid) instead of plain CGI (mod_cgid), and
#          FAULTS_MODE=proxy as the kernel-queued pool of INSTALL
#          (mod_proxy_fcgi); FAULTS_CARBON_KEEP=1 sets
#          FLUX_CARBON_KEEP_CONNECTION (residents keep a carbon connection,
#          confirmed by carbon's kernel: see flux(7), DELIVERY).
# Exit 1 when any accepted point was lost, wrong or delivered twice with
# different values (a de-dup race).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${1:-4}
STEPS=${2:-30}
METRICS=${3:-5}
STEP_DEADLINE=20	# seconds a client keeps retrying one step
PACE=0.05		# seconds between a client's steps, so faults land mid-load
source tests/lib/flux.bash

# fconf [LINE...]: write_conf, with the kept carbon connection when asked.
KEEP_LINE=()
[ "${FAULTS_CARBON_KEEP:-0}" = 1 ] && KEEP_LINE=("FLUX_CARBON_KEEP_CONNECTION = true")
fconf() { write_conf "${KEEP_LINE[@]}" "$@"; }

make -s -j2
B=$(mktemp -d /tmp/flux-faults.XXXXXX)
trap 'stop_capture; stack_stop; [ -n "${FAULTS_KEEP:-}" ] || rm -rf "$B"' EXIT
stack_init "$B"
start_redis
start_carbon
make -s install DESTDIR="$B/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null
fconf
start_apache "$B/inst/usr/lib/flux/cgi-bin" "$FLUX_CONF" "${FAULTS_MODE:-cgid}"
BATCH="$B/inst/usr/sbin/flux-batch"
NOW=$(date +%s)
T0=$(( (NOW - 2400) / 60 * 60 ))	# STEPS <= 40 stay within FLUX_MAX_AGE
rc=0

# body PHASE CLIENT STEP: the request of one client at one step.
body() { load_body "faults.$1" "$2" "$3" "$METRICS" "$T0"; }

# client PHASE N: post every step in order, retrying each until 204.
client() {
	local phase=$1 c=$2 s code deadline log="$B/load/$1/$2"
	for ((s = 0; s < STEPS; s++)); do
		deadline=$((SECONDS + STEP_DEADLINE))
		while :; do
			code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 \
			    -H 'Content-Type: application/json' \
			    --data-binary "$(body "$phase" "$c" "$s")" \
			    "$FLUX_URL/metric_data_post") || true
			echo "$c $s $METRICS $((T0 + 60 * s)) $((c * 1000 + s)) $code $EPOCHREALTIME" >> "$log"
			[ "$code" = 204 ] && { sleep "$PACE"; break; }
			[ "$SECONDS" -ge "$deadline" ] && return 0
			sleep 0.2
		done
	done
}

# load PHASE: start the clients; finish: wait for them.
load() {
	mkdir -p "$B/load/$1"
	load_start "$CLIENTS" client "$1"
}
finish() { load_wait; }

# settle PHASE [CAPTURE]: replay the spool, let carbon write, count.
settle() {
	local _
	"$BATCH" flush 2>>"$B/flush.log" || echo "flux-batch flush failed (see below)" >&2
	if find "$STACK_DIR/spool" -mindepth 1 -maxdepth 1 ! -name '.*' | grep -q .; then
		echo "spool not empty after the flush:" >&2; ls -la "$STACK_DIR/spool" >&2
	fi
	for _ in $(seq 1 30); do
		/usr/bin/python3 bench/faults_check.py "$1" "$B/load/$1" "$WHISPER_DIR" \
		    ${2:+"$2"} > "$B/line" 2>&1 && break
		sleep 1
	done
	cat "$B/line"
	/usr/bin/python3 bench/faults_check.py "$1" "$B/load/$1" "$WHISPER_DIR" \
	    ${2:+"$2"} >/dev/null 2>&1 || rc=1
}

echo "clients $CLIENTS, steps $STEPS, metrics per request $METRICS, apache ${FAULTS_MODE:-cgid}${KEEP_LINE:+, ${KEEP_LINE[*]}}"

# 1. carbon stopped during the load, started after it: spooled meanwhile.
# carbon-cache keeps what it received in memory and a TERM drops what it
# has not written yet: points it took (clean close) just before it
# stopped can vanish inside carbon, which Flux cannot see. The checker
# counts those apart ("in carbon-cache"): a 204 before carbon was gone.
load carbon_down
sleep 1; stop_carbon; echo "$EPOCHREALTIME" > "$B/stopped"
finish
start_carbon
FAULTS_STOPPED=$(cat "$B/stopped") settle carbon_down

# 1a. carbon killed with SIGKILL during the load, started after it: the
# same accounting as carbon_down. A plain CGI counts points taken when
# carbon closed its connection after reading them, a resident responder
# when carbon's kernel acknowledged them (flux(7), DELIVERY): either way
# what carbon held and had not written when killed is lost inside it,
# and everything answered after the kill must be spooled and delivered.
load carbon_kill
sleep 1
kill -KILL "$(_stack_running_pid carbon "$STACK_DIR/carbon/conf/carbon.conf")"
stop_carbon; echo "$EPOCHREALTIME" > "$B/stopped"
finish
start_carbon
FAULTS_STOPPED=$(cat "$B/stopped") settle carbon_kill

# 1b. carbon restarted as INSTALL says: delivery held (FLUX_SPOOL_PATH/hold)
# so requests spool, carbon-cache given time to write what it holds, then
# restarted, the hold removed and the spool replayed. Nothing may be lost,
# in Flux or in carbon (FAULTS_STOPPED unset: every missing point counts).
load carbon_restart_held
sleep 1; touch "$STACK_DIR/spool/hold"
sleep 3; stop_carbon
start_carbon; rm "$STACK_DIR/spool/hold"
finish
settle carbon_restart_held

# 2. carbon accepts but never reads: timeouts, spooled.
start_capture stall
fconf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT" "FLUX_CARBON_TIMEOUT_MS = 300"
load carbon_stall
finish
stop_capture
fconf
settle carbon_stall

# 3. carbon resets every connection after 100 bytes: spooled.
start_capture reset 100
fconf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
load carbon_reset
finish
stop_capture
fconf
settle carbon_reset

# 4. Redis stopped and restarted during the load: no de-dup while it is
# down (SPEC 5: delivered anyway), so racing clients may then deliver the
# same timestamp twice, by design; nothing may be lost.
load redis_restart
sleep 0.5; stop_redis
sleep 2; start_redis
finish
settle redis_restart

# 5. The spool read-only to www-data while carbon is down: 503 and
# rollback, clients retry; repaired during the load.
stop_carbon
chmod 0555 "$STACK_DIR/spool"
load spool_readonly
sleep 3
chmod 0777 "$STACK_DIR/spool"
sleep 1; start_carbon
finish
settle spool_readonly

# 7. Requests killed with SIGKILL while they deliver (carbon stalled, so
# each sits in its send timeout holding its claim on flux.last): their
# clients' retries wait until the dead claims' lease runs out (30 s) and
# then deliver the points themselves. Nothing may be lost.
start_capture stall
fconf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
STEP_DEADLINE=75
load cgi_kill
sleep 1
# The responders only: a pool's multiwatch names the program too.
pool_pid=$(cat "$STACK_DIR/pids/pool-metric_data_post" 2>/dev/null || true)
for pid in $(pgrep -f "$B/inst/usr/lib/flux/cgi-bin/metric_data_post"); do
	[ "$pid" = "$pool_pid" ] || kill -KILL "$pid" 2>/dev/null || true
done
echo "killed in-flight requests; the retries wait out the claims' 30 s lease"
stop_capture
fconf
finish
STEP_DEADLINE=20
settle cgi_kill

# 6. Concurrency with de-dup, against a capture listener that records
# every byte: each accepted point delivered exactly once, no race.
redis-cli -s "$REDIS_SOCK" flushall >/dev/null
start_capture accept
fconf "FLUX_CARBON_PICKLE_PORT = $CAPTURE_PORT"
load concurrency
finish
fconf
settle concurrency "$CAPTURE_FILE"
stop_capture

if [ -s "$B/flush.log" ] && grep -q 'error' "$B/flush.log"; then
	echo "flux-batch errors:"; grep error "$B/flush.log"
fi
exit $rc
