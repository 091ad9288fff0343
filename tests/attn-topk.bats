#!/usr/bin/env bats
# attn-topk: against the peer (shared/bench/peer_attn_topk.py), an
# independent float64 numpy reference written here (biases, LayerNorm,
# exact ties), the tinyfm model's own forward-pass attention, and bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	PEER=$SHARED/bench/peer_attn_topk.py
}

# gen NAME N D H [bias] [ties]: X, WQ, WK (and bq, bk) as NAME_*.npy
gen() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np
name, n, d, H = sys.argv[1], *map(int, sys.argv[2:5])
opts = sys.argv[5:]
rng = np.random.default_rng(n * 1000 + d + H)
if "ties" in opts:
    base = rng.standard_normal((max(2, n // 10), d))
    X = base[rng.integers(0, len(base), n)]
else:
    X = rng.standard_normal((n, d))
np.save(f"{name}_X.npy", X.astype("f4"))
np.save(f"{name}_WQ.npy", (rng.standard_normal((d, d)) / np.sqrt(d) * 2).astype("f4"))
np.save(f"{name}_WK.npy", (rng.standard_normal((d, d)) / np.sqrt(d) * 2).astype("f4"))
if "bias" in opts:
    np.save(f"{name}_bq.npy", rng.standard_normal(d).astype("f4"))
    np.save(f"{name}_bk.npy", rng.standard_normal(d).astype("f4"))
PY
}

# gen_wide: w_*.npy, small integers and d_k = 4, so scores are exact in
# float32 and spread over up to ~230: half the rows take the exponential's
# subnormal-safe path, and chunks have maxima far below their row's.
gen_wide() {
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(7)
np.save('w_X.npy', rng.integers(-2, 3, (60, 16)).astype('f4'))
for m in ('WQ', 'WK'): np.save(f'w_{m}.npy', rng.integers(-1, 2, (16, 16)).astype('f4'))"
}

# The reference and the checks, shared by the cases below.
write_check() {
	cat > check.py <<'PY'
"""check.py OUT.tsv NAME H K [raw] [abs] [self] [bias] [perhead] [peer=PEER.tsv]
Dense float64 reference from NAME_*.npy; checks OUT against it:
 - exactly min(K, N) rows (per head), sorted by ranking value desc, then from, to
 - ranks consistent with the output itself (1 + #rows strictly greater) and
   with the dense reference up to near-ties (entries within TOL of the value)
 - pair set equal to the reference's top-K up to near-ties at the cut
 - values within 1e-5 relative (raw: plus 1e-6 of the largest |A|: cancellation)
 - quantile = rank / N; with peer=, the same comparisons against the peer."""
import sys, numpy as np, pandas as pd
out, name, H, K = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
fl = set(a for a in sys.argv[5:] if "=" not in a)
kv = dict(a.split("=", 1) for a in sys.argv[5:] if "=" in a)
X = np.load(f"{name}_X.npy").astype(np.float64)
WQ = np.load(f"{name}_WQ.npy").astype(np.float64); WK = np.load(f"{name}_WK.npy").astype(np.float64)
n, d = X.shape; dk = d // H
bq = np.load(f"{name}_bq.npy").astype(np.float64) if "bias" in fl else np.zeros(d)
bk = np.load(f"{name}_bk.npy").astype(np.float64) if "bias" in fl else np.zeros(d)
Q = X @ WQ.T + bq; Kx = X @ WK.T + bk
heads = []
for h in range(H):
    S = Q[:, h*dk:(h+1)*dk] @ Kx[:, h*dk:(h+1)*dk].T / np.sqrt(dk)
    if "raw" not in fl:
        S = np.exp(S - S.max(axis=1, keepdims=True)); S /= S.sum(axis=1, keepdims=True)
    heads.append(S)
dists = heads if "perhead" in fl else [sum(heads) / H]
mask = np.ones((n, n), bool)
if "self" not in fl: np.fill_diagonal(mask, False)
N = int(mask.sum())
o = pd.read_csv(out, sep="\t", float_precision="round_trip")
if "perhead" in fl: assert list(o.columns[:6]) == ["from", "to", "value", "rank", "quantile", "head"], o.columns
else: assert list(o.columns[:5]) == ["from", "to", "value", "rank", "quantile"], o.columns
peer = pd.read_csv(kv["peer"], sep="\t", float_precision="round_trip") if "peer" in kv else None
bad = []
for t, A in enumerate(dists):
    oo = o[o["head"] == t] if "perhead" in fl else o
    R = np.abs(A) if "abs" in fl else A
    scale = np.abs(A[mask]).max()
    TOL = 3e-6 * np.abs(R[mask]).max()   # near-tie: closer than float32 rounding at the top
    k = min(K, N)
    assert len(oo) == k, (len(oo), k)
    f, g, v = oo["from"].to_numpy(), oo["to"].to_numpy(), oo["value"].to_numpy()
    assert mask[f, g].all(), "diagonal selected"
    # values
    atol = 1e-6 * scale if "raw" in fl else 0
    err = np.abs(v - A[f, g]) - (1e-5 * np.abs(A[f, g]) + atol)
    if (err > 0).any(): bad.append(f"head {t}: value error {err.max()}")
    # order: ranking value desc, then from, to (ties exact in the output)
    rv = np.abs(v) if "abs" in fl else v
    key = np.lexsort((g, f, -rv))
    if not (key == np.arange(k)).all(): bad.append(f"head {t}: output not sorted")
    # ranks from the output itself
    srt = np.sort(rv)
    self_rank = k - np.searchsorted(srt, rv, side="right") + 1
    if not (oo["rank"].to_numpy() == self_rank).all(): bad.append(f"head {t}: ranks inconsistent with output")
    if not np.allclose(oo["quantile"].to_numpy(), oo["rank"].to_numpy() / N, rtol=1e-15, atol=0):
        bad.append(f"head {t}: quantile != rank/N")
    # ranks against the reference, up to near-ties
    allv = np.sort(R[mask])
    rr = R[f, g]
    lo = N - np.searchsorted(allv, rr + TOL, side="right") + 1
    hi = N - np.searchsorted(allv, rr - TOL, side="right") + 1
    rk = oo["rank"].to_numpy()
    if not ((rk >= lo) & (rk <= hi)).all():
        i = np.argmax(~((rk >= lo) & (rk <= hi)))
        bad.append(f"head {t}: rank {rk[i]} of ({f[i]},{g[i]}) outside [{lo[i]},{hi[i]}]")
    # the pair set: differences only at near-ties of the cut
    kth = allv[N - k]
    ours = set(zip(f.tolist(), g.tolist()))
    fr, gr = np.nonzero(mask & (R > kth + TOL))
    missing = set(zip(fr.tolist(), gr.tolist())) - ours
    if missing: bad.append(f"head {t}: {len(missing)} clear top-K pairs missing")
    extra = [p for p in ours if R[p] < kth - TOL]
    if extra: bad.append(f"head {t}: {len(extra)} pairs clearly below the cut")
    if peer is not None:
        pp = peer[peer["head"] == t] if "head" in peer.columns else peer
        pk = dict(zip(zip(pp["from"], pp["to"]), pp["rank"]))
        for p in ours ^ set(pk):
            if abs(R[p] - kth) > TOL: bad.append(f"head {t}: peer differs on {p} away from the cut"); break
        for (a, b), r in zip(zip(f, g), rk):
            if (a, b) not in pk: continue
            near = np.searchsorted(allv, R[a, b] + TOL, side="right") - np.searchsorted(allv, R[a, b] - TOL)
            if abs(pk[(a, b)] - r) > near:
                bad.append(f"head {t}: rank of {(a, b)} {r} vs peer {pk[(a, b)]}"); break
print("bad:", bad[:5])
sys.exit(1 if bad else 0)
PY
}

run_case() {   # run_case NAME H K [flags...]: ours vs dense reference (and peer when no bias)
	local name=$1 H=$2 K=$3
	shift 3
	local args=() cflags=() pflags=()
	for f in "$@"; do
		case $f in
		raw) args+=(--raw); pflags+=(--raw); cflags+=(raw) ;;
		abs) args+=(--abs); pflags+=(--abs); cflags+=(abs) ;;
		self) args+=(--keep-self); pflags+=(--keep-self); cflags+=(self) ;;
		bias) args+=(--bq "${name}_bq.npy" --bk "${name}_bk.npy"); cflags+=(bias) ;;
		perhead) args+=(--per-head); cflags+=(perhead) ;;
		nopeer) ;;
		esac
	done
	ak attn-topk --resid "${name}_X.npy" --wq "${name}_WQ.npy" --wk "${name}_WK.npy" --heads "$H" \
		--top "$K" "${args[@]}" -o "$name.tsv"
	local peer=()
	if [[ " $* " != *" bias "* && " $* " != *" perhead "* && " $* " != *" nopeer "* ]]; then
		"$PY" "$PEER" "${name}_X.npy" "${name}_WQ.npy" "${name}_WK.npy" "$H" "$K" "${pflags[@]}" \
			--out "$name.peer.tsv" 2>/dev/null
		peer=("peer=$name.peer.tsv")
	fi
	run "$PY" check.py "$name.tsv" "$name" "$H" "$K" "${cflags[@]}" "${peer[@]}"
	echo "$output"
	assert_success
}

@test "attn-topk --help prints usage and exits 0" {
	run ak attn-topk --help
	assert_success
	assert_output --partial "usage: attn-topk --resid X"
}

@test "softmax, H=4, n=300: vs peer and float64 reference" {
	need_py pandas
	gen a 300 64 4
	write_check
	run_case a 4 1000
}

@test "softmax, H=8, n=1000, K=5000; H=1, n=120, K=1000" {
	need_py pandas
	gen b 1000 64 8
	gen b1 120 16 1
	write_check
	run_case b 8 5000
	run_case b1 1 1000
}

@test "--raw and --raw --abs, H=8 and H=1: vs peer and reference" {
	need_py pandas
	gen r 200 64 8
	gen r1 90 8 1
	write_check
	run_case r 8 800 raw
	run_case r 8 800 raw abs
	run_case r1 1 300 raw abs self
}

@test "--keep-self: all N = n^2 entries, and n = 2 edge cases" {
	need_py pandas
	gen s 50 32 4
	gen t 2 8 4
	write_check
	run_case s 4 100000 self
	run_case t 4 10 nopeer
	run_case t 4 10 self nopeer
	run_case t 4 1 raw
	[ "$(wc -l < t.tsv)" -eq 2 ]
}

@test "biases (bq, bk) with softmax and --raw: vs float64 reference" {
	need_py pandas
	gen q 150 32 4 bias
	write_check
	run_case q 4 2000 bias
	run_case q 4 2000 bias raw
	run_case q 4 500 bias raw abs self
}

@test "--per-head: one top-K per head, column head" {
	need_py pandas
	gen p 120 32 4 bias
	write_check
	run_case p 4 300 bias perhead
	run_case p 4 300 bias perhead raw
}

@test "odd blocks and small column chunks (AK_ATTN_BLOCK=5, AK_ATTN_CHUNK=16); rows spanning > 87 (exp near underflow)" {
	need_py pandas
	gen c 97 32 4
	gen_wide
	write_check
	export AK_ATTN_BLOCK=5 AK_ATTN_CHUNK=16
	run_case c 4 600
	run_case c 4 600 raw abs
	run_case c 4 100 perhead nopeer
	run_case c 4 100 perhead raw nopeer
	run_case c 4 9409 self
	run_case w 4 3000
	run_case w 4 700 perhead nopeer
	unset AK_ATTN_BLOCK AK_ATTN_CHUNK
	run_case w 4 3000
}

@test "every instruction-set build (AK_ATTN_ISA=avx512, avx2, base), with our own product and OpenBLAS's (AK_ATTN_PRODUCT), passes the reference checks" {
	need_py pandas
	gen c 97 32 4
	gen_wide
	write_check
	printf 'from\tto\n1\t2\n90\t3\n5\t96\n40\t40\n' > p.tsv
	ran=0
	for combo in avx512:own avx512:blas avx2:own avx2:blas base:own base:blas; do
		isa=${combo%:*} product=${combo#*:}
		if ! AK_ATTN_ISA=$isa ak attn-topk --resid w_X.npy --wq w_WQ.npy --wk w_WK.npy --heads 4 > /dev/null 2>&1; then
			echo "# $isa: not run by this CPU" >&3
			continue
		fi
		ran=$((ran + 1))
		# chunks of 48 keys: vector loops, their tails, and a 1-key chunk
		export AK_ATTN_ISA=$isa AK_ATTN_PRODUCT=$product AK_ATTN_BLOCK=5 AK_ATTN_CHUNK=48
		run_case c 4 600
		run_case c 4 600 raw abs
		run_case c 4 100 perhead nopeer
		run_case w 4 3000
		# a looked-up pair's value is the ranked one, bit for bit
		ak attn-topk --resid c_X.npy --wq c_WQ.npy --wk c_WK.npy --heads 4 --top 9312 -o full.tsv
		ak attn-topk --resid c_X.npy --wq c_WQ.npy --wk c_WK.npy --heads 4 --at p.tsv -o at.tsv
		run "$PY" -c "
import pandas as pd
f = pd.read_csv('full.tsv', sep='\t', dtype=str).set_index(['from', 'to'])
a = pd.read_csv('at.tsv', sep='\t', dtype=str)
for _, r in a.iterrows():
    if r['from'] != r['to']:
        g = f.loc[(r['from'], r['to'])]
        assert (g['value'], g['rank']) == (r['value'], r['rank']), (r.to_dict(), g.to_dict())
print('ok')"
		assert_success
		unset AK_ATTN_ISA AK_ATTN_PRODUCT AK_ATTN_BLOCK AK_ATTN_CHUNK
	done
	[ "$ran" -ge 2 ]
	export AK_ATTN_ISA=sse9
	run ak attn-topk --resid w_X.npy --wq w_WQ.npy --wk w_WK.npy --heads 4
	unset AK_ATTN_ISA
	assert_data_error "AK_ATTN_ISA=sse9"
	export AK_ATTN_PRODUCT=gpu
	run ak attn-topk --resid w_X.npy --wq w_WQ.npy --wk w_WK.npy --heads 4
	unset AK_ATTN_PRODUCT
	assert_data_error "AK_ATTN_PRODUCT=gpu"
}

@test "many ties (repeated rows of X): vs peer and reference" {
	need_py pandas
	gen y 200 16 4 ties
	write_check
	run_case y 4 3000
	run_case y 4 3000 raw abs nopeer
}

@test "exact ties: the cut and the order follow (value desc, from, to) exactly" {
	need_py pandas
	# Integer X, identity weights, d_k = 4 (scale 1/2): raw scores are exact.
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(3)
np.save('e_X.npy', rng.integers(0, 3, (40, 4)).astype('f4'))
np.save('e_W.npy', np.eye(4, dtype='f4'))"
	ak attn-topk --resid e_X.npy --wq e_W.npy --wk e_W.npy --heads 1 --raw --top 137 -o e.tsv
	run "$PY" -c "
import numpy as np, pandas as pd
X = np.load('e_X.npy').astype(int); S = X @ X.T
n = len(X)
ref = sorted(((-S[i, j] / 2, i, j) for i in range(n) for j in range(n) if i != j))[:137]
allv = np.sort([S[i, j] / 2 for i in range(n) for j in range(n) if i != j])
o = pd.read_csv('e.tsv', sep='\t')
got = list(zip(-o.value, o['from'], o['to']))
assert got == [(a, b, c) for a, b, c in ref], 'set or order differs'
rk = [len(allv) - np.searchsorted(allv, -a, side='right') + 1 for a, _, _ in ref]
assert list(o['rank']) == rk, 'ranks differ'
print('ok', len(set(o.value)))"
	assert_success
	assert_output --partial ok
}

@test "--ties keep: every pair tied with the K-th (napistu's cut), per head, --abs; numpy" {
	need_py pandas
	# Integer X, identity weights: raw scores are exact, with long runs of
	# ties (a run past 2K makes attn-topk select again); given per-head
	# matrices with ties, signed for --abs.
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(5)
np.save('t_X.npy', rng.integers(0, 3, (40, 4)).astype('f4'))
np.save('t_W.npy', np.eye(4, dtype='f4'))
np.save('t_A.npy', (rng.integers(-6, 7, (3, 30, 30)) / 4).astype('f4'))"
	for k in 1 5 137 600 1559 1560; do
		ak attn-topk --resid t_X.npy --wq t_W.npy --wk t_W.npy --heads 1 --raw --top $k --ties keep -o r$k.tsv
	done
	ak attn-topk --attn t_A.npy --per-head --top 40 --ties keep -o h.tsv
	ak attn-topk --attn t_A.npy --per-head --abs --top 40 --ties keep -o habs.tsv
	ak attn-topk --attn t_A.npy --top 40 --ties first -o first.tsv
	ak attn-topk --attn t_A.npy --top 40 -o dflt.tsv
	cmp first.tsv dflt.tsv
	run "$PY" -c "
import numpy as np, pandas as pd
def expect(A, k, absval):
    n = A.shape[0]
    v = [(A[i, j], i, j) for i in range(n) for j in range(n) if i != j]
    key = lambda t: (-(abs(t[0]) if absval else t[0]), t[1], t[2])
    v.sort(key=key)
    kth = abs(v[k - 1][0]) if absval else v[k - 1][0]
    keep = [t for t in v if (abs(t[0]) if absval else t[0]) >= kth]
    allv = np.sort([abs(t[0]) if absval else t[0] for t in v])
    rk = [len(allv) - np.searchsorted(allv, abs(t[0]) if absval else t[0], side='right') + 1 for t in keep]
    return keep, rk
def check(o, A, k, absval=False):
    keep, rk = expect(A, k, absval)
    got = list(zip(o.value, o['from'], o['to']))
    assert got == [(float(a), b, c) for a, b, c in keep], f'k={k}: set or order differs ({len(got)} vs {len(keep)})'
    assert list(o['rank']) == rk, f'k={k}: ranks differ'
    return len(keep)
X = np.load('t_X.npy').astype(int); S = X @ X.T / 2
sizes = [check(pd.read_csv(f'r{k}.tsv', sep='	'), S, k) for k in (1, 5, 137, 600, 1559, 1560)]
A = np.load('t_A.npy').astype(float)
for f, ab in (('h.tsv', False), ('habs.tsv', True)):
    o = pd.read_csv(f, sep='	')
    sizes += [check(o[o['head'] == h], A[h], 40, ab) for h in range(3)]
print('ok', sizes)"
	assert_success
	assert_output --partial ok
	echo "$output"
	# the run of ties really widened the cut
	[ "$(awk 'END { print NR - 1 }' r137.tsv)" -gt 137 ]
	run attn-topk --attn t_A.npy --ties all
	[ "$status" -eq 2 ]
	run attn-topk --attn t_A.npy --ties keep --at r5.tsv
	[ "$status" -eq 2 ]
}

@test "--subset: selection, ranks and N over the subset's pairs (exact ties); softmax over all keys" {
	need_py pandas
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(5)
np.save('s_X.npy', rng.integers(0, 3, (40, 4)).astype('f4'))
np.save('s_W.npy', np.eye(4, dtype='f4'))
sub = sorted(rng.choice(40, 25, replace=False))
open('s_sub.txt', 'w').write(''.join(f'g{i}\\n' for i in sub))
open('s_genes.txt', 'w').write(''.join(f'g{i}\\n' for i in range(40)))"
	ak attn-topk --resid s_X.npy --wq s_W.npy --wk s_W.npy --heads 1 --raw --top 90 \
		--genes s_genes.txt --subset s_sub.txt -o s.tsv
	run "$PY" -c "
import numpy as np, pandas as pd
X = np.load('s_X.npy').astype(int); S = X @ X.T
sub = [int(l[1:]) for l in open('s_sub.txt').read().split()]
pairs = [(i, j) for i in sub for j in sub if i != j]
ref = sorted((-S[i, j] / 2, i, j) for i, j in pairs)[:90]
allv = np.sort([S[i, j] / 2 for i, j in pairs])
o = pd.read_csv('s.tsv', sep='\t')
got = list(zip(-o.value, [int(f[1:]) for f in o['from']], [int(t[1:]) for t in o['to']]))
assert got == ref, 'set or order differs'
rk = [len(allv) - np.searchsorted(allv, -a, side='right') + 1 for a, _, _ in ref]
assert list(o['rank']) == rk, 'ranks differ'
assert np.allclose(o['quantile'], np.array(rk) / len(pairs), rtol=1e-15), 'N is not ns(ns-1)'
print('ok')"
	assert_success
	assert_output ok
	# softmax: a subset pair's value is the model's own attention (all keys in
	# the softmax), i.e. what --at gives without --subset, bit for bit
	ak attn-topk --resid s_X.npy --wq s_W.npy --wk s_W.npy --heads 1 --top 50 \
		--genes s_genes.txt --subset s_sub.txt -o soft.tsv
	ak attn-topk --resid s_X.npy --wq s_W.npy --wk s_W.npy --heads 1 --genes s_genes.txt \
		--at soft.tsv -o full.tsv
	diff <(cut -f1-3 soft.tsv) <(cut -f1-3 full.tsv)
	# --at inside the subset agrees with the subset's own ranks
	ak attn-topk --resid s_X.npy --wq s_W.npy --wk s_W.npy --heads 1 --genes s_genes.txt \
		--subset s_sub.txt --at soft.tsv -o at.tsv
	diff <(cut -f1-5 soft.tsv) <(cut -f1-5 at.tsv)
	# bad: a gene outside --genes, a pair outside the subset
	printf 'g1\nnope\n' > bad_sub.txt
	run ak attn-topk --resid s_X.npy --wq s_W.npy --wk s_W.npy --heads 1 --genes s_genes.txt --subset bad_sub.txt
	assert_data_error "bad_sub.txt:2: gene 'nope' is not in the --genes file"
	out=$(grep -vxF -f s_sub.txt s_genes.txt | head -1)
	printf 'from\tto\n%s\t%s\n' "$(head -1 s_sub.txt)" "$out" > outside.tsv
	run ak attn-topk --resid s_X.npy --wq s_W.npy --wk s_W.npy --heads 1 --genes s_genes.txt --subset s_sub.txt --at outside.tsv
	assert_data_error "outside.tsv: pair 1 (data line 1) has a gene outside --subset s_sub.txt"
}

@test "--subset-softmax: softmax over the subset's keys = attention of the sliced residuals (numpy), byte-identical to a sliced run; --at, layers" {
	need_py pandas
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(8); n, d = 90, 24
for l in (0, 1):
    np.save(f'ss_X{l}.npy', rng.standard_normal((n, d)).astype('f4'))
    np.save(f'ss_WQ{l}.npy', (rng.standard_normal((d, d)) / 2).astype('f4'))
    np.save(f'ss_WK{l}.npy', (rng.standard_normal((d, d)) / 2).astype('f4'))
keep = sorted(rng.choice(n, 40, replace=False))
open('ss_genes.txt', 'w').write(''.join(f'g{i}\n' for i in range(n)))
# listed out of row order: rows keep the model's order
open('ss_sub.txt', 'w').write(''.join(f'g{i}\n' for i in reversed(keep)))
open('ss_keep_genes.txt', 'w').write(''.join(f'g{i}\n' for i in keep))
for l in (0, 1):
    np.save(f'ss_Xs{l}.npy', np.load(f'ss_X{l}.npy')[keep])
open('ss_at.tsv', 'w').write('from\tto\n' + ''.join(f'g{keep[i]}\tg{keep[(i * 7 + 3) % 40]}\n' for i in range(40)))"
	L0=(--resid ss_X0.npy --wq ss_WQ0.npy --wk ss_WK0.npy)
	ak attn-topk "${L0[@]}" --heads 4 --genes ss_genes.txt --subset ss_sub.txt --subset-softmax --top 60 -o a.tsv
	ak attn-topk --resid ss_Xs0.npy --wq ss_WQ0.npy --wk ss_WK0.npy --heads 4 --genes ss_keep_genes.txt --top 60 -o b.tsv
	cmp a.tsv b.tsv
	ak attn-topk "${L0[@]}" --heads 4 --genes ss_genes.txt --subset ss_sub.txt --subset-softmax --at ss_at.tsv -o a_at.tsv
	ak attn-topk --resid ss_Xs0.npy --wq ss_WQ0.npy --wk ss_WK0.npy --heads 4 --genes ss_keep_genes.txt --at ss_at.tsv -o b_at.tsv
	cmp a_at.tsv b_at.tsv
	ak attn-topk "${L0[@]}" --layer --resid ss_X1.npy --wq ss_WQ1.npy --wk ss_WK1.npy --heads 4 --genes ss_genes.txt \
		--subset ss_sub.txt --subset-softmax --top 30 -o a_c.tsv
	ak attn-topk --resid ss_Xs0.npy --wq ss_WQ0.npy --wk ss_WK0.npy --layer --resid ss_Xs1.npy --wq ss_WQ1.npy --wk ss_WK1.npy \
		--heads 4 --genes ss_keep_genes.txt --top 30 -o b_c.tsv
	cmp a_c.tsv b_c.tsv
	# the whole-vocabulary softmax differs, and numpy's renormalised attention is what was ranked
	ak attn-topk "${L0[@]}" --heads 4 --genes ss_genes.txt --subset ss_sub.txt --top 60 -o whole.tsv
	! cmp -s a.tsv whole.tsv
	run "$PY" -c "
import numpy as np, pandas as pd
keep = [int(g[1:]) for g in open('ss_keep_genes.txt').read().split()]
X = np.load('ss_X0.npy').astype(float)[keep]
Q, K = X @ np.load('ss_WQ0.npy').astype(float).T, X @ np.load('ss_WK0.npy').astype(float).T
A = 0
for h in range(4):
    S = Q[:, h*6:(h+1)*6] @ K[:, h*6:(h+1)*6].T / np.sqrt(6)
    S = np.exp(S - S.max(1, keepdims=True)); A = A + S / S.sum(1, keepdims=True) / 4
assert np.allclose(A.sum(1), 1)
o = pd.read_csv('a.tsv', sep='\t', float_precision='round_trip')
idx = {f'g{k}': i for i, k in enumerate(keep)}
v = np.array([A[idx[a], idx[b]] for a, b in zip(o['from'], o['to'])])
assert np.max(np.abs(v - o.value)) < 1e-6, np.max(np.abs(v - o.value))
off = A[~np.eye(40, dtype=bool)]
assert abs(np.sort(off)[::-1][59] - o.value.iloc[-1]) < 1e-6
assert np.allclose(o['quantile'], o['rank'] / (40 * 39), rtol=1e-15, atol=0)
print('ok')"
	assert_success
	assert_output ok
	run attn-topk "${L0[@]}" --heads 4 --subset ss_sub.txt --subset-softmax
	[ "$status" -eq 2 ]
	run attn-topk "${L0[@]}" --heads 4 --genes ss_genes.txt --subset-softmax
	[ "$status" -eq 2 ]
}

@test "tinyfm: reproduces the model's own attention (all layers), per-head (0, 3), and from raw + LayerNorm" {
	need_data tinyfm/single_cell/layer3.attention_heads.npy
	need_py pandas
	T=$DATA/tinyfm
	for L in 0 1 2 3; do
		w=(--wq "$T/layer$L.wq.npy" --wk "$T/layer$L.wk.npy" --bq "$T/layer$L.bq.npy" --bk "$T/layer$L.bk.npy" --heads 4 --keep-self --top 89401)
		ak attn-topk --resid "$T/single_cell/layer$L.attn_input.npy" "${w[@]}" -o "a$L.tsv"
		ak attn-topk --resid "$T/single_cell/layer$L.raw.npy" --ln-weight "$T/layer$L.ln_weight.npy" \
			--ln-bias "$T/layer$L.ln_bias.npy" "${w[@]}" -o "l$L.tsv"
	done
	for L in 0 3; do
		ak attn-topk --resid "$T/single_cell/layer$L.attn_input.npy" --wq "$T/layer$L.wq.npy" \
			--wk "$T/layer$L.wk.npy" --bq "$T/layer$L.bq.npy" --bk "$T/layer$L.bk.npy" --heads 4 \
			--keep-self --top 89401 --per-head -o "h$L.tsv"
	done
	run "$PY" - "$T" <<'PY'
import sys, numpy as np, pandas as pd
T = sys.argv[1]
def dense(f, head=None):
    o = pd.read_csv(f, sep="\t", float_precision="round_trip")
    if head is not None: o = o[o["head"] == head]
    A = np.full((299, 299), np.nan); A[o["from"], o["to"]] = o["value"]
    assert len(o) == 299 * 299 and not np.isnan(A).any()
    return A
worst = 0
for L in range(4):
    ref = np.load(f"{T}/single_cell/layer{L}.attention.npy")
    for p in "al":
        worst = max(worst, np.abs(dense(f"{p}{L}.tsv") - ref).max())
for L in (0, 3):
    ref = np.load(f"{T}/single_cell/layer{L}.attention_heads.npy")
    for h in range(4):
        worst = max(worst, np.abs(dense(f"h{L}.tsv", h) - ref[h]).max())
print("max abs error", worst)
assert worst < 1e-5
PY
	echo "$output"
	assert_success
}

@test "tinyfm: non-targeting top-100 with gene ids and labels (layer 3)" {
	need_data tinyfm/resid/non-targeting/layer3.npy
	need_py pandas
	T=$DATA/tinyfm
	ak attn-topk --resid "$T/resid/non-targeting/layer3.npy" --wq "$T/layer3.wq.npy" --wk "$T/layer3.wk.npy" \
		--bq "$T/layer3.bq.npy" --bk "$T/layer3.bk.npy" --heads 4 --top 100 --genes "$T/genes.txt" \
		--label model=tinyfm --label layer=3 -o nt.tsv
	run "$PY" - "$T" <<'PY'
import sys, numpy as np, pandas as pd
T = sys.argv[1]; L = 3
X = np.load(f"{T}/resid/non-targeting/layer{L}.npy").astype(np.float64)
ld = lambda s: np.load(f"{T}/layer{L}.{s}.npy").astype(np.float64)
Q = X @ ld("wq").T + ld("bq"); K = X @ ld("wk").T + ld("bk")
A = 0
for h in range(4):
    S = Q[:, h*16:(h+1)*16] @ K[:, h*16:(h+1)*16].T / 4
    S = np.exp(S - S.max(1, keepdims=True)); A = A + S / S.sum(1, keepdims=True) / 4
np.fill_diagonal(A, -1)
genes = open(f"{T}/genes.txt").read().split()
o = pd.read_csv("nt.tsv", sep="\t", float_precision="round_trip")
assert list(o.columns) == ["from", "to", "value", "rank", "quantile", "model", "layer"]
assert (o.model == "tinyfm").all() and (o.layer == 3).all()
idx = {g: i for i, g in enumerate(genes)}
f = o["from"].map(idx).to_numpy(); t = o["to"].map(idx).to_numpy()
assert np.abs(o.value - A[f, t]).max() < 1e-8
flat = np.sort(A[A >= 0])
print("top pair", o["from"][0], o["to"][0], "kth", flat[-100])
assert set(zip(f, t)) == set(zip(*np.nonzero(A >= flat[-100])))
PY
	echo "$output"
	assert_success
	assert_output --partial "top pair RP11-513D5.2 SLC24A3"
}

@test "--at: values equal the full pass bit for bit; ranks are the exact count on the dense matrix" {
	need_py pandas
	gen z 160 32 4
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(5)
p = rng.integers(0, 160, (3000, 2))
with open('pairs.tsv', 'w') as f:
    f.write('to\tfrom\textra\n')
    for a, b in p: f.write(f'{b}\t{a}\tx\n')
    f.write('7\t7\tdiag\n')"
	base=(--resid z_X.npy --wq z_WQ.npy --wk z_WK.npy --heads 4)
	i=0
	for m in "" "--raw --abs" "--keep-self" "--per-head"; do
		ak attn-topk "${base[@]}" $m --top 25600 -o "full$i.tsv"
		ak attn-topk "${base[@]}" $m --top 500 --at pairs.tsv -o "at$i.tsv"
		i=$((i + 1))
	done
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
pairs = pd.read_csv("pairs.tsv", sep="\t")
key = lambda x: np.where(x.view(np.uint32) >> 31 == 1, ~x.view(np.uint32), x.view(np.uint32) | 0x80000000)
n = 160
for i, m in enumerate(["", "--raw --abs", "--keep-self", "--per-head"]):
    full = pd.read_csv(f"full{i}.tsv", sep="\t", float_precision="round_trip")
    at = pd.read_csv(f"at{i}.tsv", sep="\t", float_precision="round_trip")
    H = 4 if "per-head" in m else 1
    assert len(at) == len(pairs) * H
    for h in range(H):
        f = full[full["head"] == h] if H > 1 else full
        a = at[at["head"] == h] if H > 1 else at
        A = np.full((n, n), np.nan, np.float32); A[f["from"], f["to"]] = f["value"]
        R = np.abs(A) if "abs" in m else A
        vals = np.sort(R[~np.isnan(R)])
        assert (a["from"].to_numpy() == pairs["from"].to_numpy()).all()
        v = a["value"].to_numpy(np.float32)
        diag = a["from"].to_numpy() == a["to"].to_numpy()
        ref = A[a["from"], a["to"]]
        assert (v[~diag] == ref[~diag]).all(), "values differ from the full pass"
        r = np.abs(v) if "abs" in m else v
        exact = len(vals) - np.searchsorted(vals, r, side="right") + 1
        # allowed: entries in the same 16-ulp bin, outside the top 500, may count as not greater
        ok = a["rank"].to_numpy() == exact
        kb = key(np.ascontiguousarray(r, np.float32)) >> 4
        kv = key(vals.astype(np.float32)) >> 4
        kth = vals[-500]
        for j in np.nonzero(~ok)[0]:
            same = ((kv == kb[j]) & (vals > r[j]) & (vals < kth)).sum()
            assert a["rank"].iloc[j] == exact[j] - same, (m, j, a["rank"].iloc[j], exact[j], same)
        top = r >= kth
        assert ok[top].all(), "ranks at or above the K-th value must be exact"
        assert np.allclose(a["quantile"], a["rank"] / len(vals), rtol=1e-15)
        print(repr(m), "head", h, "exact", ok.sum(), "of", len(ok))
PY
	echo "$output"
	assert_success
}

@test "--at with --genes: names in and out, unknown names listed" {
	need_data tinyfm/genes.txt
	T=$DATA/tinyfm
	printf 'from\tto\nPCBP3\tTMEM37\nSDSL\tSDSL\n' > p.tsv
	w=(--wq "$T/layer0.wq.npy" --wk "$T/layer0.wk.npy" --bq "$T/layer0.bq.npy" --bk "$T/layer0.bk.npy" --heads 4)
	run ak attn-topk --resid "$T/resid/non-targeting/layer0.npy" "${w[@]}" --genes "$T/genes.txt" --at p.tsv
	assert_success
	assert_line --index 1 --regexp '^PCBP3	TMEM37	0\.00[0-9]+	1	'
	printf 'from\tto\nPCBP3\tNOPE1\nNOPE2\tTMEM37\nNOPE1\tX\n' > u.tsv
	run ak attn-topk --resid "$T/resid/non-targeting/layer0.npy" "${w[@]}" --genes "$T/genes.txt" --at u.tsv
	assert_data_error "u.tsv: 3 gene ids not in the --genes file: NOPE1, NOPE2, X"
}

@test "deterministic: identical bytes for --threads 1/2 and OPENBLAS_NUM_THREADS 1/2" {
	gen w 700 64 8
	printf 'from\tto\n1\t2\n600\t3\n5\t699\n' > p.tsv
	base=(--resid w_X.npy --wq w_WQ.npy --wk w_WK.npy --heads 8 --top 3000)
	OPENBLAS_NUM_THREADS=1 ak attn-topk "${base[@]}" --threads 1 -o t1.tsv
	OPENBLAS_NUM_THREADS=2 ak attn-topk "${base[@]}" --threads 2 -o t2.tsv
	OPENBLAS_NUM_THREADS=2 ak attn-topk "${base[@]}" --threads 1 -o t3.tsv
	OPENBLAS_NUM_THREADS=1 ak attn-topk "${base[@]}" --threads 3 --per-head -o t4.tsv
	ak attn-topk "${base[@]}" --threads 1 --per-head -o t5.tsv
	ak attn-topk "${base[@]}" --threads 1 --at p.tsv -o t6.tsv
	ak attn-topk "${base[@]}" --threads 2 --at p.tsv -o t7.tsv
	# -v: progress on stderr only, the output unchanged
	ak attn-topk "${base[@]}" --threads 2 -v > t8.tsv
	cmp t1.tsv t2.tsv
	cmp t1.tsv t8.tsv
	cmp t1.tsv t3.tsv
	cmp t4.tsv t5.tsv
	cmp t6.tsv t7.tsv
	[ "$(wc -l < t1.tsv)" -eq 3001 ]
}

@test "inputs: stdin, .npz member, gzipped .akm, --at from gzipped stdin, gzipped output" {
	need_py numpy
	gen i 60 16 2
	"$PY" -c "
import numpy as np
np.savez('i.npz', x=np.load('i_X.npy'))"
	ak mat convert i_X.npy i_X.akm.gz
	base=(--wq i_WQ.npy --wk i_WK.npy --heads 2 --top 50)
	ak attn-topk --resid i_X.npy "${base[@]}" -o ref.tsv
	ak attn-topk --resid - "${base[@]}" < i_X.npy > s.tsv
	ak attn-topk --resid i.npz:x "${base[@]}" > z.tsv
	ak attn-topk --resid i_X.akm.gz "${base[@]}" -o g.tsv.gz
	cmp ref.tsv s.tsv
	cmp ref.tsv z.tsv
	gzip -dc g.tsv.gz | cmp ref.tsv -
	printf 'from\tto\n3\t4\n' | gzip | ak attn-topk --resid i_X.npy "${base[@]}" --at - > a.tsv
	run cut -f1,2,4 a.tsv
	assert_line --index 1 --regexp '^3	4	[0-9]+$'
}

@test "bad: shapes (X vs W, bias length, d not divisible by H)" {
	need_py numpy
	gen v 20 16 2
	"$PY" -c "
import numpy as np
np.save('x15.npy', np.ones((20, 15), 'f4')); np.save('b15.npy', np.ones(15, 'f4'))
np.save('w3.npy', np.ones((16, 15), 'f4'))"
	run ak attn-topk --resid x15.npy --wq v_WQ.npy --wk v_WK.npy --heads 2
	assert_data_error "x15.npy: 15 columns, but the weights give d = 16"
	run ak attn-topk --resid v_X.npy --wq w3.npy --wk v_WK.npy --heads 2
	assert_data_error "w3.npy: shape 16 x 15, expected d x d 15 x 15"
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --bq b15.npy --heads 2
	assert_data_error "b15.npy: 15 values, expected a bias of length d = 16"
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --heads 3
	assert_data_error "--heads 3 does not divide d = 16"
}

@test "bad: NaN/Inf named by file, row and column; nothing left behind with -o" {
	need_py numpy
	gen v 20 16 2
	"$PY" -c "
import numpy as np
x = np.load('v_X.npy'); x[4, 2] = np.nan; np.save('nan.npy', x)
w = np.load('v_WK.npy'); w[0, 7] = np.inf; np.save('inf.npy', w)"
	run ak attn-topk --resid nan.npy --wq v_WQ.npy --wk v_WK.npy --heads 2 -o out.tsv
	assert_data_error "nan.npy: row 5, column 3: NaN"
	[ ! -e out.tsv ]
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk inf.npy --heads 2 -o out.tsv
	assert_data_error "inf.npy: row 1, column 8: infinity"
	[ ! -e out.tsv ]
	ls -A | grep -v '\.npy$' | grep . && false || true
}

@test "bad: genes file (duplicates, wrong length), --at (missing column, bad index)" {
	need_py numpy
	gen v 4 8 2
	printf 'a\nb\nc\na\n' > dup.txt
	printf 'a\nb\nc\n' > short.txt
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --heads 2 --genes dup.txt
	assert_data_error "dup.txt:4: duplicate id 'a' (first on line 1)"
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --heads 2 --genes short.txt
	assert_data_error "short.txt: 3 ids, but v_X.npy has 4 rows"
	printf 'from\tnot_to\n1\t2\n' > nocol.tsv
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --heads 2 --at nocol.tsv
	assert_data_error "to"
	assert_output --partial "not_to"
	printf 'from\tto\n1\t4\n' > oob.tsv
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --heads 2 --at oob.tsv
	assert_data_error "oob.tsv:2: column 'to': gene index 4 is out of range (0..3)"
	printf 'from\tto\n' > hdr.tsv
	run ak attn-topk --resid v_X.npy --wq v_WQ.npy --wk v_WK.npy --heads 2 --at hdr.tsv
	assert_success
	assert_output "from	to	value	rank	quantile"
	: > empty.npy
	run ak attn-topk --resid empty.npy --wq v_WQ.npy --wk v_WK.npy --heads 2
	assert_data_error "empty.npy"
	"$PY" -c "import numpy as np; np.save('rows0.npy', np.ones((0, 8), 'f4'))"
	run ak attn-topk --resid rows0.npy --wq v_WQ.npy --wk v_WK.npy --heads 2
	assert_data_error "rows0.npy: no rows (genes)"
}

@test "usage errors exit 2: --top 0, missing --heads, bad --label, unknown option" {
	run ak attn-topk --resid x --wq y --wk z --heads 2 --top 0
	assert_failure 2
	assert_output --partial "--top"
	run ak attn-topk --resid x --wq y --wk z
	assert_failure 2
	assert_output --partial "--heads is required"
	run ak attn-topk --resid x --wq y --wk z --heads 2 --label novalue
	assert_failure 2
	run ak attn-topk --bogus
	assert_failure 2
}
