#!/usr/bin/env bats
# match: propensity against scikit-learn, the matched sets against a Python
# re-implementation of the greedy rule, the balance table against pandas, and
# a confounded edge score whose apparent value vanishes after matching.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# 20 perturbations x 150 genes. A gene-level covariate (expr) raises both the
# chance of being a positive and the edge score; the score carries nothing
# beyond expr. deg is an irrelevant covariate.
gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(3)
P, G = 20, 150
n = P * G
pert, gene = np.repeat(np.arange(P), G), np.tile(np.arange(G), P)
expr = np.tile(rng.standard_normal(G), P) + 0.3 * rng.standard_normal(n)
deg = rng.standard_normal(n)
y = (rng.random(n) < 1 / (1 + np.exp(-(-3.5 + 1.2 * expr)))).astype(int)
score = expr + 0.5 * rng.standard_normal(n)
with open("m.tsv", "w") as f:
    f.write("pert\tgene\tlabel\texpr\tdeg\tscore\n")
    for i in range(n):
        f.write(f"P{pert[i]}\tG{gene[i]}\t{y[i]}\t{expr[i]!r}\t{deg[i]!r}\t{score[i]!r}\n")
PY
}

@test "match: propensity = scikit-learn; matched sets = the greedy rule re-implemented; SMD = pandas; the confounded score's AUROC vanishes" {
	need_py sklearn
	gen
	run ak match --label label --group pert --x expr,deg --k 3 --balance bal.tsv -o mm.tsv m.tsv
	assert_success
	assert_output --regexp "^match: [0-9]+ of [0-9]+ positives matched"
	run "$PY" - <<'PY'
import warnings
import numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")
d = pd.read_csv("m.tsv", sep="\t", float_precision="round_trip")
m = pd.read_csv("mm.tsv", sep="\t", float_precision="round_trip")
X = StandardScaler().fit_transform(d[["expr", "deg"]])
ps = LogisticRegression(C=1.0, solver="newton-cg", tol=1e-12, max_iter=100000).fit(X, d.label).decision_function(X)
d["ps"] = ps
cal = 0.2 * np.std(ps, ddof=1)
# the greedy rule: per perturbation, positives by decreasing propensity
# (ties: input order) each take the nearest unused negatives (ties: the
# lower), up to k, within the caliper; none: dropped
want = {}
for g, sub in d.groupby("pert", sort=False):
    neg = sub[sub.label == 0].sort_values("ps", kind="stable")
    nv, nidx, used = neg.ps.to_numpy(), neg.index.to_numpy(), np.zeros(len(neg), bool)
    for i, r in sub[sub.label == 1].sort_values("ps", ascending=False, kind="stable").iterrows():
        dist = np.where(used, np.inf, np.abs(nv - r.ps))
        pick = []
        for _ in range(3):
            j = np.argmin(dist)  # first of equal distances = the lower one
            if dist[j] > cal:
                break
            pick.append(j); dist[j] = np.inf; used[j] = True
        if pick:
            want[i] = sorted(nidx[pick])
# our sets, by their positive's row
key = d.pert + ":" + d.gene
m["key"] = m.pert + ":" + m.gene
row = dict(zip(key, d.index))
m["row"] = m.key.map(row)
assert m.row.is_unique
assert np.abs(m.logit_ps - d.ps[m.row].to_numpy()).max() < 1e-6
got = {}
for mid, s in m.groupby("match_id"):
    pos = s[s.label == 1]
    assert len(pos) == 1 and 1 <= (s.label == 0).sum() <= 3 and s.pert.nunique() == 1
    assert (np.abs(s.logit_ps - pos.logit_ps.iloc[0]) <= cal + 1e-9).all()
    got[pos.row.iloc[0]] = sorted(s[s.label == 0].row)
    assert np.allclose(s[s.label == 0].match_weight, 1 / (s.label == 0).sum())
assert got == want, (len(got), len(want))
# balance: weighted mean difference over the pooled SD of all rows
b = pd.read_csv("bal.tsv", sep="\t").set_index("covariate")
mm = d.loc[m.row].assign(w=m.match_weight.to_numpy())
for c in ["expr", "deg", "ps"]:
    sd = np.sqrt((d[d.label == 1][c].var() + d[d.label == 0][c].var()) / 2)
    before = (d[d.label == 1][c].mean() - d[d.label == 0][c].mean()) / sd
    wm = lambda x: np.average(x[c], weights=x.w)
    after = (wm(mm[mm.label == 1]) - wm(mm[mm.label == 0])) / sd
    name = "logit_ps" if c == "ps" else c
    assert abs(b.loc[name, "smd_before"] - before) < 1e-5, (c, b.loc[name], before)
    assert abs(b.loc[name, "smd_after"] - after) < 1e-5, (c, b.loc[name], after)
assert b.loc["expr", "smd_before"] > 1 and (b.smd_after.abs() < 0.1).all(), b
# the confounded score: strong before, chance after
a0 = roc_auc_score(d.label, d.score)
a1 = roc_auc_score(m.label, m.score, sample_weight=m.match_weight)
assert a0 > 0.75 and abs(a1 - 0.5) < 0.06, (a0, a1)
print("ok", a0, a1)
PY
	assert_success
	assert_output --partial ok
}

@test "match: the caliper drops positives; tighter caliper, fewer matched; same input, same bytes" {
	gen
	ak match --label label --group pert --x expr,deg --caliper 0.01 m.tsv > tight.tsv 2> tight.err
	ak match --label label --group pert --x expr,deg --caliper 1 m.tsv > wide.tsv 2> wide.err
	t=$(sed -E 's/^match: ([0-9]+) of.*/\1/' tight.err)
	w=$(sed -E 's/^match: ([0-9]+) of.*/\1/' wide.err)
	[ "$t" -lt "$w" ]
	gzip -c m.tsv > m.tsv.gz
	ak match --label label --group pert --x expr,deg --caliper 1 < m.tsv.gz > wide2.tsv 2>/dev/null
	cmp wide.tsv wide2.tsv
}

@test "match: bad input and usage errors" {
	printf 'pert\tlabel\tx\nP\t1\t0.5\nP\t1\t0.7\n' > one.tsv
	run ak match --label label --group pert --x x one.tsv
	assert_data_error "single class"
	printf 'pert\tlabel\tx\nP\t1\tabc\n' > bad.tsv
	run ak match --label label --group pert --x x bad.tsv
	assert_failure 1
	assert_output --partial "bad.tsv:2"
	printf 'pert\tlabel\tx\tmatch_id\nP\t1\t1\t0\n' > dup.tsv
	run ak match --label label --group pert --x x dup.tsv
	assert_failure 1
	assert_output --partial "match_id"
	run ak match --label label --group pert m.tsv
	assert_failure 2
	run ak match --label label --group pert --x x --caliper 0 one.tsv
	assert_failure 2
	assert_output --partial "--caliper"
	run ak match --label label --group pert --x x --k 0 one.tsv
	assert_failure 2
}
