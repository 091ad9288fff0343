#!/usr/bin/env bash
# Benchmark of attn-topk (issues 3 and 23), run by hand:
#   bench/attn_topk.sh [BINDIR]
#   env: N D H K NAT WORK NICE ROUNDS=3 PEER=0 (skip the torch peer)
#        AT=0 (skip --at)  BASE=0 (skip the baseline build)
#        GROWTH=1: instead, the growth table over n (NS) and d (DS)
# In one run, on the same machine and OpenBLAS, ROUNDS rounds, each
# interleaving:
#  - the floor: 2 n^2 d flops at the sgemm rate measured by bench/sgemm_floor.c
#    on attn-topk's per-head shapes, (block x d/H)(d/H x n), block = 256,
#    with OpenBLAS's kernels as the environment selects them (this machine's
#    environment sets OPENBLAS_CORETYPE=Haswell) and, where the CPU has
#    AVX-512, with OPENBLAS_CORETYPE=SkylakeX (the best rate measured);
#  - attn-topk wall and CPU time, peak RSS (/usr/bin/time -v), softmax, top-K:
#    the default engine (AVX-512: our own score tile), the same with
#    AK_ATTN_PRODUCT=blas (OpenBLAS per chunk: the engine before issue 23),
#    the AVX2 build (AK_ATTN_ISA=avx2) and, in round 1, the baseline build;
#  - attn-topk --at with NAT random pairs: the extra time over the plain pass.
# Ratios are taken within a round (the load of a shared machine drifts), then
# the median and the spread (min..max) over rounds are printed, with the load
# average before and after. CPU-seconds are the load-robust view: on a
# machine with other work, wall time measures the other work too.
# Then the dense torch peer (napistu-style) once: wall time, RSS, agreement.
# On a loaded machine (other VMs, other jobs) the CPU time per flop itself
# grows with the contention for caches and memory, for the floor as for
# attn-topk: the "least / least" lines compare the least-disturbed runs.
# THREADS=1 and a smaller N keep one's own contention out.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$top/bin}" && pwd)
N=${N:-20000} D=${D:-512} H=${H:-8} K=${K:-10000} NAT=${NAT:-160000} ROUNDS=${ROUNDS:-3}
WORK=${WORK:-${TMPDIR:-/tmp}/attn_topk_bench}
NICE=${NICE:-nice -n 10}
PY=/usr/bin/python3
PEERPY=${PEERPY:-$top/../shared/bench/peer_attn_topk.py}
BLOCK=256   # attn-topk's block for n >= 4096 (common/attn.c: pick_block)
THREADS=${THREADS:-$(nproc)}
FLOORSECS=${FLOORSECS:-3}
mkdir -p "$WORK"
cd "$WORK"

cc -O2 -o sgemm_floor "$top/bench/sgemm_floor.c" $(pkg-config --cflags openblas) \
	$(pkg-config --libs openblas) -lpthread

inputs() {   # inputs N D: X, W_Q, W_K (seed 0) and NAT random pairs
	local n=$1 d=$2
	[ -f "X_${n}_${d}.npy" ] && [ -f "pairs_${n}_${NAT}.tsv" ] && return
	echo "generating inputs n=$n d=$d (seed 0)..." >&2
	"$PY" - "$n" "$d" "$NAT" <<'PY'
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
}

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
floor_run() {   # floor_run N DK [CORETYPE]: "wall_rate cpu_rate" of sgemm
	local ct=${3:-}
	if [ -n "$ct" ]; then
		env OPENBLAS_CORETYPE="$ct" $NICE ./sgemm_floor "$1" "$2" "$BLOCK" "$THREADS" "$FLOORSECS"
	else
		$NICE ./sgemm_floor "$1" "$2" "$BLOCK" "$THREADS" "$FLOORSECS"
	fi | tee -a floor.log |
		awk '$1=="rate_gflops"{w=$2} $1=="rate_gflops_per_cpu_second"{c=$2} END{print w, c}'
}
has512=0
grep -qw avx512f /proc/cpuinfo && grep -qw avx512bw /proc/cpuinfo && has512=1
has2=0
AK_ATTN_ISA=avx2 "$bin/attn-topk" --help > /dev/null 2>&1 && grep -qw avx2 /proc/cpuinfo && has2=1
load() { cut -d' ' -f1-3 /proc/loadavg; }
: > floor.log
res=results.tsv

if [ "${GROWTH:-0}" = 1 ]; then
	# One round per shape: floor (environment's OpenBLAS, and SkylakeX), then
	# attn-topk's default engine; ratios in CPU-seconds and wall.
	NS=${NS:-5000 10000 20000 50000} DS=${DS:-128 256 512 768}
	printf 'n\td\tfloor_gflops_env\tfloor_gflops_avx512\tours_wall_s\tours_cpu_s\tours_rss_mb\tratio_cpu_env\tratio_cpu_avx512\tratio_wall_avx512\tload\n' > growth.tsv
	shapes=()
	for n in $NS; do shapes+=("$n:$D"); done
	for d in $DS; do [ "$d" = "$D" ] || shapes+=("${GROWTH_N:-10000}:$d"); done
	for sh in "${shapes[@]}"; do
		n=${sh%:*} d=${sh#*:}
		inputs "$n" "$d"
		read -r fw fc <<< "$(floor_run "$n" $((d / H)))"
		fw5=$fw fc5=$fc
		[ "$has512" = 1 ] && read -r fw5 fc5 <<< "$(floor_run "$n" $((d / H)) SkylakeX)"
		timed g.log $NICE "$bin/attn-topk" --resid "X_${n}_${d}.npy" --wq "WQ_${d}.npy" --wk "WK_${d}.npy" \
			--heads "$H" --top "$K" --threads "$THREADS" -o /dev/null
		read -r tw m tc <<< "$(field g.log)"
		"$PY" -c "
n, d = $n, $d
fl = 2 * n * n * d / 1e9
print(f'{n}\t{d}\t$fw\t$fw5\t$tw\t$tc\t$m\t{$tc / (fl / $fc):.2f}\t{$tc / (fl / $fc5):.2f}\t{$tw / (fl / $fw5):.2f}\t$(load)')" >> growth.tsv
		tail -1 growth.tsv >&2
	done
	echo
	echo "attn-topk growth: H=$H K=$K softmax, threads=$THREADS, $(date -u +%FT%TZ); ratio = attn-topk time / floor time"
	column -t -s $'\t' growth.tsv
	exit 0
fi

inputs "$N" "$D"
X=X_${N}_${D}.npy WQ=WQ_${D}.npy WK=WK_${D}.npy PAIRS=pairs_${N}_${NAT}.tsv
args=(--resid "$X" --wq "$WQ" --wk "$WK" --heads "$H" --top "$K" --threads "$THREADS")
printf 'round\tmeasure\twall_s\tcpu_s\trss_mb\tgflops_wall\tgflops_cpu\n' > "$res"
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$res"; }
run() {   # run ROUND NAME env...: one attn-topk run, recorded
	local r=$1 name=$2
	shift 2
	timed "$name.log" env "$@" $NICE "$bin/attn-topk" "${args[@]}" -o "$name.tsv"
	read -r w m c <<< "$(field "$name.log")"
	row "$r" "$name" "$w" "$c" "$m" NA NA
}
load0=$(load)
echo "load before: $load0" >&2
for r in $(seq 1 "$ROUNDS"); do
	read -r fw fc <<< "$(floor_run "$N" $((D / H)))"
	row "$r" floor_env NA NA NA "$fw" "$fc"
	run "$r" ours AK_ATTN_NONE=
	if [ "$has512" = 1 ]; then
		read -r fw fc <<< "$(floor_run "$N" $((D / H)) SkylakeX)"
		row "$r" floor_avx512 NA NA NA "$fw" "$fc"
	fi
	run "$r" blas AK_ATTN_PRODUCT=blas
	[ "$has2" = 1 ] && run "$r" avx2 AK_ATTN_ISA=avx2
	[ "${AT:-1}" != 0 ] && { args+=(--at "$PAIRS"); run "$r" at AK_ATTN_NONE=; unset 'args[-1]' 'args[-1]'; }
	[ "$r" = 1 ] && [ "${BASE:-1}" != 0 ] && run "$r" base AK_ATTN_ISA=base
	echo "round $r done, load $(load)" >&2
done
load1=$(load)

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
echo "load after: $(load)" >&2

"$PY" - "$res" <<PY
import sys, csv, statistics as st
N, D, H, K = $N, $D, $H, $K
flops = 2 * N * N * D
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault(r["measure"], {})[int(r["round"])] = r
def spread(xs, fmt="{:.2f}"):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return "n/a"
    s = fmt.format(st.median(xs))
    return s + (f"  ({fmt.format(xs[0])}..{fmt.format(xs[-1])})" if len(xs) > 1 else "")
def ratios(name, floor, key):
    out = []
    for rd, r in by.get(name, {}).items():
        f = by.get(floor, {}).get(rd)
        if f is None:
            continue
        t = float(r["wall_s" if key == "wall" else "cpu_s"])
        rate = float(f["gflops_wall" if key == "wall" else "gflops_cpu"])
        out.append(t / (flops / (rate * 1e9)))
    return out
def col(name, c):
    return [float(r[c]) for r in by.get(name, {}).values()]
print()
print(f"attn-topk benchmark: n={N} d={D} H={H} K={K} softmax, threads=$THREADS, block=$BLOCK, rounds=$ROUNDS, $(date -u +%FT%TZ)")
print(f"load average before: $load0; after the rounds: $load1 (2 cores: load > 2 means shared)")
print("median over rounds (min..max); ratios taken within each round")
print(f"{'measure':52s} {'value':>26s}   target")
for fl, what in (("floor_env", "environment's OpenBLAS ($(printenv OPENBLAS_CORETYPE || echo auto))"), ("floor_avx512", "OPENBLAS_CORETYPE=SkylakeX")):
    if fl in by:
        print(f"{'sgemm GFLOP/s, ' + what:52s} {spread(col(fl, 'gflops_wall'), '{:.1f}'):>26s}")
        print(f"{'  per CPU-second':52s} {spread(col(fl, 'gflops_cpu'), '{:.1f}'):>26s}")
for name, what in (("ours", "attn-topk (default engine)"), ("blas", "attn-topk AK_ATTN_PRODUCT=blas (pre-#23 engine)"),
                   ("avx2", "attn-topk AVX2 build"), ("base", "attn-topk baseline build"), ("at", "attn-topk --at $NAT pairs")):
    if name not in by:
        continue
    print(f"{what + ', wall s':52s} {spread(col(name, 'wall_s')):>26s}")
    print(f"{'  CPU-seconds':52s} {spread(col(name, 'cpu_s')):>26s}")
    print(f"{'  peak RSS, MiB':52s} {spread(col(name, 'rss_mb'), '{:.0f}'):>26s}   <= 1024")
    for fl, tag in (("floor_env", "env floor"), ("floor_avx512", "AVX-512 floor")):
        if fl in by:
            tgt = "<= 1.5" if name == "ours" and (fl == "floor_avx512" or "floor_avx512" not in by) else ""
            print(f"{'  / ' + tag + ' (CPU-seconds)':52s} {spread(ratios(name, fl, 'cpu')):>26s}   {tgt}")
            bb = min(col(name, 'cpu_s')) / (flops / (max(col(fl, 'gflops_cpu')) * 1e9))
            print(f"{'  least / least ' + tag + ' (CPU-seconds)':52s} {bb:26.2f}   (the least-disturbed runs)")
            print(f"{'  / ' + tag + ' (wall)':52s} {spread(ratios(name, fl, 'wall')):>26s}")
if "at" in by and "ours" in by:
    ov = [float(by["at"][r]["cpu_s"]) / float(by["ours"][r]["cpu_s"]) - 1 for r in by["at"] if r in by["ours"]]
    print(f"{'--at overhead over the plain pass (CPU-seconds)':52s} {spread([100 * x for x in ov], '{:.0f}%'):>26s}   <= 20%")
if "blas" in by and "ours" in by:
    sp = [float(by["blas"][r]["cpu_s"]) / float(by["ours"][r]["cpu_s"]) for r in by["ours"] if r in by["blas"]]
    print(f"{'speed-up over AK_ATTN_PRODUCT=blas (CPU-seconds)':52s} {spread(sp):>26s}")
tp, mp = "$t_peer", "$m_peer"
if tp != "skipped":
    best = min(col("ours", "wall_s"))
    print(f"{'peer --torch wall, s':52s} {float(tp):26.2f}")
    print(f"{'peer --torch peak RSS, MiB':52s} {float(mp):26.0f}")
    print(f"{'speed-up vs peer (wall, best of ours)':52s} {float(tp) / best:25.1f}x  >= 4x")
    print(f"{'top-K pairs shared with the peer':52s} {'$agree':>26s}")
PY
