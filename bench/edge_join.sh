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

secs() { # run a command under nice, print its wall seconds
	local t0 t1
	t0=$(date +%s.%N)
	nice "$@"
	t1=$(date +%s.%N)
	echo "$t1 - $t0" | bc -l
}
label=(--ref "$REF" --ref-cols tf,target --carry confidence,mor)
t_plain=$(secs sh -c "'$BIN/edge-join' ${label[*]} pairs.tsv > /dev/null")
t_gz=$(secs sh -c "'$BIN/edge-join' ${label[*]} pairs.tsv.gz > /dev/null")
t_sum=$(secs sh -c "'$BIN/edge-join' --summary --by layer --vocab vocab.txt --ref '$REF' --ref-cols tf,target pairs.tsv > /dev/null")
t_gzread=$(secs sh -c "zcat pairs.tsv.gz > /dev/null")

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
print("%.3f %.3f %.3f" % (t1 - t0, t2 - t1, t3 - t2), file=sys.stderr)
PY
t_pd=$(secs sh -c "$PY merge.py '$REF' pairs.tsv > /dev/null 2> pd.txt")
read -r pd_read pd_merge pd_write < pd.txt

rate() { echo "$N / $1 / 1000000" | bc -l | xargs printf '%.2f'; }
printf '\n%-44s %9s %12s\n' "run (nice, $(nproc) cores, shared machine)" "seconds" "Mpairs/s"
printf '%-44s %9.2f %12s\n' "edge-join label, plain input" "$t_plain" "$(rate "$t_plain")"
printf '%-44s %9.2f %12s\n' "edge-join label, gzipped input" "$t_gz" "$(rate "$t_gz")"
printf '%-44s %9.2f %12s\n' "  (zcat alone, the decompression floor)" "$t_gzread" "$(rate "$t_gzread")"
printf '%-44s %9.2f %12s\n' "edge-join --summary --by layer, plain" "$t_sum" "$(rate "$t_sum")"
printf '%-44s %9.2f %12s\n' "pandas read + merge + write, plain" "$t_pd" "$(rate "$t_pd")"
printf '%-44s %9s %12s\n' "  of which read / merge / write" "$pd_read / $pd_merge / $pd_write" ""
printf 'ratio pandas / edge-join (plain): %.1fx; merge step alone / edge-join: %.1fx\n' \
	"$(echo "$t_pd / $t_plain" | bc -l)" "$(echo "$pd_merge / $t_plain" | bc -l)"
