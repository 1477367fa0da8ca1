# shellcheck shell=bash source-path=SCRIPTDIR
# tests/lib/stack.bash - a throwaway stack for Flux's tests, benches and
# demo: each server on private ports or sockets in one directory. This file
# holds what every part shares (state, ports, starting and stopping a
# service) and sources the parts, one per kind of server:
#   stack/redis.bash    start_redis
#   stack/carbon.bash   start_carbon, whisper_fetch_value, whisper_count,
#                       start_capture (a fake carbon)
#   stack/apache.bash   start_apache, start_fcgi (resident responders)
#   stack/remote.bash   start_graphite_web, start_prometheus,
#                       start_fake_remote (the remote ends of populate)
#
# Source it (bats files: at file top level, so every test process has the
# functions), then:
#   stack_init DIR; start_redis; start_carbon; start_apache CGIDIR CONF; ...
#   stack_stop
#
# Design notes (why things look the way they do):
# - Every piece of state (pids, chosen ports) lives in files under
#   $STACK_DIR, not in shell variables: bats runs setup_file, each test and
#   teardown_file in different processes, and `$(flux_free_port)` runs in a
#   subshell.  So a test may stop/start carbon and teardown_file still finds
#   the new pid.
# - Background daemons get `</dev/null >>log 2>&1 3>&-`: bats waits for fd 3
#   to be closed before it finishes a test/file, so an inherited fd 3 hangs it.
# - No default ports anywhere; ports are picked once per stack and reused on
#   restart (a test stops carbon and expects the same config to work again).
# - Functions return non-zero with a message instead of exiting, and avoid
#   constructs that trip `set -eu` or bats' ERR trap.
# - Only processes whose pid we recorded (and whose command line still
#   matches) are ever signalled.

_STACK_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
_STACK_TOOLS_DIR=$(cd "$_STACK_LIB_DIR/../tools" && pwd -P)
_STACK_PY=/usr/bin/python3          # PATH python3 may be pyenv without twisted
STACK_WHISPER_STEP=60               # must match the retentions of stack/carbon.bash
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

# ------------------------------------------------------- starting a service --
#
# Every start_* ends the same way: the program in the background as a
# service of this stack (_stack_spawn), then a wait until it answers
# (_stack_await), which on a failure says why, shows the logs and stops it.

# The last service _stack_spawn started, for _stack_await.
_STACK_PID=
_STACK_LOGS=()

# _stack_spawn NAME LOG CMD...: CMD in the background as service NAME
# (stdin /dev/null, stdout and stderr appended to LOG, fd 3 closed), its
# pid recorded. CMD is a program, never a function: a backgrounded
# function is a bash subshell, whose pid is not the server's.
_stack_spawn() {
	local name=$1 log=$2
	shift 2
	"$@" </dev/null >>"$log" 2>&1 3>&- &
	_STACK_PID=$!
	_STACK_LOGS=("$log")
	_stack_save_pid "$name" "$_STACK_PID"
}

# _stack_await TIMEOUT_S WHAT STOP READY...: poll READY... until it
# succeeds, while the process _stack_spawn started lives. Otherwise: say
# WHAT did not happen (rc 1: timed out, 2: the process died), show the
# logs (_STACK_LOGS), run STOP (a stop_* function and its arguments) and
# fail.
_stack_await() {
	local timeout=$1 what=$2 stop=$3 rc=0
	shift 3
	_stack_wait_for "$_STACK_PID" "$timeout" "$@" || rc=$?
	if [ "$rc" -eq 0 ]; then return 0; fi
	_stack_err "$what (rc=$rc)"
	_stack_show_log "${_STACK_LOGS[@]}"
	# shellcheck disable=SC2086  # STOP: a function and its arguments
	$stop
	return 1
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

# ------------------------------------------------------------------ parts --

# shellcheck source=stack/redis.bash
source "$_STACK_LIB_DIR/stack/redis.bash"
# shellcheck source=stack/carbon.bash
source "$_STACK_LIB_DIR/stack/carbon.bash"
# shellcheck source=stack/apache.bash
source "$_STACK_LIB_DIR/stack/apache.bash"
# shellcheck source=stack/remote.bash
source "$_STACK_LIB_DIR/stack/remote.bash"

# ------------------------------------------------------------------- stop --

# stack_stop: stop everything this stack started; tolerant of things already
# stopped.  Warns about (but never kills) unknown processes mentioning
# STACK_DIR, which would point at a leak in a test.
stack_stop() {
	[ -n "${STACK_DIR:-}" ] && [ -d "${STACK_DIR:-}" ] || return 0
	local left
	stop_fcgi || true
	stop_apache || true
	# shellcheck disable=SC2119  # no PORT: every listener
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

