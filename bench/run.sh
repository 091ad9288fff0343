#!/usr/bin/env bash
# make bench: every benchmark under bench/ in turn (each prints its own summary
# table of ratios measured in one run). Benchmarks are slow and want a quiet
# machine; they are never part of `make check`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
status=0
for b in bench/*.sh; do
	[ "$(basename "$b")" = run.sh ] && continue
	# minutes and ~2 GB of scratch: run by hand (nice bash bench/large_inputs.sh)
	[ "$(basename "$b")" = large_inputs.sh ] && continue
	echo "== $b"
	bash "$b" || { echo "bench: $b failed" >&2; status=1; }
done
exit $status
