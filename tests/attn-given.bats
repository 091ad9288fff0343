#!/usr/bin/env bats
# attn-topk --attn (a given n x n or heads x n x n attention matrix, float16
# or float32) against numpy on small n, and --check against forward-pass
# attention: tinyfm's own (shared data) and numpy's from random weights.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# given N H DTYPE: A.npy (H x N x N, or N x N when H = 0), rows softmax'd
given() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np
n, H, dt = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(n * 10 + H)
S = rng.standard_normal((max(H, 1), n, n)) * 2
A = np.exp(S - S.max(-1, keepdims=True))
A /= A.sum(-1, keepdims=True)
A = A.astype(dt)
np.save("A.npy", A if H else A[0])
with open("genes.txt", "w") as f:
    f.write("".join(f"g{i}\n" for i in range(n)))
PY
}

# ref K [perhead] [self] [subset FILE]: numpy's top-K with exact ranks, as
# attn-topk prints them (values as float32, the head average taken in float64)
ref() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np
k = int(sys.argv[1]); opts = sys.argv[2:]
A = np.load("A.npy").astype("f8")
planes = [A[h] for h in range(A.shape[0])] if "perhead" in opts else [A.mean(0) if A.ndim == 3 else A]
n = planes[0].shape[0]
keep = np.ones((n, n), bool)
if "self" not in opts:
    np.fill_diagonal(keep, False)
if "subset" in opts:
    s = np.zeros(n, bool)
    s[[int(l[1:]) for l in open(opts[opts.index("subset") + 1]).read().split()]] = True
    keep &= s[:, None] & s[None, :]
for h, P in enumerate(planes):
    v = P.astype("f4")
    idx = np.flatnonzero(keep)
    vals = v.ravel()[idx]
    order = np.lexsort((idx, -vals))[:k]
    allv = np.sort(vals)
    for o in order:
        i, j = divmod(idx[o], n)
        greater = len(allv) - np.searchsorted(allv, vals[o], side="right")
        tail = f"\t{h}" if "perhead" in opts else ""
        print(f"g{i}\tg{j}\t{vals[o]!r}\t{greater + 1}{tail}")
PY
}

# cols FILE: from, to, value (as float32 repr), rank [, head] of attn-topk output
cols() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])][1:]
for r in rows:
    extra = f"\t{r[5]}" if len(r) > 5 else ""
    print(f"{r[0]}\t{r[1]}\t{np.float32(r[2])!r}\t{r[3]}{extra}")
PY
}

@test "--attn n x n float32: top-K and exact ranks as numpy's" {
	need_py
	given 40 0 f4
	ak attn-topk --attn A.npy --genes genes.txt --top 25 -o out.tsv
	assert_equal "$(cols out.tsv)" "$(ref 25)"
	ak attn-topk --attn A.npy --genes genes.txt --top 25 --keep-self -o self.tsv
	assert_equal "$(cols self.tsv)" "$(ref 25 self)"
}

@test "--attn heads x n x n (float16 and float32): heads averaged, or --per-head" {
	need_py
	for dt in f4 f2; do
		given 33 3 $dt
		ak attn-topk --attn A.npy --genes genes.txt --top 20 -o avg.tsv
		assert_equal "$(cols avg.tsv)" "$(ref 20)"
		ak attn-topk --attn A.npy --genes genes.txt --top 10 --per-head --label layer=2 -o ph.tsv
		assert_equal "$(cols ph.tsv)" "$(ref 10 perhead)"
		head -1 ph.tsv | grep -qx $'from\tto\tvalue\trank\tquantile\thead\tlayer'
		[ "$(sed 1d ph.tsv | cut -f7 | sort -u)" = 2 ]
	done
}

@test "--attn with --subset and --at: ranks within the subset, looked-up pairs" {
	need_py
	given 50 2 f4
	seq 0 3 49 | sed 's/^/g/' > sub.txt
	ak attn-topk --attn A.npy --genes genes.txt --subset sub.txt --top 15 -o sub.tsv
	assert_equal "$(cols sub.tsv)" "$(ref 15 subset sub.txt)"
	# --at reports the same value and rank for the pairs of the top-K
	ref 15 > top.txt
	{ printf 'from\tto\n'; cut -f1,2 top.txt; } > pairs.tsv
	ak attn-topk --attn A.npy --genes genes.txt --at pairs.tsv -o at.tsv
	assert_equal "$(cols at.tsv)" "$(cat top.txt)"
}

@test "--attn reads gzip'd input and stdin as the plain file (through a temporary file)" {
	need_py
	given 30 2 f2
	ak attn-topk --attn A.npy --top 40 -o plain.tsv
	gzip -k A.npy
	ak attn-topk --attn A.npy.gz --top 40 -o gz.tsv
	ak attn-topk --attn - --top 40 -o stdin.tsv < A.npy
	cmp plain.tsv gz.tsv
	cmp plain.tsv stdin.tsv
	# thread count does not change the answer
	ak attn-topk --attn A.npy --top 40 --threads 1 -o t1.tsv
	cmp plain.tsv t1.tsv
}

@test "--attn: bad matrices and conflicting options are clear errors" {
	need_py
	"$PY" -c "
import numpy as np
np.save('rect.npy', np.zeros((3, 4), 'f4'))
a = np.full((4, 4), 0.25, 'f4'); a[2, 1] = np.nan; np.save('nan.npy', a)
np.save('fort.npy', np.asfortranarray(np.ones((4, 4), 'f4') + np.eye(4, dtype='f4')))
np.save('int.npy', np.ones((4, 4), 'i4'))
np.save('h.npy', np.full((2, 4, 4), 0.25, 'f4'))
np.save('two.npy', np.full((4, 4), 0.25, 'f4'))
"
	run ak attn-topk --attn rect.npy
	assert_data_error "rect.npy: shape 3 x 4; --attn takes a square"
	run ak attn-topk --attn nan.npy
	assert_data_error "nan.npy: row 3, column 2: NaN"
	run ak attn-topk --attn fort.npy
	assert_data_error "Fortran order"
	run ak attn-topk --attn int.npy
	assert_data_error "attention must be float16, float32 or float64"
	run ak attn-topk --attn h.npy --heads 4
	assert_data_error "h.npy: 2 heads, but --heads 4"
	run ak attn-topk --attn two.npy --per-head
	assert_data_error "--per-head needs heads x n x n"
	run ak attn-topk --attn two.npy --resid two.npy
	assert_failure 2
	assert_output --partial "--attn ranks a given matrix"
	run ak attn-topk --attn two.npy --genes /dev/null
	assert_data_error "0 ids, but two.npy has 4 rows"
}

# tinyfm_check LAYER WQ [args...]: attn-topk on the reference cell with --check
tinyfm_check() {
	local T=$DATA/tinyfm L=$1 wq=$2
	shift 2
	run ak attn-topk --resid "$T/single_cell/layer$L.attn_input.npy" --wq "$wq" --wk "$T/layer$L.wk.npy" \
		--bq "$T/layer$L.bq.npy" --bk "$T/layer$L.bk.npy" --genes "$T/genes.txt" --top 5 \
		--check "$T/single_cell/layer$L.attention.npy" "$@"
}

# max_diff: the number after "max |computed - given|" in $output
max_diff() {
	sed -n 's/.*max |computed - given| \([^ ]*\) .*/\1/p' <<< "$output" | head -1
}

@test "--check: tinyfm's exported weights reproduce its forward pass (every layer, < 1e-8)" {
	need_data tinyfm/single_cell/layer3.attention.npy
	local L
	for L in 0 1 2 3; do
		tinyfm_check $L "$DATA/tinyfm/layer$L.wq.npy" --heads 4
		assert_success
		assert_output --partial "top-100 pairs shared 100 of 100: ok"
		"$PY" -c "assert float('$(max_diff)') < 1e-8, '$(max_diff)'"
	done
	# per head, against the per-head forward pass
	local T=$DATA/tinyfm
	run ak attn-topk --resid "$T/single_cell/layer3.attn_input.npy" --wq "$T/layer3.wq.npy" \
		--wk "$T/layer3.wk.npy" --bq "$T/layer3.bq.npy" --bk "$T/layer3.bk.npy" --heads 4 --per-head \
		--check "$T/single_cell/layer3.attention_heads.npy" -o /dev/null
	assert_success
	[ "$(grep -c 'head [0-3]: .*: ok' <<< "$output")" -eq 4 ]
}

@test "--check: a transposed W_Q, or --heads 8 on the 4-head model, exits 1" {
	need_data tinyfm/single_cell/layer0.attention.npy
	need_py
	"$PY" -c "import numpy as np; np.save('wqT.npy', np.load('$DATA/tinyfm/layer0.wq.npy').T.copy())"
	tinyfm_check 0 wqT.npy --heads 4 -o out.tsv
	assert_failure 1
	assert_output --partial "FAILED (--check-tol 0.0001)"
	[ ! -e out.tsv ]
	"$PY" -c "assert float('$(max_diff)') > 1e-3"
	# the same with a tolerance that lets it through
	tinyfm_check 0 wqT.npy --heads 4 --check-tol 0.1 -o out.tsv
	assert_success
	tinyfm_check 0 "$DATA/tinyfm/layer0.wq.npy" --heads 8
	assert_failure 1
	assert_output --partial "FAILED"
	"$PY" -c "assert float('$(max_diff)') > 1e-4"
	# against the per-head forward pass the head count itself is the finding
	local T=$DATA/tinyfm
	run ak attn-topk --resid "$T/single_cell/layer0.attn_input.npy" --wq "$T/layer0.wq.npy" \
		--wk "$T/layer0.wk.npy" --heads 8 --check "$T/single_cell/layer0.attention_heads.npy"
	assert_data_error "the forward pass has 4 heads, --heads says 8"
}

@test "--check against numpy's attention from random weights, LayerNorm and biases" {
	need_py
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(5)
n, d, H = 37, 12, 3
X = rng.standard_normal((n, d)); Wq = rng.standard_normal((d, d)) / 2; Wk = rng.standard_normal((d, d)) / 2
bq, bk = rng.standard_normal(d), rng.standard_normal(d); g, b = rng.standard_normal(d), rng.standard_normal(d)
for k, v in dict(X=X, Wq=Wq, Wk=Wk, bq=bq, bk=bk, g=g, b=b).items():
    np.save(k + ".npy", v.astype("f4"))
X, Wq, Wk, bq, bk, g, b = (np.load(k + ".npy").astype("f8") for k in ["X", "Wq", "Wk", "bq", "bk", "g", "b"])
Y = (X - X.mean(1, keepdims=True)) / np.sqrt(X.var(1, keepdims=True) + 1e-5) * g + b
Q, K = Y @ Wq.T + bq, Y @ Wk.T + bk
dk = d // H
A = []
for h in range(H):
    S = Q[:, h*dk:(h+1)*dk] @ K[:, h*dk:(h+1)*dk].T / np.sqrt(dk)
    E = np.exp(S - S.max(1, keepdims=True)); A.append(E / E.sum(1, keepdims=True))
np.save("heads.npy", np.array(A).astype("f4"))
np.save("avg.npy", np.mean(A, 0).astype("f2"))
PY
	local args=(--resid X.npy --wq Wq.npy --wk Wk.npy --bq bq.npy --bk bk.npy --ln-weight g.npy --ln-bias b.npy --heads 3)
	run ak attn-topk "${args[@]}" --check heads.npy -o out.tsv
	assert_success
	assert_output --partial "pairs shared 100 of 100: ok"
	"$PY" -c "assert float('$(max_diff)') < 1e-6"
	# float16 forward-pass attention: differences of float16 rounding (< 1e-3)
	run ak attn-topk "${args[@]}" --check avg.npy --check-tol 1e-3 -o out.tsv
	assert_success
	# without the LayerNorm the export is wrong
	run ak attn-topk --resid X.npy --wq Wq.npy --wk Wk.npy --bq bq.npy --bk bk.npy --heads 3 --check heads.npy
	assert_failure 1
	# --top smaller than 100 prints K rows, still comparing 100
	run ak attn-topk "${args[@]}" --check heads.npy --top 3 -o out.tsv
	assert_success
	[ "$(wc -l < out.tsv)" -eq 4 ]
	run ak attn-topk "${args[@]}" --check Wq.npy
	assert_data_error "Wq.npy: attention over 12 genes, but X.npy has 37"
}
