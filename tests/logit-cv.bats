#!/usr/bin/env bats
# logit-cv: out-of-fold AUROC against scikit-learn's LogisticRegression on
# the same folds, folds against GroupKFold, bootstrap determinism, bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(12)
# 40 groups of distinct sizes, so that GroupKFold's greedy order has no ties
sizes = rng.permutation(np.arange(20, 60))
g = np.repeat(np.arange(40), sizes)
n = len(g)
a, b, c = rng.standard_normal(n) * 2 + 3, rng.exponential(size=n), rng.standard_normal(n)
eta = -1.5 + 0.8 * a - 0.7 * b + 0.3 * (g % 3)
y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
with open("d.tsv", "w") as f:
    f.write("grp\ty\ta\tb\tc\n")
    for i in rng.permutation(n):
        f.write(f"T{g[i]}\t{y[i]}\t{a[i]!r}\t{b[i]!r}\t{c[i]!r}\n")
PY
}

@test "logit-cv: out-of-fold AUROC/AUPRC equal scikit-learn LogisticRegression on the same folds; folds equal GroupKFold" {
	need_py sklearn
	gen
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --set abc=a,b,c --folds 5 \
		--folds-out f1.tsv d.tsv > o1.tsv
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --C 0.01 --balanced --folds 4 \
		--folds-out f2.tsv d.tsv > o2.tsv
	run "$PY" - <<'PY'
import warnings
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import GroupKFold
from sklearn.metrics import roc_auc_score, average_precision_score
warnings.simplefilter("ignore")
d = pd.read_csv("d.tsv", sep="\t", float_precision="round_trip")
def check(out, folds, K, sets, C, cw):
    o = pd.read_csv(out, sep="\t").set_index("set")
    f = pd.read_csv(folds, sep="\t").set_index("group").fold
    fold = d.grp.map(f).to_numpy()
    # our folds are GroupKFold's (distinct group sizes: no ties in its greedy order)
    sk = np.empty(len(d), int)
    for k, (_, te) in enumerate(GroupKFold(K).split(d, groups=d.grp)):
        sk[te] = k
    assert np.array_equal(sk, fold), "folds differ from GroupKFold"
    assert (d.assign(f=fold).groupby("grp").f.nunique() == 1).all()
    base = None
    for name, cols in sets.items():
        pred = np.empty(len(d))
        for k in range(K):
            tr, te = fold != k, fold == k
            sc = StandardScaler().fit(d.loc[tr, cols])
            m = LogisticRegression(C=C, class_weight=cw, tol=1e-12, max_iter=100000)
            m.fit(sc.transform(d.loc[tr, cols]), d.y[tr])
            pred[te] = m.decision_function(sc.transform(d.loc[te, cols]))
        a, ap = roc_auc_score(d.y, pred), average_precision_score(d.y, pred)
        base = a if base is None else base
        assert abs(o.loc[name, "auroc"] - a) < 1e-6, (name, o.loc[name, "auroc"], a)
        assert abs(o.loc[name, "auprc"] - ap) < 1e-6, (name, o.loc[name, "auprc"], ap)
        assert abs(o.loc[name, "delta_auroc"] - (a - base)) < 1e-6
    assert o.ci_lo.isna().all() and o.ci_hi.isna().all()
check("o1.tsv", "f1.tsv", 5, {"base": ["a"], "ab": ["a", "b"], "abc": ["a", "b", "c"]}, 1.0, None)
check("o2.tsv", "f2.tsv", 4, {"base": ["a"], "ab": ["a", "b"]}, 0.01, "balanced")
print("ok")
PY
	assert_success
	assert_output ok
}

@test "logit-cv: bootstrap over groups is deterministic with --seed and brackets the estimates; -v shows folds" {
	need_py numpy
	gen
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --bootstrap 300 --seed 4 d.tsv > a.tsv
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --bootstrap 300 --seed 4 < d.tsv > b.tsv
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --bootstrap 300 --seed 5 d.tsv > c.tsv
	cmp a.tsv b.tsv
	! cmp -s a.tsv c.tsv
	run "$PY" -c "
import pandas as pd
o = pd.read_csv('a.tsv', sep='\t').set_index('set')
assert o.loc['base', 'ci_lo'] <= o.loc['base', 'auroc'] <= o.loc['base', 'ci_hi']
assert 0 < o.loc['ab', 'ci_lo'] <= o.loc['ab', 'delta_auroc'] <= o.loc['ab', 'ci_hi'], o
print('ok')"
	assert_output ok
	run ak logit-cv --label y --group grp --set base=a --folds 3 -v -o v.tsv d.tsv
	assert_success
	assert_line --regexp "^logit-cv: set base fold 2: [0-9]+ train, [0-9]+ test, auroc 0\.[0-9]+, [0-9]+ Newton steps$"
}

@test "bad: empty, header only, missing column, non-numeric, single class, too few groups" {
	: > e.tsv
	run ak logit-cv --label y --group g --set s=a -o out.tsv e.tsv
	assert_data_error "e.tsv: empty input"
	[ ! -e out.tsv ]
	printf 'y\tg\ta\n' > h.tsv
	run ak logit-cv --label y --group g --set s=a h.tsv
	assert_data_error "h.tsv: header only, no data rows"
	printf 'y\tg\ta\n1\tu\t2\n' > m.tsv
	run ak logit-cv --label y --group g --set s=a,b m.tsv
	assert_data_error "m.tsv: no column 'b' (columns: y, g, a)"
	printf 'y\tg\ta\n1\tu\t2\n0\tv\tq\n' > x.tsv
	run ak logit-cv --label y --group g --set s=a x.tsv
	assert_data_error "x.tsv:3: column 'a': \"q\" is not a number"
	printf 'y\tg\ta\n1\tu\t2\n1\tv\t3\n' > s.tsv
	run ak logit-cv --label y --group g --set s=a s.tsv
	assert_data_error "s.tsv: the label has a single class over the 2 complete rows"
	printf 'y\tg\ta\n1\tu\t2\n0\tv\t3\n' > f.tsv
	run ak logit-cv --label y --group g --set s=a --folds 3 f.tsv
	assert_data_error "f.tsv: column 'g' has 2 groups, fewer than 3 folds"
	printf 'y\tg\ta\n2\tu\t2\n' > l.tsv
	run ak logit-cv --label y --group g --set s=a l.tsv
	assert_data_error "l.tsv:2: column 'y': \"2\" is not a label (1/0 or true/false)"
}

@test "usage errors exit 2; --help exits 0" {
	run ak logit-cv --help
	assert_success
	assert_output --partial "usage: logit-cv"
	run ak logit-cv --label y --group g
	assert_failure 2
	run ak logit-cv --label y --group g --set nocols
	assert_failure 2
	assert_output --partial "--set: expected NAME=COL,COL,..."
	run ak logit-cv --label y --group g --set a=x --set a=y
	assert_failure 2
	assert_output --partial "name 'a' given twice"
	run ak logit-cv --label y --group g --set a=x --C 0
	assert_failure 2
}

# Real data: papalexi2021 co-expression between all ordered pairs of its 299
# genes, gene-level mean and dropout as covariates, TRRUST + DoRothEA edges
# as labels. residualize is checked against numpy lstsq and logit-cv against
# scikit-learn, both on the folds the filters report.
@test "real data (papalexi2021, TRRUST, DoRothEA): residualize vs numpy, logit-cv vs scikit-learn" {
	need_data papalexi2021/counts.mtx.gz papalexi2021/genes.txt trrust_v2_human.tsv.gz dorothea_hs_ABC.tsv.gz
	need_py sklearn
	"$PY" - "$DATA" <<'PY'
import sys, gzip, numpy as np, pandas as pd, scipy.io
D = sys.argv[1]
genes = open(f"{D}/papalexi2021/genes.txt").read().split()
m = scipy.io.mmread(gzip.open(f"{D}/papalexi2021/counts.mtx.gz")).tocsr().astype(float)
lib = np.asarray(m.sum(0)).ravel()
x = np.log1p(m.multiply(1e4 / lib).toarray())
mean, drop = x.mean(1), (m.toarray() == 0).mean(1)
c = np.corrcoef(x)
tr = pd.read_csv(f"{D}/trrust_v2_human.tsv.gz", sep="\t", header=None, usecols=[0, 1], names=["a", "b"])
do = pd.read_csv(f"{D}/dorothea_hs_ABC.tsv.gz", sep="\t")
E = set(zip(tr.a, tr.b)) | set(zip(do.tf, do.target))
n = len(genes)
i, j = np.where(~np.eye(n, dtype=bool))
df = pd.DataFrame({"from": np.array(genes)[i], "to": np.array(genes)[j], "coexpr": c[i, j],
                   "mean_from": mean[i], "mean_to": mean[j], "drop_from": drop[i], "drop_to": drop[j]})
df["label"] = [int((a, b) in E) for a, b in zip(df["from"], df["to"])]
df = df.fillna({"coexpr": 0.0})
assert df.label.sum() >= 10, df.label.sum()
df.to_csv("pairs.tsv", sep="\t", index=False, float_format="%.17g")
PY
	ak residualize --y coexpr --x mean_from,mean_to,drop_from,drop_to --group from pairs.tsv > res.tsv 2>/dev/null
	ak logit-cv --label label --group from --set base=mean_from,mean_to,drop_from,drop_to \
		--set coexpr=mean_from,mean_to,drop_from,drop_to,coexpr --folds-out folds.tsv pairs.tsv > cv.tsv
	run "$PY" - <<'PY'
import warnings, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")
r = pd.read_csv("res.tsv", sep="\t", float_precision="round_trip")
X = r[["mean_from", "mean_to", "drop_from", "drop_to"]].to_numpy()
worst = 0
for k in range(5):
    tr, te = (r.fold != k).to_numpy(), (r.fold == k).to_numpy()
    mu, sd = X[tr].mean(0), X[tr].std(0)
    b = np.linalg.lstsq(np.c_[np.ones(tr.sum()), (X[tr] - mu) / sd], r.coexpr[tr], rcond=None)[0]
    pred = np.c_[np.ones(te.sum()), (X[te] - mu) / sd] @ b
    worst = max(worst, np.max(np.abs(pred - r.fitted[te])))
assert worst < 1e-10, worst
assert (r.groupby("from").fold.nunique() == 1).all()
o = pd.read_csv("cv.tsv", sep="\t", float_precision="round_trip").set_index("set")
f = pd.read_csv("folds.tsv", sep="\t").set_index("group").fold
fold = r["from"].map(f).to_numpy()
base = None
for name, cols in {"base": ["mean_from", "mean_to", "drop_from", "drop_to"],
                   "coexpr": ["mean_from", "mean_to", "drop_from", "drop_to", "coexpr"]}.items():
    pred = np.empty(len(r))
    for k in range(5):
        tr, te = fold != k, fold == k
        sc = StandardScaler().fit(r.loc[tr, cols])
        mdl = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000).fit(sc.transform(r.loc[tr, cols]), r.label[tr])
        pred[te] = mdl.decision_function(sc.transform(r.loc[te, cols]))
    a = roc_auc_score(r.label, pred)
    assert abs(o.loc[name, "auroc"] - a) < 1e-4, (name, o.loc[name, "auroc"], a)
print("ok", worst, dict(o.auroc))
PY
	assert_success
	assert_output --partial "ok"
}

@test "logit-cv --boot-p: the share of resamples with delta <= 0, consistent with the interval's quantiles" {
	need_py numpy
	gen
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --set ac=a,c --bootstrap 300 --seed 4 --boot-p d.tsv > p.tsv
	ak logit-cv --label y --group grp --set base=a --set ab=a,b --set ac=a,c --bootstrap 300 --seed 4 d.tsv > n.tsv
	# the other columns do not change
	cmp <(cut -f1-6 p.tsv) n.tsv
	run awk -F'\t' 'NR == 1 { print $7 } $1 == "base" { print $7 } $1 == "ab" { print ($7 == 1 / 301) }' p.tsv
	assert_output $'boot_p\nNA\n1'
	# noise feature c: k resamples with delta <= 0 means the sorted deltas have
	# v[k-1] <= 0 < v[k]; the percentile interval at tail t = j / (B - 1) is v[j]
	k=$(awk -F'\t' '$1 == "ac" { printf "%d", $7 * 301 - 1 + 0.5 }' p.tsv)
	echo "k=$k"
	[ "$k" -gt 2 ] && [ "$k" -lt 298 ]
	# (the lower end of the interval when j < (B - 1) / 2, else the upper end)
	for j in $((k - 1)) $k; do
		if [ $((2 * j)) -lt 299 ]; then lvl=$("$PY" -c "print(repr(1 - 2 * $j / 299))") col=5
		else lvl=$("$PY" -c "print(repr(2 * $j / 299 - 1))") col=6; fi
		ak logit-cv --label y --group grp --set base=a --set ac=a,c --bootstrap 300 --seed 4 --ci-level "$lvl" d.tsv > q$j.tsv
	done
	# same draws for ac whether ab is fitted or not: only set ac's own bootstrap values matter
	awk -F'\t' -v c=$col '$1 == "ac" { print; exit !($c <= 0) }' q$((k - 1)).tsv
	awk -F'\t' -v c=$col '$1 == "ac" { print; exit !($c > 0) }' q$k.tsv
}
