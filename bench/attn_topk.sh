#!/usr/bin/env bash
# Benchmark of attn-topk (issue 3), run by hand:
#   bench/attn_topk.sh [BINDIR]          (env: N D H K NAT WORK NICE PEER=0 to skip the peer)
# In one run, on the same machine and OpenBLAS:
#  - the floor: 2 n^2 d flops at the sgemm rate measured by bench/sgemm_floor.c
#    on attn-topk's per-head shapes, (block x d/H)(d/H x n), block = 256;
#  - attn-topk wall time and peak RSS (/usr/bin/time -v), softmax, top-K;
#  - attn-topk --at with NAT random pairs: the extra time over the plain pass;
#  - the AVX2 build of the hot loops (AK_ATTN_ISA=avx2), where the CPU runs it;
#  - peer_attn_topk.py --torch (dense, napistu-style): wall time and peak RSS,
#    and the agreement of its pair set with ours.
# Prints a summary table at the end. Everything runs under nice; on a shared
# machine, rerun on a quiet one before quoting figures.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
N=${N:-20000} D=${D:-512} H=${H:-8} K=${K:-10000} NAT=${NAT:-160000}
WORK=${WORK:-${TMPDIR:-/tmp}/attn_topk_bench}
NICE=${NICE:-nice -n 10}
PY=/usr/bin/python3
PEERPY=${PEERPY:-$top/../shared/bench/peer_attn_topk.py}
BLOCK=256   # attn-topk's block for n >= 4096 (common/attn.c: pick_block)
THREADS=$(nproc)
mkdir -p "$WORK"
cd "$WORK"

cc -O2 -o sgemm_floor "$top/bench/sgemm_floor.c" $(pkg-config --cflags openblas) \
	$(pkg-config --libs openblas) -lpthread

if [ ! -f "X_${N}_${D}.npy" ]; then
	echo "generating inputs n=$N d=$D (seed 0)..." >&2
	"$PY" - "$N" "$D" "$NAT" <<'PY'
import sys, numpy as np
n, d, m = map(int, sys.argv[1:])
rng = np.random.default_rng(0)
np.save(f"X_{n}_{d}.npy", rng.standard_normal((n, d), dtype=np.float32))
for w in ("WQ", "WK"):
    np.save(f"{w}_{d}.npy", (rng.standard_normal((d, d)) / np.sqrt(d) * 2).astype(np.float32))
p = rng.integers(0, n, (m, 2))
with open(f"pairs_{n}_{m}.tsv", "w") as f:
    f.write("from\tto\n")
    f.write("".join(f"{a}\t{b}\n" for a, b in p))
PY
fi
X=X_${N}_${D}.npy WQ=WQ_${D}.npy WK=WK_${D}.npy PAIRS=pairs_${N}_${NAT}.tsv

timed() {   # timed LOG cmd...: wall seconds and max RSS (KB) into LOG
	local log=$1
	shift
	/usr/bin/time -v "$@" 2> "$log" > /dev/null || { cat "$log" >&2; exit 1; }
}
field() {   # field LOG: "wall_s rss_mb cpu_s"
	awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; w=s}
		/User time/{c+=$2} /System time/{c+=$2}
		/Maximum resident/{r=$2/1024} END{printf "%.2f %.0f %.2f", w, r, c}' "$1"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
floor_run() {   # measure the sgemm rate; prints "wall_rate cpu_rate"
	$NICE ./sgemm_floor "$N" $((D / H)) "$BLOCK" "$THREADS" 3 | tee -a floor.log |
		awk '$1=="rate_gflops"{w=$2} $1=="rate_gflops_per_cpu_second"{c=$2} END{print w, c}'
}
: > floor.log
read -r rate cpurate <<< "$(floor_run)"

args=(--resid "$X" --wq "$WQ" --wk "$WK" --heads "$H" --top "$K" --threads "$THREADS")
timed topk.log $NICE "$bin/attn-topk" "${args[@]}" -o ours.tsv
read -r t_ours m_ours c_ours <<< "$(field topk.log)"
timed at.log $NICE "$bin/attn-topk" "${args[@]}" --at "$PAIRS" -o at.tsv
read -r t_at m_at c_at <<< "$(field at.log)"
# second plain run: the --at overhead is compared with the nearer plain time
timed topk2.log $NICE "$bin/attn-topk" "${args[@]}" -o ours2.tsv
read -r t_ours2 m_ours2 c_ours2 <<< "$(field topk2.log)"
# the AVX2 build, where the CPU has AVX-512 too (machines without it run it anyway)
t_avx2=skipped
if AK_ATTN_ISA=avx2 "$bin/attn-topk" --resid "$X" --wq "$WQ" --wk "$WK" --heads "$H" --top 1 -o probe.tsv 2>/dev/null; then
	timed avx2.log env AK_ATTN_ISA=avx2 $NICE "$bin/attn-topk" "${args[@]}" -o avx2.tsv
	read -r t_avx2 m_avx2 c_avx2 <<< "$(field avx2.log)"
fi
# the floor again after the runs: the load of a shared machine drifts
read -r rate2 cpurate2 <<< "$(floor_run)"

t_peer=skipped m_peer=skipped agree=skipped
if [ "${PEER:-1}" != 0 ]; then
	timed peer.log env PEER_THREADS="$THREADS" $NICE "$PY" "$PEERPY" "$X" "$WQ" "$WK" "$H" "$K" --torch --out peer.tsv
	read -r t_peer m_peer c_peer <<< "$(field peer.log)"
	agree=$("$PY" -c "
import csv
a = {(r['from'], r['to']) for r in csv.DictReader(open('ours.tsv'), delimiter='\t')}
b = {(r['from'], r['to']) for r in csv.DictReader(open('peer.tsv'), delimiter='\t')}
print(f'{len(a & b)}/{len(a)}')")
fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

"$PY" - <<PY
N, D = $N, $D
flops = 2 * N * N * D
rate, cpurate = max($rate, $rate2), max($cpurate, $cpurate2)
floor, floor_cpu = flops / (rate * 1e9), flops / (cpurate * 1e9)
t1, t2, tat = $t_ours, $t_ours2, $t_at
c1, c2, cat = $c_ours, $c_ours2, $c_at
m1, mat = $m_ours, $m_at
tp, mp = "$t_peer", "$m_peer"
tavx2 = "$t_avx2"
best = min(t1, t2)
print()
print("attn-topk benchmark: n=$N d=$D H=$H K=$K softmax, threads=$THREADS, block=$BLOCK, $(date -u +%FT%TZ)")
print(f"{'measure':44s} {'value':>12s}   target")
print(f"{'sgemm rate on (256 x d/H)(d/H x n), GFLOP/s':44s} {rate:12.1f}   (best of 2: $rate, $rate2)")
print(f"{'  per CPU-second, GFLOP/s':44s} {cpurate:12.1f}   (best of 2: $cpurate, $cpurate2)")
print(f"{'floor: 2 n^2 d / rate, s':44s} {floor:12.2f}")
print(f"{'floor in CPU-seconds':44s} {floor_cpu:12.2f}")
print(f"{'attn-topk wall, s (two runs)':44s} {t1:6.2f} {t2:5.2f}")
print(f"{'attn-topk CPU-seconds (two runs)':44s} {c1:6.2f} {c2:5.2f}")
print(f"{'attn-topk / floor (wall)':44s} {best / floor:12.2f}   <= 1.5")
print(f"{'attn-topk / floor (CPU-seconds)':44s} {min(c1, c2) / floor_cpu:12.2f}   (load-robust view)")
print(f"{'attn-topk peak RSS, MiB':44s} {m1:12.0f}   <= 1024")
print(f"{'attn-topk --at $NAT pairs wall, s':44s} {tat:12.2f}")
print(f"{'--at overhead over the plain pass (wall)':44s} {tat / best - 1:12.1%}   <= 25%")
print(f"{'--at overhead (CPU-seconds)':44s} {cat / min(c1, c2) - 1:12.1%}")
print(f"{'--at peak RSS, MiB':44s} {mat:12.0f}")
if tavx2 != "skipped":
    print(f"{'AVX2 build (AK_ATTN_ISA=avx2) / floor (wall)':44s} {float(tavx2) / floor:12.2f}   ({tavx2} s)")
if tp != "skipped":
    tp, mp = float(tp), float(mp)
    print(f"{'peer --torch wall, s':44s} {tp:12.2f}")
    print(f"{'peer --torch peak RSS, MiB':44s} {mp:12.0f}")
    print(f"{'speed-up vs peer':44s} {tp / best:12.1f}x  >= 4x")
    print(f"{'memory ratio vs peer':44s} {mp / m1:12.1f}x  >= 5x")
    print(f"{'top-K pairs shared with the peer':44s} {'$agree':>12s}")
PY
