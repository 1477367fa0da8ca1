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
