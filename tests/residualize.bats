#!/usr/bin/env bats
# residualize: cross-fitted OLS against numpy least squares on the same folds
# (the fold column makes that possible), fold rules, NA rows, bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(6)
n = 400
x1, x2 = rng.standard_normal(n) * 3 + 10, rng.exponential(size=n)
y = 1 + 0.5 * x1 - 2 * x2 + rng.standard_normal(n)
g = rng.integers(0, 37, n)
with open("r.tsv", "w") as f:
    f.write("id\ty\tx1\tx2\tx3\tconst\tg\n")
    for i in range(n):
        yv = "NA" if i % 53 == 7 else repr(y[i])
        x2v = "" if i % 61 == 3 else repr(x2[i])
        # x3 = 2 x1 exactly (collinear), const = 5
        f.write(f"r{i}\t{yv}\t{x1[i]!r}\t{x2v}\t{2 * x1[i]!r}\t5\tG{g[i]}\n")
PY
}

@test "residualize: fitted values equal numpy lstsq refits on the same folds (random and grouped folds)" {
	need_py numpy
	gen
	ak residualize --y y --x x1,x2 --folds 5 --seed 3 r.tsv > a.tsv 2> a.err
	ak residualize --y y --x x1,x2 --folds 4 --group g r.tsv > b.tsv 2> b.err
	ak residualize --y y --x x1,x2,x3,const --folds 5 --seed 3 r.tsv > c.tsv 2> c.err
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
def check(f, K, group=None):
    o = pd.read_csv(f, sep="\t", keep_default_na=False, dtype=str)
    assert list(o.columns[-3:]) == ["fitted", "residual", "fold"]
    bad = (o.y == "NA") | (o.x2 == "")
    assert (o.loc[bad, ["fitted", "residual", "fold"]] == "NA").all().all()
    d = o[~bad].astype({"y": float, "x1": float, "x2": float, "fitted": float, "residual": float, "fold": int})
    assert sorted(d.fold.unique()) == list(range(K))
    X, y = d[["x1", "x2"]].to_numpy(), d.y.to_numpy()
    worst = 0
    for k in range(K):
        tr, te = (d.fold != k).to_numpy(), (d.fold == k).to_numpy()
        mu, sd = X[tr].mean(0), X[tr].std(0)
        A = np.c_[np.ones(tr.sum()), (X[tr] - mu) / sd]
        b = np.linalg.lstsq(A, y[tr], rcond=None)[0]
        pred = np.c_[np.ones(te.sum()), (X[te] - mu) / sd] @ b
        worst = max(worst, np.max(np.abs(pred - d.fitted.to_numpy()[te])))
    assert worst < 1e-10, (f, worst)
    assert np.array_equal(d.residual.to_numpy(), y - d.fitted.to_numpy())
    if group:
        assert (d.groupby(group).fold.nunique() == 1).all(), "a group split across folds"
    else:
        sizes = d.fold.value_counts()
        assert sizes.max() - sizes.min() <= 1, sizes
    return d
a = check("a.tsv", 5)
check("b.tsv", 4, "g")
# collinear and constant covariates: minimum-norm fit, same predictions
c = pd.read_csv("c.tsv", sep="\t", keep_default_na=False, dtype=str)
fa = pd.read_csv("a.tsv", sep="\t", keep_default_na=False, dtype=str)
m = fa.fitted != "NA"
assert np.allclose(c.fitted[m].astype(float), fa.fitted[m].astype(float), rtol=0, atol=1e-9)
print("ok")
PY
	assert_success
	assert_output ok
	run cat a.err
	assert_line --index 0 --regexp "^residualize: fold 0: [0-9]+ training rows, [0-9]+ held out, held-out R\^2 0\.[0-9]+$"
	run cat c.err
	assert_output --partial "collinear covariates: minimum-norm fit"
}

@test "residualize: deterministic with --seed, different seeds differ; stdin, gzip, -o" {
	need_py numpy
	gen
	ak residualize --y y --x x1,x2 --seed 9 r.tsv > a.tsv 2>/dev/null
	ak residualize --y y --x x1,x2 --seed 9 < r.tsv > b.tsv 2>/dev/null
	gzip -c r.tsv > r.tsv.gz
	ak residualize --y y --x x1,x2 --seed 9 -o c.tsv.gz - < r.tsv.gz 2>/dev/null
	ak residualize --y y --x x1,x2 --seed 10 r.tsv > d.tsv 2>/dev/null
	cmp a.tsv b.tsv
	zcat c.tsv.gz | cmp - a.tsv
	! cmp -s a.tsv d.tsv
	# input rows pass through unchanged and in order
	diff <(cut -f1-7 a.tsv) r.tsv
}

@test "bad: empty, header only, missing column, non-numeric, inf, too few groups, existing fold column" {
	: > e.tsv
	run ak residualize --y y --x a -o out.tsv e.tsv
	assert_data_error "e.tsv: empty input"
	[ ! -e out.tsv ]
	printf 'y\ta\n' > h.tsv
	run ak residualize --y y --x a h.tsv
	assert_data_error "h.tsv: header only, no data rows"
	printf 'y\ta\n1\t2\n' > m.tsv
	run ak residualize --y y --x a,b m.tsv
	assert_data_error "m.tsv: no column 'b' (columns: y, a)"
	printf 'y\ta\n1\t2\n2\tzz\n' > x.tsv
	run ak residualize --y y --x a -o out.tsv x.tsv
	assert_data_error "x.tsv:3: column 'a': \"zz\" is not a number"
	[ ! -e out.tsv ]
	printf 'y\ta\n1\t2\ninf\t3\n' > i.tsv
	run ak residualize --y y --x a i.tsv
	assert_data_error "i.tsv:3: column 'y': \"inf\" is not a finite number"
	printf 'y\ta\tg\n1\t2\tu\n2\t3\tu\n3\t1\tv\n4\t5\tv\n' > g.tsv
	run ak residualize --y y --x a --group g --folds 3 g.tsv
	assert_data_error "g.tsv: column 'g' has 2 groups, fewer than 3 folds"
	printf 'y\ta\n1\t2\n2\t3\n' > s.tsv
	run ak residualize --y y --x a --folds 3 s.tsv
	assert_data_error "s.tsv: 2 complete rows, fewer than 3 folds"
	printf 'y\ta\tfold\n1\t2\t0\n' > f.tsv
	run ak residualize --y y --x a f.tsv
	assert_data_error "f.tsv:1: the input already has a column 'fold'"
}

@test "usage errors exit 2; --help exits 0" {
	run ak residualize --help
	assert_success
	assert_output --partial "usage: residualize"
	run ak residualize --y y
	assert_failure 2
	run ak residualize --y y --x a --folds 1
	assert_failure 2
	run ak residualize --y y --x a --seed 1 --group g
	assert_failure 2
	assert_output --partial "--seed and --group exclude each other"
}
