#!/usr/bin/env bats
# bh-fdr: q-values against statsmodels' multipletests (fdr_bh, fdr_by) per
# family on generated registries (ties, p = 0 and 1, NA), row order, bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "bh-fdr: q equals statsmodels multipletests fdr_bh and fdr_by on 600 families (1e-12), rows kept in order" {
	need_py statsmodels
	run "$PY" - <<'PY'
import subprocess, io, warnings
import numpy as np, pandas as pd
from statsmodels.stats.multitest import multipletests
try:
    from scipy.stats import false_discovery_control as fdc   # scipy >= 1.11 only
except ImportError:
    fdc = None
rng = np.random.default_rng(2)
fams, ps = [], []
for f in range(600):
    m = int(rng.integers(1, 120))
    kind = f % 4
    if kind == 0: p = rng.random(m)
    elif kind == 1: p = rng.integers(0, 6, m) / 5          # heavy ties, exact 0 and 1
    elif kind == 2: p = np.minimum(1, rng.random(m) ** 4)   # many small
    else: p = np.r_[np.zeros(m // 3), np.ones(m // 3), rng.random(m - 2 * (m // 3)) * 1e-8]
    fams += [f"f{f}"] * m
    ps += list(p)
df = pd.DataFrame({"id": np.arange(len(ps)), "fam": fams, "p": [repr(float(x)) for x in ps]})
df = df.sample(frac=1, random_state=1).reset_index(drop=True)   # families interleaved
na = rng.random(len(df)) < 0.05
df.loc[na, "p"] = rng.choice(["NA", "", "nan"], na.sum())
df.to_csv("reg.tsv", sep="\t", index=False)
worst = 0.0
for method, sm in (("bh", "fdr_bh"), ("by", "fdr_by")):
    out = subprocess.run(["bh-fdr", "--p", "p", "--by", "fam", "--method", method, "--alpha", "0.1",
                          "reg.tsv"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    o = pd.read_csv(io.StringIO(out.stdout), sep="\t", keep_default_na=False, dtype=str)
    assert list(o.columns) == ["id", "fam", "p", "q", "significant"]
    inp = pd.read_csv("reg.tsv", sep="\t", keep_default_na=False, dtype=str)
    assert o[["id", "fam", "p"]].equals(inp), "rows changed or reordered"
    o["pn"] = o.p.replace({"": None, "NA": None, "nan": None}).astype(float)
    assert ((o.q == "NA") == o.pn.isna()).all() and ((o.significant == "NA") == o.pn.isna()).all()
    for fam, g in o[o.pn.notna()].groupby("fam"):
        rej, q, _, _ = multipletests(g.pn.to_numpy(), alpha=0.1, method=sm)
        ours = g.q.astype(float).to_numpy()
        worst = max(worst, np.max(np.abs(ours - q)))
        assert np.all(np.abs(ours - q) <= 1e-12), (method, fam, ours, q)
        assert np.array_equal(g.significant.to_numpy() == "1", q <= 0.1), (method, fam)
        # statsmodels' reject agrees except exactly at the boundary
        assert np.array_equal(rej, q <= 0.1) or np.any(np.isclose(q, 0.1)), (method, fam)
        if fdc is not None:
            assert np.allclose(ours, fdc(g.pn.to_numpy(), method=method), rtol=0, atol=1e-12)
        # independent formula: q_(i) = min_{j>=i} min(1, m c p_(j) / j)
        p = g.pn.to_numpy(); m = len(p); o_ = np.argsort(p, kind="stable")
        c = np.sum(1 / np.arange(1, m + 1)) if method == "by" else 1.0
        qi = np.empty(m); qi[o_] = np.minimum(1, np.minimum.accumulate((m * c * p[o_] / np.arange(1, m + 1))[::-1])[::-1])
        assert np.allclose(ours, qi, rtol=1e-13, atol=0), (method, fam)
print("ok worst", worst, "scipy false_discovery_control:", "checked" if fdc else "absent (scipy < 1.11)")
PY
	assert_success
	assert_output --partial "ok worst"
}

@test "bh-fdr: without --by one family; file, stdin, gzip in and out agree; p = 0 and 1" {
	printf 'id\tp\na\t0.01\nb\t0.04\nc\tNA\nd\t0.03\ne\t1\nf\t0\n' > p.tsv
	ak bh-fdr --p p p.tsv > f.out
	ak bh-fdr --p p < p.tsv > s.out
	gzip -c p.tsv > p.tsv.gz
	ak bh-fdr --p p - < p.tsv.gz > z.out
	ak bh-fdr --p p -o o.tsv.gz p.tsv.gz
	cmp f.out s.out
	cmp f.out z.out
	zcat o.tsv.gz | cmp - f.out
	# m = 5 non-missing: sorted 0, .01, .03, .04, 1 -> 0, .025, .05, .05, 1, in
	# statsmodels' arithmetic p / (j/m): .01/.4 and .04/.8 round below
	run cat f.out
	assert_line --index 0 "id	p	q	significant"
	assert_line --index 1 "a	0.01	0.024999999999999998	1"
	assert_line --index 2 "b	0.04	0.049999999999999996	1"
	assert_line --index 3 "c	NA	NA	NA"
	assert_line --index 4 "d	0.03	0.049999999999999996	1"
	assert_line --index 5 "e	1	1	0"
	assert_line --index 6 "f	0	0	1"
}

@test "bh-fdr: CRLF input, a family of one, --alpha" {
	printf 'p\tg\r\n0.2\tx\r\n0.01\ty\r\n0.04\ty\r\n' > c.tsv
	run ak bh-fdr --p p --by g --alpha 0.3 c.tsv
	assert_success
	assert_line --index 1 "0.2	x	0.2	1"
	assert_line --index 2 "0.01	y	0.02	1"
	assert_line --index 3 "0.04	y	0.04	1"
}

@test "bad: empty, header only, missing column, ragged, non-numeric, p outside [0,1], existing q; no -o file left" {
	: > e.tsv
	run ak bh-fdr --p p -o out.tsv e.tsv
	assert_data_error "e.tsv: empty input"
	[ ! -e out.tsv ]
	printf 'p\n' > h.tsv
	run ak bh-fdr --p p h.tsv
	assert_data_error "h.tsv: header only, no data rows"
	printf 'pval\tg\n0.1\ta\n' > m.tsv
	run ak bh-fdr --p p m.tsv
	assert_data_error "m.tsv: no column 'p' (columns: pval, g)"
	run ak bh-fdr --p pval --by fam m.tsv
	assert_data_error "m.tsv: no column 'fam' (columns: pval, g)"
	printf 'p\tg\n0.1\ta\n0.2\n' > r.tsv
	run ak bh-fdr --p p -o out.tsv r.tsv
	assert_data_error "r.tsv:3: expected 2 fields, found 1"
	[ ! -e out.tsv ]
	printf 'p\n0.1\nabc\n' > x.tsv
	run ak bh-fdr --p p x.tsv
	assert_data_error "x.tsv:3: column 'p': \"abc\" is not a number"
	printf 'p\n0.1\n1.5\n' > o.tsv
	run ak bh-fdr --p p o.tsv
	assert_data_error "o.tsv:3: column 'p': \"1.5\" is not a p-value in [0, 1]"
	printf 'p\n-inf\n' > i.tsv
	run ak bh-fdr --p p i.tsv
	assert_data_error "i.tsv:2: column 'p': \"-inf\" is not a p-value in [0, 1]"
	printf 'p\tq\n0.1\t0.2\n' > q.tsv
	run ak bh-fdr --p p q.tsv
	assert_data_error "q.tsv:1: the input already has a column 'q'"
}

@test "usage errors exit 2; --help exits 0" {
	run ak bh-fdr --help
	assert_success
	assert_output --partial "usage: bh-fdr"
	run ak bh-fdr
	assert_failure 2
	run ak bh-fdr --p p --method holm
	assert_failure 2
	assert_output --partial "--method: unknown method 'holm' (bh, by)"
	run ak bh-fdr --p p --alpha 0
	assert_failure 2
}

@test "-o to a FIFO writes through it and leaves it a FIFO (no rename over a device)" {
	printf 'p\n0.5\n' > p.tsv
	mkfifo out.fifo
	# both sides give up after 10 s, so a regression fails instead of hanging
	timeout 10 cat out.fifo > got.txt &
	reader=$!
	run timeout 10 "$BIN/bh-fdr" --p p -o out.fifo p.tsv
	assert_success
	wait "$reader"
	[ -p out.fifo ]
	run cat got.txt
	assert_line --index 1 "0.5	0.5	0"
}
