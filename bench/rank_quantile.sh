#!/usr/bin/env bash
# Benchmark (by hand, not a test) for rank-quantile and rsa.
#
#   bench/rank_quantile.sh [BINDIR]        (default bin; run `make` first)
#
# rank-quantile: a generated 10M-row union table, 7 models x 16 layers
# (112 partitions) x 89,285 union pairs of 4,000 genes, every partition's
# own top-50,000 among them; rows per second for the default (all ordered
# pairs) at K = 5,000 and K = 50,000, --spearman, --consecutive, --families.
# rsa: 4 layers of genes x 512 at n = 5,000 (exact) and n = 20,000 (exact and
# --sample 10^7, with the deviation of the sample from exact).
#
# Wall time and peak RSS come from /usr/bin/time -v. Everything runs under
# `nice`: the machine is shared, so figures are upper bounds for an idle one.
# Scratch files go to $BENCH_TMP (default a mktemp directory, removed at the
# end); about 1 GB of disk. Set RSA_EXACT_20K=0 to skip the exact n = 20,000
# rsa run (about 6 GiB of memory).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$here/bin}" && pwd)
PY=${PY:-/usr/bin/python3}
tmp=${BENCH_TMP:-$(mktemp -d)}
[ -n "${BENCH_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

measure() { # label rows cmd...
	local label=$1 rows=$2
	shift 2
	/usr/bin/time -v -o time.txt nice -n 10 "$@"
	local wall rss cpu
	cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.1f", s}' time.txt)
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' time.txt)
	rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' time.txt)
	if [ "$rows" -gt 0 ]; then
		printf '%-44s %8.2f s %7s s %8d MiB %10.0f rows/s\n' "$label" "$wall" "$cpu" "$rss" "$(awk -v r="$rows" -v w="$wall" 'BEGIN {print r / w}')"
	else
		printf '%-44s %8.2f s %7s s %8d MiB\n' "$label" "$wall" "$cpu" "$rss"
	fi
}

echo "# generating the 10M-row union table ($tmp)"
"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
n, U, K = 4000, 89285, 50000
N = n * (n - 1)
genes = np.array([f"ENSG{i:011d}" for i in range(n)])
f = rng.integers(0, n, 3 * U); t = rng.integers(0, n, 3 * U)
keep = f != t
key = np.unique(f[keep] * n + t[keep])[:U]
rng.shuffle(key)
fr, to = genes[key // n], genes[key % n]
pre = np.char.add(np.char.add(fr, "\t"), np.char.add(to, "\t"))
with open("big.tsv", "w") as out:
    out.write("from\tto\tvalue\trank\tquantile\tmodel\tlayer\n")
    shared = rng.permutation(U)
    for m in range(7):
        for l in range(16):
            # layers of a model drift slowly: mix a shared order with noise
            score = -np.argsort(np.argsort(shared)) + rng.normal(0, 20000 * (1 + l / 4), U)
            order = np.argsort(-score)
            rank = np.empty(U, dtype=np.int64)
            rank[order[:K]] = np.arange(1, K + 1)
            rank[order[K:]] = np.sort(rng.integers(K + 1, N, U - K))
            val = 1.0 / rank
            q = rank / N
            lines = np.char.add(pre, np.char.add(np.char.add(val.astype(str), "\t"),
                    np.char.add(np.char.add(rank.astype(str), "\t"), q.astype(str))))
            out.write("\n".join(np.char.add(lines, f"\tm{m}\t{l}")) + "\n")
with open("families.tsv", "w") as out:
    out.write("model\tfamily\n" + "".join(f"m{m}\tf{m % 3}\n" for m in range(7)))
PY
rows=$(($(wc -l < big.tsv) - 1))
echo "# $rows rows, $(du -m big.tsv | cut -f1) MB; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# rank-quantile                                  wall        CPU   peak RSS  rows/s (wall)"
measure "default, K = 5,000 (12,432 ordered pairs)" "$rows" "$bin/rank-quantile" --by model,layer --top 5000 -o a5k.tsv big.tsv
measure "default, K = 50,000" "$rows" "$bin/rank-quantile" --by model,layer --top 50000 -o a50k.tsv big.tsv
measure "--consecutive, K = 50,000" "$rows" "$bin/rank-quantile" --by model,layer --top 50000 --consecutive -o c.tsv big.tsv
measure "--spearman (6,216 pairs, all union pairs)" "$rows" "$bin/rank-quantile" --by model,layer --spearman -o s.tsv big.tsv
measure "--spearman --top 5,000" "$rows" "$bin/rank-quantile" --by model,layer --spearman --top 5000 -o s5k.tsv big.tsv
measure "--families, K = 50,000" "$rows" "$bin/rank-quantile" --by model,layer --top 50000 --families families.tsv -o coh.tsv big.tsv
measure "reading only: --consecutive, K = 1" "$rows" "$bin/rank-quantile" --by model,layer --top 1 --consecutive -o r.tsv big.tsv
rm -f big.tsv

echo "# generating residual streams (4 layers x 512, n = 5,000 and 20,000)"
"$PY" - <<'PY'
import numpy as np
for n in (5000, 20000):
    rng = np.random.default_rng(n)
    base = rng.standard_normal((n, 512)).astype(np.float32)
    x = base
    for l in range(4):
        x = x + rng.standard_normal((n, 512)).astype(np.float32) * 0.7
        np.save(f"r{n}_{l}.npy", x)
PY
echo "# rsa                                            wall        CPU   peak RSS"
measure "n = 5,000, 4 inputs, exact" 0 "$bin/rsa" -o rsa5k.tsv r5000_{0,1,2,3}.npy
measure "n = 20,000, 4 inputs, --sample 10^7" 0 "$bin/rsa" --sample 10000000 -o rsa20k_s.tsv r20000_{0,1,2,3}.npy
if [ "${RSA_EXACT_20K:-1}" = 1 ]; then
	measure "n = 20,000, 4 inputs, exact" 0 "$bin/rsa" -o rsa20k.tsv r20000_{0,1,2,3}.npy
	echo "# --sample 10^7 minus exact (n = 20,000):"
	paste rsa20k.tsv rsa20k_s.tsv | awk -F'\t' 'NR > 1 {d = $8 - $4; printf "#   %s %s exact %.6f sample %.6f diff %+.6f\n", $1, $2, $4, $8, d}'
fi
