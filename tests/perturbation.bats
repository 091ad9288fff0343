#!/usr/bin/env bats
# pipelines/perturbation.mk end to end on the real Papalexi 2021 screen with
# TRRUST and the tinyfm attention (layers 0 and 3), on a subset of settings.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	# V=1: recipes echoed, so the tests see which steps ran (status lines alone name only targets)
	PIPE="make -f $TOP/pipelines/perturbation.mk AK_BIN=$BIN V=1"
}

papalexi() {
	need_data papalexi2021/counts.mtx.gz tinyfm/meta.tsv trrust_v2_human.tsv.gz
	local T=$DATA/tinyfm P=$DATA/papalexi2021 l
	for l in 0 3; do
		ak attn-topk --resid $T/resid/non-targeting/layer$l.npy --wq $T/layer$l.wq.npy --wk $T/layer$l.wk.npy \
			--bq $T/layer$l.bq.npy --bk $T/layer$l.bk.npy --heads 4 --top 89102 --genes $T/genes.txt \
			--threads 2 -o attn$l.tsv.gz
	done
	ARGS=(COUNTS=$P/counts.mtx.gz GENES=$P/genes.txt CELLS=$P/cells.tsv.gz GROUP=target CONTROL=non-targeting
		REF=$DATA/trrust_v2_human.tsv.gz REF_COLS=1,2 "EDGES=layer0=attn0.tsv.gz layer3=attn3.tsv.gz"
		HVG=150 FOLDS=3 DRAWS=30 SEED=2 OUT=out)
}

@test "perturbation: papalexi2021 + TRRUST + tinyfm layers, outputs, BH vs statsmodels, AUROC vs sklearn, rerun no-op" {
	need_py statsmodels
	need_py sklearn
	papalexi
	run $PIPE "${ARGS[@]}" -j2
	assert_success
	for f in perturbation_auroc.tsv registry.tsv method_summary.tsv paired.tsv incremental.tsv reference.tsv \
		fig_pert_auroc.png fig_delta.png fig_layers.png report.html; do
		[ -s out/$f ] || fail "missing out/$f"
	done
	# universe: 150 HVGs plus the forced targets that are genes
	[ "$(wc -l < out/universe.txt)" -ge 150 ]
	[ "$(head -1 out/perturbation_auroc.tsv)" = $'perturbation\tmethod\tn_pos\tn_neg\tauroc' ]
	# every evaluable perturbation x 6 methods
	run bash -c "cut -f2 out/perturbation_auroc.tsv | tail -n +2 | sort | uniq -c | awk '{print \$2, \$1}' | sort"
	ne=$(wc -l < out/evaluable.txt)
	assert_output "$(printf '%s\n' coexpr detection layer0 layer3 mean variance | sed "s/$/ $ne/")"
	[ "$(head -1 out/registry.tsv)" = $'analysis\tfamily\thypothesis\ttest\tstatistic\tp\teffect\tn\tkind\tprimary\tnote\tq\tq_all\tq_primary\tsignificant' ]
	grep -q 'paired differences\|Paired differences\|No paired difference' out/report.html
	grep -q 'survive FDR' out/report.html
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from statsmodels.stats.multitest import multipletests
from sklearn.metrics import roc_auc_score
r = pd.read_csv("out/registry.tsv", sep="\t", float_precision="round_trip")
m = r.p.notna()
assert m.sum() >= 20, m.sum()
rej, q, _, _ = multipletests(r.p[m], alpha=0.05, method="fdr_bh")
assert np.array_equal(q, r.q_all[m].to_numpy()), (q, r.q_all[m].to_numpy())
assert set(r.analysis) == {"perturbation_auroc", "incremental_value", "reference_recovery",
                          "incremental_battery", "matched_auroc", "matched_incremental", "layer_selection"}
# perturbation AUROC of the baselines and coexpr, from the raw tables
uni = [l.strip() for l in open("out/universe.txt")]
gs = pd.read_csv("out/gene_stats.tsv", sep="\t").set_index("gene")
de = pd.read_csv("out/de.tsv.gz", sep="\t")
co = pd.read_csv("out/coexpr_raw.tsv.gz", sep="\t")
pa = pd.read_csv("out/perturbation_auroc.tsv", sep="\t")
checked = 0
for p in open("out/evaluable.txt").read().split():
    d = de[de.perturbation == p].set_index("gene").loc[[g for g in uni if g != p]]
    if d.de.sum() < 3:  # MIN_DE
        assert pa[pa.perturbation == p].auroc.isna().all()
        continue
    y = d.de.to_numpy()
    c = co[co["from"] == p].set_index("to").value.abs().loc[d.index]
    for meth, s in [("mean", gs.loc[d.index, "mean"]), ("variance", gs.loc[d.index, "var"]),
                    ("detection", 1 - gs.loc[d.index, "dropout"]), ("coexpr", c)]:
        got = pa[(pa.perturbation == p) & (pa.method == meth)].auroc.item()
        want = roc_auc_score(y, s.to_numpy())
        assert abs(got - want) < 1e-12, (p, meth, got, want)
        checked += 1
assert checked >= 8, checked
print("ok", checked)
PY
	assert_success
	assert_output --partial ok
	run $PIPE "${ARGS[@]}"
	assert_output --partial "Nothing to be done"
	# a changed setting re-runs what it affects
	run $PIPE "${ARGS[@]/DRAWS=30/DRAWS=20}" -n
	assert_output --partial "pert-refstats"
	assert_output --partial "pert-incremental"
}

@test "perturbation: missing inputs and reserved edge names are refused before running" {
	run $PIPE OUT=out
	assert_failure
	assert_output --partial "COUNTS is empty"
	printf 'from\tto\tvalue\n' > e.tsv
	run $PIPE COUNTS=x.mtx CELLS=c.tsv REF=e.tsv EDGES="mean=e.tsv" OUT=out
	assert_failure
	assert_output --partial "reserved"
}

@test "perturbation: a failed step leaves no output make would take as done" {
	command -v datamash >/dev/null || skip "datamash missing"
	ak ps-sim --out s --genes 40 --tfs 2 --targets 5 --cells 40 --control 80
	printf 'from\tto\tscore\nTF01\tG001\t1\n' > bad.tsv
	run make -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv \
		REF=s/grn.tsv REF_COLS=from,to "EDGES=bad=bad.tsv" DRAWS=10 OUT=out
	assert_failure
	assert_output --partial "needs columns from, to, value"
	[ ! -e out/edges/bad.tsv.gz ]
	[ ! -e out/registry.tsv ]
	# fixed input: the run completes, and a table without the pair scores it NA, not 0
	printf 'from\tto\tvalue\nTF01\tG001\t1\nTF01\tG001\t5\nG001\tG001\t3\n' > bad.tsv
	run make -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv \
		REF=s/grn.tsv REF_COLS=from,to "EDGES=bad=bad.tsv" DRAWS=10 OUT=out out/pert_scores.tsv.gz
	assert_success
	# repeated pair: first kept; self pair dropped
	run gzip -dc out/edges/bad.tsv.gz
	assert_output $'from\tto\tvalue\nTF01\tG001\t1'
	run bash -c "gzip -dc out/pert_scores.tsv.gz | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } { print \$1, \$2, \$(c[\"bad\"]) }' | sort | uniq | awk '\$3 != \"NA\"'"
	assert_output "TF01 G001 1"
}

@test "perturbation: MAP translates the reference to the expression's ids (same results as unmapped)" {
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	ak ps-sim --out s --genes 60 --tfs 3 --targets 8 --cells 60 --control 120
	# expression and edges in made-up Ensembl-style ids; reference in symbols
	sed 's/^/ENSG_/' s/genes.txt > ens.txt
	{ printf 'ensembl_gene\tsymbol\n'; paste ens.txt s/genes.txt; printf 'ENSG_UNUSED\tTF01\n'; } > map.tsv
	awk -F'\t' -v OFS='\t' 'NR == 1 { print; next } { print "ENSG_" $1, "ENSG_" $2, $3 }' s/edges_real.tsv > real_ens.tsv
	awk -F'\t' -v OFS='\t' 'NR > 1 && $2 != "non-targeting" { $2 = "ENSG_" $2 } { print }' s/cells.tsv > cells_ens.tsv
	common=(AK_BIN="$BIN" COUNTS=s/counts.mtx CELLS=cells_ens.tsv DRAWS=20 FOLDS=3)
	make -s -f "$TOP/pipelines/perturbation.mk" "${common[@]}" GENES=ens.txt REF=s/grn.tsv REF_COLS=from,to \
		MAP=map.tsv MAP_COLS=ensembl_gene,symbol "EDGES=real=real_ens.tsv" OUT=ens 2>/dev/null
	common[2]=CELLS=s/cells.tsv
	make -s -f "$TOP/pipelines/perturbation.mk" "${common[@]}" GENES=s/genes.txt REF=s/grn.tsv REF_COLS=from,to \
		"EDGES=real=s/edges_real.tsv" OUT=sym 2>/dev/null
	[ "$(tail -n +2 ens/reference/ref.tsv | wc -l)" -eq 24 ]
	cmp <(tail -n +2 ens/reference/ref.tsv) <(tail -n +2 sym/reference/ref.tsv | sed 's/^/ENSG_/; s/\t/\tENSG_/')
	cmp <(cut -f2- ens/reference.tsv) <(cut -f2- sym/reference.tsv)
	cmp <(cut -f2- ens/perturbation_auroc.tsv) <(cut -f2- sym/perturbation_auroc.tsv)
}

# a ps-sim screen through the pipeline with the paper's defaults
sim_run() {
	ak ps-sim --out s --genes 60 --tfs 5 --targets 8 --cells 50 --control 120 --seed 3
	make -s -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv \
		REF=s/grn.tsv REF_COLS=from,to "EDGES=real=s/edges_real.tsv conf=s/edges_confounded.tsv" DRAWS=40 OUT=out "$@" \
		> make.log 2>&1 || { cat make.log; return 1; }
}

@test "perturbation: ps-sim screen, the paper's protocol against sklearn/statsmodels (balanced logit on the written folds, GroupKFold, TF endpoint OLS cross-fit, BH x3), verdict and power" {
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	need_py sklearn
	need_py statsmodels
	sim_run
	[ "$(head -1 out/verdict.tsv)" = $'criterion\tclaim\tresult\treason\tevidence' ]
	[ "$(cut -f1 out/verdict.tsv | tail -n +2 | tr '\n' ' ')" = "a b c d " ]
	grep -q '^d	.*	NA	needs the model' out/verdict.tsv
	grep -q 'Verdict: the paper' out/report.html
	grep -q 'perturbations_min_de' out/report.html
	run "$PY" - <<'PY'
import warnings
import numpy as np, pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.model_selection import GroupKFold
from sklearn.metrics import roc_auc_score
warnings.simplefilter("ignore")
rd = lambda f: pd.read_csv(f, sep="\t", float_precision="round_trip", keep_default_na=True)
uni = [l.strip() for l in open("out/universe.txt")]
# MIN_DE = 3: the perturbations that enter logit-cv
de = rd("out/de.tsv.gz")
de = de[de.gene.isin(uni) & (de.gene != de.perturbation) & de.perturbation.isin(uni)]
nde = de.groupby("perturbation").de.sum()
powered = sorted(nde[nde >= 3].index)
rows = rd("out/incremental_rows.tsv")
assert sorted(rows.perturbation.unique()) == powered, (powered, rows.perturbation.unique())
# the folds written are scikit-learn's GroupKFold on these rows
K = min(5, len(powered))
sk = np.empty(len(rows), int)
for k, (_, te) in enumerate(GroupKFold(K).split(rows, groups=rows.perturbation.to_numpy())):
    sk[te] = k
assert np.array_equal(sk, rows.fold.to_numpy())
inc = rd("out/incremental.tsv")
inc = inc[(inc.split == "perturbation") & (inc.model == "logit") & (inc.metric == "auroc")]
sets = {"gene": [], "gene+coexpr": ["coexpr"], "gene+real": ["real"], "gene+conf": ["conf"],
        "gene+coexpr+real": ["coexpr", "real"], "gene+coexpr+conf": ["coexpr", "conf"]}
au = {}
for name, extra in sets.items():
    cols = ["mean", "variance", "detection"] + extra
    pred = np.empty(len(rows))
    for k in range(K):
        tr, te = rows.fold != k, rows.fold == k
        sc = StandardScaler().fit(rows.loc[tr, cols])
        m = LogisticRegression(C=1.0, class_weight="balanced", tol=1e-12, max_iter=100000)
        m.fit(sc.transform(rows.loc[tr, cols]), rows.label[tr])
        pred[te] = m.decision_function(sc.transform(rows.loc[te, cols]))
    au[name] = roc_auc_score(rows.label, pred)
for _, r in inc.iterrows():
    assert abs(r.value - au[r.set]) < 1e-6, (r.set, r.value, au[r.set])
    assert abs(r.delta - (au[r.set] - au[r.baseline])) < 1e-6
# TF endpoint: sources with >= 3 reference targets in the universe x every other gene
grn = rd("s/grn.tsv")
grn = grn[grn["from"].isin(uni) & grn["to"].isin(uni) & (grn["from"] != grn["to"])].drop_duplicates(["from", "to"])
deg = grn.groupby("from").size()
tfs = sorted(deg[deg >= 3].index)
ref = rd("out/reference.tsv").set_index("method")
gs = rd("out/gene_stats.tsv").set_index("gene")
for meth in ["coexpr", "real", "conf"]:
    p = rd(f"out/reference/{meth}.pairs.tsv.gz")
    assert sorted(p["from"].unique()) == tfs and len(p) == len(tfs) * (len(uni) - 1)
    inref = set(zip(grn["from"], grn["to"]))
    assert (p.in_ref.to_numpy() == np.array([(a, b) in inref for a, b in zip(p["from"], p["to"])])).all()
    assert np.allclose(p.dropout_to, gs.loc[p["to"], "dropout"].to_numpy())
    # cross-fitted OLS on the written folds (statsmodels), the residual's AUROC
    X = sm.add_constant(p[["mean_from", "var_from", "mean_to", "var_to", "dropout_to"]].to_numpy())
    res = np.empty(len(p))
    for k in range(5):
        tr, te = (p.fold != k).to_numpy(), (p.fold == k).to_numpy()
        fit = sm.OLS(p.value[tr].to_numpy(), X[tr]).fit()
        res[te] = p.value[te] - fit.predict(X[te])
    assert np.abs(res - p.residual).max() < 1e-6
    raw, ares = roc_auc_score(p.in_ref, p.value), roc_auc_score(p.in_ref, res)
    assert abs(ref.loc[meth, "auroc_raw"] - raw) < 1e-6 and abs(ref.loc[meth, "auroc_res"] - ares) < 1e-6
    assert abs(ref.loc[meth, "retained"] - (ares - 0.5) / (raw - 0.5)) < 1e-6
# BH three ways
r = rd("out/registry.tsv")
def bh(mask, col):
    m = mask & r.p.notna()
    q = multipletests(r.p[m], method="fdr_bh")[1]
    assert np.allclose(q, r.loc[m, col], atol=1e-12, rtol=0), col
    assert r.loc[~m, col].isna().all(), col
bh(r.kind == "confirmatory", "q")
bh(r.p.notna(), "q_all")
bh(r.primary == 1, "q_primary")
# one primary per analysis of the verdict; the battery's rows are never primary
ps = r.groupby("analysis").primary.sum()
assert (ps[["perturbation_auroc", "incremental_value", "reference_recovery"]] == 1).all() and ps.sum() == 3, ps
assert set(r.family) == {"a", "b", "c", "chance", "edges_vs_coexpr", "layer"}
# the verdict follows from the primary rows
v = rd("out/verdict.tsv").set_index("criterion")
pa = r[(r.primary == 1) & (r.analysis == "perturbation_auroc")].iloc[0]
assert v.loc["a", "result"] == ("pass" if pa.effect > 0 and pa.q_primary <= 0.05 else "fail")
pb = r[(r.primary == 1) & (r.analysis == "incremental_value")].iloc[0]
assert pb.hypothesis == "gene+conf predicts DE better than gene"
assert v.loc["b", "result"] == ("pass" if pb.effect > 0 and pb.q_primary <= 0.05 else "fail")
pc = r[(r.primary == 1) & (r.analysis == "reference_recovery")].iloc[0]
ok = ref.loc["conf", "retained"] >= 0.8 and pc.effect > 0 and pc.q_primary <= 0.05
assert v.loc["c", "result"] == ("pass" if ok else "fail")
print("ok", len(powered), K, {k: round(v, 4) for k, v in au.items()})
PY
	assert_success
	assert_output --partial ok
	# switches: unbalanced, all pairs, REF_MIN_TARGETS, PRIMARY: each changes what it should
	run make -n -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv \
		REF=s/grn.tsv REF_COLS=from,to "EDGES=real=s/edges_real.tsv conf=s/edges_confounded.tsv" DRAWS=40 OUT=out BALANCED=0
	assert_output --partial "pert-incremental"
}

# run the small screen with extra settings into OUT=$1, to the report
deg_run() {
	local o=$1
	shift
	make -s -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt \
		REF_COLS=from,to DRAWS=20 FOLDS=3 OUT="$o" "$@" > "$o.log" 2>&1 || { cat "$o.log"; return 1; }
	[ -s "$o/report.html" ] && [ -s "$o/verdict.tsv" ] && [ -s "$o/power.tsv" ]
}
verdict_of() { awk -F'\t' -v c="$2" '$1 == c { print $3 }' "$1/verdict.tsv"; }

@test "perturbation: degenerate screens run to a report with NA rows and reasons (one source, no edge in the universe, no DE, one perturbation, missing pairs)" {
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	ak ps-sim --out s --genes 50 --tfs 3 --targets 6 --cells 40 --control 100 --seed 5
	E="EDGES=real=s/edges_real.tsv"
	# a reference with one source: the curveball null cannot be drawn
	awk -F'\t' 'NR == 1 || $1 == "TF01"' s/grn.tsv > one.tsv
	deg_run one CELLS=s/cells.tsv REF=one.tsv "$E"
	run awk -F'\t' '$4 == "curveball_null_residual" && $5 == "NA" && $6 == "NA" && $11 ~ /at least two sources/' one/registry.tsv
	[ "${#lines[@]}" -eq 2 ]
	[ "$(verdict_of one c)" = NA ]
	grep -q 'curveball needs at least two sources' one/verdict.tsv
	grep -q '^endpoint_sources	1	.*needs at least 2' one/power.tsv
	# ids that match nothing: no edge in the universe, said with the hint
	awk -F'\t' -v OFS='\t' 'NR > 1 { $1 = "ENSG_" $1; $2 = "ENSG_" $2 } { print }' s/grn.tsv > ens.tsv
	deg_run none CELLS=s/cells.tsv REF=ens.tsv "$E"
	grep -q '^reference_genes_universe	0	0 of [0-9]* universe genes .*Ensembl ids vs symbols? see MAP' none/power.tsv
	run awk -F'\t' '$1 == "reference_recovery" && $6 == "NA" && $11 ~ /no reference edge/' none/registry.tsv
	[ "${#lines[@]}" -eq 6 ]
	[ "$(verdict_of none c)" = NA ]
	grep -q 'Ensembl ids vs symbols' none/report.html
	# no perturbation with enough DE genes: (a) and (b) NA, (c) still computed
	deg_run node CELLS=s/cells.tsv REF=s/grn.tsv "$E" MIN_DE=1000
	[ "$(verdict_of node a)" = NA ] && [ "$(verdict_of node b)" = NA ]
	[ "$(verdict_of node c)" != NA ]
	grep -q '^perturbations_min_de	0	' node/power.tsv
	run awk -F'\t' '$1 == "incremental_value" && $6 == "NA" && $11 ~ /0 perturbations with enough DE genes/' node/registry.tsv
	[ "${#lines[@]}" -eq 3 ]
	# one perturbation: a paired test of one pair (p = 1), no cross-validation
	awk -F'\t' -v OFS='\t' 'NR > 1 && $2 != "non-targeting" && $2 != "TF02" { $2 = "not-a-gene" } { print }' s/cells.tsv > c1.tsv
	deg_run p1 CELLS=c1.tsv REF=s/grn.tsv "$E"
	[ "$(verdict_of p1 b)" = NA ]
	grep -q 'cross-validation by perturbation needs at least 2' p1/incremental.tsv
	[ "$(awk -F'\t' '$1 == "perturbation_auroc" && $8 != 1' p1/registry.tsv | wc -l)" -eq 0 ]
	[ "$(verdict_of p1 a)" = fail ]
	grep -q 'underpowered: 1 perturbations' p1/verdict.tsv
	# an edge table that lacks pairs: counted and said loudly
	awk 'NR == 1 || NR % 3' s/edges_real.tsv > holes.tsv
	deg_run holes CELLS=s/cells.tsv REF=s/grn.tsv EDGES=holes=holes.tsv
	run awk -F'\t' '$1 == "missing_pairs_holes" && $2 > 0 && $3 ~ /^WARNING: the edge table holes lacks/' holes/power.tsv
	[ "${#lines[@]}" -eq 1 ]
	grep -q '<b>WARNING: the edge table holes lacks' holes/report.html
	grep -q 'rows lack an edge score and are left out' holes/incremental.tsv
}

@test "perturbation: a training fold with a single class gives NA rows with logit-cv's reason (pert-incremental)" {
	# three perturbations; only P1 has DE genes, so the fold without P1 trains on one class
	{ printf 'perturbation\tgene\tlabel\tmean\tvariance\tdetection\tcoexpr\n'
	  for p in P1 P2 P3; do for g in 1 2 3 4 5 6; do
		printf '%s\tG%s\t%s\t%s\t%s\t0.%s\t0.%s\n' $p $g $([ $p = P1 ] && [ $g -le 3 ] && echo 1 || echo 0) $g $((g * 2)) $g $((g + 1))
	  done; done; } > sc.tsv
	printf 'P1\nP2\nP3\n' > pw.txt
	run "$TOP/pipelines/lib/pert-incremental" sc.tsv pw.txt rows.tsv 3 10 1 1
	assert_success
	assert_output --partial "have a single class"
	[ "$(awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["split"] == "perturbation" && $c["model"] == "logit" && $c["metric"] == "auroc" && $c["value"] == "NA"' <<< "$output" | wc -l)" -eq 2 ]
	[ "$(head -1 rows.tsv | tr '\t' ' ')" = "perturbation gene label mean variance detection coexpr fold" ]
	[ "$(awk 'NR > 1' rows.tsv | wc -l)" -eq 18 ]
	run ak logit-cv --label label --group perturbation --set a=mean --folds 3 sc.tsv
	assert_data_error "sc.tsv: fold 2: the 12 training rows (the other folds) have a single class"
}
