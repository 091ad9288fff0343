#!/usr/bin/env bash
# Microbenchmark of the rank histogram behind attn-topk --at (common/keyhist.c),
# run by hand:
#   bench/keyhist.sh            (env: THREADS=2 KEYS=2e8 per thread, OLD=8b4f685,
#                                SYNTH=1 for synthetic rows instead of attention
#                                rows, SDLO/SDHI for those, POLLUTE_KB=4096 to
#                                evict the caches every 256 x 512 keys as
#                                attn-topk's products do, WORK, NICE)
# In one run: the key stream alone ("gen"), the same stream counted by the
# current keyhist (batch kh_add_keys) and by the one at commit OLD (kh_add per
# key, as attn.c called it), each a separate process. Keys are rows of 20,000
# head-averaged softmax values from bench/attn_topk.sh's model (same seed-0
# inputs; 256 rows computed with numpy, each streamed row scaled by a random
# factor in [2^-0.5, 2^0.5)). Reports the histogram's CPU ns per key (gen
# subtracted; per key and per core, all in: staging, counting, flushes,
# kh_finish, 160,000 queries), the wall time it adds, the final flush,
# kh_finish and query times, peak RSS above the stream's own, and
# checks that old and new answer the queries alike. On a shared machine the
# figures move by +-20%: rerun on a quiet one before quoting them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
THREADS=${THREADS:-2} KEYS=${KEYS:-2e8} OLD=${OLD:-8b4f685}
WORK=${WORK:-${TMPDIR:-/tmp}/keyhist_bench}
NICE=${NICE:-nice -n 10}
PY=/usr/bin/python3
keys=$(awk -v k="$KEYS" 'BEGIN{printf "%.0f", k}')
mkdir -p "$WORK/old"
cd "$WORK"

src=("$top/common/xalloc.c" "$top/common/err.c")
cc -std=c11 -D_GNU_SOURCE -O2 -I"$top/common" -o kh_new "$top/bench/keyhist.c" \
	"$top/common/keyhist.c" "${src[@]}" -lpthread -lm
git -C "$top" show "$OLD:common/keyhist.c" > old/keyhist.c
git -C "$top" show "$OLD:common/keyhist.h" > old/keyhist.h
cc -std=c11 -D_GNU_SOURCE -O2 -DKH_OLD -Iold -I"$top/common" -o kh_old "$top/bench/keyhist.c" \
	old/keyhist.c "${src[@]}" -lpthread -lm

pool=()
if [ -z "${SYNTH:-}" ] && ! "$PY" -c 'import numpy' 2> /dev/null; then
	echo "no numpy for $PY: synthetic rows (SYNTH=1)" >&2
	SYNTH=1
fi
if [ -z "${SYNTH:-}" ]; then
	if [ ! -f pool_attn.f32 ]; then
		echo "computing 256 attention rows (n=20000, d=512, 8 heads, seed 0)..." >&2
		"$PY" - <<'PY'
import numpy as np
n, d, H = 20000, 512, 8
rng = np.random.default_rng(0)          # as bench/attn_topk.sh
X = rng.standard_normal((n, d), dtype=np.float32)
W = [(rng.standard_normal((d, d)) / np.sqrt(d) * 2).astype(np.float32) for _ in range(2)]
rows = np.random.default_rng(1).choice(n, 256, replace=False)
Q = (X[rows] @ W[0].T) / np.float32(np.sqrt(d // H))
K = X @ W[1].T
acc = np.zeros((len(rows), n))
for h in range(H):
    s = slice(h * d // H, (h + 1) * d // H)
    S = (Q[:, s] @ K[:, s].T).astype(np.float64)
    E = np.exp(S - S.max(1, keepdims=True))
    acc += E / E.sum(1, keepdims=True)
(acc / H).astype(np.float32).tofile("pool_attn.f32")
PY
	fi
	pool=(pool_attn.f32 20000)
fi

run() {   # run NAME BIN MODE: output lines into NAME.out
	$NICE "./$2" "$3" "$THREADS" "$keys" "${pool[@]}" > "$1.out"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
run gen kh_new gen
run new kh_new hist
run old kh_old hist
run gen2 kh_new gen
run new2 kh_new hist
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

get() { awk -v k="$2" '$1==k{print $2}' "$1.out"; }
[ "$(get old check)" = "$(get new check)" ] || { echo "old and new disagree on the queries" >&2; exit 1; }
total=$(get new keys)
awk -v keys="$total" -v t="$THREADS" \
	-v gc="$(get gen cpu_s)" -v gc2="$(get gen2 cpu_s)" -v gw="$(get gen wall_s)" -v gw2="$(get gen2 wall_s)" \
	-v gr="$(get gen rss_peak_mb)" \
	-v oc="$(get old cpu_s)" -v ow="$(get old wall_s)" -v or="$(get old rss_peak_mb)" -v osy="$(get old sys_s)" \
	-v nc="$(get new cpu_s)" -v nw="$(get new wall_s)" -v nr="$(get new rss_peak_mb)" -v nsy="$(get new sys_s)" \
	-v nc2="$(get new2 cpu_s)" -v nw2="$(get new2 wall_s)" -v nr2="$(get new2 rss_peak_mb)" \
	-v nf="$(get new final_flush_s)" -v of="$(get old final_flush_s)" \
	-v nq="$(get new query_s)" -v oq="$(get old query_s)" \
	-v nfi="$(get new finish_s)" -v ofi="$(get old finish_s)" '
function row(name, c, w, r, sy, f, fi, q) {
	printf "%-8s %10.2f %13.2f %9.2f %9.2f %9.3f %9.3f %9.3f %9.0f\n", name,
		(c - gcm) / keys * 1e9, (w - gwm) / keys * 1e9 * t, w - gwm, sy, f, fi, q, r - gr
}
BEGIN {
	gcm = (gc + gc2) / 2; gwm = (gw + gw2) / 2
	printf "keys %.0f (%d threads), key stream alone: %.2f s wall, %.2f CPU-s\n", keys, t, gwm, gcm
	printf "%-8s %10s %13s %9s %9s %9s %9s %9s %9s\n", "", "cpu_ns/key", "wall_ns/key*t", "extra_s", "sys_s", "flush_s", "finish_s", "query_s", "rss_MB+"
	row("old", oc, ow, or, osy, of, ofi, oq)
	row("new", nc, nw, nr, nsy, nf, nfi, nq)
	row("new(2)", nc2, nw2, nr2, "", "", "", "")
	printf "ratio old/new cpu: %.2f\n", ((oc - gcm) / ((nc + nc2) / 2 - gcm))
}'
