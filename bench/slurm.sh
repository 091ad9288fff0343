#!/usr/bin/env bash
# Benchmark of SCHED=slurm (issue 20), by hand or from make bench:
#   bench/slurm.sh [BINDIR]
#   env: GENES LAYERS CATEGORIES (the fm-sim data), J (make -j, default the
#        CPUs), THREADS (per heavy recipe, default 1), WORK, PASS_CPU_S
#        (skip the 20,000-gene pass and use this CPU time), NICE
# In one run, on the same pipeline and data (pipelines/within-model.mk on one
# simulated model, default 4 categories x 4 layers: 32 attn-topk + 4 rsa = 36
# heavy steps):
#  - wall time of make -jJ SCHED=local and of make -jJ SCHED=slurm, the
#    ratio, and the added wall time per heavy step ((slurm - local) / steps);
#    the outputs must be byte-identical;
#  - the launch latency of one job alone: srun true, 10 times in a row;
#  - one attn-topk pass at the blog's size (20,000 genes, d = 512, 8 heads,
#    K = 10,000): its CPU seconds, from which the estimate of the blog's full
#    workload (~2,240 passes) on 10 nodes x 32 cores is printed at the end.
# The cluster is the one-node one of tests/slurm-cluster (root only), started
# and stopped here; with SLURM_CONF set, the site's cluster is used instead
# (run it from a login node, WORK on the shared filesystem).
# Everything runs under nice; on a shared machine, rerun on a quiet one
# before quoting figures.
set -euo pipefail
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
GENES=${GENES:-150} LAYERS=${LAYERS:-4} CATEGORIES=${CATEGORIES:-4}
J=${J:-$(nproc)} THREADS=${THREADS:-1}
WORK=${WORK:-${TMPDIR:-/tmp}/slurm_bench}
NICE=${NICE:-nice -n 10}
PY=/usr/bin/python3
export SOURCE_DATE_EPOCH=1700000000
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

own=
if [ -z "${SLURM_CONF:-}" ]; then
	rc=0
	"$top/tests/slurm-cluster" start "$WORK/cluster" > cluster.out 2>&1 || rc=$?
	if [ "$rc" -eq 3 ]; then
		echo "bench/slurm.sh: skipped, no local SLURM cluster: $(tail -1 cluster.out)"
		exit 0
	fi
	[ "$rc" -eq 0 ] || { cat cluster.out >&2; exit 1; }
	own=1
	export SLURM_CONF=$WORK/cluster/slurm.conf
	trap '"$top/tests/slurm-cluster" stop "$WORK/cluster"' EXIT
fi

now() { date +%s.%N; }
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$bin/fm-sim" --out sim --genes "$GENES" --layers "$LAYERS" --categories "$CATEGORIES" > /dev/null
pipe=(make -s -f "$top/pipelines/within-model.mk" AK_BIN="$bin" MODELS=sim/alpha KS="50 200"
	THREADS="$THREADS" -j "$J")

t0=$(now)
# the BLAS threads a SLURM job gets, so that the outputs can be compared
OPENBLAS_NUM_THREADS=$THREADS ATTNKIT_THREADS=$THREADS $NICE "${pipe[@]}" OUT=local > local.log 2>&1
t1=$(now)
$NICE "${pipe[@]}" OUT=slurm SCHED=slurm > slurm.log 2>&1
t2=$(now)
diff -r local slurm > /dev/null || { echo "bench/slurm.sh: outputs differ" >&2; exit 1; }
steps=$((CATEGORIES * LAYERS * 2 + CATEGORIES))
if [ -n "$own" ]; then
	njobs=$(grep -c ' Name=ak:' "$WORK/cluster/jobcomp.txt")
	[ "$njobs" -eq "$steps" ] || { echo "bench/slurm.sh: $njobs jobs, expected $steps" >&2; exit 1; }
fi

# one job alone: allocation, launch, completion
lat=()
for _ in $(seq 10); do
	a=$(now)
	srun --ntasks=1 --mem=16 --time=1 --job-name=ak:latency --quiet ${SLURM_ARGS:-} true
	lat+=("$(awk -v a="$a" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
done
lat_med=$(printf '%s\n' "${lat[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (v[5] + v[6]) / 2 }')

# one pass at the blog's size (local: the CPU seconds are what the estimate needs)
if [ -z "${PASS_CPU_S:-}" ]; then
	"$PY" - <<-'PY'
	import numpy as np
	n, d = 20000, 512
	rng = np.random.default_rng(0)
	np.save("X.npy", rng.standard_normal((n, d), dtype=np.float32))
	for w in ("WQ", "WK"):
	    np.save(w + ".npy", (rng.standard_normal((d, d)) / np.sqrt(d) * 2).astype(np.float32))
	PY
	$NICE /usr/bin/time -f '%e %U %S %M' -o pass.time "$bin/attn-topk" --resid X.npy --wq WQ.npy --wk WK.npy \
		--heads 8 --top 10000 --threads "$(nproc)" -o pass.tsv.gz
	read -r pass_wall pu ps pass_kb < pass.time
	PASS_CPU_S=$(awk -v u="$pu" -v s="$ps" 'BEGIN { printf "%.1f", u + s }')
	pass_note="measured here: $pass_wall s wall on $(nproc) threads, $((pass_kb / 1024)) MB peak"
else
	pass_note="given (PASS_CPU_S)"
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

awk -v tl="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
	-v ts="$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')" \
	-v steps="$steps" -v j="$J" -v th="$THREADS" -v lat="$lat_med" -v cpu="$PASS_CPU_S" -v note="$pass_note" '
BEGIN {
	printf "\nSCHED=slurm vs local: within-model.mk, %d heavy steps (attn-topk, rsa), -j%d, THREADS=%d\n", steps, j, th
	printf "  local   %7.1f s\n  slurm   %7.1f s   ratio %.2fx, +%.2f s wall per heavy step; outputs identical\n", tl, ts, ts / tl, (ts - tl) / steps
	printf "  one job alone (srun true, median of 10): %.2f s\n", lat
	# The blog: 7 model variants x ~10 categories x up to 16 layers x (top-K
	# + union pass) = ~2,240 passes at 20,000 genes. A node of 32 cores runs
	# 32 / T passes of T threads at once; the CPU seconds of a pass barely
	# depend on T (sgemm-bound), the per-job overhead adds once per pass.
	n = 2240; nodes = 10; cores = 32
	printf "\nEstimate, ~%d attention passes (20,000 genes, d = 512, 8 heads) on %d nodes x %d cores:\n", n, nodes, cores
	printf "  one pass: %.1f CPU s (%s)\n", cpu, note
	printf "  %-9s %-10s %-14s %s\n", "THREADS", "at once", "CPU s / T", "total wall (100% / 70% thread efficiency)"
	split("8 16 32", ts_, " ")
	for (i = 1; i <= 3; i++) {
		t = ts_[i]; c = nodes * cores / t; rounds = int((n + c - 1) / c)
		w1 = cpu / t + lat; w2 = cpu / t / 0.7 + lat
		printf "  %-9d %-10d %-14s %.1f / %.1f min\n", t, c, sprintf("%.1f s", cpu / t), rounds * w1 / 60, rounds * w2 / 60
	}
	printf "  against %.1f h on one %d-core machine at 100%%\n", n * cpu / cores / 3600, cores
}'
