#!/usr/bin/env bats
# The battery's harder tests in pipelines/perturbation.mk (#17): incremental
# value by model x split x metric, the propensity-matched benchmark, layer
# selection without peeking, the sensitivity grid; each checked against an
# independent computation (scikit-learn, python3-xgboost, numpy, scipy) on
# the rows and folds the pipeline writes out, and the grid against direct
# filter calls. Tables are read by column name.

setup_file() {
	load helper
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	export R=$BATS_FILE_TMPDIR
	cd "$R"
	ak ps-sim --out s --genes 60 --tfs 5 --targets 8 --cells 50 --control 120 --seed 3 > /dev/null
	# small GBDT and bootstrap: the run stays in seconds
	make -s -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt \
		CELLS=s/cells.tsv REF=s/grn.tsv REF_COLS=from,to "EDGES=real=s/edges_real.tsv conf=s/edges_confounded.tsv" \
		DRAWS=20 FOLDS=3 GBDT_ROUNDS=15 RECALL_K=10 OUT=out > run.log 2>&1 || true
}

setup() {
	load helper
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	cd "$R"
	[ -s out/report.html ] || { cat run.log; fail "the pipeline did not run to its report"; }
}

@test "battery: incremental.tsv = 2 models x 3 splits x 3 metrics, equal to scikit-learn / python3-xgboost refits on the written folds" {
	need_py sklearn
	need_py xgboost
	run "$PY" - <<'PY'
import warnings
import numpy as np, pandas as pd, xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import GroupKFold
from sklearn.metrics import roc_auc_score, average_precision_score
from sklearn.utils.class_weight import compute_sample_weight
warnings.simplefilter("ignore")
rd = lambda f: pd.read_csv(f, sep="\t", float_precision="round_trip", keep_default_na=True)
rows = rd("out/incremental_rows.tsv")
inc = rd("out/incremental.tsv")
fo = rd("out/incremental_folds.tsv")
K = inc.folds.dropna().iloc[0].astype(int)
assert K == min(3, rows.perturbation.nunique())
# 2 models x 3 splits x 3 metrics, each with both baselines' comparisons
combos = inc.groupby(["model", "split", "metric"]).size()
assert len(combos) == 18 and (combos == combos.iloc[0]).all(), combos
# the written folds are scikit-learn's GroupKFold of the rows, by perturbation and by gene
def gkf(groups):
    f = np.empty(len(groups), int)
    for k, (_, te) in enumerate(GroupKFold(K).split(groups, groups=groups)):
        f[te] = k
    return dict(zip(groups, f))
pf, gf = gkf(rows.perturbation.to_numpy()), gkf(rows.gene.to_numpy())
for split, col, want in [("perturbation", "perturbation", pf), ("gene", "gene", gf), ("joint", "perturbation", pf), ("joint", "gene", gf)]:
    got = fo[(fo.split == split) & (fo.column == col)].set_index("group").fold.to_dict()
    assert got == want, (split, col)
assert (rows.fold.to_numpy() == rows.perturbation.map(pf).to_numpy()).all()
p_of, g_of = rows.perturbation.map(pf).to_numpy(), rows.gene.map(gf).to_numpy()
folds = {"perturbation": p_of, "gene": g_of, "joint": np.where(p_of == g_of, p_of, -1)}
def recall_at_k(s, y, k):
    # ties at the cut count in proportion
    k = min(k, len(s))
    t = np.sort(s)[::-1][k - 1]
    above, tied = s > t, s == t
    return (y[above].sum() + y[tied].sum() * (k - above.sum()) / tied.sum()) / y.sum()
def fit(model, cols, fold):
    pred = np.full(len(rows), np.nan)
    for k in range(K):
        tr, te = (fold >= 0) & (fold != k), fold == k
        X, y = rows[cols].to_numpy(), rows.label.to_numpy()
        if model == "logit":
            sc = StandardScaler().fit(X[tr])
            m = LogisticRegression(C=1.0, class_weight="balanced", tol=1e-12, max_iter=100000).fit(sc.transform(X[tr]), y[tr])
            pred[te] = m.decision_function(sc.transform(X[te]))
        else:
            bst = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "subsample": 1.0,
                             "tree_method": "hist", "nthread": 1, "seed": 0},
                            xgb.DMatrix(X[tr], label=y[tr], weight=compute_sample_weight("balanced", y[tr])),
                            num_boost_round=15)
            pred[te] = bst.predict(xgb.DMatrix(X[te]))
    return pred
def metrics(pred, fold):
    u = fold >= 0
    s, y, g = pred[u], rows.label.to_numpy()[u], rows.perturbation.to_numpy()[u]
    rec = [recall_at_k(s[g == q], y[g == q], 10) for q in np.unique(g) if y[g == q].sum() > 0]
    return {"auroc": roc_auc_score(y, s), "auprc": average_precision_score(y, s), "recall_at_k": np.mean(rec)}
gfeat = ["mean", "variance", "detection"]
feats = lambda name: gfeat + [c for c in name.split("+")[1:]]
checked = 0
for (model, split), sub in inc.groupby(["model", "split"]):
    fold = folds[split]
    vals = {name: metrics(fit(model, feats(name), fold), fold) for name in sub.set.unique()}
    kept = int((fold >= 0).sum())
    assert (sub.n_rows == kept).all() and (sub.n_dropped == len(rows) - kept).all(), (model, split)
    for _, r in sub.iterrows():
        want = vals[r.set][r.metric]
        assert abs(r.value - want) < 1e-6, (model, split, r.metric, r.set, r.value, want)
        assert abs(r.delta - (want - vals[r.baseline][r.metric])) < 1e-6
        assert (r.set == r.baseline) == np.isnan(r.boot_p)
        checked += 1
# the real edges add to the gene-level features under every model and split
# design, by AUROC; the confounded ones add nothing under the logistic model
real = inc[(inc.set == "gene+real") & (inc.metric == "auroc")]
assert (real.ci_lo > 0).all(), real
conf = inc[(inc.set == "gene+conf") & (inc.metric == "auroc") & (inc.model == "logit")]
assert (conf.boot_p > 0.05).all(), conf
print("ok", checked)
PY
	assert_success
	assert_output --partial ok
}

@test "battery: matched.tsv: the matched set is the greedy propensity match re-implemented (numpy/sklearn); its AUROCs, Wilcoxon tests and refits agree" {
	need_py sklearn
	need_py scipy
	run "$PY" - <<'PY'
import warnings
import numpy as np, pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import GroupKFold
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")
rd = lambda f: pd.read_csv(f, sep="\t", float_precision="round_trip", keep_default_na=True)
d = rd("out/incremental_rows.tsv").reset_index(drop=True)
m = rd("out/matched_rows.tsv.gz")
mt = rd("out/matched.tsv")
cov = ["mean", "variance", "detection"]
# propensity: L2 logistic on the standardised covariates over all rows; the
# caliper 0.2 SD of its logit; per perturbation, positives by decreasing
# propensity take their 5 nearest unused negatives within the caliper
X = StandardScaler().fit_transform(d[cov])
d["ps"] = LogisticRegression(C=1.0, solver="newton-cg", tol=1e-12, max_iter=100000).fit(X, d.label).decision_function(X)
cal = 0.2 * np.std(d.ps, ddof=1)
want = {}
for g, sub in d.groupby("perturbation", sort=False):
    neg = sub[sub.label == 0].sort_values("ps", kind="stable")
    nv, nidx, used = neg.ps.to_numpy(), neg.index.to_numpy(), np.zeros(len(neg), bool)
    for i, r in sub[sub.label == 1].sort_values("ps", ascending=False, kind="stable").iterrows():
        dist = np.where(used, np.inf, np.abs(nv - r.ps))
        pick = []
        for _ in range(5):
            j = np.argmin(dist)
            if dist[j] > cal:
                break
            pick.append(j); dist[j] = np.inf; used[j] = True
        if pick:
            want[i] = sorted(nidx[pick])
row = dict(zip(d.perturbation + ":" + d.gene, d.index))
m["row"] = (m.perturbation + ":" + m.gene).map(row)
got = {}
for mid, s in m.groupby("match_id"):
    pos = s[s.label == 1]
    assert len(pos) == 1
    got[pos.row.iloc[0]] = sorted(s[s.label == 0].row)
assert got == want, (len(got), len(want))
# balance: every covariate below |SMD| 0.1 after matching (the paper's bar), flagged so
b = rd("out/matched_balance.tsv").set_index("covariate")
assert set(cov) <= set(b.index)
assert ((b.smd_after.abs() < 0.1) == (b.balanced == 1)).all()
# edge-only AUROCs on the matched rows, per perturbation (>= 3 DE genes), vs 0.5
ea = mt[mt.test == "edge_auroc"].set_index("set")
for meth in ["coexpr", "real", "conf", "variance", "mean", "detection"]:
    a = np.array([roc_auc_score(s.label, s[meth]) for _, s in m.groupby("perturbation") if s.label.sum() >= 3])
    r = ea.loc[meth]
    assert r.n_perturbations == len(a) and abs(r.value - a.mean()) < 1e-9, (meth, r.value, a.mean())
    dd = a - 0.5
    ties = len(np.unique(np.abs(dd))) < len(dd)
    w = stats.wilcoxon(dd, zero_method="zsplit", method="approx" if ties and not np.any(dd == 0) else "auto")
    assert abs(r.p - w.pvalue) < 1e-9 and r.statistic == w.statistic, (meth, r.p, w.pvalue)
# incremental value on the matched rows: scikit-learn on GroupKFold by perturbation
K = min(3, m.perturbation.nunique())
fold = np.empty(len(m), int)
for k, (_, te) in enumerate(GroupKFold(K).split(m, groups=m.perturbation.to_numpy())):
    fold[te] = k
def auroc(cols):
    pred = np.empty(len(m))
    for k in range(K):
        tr, te = fold != k, fold == k
        sc = StandardScaler().fit(m.loc[tr, cols])
        lr = LogisticRegression(C=1.0, class_weight="balanced", tol=1e-12, max_iter=100000)
        pred[te] = lr.fit(sc.transform(m.loc[tr, cols]), m.label[tr]).decision_function(sc.transform(m.loc[te, cols]))
    return roc_auc_score(m.label, pred)
base = auroc(cov)
for _, r in mt[(mt.test == "incremental") & (mt.metric == "auroc") & (mt.baseline == "gene")].iterrows():
    v = auroc(cov + r.set.split("+")[1:])
    assert abs(r.value - v) < 1e-6 and abs(r.delta - (v - base)) < 1e-6, (r.set, r.value, v)
# the planted answer: the real edges keep their signal on the matched set
assert ea.loc["real", "value"] > 0.8 and ea.loc["real", "p"] < 0.05
print("ok", len(got))
PY
	assert_success
	assert_output --partial ok
}

@test "battery: layer_selection.tsv = nested cross-validation re-done (GroupKFold, roc_auc_score, scipy t-test, Bonferroni)" {
	need_py sklearn
	need_py scipy
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from scipy import stats
from sklearn.model_selection import GroupKFold
from sklearn.metrics import roc_auc_score
rd = lambda f: pd.read_csv(f, sep="\t", float_precision="round_trip", keep_default_na=True)
rows = rd("out/incremental_rows.tsv")
ls = rd("out/layer_selection.tsv")
layers = ["real", "conf"]
perts = list(dict.fromkeys(rows.perturbation))
A = pd.DataFrame({l: [roc_auc_score(rows[rows.perturbation == p].label, rows[rows.perturbation == p][l]) for p in perts]
                  for l in layers}, index=perts)
K = min(3, len(perts))
gf = {}
for k, (_, te) in enumerate(GroupKFold(K).split(rows, groups=rows.perturbation.to_numpy())):
    for p in rows.perturbation.iloc[te].unique():
        gf[p] = k
assert rd("out/layer_folds.tsv").set_index("group").fold.to_dict() == gf
fo = ls[ls.kind == "fold"].set_index("fold")
held = []
for k in range(K):
    tr = [p for p in perts if gf[p] != k]
    te = [p for p in perts if gf[p] == k]
    means = A.loc[tr].mean()
    best = layers[int(np.argmax(means.to_numpy()))]
    assert fo.loc[k, "layer"] == best and abs(fo.loc[k, "train_auroc"] - means[best]) < 1e-12
    assert abs(fo.loc[k, "auroc"] - A.loc[te, best].mean()) < 1e-12
    held += list(A.loc[te, best])
ne = ls[ls.kind == "nested"].iloc[0]
assert abs(ne.auroc - np.mean(held)) < 1e-12 and ne.n_perturbations == len(held)
assert abs(ne.p - stats.ttest_1samp(held, 0.5).pvalue) < 1e-9
for l in layers:
    r = ls[(ls.kind == "layer") & (ls.layer == l)].iloc[0]
    p = stats.ttest_1samp(A[l], 0.5).pvalue
    assert abs(r.auroc - A[l].mean()) < 1e-12 and abs(r.p - p) < 1e-9 and abs(r.p_bonferroni - min(1, 2 * p)) < 1e-9
hs = ls[ls.kind == "hindsight"].iloc[0]
assert hs.layer == A.mean().idxmax()
# the planted answer: the real edges are chosen in every fold
assert (fo.layer == "real").all()
print("ok")
PY
	assert_success
	assert_output --partial ok
}

@test "battery: registry rows for the battery's tests, numbers from their tables; the verdict's primaries unchanged" {
	need_py pandas
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
rd = lambda f: pd.read_csv(f, sep="\t", float_precision="round_trip", keep_default_na=True)
r = rd("out/registry.tsv")
inc, mt, ls = rd("out/incremental.tsv"), rd("out/matched.tsv"), rd("out/layer_selection.tsv")
# incremental: the paper's protocol stays incremental_value; every other combination is a battery row
proto = (inc.split == "perturbation") & (inc.model == "logit") & (inc.metric == "auroc")
comp = inc.set != inc.baseline
ib = r[r.analysis == "incremental_battery"]
assert len(ib) == (comp & ~proto).sum() and len(r[r.analysis == "incremental_value"]) == (comp & proto).sum()
for _, x in inc[comp & ~proto].iterrows():
    h = f"{x.set} predicts DE better than {x.baseline} ({x.model}, {x.split} split, {x.metric})"
    y = ib[ib.hypothesis == h]
    assert len(y) == 1, h
    y = y.iloc[0]
    assert y.p == x.boot_p and y.effect == x.delta and y.family == "b"
    assert y.kind == ("confirmatory" if x.metric == "auroc" else "descriptive")
ma = r[r.analysis == "matched_auroc"]
assert len(ma) == (mt.test == "edge_auroc").sum()
assert set(ma[ma.kind == "confirmatory"].hypothesis.str.split().str[0]) == {"coexpr", "real", "conf"}
mi = r[r.analysis == "matched_incremental"]
assert len(mi) == (mt.test == "incremental").sum() and (mi.family == "b").all()
ly = r[r.analysis == "layer_selection"].set_index("kind")
ne = ls[ls.kind == "nested"].iloc[0]
assert ly.loc["confirmatory", "p"] == ne.p and ly.loc["confirmatory", "family"] == "layer"
# none of the battery's rows is primary: q_primary and the verdict rest on the three primaries
assert r[r.primary == 1].analysis.tolist() == ["perturbation_auroc", "incremental_value", "reference_recovery"]
print("ok")
PY
	assert_success
	assert_output --partial ok
	grep -q 'The battery: harder tests' <("$TOP/pipelines/lib/report-battery" out)
	grep -q 'Layers chosen in the outer folds: real' <("$TOP/pipelines/lib/report-battery" out)
}

@test "battery: sensitivity grid: subsampled controls re-drawn, each cell's rows equal direct filter calls + scikit-learn/scipy; cached" {
	need_py sklearn
	need_py scipy
	G=(AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv REF=s/grn.tsv REF_COLS=from,to
		"EDGES=real=s/edges_real.tsv conf=s/edges_confounded.tsv" DRAWS=20 FOLDS=3 GBDT_ROUNDS=15 RECALL_K=10 OUT=out
		"SENS_CONTROLS=60 500" SENS_HVG=30 SENS_LFC=1)
	run make -s -f "$TOP/pipelines/perturbation.mk" "${G[@]}" -j2 sensitivity
	assert_success
	[ -s out/fig_sensitivity.png ]
	# direct filter calls for the cell c60_h30_l1
	gene-stats --counts s/counts.mtx --genes s/genes.txt --cells out/sens/cells_60.tsv.gz --where target=non-targeting \
		--hvg 30 --force out/targets.txt -o gs.tsv
	de-call --counts s/counts.mtx --genes s/genes.txt --cells out/sens/cells_60.tsv.gz --group target \
		--control non-targeting --test welch --lfc 1 --alpha 0.05 --min-cells 30 -o de.tsv
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score
rd = lambda f: pd.read_csv(f, sep="\t", float_precision="round_trip", keep_default_na=True)
# the draw: MINSTD from SEED + 1 over the control cells in table order, the 60 smallest keys kept
c, s = rd("s/cells.tsv"), rd("out/sens/cells_60.tsv.gz")
ctrl = np.flatnonzero((c.target == "non-targeting").to_numpy())
x, keys = 2, []
for _ in ctrl:
    x = x * 48271 % 2147483647
    keys.append(x)
keep = set(ctrl[np.argsort(keys, kind="stable")[:60]])
exp = c.target.where([i not in ctrl or i in keep for i in range(len(c))], np.nan)
assert exp.fillna("").tolist() == s.target.fillna("").tolist()
assert (s.drop(columns="target").astype(str).values == c.drop(columns="target").astype(str).values).all()
# universe and DE labels from the direct calls; AUROC per perturbation of the
# baselines and the edge tables; mean, n and scipy's one-sample tests against 0.5
gs = rd("gs.tsv")
uni = gs[gs.hvg_rank.notna() & (gs["var"] > 0)].gene.tolist()
assert uni == [l.strip() for l in open("out/sens/c60_h30_l1/universe.txt")]
de = rd("de.tsv")
g = gs.set_index("gene")
edges = {n: rd(f).assign(value=lambda t: t.value) for n, f in [("real", "s/edges_real.tsv"), ("conf", "s/edges_confounded.tsv")]}
sens = rd("out/sensitivity.tsv")
cell = sens[(sens.controls == 60) & (sens.hvg == 30) & (sens.lfc == 1)].set_index("method")
assert (cell.n_controls == 60).all() and (cell.n_universe == len(uni)).all()
au = {m: [] for m in ["real", "conf", "variance", "mean", "detection"]}
targets = set(l.strip() for l in open("out/targets.txt"))
for p in sorted(set(de.perturbation) & set(uni) & targets):
    d = de[de.perturbation == p].set_index("gene").loc[[u for u in uni if u != p]]
    if d.de.sum() < 3:
        continue
    y = d.de.to_numpy()
    au["variance"].append(roc_auc_score(y, g.loc[d.index, "var"]))
    au["mean"].append(roc_auc_score(y, g.loc[d.index, "mean"]))
    au["detection"].append(roc_auc_score(y, 1 - g.loc[d.index, "dropout"]))
    for n, e in edges.items():
        sc = e[e["from"] == p].drop_duplicates("to").set_index("to").value.reindex(d.index)
        assert sc.notna().all()
        au[n].append(roc_auc_score(y, sc))
for meth, a in au.items():
    a = np.array(a)
    r = cell.loc[meth]
    assert r.n_perturbations == len(a) and len(a) >= 2, (meth, len(a))
    assert abs(r.mean_auroc - a.mean()) < 1e-9, (meth, r.mean_auroc, a.mean())
    dd = a - 0.5
    ties = len(np.unique(np.abs(dd))) < len(dd)
    w = stats.wilcoxon(dd, zero_method="zsplit", method="approx" if ties and not np.any(dd == 0) else "auto")
    assert abs(r.p - w.pvalue) < 1e-9 and abs(r.p_t - stats.ttest_1samp(a, 0.5).pvalue) < 1e-9, meth
# 2 x 1 x 1 cells x 6 methods; 500 controls asked, all there are kept and said
assert len(sens) == 12
big = sens[sens.controls == 500]
n = (c.target == "non-targeting").sum()
assert (big.n_controls == n).all() and big.note.str.contains("fewer than the 500 asked").all()
print("ok")
PY
	assert_success
	assert_output --partial ok
	# cached: a second run does nothing
	run make -f "$TOP/pipelines/perturbation.mk" "${G[@]}" sensitivity
	assert_success
	refute_output --partial "pert-sensitivity"
	refute_output --partial "de-call"
}

@test "battery: a bad GBDT_*, MATCH_* or SENS_* setting stops the run naming it (not NA rows)" {
	cp -rp out bad
	A=(AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv REF=s/grn.tsv REF_COLS=from,to
		"EDGES=real=s/edges_real.tsv conf=s/edges_confounded.tsv" DRAWS=20 FOLDS=3 GBDT_ROUNDS=15 RECALL_K=10 OUT=bad)
	run make -s -f "$TOP/pipelines/perturbation.mk" "${A[@]}" GBDT_ETA=fast bad/incremental.tsv
	assert_failure
	assert_output --partial "--gbdt-eta"
	run make -s -f "$TOP/pipelines/perturbation.mk" "${A[@]}" MATCH_CALIPER=-1 bad/matched.tsv
	assert_failure
	assert_output --partial "--caliper"
	[ ! -e bad/matched.tsv ] || [ bad/matched.tsv -ot bad/.settings-battery ]
	run make -s -f "$TOP/pipelines/perturbation.mk" "${A[@]}" SENS_CONTROLS=many sensitivity
	assert_failure
	assert_output --partial "SENS_CONTROLS or SENS_HVG: 'many' is not a positive integer"
	run make -s -f "$TOP/pipelines/perturbation.mk" "${A[@]}" BATTERY_SPLITS=random bad/incremental.tsv
	assert_failure
	assert_output --partial "BATTERY_SPLITS: 'random'"
}
