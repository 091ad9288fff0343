#!/usr/bin/env bats
# Fuzzing seeds and every crash or hang the fuzzer ever found (fuzz/regress/)
# go through the parsers again: the answer may be success or a clean error,
# never a signal, and never more than a few seconds.

setup() {
	load helper
}

run_input() {
	local f=$1 name
	name=$(basename "$(dirname "$f")")
	case "$f" in
	*/names/* | */regress/names-*) run timeout 10 "$BIN/mat" convert --row-names "$f" "$TOP/fuzz/rows3.tsv" - --to tsv ;;
	*) run timeout 10 "$BIN/mat" info "$f" ;;
	esac
	[ "$status" -le 2 ] || fail "$f: exit status $status (signal or timeout): $output"
}

@test "fuzz seeds parse cleanly" {
	for f in "$TOP"/fuzz/seeds/*/*; do
		run_input "$f"
		[ "$status" -eq 0 ] || fail "seed $f rejected: $output"
	done
}

@test "fuzz regressions end in success or a clean error" {
	shopt -s nullglob
	files=("$TOP"/fuzz/regress/*)
	[ ${#files[@]} -gt 0 ] || skip "no regression inputs yet"
	for f in "${files[@]}"; do
		run_input "$f"
	done
}
