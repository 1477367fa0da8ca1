#!/bin/bash
# tests/lib/demo.sh - the README's first command: install what is missing,
# build, install Flux into a demo directory, start its own redis-server,
# carbon-cache and Apache on loopback, send a point through each endpoint
# and read it back from whisper. The servers keep running; stop them with
# "bash tests/lib/demo.sh stop".
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD
DEMO=${FLUX_DEMO_DIR:-/tmp/flux-demo}

source tests/lib/stack.bash

if [ "${1:-}" = stop ]; then
	STACK_DIR=$DEMO stack_stop
	echo "stopped the demo servers in $DEMO"
	exit 0
fi

if [ -d "$DEMO" ]; then
	STACK_DIR=$DEMO stack_stop 2>/dev/null || true
	rm -rf "$DEMO"
fi

echo "== installing missing Debian packages"
bash tests/tools/deps.sh
echo "== building"
make -s -j2
echo "== installing into $DEMO/inst"
make -s install DESTDIR="$DEMO/inst" PREFIX=/usr SYSCONFDIR=/etc >/dev/null

echo "== starting redis-server, carbon-cache and Apache on loopback"
stack_init "$DEMO"
start_redis
start_carbon
# 32 hex digits: letters and digits, as a key must be.
KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkdir -p "$DEMO/spool"
chmod 777 "$DEMO/spool"
cat > "$DEMO/flux.conf" <<CONF
FLUX_SELF_API_KEY = $KEY
REDIS_SOCKET_PATH = $REDIS_SOCK
FLUX_CARBON_PICKLE_PORT = $CARBON_PICKLE_PORT
FLUX_CARBON_PORT = $CARBON_PORT
FLUX_SPOOL_PATH = $DEMO/spool
CONF
chmod 644 "$DEMO/flux.conf"
start_apache "$DEMO/inst/usr/lib/flux/cgi-bin" "$DEMO/flux.conf"
URL=http://127.0.0.1:$APACHE_PORT/flux

T=$(( $(date +%s) / 60 * 60 - 60 ))
echo "== GET  $URL/metric_data"
curl -s -w 'HTTP %{http_code}\n' "$URL/metric_data?metric=demo.flux.get&timestamp=$T&value=1.5&key=$KEY"
echo "== POST $URL/metric_data_post"
curl -s -w 'HTTP %{http_code}\n' -H 'Content-Type: application/json' \
	-d '{"metric":"demo.flux.post","timestamp":"'$T'","value":"2.5","key":"'$KEY'"}' \
	"$URL/metric_data_post"
echo "== reading the points back from whisper"
for m in get post; do
	v=$(whisper_fetch_value "demo.flux.$m" "$T") || { echo "demo.flux.$m: not in whisper" >&2; exit 1; }
	echo "demo.flux.$m at $T: $v"
done

cat <<MSG

Flux is running:
  endpoints  $URL/metric_data  and  $URL/metric_data_post
  API key    $KEY
  config     $DEMO/flux.conf
  whisper    $WHISPER_DIR
  logs       $DEMO/apache/logs/error.log
Try:
  curl "$URL/metric_data?metric=demo.flux.try&value=1&key=$KEY"
Stop the servers with: bash tests/lib/demo.sh stop
MSG
