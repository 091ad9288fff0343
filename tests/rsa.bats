#!/usr/bin/env bats
# rsa: Spearman of cosine-similarity upper triangles against
# scipy.stats.spearmanr on numpy cosine matrices; --sample; real residual
# streams of tinyfm; bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# Three related inputs with ties: identical gene rows (their cosines with every
# other gene tie exactly, in any correct floating-point evaluation; exact ties
# of different rows, e.g. from integer data, would be split or merged by
# rounding noise differently in numpy and here).
gen() { # n d
	"$PY" - "$@" <<'PY'
import sys, numpy as np
n, d = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(5)
base = rng.standard_normal((n, d))
for l in range(3):
    x = base + rng.standard_normal((n, d)) * (0.5 + l)
    x[3] = x[9]
    if l == 2:
        x[20:40] = x[0:20]  # many tie groups
        x[40:45] = x[45]    # a tie group of six, and cosines of exactly 1
    np.save(f"L{l}.npy", x.astype(np.float32))
PY
}

# scipy on float64 cosines (numpy), optionally rounded to float32 first (rsa
# ranks float32-rounded cosines); compares every output row.
check() { # tol round32 files...
	"$PY" - "$@" <<'PY'
import sys, numpy as np, pandas as pd
from scipy import stats
tol, r32, files = float(sys.argv[1]), sys.argv[2] == "1", sys.argv[3:]
out = pd.read_csv("out.tsv", sep="\t", float_precision="round_trip")
cs = {}
for f in files:
    x = np.load(f).astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    c = (x @ x.T)[np.triu_indices(len(x), 1)]
    cs[f] = c.astype(np.float32) if r32 else c
worst, k = 0, 0
for i, a in enumerate(files):
    for b in files[i + 1:]:
        r = out.iloc[k]; k += 1
        assert (r.a, r.b, r.n_pairs) == (a, b, len(cs[a])), (r, a, b)
        rho = stats.spearmanr(cs[a], cs[b]).correlation
        worst = max(worst, abs(r.spearman - rho))
assert k == len(out) and worst <= tol, (k, len(out), worst)
print("ok", k, worst)
PY
}

@test "rsa --help prints usage and exits 0" {
	run ak rsa --help
	assert_success
	assert_output --partial "usage: rsa"
}

@test "rsa: matches scipy.stats.spearmanr on cosine upper triangles (ties included)" {
	need_py scipy
	gen 400 24
	ak rsa L0.npy L1.npy L2.npy > out.tsv
	head -1 out.tsv | grep -qx $'a\tb\tn_pairs\tspearman'
	# exactly scipy on the float32-rounded cosines (what rsa ranks), and
	# within 1e-7 of scipy on the float64 cosines
	run check 1e-12 1 L0.npy L1.npy L2.npy
	assert_success
	assert_output --partial "ok 3"
	run check 1e-7 0 L0.npy L1.npy L2.npy
	assert_success
}

@test "rsa: --label names, stdin, gzipped input and .akm give the same numbers" {
	need_py numpy
	gen 60 8
	ak rsa --label l0 --label l1 --label l2 L0.npy L1.npy L2.npy > a.tsv
	assert_equal "$(cut -f 1,2 a.tsv | tr '\t\n' ' ;')" "a b;l0 l1;l0 l2;l1 l2;"
	gzip -c L1.npy > L1.npy.gz
	ak mat convert L2.npy L2.akm.gz
	ak rsa --label l0 --label l1 --label l2 L0.npy - L2.akm.gz < L1.npy.gz > b.tsv
	cmp a.tsv b.tsv
}

@test "rsa: output bytes do not depend on the OpenBLAS thread count" {
	need_py numpy
	gen 700 40
	OPENBLAS_NUM_THREADS=1 ak rsa L0.npy L1.npy L2.npy > t1.tsv
	OPENBLAS_NUM_THREADS=2 ak rsa L0.npy L1.npy L2.npy > t2.tsv
	OPENBLAS_NUM_THREADS=3 ak rsa L0.npy L1.npy L2.npy > t3.tsv
	cmp t1.tsv t2.tsv
	cmp t1.tsv t3.tsv
}

@test "rsa --sample: M >= all pairs is exact; fixed seed fixed bytes; deviation small at M = 20000" {
	need_py scipy
	gen 400 24
	ak rsa L0.npy L1.npy L2.npy > exact.tsv
	ak rsa --sample 79800 L0.npy L1.npy L2.npy > s.tsv
	cmp exact.tsv s.tsv
	ak rsa --sample 20000 --seed 3 -o s1.tsv L0.npy L1.npy L2.npy
	ak rsa --sample 20000 --seed 3 -o s2.tsv L0.npy L1.npy L2.npy
	ak rsa --sample 20000 --seed 4 -o s3.tsv L0.npy L1.npy L2.npy
	cmp s1.tsv s2.tsv
	! cmp -s s1.tsv s3.tsv
	run "$PY" -c "
import pandas as pd
e = pd.read_csv('exact.tsv', sep='\t'); s = pd.read_csv('s1.tsv', sep='\t')
assert (s.n_pairs == 20000).all()
d = (e.spearman - s.spearman).abs().max()
# sd of a Spearman estimate from 20000 pairs is below 1/sqrt(20000) = 0.007
assert 0 < d < 0.03, d
print('ok', d)"
	assert_success
}

@test "rsa: real residual streams (tinyfm, 4 layers, 299 genes) match scipy" {
	need_py scipy
	need_data tinyfm/resid/non-targeting/layer0.npy
	for l in 0 1 2 3; do cp "$DATA/tinyfm/resid/non-targeting/layer$l.npy" "l$l.npy"; done
	ak rsa l0.npy l1.npy l2.npy l3.npy > out.tsv
	run check 1e-12 1 l0.npy l1.npy l2.npy l3.npy
	assert_success
	assert_output --partial "ok 6"
	run check 1e-6 0 l0.npy l1.npy l2.npy l3.npy
	assert_success
}

@test "rsa: the man page's worked example gives the numbers derived by hand" {
	cp "$TOP"/examples/rsa_l*.tsv .
	run ak rsa rsa_l0.tsv rsa_l1.tsv
	assert_success
	assert_line --index 1 $'rsa_l0.tsv\trsa_l1.tsv\t3\t-0.5'
}

@test "rsa: bad input exits 1 naming the problem; no output file left behind" {
	need_py numpy
	"$PY" -c "
import numpy as np
np.save('a.npy', np.ones((5, 3), 'f4') + np.eye(5, 3, dtype='f4'))
np.save('b.npy', np.ones((6, 3), 'f4'))
x = np.ones((5, 3), 'f4'); x[2, 1] = np.nan; np.save('nan.npy', x)
x = np.ones((5, 3), 'f4'); x[4, 0] = np.inf; np.save('inf.npy', x)
x = np.ones((5, 3), 'f4'); x[1] = 0; np.save('zero.npy', x)
np.save('v.npy', np.ones(5, 'f4'))
np.save('one.npy', np.ones((1, 3), 'f4'))"
	run ak rsa -o o.tsv a.npy b.npy
	assert_data_error "b.npy: 6 genes (rows), but a.npy has 5: inputs must hold the same genes"
	[ ! -e o.tsv ]
	run ak rsa a.npy nan.npy
	assert_data_error "nan.npy"
	assert_output --partial "nan"
	run ak rsa inf.npy a.npy
	assert_data_error "inf.npy"
	run ak rsa a.npy zero.npy
	assert_data_error "zero.npy: row 2 (gene 1) is all zeros"
	run ak rsa a.npy v.npy
	assert_data_error "v.npy: expected a genes x d matrix, found 1 dimension"
	run ak rsa one.npy one.npy
	assert_data_error "need at least 2"
	printf '' > empty.npy
	run ak rsa a.npy empty.npy
	assert_failure 1
	assert_output --partial "empty.npy"
	run ak rsa --max-mem 0.0000001 a.npy a.npy
	assert_data_error "use --sample M"
}

@test "rsa: usage errors exit 2" {
	run ak rsa a.npy
	assert_failure 2
	assert_output --partial "need at least two inputs"
	run ak rsa --label x a.npy b.npy
	assert_failure 2
	assert_output --partial "1 --label for 2 inputs"
	run ak rsa --sample 1 a.npy b.npy
	assert_failure 2
}
