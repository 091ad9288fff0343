#!/usr/bin/env bash
# Benchmark of attn-topk's consensus and continuous AUROC (issue 21), by hand:
#   bench/attn_auroc.sh [BINDIR]     (env: N D H L SOURCES EDGES WORK NICE)
# In one run, on one generated model (L layers of n x d, H heads) and a
# TRRUST-like reference (EDGES edges from SOURCES regulators spread over all
# rows): CPU time, wall time and peak RSS (/usr/bin/time -v) of
#  - the plain pass (one layer, top-1000),
#  - --ref (exact all-pairs AUROC/AUPRC), and its ratio to the plain pass,
#  - --ref with two references (one pass),
#  - the consensus of L layers (--combine sum), and its ratio to L plain passes.
# Rerun on a quiet machine before quoting figures.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
N=${N:-20000} D=${D:-512} H=${H:-8} L=${L:-2} SOURCES=${SOURCES:-800} EDGES=${EDGES:-9000}
WORK=${WORK:-${TMPDIR:-/tmp}/attn_auroc_bench}
NICE=${NICE:-nice -n 10}
mkdir -p "$WORK"
cd "$WORK"
if [ ! -f "X$((L - 1))_${N}_${D}.npy" ]; then
	/usr/bin/python3 - "$N" "$D" "$L" "$SOURCES" "$EDGES" <<'PY'
import sys, numpy as np
n, d, L, s, m = map(int, sys.argv[1:])
r = np.random.default_rng(0)
for l in range(L):
    np.save(f"X{l}_{n}_{d}.npy", r.standard_normal((n, d), dtype=np.float32))
    for w in ("WQ", "WK"):
        np.save(f"{w}{l}_{d}.npy", (r.standard_normal((d, d)) / np.sqrt(d) * 2).astype(np.float32))
open(f"genes_{n}.txt", "w").write("".join(f"G{i}\n" for i in range(n)))
src = r.choice(n, s, replace=False)
e = set()
while len(e) < m:
    a, b = src[r.integers(0, s)], r.integers(0, n)
    if a != b: e.add((a, b))
open(f"ref_{n}.tsv", "w").write("".join(f"G{a}\tG{b}\n" for a, b in sorted(e)))
open(f"ref2_{n}.tsv", "w").write("".join(f"G{b}\tG{a}\n" for a, b in sorted(e)))
PY
fi
one=(--resid "X0_${N}_${D}.npy" --wq "WQ0_${D}.npy" --wk "WK0_${D}.npy" --heads "$H")
layers=()
for ((l = 0; l < L; l++)); do layers+=(--layer --resid "X${l}_${N}_${D}.npy" --wq "WQ${l}_${D}.npy" --wk "WK${l}_${D}.npy"); done
measure() {   # measure NAME args...: "NAME cpu_s wall peak_MB"
	local name=$1
	shift
	/usr/bin/time -v $NICE "$bin/attn-topk" "$@" -o "$name.out" 2> "$name.time"
	awk -v n="$name" -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } /Elapsed/ { w = $2 }
		/Maximum resident/ { m = $2 } END { printf "%-10s %8.2f %10s %8.0f\n", n, u + s, w, m / 1024 }' "$name.time"
}
{
	printf '%-10s %8s %10s %8s\n' run cpu_s wall peak_MB
	measure plain "${one[@]}" --top 1000
	measure auroc "${one[@]}" --genes "genes_$N.txt" --ref "ref_$N.tsv" --no-header
	measure auroc2 "${one[@]}" --genes "genes_$N.txt" --ref "ref_$N.tsv" --ref "ref2_$N.tsv" --no-header
	measure consensus "${layers[@]}" --heads "$H" --top 1000 --combine sum
} | tee summary.txt
awk -v L="$L" '$1 == "plain" { p = $2 } $1 == "auroc" { a = $2 } $1 == "consensus" { c = $2 }
	END { printf "auroc / plain = %.2f (CPU); consensus / (L x plain) = %.2f\n", a / p, c / (L * p) }' summary.txt
