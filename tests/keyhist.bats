#!/usr/bin/env bats
# The rank histogram behind attn-topk --at (common/keyhist.c), checked at unit
# level against brute-force counts over sorted keys (tests/unit/keyhist.c):
# keys of every kind of float, repeated keys whose 16-bit counters wrap,
# batches of odd sizes, flushes, two threads' tables added into one.

setup() { load helper; cd "$BATS_TEST_TMPDIR"; }

unit() {
	command -v cc > /dev/null || skip "no C compiler"
	local san=()
	case "$BIN" in *san*) san=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all) ;; esac
	cc -std=c11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror "${san[@]}" -I"$TOP/common" \
		"$TOP/tests/unit/$1.c" "$TOP"/common/keyhist.c "$TOP"/common/xalloc.c "$TOP"/common/err.c \
		-lm -o "$1"
}

unit() {
	if [ -n "${AK_VALGRIND:-}" ]; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$@"
	else
		"$@"
	fi
}

@test "keyhist: counts above and within a bin equal brute force (two seeds)" {
	run unit "$(unit_bin keyhist)" 1
	assert_success
	assert_output "ok 760002 498838"
	run unit "$(unit_bin keyhist)" 7
	assert_success
	assert_output "ok 760002 498628"
}

@test "keyhist: counts beyond 2^32 entries stay exact" {
	run unit "$(unit_bin keyhist64)"
	assert_success
	assert_output "ok 12884901885"
}
