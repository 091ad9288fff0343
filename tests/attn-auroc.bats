#!/usr/bin/env bats
# attn-topk --ref: exact all-pairs AUROC and average precision of attention
# against a reference network, against sklearn's roc_auc_score and
# average_precision_score over the full n x n matrix (ties, float32
# near-ties inside one 16-ulp histogram bin, per head, --sources, --subset,
# --abs, --keep-self), and on the tinyfm model with TRRUST.

setup() {
	load helper
	need_py sklearn
	cd "$BATS_TEST_TMPDIR"
}

# The reference: sklearn over the dense matrix. Cases on stdin, one per line:
#   OUT.tsv MATRIX(.npy: n x n or H x n x n, or PREFIX for X/WQ/WK with H) flags...
# flags: heads=H (computed from PREFIX_*.npy), perhead, sources, abs, self,
# subset=FILE, raw. The reference edges are ref.tsv (tf, target: G<i> ids).
write_ref() {
	cat > aucref.py <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
ref = pd.read_csv("ref.tsv", sep="\t")
bad = 0
for line in sys.stdin:
    if not line.strip(): continue
    out, src, *fl = line.split()
    kv = dict(a.split("=", 1) for a in fl if "=" in a)
    if "heads" in kv:
        H = int(kv["heads"])
        X = np.load(f"{src}_X.npy").astype(np.float64)
        Q, K = X @ np.load(f"{src}_WQ.npy").astype(np.float64).T, X @ np.load(f"{src}_WK.npy").astype(np.float64).T
        dk = X.shape[1] // H
        mats = []
        for h in range(H):
            S = Q[:, h*dk:(h+1)*dk] @ K[:, h*dk:(h+1)*dk].T / np.sqrt(dk)
            if "raw" not in fl:
                S = np.exp(S - S.max(1, keepdims=True)); S /= S.sum(1, keepdims=True)
            mats.append(S)
        mats = np.stack(mats)
    else:
        mats = np.load(src)
        mats = mats.astype(np.float64) if mats.ndim == 3 else mats[None].astype(np.float64)
    if "perhead" not in fl:
        mats = mats.mean(0)[None]
        if "heads" not in kv and np.load(src).ndim == 2:
            mats = np.load(src)[None].astype(np.float64)
    n = mats.shape[-1]
    Y = np.zeros((n, n), bool)
    Y[ref.tf.str[1:].astype(int), ref.target.str[1:].astype(int)] = True
    m = np.ones((n, n), bool)
    if "self" not in fl: np.fill_diagonal(m, False)
    else: pass
    if "subset" in kv:
        s = np.zeros(n, bool); s[[int(g[1:]) for g in open(kv["subset"]).read().split()]] = True
        m &= s[:, None] & s[None, :]
    if "sources" in fl:
        m &= (Y & m).any(1)[:, None]
    o = pd.read_csv(out, sep="\t")
    for h, A in enumerate(mats):
        oo = o[o["head"] == h] if "perhead" in fl else o
        # exact: the float32 values C ranks (a computed matrix: within float32 rounding)
        A32 = A.astype(np.float32).astype(np.float64)
        R = np.abs(A32) if "abs" in fl else A32
        a, p = roc_auc_score(Y[m], R[m]), average_precision_score(Y[m], R[m])
        da, dp = abs(a - oo.auroc.iloc[0]), abs(p - oo.auprc.iloc[0])
        tol = 1e-12 if "heads" not in kv else 2e-4
        ok = da <= tol and dp <= tol and oo.n_pos.iloc[0] == Y[m].sum() and oo.n_neg.iloc[0] == (~Y[m]).sum()
        bad += not ok
        print(f"{out} {' '.join(fl)} head {h}: auroc {oo.auroc.iloc[0]:.6f} |d| {da:.2g}, auprc {oo.auprc.iloc[0]:.6f} |d| {dp:.2g}, n_pos {oo.n_pos.iloc[0]}{'' if ok else '  FAILED'}")
sys.exit(1 if bad else 0)
PY
}

# gen: genes.txt (G0..), ref.tsv (12 sources), and given matrices:
# ties.npy (multiples of 1/8), near.npy (1 + k ulp: dozens of distinct keys
# per 16-ulp bin, and exact ties), heads.npy (4 x n x n signed), soft.npy
gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(3); n = 60
np.save("ties.npy", (np.round(rng.standard_normal((n, n)) * 2) / 8).astype("f4"))
one = np.float32(1); ulp = np.spacing(one)
np.save("near.npy", (one + ulp * rng.integers(0, 40, (n, n))).astype("f4"))
np.save("heads.npy", (np.round(rng.standard_normal((4, n, n)) * 4) / 4).astype("f4"))
S = np.exp(rng.standard_normal((n, n))); S /= S.sum(1, keepdims=True)
np.save("soft.npy", S.astype("f4"))
open("genes.txt", "w").write("".join(f"G{i}\n" for i in range(n)))
e = set()
while len(e) < 150:
    a, b = rng.integers(0, 12), rng.integers(0, n)
    if a != b or len(e) > 140: e.add((a, b))
open("ref.tsv", "w").write("tf\ttarget\n" + "".join(f"G{a}\tG{b}\n" for a, b in sorted(e)))
open("subset.txt", "w").write("".join(f"G{i}\n" for i in range(0, n, 2)))
PY
}

@test "given matrices: ties, near-ties in one histogram bin, per head, --sources, --subset, --abs, --keep-self: sklearn to 1e-12" {
	gen
	write_ref
	: > cases
	i=0
	while read -r m flags; do
		args=()
		for f in $flags; do
			case $f in
			perhead) args+=(--per-head) ;; sources) args+=(--sources) ;; abs) args+=(--abs) ;;
			self) args+=(--keep-self) ;; subset=*) args+=(--subset "${f#subset=}") ;;
			esac
		done
		ak attn-topk --attn "$m" --genes genes.txt --ref ref.tsv --ref-header yes "${args[@]}" -o "o$i.tsv"
		echo "o$i.tsv $m $flags" >> cases
		i=$((i + 1))
	done <<-'CASES'
	ties.npy
	ties.npy sources
	ties.npy abs
	ties.npy self
	near.npy
	near.npy sources
	near.npy subset=subset.txt
	soft.npy
	soft.npy sources subset=subset.txt
	heads.npy perhead
	heads.npy perhead abs sources
	heads.npy
	CASES
	run "$PY" aucref.py < cases
	echo "$output"
	assert_success
	# the output's shape: columns by name, one row per head
	run awk -F'\t' 'NR == 1 { print } END { print NR }' o9.tsv
	assert_output "ref	scope	n_pos	n_neg	auroc	auprc	head
5"
}

@test "computed attention (softmax and --raw, several row blocks, 2 threads): sklearn on the float64 matrix" {
	gen
	write_ref
	"$PY" -c "
import numpy as np
r = np.random.default_rng(9)
np.save('c_X.npy', r.standard_normal((60, 16)).astype('f4'))
for m in ('WQ', 'WK'): np.save(f'c_{m}.npy', (r.standard_normal((16, 16)) / 2).astype('f4'))"
	base=(--resid c_X.npy --wq c_WQ.npy --wk c_WK.npy --heads 2 --genes genes.txt --ref ref.tsv --ref-header yes --threads 2)
	AK_ATTN_BLOCK=8 ak attn-topk "${base[@]}" -o s.tsv
	AK_ATTN_BLOCK=8 ak attn-topk "${base[@]}" --raw --sources -o r.tsv
	AK_ATTN_BLOCK=8 ak attn-topk "${base[@]}" --per-head -o h.tsv
	printf '%s\n' "s.tsv c heads=2" "r.tsv c heads=2 raw sources" "h.tsv c heads=2 perhead" > cases
	run "$PY" aucref.py < cases
	echo "$output"
	assert_success
}

@test "tinyfm x TRRUST: per layer and per head, the same as sklearn over all 89,102 pairs" {
	need_data tinyfm/meta.tsv trrust_v2_human.tsv.gz
	T=$DATA/tinyfm
	ak attn-topk --model "$T" --category non-targeting --layers 3 --genes "$T/genes.txt" \
		--ref "$DATA/trrust_v2_human.tsv.gz" --ref-cols 1,2 --per-head --label layer=3 -o auc.tsv
	ak attn-topk --model "$T" --category non-targeting --layers 3 --genes "$T/genes.txt" --top 89102 -o all.tsv
	ak attn-topk --model "$T" --category non-targeting --layers 3 --genes "$T/genes.txt" \
		--ref "$DATA/trrust_v2_human.tsv.gz" --ref-cols 1,2 --sources -o src.tsv
	run "$PY" - "$DATA/trrust_v2_human.tsv.gz" <<'PY'
import sys, numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
tr = pd.read_csv(sys.argv[1], sep="\t", header=None)
edges = set(zip(tr[0], tr[1]))
a = pd.read_csv("all.tsv", sep="\t", float_precision="round_trip")
y = np.array([(f, t) in edges for f, t in zip(a["from"], a["to"])])
v = a["value"].to_numpy()
o = pd.read_csv("src.tsv", sep="\t")
srcs = set(a["from"][y])
ms = a["from"].isin(srcs).to_numpy()
print("all pairs", len(a), "positives", y.sum(), "sources", len(srcs))
print("sources: auroc", o.auroc[0], "sklearn", roc_auc_score(y[ms], v[ms]), "auprc", o.auprc[0], average_precision_score(y[ms], v[ms]))
assert abs(o.auroc[0] - roc_auc_score(y[ms], v[ms])) < 1e-12 and abs(o.auprc[0] - average_precision_score(y[ms], v[ms])) < 1e-12
h = pd.read_csv("auc.tsv", sep="\t")
assert list(h["head"]) == [0, 1, 2, 3] and (h["layer"] == 3).all() and (h["n_pos"] == y.sum()).all()
print(h.to_string())
PY
	echo "$output"
	assert_success
}

@test "bad: --ref without --genes, with --at; --sources without --ref; genes not in the reference" {
	gen
	run ak attn-topk --attn ties.npy --ref ref.tsv
	assert_failure 2
	assert_output --partial "--ref needs --genes"
	run ak attn-topk --attn ties.npy --genes genes.txt --ref ref.tsv --at ref.tsv
	assert_failure 2
	assert_output --partial "not with --at"
	run ak attn-topk --attn ties.npy --sources
	assert_failure 2
	assert_output --partial "--sources goes with --ref"
	sed 's/G/ENSG/g' genes.txt > ens.txt
	run ak attn-topk --attn ties.npy --genes ens.txt --ref ref.tsv --ref-header yes -o out.tsv
	assert_failure 1
	assert_output --partial "0 of 60"
	[ ! -e out.tsv ]
}

@test "many references in one pass: each row equals its own run; per-reference options (undirected, no header, positions)" {
	gen
	# ref2: no header, ids in columns 2 and 3, undirected
	"$PY" -c "
import numpy as np
r = np.random.default_rng(4)
with open('ref2.tsv', 'w') as f:
    for _ in range(80):
        a, b = r.integers(0, 60, 2)
        if a != b: f.write(f'0.5\tG{a}\tG{b}\n')"
	two=(--ref ref.tsv --ref-header yes --ref ref2.tsv --no-header --ref-cols 2,3 --undirected)
	ak attn-topk --attn heads.npy --per-head --genes genes.txt "${two[@]}" -o both.tsv
	ak attn-topk --attn heads.npy --per-head --genes genes.txt --ref ref.tsv --ref-header yes -o one.tsv
	ak attn-topk --attn heads.npy --per-head --genes genes.txt --ref ref2.tsv --no-header --ref-cols 2,3 --undirected -o two.tsv
	cat one.tsv <(tail -n +2 two.tsv) | cmp - both.tsv
	[ "$(wc -l < both.tsv)" -eq 9 ]
	# the undirected reference against sklearn: an edge matches both directions
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
A = np.load("heads.npy").astype(np.float64); n = A.shape[1]
Y = np.zeros((n, n), bool)
for line in open("ref2.tsv"):
    _, a, b = line.split(); Y[int(a[1:]), int(b[1:])] = Y[int(b[1:]), int(a[1:])] = True
m = ~np.eye(n, dtype=bool)
o = pd.read_csv("two.tsv", sep="\t")
for h in range(4):
    a, p = roc_auc_score(Y[m], A[h][m]), average_precision_score(Y[m], A[h][m])
    print(h, o.auroc[h], a, o.auprc[h], p)
    assert abs(o.auroc[h] - a) < 1e-12 and abs(o.auprc[h] - p) < 1e-12 and o.n_pos[h] == Y[m].sum()
PY
	echo "$output"
	assert_success
	run ak attn-topk --attn heads.npy --genes genes.txt "${two[@]}" --sources
	assert_failure 2
	assert_output --partial "--sources with several --ref"
}
