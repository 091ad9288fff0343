#!/usr/bin/env bats
# common/fmt_fast.c, the fast path of fmt_f64 that every filter's numbers go
# through: the same bytes as the snprintf/strtod loop, on 600,000 values.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "fmt_fast: fast path writes exactly what the %.15g..%.17g loop writes" {
	run "$(unit_bin fmt_fast)" 600000
	assert_success
	# about three in four of these values take the fast path, none differs
	assert_output --regexp "^600000 4[0-9]{5} 0$"
}
