#!/usr/bin/env bats
# layer-select: a layer planted best is chosen in every outer fold; fold
# means, the pooled held-out AUROC, t-test p and Bonferroni against
# scikit-learn/scipy on the same folds.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# 40 perturbations of 30..69 genes; layer L2 carries the label strongly,
# L1 and L3 weakly, L0 not at all.
gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(8)
with open("l.tsv", "w") as f:
    f.write("pert\tgene\tlabel\tL0\tL1\tL2\tL3\n")
    for p, size in enumerate(rng.permutation(np.arange(30, 70))):
        y = (rng.random(size) < 0.2).astype(int)
        y[0], y[1] = 1, 0
        s = [rng.standard_normal(size) + b * y for b in (0.0, 0.3, 1.2, 0.5)]
        for i in range(size):
            f.write(f"P{p}\tG{i}\t{y[i]}\t" + "\t".join(repr(v[i]) for v in s) + "\n")
PY
}

@test "layer-select: the planted layer wins every fold; numbers equal scikit-learn/scipy on the same folds" {
	need_py scipy
	need_py sklearn
	gen
	run ak layer-select --label label --group pert --layers L0,L1,L2,L3 --folds 5 --bootstrap 500 \
		--folds-out f.tsv -o o.tsv l.tsv
	assert_success
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score
d = pd.read_csv("l.tsv", sep="\t", float_precision="round_trip")
o = pd.read_csv("o.tsv", sep="\t")
f = pd.read_csv("f.tsv", sep="\t").set_index("group").fold
layers = ["L0", "L1", "L2", "L3"]
A = pd.DataFrame({l: d.groupby("pert").apply(lambda s: roc_auc_score(s.label, s[l])) for l in layers})
fold = f[A.index]
folds = o[o.kind == "fold"].set_index("fold")
held = []
for k in range(5):
    tr, te = A[fold != k], A[fold == k]
    best = tr.mean().idxmax()
    assert folds.loc[k, "layer"] == best == "L2", (k, folds.loc[k], best)
    assert abs(folds.loc[k, "train_auroc"] - tr[best].mean()) < 1e-12
    assert abs(folds.loc[k, "auroc"] - te[best].mean()) < 1e-12
    assert folds.loc[k, "n_perturbations"] == len(te)
    held += list(te[best])
nest = o[o.kind == "nested"].iloc[0]
assert abs(nest.auroc - np.mean(held)) < 1e-12 and nest.n_perturbations == 40
assert abs(nest.p - stats.ttest_1samp(held, 0.5).pvalue) < 1e-9 * max(1, nest.p)
assert nest.ci_lo < nest.auroc < nest.ci_hi
lay = o[o.kind == "layer"].set_index("layer")
for l in layers:
    p = stats.ttest_1samp(A[l], 0.5).pvalue
    assert abs(lay.loc[l, "auroc"] - A[l].mean()) < 1e-12
    assert abs(lay.loc[l, "p"] - p) <= 1e-9 * max(p, 1e-300) + 1e-300, (l, lay.loc[l, "p"], p)
    assert abs(lay.loc[l, "p_bonferroni"] - min(1, 4 * p)) <= 1e-9 * max(p, 1e-300) * 4 + 1e-300
h = o[o.kind == "hindsight"].iloc[0]
assert h.layer == "L2" and abs(h.auroc - A["L2"].mean()) < 1e-12
print("ok")
PY
	assert_success
	assert_output ok
	# same input, same bytes (stdin, gzip)
	gzip -c l.tsv | ak layer-select --label label --group pert --layers L0,L1,L2,L3 --bootstrap 500 > o2.tsv
	cmp o.tsv o2.tsv
}

@test "layer-select: bad input and usage errors" {
	gen
	run ak layer-select --label label --group pert --layers L0 l.tsv
	assert_failure 2
	assert_output --partial "two layer"
	run ak layer-select --label label --group pert --layers L0,L9 l.tsv
	assert_failure 1
	assert_output --partial "L9"
	run ak layer-select --label label --group pert --layers L0,L1 --folds 50 l.tsv
	assert_failure 1
	assert_output --partial "fewer than 50 folds"
	printf 'pert\tlabel\ta\tb\n' > h.tsv
	run ak layer-select --label label --group pert --layers a,b h.tsv
	assert_data_error "header only"
	run ak layer-select --label label --group pert l.tsv
	assert_failure 2
}
