#!/usr/bin/env bats
# network.mk's layer-auroc target (issue #21): per model x category x layer
# the exact all-pairs AUROC/AUPRC against several references (a directed
# one, and an undirected one with its own columns), scopes all and sources,
# per head; Spearman trend over depth; references' profile correlation; the
# head ranking; Fisher enrichment, depletion and two-sided of each layer's
# top-K with BH; the report section. Numbers against numpy/sklearn/scipy/
# statsmodels on the dense matrices. One fixture (fm-sim, 120 genes, 3
# layers, one category, a symbol and an Ensembl model) built once.

setup_file() {
	load helper
	command -v datamash >/dev/null && command -v gnuplot >/dev/null || return 0
	"$PY" -c "import sklearn, statsmodels, pandas" 2>/dev/null || return 0
	cd "$BATS_FILE_TMPDIR"
	"$BIN/fm-sim" --out sim --genes 120 --layers 3 --categories 1 > /dev/null
	# an undirected reference with its own column names: every third edge,
	# written target-first, plus a few random symbol pairs
	awk -F'\t' 'BEGIN { print "a\tb"; srand(3) } NR > 1 && NR % 3 == 0 { print $2 "\t" $1 }
		END { for (i = 0; i < 40; i++) printf "SIM%04d\tSIM%04d\n", 1 + int(rand() * 120), 1 + int(rand() * 120) }' \
		sim/reference.tsv > ppi.tsv
	# counts (cells x genes) named by both models' ids, some genes co-expressed
	# along reference edges so that co-expression takes a share; one gene of
	# beta has no counts (its pairs: nan, skipped)
	"$PY" -c "
import numpy as np
g = open('sim/alpha/genes.txt').read().split() + open('sim/beta/genes.txt').read().split()[:-1]
rng = np.random.default_rng(2)
base = rng.poisson(3.0, (150, len(g))).astype(float)
base[:, 1:40] += rng.poisson(2.0, (150, 1)) * np.arange(1, 40)[None, :] % 5
np.save('counts.npy', base.astype('f4'))
open('cgenes.txt', 'w').write(''.join(x + '\n' for x in g))"
	make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/beta" OUT=out K=50 \
		REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv LAYER_AUROC=1 \
		COUNTS=counts.npy COUNTS_GENES=cgenes.txt PCOR_NEG=1500 \
		AUROC_REFS="sim/reference.tsv ppi.tsv" REF_COLS_ppi=a,b REF_UNDIRECTED_ppi=1 V=1 -j2 > run1.log 2>&1 ||
		{ cat run1.log >&3; return 1; }
}

setup() {
	load helper
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	need_py sklearn
	need_py statsmodels
	cd "$BATS_FILE_TMPDIR"
}

# the dense attention of every layer (float64, head-averaged and per head),
# the reference labels through the map, as Python module dense.py
dense_py() {
	cat > dense.py <<'PY'
import numpy as np, pandas as pd
idm = pd.read_csv("sim/id_map.tsv", sep="\t", dtype=str)
ens2sym = dict(zip(idm.ensembl_gene, idm.symbol))
def attention(m, layer):
    meta = dict(l.split("\t") for l in open(f"sim/{m}/meta.tsv").read().split("\n")[1:] if l)
    H = int(meta["n_heads"])
    X = np.load(f"sim/{m}/resid/cat1/layer{layer}.npy").astype(np.float64)
    Q = X @ np.load(f"sim/{m}/layer{layer}.wq.npy").astype(np.float64).T
    K = X @ np.load(f"sim/{m}/layer{layer}.wk.npy").astype(np.float64).T
    dk = X.shape[1] // H
    heads = []
    for h in range(H):
        S = Q[:, h*dk:(h+1)*dk] @ K[:, h*dk:(h+1)*dk].T / np.sqrt(dk)
        S = np.exp(S - S.max(1, keepdims=True)); S /= S.sum(1, keepdims=True)
        heads.append(S)
    return np.stack(heads)
def symbols(m):
    g = open(f"sim/{m}/genes.txt").read().split()
    return [ens2sym.get(x) for x in g] if g[0].startswith("ENS") else g
def labels(m, ref):
    s = symbols(m)
    if ref == "reference":
        r = pd.read_csv("sim/reference.tsv", sep="\t"); E = set(zip(r.tf, r.target))
    else:
        r = pd.read_csv("ppi.tsv", sep="\t"); E = set(zip(r.a, r.b)) | set(zip(r.b, r.a))
    n = len(s)
    return np.array([[(s[i], s[j]) in E for j in range(n)] for i in range(n)])
PY
}

@test "layer-auroc: every AUROC/AUPRC (all, sources, per head; directed and undirected through the map) equals sklearn on the dense attention" {
	dense_py
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score, average_precision_score
from dense import attention, labels
t = pd.read_csv("out/layer_auroc.tsv", sep="\t")
th = pd.read_csv("out/layer_auroc.heads.tsv", sep="\t")
assert len(t) == 2 * 3 * 2 * 2, len(t)          # models x layers x references x scopes
bad, worst, n = [], 0.0, 0
for m in ("alpha", "beta"):
    for ref in ("reference", "ppi"):
        Y = labels(m, ref)
        off = ~np.eye(len(Y), dtype=bool)
        src = (Y & off).any(1)[:, None] & off
        for layer in range(3):
            A = attention(m, layer)
            for scope, mask in (("all", off), ("sources", src)):
                r = t[(t.model == m) & (t.reference == ref) & (t.layer == layer) & (t.scope == scope)]
                assert len(r) == 1
                r = r.iloc[0]
                y, s = Y[mask], A.mean(0)[mask]
                a, p = roc_auc_score(y, s), average_precision_score(y, s)
                if r.n_pos != y.sum() or r.n_neg != (~y).sum():
                    bad.append(f"{m} {ref} {layer} {scope}: n_pos {r.n_pos} vs {y.sum()}")
                worst = max(worst, abs(a - r.auroc), abs(p - r.auprc)); n += 1
            for h in range(A.shape[0]):
                r = th[(th.model == m) & (th.reference == ref) & (th.layer == layer) & (th["head"] == h)].iloc[0]
                y, s = Y[off], A[h][off]
                worst = max(worst, abs(roc_auc_score(y, s) - r.auroc), abs(average_precision_score(y, s) - r.auprc)); n += 1
# float32 attention against float64: near-ties may swap (1/(n_pos n_neg) ~ 1e-6 each)
if worst > 2e-5: bad.append(f"worst |difference| {worst}")
print("\n".join(bad)); print("compared", n, "worst", worst)
PY
	echo "$output"
	assert_success
	assert_line --regexp '^compared (4[0-9]|[5-9][0-9]) worst'
	refute_output --partial ":"
	# the undirected reference matched both ways: its positives hold each edge in both directions
	run awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$(c["reference"]) == "ppi" && $(c["scope"]) == "all" && $(c["n_pos"]) % 2 { print "odd n_pos: " $0 }' out/layer_auroc.tsv
	assert_output ""
}

@test "layer-auroc: trend, reference correlation, medians and head ranking equal scipy/pandas" {
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from scipy.stats import spearmanr, pearsonr
t = pd.read_csv("out/layer_auroc.tsv", sep="\t")
bad, n = [], 0
def close(a, b, what, tol=1e-12):
    global n
    n += 1
    if not ((np.isnan(a) and np.isnan(b)) or abs(a - b) <= tol * max(1, abs(b))):
        bad.append(f"{what}: {a} vs {b}")
tr = pd.read_csv("out/auroc_trend.tsv", sep="\t")
for (m, c, ref, sc), g in t.groupby(["model", "category", "reference", "scope"]):
    r = tr[(tr.model == m) & (tr.category == c) & (tr.reference == ref) & (tr.scope == sc)].iloc[0]
    rho, p = spearmanr(g.layer, g.auroc)
    close(r.spearman_rho, rho, f"{m} {ref} {sc} rho"); close(r.spearman_p, p, f"{m} {ref} {sc} p", 1e-9)
    pr, pp = pearsonr(g.layer, g.auroc)
    close(r.pearson_r, pr, "pearson"); close(r.pearson_p, pp, "pearson p", 1e-9)
rc = pd.read_csv("out/ref_correlation.tsv", sep="\t")
assert len(rc) == 4, len(rc)
for _, r in rc.iterrows():
    g = t[(t.model == r.model) & (t.category == r.category) & (t.scope == r.scope)]
    a = g[g.reference == r.reference_a].sort_values("layer").auroc.to_numpy()
    b = g[g.reference == r.reference_b].sort_values("layer").auroc.to_numpy()
    rho, p = spearmanr(a, b)
    close(r.spearman_rho, rho, "ref rho"); close(r.spearman_p, p, "ref p", 1e-9)
    close(r.pearson_r, pearsonr(a, b)[0], "ref pearson")
med = pd.read_csv("out/layer_auroc.median.tsv", sep="\t")
for _, r in med.iterrows():
    g = t[(t.model == r.model) & (t.reference == r.reference) & (t.scope == r.scope) & (t.layer == r.layer)]
    close(r.auroc, g.auroc.median(), "median"); close(r.auroc_min, g.auroc.min(), "min")
hr = pd.read_csv("out/head_ranking.tsv", sep="\t")
th = pd.read_csv("out/layer_auroc.heads.tsv", sep="\t")
for (m, c, ref), g in th.groupby(["model", "category", "reference"]):
    e = g.assign(rank=g.auroc.rank(method="min", ascending=False).astype(int)).sort_values(["rank", "layer", "head"])
    h = hr[(hr.model == m) & (hr.category == c) & (hr.reference == ref)]
    if list(zip(h["rank"], h.layer, h["head"])) != list(zip(e["rank"], e.layer, e["head"])):
        bad.append(f"{m} {c} {ref}: head ranking differs")
    n += 1
print("\n".join(bad)); print("compared", n)
PY
	echo "$output"
	assert_success
	refute_output --partial ":"
	# fm-sim plants the reference in alpha's and beta's attention: AUROC above chance
	run awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$(c["reference"]) == "reference" && $(c["scope"]) == "all" && $(c["layer"]) == 1 && !($(c["auroc"]) > 0.6) { print }' out/layer_auroc.tsv
	assert_output ""
}

@test "layer-auroc: Fisher enrichment, depletion and two-sided of each layer's top-K per reference equal scipy; BH equals statsmodels" {
	dense_py
	run "$PY" - <<'PY'
import gzip, numpy as np, pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from dense import labels
f = pd.read_csv("out/layer_fisher.tsv", sep="\t")
assert len(f) == 2 * 3 * 2 * 3, len(f)        # models x layers x references x tails
bad, n = [], 0
alt = {"enrichment": "greater", "depletion": "less", "two-sided": "two-sided"}
genes = {m: open(f"sim/{m}/genes.txt").read().split() for m in ("alpha", "beta")}
for m in ("alpha", "beta"):
    idx = {g: i for i, g in enumerate(genes[m])}
    nn = len(idx)
    for ref in ("reference", "ppi"):
        Y = labels(m, ref); np.fill_diagonal(Y, False)
        R = int(Y.sum())
        for layer in range(3):
            with gzip.open(f"out/{m}/cat1/topk/layer{layer}.tsv.gz", "rt") as fh:
                top = pd.read_csv(fh, sep="\t", dtype={"from": str, "to": str}).head(50)
            a = sum(Y[idx[x], idx[y]] for x, y in zip(top["from"], top["to"]))
            tab = [[a, 50 - a], [R - a, nn * (nn - 1) - 50 - (R - a)]]
            for tail, al in alt.items():
                r = f[(f.model == m) & (f.reference == ref) & (f.layer == layer) & (f["tail"] == tail)].iloc[0]
                p = fisher_exact(tab, alternative=al).pvalue
                n += 1
                if r.n_in_ref != a or abs(r.p - p) > 1e-9 * p:
                    bad.append(f"{m} {ref} {layer} {tail}: {r.n_in_ref} {r.p} vs {a} {p}")
for _, g in f.groupby(["model", "category", "tail"]):
    q = multipletests(g.p, method="fdr_bh")[1]
    if np.max(np.abs(q - g.q.to_numpy())) > 1e-12: bad.append("BH differs")
print("\n".join(bad)); print("compared", n)
PY
	echo "$output"
	assert_success
	assert_line "compared 36"
	refute_output --partial ":"
}

@test "layer-auroc: partial correlation with COUNTS: the sample (every edge + seeded non-edges), attention, co-expression and partial r equal numpy/scipy/statsmodels" {
	dense_py
	run "$PY" - <<'PY'
import numpy as np, pandas as pd, warnings
import statsmodels.api as sm
from scipy.stats import spearmanr, rankdata
from dense import attention, labels
warnings.simplefilter("ignore")
X = np.load("counts.npy").astype(float)
cg = open("cgenes.txt").read().split()
cix = {g: i for i, g in enumerate(cg)}
L = np.log1p(X / X.sum(1, keepdims=True) * 1e4)
R = np.apply_along_axis(rankdata, 0, L)
C = np.corrcoef(R.T)
pc = pd.read_csv("out/layer_pcor.tsv", sep="\t")
bad, n = [], 0
for m in ("alpha", "beta"):
    genes = open(f"sim/{m}/genes.txt").read().split()
    gi = {g: i for i, g in enumerate(genes)}
    s = pd.read_csv(f"out/{m}/cat1/pcor/sample.tsv", sep="\t")
    for ref in ("reference", "ppi"):
        Y = labels(m, ref); np.fill_diagonal(Y, False)
        ss = s[s.reference == ref]
        fi, ti = ss["from"].map(gi).to_numpy(), ss["to"].map(gi).to_numpy()
        pos = ss[ss.in_ref == 1]
        if len(pos) != Y.sum() or not Y[fi[ss.in_ref == 1], ti[ss.in_ref == 1]].all(): bad.append(f"{m} {ref}: edges")
        neg = ss[ss.in_ref == 0]
        if len(neg) != 1500 or Y[fi[ss.in_ref == 0], ti[ss.in_ref == 0]].any() or (fi == ti).any() \
           or len(set(zip(neg["from"], neg["to"]))) != 1500: bad.append(f"{m} {ref}: non-edges")
        co = np.array([C[cix[a], cix[b]] if a in cix and b in cix else np.nan for a, b in zip(ss["from"], ss["to"])])
        for layer in range(3):
            A = attention(m, layer).mean(0)
            a, y = A[fi, ti], ss.in_ref.to_numpy().astype(float)
            ok = ~np.isnan(co)
            a, y, z = a[ok], y[ok], co[ok]
            Z = np.column_stack([np.ones(len(z)), z])
            res = lambda v: v - Z @ np.linalg.lstsq(Z, v, rcond=None)[0]
            r = pc[(pc.model == m) & (pc.reference == ref) & (pc.layer == layer)].iloc[0]
            e_r = np.corrcoef(a, y)[0, 1]; e_p = np.corrcoef(res(a), res(y))[0, 1]
            fit = sm.OLS(a, np.column_stack([Z, y])).fit()
            n += 1
            if r.n != len(a) or abs(r.pearson_r - e_r) > 1e-5 or abs(r.partial_r - e_p) > 1e-5 \
               or abs(r.spearman_rho - spearmanr(a, y)[0]) > 1e-4 or abs(np.log(r.partial_p) - np.log(fit.pvalues[-1])) > 1e-3 * abs(np.log(fit.pvalues[-1])) + 1e-6:
                bad.append(f"{m} {ref} {layer}: n {r.n}/{len(a)} r {r.pearson_r}/{e_r} partial {r.partial_r}/{e_p} p {r.partial_p}/{fit.pvalues[-1]}")
print("\n".join(bad)); print("compared", n)
PY
	echo "$output"
	assert_success
	assert_line "compared 12"
	refute_output --partial ":"
}

@test "layer-auroc: report section and figure; make is the cache; off by default; bad settings" {
	[ -s out/fig_layer_auroc.png ] && [ -s out/fig_layer_auroc.svg ]
	grep -q 'id="auroc"' out/report.html
	grep -q 'head_ranking.top.tsv' out/report.html
	grep -q 'layer_fisher.tsv' out/report.html
	grep -q 'layer_pcor.tsv' out/report.html
	grep -q 'survives controlling for co-expression' out/report.html
	grep -Eq 'alpha</b> vs reference: AUROC from 0\.[0-9]+ \(layer [0-2]\) to 0\.[0-9]+ \(layer [0-2]\)' out/report.html
	ARGS=(MODELS="sim/alpha sim/beta" OUT=out K=50 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv
		AUROC_REFS="sim/reference.tsv ppi.tsv" REF_COLS_ppi=a,b REF_UNDIRECTED_ppi=1
		COUNTS=counts.npy COUNTS_GENES=cgenes.txt PCOR_NEG=1500)
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" "${ARGS[@]}" LAYER_AUROC=1
	assert_success
	assert_output --partial "Nothing to be done"
	# without LAYER_AUROC the report has no section, and no AUROC pass runs
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" "${ARGS[@]}" V=1 -n
	assert_success
	! grep -q 'layer-auroc' <<< "$output"
	# a per-reference setting changed: only the AUROC and Fisher steps again, no top-K
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" "${ARGS[@]}" REF_UNDIRECTED_ppi= layer-auroc V=1 -n
	assert_success
	grep -q 'layer-auroc' <<< "$output"
	! grep -q 'attn-topk --resid' <<< "$output"
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" "${ARGS[@]}" AUROC_REFS="sim/reference.tsv nothere.tsv" layer-auroc
	assert_failure
	assert_output --partial "nothere.tsv: no such file"
	cp ppi.tsv ppi.txt
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" "${ARGS[@]}" AUROC_REFS="ppi.txt ppi.tsv" layer-auroc
	assert_failure
	assert_output --partial "same name"
}
