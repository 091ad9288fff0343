# Loaded by every suite: pinned locale, binaries from $ATTNKIT_BIN (default
# ../bin), independent references from Debian's python3, shared data if present.
export LC_ALL=C
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
BIN=${ATTNKIT_BIN:-$TOP/bin}
PY=/usr/bin/python3
SHARED=${ATTNKIT_SHARED:-$TOP/../shared}
DATA=$SHARED/data
export PATH="$BIN:$PATH"

# Run a filter; under `make valgrind` (AK_VALGRIND=1) through valgrind with leak checks.
ak() {
	local f=$1
	shift
	if [ -n "${AK_VALGRIND:-}" ]; then
		valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
			"$BIN/$f" "$@"
	else
		"$BIN/$f" "$@"
	fi
}

need_data() {
	[ -d "$DATA" ] || skip "shared data not present ($DATA)"
	local p
	for p in "$@"; do
		[ -e "$DATA/$p" ] || skip "shared data file missing: $p"
	done
}

# A C unit-test driver (tests/unit/NAME.c), built by `make units` into
# BINDIR/unit in the flavour under test; missing is a failure, not a skip.
unit_bin() {
	[ -x "$BIN/unit/$1" ] || { echo "$BIN/unit/$1 missing: run make units (make check builds it)" >&2; return 1; }
	printf '%s\n' "$BIN/unit/$1"
}

need_py() {
	"$PY" -c "import ${1:-numpy}" 2>/dev/null || skip "python3 module ${1:-numpy} missing"
}

# One line on stderr, exit 1, naming the file: the shape of every data error.
assert_data_error() {
	assert_failure 1
	assert_output --partial "$1"
}
