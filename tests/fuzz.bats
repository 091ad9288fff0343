#!/usr/bin/env bats
# Fuzzing seeds and every crash or hang the fuzzer ever found (fuzz/regress/)
# go through the parsers again: the answer may be success or a clean error,
# never a signal, and never more than a few seconds.

setup() {
	load helper
}

# The command of fuzz target $1 (from fuzz/targets) with @@ = $2, in $cmd.
target_cmd() {
	local name rest w
	cmd=()
	while read -r name rest; do
		[ "$name" = "$1" ] || continue
		for w in $rest; do
			[ "$w" = @@ ] && w=$2
			cmd+=("$w")
		done
		return 0
	done < "$TOP/fuzz/targets"
	fail "$2: no fuzz target '$1' in fuzz/targets"
}

# seeds/NAME/FILE or regress/NAME-crashes-HASH: run NAME's command on it.
run_input() {
	local f=$1 name
	case "$f" in
	*/regress/*) name=$(basename "$f"); name=${name%%-*} ;;
	*) name=$(basename "$(dirname "$f")") ;;
	esac
	target_cmd "$name" "$f"
	cd "$TOP"
	run timeout 10 "$BIN/${cmd[0]}" "${cmd[@]:1}"
	[ "$status" -le 2 ] || fail "$f: exit status $status (signal or timeout): $output"
	# under make check's sanitizers an error report exits 1, like a clean error
	[[ $output != *"runtime error:"* && $output != *"Sanitizer"* ]] || fail "$f: sanitizer report: $output"
}

@test "fuzz seeds parse cleanly" {
	local t
	# every target has seeds
	for t in $(grep -v '^#' "$TOP/fuzz/targets" | cut -d' ' -f1); do
		ls "$TOP/fuzz/seeds/$t"/* > /dev/null 2>&1 || fail "fuzz target $t has no seeds"
	done
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
