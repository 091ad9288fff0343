#!/usr/bin/env bats
# paired-test: Wilcoxon signed-rank (zsplit) and paired t against scipy 1.10
# on generated groups around the exact/normal switch (n = 1..60), with ties,
# zero differences, constant differences; bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "paired-test: equals scipy wilcoxon(zsplit) and ttest_rel on 1200 generated groups (p 1e-9)" {
	need_py scipy
	run "$PY" - <<'PY'
import subprocess, io, warnings
import numpy as np, pandas as pd
import warnings; warnings.simplefilter('ignore'); from scipy import stats
warnings.simplefilter("ignore")
rng = np.random.default_rng(4)
rows, kinds = [], {}
def add(kind, a, b):
    g = f"g{len(kinds)}"
    kinds[g] = kind
    rows.extend((g, repr(float(x)), repr(float(y))) for x, y in zip(a, b))
for n in range(1, 61):
    for rep in range(5):
        a = rng.standard_normal(n)
        add("cont", a, a - rng.standard_normal(n) * 0.5 - 0.3 * rep)          # no ties: exact if n <= 50
        add("ties", np.round(a, 0), np.round(a - rng.standard_normal(n), 0) + 0.5)  # ties, no zeros
        b = a.copy(); k = rng.integers(1, n + 1); b[:k] = a[:k] + rng.integers(-2, 3, k)
        add("zeros", a, b)                                                      # zero differences
        if rep == 0:
            add("allzero", a, a)
            add("const", a, a - 0.25)                                           # sd(d) = 0 exactly
            add("big", a * 1e6, a * 1e6 + rng.standard_normal(n))
df = pd.DataFrame(rows, columns=["grp", "a", "b"])
na = rng.random(len(df)) < 0.02
df.loc[na, "b"] = "NA"
df.to_csv("pairs.tsv", sep="\t", index=False)
p = subprocess.run(["paired-test", "--a", "a", "--b", "b", "--by", "grp", "pairs.tsv"],
                   capture_output=True, text=True)
assert p.returncode == 0, p.stderr
assert f"{int(na.sum())} rows with a missing value skipped" in p.stderr
o = pd.read_csv(io.StringIO(p.stdout), sep="\t", keep_default_na=False, dtype=str)
assert list(o.columns) == ["grp", "n", "mean_a", "mean_b", "mean_diff", "wilcoxon_stat", "wilcoxon_p",
                           "t_stat", "t_p", "cohen_d"]
assert list(o.grp) == list(kinds), "groups in first-appearance order"
d = df[df.b != "NA"].astype({"a": float, "b": float})
by = {k: v for k, v in d.groupby("grp", sort=False)}
num = lambda s: np.nan if s == "NA" else float(s)
def close(x, y, rel):
    if np.isnan(y): return np.isnan(x)
    if np.isinf(y): return x == y
    return abs(x - y) <= rel * max(abs(y), 1e-300) or abs(x - y) <= 1e-300
worst = {"wp": 0.0, "tp": 0.0}
modes = {"exact": 0, "approx": 0}
for r in o.itertuples():
    g = by.get(r.grp)
    n = 0 if g is None else len(g)
    assert int(r.n) == n, r.grp
    if n == 0:
        continue
    a, b = g.a.to_numpy(), g.b.to_numpy(); dd = a - b
    # means: numpy's pairwise summation reproduced bit for bit
    assert num(r.mean_a) == np.mean(a) and num(r.mean_b) == np.mean(b) and num(r.mean_diff) == np.mean(dd), r.grp
    ties = len(np.unique(np.abs(dd))) < n
    zeros = np.any(dd == 0)
    # scipy 1.10's 'auto' uses the exact distribution even with ties (it then
    # truncates R+); the documented rule is exact only without ties or zeros.
    method = "approx" if (ties and not zeros and n <= 50) else "auto"
    modes["exact" if (n <= 50 and not ties and not zeros) else "approx"] += 1
    w = stats.wilcoxon(a, b, zero_method="zsplit", method=method)
    assert num(r.wilcoxon_stat) == w.statistic, (r.grp, r.wilcoxon_stat, w.statistic)
    assert close(num(r.wilcoxon_p), w.pvalue, 1e-9), (r.grp, kinds[r.grp], r.wilcoxon_p, w.pvalue)
    worst["wp"] = max(worst["wp"], abs(num(r.wilcoxon_p) - w.pvalue) / max(w.pvalue, 1e-300))
    t = stats.ttest_rel(a, b)
    assert close(num(r.t_stat), t.statistic, 1e-12), (r.grp, r.t_stat, t.statistic)
    assert close(num(r.t_p), t.pvalue, 1e-9), (r.grp, kinds[r.grp], r.t_p, t.pvalue)
    if np.isfinite(t.pvalue) and t.pvalue > 0:
        worst["tp"] = max(worst["tp"], abs(num(r.t_p) - t.pvalue) / t.pvalue)
    sd = np.std(dd, ddof=1) if n > 1 else np.nan
    with np.errstate(all="ignore"):
        cd = np.mean(dd) / sd
    assert close(num(r.cohen_d), cd, 1e-12), (r.grp, r.cohen_d, cd)
assert modes["exact"] > 200 and modes["approx"] > 500, modes
print("ok", modes, "worst relative p error", worst)
PY
	assert_success
	assert_output --partial "ok"
}

@test "paired-test: t p-values in the far tail and for large df agree with scipy (relative 1e-9)" {
	need_py scipy
	run "$PY" - <<'PY'
import subprocess, io
import numpy as np, pandas as pd
import warnings; warnings.simplefilter('ignore'); from scipy import stats
rng = np.random.default_rng(9)
rows = []
specs = [(3, 5.0), (4, 20.0), (10, 3.0), (30, 1.5), (200, 0.8), (2000, 0.1), (5000, 0.2), (20000, 0.03)]
for i, (n, shift) in enumerate(specs):
    a = rng.standard_normal(n); b = a - shift - rng.standard_normal(n)
    rows += [(f"s{i}", repr(x), repr(y)) for x, y in zip(a, b)]
pd.DataFrame(rows, columns=["g", "a", "b"]).to_csv("tail.tsv", sep="\t", index=False)
out = subprocess.run("paired-test --a a --b b --by g tail.tsv", shell=True, capture_output=True,
                     text=True, check=True).stdout
o = pd.read_csv(io.StringIO(out), sep="\t", float_precision="round_trip")
d = pd.DataFrame(rows, columns=["g", "a", "b"]).astype({"a": float, "b": float})
for r in o.itertuples():
    g = d[d.g == r.g]
    # numpy's pairwise summation, also across its recursive halving (n > 128)
    assert r.mean_a == np.mean(g.a.to_numpy()) and r.mean_diff == np.mean(g.a.to_numpy() - g.b.to_numpy()), r.g
    t = stats.ttest_rel(g.a, g.b)
    w = stats.wilcoxon(g.a, g.b, zero_method="zsplit")
    assert abs(r.t_p - t.pvalue) <= 1e-9 * t.pvalue, (r.g, r.t_p, t.pvalue)
    assert abs(r.wilcoxon_p - w.pvalue) <= 1e-9 * w.pvalue, (r.g, r.wilcoxon_p, w.pvalue)
    print(r.g, r.n, r.t_p, t.pvalue)
print("ok")
PY
	assert_success
	assert_output --partial "ok"
}

@test "paired-test: scipy 1.10's 'auto' with ties (n <= 50) is the one documented difference" {
	need_py scipy
	# |d| has ties and no zeros: we use the normal approximation; scipy 1.10
	# takes the exact table with R+ truncated to an integer.
	printf 'a\tb\n1\t0\n2\t1\n3\t1\n4\t2\n5\t2\n6\t3\n7\t8\n8\t4\n' > t.tsv
	run ak paired-test --a a --b b t.tsv
	assert_success
	ours=$(echo "$output" | tail -1 | cut -f6)
	run "$PY" -c "
import warnings; warnings.simplefilter('ignore'); from scipy import stats
a = list(range(1, 9)); b = [0, 1, 1, 2, 2, 3, 8, 4]
ap = stats.wilcoxon(a, b, zero_method='zsplit', method='approx').pvalue
au = stats.wilcoxon(a, b, zero_method='zsplit').pvalue
assert abs($ours - ap) < 1e-12 and abs($ours - au) > 1e-4, ($ours, ap, au)
print('ok')"
	assert_output ok
}

@test "paired-test --corr: Pearson, Spearman (scipy) and partial correlation (numpy lstsq residuals, statsmodels OLS t) per group" {
	need_py statsmodels
	# groups: n = 2..40, ties (integer values), a binary column (reference
	# membership), one and two controls, constant columns, perfect correlation
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(11)
rows = ["g\ta\tb\tc1\tc2"]
for gi in range(160):
    n = [2, 3, 4, 5, 8, 12, 40][gi % 7]
    c1, c2 = rng.standard_normal(n), rng.integers(0, 4, n).astype(float)
    a = c1 + rng.standard_normal(n) * (gi % 3)
    b = (rng.random(n) < 0.3).astype(float) if gi % 4 == 0 else np.round(a + c1 * 0.5 + rng.standard_normal(n), gi % 2)
    if gi == 5: b = 2 * a + 1            # perfect
    if gi == 6: b = np.full(n, 3.0)      # constant
    rows += [f"G{gi}\t{x!r}\t{y!r}\t{u!r}\t{v!r}" for x, y, u, v in zip(a, b, c1, c2)]
open("c.tsv", "w").write("\n".join(rows) + "\n")
PY
	ak paired-test --corr --a a --b b --by g c.tsv > plain.tsv
	ak paired-test --corr --a a --b b --by g --control c1 c.tsv > one.tsv
	ak paired-test --corr --a a --b b --by g --control c1,c2 c.tsv > two.tsv
	run "$PY" - <<'PY'
import numpy as np, pandas as pd, warnings
import statsmodels.api as sm
from scipy.stats import pearsonr, spearmanr
warnings.simplefilter("ignore")
d = pd.read_csv("c.tsv", sep="\t")
bad, checked = [], 0
def close(x, y, what, tol=1e-9):
    global checked
    if (np.isnan(x) and np.isnan(y)) or abs(x - y) <= tol * max(1e-300, abs(y)) or abs(x - y) <= 1e-14:
        checked += 1
        return
    bad.append(f"{what}: {x} vs {y}")
for f, ctl in (("plain.tsv", []), ("one.tsv", ["c1"]), ("two.tsv", ["c1", "c2"])):
    o = pd.read_csv(f, sep="\t").set_index("g")
    for g, x in d.groupby("g", sort=False):
        r = o.loc[g]
        a, b = x.a.to_numpy(), x.b.to_numpy()
        n = len(x)
        assert r.n == n
        const = np.ptp(a) == 0 or np.ptp(b) == 0
        pr, pp = (np.nan, np.nan) if const or n < 2 else pearsonr(a, b)
        sr, sp = (np.nan, np.nan) if const or n < 2 else spearmanr(a, b)
        if n < 3: pp = sp = np.nan
        close(r.pearson_r, pr, f"{f} {g} pearson_r", 1e-12)
        close(r.pearson_p, pp, f"{f} {g} pearson_p")
        close(r.spearman_rho, sr, f"{f} {g} spearman_rho", 1e-12)
        close(r.spearman_p, sp, f"{f} {g} spearman_p")
        if not ctl: continue
        k = len(ctl)
        if n <= k + 2 or const:
            if not np.isnan(r.partial_r) and not const: bad.append(f"{f} {g}: partial with n {n}")
            continue
        Z = np.column_stack([np.ones(n)] + [x[c].to_numpy() for c in ctl])
        res = lambda y: y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
        ea, eb = res(a), res(b)
        if np.ptp(ea) < 1e-12 or np.ptp(eb) < 1e-12:
            continue
        pc = np.corrcoef(ea, eb)[0, 1]
        close(r.partial_r, pc, f"{f} {g} partial_r", 1e-9)
        # statsmodels: the t of b in OLS a ~ 1 + b + controls is the partial correlation's t (df n-2-k)
        fit = sm.OLS(a, np.column_stack([Z, b])).fit()
        close(r.partial_p, fit.pvalues[-1], f"{f} {g} partial_p", 1e-6)
        close(r.share, pc / pr, f"{f} {g} share", 1e-9)
print("\n".join(bad)); print("checked", checked)
PY
	echo "$output"
	assert_success
	assert_line --regexp '^checked [0-9]{4}'
	refute_output --partial ":"
	# a binary reference column: the point-biserial correlation; perfect: rho 1, p 0
	run awk -F'\t' '$1 == "G5" { print $3, $4, $5, $6 }' plain.tsv
	assert_output "1 0 1 0"
	run ak paired-test --a a --b b --control c1 c.tsv
	assert_failure 2
	run ak paired-test --corr --a a --b b --control nope c.tsv
	assert_failure 1
}

@test "paired-test: file, stdin, gzip and -o agree; small cases by hand" {
	printf 'g\ta\tb\nx\t1\t2\nx\t3\t1\nx\t5\t2.5\nx\t2\t2\ny\t1\t1\nz\tNA\t1\n' > p.tsv
	ak paired-test --a a --b b --by g p.tsv > f.out 2>/dev/null
	ak paired-test --a a --b b --by g < p.tsv > s.out 2>/dev/null
	gzip -c p.tsv > p.tsv.gz
	ak paired-test --a a --b b --by g - < p.tsv.gz > z.out 2>/dev/null
	ak paired-test --a a --b b --by g -o o.tsv.gz p.tsv.gz 2>/dev/null
	cmp f.out s.out
	cmp f.out z.out
	zcat o.tsv.gz | cmp - f.out
	run cat f.out
	# d = -1, 2, 2.5, 0: zero split, R+ = 2 + 3 + 0.5, R- = 2 + 0.5
	assert_line --index 1 --partial "x	4	2.75	1.875	0.875	2.5	"
	# one pair: no t-test; the only difference is zero
	assert_line --index 2 "y	1	1	1	0	0.5	1	NA	NA	NA"
	# a group with no complete pair is still reported
	assert_line --index 3 "z	0	NA	NA	NA	NA	NA	NA	NA	NA"
}

@test "bad: empty, header only, missing column, ragged, non-numeric, inf; no -o file left" {
	: > e.tsv
	run ak paired-test --a a --b b -o out.tsv e.tsv
	assert_data_error "e.tsv: empty input"
	[ ! -e out.tsv ]
	printf 'a\tb\n' > h.tsv
	run ak paired-test --a a --b b h.tsv
	assert_data_error "h.tsv: header only, no data rows"
	printf 'a\tc\n1\t2\n' > m.tsv
	run ak paired-test --a a --b b m.tsv
	assert_data_error "m.tsv: no column 'b' (columns: a, c)"
	printf 'a\tb\n1\t2\n3\n' > r.tsv
	run ak paired-test --a a --b b -o out.tsv r.tsv
	assert_data_error "r.tsv:3: expected 2 fields, found 1"
	[ ! -e out.tsv ]
	printf 'a\tb\n1\t2\n3\tx\n' > x.tsv
	run ak paired-test --a a --b b x.tsv
	assert_data_error "x.tsv:3: column 'b': \"x\" is not a number"
	printf 'a\tb\n1\t2\n-inf\t1\n' > i.tsv
	run ak paired-test --a a --b b i.tsv
	assert_data_error "i.tsv:3: column 'a': \"-inf\" is not a finite number"
}

@test "usage errors exit 2; --help exits 0" {
	run ak paired-test --help
	assert_success
	assert_output --partial "usage: paired-test"
	run ak paired-test --a a
	assert_failure 2
	run ak paired-test --a a --b b x y
	assert_failure 2
}
