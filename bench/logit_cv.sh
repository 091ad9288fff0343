#!/usr/bin/env bash
# Benchmark logit-cv at the paper's scale: 560,000 perturbation x gene rows
# (28 perturbations x 20,000 genes), 5 features (base = 4 gene-level
# covariates, full = base + an edge score), 5 grouped folds, 200 bootstrap
# draws over perturbations; the logistic and the GBDT (XGBoost, 200 rounds,
# depth 4, hist) paths, against Python doing the same work on the same rows
# and folds (pandas read, scikit-learn LogisticRegression / python3-xgboost,
# roc_auc_score on 200 weighted resamples). One run each.
#   bench/logit_cv.sh [BINDIR] [ROWS]
# Figures: wall-clock and CPU (user + sys) seconds from /usr/bin/time, and the
# load average before each run: on a shared machine the wall-clock time is
# the CPU time stretched by the other jobs, so both are reported.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(cd "${1:-$here/bin}" && pwd)
rows=${2:-560000}
dir=${AK_BENCH_DIR:-/tmp/attnkit-bench}
PY=/usr/bin/python3
mkdir -p "$dir"
cd "$dir"

data=cv_$rows.tsv
if [ ! -s "$data" ]; then
	echo "generating $rows rows in $dir ..." >&2
	"$PY" - "$rows" "$data" <<'PY'
import os, sys, numpy as np
n, out = int(sys.argv[1]), sys.argv[2]
rng = np.random.default_rng(17)
P = 28
G = n // P
pert, gene = np.repeat(np.arange(P), G), np.tile(np.arange(G), P)
# gene-level covariates shared by the perturbations, a pair-level one, and an
# edge score that only echoes expression; one interaction for the trees
expr, deg, var = (np.tile(v, P) for v in (rng.standard_normal(G), rng.exponential(size=G),
                                          rng.standard_normal(G)))
cox = rng.standard_normal(len(pert))
edge = 0.5 * expr + rng.standard_normal(len(pert))
eta = -3 + 0.8 * expr - 0.3 * deg + 0.2 * cox + 0.5 * (expr * var > 0.5)
y = (rng.random(len(pert)) < 1 / (1 + np.exp(-eta))).astype(int)
with open(out + ".tmp", "w") as f:
    f.write("pert\tgene\tlabel\texpr\tdeg\tvar\tcox\tedge\n")
    for s in range(0, len(pert), 100000):
        e = slice(s, s + 100000)
        f.write("".join(f"P{a}\tG{b}\t{c}\t{d:.6f}\t{e_:.6f}\t{g:.6f}\t{h:.6f}\t{i:.6f}\n"
                        for a, b, c, d, e_, g, h, i in zip(pert[e], gene[e], y[e], expr[e], deg[e],
                                                           var[e], cox[e], edge[e])))
os.rename(out + ".tmp", out)
PY
fi

cat > ref_cv.py <<'PY'
import sys, warnings, numpy as np, pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.metrics import roc_auc_score, average_precision_score
warnings.simplefilter("ignore")
model, data, folds = sys.argv[1:4]
d = pd.read_csv(data, sep="\t")
fold = d.pert.map(pd.read_csv(folds, sep="\t").set_index("group").fold).to_numpy()
sets = {"base": ["expr", "deg", "var", "cox"], "full": ["expr", "deg", "var", "cox", "edge"]}
y = d.label.to_numpy()
pred = {}
for name, cols in sets.items():
    X, p = d[cols].to_numpy(), np.empty(len(d))
    for k in range(5):
        tr, te = fold != k, fold == k
        if model == "logit":
            sc = StandardScaler().fit(X[tr])
            m = LogisticRegression(C=1.0, max_iter=1000).fit(sc.transform(X[tr]), y[tr])
            p[te] = m.decision_function(sc.transform(X[te]))
        else:
            import xgboost as xgb
            b = xgb.train({"objective": "binary:logistic", "max_depth": 4, "eta": 0.1, "subsample": 1,
                           "tree_method": "hist", "nthread": 1, "seed": 0},
                          xgb.DMatrix(X[tr], label=y[tr]), num_boost_round=200)
            p[te] = b.predict(xgb.DMatrix(X[te]))
    pred[name] = p
g = pd.factorize(d.pert)[0]
ng = g.max() + 1
rng = np.random.default_rng(1)
deltas = []
for _ in range(200):
    w = np.bincount(rng.integers(0, ng, ng), minlength=ng)[g]
    deltas.append(roc_auc_score(y, pred["full"], sample_weight=w) - roc_auc_score(y, pred["base"], sample_weight=w))
lo, hi = np.quantile(deltas, [0.025, 0.975])
pd.DataFrame({"set": list(sets), "auroc": [roc_auc_score(y, pred[s]) for s in sets],
              "auprc": [average_precision_score(y, pred[s]) for s in sets],
              "ci_lo": [np.nan, lo], "ci_hi": [np.nan, hi]}).to_csv(sys.stdout, sep="\t", index=False)
PY

opts=(--label label --group pert --set base=expr,deg,var,cox --set full=expr,deg,var,cox,edge
      --folds 5 --bootstrap 200 --boot-p --folds-out folds.tsv)
tm() { # name, command...
	local name=$1
	shift
	echo "== $name (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
	/usr/bin/time -f "$name: wall %e s, cpu %U+%S s, peak RSS %M KB" "$@" > "out_$name.tsv"
}
tm logit "$bin/logit-cv" "${opts[@]}" "$data"
tm gbdt "$bin/logit-cv" "${opts[@]}" --model gbdt "$data"
tm gbdt_exact "$bin/logit-cv" "${opts[@]}" --model gbdt --gbdt-method exact "$data"
tm sklearn "$PY" ref_cv.py logit "$data" folds.tsv
tm xgboost "$PY" ref_cv.py gbdt "$data" folds.tsv
for m in logit gbdt sklearn xgboost; do echo "-- $m"; cat "out_$m.tsv"; done
