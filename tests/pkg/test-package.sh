#!/bin/bash
# tests/pkg/test-package.sh - the Debian package, end to end: build it,
# lintian it, install it with apt-get, set a key, send a point through
# Apache and read it back from whisper, enable the site for Vista and send
# one at the root of its port, upgrade it keeping the edited configuration,
# cron entry and site, remove it (the site disabled), install it again (the
# site enabled again), purge it, and find nothing of Flux left.
#
# It changes the system it runs on (packages, Apache's ports): run it in a
# throwaway root, as CI does:
#   ../shared/tools/fresh-debian . "bash tests/pkg/test-package.sh"
# redis-server and carbon-cache are started on private ports by
# tests/lib/stack.bash, and the system's Apache on a private loopback
# port: the root shares the host's network. The lintian report is left in
# /tmp/flux-lintian.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOP=$PWD

step() { echo "== test-package: $*"; }
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
# is WHAT GOT WANT: fail unless GOT is WANT.
is() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; }

[ "$EUID" -eq 0 ] || fail "run as root, in a throwaway Debian 12 root"
export DEBIAN_FRONTEND=noninteractive
# A booted Debian has /run/lock (the cron entry's flock uses it); a
# fresh root's /run is an empty tmpfs.
mkdir -p /run/lock
chmod 1777 /run/lock

step "installing what the build and this test need"
bash tests/tools/deps.sh build pkg

step "building"
rm -f ../flux_* ../flux-dbgsym_*
dpkg-buildpackage -us -uc -b >/tmp/flux-build.log 2>&1 || { tail -40 /tmp/flux-build.log; fail "dpkg-buildpackage"; }
deb=$(readlink -f ../flux_*_*.deb)
changes=$(readlink -f ../flux_*.changes)
dpkg-deb -c "$deb"

step "lintian"
# Every tag, overridden ones included, for the report; then errors and
# warnings fail (a separate run: with --show-overrides, lintian would count
# the overridden ones too).
lintian --display-info --pedantic --show-overrides "$changes" 2>&1 | tee /tmp/flux-lintian.txt
lintian --fail-on error,warning "$changes" >/dev/null 2>&1 || fail "lintian: errors or warnings"

step "installing with apt-get"
apt-get install -y "$deb" >/tmp/flux-apt.log 2>&1 || { tail -40 /tmp/flux-apt.log; fail "apt-get install"; }
# What a fresh Debian gets through Depends and Recommends.
for p in flux apache2 redis-server cron; do
	is "package $p" "$(dpkg-query -W -f='${db:Status-Status}' "$p")" installed
done
is "conffiles" "$(dpkg-query -W -f='${Conffiles}\n' flux | awk 'NF {print $1}' | sort | tr '\n' ' ')" \
	"/etc/apache2/conf-available/flux-pool.conf /etc/apache2/conf-available/flux.conf /etc/apache2/sites-available/flux-vista.conf /etc/cron.d/flux /etc/flux/flux.conf "
is "flux.conf" "$(stat -c '%U:%G %a' /etc/flux/flux.conf)" "root:www-data 640"
for d in /var/spool/flux /var/lib/flux/data_uploads /var/lib/flux/processed_uploads; do
	is "$d" "$(stat -c '%U:%G %a' "$d")" "www-data:www-data 750"
done
for f in /usr/sbin/flux-batch /usr/lib/flux/cgi-bin/metric_data \
    /usr/lib/flux/cgi-bin/status_page /usr/lib/flux/cgi-bin/upload_page \
    /usr/share/man/man5/flux.conf.5.gz /usr/share/man/man7/flux.7.gz \
    /usr/share/man/man8/flux-batch.8.gz /etc/apache2/conf-enabled/flux.conf \
    /etc/apache2/mods-enabled/cgid.load; do
	[ -e "$f" ] || fail "$f is missing"
done
[ ! -e /usr/lib/cgi-bin/flux ] || fail "programs under /usr/lib/cgi-bin"
[ ! -e /etc/apache2/sites-enabled/flux-vista.conf ] || fail "the site for Vista is enabled on install"
# The FastCGI pools (INSTALL §9) ship off: README.Debian switches to them.
[ ! -e /etc/apache2/conf-enabled/flux-pool.conf ] || fail "the pools' Apache configuration is enabled on install"
[ -f /usr/lib/systemd/system/flux-fcgi@.service ] || fail "no flux-fcgi@.service"
if ls /etc/systemd/system/*.wants/flux-fcgi@* >/dev/null 2>&1; then fail "a pool is enabled on install"; fi

# The cron entry's command, as cron runs it (as www-data, with its PATH).
cron_cmd=$(grep -v -e '^#' -e '^$' -e '^[A-Z]*=' /etc/cron.d/flux | cut -d' ' -f7-)
cron_user=$(grep -v -e '^#' -e '^$' -e '^[A-Z]*=' /etc/cron.d/flux | cut -d' ' -f6)
cron_run() {
	runuser -u "$cron_user" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c "$cron_cmd" 2>&1
}
is "cron user" "$cron_user" www-data

step "before a key is set: the cron entry is silent, the endpoints refuse"
is "cron run, unconfigured" "$(cron_run; echo "rc=$?")" "rc=0"

step "starting redis-server, carbon-cache and Apache on private ports"
source tests/lib/stack.bash
stack_init "$(mktemp -d /tmp/flux-pkg.XXXXXX)"
STACK=$STACK_DIR
up=
cleanup() {
	apache2ctl stop >/dev/null 2>&1 || true
	STACK_DIR=$STACK stack_stop
	rm -rf "$STACK" ${up:+"$up"}
}
trap cleanup EXIT
start_redis
start_carbon
port=$(flux_free_port)
printf 'ServerName 127.0.0.1\nListen 127.0.0.1:%s\n' "$port" > /etc/apache2/ports.conf
apache2ctl start
H="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -s -o /dev/null "$H/" && break; sleep 0.2; done
is "a request before a key is set" \
	"$(curl -s -w ' %{http_code}' "$H/flux/metric_data?metric=pkg.test&value=1&key=0123456789abcdefABCDEF0123456789")" \
	'{"code": 401, "message": "invalid key"} 401'

step "setting a key (and this test's private Redis and carbon)"
KEY=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
cat >> /etc/flux/flux.conf <<EOF
FLUX_SELF_API_KEY = $KEY
REDIS_SOCKET_PATH = $REDIS_SOCK
FLUX_CARBON_PICKLE_PORT = $CARBON_PICKLE_PORT
EOF
runuser -u www-data -- flux-batch check || fail "flux-batch check"

# send_point METRIC: a point of now through Apache, read back from whisper.
send_point() {
	local ts
	ts=$(date +%s)
	is "GET $1" "$(curl -s -w '%{http_code}' "$H/flux/metric_data?metric=$1&timestamp=$ts&value=42&key=$KEY")" 204
	is "whisper $1" "$(whisper_fetch_value "$1" "$ts")" 42.000000
}
step "a point through Apache into whisper"
is "status" "$(curl -s "$H/flux/metric_data?status=true" | cut -c1-17)" '{"status": "ok", '
send_point pkg.test.install
is "Debian's /cgi-bin/ alias" "$(curl -s -o /dev/null -w '%{http_code}' "$H/cgi-bin/flux/metric_data?status=true")" 404
head -c 3000000 /dev/zero > "$STACK_DIR/big"
is "LimitRequestBody" "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$STACK_DIR/big" "$H/flux/metric_data_post")" 413
is "cron run, configured" "$(cron_run; echo "rc=$?")" "rc=0"

# vista_point METRIC: a point of now at the root of the Vista port, as
# Vista's worker sends it, read back from whisper.
vista_point() {
	local ts
	ts=$(date +%s)
	is "Vista's GET $1" "$(curl -s -w '%{http_code}' "$V/metric_data?metric=$1&value=42&timestamp=$ts&key=$KEY")" 204
	is "whisper $1" "$(whisper_fetch_value "$1" "$ts")" 42.000000
}
step "the site for Vista: the root paths on a port of their own, once enabled"
vport=$(flux_free_port)
V="http://127.0.0.1:$vport"
# The administrator's edit: this root's free port in place of Skyline's 8000.
sed -i "s/127.0.0.1:8000/127.0.0.1:$vport/g" /etc/apache2/sites-available/flux-vista.conf
a2ensite -q flux-vista
apache2ctl graceful
for _ in $(seq 50); do curl -s -o /dev/null "$V/" && break; sleep 0.2; done
vista_point pkg.test.vista
is "the Vista port, another path" "$(curl -s -o /dev/null -w '%{http_code}' "$V/flux/metric_data?status=true")" 403

step "the FastCGI pools, switched to as README.Debian says (no systemd here: the unit's command run by hand)"
command -v spawn-fcgi >/dev/null && command -v multiwatch >/dev/null ||
	fail "spawn-fcgi and multiwatch (Recommends) are not installed"
unit=/usr/lib/systemd/system/flux-fcgi@.service
# pool_cmd PROGRAM: the unit's ExecStart for PROGRAM, its lines joined.
pool_cmd() {
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' "$unit" | sed -n 's/^ExecStart=//p' |
		sed -e "s/%i/$1/g" -e 's/\${FLUX_FCGI_CHILDREN}/2/g'
}
is "the unit's FLUX_CONF" "$(sed -n 's/^Environment=FLUX_CONF=//p' "$unit")" /etc/flux/flux.conf
# systemctl enable, or (no systemd in this root) the links it makes for
# WantedBy=multi-user.target.
for p in metric_data metric_data_post; do
	if command -v systemctl >/dev/null; then
		systemctl enable -q "flux-fcgi@$p" || fail "systemctl enable flux-fcgi@$p"
	else
		mkdir -p /etc/systemd/system/multi-user.target.wants
		ln -s "$unit" "/etc/systemd/system/multi-user.target.wants/flux-fcgi@$p.service"
	fi
done
a2enmod -q proxy_fcgi
a2disconf -q flux
a2enconf -q flux-pool
install -d -o www-data -g www-data /run/flux
POOLS=()
for p in metric_data metric_data_post; do
	# shellcheck disable=SC2046 # the unit's command, split as systemd does
	runuser -u www-data -- env FLUX_CONF=/etc/flux/flux.conf $(pool_cmd "$p") \
		>/dev/null 2>"$STACK_DIR/pool-$p.err" &
	POOLS+=($!)
	for _ in $(seq 50); do [ -S "/run/flux/$p.sock" ] && break; sleep 0.2; done
	[ -S "/run/flux/$p.sock" ] || { cat "$STACK_DIR/pool-$p.err"; fail "the pool of $p made no socket"; }
done
apache2ctl graceful
sleep 1
# /flux/ now reaches the programs only through the pools.
send_point pkg.test.pool
is "POST through the pool" "$(curl -s -w '%{http_code}' -H 'Content-Type: application/json' \
	--data "{\"key\": \"$KEY\", \"metrics\": [{\"metric\": \"pkg.test.poolpost\", \"value\": 1}]}" \
	"$H/flux/metric_data_post")" 204
# multiwatch passes SIGTERM to its responders; runuser waits for them.
for pid in "${POOLS[@]}"; do
	pkill -TERM -P "$pid" multiwatch || true
	wait "$pid" || true
done
is "a program whose pool is not running" "$(curl -s -o /dev/null -w '%{http_code}' "$H/flux/metric_data?status=true")" 503
rm -rf /run/flux
a2disconf -q flux-pool
a2enconf -q flux
apache2ctl graceful
sleep 1
send_point pkg.test.cgi.again

step "upgrading to a newer version keeps the edited configuration and cron entry"
sed -i 's/^MAILTO=root$/MAILTO=ops/' /etc/cron.d/flux
up=$(mktemp -d /tmp/flux-up.XXXXXX)
git -C "$TOP" archive HEAD | tar -x -C "$up"
sed -i '1s/^flux (\([^)]*\))/flux (\1+up1)/' "$up/debian/changelog"
(cd "$up" && dpkg-buildpackage -us -uc -b >/tmp/flux-build-up.log 2>&1) ||
	{ tail -40 /tmp/flux-build-up.log; fail "dpkg-buildpackage (upgrade)"; }
apt-get install -y "$(readlink -f /tmp/flux_*+up1_*.deb)" >/tmp/flux-apt-up.log 2>&1 ||
	{ tail -40 /tmp/flux-apt-up.log; fail "apt-get install (upgrade)"; }
is "version" "$(dpkg-query -W -f='${Version}' flux)" "$(dpkg-parsechangelog -l "$up/debian/changelog" -S Version)"
grep -qx "FLUX_SELF_API_KEY = $KEY" /etc/flux/flux.conf || fail "the key was lost in the upgrade"
grep -qx 'MAILTO=ops' /etc/cron.d/flux || fail "the cron edit was lost in the upgrade"
grep -qx "Listen 127.0.0.1:$vport" /etc/apache2/sites-available/flux-vista.conf || fail "the site's edit was lost in the upgrade"
[ -e /etc/apache2/sites-enabled/flux-vista.conf ] || fail "the site for Vista was disabled by the upgrade"
is "flux.conf after the upgrade" "$(stat -c '%U:%G %a' /etc/flux/flux.conf)" "root:www-data 640"
apache2ctl graceful
sleep 1
send_point pkg.test.upgrade
vista_point pkg.test.vista.upgrade

step "remove: Apache stops serving Flux, the configuration stays, cron is silent"
apt-get remove -y flux >/tmp/flux-apt-rm.log 2>&1 || { tail -40 /tmp/flux-apt-rm.log; fail "apt-get remove"; }
[ ! -e /usr/sbin/flux-batch ] || fail "flux-batch left after remove"
[ ! -e /etc/apache2/conf-enabled/flux.conf ] || fail "Apache conf still enabled after remove"
[ ! -e /etc/apache2/sites-enabled/flux-vista.conf ] || fail "the site for Vista still enabled after remove"
grep -qx "FLUX_SELF_API_KEY = $KEY" /etc/flux/flux.conf || fail "remove took the configuration"
apache2ctl graceful
sleep 1
is "after remove" "$(curl -s -o /dev/null -w '%{http_code}' "$H/flux/metric_data?status=true")" 404
is "cron run, removed" "$(cron_run)" ""
is "the Vista port after remove" "$(curl -s -o /dev/null -w '%{http_code}' "$V/metric_data?status=true")" 000

step "installed again: the site the administrator enabled is enabled again"
apt-get install -y "$(readlink -f /tmp/flux_*+up1_*.deb)" >/tmp/flux-apt-re.log 2>&1 ||
	{ tail -40 /tmp/flux-apt-re.log; fail "apt-get install (again)"; }
[ -e /etc/apache2/sites-enabled/flux-vista.conf ] || fail "the site for Vista not enabled again"
apache2ctl graceful
sleep 1
for _ in $(seq 50); do curl -s -o /dev/null "$V/" && break; sleep 0.2; done
vista_point pkg.test.vista.again
apt-get remove -y flux >/tmp/flux-apt-rm2.log 2>&1 || { tail -40 /tmp/flux-apt-rm2.log; fail "apt-get remove (again)"; }

step "purge: nothing of Flux is left"
apt-get purge -y flux >/tmp/flux-apt-purge.log 2>&1 || { tail -40 /tmp/flux-apt-purge.log; fail "apt-get purge"; }
is "dpkg state" "$(dpkg-query -W -f='${db:Status-Status}' flux 2>/dev/null || echo gone)" "gone"
# Every file or directory whose name says flux, outside this repository,
# the packages built and this test's own directories; and the volatile
# /run (another file system).
left=$(find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /root \
	-o -path '/tmp/flux-pkg.*' -o -path '/tmp/flux-up.*' -o -path '/tmp/flux_*' -o -path '/tmp/flux-dbgsym_*' -o -path '/tmp/flux-*.log' \
	-o -path /tmp/flux-lintian.txt \) -prune -o -iname '*flux*' -print)
left+=$(ls -d /run/lock/*flux* /run/flux* 2>/dev/null || true)
[ -z "$left" ] || fail "left after purge:
$left"
[ -z "$(ls -A /var/spool/cron/crontabs 2>/dev/null)" ] || fail "a user crontab exists"
[ -z "$(ls /etc/apache2/conf-enabled /etc/apache2/sites-enabled | grep -i flux)" ] || fail "an Apache conf or site link is left"
if ls /etc/systemd/system/*.wants/flux-fcgi@* >/dev/null 2>&1; then fail "a pool's systemd link is left"; fi
step "PASS"
