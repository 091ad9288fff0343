#!/usr/bin/env bats
# auroc: AUROC / average precision per group against scikit-learn on many
# generated groups (ties, all-equal scores, single-class groups, NA scores),
# precision at k, bootstrap and permutation, and bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# Many groups in one file; one python run generates, calls auroc and checks.
@test "auroc: AUROC and AUPRC equal scikit-learn's on 1500 generated groups (1e-12)" {
	need_py sklearn
	run "$PY" - <<'PY'
import subprocess, io, warnings
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
warnings.simplefilter("ignore")
rng = np.random.default_rng(11)
rows = []
kinds = {}
g = 0
def add(kind, s, y):
    global g
    for si, yi in zip(s, y):
        rows.append((f"g{g}", kind, si, int(yi)))
    kinds[f"g{g}"] = kind
    g += 1
for rep in range(300):
    n = int(rng.integers(1, 61))
    y = rng.integers(0, 2, n)
    add("cont", rng.standard_normal(n) + 0.7 * y, y)                       # no ties
    add("ties", rng.integers(0, 4, n).astype(float) + (y * rng.integers(0, 2, n)), y)  # heavy ties
    add("equal", np.full(n, 0.25), y)                                      # all equal
    add("tiny", np.round(rng.standard_normal(n), 1), y)                     # some ties, -0.0 vs 0.0
    m = int(rng.integers(60, 400))
    y2 = (rng.random(m) < rng.uniform(0.02, 0.5)).astype(int)
    add("big", np.round(rng.standard_normal(m) + y2, 2), y2)
# negative zero and positive zero are the same score
add("zeros", np.array([-0.0, 0.0, -0.0, 0.0, 1.0, -1.0]), np.array([1, 0, 0, 1, 1, 0]))
df = pd.DataFrame(rows, columns=["grp", "kind", "score", "label"])
df["score"] = df["score"].map(repr)
# sprinkle NA scores: skipped, and counted on stderr
na = rng.random(len(df)) < 0.03
df.loc[na, "score"] = "NA"
df.to_csv("cases.tsv", sep="\t", index=False)
p = subprocess.run(["auroc", "--score", "score", "--label", "label", "--by", "grp,kind",
                    "--min-pos", "1", "--min-neg", "1", "cases.tsv"], capture_output=True, text=True)
assert p.returncode == 0, p.stderr
assert f"{int(na.sum())} rows with NA score skipped" in p.stderr, p.stderr
out = pd.read_csv(io.StringIO(p.stdout), sep="\t", keep_default_na=False, dtype=str)
assert list(out.columns) == ["grp", "kind", "n_pos", "n_neg", "auroc", "auprc"], list(out.columns)
# groups in first-appearance order, none dropped
assert list(out["grp"]) == list(dict.fromkeys(df["grp"])), "group order"
d = df[df.score != "NA"].copy()
d["score"] = d["score"].astype(float)
worst = 0.0
checked = na_groups = 0
by = {k: (v["label"].to_numpy(), v["score"].to_numpy()) for k, v in d.groupby("grp", sort=False)}
for r in out.itertuples():
    gname = r.grp
    y, s = by.get(gname, (np.zeros(0, int), np.zeros(0)))
    assert int(r.n_pos) == int(y.sum()) and int(r.n_neg) == int(len(y) - y.sum()), gname
    if y.sum() == 0 or y.sum() == len(y):
        assert r.auroc == "NA" and r.auprc == "NA", (gname, r.auroc)
        na_groups += 1
        continue
    a, ap = roc_auc_score(y, s), average_precision_score(y, s)
    worst = max(worst, abs(float(r.auroc) - a), abs(float(r.auprc) - ap))
    assert abs(float(r.auroc) - a) <= 1e-12, (gname, r.auroc, a)
    assert abs(float(r.auprc) - ap) <= 1e-12, (gname, r.auprc, ap)
    checked += 1
assert checked > 1200 and na_groups > 10, (checked, na_groups)
print("checked", checked, "single-class", na_groups, "worst", worst)
PY
	assert_success
	assert_output --partial "checked"
}

@test "auroc: --ascending equals scikit-learn on the negated score; --min-pos/--min-neg give NA, not a dropped group" {
	need_py sklearn
	run "$PY" - <<'PY'
import subprocess, io
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
rng = np.random.default_rng(5)
n = 500
df = pd.DataFrame({"p": rng.integers(0, 50, n) / 50, "y": rng.integers(0, 2, n),
                   "g": rng.choice(["a", "b", "c"], n)})
df.loc[df.g == "c", "y"] = 0
df.loc[df.index[df.g == "c"][:2], "y"] = 1      # group c: 2 positives
df.to_csv("x.tsv", sep="\t", index=False)
out = subprocess.run("auroc --score p --label y --by g --ascending x.tsv", shell=True,
                     capture_output=True, text=True, check=True).stdout
o = pd.read_csv(io.StringIO(out), sep="\t", keep_default_na=False, dtype=str).set_index("g")
assert list(o.index) == ["a", "b", "c"] or sorted(o.index) == ["a", "b", "c"]
for k in ["a", "b"]:
    s = df[df.g == k]
    assert abs(float(o.loc[k, "auroc"]) - roc_auc_score(s.y, -s.p)) <= 1e-12
    assert abs(float(o.loc[k, "auprc"]) - average_precision_score(s.y, -s.p)) <= 1e-12
assert o.loc["c", "n_pos"] == "2" and o.loc["c", "auroc"] == "NA", o.loc["c"]
print("ok")
PY
	assert_success
	assert_output ok
}

@test "auroc: precision at k: top-k share without ties, ties at the cut counted in proportion" {
	need_py numpy
	run "$PY" - <<'PY'
import subprocess, io
import numpy as np, pandas as pd
rng = np.random.default_rng(3)
rows = []
for g in range(200):
    n = int(rng.integers(5, 80))
    s = rng.standard_normal(n); y = (rng.random(n) < 0.3).astype(int)
    rows += [(g, a, b) for a, b in zip(s, y)]
df = pd.DataFrame(rows, columns=["g", "s", "y"]); df["s"] = df["s"].map(repr)
df.to_csv("pk.tsv", sep="\t", index=False)
out = subprocess.run("auroc --score s --label y --by g --min-pos 1 --min-neg 1 --precision-at 1 "
                     "--precision-at 5 --precision-at 100 pk.tsv", shell=True, capture_output=True,
                     text=True, check=True).stdout
o = pd.read_csv(io.StringIO(out), sep="\t")
assert list(o.columns[-3:]) == ["precision_at_1", "precision_at_5", "precision_at_100"]
df["s"] = df["s"].astype(float)
groups = dict(list(df.groupby("g")))
for _, r in o.iterrows():
    sub = groups[r.g]
    if r.n_pos == 0 or r.n_neg == 0: continue
    ys = sub.y.to_numpy()[np.argsort(-sub.s.to_numpy(), kind="stable")]
    for k in (1, 5, 100):
        kk = min(k, len(ys))
        assert abs(r[f"precision_at_{k}"] - ys[:kk].mean()) < 1e-15, (r.g, k)
print("ok")
PY
	assert_success
	assert_output ok
	# ties straddling the cut: scores 3 (1 pos), 2,2,2,2 (1 pos of 4), 1 (neg); k=3:
	# 1 + 1 * 2/4 = 1.5 positives expected in the top 3 -> 0.5
	printf 's\ty\n3\t1\n2\t1\n2\t0\n2\t0\n2\t0\n1\t0\n' > tie.tsv
	run ak auroc --score s --label y --min-pos 1 --min-neg 1 --precision-at 3 --precision-at 9 tie.tsv
	assert_success
	# AUROC: (4 + 1 + 3/2) / 8; AP: 1/2 * 1 + 1/2 * 2/5; k=9 is capped at n=6
	assert_line --index 1 "2	4	0.8125	0.7	0.5	0.3333333333333333"
}

@test "auroc: bootstrap and permutation are deterministic with --seed, sane on signal and on null" {
	need_py numpy
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(1)
with open("bp.tsv", "w") as f:
    f.write("g\tc\ts\ty\n")
    for g, shift in (("sig", 1.5), ("null", 0.0)):
        for i in range(300):
            y = int(rng.random() < 0.3)
            f.write(f"{g}\tc{i % 40}\t{rng.standard_normal() + shift * y!r}\t{y}\n")
PY
	ak auroc --score s --label y --by g --bootstrap 300 --perm 300 --seed 7 bp.tsv > a.tsv
	ak auroc --score s --label y --by g --bootstrap 300 --perm 300 --seed 7 bp.tsv > b.tsv
	ak auroc --score s --label y --by g --bootstrap 300 --perm 300 --seed 8 bp.tsv > c.tsv
	cmp a.tsv b.tsv
	! cmp -s a.tsv c.tsv
	# same seed, rows of the other group removed: a group's result depends only on its rows
	grep -v '^null' bp.tsv | ak auroc --score s --label y --by g --bootstrap 300 --perm 300 --seed 7 > d.tsv
	[ "$(grep '^sig' a.tsv)" = "$(grep '^sig' d.tsv)" ]
	ak auroc --score s --label y --by g --bootstrap 300 --bootstrap-by c --seed 7 bp.tsv > e.tsv
	run "$PY" - <<'PY'
import pandas as pd
for f in ("a.tsv", "e.tsv"):
    o = pd.read_csv(f, sep="\t", keep_default_na=False).set_index("g")
    for g in o.index:
        r = o.loc[g]
        assert r.ci_lo <= r.auroc <= r.ci_hi, (f, g, r.ci_lo, r.auroc, r.ci_hi)
        assert r.ci_hi - r.ci_lo < 0.3, (f, g)
    assert o.loc["sig", "ci_lo"] > 0.75 and o.loc["null", "ci_lo"] < 0.5 < o.loc["null", "ci_hi"]
o = pd.read_csv("a.tsv", sep="\t", keep_default_na=False).set_index("g")
assert abs(o.loc["sig", "perm_p"] - 1 / 301) < 1e-15, o.loc["sig", "perm_p"]
assert o.loc["null", "perm_p"] > 0.05, o.loc["null", "perm_p"]
print("ok")
PY
	assert_success
	assert_output ok
}

@test "auroc: file argument, stdin, gzipped stdin, true/false labels and -o FILE.gz agree" {
	printf 'g\ts\ty\na\t0.1\tfalse\na\t0.9\tTRUE\na\t0.5\ttrue\na\t0.4\tFalse\na\t0.6\t0\na\t0.7\t1\na\t0.2\t1\n' > t.tsv
	ak auroc --score s --label y --min-pos 1 --min-neg 1 t.tsv > f.out
	ak auroc --score s --label y --min-pos 1 --min-neg 1 < t.tsv > s.out
	gzip -c t.tsv > t.tsv.gz
	ak auroc --score s --label y --min-pos 1 --min-neg 1 - < t.tsv.gz > z.out
	ak auroc --score s --label y --min-pos 1 --min-neg 1 -o o.tsv.gz t.tsv.gz
	cmp f.out s.out
	cmp f.out z.out
	zcat o.tsv.gz | cmp - f.out
	# 4 positives, 3 negatives, U = 3 + 3 + 2 + 1 = 9 (of 12)
	run cat f.out
	assert_line --index 1 --partial "4	3	0.75	"
}

@test "auroc: a group whose scores are all NA is reported with zero counts" {
	printf 'g\ts\ty\na\t1\t1\na\t0\t0\nb\tNA\t1\nb\t\t0\n' > n.tsv
	ak auroc --score s --label y --by g --min-pos 1 --min-neg 1 n.tsv > o.tsv 2> err.txt
	run cat o.tsv
	assert_line --index 2 "b	0	0	NA	NA"
	run cat err.txt
	assert_output "auroc: n.tsv: 2 rows with NA score skipped"
}

@test "bad: empty, header only, missing column, ragged, non-numeric, inf, bad label; no -o file left" {
	: > e.tsv
	run ak auroc --score s --label y -o out.tsv e.tsv
	assert_data_error "e.tsv: empty input"
	[ ! -e out.tsv ]
	printf 's\ty\n' > h.tsv
	run ak auroc --score s --label y -o out.tsv h.tsv
	assert_data_error "h.tsv: header only, no data rows"
	printf 's\tlab\n1\t1\n' > m.tsv
	run ak auroc --score s --label y m.tsv
	assert_data_error "m.tsv: no column 'y' (columns: s, lab)"
	run ak auroc --score s --label lab --by grp m.tsv
	assert_data_error "no column 'grp' (columns: s, lab)"
	printf 's\ty\n1\t1\n2\n' > r.tsv
	run ak auroc --score s --label y -o out.tsv r.tsv
	assert_data_error "r.tsv:3: expected 2 fields, found 1"
	[ ! -e out.tsv ]
	printf 's\ty\n1\t1\n0.5x\t0\n' > x.tsv
	run ak auroc --score s --label y x.tsv
	assert_data_error "x.tsv:3: column 's': \"0.5x\" is not a number"
	printf 's\ty\n1\t1\ninf\t0\n' > i.tsv
	run ak auroc --score s --label y i.tsv
	assert_data_error "i.tsv:3: column 's': \"inf\" is not a finite number"
	printf 's\ty\n1\t1\n2\t2\n' > l.tsv
	run ak auroc --score s --label y l.tsv
	assert_data_error "l.tsv:3: column 'y': \"2\" is not a label (1/0 or true/false)"
	printf 's\ty\n1\t1\n2\tNA\n' > l2.tsv
	run ak auroc --score s --label y l2.tsv
	assert_data_error "l2.tsv:3: column 'y': \"NA\" is not a label"
}

@test "usage errors exit 2; --help exits 0" {
	run ak auroc --help
	assert_success
	assert_output --partial "usage: auroc"
	run ak auroc --score s
	assert_failure 2
	run ak auroc --score s --label y --min-pos 0
	assert_failure 2
	assert_output --partial "--min-pos: 0 is out of range"
	run ak auroc --score s --label y --bootstrap-by c
	assert_failure 2
	assert_output --partial "--bootstrap-by needs --bootstrap"
	run ak auroc --score s --label y --ci-level 1.5 --bootstrap 10
	assert_failure 2
	run ak auroc --score s --label y --precision-at 5 --precision-at 5
	assert_failure 2
	assert_output --partial "--precision-at: 5 given twice"
}
