#!/usr/bin/env bats
# The Redis scripts kept as Lua files (common/lua/): Redis compiles the text
# each program embeds (SCRIPT LOAD), so a syntax error fails make check
# rather than every request. tests/unit/lua_text prints that text.

# Sourced once, at file level: bats runs setup_file, each test and
# teardown_file in processes of their own, and each needs the helpers.
# shellcheck source=lib/flux.bash
source "$BATS_TEST_DIRNAME/lib/flux.bash"

setup_file() {
	suite_start lua redis
}

teardown_file() {
	suite_stop
}

# load NAME: SCRIPT LOAD of the embedded script NAME; its SHA1 on success.
load_script() {
	"$FLUX_TOP/tests/unit/lua_text" "$1" | redis-cli -s "$REDIS_SOCK" -x script load
}

@test "Redis compiles the embedded de-dup script" {
	run load_script dedup
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" =~ ^[0-9a-f]{40}$ ]]
}

@test "Redis compiles the embedded flux.last scripts: rollback, advance, read" {
	for name in rollback advance last; do
		run load_script "$name"
		echo "$name: $output"
		[ "$status" = 0 ]
		[[ "$output" =~ ^[0-9a-f]{40}$ ]]
	done
}

# (SCRIPT LOAD answers an error, not a SHA1, for a script that does not
# compile: the claim confirm script is compiled here.)
@test "each script's embedded SHA1 is the one Redis caches it by (EVALSHA)" {
	local n
	for n in dedup rollback advance last confirm; do
		run load_script "$n"
		[ "$status" = 0 ]
		[ "$output" = "$("$FLUX_TOP/tests/unit/lua_text" -s "$n")" ]
	done
}

# confirm TOKEN: the embedded confirm script run for TOKEN, counting 3
# points accepted.
confirm() {
	redis-cli -s "$REDIS_SOCK" evalsha "$("$FLUX_TOP/tests/unit/lua_text" -s confirm)" 3 \
		t.pending t.done t.stats "$1" 60000 "accepted 3" ""
}

@test "a confirm sent again (its answer lost) counts the request once" {
	load_script confirm >/dev/null
	redis-cli -s "$REDIS_SOCK" del t.pending t.done t.stats >/dev/null
	redis-cli -s "$REDIS_SOCK" zadd t.pending 1 tok1 >/dev/null
	run confirm tok1
	[ "$output" = 0 ]
	[ "$(redis-cli -s "$REDIS_SOCK" hget t.stats accepted)" = 3 ]
	run confirm tok1
	[ "$output" = 0 ]
	[ "$(redis-cli -s "$REDIS_SOCK" hget t.stats accepted)" = 3 ]
	[ "$(redis-cli -s "$REDIS_SOCK" zcard t.pending)" = 0 ]
	[ "$(redis-cli -s "$REDIS_SOCK" zscore t.done tok1)" != "" ]
	# A claim that lapsed (no longer pending) is still counted once.
	run confirm tok2
	[ "$(redis-cli -s "$REDIS_SOCK" hget t.stats accepted)" = 6 ]
}

@test "a script with a syntax error is refused (the check can fail)" {
	run bash -c "printf 'local x = \n' | redis-cli -s '$REDIS_SOCK' -x script load"
	echo "$output"
	[[ "$output" == *"Error compiling script"* ]]
}

@test "lua_text knows no other script" {
	run "$FLUX_TOP/tests/unit/lua_text" nosuch
	[ "$status" = 2 ]
	[ "$output" = "usage: lua_text [-s] dedup|rollback|advance|last|confirm" ]
}
