# shellcheck shell=bash
# tests/lib/stack.bash - throwaway redis + carbon-cache + Apache (+ fake
# carbon listeners, graphite-web, prometheus and a fake remote for
# populate_metric) for Flux integration tests and demos.
#
# Source it (bats files: at file top level, so every test process has the
# functions), then:
#   stack_init DIR; start_redis; start_carbon; start_apache CGIDIR CONF; ...
#   (and start_graphite_web, start_prometheus, start_fake_remote)
#   stack_stop
#
# Design notes (why things look the way they do):
# - Every piece of state (pids, chosen ports) lives in files under
#   $STACK_DIR, not in shell variables: bats runs setup_file, each test and
#   teardown_file in different processes, and `$(flux_free_port)` runs in a
#   subshell.  So a test may stop/start carbon and teardown_file still finds
#   the new pid.
# - Background daemons get `</dev/null >log 2>&1 3>&-`: bats waits for fd 3
#   to be closed before it finishes a test/file, so an inherited fd 3 hangs it.
# - No default ports anywhere; ports are picked once per stack and reused on
#   restart (a test stops carbon and expects the same config to work again).
# - Functions return non-zero with a message instead of exiting, and avoid
#   constructs that trip `set -eu` or bats' ERR trap.
# - Only processes whose pid we recorded (and whose command line still
#   matches) are ever signalled.

_STACK_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
_STACK_PY=/usr/bin/python3          # PATH python3 may be pyenv without twisted
STACK_WHISPER_STEP=60               # must match the retentions written below
STACK_WHISPER_RETENTIONS="60s:7d"

# ---------------------------------------------------------------- helpers --

_stack_err() { echo "stack: $*" >&2; }

_stack_need_init() {
  if [ -z "${STACK_DIR:-}" ] || [ ! -d "${STACK_DIR:-}" ]; then
    _stack_err "call stack_init DIR first"
    return 1
  fi
}

# Milliseconds since the epoch, without forking (EPOCHREALTIME, bash >= 5).
_stack_now_ms() {
  local t=${EPOCHREALTIME//[.,]/}
  echo $(( t / 1000 ))
}

# "10" or "2.5" seconds -> milliseconds (integer arithmetic only).
_stack_secs_to_ms() {
  local s=$1 int frac=""
  int=${s%%.*}
  if [[ $s == *.* ]]; then frac=${s#*.}; fi
  frac="${frac}000"
  echo $(( 10#${int:-0} * 1000 + 10#${frac:0:3} ))
}

# True if PID exists and is not a zombie (a killed child of this shell, or an
# orphan in a container whose pid 1 does not reap, stays a zombie).
_stack_alive() {
  local pid=$1 stat
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}

# True if PID's command line contains TOKEN (guards against pid reuse).
_stack_cmdline_has() {
  local pid=$1 token=$2 cmd
  cmd=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$token"* ]]
}

# Pids (other than this shell) whose command line contains STRING (one grep
# over /proc instead of a fork per process).
_stack_pids_with() {
  local needle=$1 f pid
  # shellcheck disable=SC2013  # /proc/N/cmdline paths have no spaces
  for f in $(grep -alF -- "$needle" /proc/[0-9]*/cmdline 2>/dev/null); do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    if [ "$pid" = "$$" ] || [ "$pid" = "${BASHPID:-}" ]; then continue; fi
    if _stack_alive "$pid"; then echo "$pid"; fi
  done
}

# Poll CMD... every 0.1 s until it succeeds (0), the deadline passes (1) or
# the process PID (if not empty) dies (2).
_stack_wait_for() {
  local pid=$1 timeout_ms deadline
  timeout_ms=$(_stack_secs_to_ms "$2"); shift 2
  deadline=$(( $(_stack_now_ms) + timeout_ms ))
  while :; do
    if "$@"; then return 0; fi
    if [ -n "$pid" ] && ! _stack_alive "$pid"; then return 2; fi
    if [ "$(_stack_now_ms)" -ge "$deadline" ]; then return 1; fi
    sleep 0.1
  done
}

_stack_port_open() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
_stack_port_closed() { ! _stack_port_open "$1"; }

# True if process PID itself listens on 127.0.0.1:PORT.  A bare connect test
# would be fooled by a stranger that grabbed the port while we were stopped.
_stack_pid_listens() {
  ss -Hltnp "( sport = :$2 )" 2>/dev/null | grep -q "pid=$1,"
}

_stack_show_log() {
  local f
  for f in "$@"; do
    if [ -s "$f" ]; then
      echo "---- last lines of $f ----" >&2
      tail -n 40 "$f" >&2
    fi
  done
}

# Record a pid for service NAME (file pids/NAME).
_stack_save_pid() { echo "$2" > "$STACK_DIR/pids/$1"; }

# Pid of service NAME if it is recorded, alive and still matches TOKEN.
_stack_running_pid() {
  local name=$1 token=$2 f pid
  f="$STACK_DIR/pids/$name"
  [ -f "$f" ] || return 1
  pid=$(cat "$f")
  if [ -n "$pid" ] && _stack_alive "$pid" && _stack_cmdline_has "$pid" "$token"; then
    echo "$pid"
    return 0
  fi
  return 1
}

# Stop service NAME: TERM, wait up to TIMEOUT_S (default 15), then KILL.
# Tolerant of an already-stopped or never-started service.
_stack_stop_service() {
  local name=$1 token=$2 timeout=${3:-15} pid
  if pid=$(_stack_running_pid "$name" "$token"); then
    kill -TERM "$pid" 2>/dev/null || true
    if ! _stack_wait_for "" "$timeout" eval "! _stack_alive $pid"; then
      _stack_err "$name (pid $pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      _stack_wait_for "" 5 eval "! _stack_alive $pid" || true
    fi
    # Reap it if it is our child (otherwise wait just complains: ignored).
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$STACK_DIR/pids/$name"
}

# As root, Apache children run as www-data: every parent directory of PATH
# must be searchable by "other".  Adds o+x (search only, not read) where
# missing, and says so, because it changes permissions outside the stack.
_stack_www_traverse() {
  local d
  [ "$EUID" -eq 0 ] || return 0
  d=$(cd "$1" 2>/dev/null && pwd -P) || d=$(dirname "$1")
  while [ "$d" != "/" ] && [ -n "$d" ]; do
    if [ -z "$(find "$d" -maxdepth 0 -perm -o=x 2>/dev/null)" ]; then
      _stack_err "note: chmod o+x $d so www-data can reach the stack"
      chmod o+x "$d"
    fi
    d=$(dirname "$d")
  done
}

# ------------------------------------------------------------------- init --

# stack_init DIR: create DIR (mode 755) and export STACK_DIR (absolute).
stack_init() {
  local dir=${1:?usage: stack_init DIR}
  mkdir -p "$dir" || return 1
  chmod 755 "$dir" || return 1
  dir=$(cd "$dir" && pwd -P) || return 1
  # AF_UNIX paths are limited to 107 bytes (redis.sock, Apache's cgid.sock).
  if [ ${#dir} -gt 70 ]; then
    _stack_err "STACK_DIR '$dir' is too long for unix socket paths (max 70 chars)"
    return 1
  fi
  export STACK_DIR=$dir
  mkdir -p "$STACK_DIR/pids"
  touch "$STACK_DIR/ports.used"
  _stack_www_traverse "$STACK_DIR"
}

# ------------------------------------------------------------------ ports --

# flux_free_port: print a TCP port free on 127.0.0.1 now and never handed out
# before in this stack.  Prefers ports below the kernel's ephemeral range, so
# an outgoing connection's source port cannot take a port we mean to reuse
# (carbon restarts on the same ports); falls back to a kernel-chosen port.
flux_free_port() {
  _stack_need_init || return 1
  local port
  port=$("$_STACK_PY" - "$STACK_DIR/ports.used" <<'PY'
import random, socket, sys
used = set(int(x) for x in open(sys.argv[1]).read().split())
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        return s.getsockname()[1]
    except OSError:
        return None
    finally:
        s.close()
if lo > 20100:
    for _ in range(500):
        p = random.randrange(20000, lo)
        if p not in used and free(p):
            print(p); sys.exit(0)
for _ in range(100):
    p = free(0)
    if p and p not in used:
        print(p); sys.exit(0)
sys.exit(1)
PY
  ) || { _stack_err "no free port found"; return 1; }
  echo "$port" >> "$STACK_DIR/ports.used"
  echo "$port"
}

# Port remembered under NAME in this stack (chosen on first use, then kept).
_stack_named_port() {
  local f="$STACK_DIR/ports/$1" port
  mkdir -p "$STACK_DIR/ports"
  if [ -s "$f" ]; then cat "$f"; return 0; fi
  port=$(flux_free_port) || return 1
  echo "$port" > "$f"
  echo "$port"
}

# ------------------------------------------------------------------ redis --

_stack_redis_pong() { [ "$(redis-cli -s "$REDIS_SOCK" ping 2>/dev/null)" = PONG ]; }

# start_redis: redis on a unix socket only (--port 0); exports REDIS_SOCK.
start_redis() {
  _stack_need_init || return 1
  local d="$STACK_DIR/redis" pid rc=0
  export REDIS_SOCK="$STACK_DIR/redis.sock"
  if _stack_running_pid redis "$REDIS_SOCK" >/dev/null; then return 0; fi
  mkdir -p "$d"
  rm -f "$REDIS_SOCK"
  # 777: CGIs run as www-data when Apache is started as root.
  redis-server --port 0 --unixsocket "$REDIS_SOCK" --unixsocketperm 777 \
    --save '' --appendonly no --dir "$d" --daemonize no \
    </dev/null >"$d/redis.log" 2>&1 3>&- &
  pid=$!
  _stack_save_pid redis "$pid"
  _stack_wait_for "$pid" 10 _stack_redis_pong || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "redis did not answer PING on $REDIS_SOCK (rc=$rc)"
    _stack_show_log "$d/redis.log"
    stop_redis
    return 1
  fi
}

stop_redis() {
  [ -n "${STACK_DIR:-}" ] || return 0
  # redis retitles itself "redis-server unixsocket:<path>": match the path.
  _stack_stop_service redis "$STACK_DIR/redis.sock"
  rm -f "$STACK_DIR/redis.sock"
}

# ----------------------------------------------------------------- carbon --

_stack_write_carbon_conf() {
  local c=$1
  cat > "$c/conf/carbon.conf" <<EOF
[cache]
STORAGE_DIR = $c/storage/
LOCAL_DATA_DIR = $c/storage/whisper/
LOG_DIR = $c/log/
PID_DIR = $c/
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $CARBON_PORT
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = $CARBON_PICKLE_PORT
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = $CARBON_CACHE_QUERY_PORT
WHISPER_AUTOFLUSH = True
WHISPER_FALLOCATE_CREATE = False
ENABLE_TAGS = False
CARBON_METRIC_INTERVAL = 0
LOG_UPDATES = ${STACK_CARBON_LOG_UPDATES:-True}
LOG_CREATES = True
EOF
  printf '[default]\npattern = .*\nretentions = %s\n' "$STACK_WHISPER_RETENTIONS" \
    > "$c/conf/storage-schemas.conf"
  # Carbon's defaults, written out only to silence its "not found" warning.
  printf '[default]\npattern = .*\nxFilesFactor = 0.5\naggregationMethod = average\n' \
    > "$c/conf/storage-aggregation.conf"
}

_stack_carbon_ready() {
  _stack_pid_listens "$1" "$CARBON_PORT" && _stack_pid_listens "$1" "$CARBON_PICKLE_PORT"
}

# start_carbon: carbon-cache in the foreground (background job) on this
# stack's ports; exports CARBON_PORT CARBON_PICKLE_PORT
# CARBON_CACHE_QUERY_PORT WHISPER_DIR.
start_carbon() {
  _stack_need_init || return 1
  local c="$STACK_DIR/carbon" pid rc=0
  export CARBON_PORT CARBON_PICKLE_PORT CARBON_CACHE_QUERY_PORT
  CARBON_PORT=$(_stack_named_port carbon-line) || return 1
  CARBON_PICKLE_PORT=$(_stack_named_port carbon-pickle) || return 1
  CARBON_CACHE_QUERY_PORT=$(_stack_named_port carbon-cache-query) || return 1
  export WHISPER_DIR="$c/storage/whisper"
  if _stack_running_pid carbon "$c/conf/carbon.conf" >/dev/null; then return 0; fi
  mkdir -p "$c/conf" "$WHISPER_DIR" "$c/log"
  _stack_write_carbon_conf "$c"
  # PYTHONWARNINGS: hide twisted/cryptography deprecation noise in the log.
  PYTHONWARNINGS=ignore /usr/bin/carbon-cache --config="$c/conf/carbon.conf" \
    --pidfile="$c/carbon-cache.pid" --nodaemon start \
    </dev/null >>"$c/carbon.out" 2>&1 3>&- &
  pid=$!
  _stack_save_pid carbon "$pid"
  _stack_wait_for "$pid" 15 _stack_carbon_ready "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "carbon-cache not listening on $CARBON_PORT/$CARBON_PICKLE_PORT (rc=$rc)"
    _stack_show_log "$c/carbon.out" "$c/log/console.log"
    stop_carbon
    return 1
  fi
}

# stop_carbon: TERM and wait until the process and its listeners are gone,
# so start_carbon can bind the same ports again.
stop_carbon() {
  [ -n "${STACK_DIR:-}" ] || return 0
  local p
  _stack_stop_service carbon "$STACK_DIR/carbon/conf/carbon.conf"
  for p in carbon-line carbon-pickle; do
    if [ -s "$STACK_DIR/ports/$p" ]; then
      _stack_wait_for "" 5 _stack_port_closed "$(cat "$STACK_DIR/ports/$p")" ||
        _stack_err "port of $p still accepts connections after carbon stopped"
    fi
  done
}

# ------------------------------------------------------------------ whisper --

_stack_wsp() { echo "${WHISPER_DIR:-$STACK_DIR/carbon/storage/whisper}/${1//.//}.wsp"; }

# Print the value whisper-fetch shows at TS for FILE (nothing if None/absent).
_stack_fetch_at() {
  local file=$1 ts=$2
  [ -f "$file" ] || return 1
  whisper-fetch --from=$(( ts - 1 )) --until="$ts" "$file" 2>/dev/null |
    awk -v ts="$ts" '$1 == ts && $2 != "None" { print $2; found = 1 } END { exit !found }'
}

# whisper_fetch_value METRIC TS [TIMEOUT_S]: poll until METRIC has a value in
# the bucket holding TS (TS is floored to the 60 s step, like carbon does;
# for an aligned TS the window is exactly --from=TS-1 --until=TS), print it
# as whisper-fetch does (e.g. 42.500000).  Returns 1, printing nothing, after
# TIMEOUT_S (default 10) seconds.
whisper_fetch_value() {
  local metric=${1:?usage: whisper_fetch_value METRIC TS [TIMEOUT_S]} ts=${2:?TS} timeout=${3:-10}
  local file deadline value
  file=$(_stack_wsp "$metric")
  ts=$(( ts - ts % STACK_WHISPER_STEP ))
  deadline=$(( $(_stack_now_ms) + $(_stack_secs_to_ms "$timeout") ))
  while :; do
    if value=$(_stack_fetch_at "$file" "$ts"); then
      echo "$value"
      return 0
    fi
    if [ "$(_stack_now_ms)" -ge "$deadline" ]; then return 1; fi
    sleep 0.1
  done
}

# whisper_count METRIC FROM UNTIL: number of non-None points with
# FROM < timestamp <= UNTIL (0 if the file does not exist).  No polling.
whisper_count() {
  local metric=${1:?usage: whisper_count METRIC FROM UNTIL} from=${2:?FROM} until=${3:?UNTIL} file
  file=$(_stack_wsp "$metric")
  if [ ! -f "$file" ]; then echo 0; return 0; fi
  whisper-fetch --from="$from" --until="$until" "$file" |
    awk -v f="$from" -v u="$until" '$2 != "None" && $1 > f && $1 <= u { n++ } END { print n + 0 }'
}

# ----------------------------------------------------------------- apache --

_stack_write_trivial_cgi() {
  local t=$1
  # Baseline CGI for benchmarks: fork/exec cost only, no Flux code.
  printf '#!/bin/sh\nprintf '"'"'Status: 204 No Content\\r\\n\\r\\n'"'"'\n' > "$t/trivial"
  chmod 755 "$t/trivial"
}

# _stack_write_httpd_conf FILE PORT CGIDIR FLUX_CONF MODE
_stack_write_httpd_conf() {
  local conf=$1 port=$2 cgidir=$3 fluxconf=$4 mode=$5 a="$STACK_DIR/apache"
  local m=/usr/lib/apache2/modules
  {
    cat <<EOF
# Generated by tests/lib/stack.bash ($mode mode). Based on ecosystem.md 3.1.
ServerRoot "$a"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $a/run/httpd.pid
DefaultRuntimeDir $a/run
ErrorLog $a/logs/error.log
LogLevel info
# log_config is compiled in on Debian: loading it is a syntax error.
LoadModule mpm_event_module $m/mod_mpm_event.so
LoadModule authz_core_module $m/mod_authz_core.so
# Require ip: the site for Vista (apache/flux-vista.conf.in).
LoadModule authz_host_module $m/mod_authz_host.so
LoadModule authz_user_module $m/mod_authz_user.so
LoadModule authn_core_module $m/mod_authn_core.so
LoadModule authn_file_module $m/mod_authn_file.so
LoadModule auth_basic_module $m/mod_auth_basic.so
LoadModule alias_module $m/mod_alias.so
LoadModule env_module $m/mod_env.so
LoadModule mime_module $m/mod_mime.so
# cgid is loaded in both modes: /trivial/ is a plain CGI either way.
LoadModule cgid_module $m/mod_cgid.so
<IfModule unixd_module>
  # honoured only when started as root (children then run as www-data)
  User www-data
  Group www-data
</IfModule>
ScriptSock $a/run/cgid.sock
TypesConfig /etc/mime.types
LogFormat "%h %l %u %t \"%r\" %>s %b %D" flux
CustomLog $a/logs/access.log flux
DocumentRoot $a/htdocs
<Directory />
  AllowOverride None
  Require all denied
</Directory>
ScriptAlias /trivial/ $a/trivial/
<Directory $a/trivial>
  Options +ExecCGI
  SetHandler cgi-script
  Require all granted
</Directory>
EOF
    # snippet: the Flux part is an installed apache/flux.conf, which the
    # caller puts in conf.d/ (included below).
    if [ "$mode" != snippet ]; then echo "ScriptAlias /flux/ $cgidir/"; fi
    if [ "$mode" = snippet ]; then
      # Server-wide, so the sanitizer settings reach the installed CGIs.
      if [ -n "${ASAN_OPTIONS:-}" ]; then echo "SetEnv ASAN_OPTIONS ${ASAN_OPTIONS}"; fi
      if [ -n "${UBSAN_OPTIONS:-}" ]; then echo "SetEnv UBSAN_OPTIONS ${UBSAN_OPTIONS}"; fi
    elif [ "$mode" = fcgid ]; then
      cat <<EOF
LoadModule fcgid_module $m/mod_fcgid.so
FcgidIPCDir $a/run/fcgid
FcgidProcessTableFile $a/run/fcgid_shm
FcgidInitialEnv FLUX_CONF $fluxconf
FcgidMaxRequestLen 2097152
<Directory $cgidir>
  Options +ExecCGI
  SetHandler fcgid-script
EOF
    else
      cat <<EOF
<Directory $cgidir>
  Options +ExecCGI
  SetHandler cgi-script
EOF
    fi
    # Sanitizer settings of a SANITIZE=1 check reach the CGIs too.
    if [ -n "${ASAN_OPTIONS:-}" ] && [ "$mode" != snippet ]; then
      echo "  SetEnv ASAN_OPTIONS ${ASAN_OPTIONS}"
    fi
    if [ -n "${UBSAN_OPTIONS:-}" ] && [ "$mode" != snippet ]; then
      echo "  SetEnv UBSAN_OPTIONS ${UBSAN_OPTIONS}"
    fi
    if [ "$mode" != snippet ]; then
      cat <<EOF
  SetEnv FLUX_CONF $fluxconf
  LimitRequestBody 2097152
  CGIPassAuth On
  Require all granted
</Directory>
EOF
    fi
    cat <<EOF
# Tests may drop extra blocks here (e.g. Basic auth <Location>s).
IncludeOptional $a/conf.d/*.conf
EOF
  } > "$conf"
}

# Make what www-data must read/execute readable (root mode only).
_stack_apache_perms() {
  local cgidir=$1 fluxconf=$2 a="$STACK_DIR/apache"
  [ "$EUID" -eq 0 ] || return 0
  chmod -R o+rX "$a"
  _stack_www_traverse "$cgidir"
  # Only the CGI dir itself and its direct entries: it may be a source tree.
  chmod o+rX "$cgidir"
  find "$cgidir" -maxdepth 1 -mindepth 1 -exec chmod o+rX {} +
  if [ -e "$fluxconf" ]; then
    _stack_www_traverse "$(dirname "$fluxconf")"
    chmod o+r "$fluxconf"
  fi
  if [ -d "$a/run/fcgid" ]; then chown www-data:www-data "$a/run/fcgid"; fi
}

# Ready = the trivial CGI answers 204: proves the listener, mod_cgid's
# daemon and www-data's access to the stack dir in one request.
_stack_apache_answers() {
  local code
  code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' \
    "http://127.0.0.1:$APACHE_PORT/trivial/trivial" 2>/dev/null) || true
  [ "$code" = 204 ]
}

_stack_apache_pid() {
  local f="$STACK_DIR/apache/run/httpd.pid"
  [ -s "$f" ] && cat "$f"
}

# start_apache CGIDIR FLUX_CONF_PATH [fcgid|snippet]: exports APACHE_PORT,
# FLUX_URL. snippet: no Flux block of our own; the caller has put an
# installed apache/flux.conf in $STACK_DIR/apache/conf.d/ first.
start_apache() {
  _stack_need_init || return 1
  local cgidir=${1:?usage: start_apache CGIDIR FLUX_CONF_PATH [fcgid]}
  local fluxconf=${2:?usage: start_apache CGIDIR FLUX_CONF_PATH [fcgid]} mode=${3:-cgid}
  local a="$STACK_DIR/apache" conf pid="" rc=0
  conf="$a/httpd.conf"
  cgidir=$(cd "$cgidir" 2>/dev/null && pwd -P) || { _stack_err "no CGI dir '$1'"; return 1; }
  case $fluxconf in /*) ;; *) fluxconf="$PWD/$fluxconf" ;; esac
  case $mode in cgid|fcgid|snippet) ;; *) _stack_err "start_apache: mode must be fcgid, snippet or empty"; return 1 ;; esac
  export APACHE_PORT
  APACHE_PORT=$(_stack_named_port apache) || return 1
  export FLUX_URL="http://127.0.0.1:$APACHE_PORT/flux"
  if _stack_running_pid apache "$conf" >/dev/null; then return 0; fi
  mkdir -p "$a/run" "$a/logs" "$a/htdocs" "$a/trivial" "$a/conf.d"
  if [ "$mode" = fcgid ]; then mkdir -p "$a/run/fcgid"; fi
  rm -f "$a/run/httpd.pid" "$a/run/cgid.sock"
  _stack_write_trivial_cgi "$a/trivial"
  _stack_write_httpd_conf "$conf" "$APACHE_PORT" "$cgidir" "$fluxconf" "$mode"
  if ! apache2 -t -f "$conf" >"$a/logs/configtest.log" 2>&1; then
    _stack_err "apache2 -t failed for $conf"
    cat "$a/logs/configtest.log" >&2
    return 1
  fi
  _stack_apache_perms "$cgidir" "$fluxconf"
  if [ "$EUID" -eq 0 ]; then
    # Daemonizes; the detached parent keeps our fds unless we close fd 3.
    apache2 -f "$conf" -k start </dev/null >>"$a/logs/start.log" 2>&1 3>&- || rc=$?
    if [ "$rc" -ne 0 ]; then
      _stack_err "apache2 -k start failed (rc=$rc)"
      _stack_show_log "$a/logs/start.log" "$a/logs/error.log"
      return 1
    fi
    _stack_wait_for "" 10 _stack_apache_pid >/dev/null || true
    pid=$(_stack_apache_pid) || pid=""
  else
    apache2 -f "$conf" -DFOREGROUND </dev/null >>"$a/logs/start.log" 2>&1 3>&- &
    pid=$!
  fi
  if [ -z "$pid" ]; then
    _stack_err "apache wrote no pid file"
    _stack_show_log "$a/logs/start.log" "$a/logs/error.log"
    return 1
  fi
  _stack_save_pid apache "$pid"
  _stack_wait_for "$pid" 10 _stack_apache_answers || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "apache not answering on port $APACHE_PORT (rc=$rc)"
    _stack_show_log "$a/logs/start.log" "$a/logs/error.log"
    stop_apache
    return 1
  fi
}

_stack_apache_gone() { [ -z "$(_stack_pids_with "$STACK_DIR/apache/httpd.conf")" ]; }

# stop_apache: TERM the parent, then wait until no process of this stack's
# Apache (parent, workers, cgid daemon: all carry our conf path) is left.
stop_apache() {
  [ -n "${STACK_DIR:-}" ] || return 0
  local conf="$STACK_DIR/apache/httpd.conf" p
  _stack_stop_service apache "$conf"
  if ! _stack_wait_for "" 10 _stack_apache_gone; then
    for p in $(_stack_pids_with "$conf"); do
      _stack_err "killing leftover apache process $p"
      kill -KILL "$p" 2>/dev/null || true
    done
  fi
  rm -f "$STACK_DIR/apache/run/httpd.pid"
}

# ---------------------------------------------------------------- capture --

_stack_capture_ready() { [ -f "$1.ready" ]; }

# start_capture MODE [N]: fake carbon (tests/lib/capture.py) on a free port;
# MODE accept|reset|stall, N = bytes to read before a reset.
# Exports CAPTURE_PORT and CAPTURE_FILE (the received bytes).
start_capture() {
  _stack_need_init || return 1
  local mode=${1:?usage: start_capture accept|reset|stall [N]} n=${2:-0} port file pid rc=0
  port=$(flux_free_port) || return 1
  file="$STACK_DIR/capture-$port.bin"
  rm -f "$file.ready" "$file.events"
  : > "$file"
  "$_STACK_PY" "$_STACK_LIB_DIR/capture.py" "$port" "$file" "$mode" "$n" \
    </dev/null >"$STACK_DIR/capture-$port.log" 2>&1 3>&- &
  pid=$!
  _stack_save_pid "capture-$port" "$pid"
  _stack_wait_for "$pid" 10 _stack_capture_ready "$file" || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "capture.py ($mode) did not start on port $port (rc=$rc)"
    _stack_show_log "$STACK_DIR/capture-$port.log"
    stop_capture "$port"
    return 1
  fi
  export CAPTURE_PORT=$port CAPTURE_FILE=$file
}

# stop_capture [PORT]: stop one capture listener, or all of them.
stop_capture() {
  [ -n "${STACK_DIR:-}" ] || return 0
  local f name
  if [ $# -gt 0 ]; then
    _stack_stop_service "capture-$1" "$STACK_DIR/capture-$1.bin" 5
    return 0
  fi
  for f in "$STACK_DIR"/pids/capture-*; do
    [ -e "$f" ] || continue
    name=${f##*/}
    _stack_stop_service "$name" "$STACK_DIR/$name.bin" 5
  done
}

# ----------------------------------------------------------- graphite-web --

_stack_graphite_web_answers() {
  curl -sf -o /dev/null -m 2 "http://127.0.0.1:$GRAPHITE_WEB_PORT/metrics/find?query=*"
}

_stack_write_graphite_settings() {
  local g=$1 whisper=$2 cq=$3
  cat > "$g/flux_test_settings.py" <<EOF
# Generated by tests/lib/stack.bash (ecosystem.md 2.2).
SECRET_KEY = 'flux-test-only'
ALLOWED_HOSTS = ['*']
TIME_ZONE = 'UTC'
GRAPHITE_ROOT = '/usr/share/graphite-web'
STATIC_ROOT = '/usr/share/graphite-web/static'
CONF_DIR = '$g'
STORAGE_DIR = '$(dirname "$whisper")'
WHISPER_DIR = '$whisper'
STANDARD_DIRS = ['$whisper']
LOG_DIR = '$g/log'
INDEX_FILE = '$g/search_index'
CARBONLINK_HOSTS = ['127.0.0.1:$cq:a']
DATABASES = {'default': {'NAME': '$g/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}
EOF
}

# Run graphite-manage with this stack's settings module.
_stack_graphite_manage() {
  local g="$STACK_DIR/graphite-web"
  env PYTHONPATH="$g" GRAPHITE_SETTINGS_MODULE=flux_test_settings PYTHONWARNINGS=ignore \
    /usr/bin/graphite-manage "$@"
}

# start_graphite_web: graphite-web under Django's dev server (runserver
# --noreload: no autoreloader child to outlive a kill) serving /render from
# this stack's whisper files, with carbonlink to its carbon-cache query
# port (start_carbon may come before or after).  Exports GRAPHITE_WEB_PORT.
start_graphite_web() {
  _stack_need_init || return 1
  local g="$STACK_DIR/graphite-web" pid rc=0 cq
  export GRAPHITE_WEB_PORT
  GRAPHITE_WEB_PORT=$(_stack_named_port graphite-web) || return 1
  cq=$(_stack_named_port carbon-cache-query) || return 1
  if _stack_running_pid graphite-web "runserver --noreload 127.0.0.1:$GRAPHITE_WEB_PORT" >/dev/null; then
    return 0
  fi
  mkdir -p "$g/log" "$STACK_DIR/carbon/storage/whisper"
  _stack_write_graphite_settings "$g" "$STACK_DIR/carbon/storage/whisper" "$cq"
  if [ ! -s "$g/graphite.db" ] &&
     ! _stack_graphite_manage migrate --run-syncdb </dev/null >"$g/migrate.log" 2>&1 3>&-; then
    _stack_err "graphite-manage migrate failed"
    _stack_show_log "$g/migrate.log"
    return 1
  fi
  # Not through _stack_graphite_manage: a backgrounded function is a bash
  # subshell, and its pid would not be graphite-web's.
  env PYTHONPATH="$g" GRAPHITE_SETTINGS_MODULE=flux_test_settings PYTHONWARNINGS=ignore \
    /usr/bin/graphite-manage runserver --noreload "127.0.0.1:$GRAPHITE_WEB_PORT" \
    </dev/null >>"$g/runserver.log" 2>&1 3>&- &
  pid=$!
  _stack_save_pid graphite-web "$pid"
  _stack_wait_for "$pid" 30 _stack_graphite_web_answers || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "graphite-web not answering on port $GRAPHITE_WEB_PORT (rc=$rc)"
    _stack_show_log "$g/runserver.log"
    stop_graphite_web
    return 1
  fi
}

stop_graphite_web() {
  [ -n "${STACK_DIR:-}" ] || return 0
  local f="$STACK_DIR/ports/graphite-web"
  [ -s "$f" ] || return 0
  _stack_stop_service graphite-web "runserver --noreload 127.0.0.1:$(cat "$f")"
}

# ------------------------------------------------------------- prometheus --

_stack_prometheus_ready() {
  curl -sf -o /dev/null -m 2 "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

# start_prometheus: Debian's prometheus scraping itself every
# STACK_PROMETHEUS_SCRAPE (default 1s), with a temp config and storage
# directory.  Exports PROMETHEUS_PORT.
start_prometheus() {
  _stack_need_init || return 1
  local p="$STACK_DIR/prometheus" pid rc=0
  export PROMETHEUS_PORT
  PROMETHEUS_PORT=$(_stack_named_port prometheus) || return 1
  if _stack_running_pid prometheus "$p/data" >/dev/null; then return 0; fi
  mkdir -p "$p/data"
  cat > "$p/prometheus.yml" <<EOF
global:
  scrape_interval: ${STACK_PROMETHEUS_SCRAPE:-1s}
  evaluation_interval: 15s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:$PROMETHEUS_PORT']
EOF
  /usr/bin/prometheus --config.file="$p/prometheus.yml" --storage.tsdb.path="$p/data" \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    </dev/null >>"$p/prometheus.log" 2>&1 3>&- &
  pid=$!
  _stack_save_pid prometheus "$pid"
  _stack_wait_for "$pid" 30 _stack_prometheus_ready || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "prometheus not ready on port $PROMETHEUS_PORT (rc=$rc)"
    _stack_show_log "$p/prometheus.log"
    stop_prometheus
    return 1
  fi
}

stop_prometheus() {
  [ -n "${STACK_DIR:-}" ] || return 0
  _stack_stop_service prometheus "$STACK_DIR/prometheus/data"
}

# ------------------------------------------------------------ fake remote --

_stack_remote_ready() { [ -f "$STACK_DIR/remote/remote.ready" ]; }

# start_fake_remote: tests/lib/remote.py, a remote Graphite/Prometheus with
# canned good and hostile answers.  Exports REMOTE_PORT, REMOTE_DIR (the
# files it serves under /file/NAME, and requests.log) and REMOTE_URL.
start_fake_remote() {
  _stack_need_init || return 1
  local d="$STACK_DIR/remote" pid rc=0
  export REMOTE_PORT REMOTE_DIR="$d"
  REMOTE_PORT=$(_stack_named_port remote) || return 1
  export REMOTE_URL="http://127.0.0.1:$REMOTE_PORT"
  if _stack_running_pid remote "$d" >/dev/null; then return 0; fi
  mkdir -p "$d"
  rm -f "$d/remote.ready"
  "$_STACK_PY" "$_STACK_LIB_DIR/remote.py" "$REMOTE_PORT" "$d" \
    </dev/null >>"$STACK_DIR/remote.log" 2>&1 3>&- &
  pid=$!
  _stack_save_pid remote "$pid"
  _stack_wait_for "$pid" 10 _stack_remote_ready || rc=$?
  if [ "$rc" -ne 0 ]; then
    _stack_err "remote.py did not start on port $REMOTE_PORT (rc=$rc)"
    _stack_show_log "$STACK_DIR/remote.log"
    stop_fake_remote
    return 1
  fi
}

stop_fake_remote() {
  [ -n "${STACK_DIR:-}" ] || return 0
  _stack_stop_service remote "$STACK_DIR/remote" 5
}

# ------------------------------------------------------------------- stop --

# stack_stop: stop everything this stack started; tolerant of things already
# stopped.  Warns about (but never kills) unknown processes mentioning
# STACK_DIR, which would point at a leak in a test.
# start_fcgi PROGRAM: a resident FastCGI responder of PROGRAM (a path) on
# the Unix socket $STACK_DIR/fcgi/<name>.sock, started by spawn-fcgi as a
# process manager would; its stderr is appended to $STACK_DIR/fcgi/<name>.err.
# The stack dir is passed as an argument only so stop_fcgi can recognise it.
start_fcgi() {
  _stack_need_init || return 1
  local prog=$1 name pid
  name=$(basename "$prog")
  mkdir -p "$STACK_DIR/fcgi"
  if _stack_running_pid "fcgi-$name" "$STACK_DIR/fcgi" >/dev/null; then return 0; fi
  rm -f "$STACK_DIR/fcgi/$name.sock"
  # -n: exec in place, keeping our stderr (forking, spawn-fcgi points the
  # child's stderr at /dev/null and the log lines would be lost).
  # A clean environment: what a request needs comes with the request.
  env -i PATH="$PATH" ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
    ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
    spawn-fcgi -n -s "$STACK_DIR/fcgi/$name.sock" -- "$prog" "$STACK_DIR/fcgi" \
    </dev/null >>"$STACK_DIR/fcgi/$name.log" 2>>"$STACK_DIR/fcgi/$name.err" 3>&- &
  pid=$!
  _stack_wait_for "$pid" 10 test -S "$STACK_DIR/fcgi/$name.sock" ||
    { _stack_err "spawn-fcgi $name did not start"; return 1; }
  _stack_save_pid "fcgi-$name" "$pid"
}

# stop_fcgi: stop every resident responder of this stack.
stop_fcgi() {
  local f
  for f in "$STACK_DIR"/pids/fcgi-*; do
    [ -e "$f" ] || continue
    _stack_stop_service "$(basename "$f")" "$STACK_DIR/fcgi" 5
  done
}

stack_stop() {
  [ -n "${STACK_DIR:-}" ] && [ -d "${STACK_DIR:-}" ] || return 0
  local left
  stop_fcgi || true
  stop_apache || true
  stop_capture || true
  stop_fake_remote || true
  stop_graphite_web || true
  stop_prometheus || true
  stop_carbon || true
  stop_redis || true
  left=$(_stack_pids_with "$STACK_DIR/" | tr '\n' ' ')
  if [ -n "$left" ]; then
    _stack_err "warning: processes still mention $STACK_DIR: $left"
  fi
  return 0
}
