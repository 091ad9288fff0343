#!/usr/bin/env bash
# Reading sparse AnnData through libhdf5 (issue #18): gene-stats on the same
# counts stored three ways, a CSR .h5ad, a CSC .h5ad and a 10x-style
# MatrixMarket file (genes x cells) with genes.txt; wall time and peak RSS
# (/usr/bin/time) of each, RUNS times, reported as the median and the range
# (min-max) over the runs, with the load average before and after (the
# machine may be shared: a loaded machine widens the range, so read the
# spread before the medians). The three outputs must be byte-identical.
#
# Size: 20,000 genes x 20,000 cells at 5% density (20 million stored
# counts; dense float32 would be 1.6 GB), written with anndata (run by hand,
# not a test; a few minutes and ~1 GB of scratch in TMPDIR).
#   bench/h5_sparse.sh [BINDIR]
#   GENES=2000 CELLS=2000 DENSITY=0.05 RUNS=3 bench/h5_sparse.sh   (smaller)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
py=/usr/bin/python3
genes=${GENES:-20000} cells=${CELLS:-20000} density=${DENSITY:-0.05} runs=${RUNS:-3}
"$py" -c "import anndata, h5py, scipy, pandas" 2>/dev/null ||
	{ echo "h5_sparse.sh: needs python3 anndata, h5py, scipy, pandas" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

echo "# gene-stats: sparse .h5ad (CSR, CSC) vs .mtx, $genes genes x $cells cells, density $density, $runs runs"
echo "# load before: $(uptime | sed 's/.*load average: //') ($(nproc) CPUs)"
"$py" - "$genes" "$cells" "$density" <<'PY'
import sys, warnings
import numpy as np, pandas as pd, scipy.sparse as sp, anndata as ad
warnings.simplefilter("ignore")
ng, nc, dens = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(18)
nnz = int(round(ng * nc * dens))
# distinct (cell, gene) positions drawn without an ng x nc mask: sample
# flat indices with replacement, keep the unique ones (a few % fewer)
flat = np.unique(rng.integers(0, ng * nc, size=nnz, dtype=np.int64))
cell, gene = flat // ng, flat % ng
val = (1 + rng.poisson(rng.gamma(0.8, 2.0, ng)[gene])).astype(np.float32)
X = sp.csr_matrix((val, (cell, gene)), shape=(nc, ng))
X.sort_indices()
names = [f"G{i:05d}" for i in range(ng)]
var = pd.DataFrame(index=pd.Index(names))
obs = pd.DataFrame(index=pd.Index([f"C{i:05d}" for i in range(nc)]))
ad.AnnData(X=X, obs=obs, var=var).write_h5ad("csr.h5ad")
ad.AnnData(X=X.tocsc(), obs=obs, var=var).write_h5ad("csc.h5ad")
open("genes.txt", "w").write("\n".join(names) + "\n")
# MatrixMarket genes x cells, 1-based, as 10x writes it
coo = X.tocoo()
with open("counts.mtx", "w") as f:
    f.write("%%MatrixMarket matrix coordinate integer general\n")
    f.write(f"{ng} {nc} {coo.nnz}\n")
    pd.DataFrame({"g": coo.col + 1, "c": coo.row + 1, "v": coo.data.astype(np.int64)}).to_csv(
        f, sep=" ", header=False, index=False)
print(f"# stored counts: {coo.nnz}; dense float32 would be {ng * nc * 4 / 2**20:.0f} MB")
PY
for f in csr.h5ad csc.h5ad counts.mtx; do
	echo "# file $f: $(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }') MB"
done

measure() { # NAME ARGS...: one timed run into NAME.times (wall s, max RSS kB)
	local name=$1
	shift
	nice -n 10 /usr/bin/time -f "%e %M" -o "$name.t" "$bin/gene-stats" "$@" -o "$name.tsv"
	cat "$name.t" >> "$name.times"
}
for r in $(seq "$runs"); do
	# interleaved, so that a change of load hits every format alike
	measure mtx --counts counts.mtx --genes genes.txt
	measure csr --counts csr.h5ad
	measure csc --counts csc.h5ad
done
cmp -s mtx.tsv csr.tsv && cmp -s mtx.tsv csc.tsv ||
	{ echo "h5_sparse.sh: the outputs differ between formats" >&2; exit 1; }

summary() { # NAME: median [min-max] of wall and of RSS, each sorted on its own
	local w m
	w=$(cut -d' ' -f1 "$1.times" | sort -n | awk '{ v[NR] = $1 } END { printf "%6.2f s [%.2f-%.2f]", v[int((NR + 1) / 2)], v[1], v[NR] }')
	m=$(cut -d' ' -f2 "$1.times" | sort -n | awk '{ v[NR] = $1 / 1024 } END { printf "%6.0f MB [%.0f-%.0f]", v[int((NR + 1) / 2)], v[1], v[NR] }')
	printf '%-4s wall %s   max RSS %s\n' "$1" "$w" "$m"
}
echo "# format, median [min-max] over $runs runs; outputs identical"
summary mtx
summary csr
summary csc
echo "# load after: $(uptime | sed 's/.*load average: //')"
