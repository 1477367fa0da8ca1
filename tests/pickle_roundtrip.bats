#!/usr/bin/env bats
# Property test of the pickle encoder (common/pickle.c): random names,
# timestamps (BININT and, after 2038, BINFLOAT) and values, encoded in C
# and decoded by carbon's own unpickler (carbon.util.get_unpickler, what
# carbon's pickle receiver uses), must come back identical, bit for bit.

PY=/usr/bin/python3	# the python with carbon; PATH may hold another

setup() {
	TMP=$(mktemp -d)
}

teardown() {
	rm -rf "$TMP"
}

roundtrip() {
	"$PY" "$BATS_TEST_DIRNAME/tools/pickle_rt.py" gen "$1" "$2" > "$TMP/points"
	"$BATS_TEST_DIRNAME/unit/pickle_rt" < "$TMP/points" > "$TMP/frames"
	run "$PY" "$BATS_TEST_DIRNAME/tools/pickle_rt.py" check "$TMP/points" "$TMP/frames"
	echo "seed $2: $output"
	[ "$status" = 0 ]
	[ "$output" = "$1 points in $(( ($1 + 299) / 300 )) frames round-tripped" ]
}

@test "2000 random points survive carbon's unpickler (seed 1)" {
	roundtrip 2000 1
}

@test "2000 random points survive carbon's unpickler (a seed of this run)" {
	roundtrip 2000 "$(date +%s)"
}
