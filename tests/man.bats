#!/usr/bin/env bats
# Every man page's EXAMPLES run: lines starting with "$ " inside the EXAMPLES
# section's literal blocks are executed in a scratch copy of examples/, with
# the filters on PATH, and must succeed. So the docs cannot drift from the code.

setup() {
	load helper
}

@test "man pages: every filter has one, and the overview exists" {
	for f in "$TOP"/filters/*.c; do
		n=$(basename "$f" .c)
		[ -f "$TOP/man/$n.1" ] || fail "no man page for $n"
	done
	[ -f "$TOP/man/attnkit.7" ]
}

@test "man pages: mandoc lint finds no errors or warnings" {
	command -v mandoc >/dev/null || skip "mandoc missing"
	run mandoc -T lint -W warning "$TOP"/man/*.[17]
	assert_success
}

@test "man pages: EXAMPLES run" {
	for page in "$TOP"/man/*.[17]; do
		cmds=$(awk '/^\.Sh EXAMPLES/{on=1; next} /^\.Sh /{on=0} on && /^\$ /{sub(/^\$ /, ""); print}' "$page")
		[ -n "$cmds" ] || continue
		work="$BATS_TEST_TMPDIR/$(basename "$page")"
		mkdir -p "$work"
		cp -r "$TOP/examples/." "$work/"
		while IFS= read -r cmd; do
			# mdoc escapes: \e is a backslash, \- a minus
			cmd=${cmd//\\e/\\}
			cmd=${cmd//\\-/-}
			(cd "$work" && bash -o pipefail -c "$cmd" > /dev/null 2> "$work/.err") ||
				fail "$(basename "$page"): example failed: $cmd: $(cat "$work/.err")"
		done <<< "$cmds"
	done
}
