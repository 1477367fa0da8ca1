#!/bin/bash
# tests/cluster/run.sh - make check-cluster: Flux past one machine, every
# part real and on loopback (issue 14):
#
#   two Flux nodes, each an Apache of its own (node a: mod_fcgid, resident
#   responders; node b: mod_cgid, a process per request) with its own
#   flux.conf, spool and upload directory, running the installed programs
#   as www-data; one Redis master, one replica, three sentinels; a
#   carbon-c-relay hashing (fnv1a_ch) over two carbon-caches, and sending
#   every line to a tap as well (a capture listener: what went through
#   the relay, to count what was delivered twice).
#
# Under load through both nodes (clients send each request to one node or
# the other, as a load balancer would, and retry a step until it gets 204,
# on the other node) it injects, one after the other:
#   a. redis_failover   SIGKILL of the Redis master; Sentinel promotes the
#                       replica; the killed node comes back as a replica
#   b. relay_restart    carbon-c-relay restarted under a hold (INSTALL)
#   c. cache_stop       one carbon-cache stopped for a while, the stop made
#                       under a hold; the relay keeps its share meanwhile
#   d. batch_both       flux-batch on both nodes at once, with populate
#                       jobs and uploads queued through both nodes
#   e. batch_kill       node a's flux-batch killed (SIGKILL) in the middle
#                       of a populate job; node b takes the job over once
#                       its lease has run out
# and counts, per fault, the points accepted (a 204, or a populate job's
# or upload's points), delivered (in either cache's whisper), lost (must be
# 0), delivered twice (the tap; each one must have its explanation) and the
# time to recover. tests/cluster/account.py does the counting.
#
#   usage: bash tests/cluster/run.sh            (about 3 minutes)
#   env:   CLUSTER_CLIENTS (4), CLUSTER_STEPS (30), CLUSTER_METRICS (5),
#          CLUSTER_KEEP=1 keeps the directory (logs, whisper files)
# Exit 1 when any point was lost or wrong, or delivered twice unexplained.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLUSTER_CLIENTS:-4}
STEPS=${CLUSTER_STEPS:-30}
METRICS=${CLUSTER_METRICS:-5}
STEP_DEADLINE=40	# seconds a client keeps retrying one step
PACE=0.3		# seconds between a client's steps: a load of 10 s or so
LEASE=5			# FLUX_BATCH_LEASE_SECONDS: a dead node's job waits this long
UPKEY=cluster-upload-key-0123456789

source tests/lib/flux.bash
source tests/lib/cluster.bash

make -s -j2
B=$(mktemp -d /tmp/flux-cluster.XXXXXX)
trap 'cluster_stop >/dev/null 2>&1; [ -n "${CLUSTER_KEEP:-}" ] || rm -rf "$B"' EXIT
stack_init "$B"

now() { echo "$EPOCHREALTIME"; }
# since T: seconds from T to now, to a tenth.
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "  $*"; }

echo "== starting redis (master, replica, 3 sentinels), 2 carbon-caches, the relay"
start_redis_node r1
start_redis_node r2 r1
start_sentinels 3 r1
cluster_sub cache-a start_carbon
cluster_sub cache-b start_carbon
start_capture accept
TAP=$CAPTURE_FILE
RELAY_TAP_PORT=$CAPTURE_PORT start_relay cache-a cache-b
start_fake_remote
WHISPERS="$B/cache-a/carbon/storage/whisper:$B/cache-b/carbon/storage/whisper"

echo "== installing Flux, starting node a (mod_fcgid) and node b (mod_cgid)"
make -s install DESTDIR="$B/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null
CGIDIR=$B/inst/usr/lib/flux/cgi-bin
BATCH=$B/inst/usr/sbin/flux-batch

# node_conf N: node N's flux.conf, spool and upload directories.
node_conf() {
	local d="$B/node-$1"
	mkdir -p "$d/spool" "$d/uploads"
	# The CGIs (www-data) write both; flux-batch (root here) wants them root's.
	chmod 1777 "$d/spool" "$d/uploads"
	cat > "$d/flux.conf" <<-EOF
	FLUX_SELF_API_KEY = $KEY
	REDIS_SENTINELS = $REDIS_SENTINELS
	REDIS_SENTINEL_MASTER = $CLUSTER_MASTER_NAME
	FLUX_CARBON_HOST = 127.0.0.1
	FLUX_CARBON_PROTOCOL = plaintext
	FLUX_CARBON_PORT = $RELAY_PORT
	FLUX_CARBON_TIMEOUT_MS = 2000
	FLUX_SPOOL_PATH = $d/spool
	WEBAPP_ACCEPT_DATA_UPLOADS = true
	FLUX_PROCESS_UPLOADS = true
	BATCH_PROCESSING = true
	BATCH_PROCESSING_NAMESPACES = cluster.up
	FLUX_UPLOADS_KEYS = cluster.up:$UPKEY
	DATA_UPLOADS_PATH = $d/uploads
	FLUX_BATCH_LEASE_SECONDS = $LEASE
	EOF
	chmod 644 "$d/flux.conf"
}
node_conf a
node_conf b
cluster_sub node-a start_apache "$CGIDIR" "$B/node-a/flux.conf" fcgid
cluster_sub node-b start_apache "$CGIDIR" "$B/node-b/flux.conf"
URL_a="http://127.0.0.1:$(cluster_port node-a apache)/flux"
URL_b="http://127.0.0.1:$(cluster_port node-b apache)/flux"
NOW=$(date +%s)
T0=$(( (NOW - 2400) / 60 * 60 ))	# STEPS <= 40 stay within FLUX_MAX_AGE
rc=0

# ----------------------------------------------------------------- load --

# body PHASE CLIENT STEP: one client's request at one step.
body() { load_body "cluster.$1" "$2" "$3" "$METRICS" "$T0"; }

# client PHASE N: every step in order, each retried (on the other node)
# until a 204. A line per attempt: "client step metrics ts value code
# epoch node seconds".
client() {
	local phase=$1 c=$2 s code deadline node out log="$B/load/$1/$2" t
	for ((s = 0; s < STEPS; s++)); do
		deadline=$((SECONDS + STEP_DEADLINE))
		node=$(( (c + s) % 2 ))
		while :; do
			if [ "$node" = 0 ]; then u=$URL_a; else u=$URL_b; fi
			t=$EPOCHREALTIME
			out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -m 30 \
			    -H 'Content-Type: application/json' \
			    --data-binary "$(body "$phase" "$c" "$s")" \
			    "$u/metric_data_post") || out="000 0"
			echo "$c $s $METRICS $((T0 + 60 * s)) $((c * 1000 + s)) ${out% *} $t $node ${out#* }" >> "$log"
			[ "${out% *}" = 204 ] && { sleep "$PACE"; break; }
			[ "$SECONDS" -ge "$deadline" ] && return 0
			node=$(( 1 - node ))
			sleep 0.2
		done
	done
}

# load PHASE: start the clients; finish: wait for them.
load() {
	mkdir -p "$B/load/$1"
	: > "$B/extra-$1"
	load_start "$CLIENTS" client "$1"
}
finish() { load_wait; }

# hold / unhold: the delivery hold of INSTALL, on both nodes.
hold() { touch "$B/node-a/spool/hold" "$B/node-b/spool/hold"; }
unhold() { rm -f "$B/node-a/spool/hold" "$B/node-b/spool/hold"; }

# batch N ARGS...: flux-batch on node N, its log appended to batch-N.log.
batch() {
	local n=$1
	shift
	"$BATCH" -c "$B/node-$n/flux.conf" "$@" 2>>"$B/batch-$n.log"
}

# account PHASE [ACCOUNT ARGS...]: tests/cluster/account.py for PHASE.
account() {
	local phase=$1
	shift
	/usr/bin/python3 tests/cluster/account.py "$phase" "$B/load/$phase" \
	    "$WHISPERS" "$TAP" "$B/extra-$phase" "$@"
}

# settle PHASE RECOVER [ACCOUNT ARGS...]: once the load has ended, replay
# both spools, wait until every accepted point is in whisper (40 s at
# most), and print the phase's line: RECOVER, then how long that took.
settle() {
	local phase=$1 recover=$2 _ took t_end=$EPOCHREALTIME
	shift 2
	batch a flush || echo "flux-batch flush failed on node a (see $B/batch-a.log)" >&2
	batch b flush || echo "flux-batch flush failed on node b (see $B/batch-b.log)" >&2
	for _ in $(seq 1 80); do
		account "$phase" "$@" >/dev/null 2>&1 && break
		sleep 0.5
	done
	took=$(since "$t_end")
	account "$phase" --recover "$recover; all in whisper $took s after the load" "$@" || rc=1
}

# requested PATTERN: how many requests the fake remote got for PATTERN.
requested() {
	grep -c -- "$1" "$REMOTE_DIR/requests.log" 2>/dev/null || echo 0
}

# warned NODE PATTERN: how many log lines of node NODE's Apache match.
warned() {
	grep -c -- "$2" "$B/node-$1/apache/logs/error.log" 2>/dev/null || true
}

echo "== clients $CLIENTS, steps $STEPS, metrics per request $METRICS"

# ------------------------------------------------------ a. redis fail-over --
# SIGKILL of the master: Sentinel promotes the replica after
# CLUSTER_DOWN_AFTER_MS (1 s) and an election. Requests meanwhile ask the
# sentinels again for up to REDIS_SENTINEL_WAIT_MS (5 s) and de-duplicate
# on the new master. Replication is asynchronous: the replica may not have
# had the last flux.last writes, which can let a later request for the
# same timestamp through once more (a duplicate, never a loss).
echo "== a. redis_failover"
load redis_failover
sleep 1.5
old=$(cluster_master_node)
old_port=$(cluster_master_port)
t_kill=$(now)
stop_redis_node "$old" KILL
cluster_wait_failover "$old_port" 60
t_promoted=$(now)
say "master $old killed; $(cluster_master_node) promoted after $(since "$t_kill") s"
finish
start_redis_node "$old" "$(cluster_master_node)"
say "requests without de-duplication: node a $(warned a 'de-duplication skipped'), node b $(warned b 'de-duplication skipped')"
settle redis_failover "new master $(awk -v a="$t_kill" -v b="$t_promoted" \
    'BEGIN { printf "%.1f", b - a }') s after the kill" --window "$t_kill" "$t_promoted"

# -------------------------------------------------- b. relay restart, held --
echo "== b. relay_restart (held)"
load relay_restart
sleep 1
t_hold=$(now)
hold
sleep 3			# the relay forwards what it holds
stop_relay
RELAY_TAP_PORT=$CAPTURE_PORT start_relay cache-a cache-b
unhold
t_released=$(now)
finish
settle relay_restart "held $(awk -v a="$t_hold" -v b="$t_released" \
    'BEGIN { printf "%.1f", b - a }') s"

# ----------------------------------------------------- c. a cache stopped --
# Stopped under a hold (carbon-cache drops what it has not written when
# it stops: INSTALL), then down for a while under load: the relay keeps
# the stopped cache's share queued and sends it when the cache is back.
echo "== c. cache_stop (stopped under a hold, down under load)"
load cache_stop
sleep 1
hold
sleep 3
cluster_sub cache-b stop_carbon
unhold
t_down=$(now)
sleep 4
cluster_sub cache-b start_carbon
t_up=$(now)
say "cache b down $(awk -v a="$t_down" -v b="$t_up" 'BEGIN { printf "%.1f", b - a }') s under load"
finish
settle cache_stop "cache down $(awk -v a="$t_down" -v b="$t_up" \
    'BEGIN { printf "%.1f", b - a }') s"

# ------------------------------------------ d. flux-batch on both at once --
echo "== d. batch_both: populate jobs and uploads queued through both nodes"
NJOBS=6
N=$(( $(date +%s) / 60 * 60 ))
: > "$B/extra-batch_both"
for ((j = 1; j <= NJOBS; j++)); do
	{
		printf '[{"target": "remote.j%d", "datapoints": [' "$j"
		sep=""
		for ((t = N - 3600; t < N; t += 60)); do
			printf '%s[%d.5, %d]' "$sep" "$j" "$t"
			sep=", "
			echo "cluster.batch_both.pop.j$j $t $j.5" >> "$B/extra-batch_both.new"
		done
		printf ']}]'
	} > "$REMOTE_DIR/pop$j.json"
	touch "$REMOTE_DIR/pop$j.json.hold"
	node=a; [ $((j % 2)) = 0 ] && node=b
	eval "u=\$URL_$node"
	code=$(curl -s -o /dev/null -w '%{http_code}' -d "$(jq -nc --arg k "$KEY" \
	    --arg m "cluster.batch_both.pop.j$j" --arg u "$REMOTE_URL/hold/pop$j.json" \
	    '{remote_host_type: "graphite", remote_target: ("remote." + $m), metric: $m,
	    namespace_prefix: null, key: $k, token: "None", user: "None",
	    password: "None", fetch_resolution_urls: [$u]}')" "$u/populate_metric")
	[ "$code" = 204 ] || { echo "populate_metric through node $node: $code" >&2; rc=1; }
done
# Two uploads through each node, each a CSV of 10 rows of its own metrics.
ids=()
for ((n = 1; n <= 4; n++)); do
	node=a; [ $n -gt 2 ] && node=b
	eval "u=\$URL_$node"
	csv="$B/up$n.csv"
	echo "date,a,b" > "$csv"
	for ((t = N - 600; t < N; t += 60)); do
		echo "$t,$n.25,$n.75" >> "$csv"
		echo "cluster.up.u${n}a $t $n.25" >> "$B/extra-batch_both.up"
		echo "cluster.up.u${n}b $t $n.75" >> "$B/extra-batch_both.up"
	done
	id=$(curl -s -F "key=$UPKEY" -F "parent_metric_namespace=cluster.up" -F timezone=UTC \
	    -F format=csv -F archive=none -F skip_rows=none -F header_row=0 \
	    -F date_orientation=rows -F "columns_to_metrics=date,u${n}a,u${n}b" \
	    -F "data_file=@$csv" "$u/upload_data" | jq -r .upload_id_key)
	[ -n "$id" ] && [ "$id" != null ] || { echo "upload_data through node $node failed" >&2; rc=1; }
	ids+=("$node:$id")
done
# upload_status through the node that did not receive the upload.
for e in "${ids[@]}"; do
	other=b; [ "${e%%:*}" = b ] && other=a
	eval "u=\$URL_$other"
	st=$(curl -s "$u/upload_status?upload_id_key=${e#*:}" | jq -r .upload.status)
	[ "$st" = pending ] || { echo "upload_status of ${e#*:} through node $other: $st" >&2; rc=1; }
done
say "$NJOBS populate jobs queued, 4 uploads (2 per node); upload_status answered pending on the other node"
load batch_both
t_batch=$(now)
batch a & pa=$!
batch b & pb=$!
# Each node holds a job before any answer comes: then every answer.
_stack_wait_for "" 30 eval "[ \$(requested '^/hold/pop') -ge 2 ]" ||
	echo "the two runs did not both take a job" >&2
running_nodes=$(cluster_master zrange flux.populate_metric.running 0 -1 | cut -d' ' -f1 | sort -u | wc -l)
rm -f "$REMOTE_DIR"/pop*.json.hold
wait "$pa" || echo "flux-batch on node a exited non-zero (see $B/batch-a.log)" >&2
wait "$pb" || echo "flux-batch on node b exited non-zero (see $B/batch-b.log)" >&2
t_batched=$(since "$t_batch")
finish
cat "$B/extra-batch_both.new" "$B/extra-batch_both.up" > "$B/extra-batch_both"
done_a=$(grep -c "URLs fetched, .* sent" "$B/batch-a.log" || true)
done_b=$(grep -c "URLs fetched, .* sent" "$B/batch-b.log" || true)
ran=$(cat "$B/batch-a.log" "$B/batch-b.log" | grep -o "populate 'cluster.batch_both.pop.j[0-9]*': [0-9]* of [0-9]* URLs fetched" | sort | uniq -c | awk '$1 != 1' | wc -l)
say "populate: node a ran $done_a jobs, node b $done_b (leased to $running_nodes nodes at once); jobs run more than once: $ran"
[ "$ran" = 0 ] && [ $((done_a + done_b)) = "$NJOBS" ] || { echo "populate jobs not run exactly once" >&2; rc=1; }
for e in "${ids[@]}"; do
	other=b; [ "${e%%:*}" = b ] && other=a
	eval "u=\$URL_$other"
	st=$(curl -s "$u/upload_status?upload_id_key=${e#*:}" | jq -r .upload.status)
	grep -q "upload ${e#*:}: complete" "$B/batch-${e%%:*}.log" ||
		{ echo "upload ${e#*:} not completed by node ${e%%:*}" >&2; rc=1; }
	[ "$st" = complete ] || { echo "upload_status of ${e#*:} through node $other: $st" >&2; rc=1; }
done
say "uploads: each completed by the node that received it; upload_status complete on the other node"
settle batch_both "both runs ended $t_batched s after they began"

# ---------------------------------------- e. a flux-batch killed mid-job --
echo "== e. batch_kill: node a's flux-batch killed with SIGKILL in the middle of a job"
N=$(( $(date +%s) / 60 * 60 ))
: > "$B/extra-batch_kill"
{
	printf '[{"target": "remote.kill", "datapoints": ['
	sep=""
	for ((t = N - 3600; t < N; t += 60)); do
		printf '%s[%d.25, %d]' "$sep" $(( t / 60 % 100 )) "$t"
		sep=", "
		echo "cluster.batch_kill.pop $t $(( t / 60 % 100 )).25" >> "$B/extra-batch_kill.new"
	done
	printf ']}]'
} > "$REMOTE_DIR/kill.json"
touch "$REMOTE_DIR/kill.json.hold"
curl -s -o /dev/null -d "$(jq -nc --arg k "$KEY" --arg u "$REMOTE_URL/hold/kill.json" \
    '{remote_host_type: "graphite", remote_target: "remote.kill", metric: "cluster.batch_kill.pop",
    namespace_prefix: null, key: $k, token: "None", user: "None", password: "None",
    fetch_resolution_urls: [$u]}')" "$URL_b/populate_metric"
load batch_kill
"$BATCH" -c "$B/node-a/flux.conf" populate 2>>"$B/batch-a.log" &
pk=$!
_stack_wait_for "" 30 grep -qs '^/hold/kill.json' "$REMOTE_DIR/requests.log"
kill -KILL "$pk"
wait "$pk" 2>/dev/null || true
t_killed=$(now)
rm "$REMOTE_DIR/kill.json.hold"
# Node b at once: the job's lease is still node a's, so it is left alone.
: > "$B/batch-b.kill.log"
"$BATCH" -c "$B/node-b/flux.conf" populate 2>>"$B/batch-b.kill.log" || true
if grep -q "cluster.batch_kill.pop" "$B/batch-b.kill.log"; then
	echo "node b took node a's job while its lease stood" >&2; rc=1
fi
# Then until node b has taken the job over (its lease ran out) and run it.
_stack_wait_for "" 60 eval "\"\$BATCH\" -c '$B/node-b/flux.conf' populate 2>>'$B/batch-b.kill.log'; grep -q \"populate 'cluster.batch_kill.pop': 1 of 1 URLs fetched\" '$B/batch-b.kill.log'" ||
	{ echo "node b never completed the killed job" >&2; rc=1; }
t_taken=$(since "$t_killed")
cat "$B/batch-b.kill.log" >> "$B/batch-b.log"
grep -q "jobs whose lease ran out queued again\|left by an interrupted run queued again" "$B/batch-b.kill.log" ||
	{ echo "node b did not say it took the job back" >&2; rc=1; }
say "node b left the job while node a's lease stood, then ran it $t_taken s after the kill (lease $LEASE s)"
finish
cp "$B/extra-batch_kill.new" "$B/extra-batch_kill"
settle batch_kill "job done by node b $t_taken s after the kill" --rerun

echo "== logs"
for n in a b; do
	say "node $n: $(warned "$n" 'error:') errors, $(warned "$n" 'warn:') warnings in Apache's log; flux-batch: $(grep -c 'error:' "$B/batch-$n.log" || true) errors"
done
if [ "$(ls "$B"/node-?/spool/*.spool 2>/dev/null | wc -l)" != 0 ]; then
	echo "spool files left:" >&2; ls -la "$B"/node-?/spool >&2; rc=1
fi
exit $rc
