#!/usr/bin/env bash
# Issue #18's memory case: 1,000,000 cells x 2,000 genes in a CSR .h5ad,
# "peak memory stays near the file's size, not the dense size". gene-stats
# and de-call (one group column in obs, 50 perturbations and a control) read
# the file; each run's wall time and peak RSS (/usr/bin/time) are reported
# beside the file's size, the sparse data's own size and the dense float32
# size, with the load average before and after (the machine may be shared).
#
# The file is written with h5py in chunks of cells (never an ncells x ngenes
# array; anndata's on-disk layout: X as csr_matrix with float32 data and
# int32 indices, obs and var dataframes, obs/perturbation categorical).
# Density: each gene is detected in a share of cells drawn from Beta(0.5,
# 9.5), mean 5% (DENSITY sets the mean), as a 2,000 highly variable gene
# panel of a droplet screen is: a few genes in most cells, most in few;
# counts 1 + Poisson(mean_g), mean_g ~ Gamma(0.8, 2). At 5%: ~100 million
# stored counts, a ~0.8 GB file; dense float32 is 8 GB.
#
# Check: gene-stats --no-normalize's mean per gene equals the generator's
# float64 sum / cells (relative 1e-12).
#
# Measured 2026-12-07 02:15 UTC, load 27 on 2 CPUs (shared; wall times are
# loaded): 100,963,861 counts (5.05%), file 823 MB, data + indices 770 MB,
# dense float32 7,629 MB. gene-stats 74 s, peak RSS 1,292 MB (1.6x the file,
# 1/5.9 of dense: 12 bytes a count held per gene); de-call 139 s, 2,453 MB
# (3.0x the file, 1/3.1 of dense). Means equal the generator's sums exactly.
#
# Run by hand, not a test (minutes; ~1 GB in TMPDIR, removed at the end):
#   bench/h5_million.sh [BINDIR]
#   CELLS=20000 bench/h5_million.sh      (a quick trial)
#   KEEP=1 bench/h5_million.sh           (keep the scratch directory)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
py=/usr/bin/python3
genes=${GENES:-2000} cells=${CELLS:-1000000} density=${DENSITY:-0.05}
"$py" -c "import h5py, numpy" 2>/dev/null || { echo "h5_million.sh: needs python3 h5py, numpy" >&2; exit 1; }
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work"

echo "# $cells cells x $genes genes, CSR .h5ad, mean density $density"
echo "# load before: $(uptime | sed 's/.*load average: //') ($(nproc) CPUs)"
start=$(date +%s)
nice -n 10 "$py" - "$genes" "$cells" "$density" <<'PY'
import sys
import numpy as np, h5py
ng, nc, dens = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
rng = np.random.default_rng(18)
a = 0.5
p = rng.beta(a, a * (1 - dens) / dens, ng)          # per-gene detection rate, mean dens
mu = rng.gamma(0.8, 2.0, ng)
npert = 50
perts = np.array(["ctrl"] + [f"KO_{i:02d}" for i in range(npert)], dtype=object)
S = h5py.string_dtype()

def strings(g, name, vals):
    d = g.create_dataset(name, data=np.asarray(vals, dtype=object), dtype=S)
    d.attrs["encoding-type"] = "string-array"
    d.attrs["encoding-version"] = "0.2.0"

def frame(f, name, index):
    g = f.create_group(name)
    g.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0", "_index": "_index"})
    strings(g, "_index", index)
    return g

step = 10_000
sums = np.zeros(ng)
with h5py.File("million.h5ad", "w") as f:
    f.attrs["encoding-type"] = "anndata"
    f.attrs["encoding-version"] = "0.1.0"
    X = f.create_group("X")
    X.attrs.update({"encoding-type": "csr_matrix", "encoding-version": "0.1.0", "shape": np.array([nc, ng])})
    ck = (1 << 20,)
    data = X.create_dataset("data", shape=(0,), maxshape=(None,), dtype="f4", chunks=ck)
    ind = X.create_dataset("indices", shape=(0,), maxshape=(None,), dtype="i4", chunks=ck)
    ptr = np.zeros(nc + 1, dtype=np.int64)
    for c0 in range(0, nc, step):
        m = min(step, nc - c0)
        hit = rng.random((m, ng), dtype=np.float32) < p.astype(np.float32)
        r, c = np.nonzero(hit)                       # row-major: CSR order
        v = (1 + rng.poisson(mu[c])).astype(np.float32)
        np.add.at(sums, c, v)
        k = data.shape[0]
        data.resize((k + len(v),))
        ind.resize((k + len(v),))
        data[k:] = v
        ind[k:] = c.astype(np.int32)
        ptr[c0 + 1:c0 + m + 1] = k + np.cumsum(hit.sum(1))
    X.create_dataset("indptr", data=ptr)
    obs = frame(f, "obs", [f"C{i:07d}" for i in range(nc)])
    obs.attrs.create("column-order", np.array(["perturbation"], dtype=object), dtype=S)
    cg = obs.create_group("perturbation")
    cg.attrs.update({"encoding-type": "categorical", "encoding-version": "0.2.0", "ordered": False})
    # a fifth of the cells controls, the rest spread over the perturbations
    code = np.where(rng.random(nc) < 0.2, 0, rng.integers(1, npert + 1, nc)).astype(np.int8)
    cg.create_dataset("codes", data=code)
    strings(cg, "categories", perts)
    var = frame(f, "var", [f"G{i:05d}" for i in range(ng)])
    var.attrs.create("column-order", np.array([], dtype=object), dtype=S)
    nnz = int(ptr[-1])
np.savetxt("sums.txt", sums, fmt="%.17g")
print(f"# stored counts: {nnz} ({nnz / (nc * ng):.4f} of the matrix); "
      f"data + indices {nnz * 8 / 2**20:.0f} MB; dense float32 would be {nc * ng * 4 / 2**20:.0f} MB")
PY
echo "# written in $(($(date +%s) - start)) s; file $(awk -v b="$(stat -c %s million.h5ad)" 'BEGIN { printf "%.1f", b / 1048576 }') MB"

run() { # NAME FILTER ARGS...: one timed run, "NAME wall s, max RSS MB"
	local name=$1
	shift
	nice -n 10 /usr/bin/time -f "%e %M" -o "$name.t" "$bin/$@" -o "$name.tsv"
	read -r w m < "$name.t"
	printf '%-22s wall %7.1f s   max RSS %6.0f MB\n' "$name" "$w" "$(awk -v k="$m" 'BEGIN { print k / 1024 }')"
}
run gene-stats gene-stats --counts million.h5ad --no-normalize
run de-call de-call --counts million.h5ad --group perturbation --control ctrl

# the means against the generator's sums
"$py" - "$cells" <<'PY'
import sys, numpy as np
nc = int(sys.argv[1])
want = np.loadtxt("sums.txt") / nc
rows = [l.rstrip("\n").split("\t") for l in open("gene-stats.tsv")]
col = rows[0].index("mean")
got = np.array([float(r[col]) for r in rows[1:]])
err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300))
print(f"# gene-stats means vs the generator's sums: max relative difference {err:.2e}")
sys.exit(1 if err > 1e-12 else 0)
PY
echo "# de-call: $(($(wc -l < de-call.tsv) - 1)) rows (50 perturbations x $genes genes)"
echo "# load after: $(uptime | sed 's/.*load average: //')"
