#!/usr/bin/env bats
# The C unit tests (tests/unit/test_unit.c), run as one bats test each
# binary: any "not ok" line fails it.

@test "C unit tests pass" {
	run "$BATS_TEST_DIRNAME/unit/test_unit"
	echo "$output"
	[ "$status" = 0 ]
	[[ "$output" != *"not ok"* ]]
}
