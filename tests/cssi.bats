#!/usr/bin/env bats
# pipelines/cssi.mk end to end on a reduced grid: CSSI-max with the true
# states beats pooled scoring on planted state-specific edges, more so with
# more states; shuffled states do not; same bytes on a rerun; make is the cache.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	# small populations; no real data unless a test asks for it
	# the contrast test and the subsamples only where a test asks for them
	# V=1: recipes echoed, so the cache checks see which steps ran
	PIPE="make -f $TOP/pipelines/cssi.mk AK_BIN=$BIN V=1 CELLS_PER_STATE=60 GENES=120 TFS=12 EDGES=20 PBMC=/nonexistent CONTRAST_PERM=0 BOOT=0"
}

# mean of the ratio column per states for one strata type, "states ratio" lines
mean_ratio() {
	awk -F'\t' -v s="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$(c["strata"]) == s { t[$(c["states"])] += $(c["ratio"]); n[$(c["states"])]++ } END { for (k in t) print k, t[k] / n[k] }' "$1" | sort -n
}
# rows of TSV $1 (header skipped) for which the awk condition $2 holds; columns as c["name"]
rows_where() {
	awk -F'\t' "NR == 1 { for (i = 1; i <= NF; i++) c[\$i] = i; next } $2" "$1"
}

@test "cssi: oracle strata gain on planted state-specific edges, growing with states; shuffled strata do not" {
	# no state mean shifts: states differ only in their networks, so the gain
	# is the pooled correlation's dilution, not the state confound
	run $PIPE OUT=out STATES="2 4 8" SEEDS="1 2 3" SIM_FLAGS="--shift 0" synthetic -j2
	assert_success
	[ -s out/fig_cssi_ratio.png ] && [ -s out/fig_cssi_ratio.svg ]
	head -1 out/cssi_synthetic.tsv | grep -qx $'states\tcells\tstrata\tseed\tf1_pooled\tf1_cssi\tratio'
	# 3 states x 3 seeds x 5 strata (oracle, clustered, and the nulls shuffled, random_labels, gene_permuted)
	[ "$(awk 'NR > 1' out/cssi_synthetic.tsv | wc -l)" -eq 45 ]
	[ "$(rows_where out/cssi_synthetic.tsv '{ print $(c["strata"]) }' | sort -u | tr '\n' ' ')" = "clustered gene_permuted oracle random_labels shuffled " ]
	# cells = 60 per state within [200, 1500]
	[ "$(rows_where out/cssi_synthetic.tsv '{ print $(c["states"]), $(c["cells"]) }' | sort -u | tr '\n' ' ')" = "2 200 4 240 8 480 " ]
	mean_ratio out/cssi_synthetic.tsv oracle
	mean_ratio out/cssi_synthetic.tsv shuffled
	mean_ratio out/cssi_synthetic.tsv oracle | awk '
		{ r[NR] = $2 } END { exit !(r[1] > 1 && r[2] > r[1] && r[3] > r[2]) }'
	# every seed: oracle beats pooled (ratio > 1)
	run rows_where out/cssi_synthetic.tsv '$(c["strata"]) == "oracle" && !($(c["ratio"]) > 1)'
	assert_output ""
	# shuffled and random labels: no inflation, on average and for (nearly) every seed
	mean_ratio out/cssi_synthetic.tsv shuffled | awk '{ if ($2 > 1.05) bad = 1 } END { exit bad }'
	mean_ratio out/cssi_synthetic.tsv random_labels | awk '{ if ($2 > 1.05) bad = 1 } END { exit bad }'
	[ "$(rows_where out/cssi_synthetic.tsv '$(c["strata"]) == "shuffled" && $(c["ratio"]) > 1.1' | wc -l)" -le 1 ]
	# gene-permuted labels: both F1s collapse (true pairs are a few percent of the candidates)
	run rows_where out/cssi_synthetic.tsv '$(c["strata"]) == "gene_permuted" && ($(c["f1_pooled"]) > 0.2 || $(c["f1_cssi"]) > 0.2)'
	assert_output ""
	# the summary: one row per (states, strata), n = 3, interval around the mean
	[ "$(awk 'NR > 1' out/cssi_synthetic_summary.tsv | wc -l)" -eq 15 ]
	run rows_where out/cssi_synthetic_summary.tsv '$(c["strata"]) != "gene_permuted" && !($(c["n"]) == 3 && $(c["ratio_lo"]) <= $(c["ratio_mean"]) && $(c["ratio_mean"]) <= $(c["ratio_hi"]))'
	assert_output ""
}

@test "cssi: the summary (mean, 95% interval, ratio_of_means), F1, the contrast counts and the subsample Jaccards match numpy/scipy/pandas" {
	need_py scipy pandas
	# with a small contrast test and 3 subsamples, checked below
	$PIPE OUT=out STATES="2 4" SEEDS="1 2 3" CONTRAST_PERM=19 BOOT=3 BOOT_K=40 >/dev/null 2>&1
	run "$PY" - <<'PY'
import numpy as np, scipy.stats as st, csv
rows = list(csv.DictReader(open('out/cssi_synthetic.tsv'), delimiter='\t'))
summ = list(csv.DictReader(open('out/cssi_synthetic_summary.tsv'), delimiter='\t'))
for s in summ:
    x = np.array([float(r['ratio']) for r in rows if r['states'] == s['states'] and r['strata'] == s['strata']])
    m, sd = x.mean(), x.std(ddof=1); h = st.t.ppf(0.975, len(x) - 1) * sd / np.sqrt(len(x))
    if s['strata'] == 'gene_permuted':
        continue     # F1s near 0: a ratio may be nan
    for k, v in [('ratio_mean', m), ('ratio_sd', sd), ('ratio_lo', m - h), ('ratio_hi', m + h)]:
        assert abs(float(s[k]) - v) <= 1e-5 * max(1, abs(v)), (s, k, v)
    # Table S5's ratio: the ratio of the mean F1s, not the mean of the ratios
    f = lambda c: np.mean([float(r[c]) for r in rows if r['states'] == s['states'] and r['strata'] == s['strata']])
    assert abs(float(s['ratio_of_means']) - f('f1_cssi') / f('f1_pooled')) <= 1e-5, s
# F1 of pooled scoring for one population, from the pairs and the truth directly
import gzip
d = 'out/synthetic/s4/seed2'
truth = {tuple(l.split('\t')[:2]) for l in open(f'{d}/data/truth.tsv').read().split('\n')[1:] if l}
for scoring, col in [('pooled', 'f1_pooled'), ('oracle', 'f1_cssi')]:
    p = [l.split('\t') for l in gzip.open(f'{d}/pairs.{scoring}.tsv.gz', 'rt').read().split('\n')[1:] if l]
    s = np.array([abs(float(v)) if v != 'nan' else -1 for _, _, v in p]); y = np.array([(a, b) in truth for a, b, _ in p])
    k = int(y.sum()); o = np.argsort(-s, kind='stable')
    assert len(set(s[o[k - 1:k + 1]])) == 2     # no tie at the cut here
    f1 = y[o[:k]].sum() / k
    want = [r[col] for r in rows if r['states'] == '4' and r['seed'] == '2' and r['strata'] == 'oracle'][0]
    assert abs(f1 - float(want)) < 1e-12, (scoring, f1, want)
print('ok')
PY
	assert_success
	assert_output ok
	# the contrast test and the top-k stability rows against pandas/numpy on the pipeline's own files
	run "$PY" - <<'PY'
import numpy as np, pandas as pd, itertools
rd = lambda f: pd.read_csv(f, sep="\t", keep_default_na=False, na_values=["nan", "NA"])
con = rd("out/cssi_synthetic_contrast.tsv"); boot = rd("out/cssi_synthetic_boot.tsv")
assert len(con) == 6 and len(boot) == 12 and set(boot.scoring) == {"pooled", "oracle"}
for _, r in con.iterrows():
    d = f"out/synthetic/s{int(r.states)}/seed{int(r.seed)}"
    p = rd(f"{d}/pairs.contrast.tsv.gz"); t = rd(f"{d}/data/truth.tsv")
    assert list(p.columns) == ["from", "to", "value", "pooled", "p", "q"]
    p = p.dropna(subset=["q"])
    tr = p.set_index(["from", "to"]).index.isin(t.set_index(["from", "to"]).index)
    sig = p.q.values < 0.05
    assert (r.n_pairs, r.n_true, r.n_sig, r.n_sig_true) == (len(p), tr.sum(), sig.sum(), (sig & tr).sum()), r
    assert abs(r.q_min - p.q.min()) < 1e-5
    # 19 permutations: p >= 0.05; the true pairs' p is smaller on average
    assert p.p.min() >= 0.05 - 1e-12 and p.p[tr].mean() < p.p[~tr].mean()
for _, r in boot.iterrows():
    d = f"out/synthetic/s{int(r.states)}/seed{int(r.seed)}/boot.{r.scoring}.tsv.d"
    sets = []
    for b in (1, 2, 3):
        x = rd(f"{d}/{b}.tsv").dropna()
        o = np.argsort(-np.abs(x.value.values), kind="stable")[:40]
        sets.append(set(zip(x["from"].values[o], x["to"].values[o])))
    j = [len(a & b) / len(a | b) for a, b in itertools.combinations(sets, 2)]
    assert r.k == 40 and abs(r.jaccard_mean - np.mean(j)) < 1e-5 and abs(r.jaccard_min - min(j)) < 1e-12, (r, j)
    assert 0 < min(j) < 1
print("ok")
PY
	assert_output ok
	grep -q "Per-pair contrast test" out/report.html
	grep -q "Stability of the top" out/report.html
}

@test "cssi: deterministic (same bytes in a fresh directory); make is the cache" {
	$PIPE OUT=a STATES="2 4" SEEDS="1 2" >/dev/null 2>&1
	$PIPE OUT=b STATES="2 4" SEEDS="1 2" >/dev/null 2>&1
	for f in cssi_synthetic.tsv cssi_synthetic_metrics.tsv cssi_synthetic_summary.tsv; do
		cmp a/$f b/$f
	done
	[ -s a/report.html ]
	run $PIPE OUT=a STATES="2 4" SEEDS="1 2"
	assert_success
	assert_output --partial "Nothing to be done"
	# a scoring setting re-runs the scoring, not the simulations
	run $PIPE OUT=a STATES="2 4" SEEDS="1 2" MIN_CELLS=15
	assert_success
	! grep -q '^grn-sim' <<< "$output"
	grep -q '^coexpr' <<< "$output"
	# a failing step leaves no output behind: a coexpr that writes half a file and fails
	mkdir fb
	for f in "$BIN"/*; do ln -s "$f" fb/; done
	rm fb/coexpr
	printf '#!/bin/sh\nfor a; do last=$a; done\necho partial > "$last"\nexit 1\n' > fb/coexpr
	chmod +x fb/coexpr
	run $PIPE OUT=c STATES="2" SEEDS="1" AK_BIN="$PWD/fb"
	assert_failure
	[ -z "$(find c -name 'pairs.*')" ] || fail "left behind: $(find c -name 'pairs.*')"
	[ ! -e c/cssi_synthetic.tsv ]
}

@test "cssi: pbmc160 against TRRUST and DoRothEA (real data)" {
	need_data pbmc160/matrix.mtx.gz trrust_v2_human.tsv.gz dorothea_hs_ABC.tsv.gz
	run make -f "$TOP/pipelines/cssi.mk" AK_BIN="$BIN" OUT=out STATES=2 SEEDS=1 CELLS_PER_STATE=60 \
		GENES=120 TFS=12 EDGES=20 PBMC="$DATA/pbmc160" TRRUST="$DATA/trrust_v2_human.tsv.gz" \
		DOROTHEA="$DATA/dorothea_hs_ABC.tsv.gz" PBMC_HVG=1000 CONTRAST_PERM=19 BOOT=2 -j2
	assert_success
	head -1 out/cssi_pbmc.tsv | grep -q $'^reference\tstrata\tseed\tn_pairs\tn_true\tf1_pooled\tf1_cssi\tratio'
	for r in trrust dorothea; do
		for s in oracle clustered shuffled random_labels gene_permuted; do
			grep -q "^$r	$s	" out/cssi_pbmc.tsv || fail "no $r $s row"
		done
	done
	# every reference has true pairs among the candidates; F1 in [0, 1]
	run rows_where out/cssi_pbmc.tsv '!($(c["n_true"]) > 0 && $(c["f1_pooled"]) >= 0 && $(c["f1_pooled"]) <= 1 && $(c["f1_cssi"]) >= 0 && $(c["f1_cssi"]) <= 1)'
	assert_output ""
	# Leiden strata on pbmc160 (cluster's default settings)
	[ "$(rows_where out/pbmc/clusters.seed1.tsv '{ print $(c["cluster"]) }' | sort -u | wc -l)" -ge 3 ]
	head -1 out/cssi_pbmc_summary.tsv | grep -q $'\tratio_of_means$'
	head -1 out/cssi_pbmc_contrast.tsv | grep -qx $'reference\tn_pairs\tn_true\tn_sig\tn_sig_true\tprecision\trecall\tq_min'
	[ "$(wc -l < out/cssi_pbmc_contrast.tsv)" -eq 3 ] && [ "$(wc -l < out/cssi_pbmc_boot.tsv)" -eq 3 ]
	grep -q "pbmc160" out/report.html
}
