#!/usr/bin/env bash
# make fuzz: AFL++ over every parser, through the real filters, built with
# ASan + UBSan. Each target runs FUZZ_SECONDS (default 60). A crash or hang is
# copied to fuzz/regress/ (kept as a regression test by tests/fuzz.bats) and
# makes this script fail. Total time: about FUZZ_SECONDS x the number of targets.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
command -v afl-fuzz >/dev/null || { echo "fuzz: afl-fuzz missing (apt-get install afl++)" >&2; exit 1; }
make --no-print-directory CC=afl-clang-fast BUILD=build-afl BINDIR=bin-afl CFLAGS="-O1 -g" SAN=1 all >/dev/null
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_QUIET=1
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:symbolize=0
B=$PWD/bin-afl
# The targets (name, command) are listed in fuzz/targets, shared with
# tests/fuzz.bats; seeds in fuzz/seeds/NAME/. FUZZ_TARGETS="a b" runs a subset.
targets=()
while read -r name cmd; do
	case $name in '' | '#'*) continue ;; esac
	if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $name "* ]]; then continue; fi
	targets+=("$name $name $B/$cmd")
done < fuzz/targets
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p fuzz/regress
found=0
printf '%-8s %10s %10s %8s %6s\n' target execs execs/s crashes hangs
for t in "${targets[@]}"; do
	read -r name seeds cmd <<< "$t"
	# shellcheck disable=SC2086
	afl-fuzz -V "$secs" -i "fuzz/seeds/$seeds" -o "$out/$name" -- $cmd >"$out/$name.log" 2>&1 || {
		echo "fuzz: afl-fuzz failed for $name:" >&2; tail -5 "$out/$name.log" >&2; exit 1; }
	st=$out/$name/default/fuzzer_stats
	get() { awk -v k="$1" '$1 == k {print $3}' "$st"; }
	printf '%-8s %10s %10s %8s %6s\n' "$name" "$(get execs_done)" "$(get execs_per_sec)" \
		"$(get saved_crashes)" "$(get saved_hangs)"
	for f in "$out/$name"/default/crashes/id* "$out/$name"/default/hangs/id*; do
		[ -e "$f" ] || continue
		cp "$f" "fuzz/regress/$name-$(basename "$(dirname "$f")")-$(sha1sum "$f" | cut -c1-12)"
		found=1
	done
done
if [ "$found" -ne 0 ]; then
	echo "fuzz: crashes or hangs found; inputs saved in fuzz/regress/" >&2
	exit 1
fi
