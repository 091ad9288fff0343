#!/usr/bin/env bats
# logit-cv --model gbdt / residualize --model gbdt against python3-xgboost on
# the same rows and folds; a planted interaction only the trees see;
# logit-cv --split gene|joint and the three metrics against scikit-learn on
# the same folds.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# 30 perturbations x 60 genes; the label follows an interaction (a*b > 0.5)
# that no linear function of a, b separates, plus a little of c.
gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(5)
P, G = 30, 60
pg = np.array([(p, g) for p in range(P) for g in range(G)])
n = len(pg)
a, b, c = rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)
eta = -2 + 2.5 * (a * b > 0.5) + 0.3 * c
y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)
with open("d.tsv", "w") as f:
    f.write("pert\tgene\ty\ta\tb\tc\n")
    for i in rng.permutation(n):
        f.write(f"P{pg[i,0]}\tG{pg[i,1]}\t{y[i]}\t{a[i]!r}\t{b[i]!r}\t{c[i]!r}\n")
PY
}

# python3-xgboost on the rows and folds of a --pred-out file; prints the
# largest difference from our predictions. args: pred file, tree_method,
# subsample, balanced (0/1), objective, response column, sets as NAME=COLS.
xgb_ref() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np, pandas as pd, xgboost as xgb
from sklearn.utils.class_weight import compute_sample_weight
pred, method, sub, bal, obj, ycol = sys.argv[1:7]
sets = dict(s.split("=") for s in sys.argv[7:])
d = pd.read_csv("d.tsv", sep="\t", float_precision="round_trip")
p = pd.read_csv(pred, sep="\t", float_precision="round_trip")
fold, rows = p.fold.to_numpy(), p.row.to_numpy()
worst = 0.0
for name, cols in sets.items():
    X, y = d[cols.split(",")].to_numpy()[rows], d[ycol].to_numpy()[rows]
    out = np.full(len(rows), np.nan)
    for k in range(fold.max() + 1):
        tr, te = fold != k, fold == k
        w = compute_sample_weight("balanced", y[tr]) if bal == "1" else None
        bst = xgb.train({"objective": obj, "max_depth": 4, "eta": 0.1, "subsample": float(sub),
                         "tree_method": method, "nthread": 1, "seed": 0},
                        xgb.DMatrix(X[tr], label=y[tr], weight=w), num_boost_round=200)
        out[te] = bst.predict(xgb.DMatrix(X[te]))
    worst = max(worst, np.abs(out - p[name].to_numpy()).max())
print(worst)
assert worst <= 1e-6, worst
PY
}

@test "gbdt: logit-cv --model gbdt out-of-fold predictions equal python3-xgboost (hist; exact, subsample, balanced)" {
	need_py xgboost
	need_py sklearn
	gen
	run ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --model gbdt --pred-out p1.tsv d.tsv
	assert_success
	run xgb_ref p1.tsv hist 1 0 binary:logistic y base=c abc=a,b,c
	assert_success
	run ak logit-cv --label y --group pert --set abc=a,b,c --model gbdt --gbdt-method exact \
		--gbdt-subsample 0.7 --balanced --folds 4 --pred-out p2.tsv d.tsv
	assert_success
	run xgb_ref p2.tsv exact 0.7 1 binary:logistic y abc=a,b,c
	assert_success
	# every row predicted once, by the fold that held it out
	[ "$(tail -n +2 p2.tsv | wc -l)" -eq 1800 ]
	[ "$(cut -f2,3 p2.tsv | tail -n +2 | sort -u | cut -f1 | sort | uniq -d | wc -l)" -eq 0 ]
}

@test "gbdt: residualize --model gbdt fitted values equal python3-xgboost regression on the same folds" {
	need_py xgboost
	gen
	run ak residualize --y c --x a,b --group pert --model gbdt -o r.tsv d.tsv
	assert_success
	# recast as a --pred-out file: row group fold fitted
	awk -F'\t' 'NR > 1 { print NR - 2 "\t" $1 "\t" $9 "\t" $7 } NR == 1 { print "row\tgroup\tfold\tfit" }' r.tsv > rp.tsv
	run xgb_ref rp.tsv hist 1 0 reg:squarederror c fit=a,b
	assert_success
	# residual = c - fitted
	run awk -F'\t' 'NR > 1 { d = $6 - $7 - $8; if (d > 1e-12 || d < -1e-12) bad++ } END { exit bad > 0 }' r.tsv
	assert_success
}

@test "gbdt: a planted interaction: logistic regression finds no increment, GBDT a large one" {
	gen
	run ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --bootstrap 200 --boot-p d.tsv
	assert_success
	lin=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "abc"')
	run ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --model gbdt --bootstrap 200 --boot-p d.tsv
	assert_success
	tree=$(printf '%s\n' "$output" | awk -F'\t' '$1 == "abc"')
	# linear: the interval covers 0; trees: delta > 0.12 and the interval clear of 0
	printf '%s\n' "$lin" | awk -F'\t' '{ exit !($5 < 0 && $4 < 0.05) }' || fail "logit: $lin"
	printf '%s\n' "$tree" | awk -F'\t' '{ exit !($4 > 0.12 && $5 > 0.05 && $7 < 0.01) }' || fail "gbdt: $tree"
}

@test "gbdt: output bytes do not depend on --threads; classic and --long agree" {
	gen
	ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --model gbdt --gbdt-subsample 0.8 \
		--threads 1 --bootstrap 20 --pred-out t1.tsv d.tsv > o1.tsv
	ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --model gbdt --gbdt-subsample 0.8 \
		--threads 3 --bootstrap 20 --pred-out t3.tsv d.tsv > o3.tsv
	cmp o1.tsv o3.tsv
	cmp t1.tsv t3.tsv
	# the logit engine behind --long gives the classic path's numbers
	ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --bootstrap 20 d.tsv > c.tsv
	ak logit-cv --label y --group pert --set base=c --set abc=a,b,c --bootstrap 20 --long d.tsv > l.tsv
	run awk -F'\t' 'NR == FNR { if (FNR > 1) au[$1] = $2 "\t" $5 "\t" $6; next }
		$3 == "auroc" && $4 != "base" { if (au[$4] != $5 "\t" $7 "\t" $8) bad = 1; seen++ }
		END { exit bad || seen != 1 }' c.tsv l.tsv
	assert_success
}

@test "logit-cv --split gene|joint: folds keep genes (and perturbations) apart; metrics equal scikit-learn on the same folds" {
	need_py sklearn
	gen
	for s in perturbation gene joint; do
		ak logit-cv --label y --group pert --group2 gene --split $s --set base=c --set abc=a,b,c \
			--recall-k 10 --long --bootstrap 50 --pred-out p_$s.tsv --folds-out f_$s.tsv d.tsv > o_$s.tsv
	done
	run "$PY" - <<'PY'
import warnings
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score, average_precision_score
warnings.simplefilter("ignore")
d = pd.read_csv("d.tsv", sep="\t", float_precision="round_trip")
def recall_at_k(s, y, k):
    # ties at the cut count in proportion
    order = np.sort(s)[::-1]
    t = order[min(k, len(s)) - 1]
    above, tied = s > t, s == t
    hits = y[above].sum() + y[tied].sum() * (min(k, len(s)) - above.sum()) / tied.sum()
    return hits / y.sum()
for split in ["perturbation", "gene", "joint"]:
    p = pd.read_csv(f"p_{split}.tsv", sep="\t", float_precision="round_trip")
    o = pd.read_csv(f"o_{split}.tsv", sep="\t")
    rows, fold = p.row.to_numpy(), p.fold.to_numpy()
    u = d.iloc[rows].reset_index(drop=True)
    # split invariants: no perturbation (gene) in two folds; joint drops the rest
    if split != "gene":
        assert (u.assign(f=fold).groupby("pert").f.nunique() == 1).all()
    if split != "perturbation":
        assert (u.assign(f=fold).groupby("gene").f.nunique() == 1).all()
    if split == "joint":
        # kept = the rows whose perturbation and gene share a fold, tested there
        f = pd.read_csv("f_joint.tsv", sep="\t")
        pf = f[f.column == "pert"].set_index("group").fold
        gf = f[f.column == "gene"].set_index("group").fold
        keep = (d.pert.map(pf) == d.gene.map(gf)).to_numpy()
        assert np.array_equal(np.flatnonzero(keep), rows)
        assert np.array_equal(d.pert.map(pf).to_numpy()[rows], fold)
        assert len(u) < len(d) and (o.n_dropped == len(d) - len(u)).all(), (len(u), o.n_dropped[0])
        assert (o.n_rows == len(u)).all()
    else:
        assert len(u) == len(d) and (o.n_dropped == 0).all()
    vals = {}
    for name, cols in {"base": ["c"], "abc": ["a", "b", "c"]}.items():
        pred = np.empty(len(u))
        for k in range(fold.max() + 1):
            tr, te = fold != k, fold == k
            sc = StandardScaler().fit(u.loc[tr, cols])
            m = LogisticRegression(C=1.0, tol=1e-12, max_iter=100000)
            m.fit(sc.transform(u.loc[tr, cols]), u.y[tr])
            pred[te] = m.decision_function(sc.transform(u.loc[te, cols]))
        # lbfgs and Newton stop at different points: predictions agree to ~1e-5
        assert np.abs(pred - p[name]).max() < 1e-4, (split, name, np.abs(pred - p[name]).max())
        # the metrics, by scikit-learn and by hand, of our predictions (the
        # two solvers' ~1e-5 differences could swap near-tied rows)
        pred = p[name].to_numpy()
        y = u.y.to_numpy()
        rec = [recall_at_k(pred[(u.pert == g).to_numpy()], y[(u.pert == g).to_numpy()], 10)
               for g in u.pert.unique() if y[(u.pert == g).to_numpy()].sum() > 0]
        vals[name] = {"auroc": roc_auc_score(y, pred), "auprc": average_precision_score(y, pred),
                      "recall_at_k": np.mean(rec)}
    for _, r in o.iterrows():
        want = vals[r.set][r.metric]
        assert abs(r.value - want) < 1e-6, (split, r.set, r.metric, r.value, want)
        assert abs(r.delta - (want - vals["base"][r.metric])) < 1e-6
        assert r.ci_lo <= r.ci_hi
        assert (r.set == "base") == np.isnan(r.boot_p)
        assert r.split == split and r.model == "logit"
print("ok")
PY
	assert_success
	assert_output --partial ok
}

@test "gbdt: bad options are usage errors naming the option; a missing --group2 is named" {
	gen
	run ak logit-cv --label y --group pert --set a=a --model forest d.tsv
	assert_failure 2
	assert_output --partial "--model"
	run ak residualize --y c --x a --model logit d.tsv
	assert_failure 2
	assert_output --partial "ols or gbdt"
	run ak logit-cv --label y --group pert --set a=a --model gbdt --gbdt-eta 0 d.tsv
	assert_failure 2
	assert_output --partial "--gbdt-eta"
	run ak logit-cv --label y --group pert --set a=a --gbdt-subsample 1.5 d.tsv
	assert_failure 2
	run ak logit-cv --label y --group pert --set a=a --gbdt-method approx d.tsv
	assert_failure 2
	run ak logit-cv --label y --group pert --set a=a --split joint d.tsv
	assert_failure 2
	assert_output --partial "--group2"
	run ak logit-cv --label y --group pert --set a=a --split genes d.tsv
	assert_failure 2
	run ak logit-cv --label y --group pert --group2 nosuch --split gene --set a=a d.tsv
	assert_failure 1
	assert_output --partial "nosuch"
}
