#!/usr/bin/env bash
# Benchmarks of the expression filters against their scipy references, each
# pair measured in one run on the same data (run by hand; not a test):
#  1. coexpr Spearman, all pairs of 2,000 genes over 20,000 cells, against
#     scipy.stats.spearmanr on the same normalised matrix;
#  2. de-call (Welch and Mann-Whitney) over all Papalexi 2021 perturbations
#     against a scipy loop (ttest_ind / mannwhitneyu per perturbation).
# Wall time and peak memory (max RSS) from /usr/bin/time. The data of (1) are
# generated (seeded); (2) needs ../shared/data/papalexi2021.
#   bench/expr.sh [BINDIR]     (nice -n 10 is applied; the machine may be shared)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
py=/usr/bin/python3
data=${ATTNKIT_SHARED:-$top/../shared}/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run() { nice -n 10 /usr/bin/time -f "%e %M %U %S" -o "$1.time" "${@:2}"; }
secs() { cut -d' ' -f1 "$1.time"; }
rss() { echo "$(( $(cut -d' ' -f2 "$1.time") / 1024 ))"; }
cpu() { awk '{printf "%.2f", $3 + $4}' "$1.time"; }

echo "# coexpr: Spearman, 2000 genes x 20000 cells, all pairs (OpenBLAS threads: ${OPENBLAS_NUM_THREADS:-default})"
"$py" - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
cells, genes, k = 20000, 2000, 10
# counts from a few latent programs, so genes correlate; ~75% zeros
load = rng.gamma(0.3, 1.0, (k, genes))
act = rng.gamma(1.0, 1.0, (cells, k))
rate = act @ load * rng.gamma(2.0, 0.1, genes)
np.save("counts.npy", rng.poisson(rate).astype(np.int32))
open("genes.txt", "w").write("".join(f"g{i}\n" for i in range(genes)))
PY
run coexpr "$bin/coexpr" --counts counts.npy --genes genes.txt -o pairs.tsv
run coexpr_top "$bin/coexpr" --counts counts.npy --genes genes.txt --top 1000 -o top.tsv
cat > sp.py <<'PY'
import time, numpy as np, scipy.stats as ss
t0, c0 = time.perf_counter(), time.process_time()
m = np.load("counts.npy").astype(float)
x = np.log1p(m / m.sum(1, keepdims=True) * 1e4)
t1, c1 = time.perf_counter(), time.process_time()
r = ss.spearmanr(x).correlation
t2, c2 = time.perf_counter(), time.process_time()
print(f"{t1 - t0:.2f} {t2 - t1:.2f} {c1 - c0:.2f} {c2 - c1:.2f}")
np.save("ref_rows.npy", r[:5])
PY
run scipy "$py" sp.py > sp.out
read -r load_s corr_s load_c corr_c < sp.out
ours=$(secs coexpr)
echo "coexpr end to end (read .npy, normalise, rank, dsyrk, write $(($(wc -l < pairs.tsv) - 1)) pairs): ${ours} s wall, $(cpu coexpr) s CPU, max RSS $(rss coexpr) MB"
echo "coexpr --top 1000 (same work, no text for all pairs): $(secs coexpr_top) s wall, $(cpu coexpr_top) s CPU, max RSS $(rss coexpr_top) MB"
echo "scipy: load+normalise ${load_s} s wall (${load_c} s CPU), spearmanr ${corr_s} s wall (${corr_c} s CPU); process max RSS $(rss scipy) MB"
"$py" -c "
import numpy as np, pandas as pd
t = pd.read_csv('pairs.tsv', sep='\t', nrows=5 * 1999)
r = np.load('ref_rows.npy')
fr = t['from'].str[1:].astype(int).values; to = t['to'].str[1:].astype(int).values
print('max |ours - scipy| over the first 5 rows:', np.abs(t.value.values - r[fr, to]).max())
print('wall speed-up, all pairs written: vs spearmanr alone %.2fx; vs scipy load+normalise+spearmanr %.2fx' % ($corr_s / $ours, ($load_s + $corr_s) / $ours))
print('wall speed-up, --top 1000:         vs spearmanr alone %.2fx; vs scipy load+normalise+spearmanr %.2fx' % ($corr_s / $(secs coexpr_top), ($load_s + $corr_s) / $(secs coexpr_top)))
print('CPU ratio, all pairs written: vs spearmanr alone %.2fx; vs load+spearmanr %.2fx' % ($corr_c / $(cpu coexpr), ($load_c + $corr_c) / $(cpu coexpr)))"

if [ -d "$data/papalexi2021" ]; then
	d=$data/papalexi2021
	echo
	echo "# de-call: all Papalexi 2021 perturbations vs non-targeting (299 genes x 20,729 cells)"
	for t in welch mwu; do
		run de_$t "$bin/de-call" --counts "$d/counts.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv.gz" \
			--group target --control non-targeting --test $t -o de_$t.tsv
	done
	cat > de.py <<PY
import time, gzip, numpy as np, pandas as pd, scipy.io, scipy.stats as ss
t0 = time.perf_counter()
m = scipy.io.mmread(gzip.open("$d/counts.mtx.gz")).T.toarray().astype(float)
x = np.log1p(m / m.sum(1, keepdims=True) * 1e4)
cells = pd.read_csv("$d/cells.tsv.gz", sep="\t")
t1 = time.perf_counter()
ctrl = x[(cells.target == "non-targeting").values]
out = []
for test in ["welch", "mwu"]:
    ts = time.perf_counter()
    for p in sorted(set(cells.target) - {"non-targeting"}):
        a = x[(cells.target == p).values]
        r = ss.ttest_ind(a, ctrl, equal_var=False) if test == "welch" else ss.mannwhitneyu(a, ctrl, method="asymptotic")
    out.append(time.perf_counter() - ts)
print(f"{t1 - t0:.2f} {out[0]:.2f} {out[1]:.2f}")
PY
	run descipy "$py" de.py > de.out
	read -r dl dw dm < de.out
	echo "de-call welch: $(secs de_welch) s wall, $(cpu de_welch) s CPU (max RSS $(rss de_welch) MB); mwu: $(secs de_mwu) s wall, $(cpu de_mwu) s CPU (max RSS $(rss de_mwu) MB)  [end to end, reading the .mtx.gz]"
	echo "scipy: mmread+normalise ${dl} s; ttest_ind loop ${dw} s; mannwhitneyu loop ${dm} s (max RSS $(rss descipy) MB)"
	"$py" -c "
w, m, l = $(secs de_welch), $(secs de_mwu), $dl
print('speed-up, scipy (load + loop) / ours: welch %.2fx, mwu %.2fx' % ((l + $dw) / w, (l + $dm) / m))
print('speed-up, scipy loop alone / ours end to end: welch %.2fx, mwu %.2fx' % ($dw / w, $dm / m))"
else
	echo "papalexi2021 not found under $data: de-call benchmark skipped"
fi
