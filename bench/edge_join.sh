#!/usr/bin/env bash
# edge-join throughput: label N generated pairs (default 10 million) against
# DoRothEA, from a plain and from a gzipped file, and summarise them per
# group; an equivalent pandas merge (read, left-merge on (from, to), write)
# is timed in the same run for the ratio. Run by hand:
#   bench/edge_join.sh [N] [BINDIR]
# Uses nice; on a shared machine the absolute numbers move, the ratio less so.
set -euo pipefail
N=${1:-10000000}
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(cd "${2:-$here/bin}" && pwd)
DATA=${ATTNKIT_SHARED:-$here/../shared}/data
REF=$DATA/dorothea_hs_ABC.tsv.gz
PY=/usr/bin/python3
[ -e "$REF" ] || { echo "bench: $REF missing" >&2; exit 1; }
[ -x "$BIN/edge-join" ] || { echo "bench: $BIN/edge-join missing (make first)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# Pairs over DoRothEA's genes: 2% real edges (both orientations), the rest
# random, in 8 groups (layers), like a stack of top-K tables.
zcat "$REF" | awk -F'\t' 'NR > 1 { print $1 "\t" $3 }' > edges.tsv
cut -f1 edges.tsv > g; cut -f2 edges.tsv >> g; sort -u g > vocab.txt; rm g
nice awk -v n="$N" 'BEGIN { srand(42); ne = 0; ng = 0 }
	FILENAME == ARGV[1] { ea[ne] = $1; eb[ne++] = $2; next }
	{ g[ng++] = $1 }
	END {
		print "from\tto\tvalue\tlayer"
		for (i = 0; i < n; i++) {
			if (rand() < 0.02) { k = int(rand() * ne); a = ea[k]; b = eb[k]
				if (rand() < 0.5) { t = a; a = b; b = t } }
			else { a = g[int(rand() * ng)]; b = g[int(rand() * ng)] }
			printf "%s\t%s\t%.6f\t%d\n", a, b, rand(), i % 8
		}
	}' edges.tsv vocab.txt > pairs.tsv
nice gzip -1 -c pairs.tsv > pairs.tsv.gz
echo "pairs: $N rows, $(du -m pairs.tsv | cut -f1) MB plain, $(du -m pairs.tsv.gz | cut -f1) MB gzip;" \
	"reference: DoRothEA A-C, $(wc -l < edges.tsv) edges; vocabulary $(wc -l < vocab.txt) genes"

# Run a command under nice; append "name wall_seconds cpu_seconds" to times.txt.
# CPU time (user + sys) is what the program needed; wall time includes the
# waiting that a loaded machine adds.
run() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S" -o t.txt nice sh -c "$*"
	awk -v n="$name" '{ printf "%s %s %.2f\n", n, $1, $2 + $3 }' t.txt >> times.txt
}
: > times.txt
label="--ref '$REF' --ref-cols tf,target --carry confidence,mor"
run plain "'$BIN/edge-join' $label pairs.tsv > /dev/null"
run gzip "'$BIN/edge-join' $label pairs.tsv.gz > /dev/null"
run zcat "zcat pairs.tsv.gz > /dev/null"
run summary "'$BIN/edge-join' --summary --by layer --vocab vocab.txt --ref '$REF' --ref-cols tf,target pairs.tsv > /dev/null"

cat > merge.py <<'PY'
import sys, time
import pandas as pd
t0 = time.time()
ref = pd.read_csv(sys.argv[1], sep="\t", dtype=str, keep_default_na=False)
ref = ref.drop_duplicates(["tf", "target"])[["tf", "target", "confidence", "mor"]]
p = pd.read_csv(sys.argv[2], sep="\t", dtype={"from": str, "to": str}, keep_default_na=False)
t1 = time.time()
m = p.merge(ref, left_on=["from", "to"], right_on=["tf", "target"], how="left")
m["in_ref"] = m["tf"].notna().astype(int)
m = m.drop(columns=["tf", "target"])
t2 = time.time()
m.to_csv(sys.stdout, sep="\t", index=False)
t3 = time.time()
print("%.2f %.2f %.2f" % (t1 - t0, t2 - t1, t3 - t2), file=sys.stderr)
PY
run pandas "$PY merge.py '$REF' pairs.tsv > /dev/null 2> pd.txt"

awk -v n="$N" -v cores="$(nproc)" -v pd="$(cat pd.txt)" '
	{ wall[$1] = $2; cpu[$1] = $3 }
	function row(label, k) {
		printf "%-40s %8.2f %8.2f %10.2f %10.2f\n", label, wall[k], cpu[k], n / wall[k] / 1e6, n / cpu[k] / 1e6
	}
	END {
		printf "\n%-40s %8s %8s %10s %10s\n", "run (nice; " cores " cores shared with other jobs)", "wall s", "cpu s", "Mpairs/s", "Mp/cpu-s"
		row("edge-join label, plain input", "plain")
		row("edge-join label, gzipped input", "gzip")
		row("  zcat alone (decompression floor)", "zcat")
		row("edge-join --summary --by layer, plain", "summary")
		row("pandas read + merge + write, plain", "pandas")
		split(pd, t, " ")
		printf "  pandas read %s s, merge %s s, write %s s (wall)\n", t[1], t[2], t[3]
		printf "pandas / edge-join, plain input: %.1fx wall, %.1fx cpu; the merge step alone: %.1fx wall\n",
			wall["pandas"] / wall["plain"], cpu["pandas"] / cpu["plain"], t[2] / wall["plain"]
	}' times.txt
