#!/usr/bin/env bats
# pipelines/cssi.mk end to end on a reduced grid: CSSI-max with the true
# states beats pooled scoring on planted state-specific edges, more so with
# more states; shuffled states do not; same bytes on a rerun; make is the cache.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	# small populations; no real data unless a test asks for it
	PIPE="make -f $TOP/pipelines/cssi.mk AK_BIN=$BIN CELLS_PER_STATE=60 GENES=120 TFS=12 EDGES=20 PBMC=/nonexistent"
}

# mean of column 7 (ratio) per states for one strata type, "states ratio" lines
mean_ratio() {
	awk -F'\t' -v s="$2" 'NR > 1 && $3 == s { t[$1] += $7; n[$1]++ } END { for (k in t) print k, t[k] / n[k] }' "$1" | sort -n
}

@test "cssi: oracle strata gain on planted state-specific edges, growing with states; shuffled strata do not" {
	# no state mean shifts: states differ only in their networks, so the gain
	# is the pooled correlation's dilution, not the state confound
	run $PIPE OUT=out STATES="2 4 8" SEEDS="1 2 3" SIM_FLAGS="--shift 0" synthetic -j2
	assert_success
	[ -s out/fig_cssi_ratio.png ] && [ -s out/fig_cssi_ratio.svg ]
	head -1 out/cssi_synthetic.tsv | grep -qx $'states\tcells\tstrata\tseed\tf1_pooled\tf1_cssi\tratio'
	[ "$(awk 'NR > 1' out/cssi_synthetic.tsv | wc -l)" -eq 27 ]
	# cells = 60 per state within [200, 1500]
	[ "$(awk -F'\t' 'NR > 1 { print $1, $2 }' out/cssi_synthetic.tsv | sort -u | tr '\n' ' ')" = "2 200 4 240 8 480 " ]
	mean_ratio out/cssi_synthetic.tsv oracle
	mean_ratio out/cssi_synthetic.tsv shuffled
	mean_ratio out/cssi_synthetic.tsv oracle | awk '
		{ r[NR] = $2 } END { exit !(r[1] > 1 && r[2] > r[1] && r[3] > r[2]) }'
	# every seed: oracle beats pooled (ratio > 1)
	run awk -F'\t' 'NR > 1 && $3 == "oracle" && !($7 > 1)' out/cssi_synthetic.tsv
	assert_output ""
	# shuffled: no inflation, on average and for (nearly) every seed
	mean_ratio out/cssi_synthetic.tsv shuffled | awk '{ if ($2 > 1.05) bad = 1 } END { exit bad }'
	[ "$(awk -F'\t' 'NR > 1 && $3 == "shuffled" && $7 > 1.1' out/cssi_synthetic.tsv | wc -l)" -le 1 ]
	# the summary: one row per (states, strata), n = 3, interval around the mean
	[ "$(awk 'NR > 1' out/cssi_synthetic_summary.tsv | wc -l)" -eq 9 ]
	run awk -F'\t' 'NR > 1 && !($3 == 3 && $6 <= $4 && $4 <= $7)' out/cssi_synthetic_summary.tsv
	assert_output ""
}

@test "cssi: the summary's mean and 95% interval match numpy/scipy; F1 matches a direct numpy top-k" {
	need_py scipy
	$PIPE OUT=out STATES="2 4" SEEDS="1 2 3" >/dev/null 2>&1
	run "$PY" - <<'PY'
import numpy as np, scipy.stats as st, csv
rows = list(csv.DictReader(open('out/cssi_synthetic.tsv'), delimiter='\t'))
summ = list(csv.DictReader(open('out/cssi_synthetic_summary.tsv'), delimiter='\t'))
for s in summ:
    x = np.array([float(r['ratio']) for r in rows if r['states'] == s['states'] and r['strata'] == s['strata']])
    m, sd = x.mean(), x.std(ddof=1); h = st.t.ppf(0.975, len(x) - 1) * sd / np.sqrt(len(x))
    for k, v in [('ratio_mean', m), ('ratio_sd', sd), ('ratio_lo', m - h), ('ratio_hi', m + h)]:
        assert abs(float(s[k]) - v) <= 1e-5 * max(1, abs(v)), (s, k, v)
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
		DOROTHEA="$DATA/dorothea_hs_ABC.tsv.gz" PBMC_HVG=1000 -j2
	assert_success
	head -1 out/cssi_pbmc.tsv | grep -q $'^reference\tstrata\tseed\tn_pairs\tn_true\tf1_pooled\tf1_cssi\tratio'
	for r in trrust dorothea; do
		for s in oracle clustered shuffled; do
			grep -q "^$r	$s	" out/cssi_pbmc.tsv || fail "no $r $s row"
		done
	done
	# every reference has true pairs among the candidates; F1 in [0, 1]
	run awk -F'\t' 'NR > 1 && !($5 > 0 && $6 >= 0 && $6 <= 1 && $7 >= 0 && $7 <= 1)' out/cssi_pbmc.tsv
	assert_output ""
	grep -q "pbmc160" out/report.html
}
