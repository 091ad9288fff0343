#!/usr/bin/env bash
# Benchmark auroc and bh-fdr end to end on 10^7 rows against the Python
# reference (pandas read + scikit-learn / statsmodels + write), in one run.
#   bench/stats.sh [BINDIR] [ROWS]
# Inputs are generated once into $AK_BENCH_DIR (default /tmp/attnkit-bench).
# Run it with nice on a shared machine; the figures are wall-clock seconds
# and peak RSS from /usr/bin/time.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$here/bin}" && pwd)
rows=${2:-10000000}
dir=${AK_BENCH_DIR:-/tmp/attnkit-bench}
PY=/usr/bin/python3
mkdir -p "$dir"
cd "$dir"

scores=scores_$rows.tsv.gz
pvals=pvalues_$rows.tsv.gz
if [ ! -s "$scores" ] || [ ! -s "$pvals" ]; then
	echo "generating $rows rows in $dir ..." >&2
	"$PY" - "$rows" "$scores" "$pvals" <<'PY'
import sys, gzip, numpy as np
n = int(sys.argv[1]); rng = np.random.default_rng(1)
chunk = 1_000_000
with gzip.open(sys.argv[2] + ".tmp", "wt", compresslevel=1) as f:
    f.write("from\tto\tscore\tlabel\n")
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        y = (rng.random(m) < 0.05).astype(int)
        sc = np.round(rng.standard_normal(m) + 0.8 * y, 4)   # 4 decimals: ties, as real scores have
        fr = rng.integers(0, 2000, m); to = rng.integers(0, 20000, m)
        f.write("".join(f"G{a}\tG{b}\t{c!r}\t{d}\n" for a, b, c, d in zip(fr, to, sc.tolist(), y)))
with gzip.open(sys.argv[3] + ".tmp", "wt", compresslevel=1) as f:
    f.write("test\tp\n")
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        p = rng.random(m) ** 2
        f.write("".join(f"t{s + i}\t{v!r}\n" for i, v in enumerate(p.tolist())))
PY
	mv "$scores.tmp" "$scores"
	mv "$pvals.tmp" "$pvals"
fi

cat > ref_auroc.py <<'PY'
import sys, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
df = pd.read_csv(sys.argv[1], sep="\t")
d = df[df.score.notna()]
y, s = d.label.to_numpy(), d.score.to_numpy()
out = pd.DataFrame({"n_pos": [int(y.sum())], "n_neg": [int(len(y) - y.sum())],
                    "auroc": [roc_auc_score(y, s)], "auprc": [average_precision_score(y, s)]})
out.to_csv(sys.argv[2], sep="\t", index=False)
PY
cat > ref_bh.py <<'PY'
import sys, numpy as np, pandas as pd
from statsmodels.stats.multitest import multipletests
df = pd.read_csv(sys.argv[1], sep="\t")
ok = df.p.notna().to_numpy()
q = np.full(len(df), np.nan)
q[ok] = multipletests(df.p.to_numpy()[ok], alpha=0.05, method="fdr_bh")[1]
df["q"] = q
df["significant"] = np.where(ok, (q <= 0.05).astype(int).astype(str), "NA")
df.to_csv(sys.argv[2], sep="\t", index=False)
PY

t() { # label, command...: prints "label seconds maxrss_MB"
	local lab=$1
	shift
	/usr/bin/time -f "%e %M" -o time.txt "$@"
	read -r sec kb < time.txt
	printf '%-22s %8.2f s %8.0f MB\n' "$lab" "$sec" "$((kb / 1024))"
	echo "$sec"  > "time_$lab.txt"
}

echo "rows: $rows  (machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
t auroc "$bin/auroc" --score score --label label -o auroc_ak.tsv "$scores"
t auroc_python "$PY" ref_auroc.py "$scores" auroc_py.tsv
t bh-fdr "$bin/bh-fdr" --p p -o bh_ak.tsv "$pvals"
t bh-fdr_python "$PY" ref_bh.py "$pvals" bh_py.tsv
for f in auroc bh-fdr; do
	awk -v f=$f -v a="$(cat time_$f.txt)" -v b="$(cat time_${f}_python.txt)" \
		'BEGIN { printf "%-8s speed-up vs python: %.1fx\n", f, b / a }'
done
# Same answers (AUROC to 1e-12; q compared numerically, row by row).
"$PY" - <<'PY'
import pandas as pd, numpy as np
a, b = pd.read_csv("auroc_ak.tsv", sep="\t"), pd.read_csv("auroc_py.tsv", sep="\t")
assert (a.n_pos == b.n_pos).all() and abs(a.auroc[0] - b.auroc[0]) < 1e-12 and abs(a.auprc[0] - b.auprc[0]) < 1e-12, (a, b)
qa = pd.read_csv("bh_ak.tsv", sep="\t", usecols=["q"]).q.to_numpy()
qb = pd.read_csv("bh_py.tsv", sep="\t", usecols=["q"]).q.to_numpy()
print("answers agree: auroc diff %.1e, max |q diff| %.1e" % (abs(a.auroc[0] - b.auroc[0]), np.nanmax(np.abs(qa - qb))))
PY
