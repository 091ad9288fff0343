#!/usr/bin/env bats
# The reports as a reader gets them, and the pipelines' voice: every report
# of the demo pipelines (built once, on small simulated data) rendered in
# headless Chromium (no broken image, no JavaScript error, a table that sorts
# on a click, the filter boxes), the sections, gene names and sentences a
# biologist reads; the figure scripts' fixes (separate row and column labels,
# NA cells, a figure without values); status lines, early errors and
# byte-identical reports under SOURCE_DATE_EPOCH.

setup_file() {
	load helper
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	export R=$BATS_FILE_TMPDIR
	cd "$R"
	local P="make --no-print-directory -j2 AK_BIN=$BIN -f $TOP/pipelines"
	ak fm-sim --out sim --genes 120 --layers 3 > /dev/null
	local M="sim/alpha sim/alpha2 sim/beta sim/gamma"
	export SOURCE_DATE_EPOCH=1700000000
	$P/within-model.mk MODELS="$M" OUT=within KS="50 200" 2> within.log
	$P/cross-model.mk MODELS="$M" OUT=cross K=50 MAP=sim/id_map.tsv 2> cross.log
	$P/network.mk MODELS="$M" OUT=network WITHIN=within K=50 REF=sim/reference.tsv REF_COLS=tf,target \
		MAP=sim/id_map.tsv COHERENCE=cross/coherence.median.tsv 2> network.log
	$P/cssi.mk OUT=cssi STATES="2 4" SEEDS="1 2" GENES=60 TFS=6 EDGES=10 CELLS_MIN=120 CELLS_PER_STATE=60 \
		SHARED_DATA=/nonexistent 2> cssi.log
	ak ps-sim --out ps --genes 80 --tfs 6 --targets 6 --cells 40 --control 160 > /dev/null
	$P/perturbation.mk COUNTS=ps/counts.mtx GENES=ps/genes.txt CELLS=ps/cells.tsv REF=ps/grn.tsv REF_COLS=from,to \
		EDGES="real=ps/edges_real.tsv confounded=ps/edges_confounded.tsv" HVG=1000 DRAWS=40 OUT=pert 2> pert.log
}

setup() {
	load helper
	cd "$BATS_FILE_TMPDIR"
	R=$BATS_FILE_TMPDIR
}

REPORTS="within/report.html cross/report.html network/report.html cssi/report.html pert/report.html"

# browser_check REPORT (tests/reports-browser.bash): JSON of what Chromium
# met rendering REPORT (errors, images, sorting, filter box).

@test "reports: every demo report renders in Chromium: images, no JavaScript error, sortable and filterable tables" {
	command -v chromium >/dev/null || skip "chromium missing"
	load reports-browser
	for r in $REPORTS; do
		[ -s "$r" ] || fail "missing $r"
		check=$(browser_check "$r")
		echo "$r: $check"
		[ -n "$check" ] || fail "$r: no result from the browser (JavaScript did not run?)"
		[[ $check == *'"errors":0,'* ]] || fail "$r: JavaScript errors: $check"
		[[ $check == *'"broken":0,'* ]] || fail "$r: broken images: $check"
		[[ $check != *'"imgs":0,'* ]] || fail "$r: no figure"
		[[ $check != *'"headers":0,'* ]] || fail "$r: tables not made sortable"
		[[ $check != *'"sortcols":0,'* ]] || fail "$r: no numeric column sorted"
		# every numeric column of every table, both ways
		[[ $check == *'"sorted":"yes"'* ]] || fail "$r: a click on a numeric header did not sort: $check"
		[[ $check == *'"filter":"yes"'* || $check == *'"filter":"no filter box"'* ]] || fail "$r: the filter box: $check"
	done
	# a report with 8 rows or more gets a filter box
	check=$(browser_check within/report.html)
	[[ $check != *'"filters":0,'* ]]
	[[ $check == *'"filter":"yes"'* ]]
	check=$(browser_check pert/report.html)
	[[ $check == *'"filter":"yes"'* ]]
}

@test "reports: self-contained (figures as data: URIs, the script inlined), links to every table and SVG, no JavaScript needed to read" {
	for r in $REPORTS; do
		d=$(dirname "$r")
		! grep -q '<img[^>]*src="[^d]' "$r" || fail "$r: an image that is not embedded"
		! grep -q '<script[^>]*src=' "$r" || fail "$r: an external script"
		grep -q 'data:image/png;base64,' "$r"
		# every link points to a file that exists
		grep -o 'href="[^"#]*"' "$r" | sed 's/^href="//; s/"$//' | sort -u | while read -r f; do
			[ -e "$d/$f" ] || fail "$r: link to missing $f"
		done
		# the tables are plain HTML inside (readable without JavaScript)
		grep -q '<table class="sortable">' "$r"
	done
	grep -q 'href="fig_quantile_all.svg"' within/report.html
	grep -q 'href="quantile_all.tsv"' within/report.html
	grep -q 'href="network.tsv"' network/report.html
}

@test "reports: sections, gene names, model table and one sentence per finding" {
	# within: model table from meta.tsv, small multiples, top pairs with gene names
	grep -q '<th class="t">family</th>' within/report.html
	grep -q '<td class="t">alpha</td><td class="t">A</td><td>3</td>' within/report.html
	grep -q 'id="pairs"' within/report.html
	top=$(gzip -dc within/alpha/cat1/topk/layer1.tsv.gz | awk -F'\t' 'NR == 2 { print "<td class=\"t\">" $1 "</td><td class=\"t\">" $2 "</td>" }')
	grep -qF "$top" within/report.html
	grep -q 'strongest tenth of another layer' within/report.html
	# cross: coherence explained in units, shared pairs
	grep -q '1 = q = 0.05' cross/report.html
	grep -q 'The layer that agrees most with other model families is' cross/report.html
	# network: power sentence with exact counts, recovered edges with layer and rank
	n=$(grep -c . sim/alpha/genes.txt)
	e=$(awk -F'\t' -v OFS='\t' 'FNR == NR { g[$1]; next } FNR > 1 && ($1 in g) && ($2 in g) && $1 != $2 { print $1, $2 }' sim/alpha/genes.txt sim/reference.tsv | sort -u | wc -l)
	pairs=$(printf '%d' $((n * (n - 1))) | sed ':a; s/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta')
	grep -q "<b>alpha</b>: $e reference edges among $pairs ordered pairs of its $n mapped genes" network/report.html
	awk -F'\t' 'NR > 1 && $1 == "alpha"' network/recovered_edges.tsv | head -1 | grep -q .
	grep -q 'best_rank</th>' network/report.html
	grep -q "layer_at_best" network/report.html
	grep -q '<b>gamma</b>: no layer is enriched beyond chance' network/report.html
	grep -q 'reference edges against' network/report.html
	# cssi: the sentence about the null, error bars explained
	grep -q 'with shuffled strata (same sizes, no biology)' cssi/report.html
	grep -q 'Cells per state' cssi/report.html
	# perturbation: the verdict first, power, the summary sentences, the DE
	# genes by name, every section
	grep -q 'survive FDR' pert/report.html
	grep -q '<h2 id="verdict">' pert/report.html
	grep -Eq '<p class="finding( warn)?">[0-9] of 4 criteria pass' pert/report.html
	[ "$(grep -o 'id="[a-z]*"' pert/report.html | tr '\n' ' ')" = 'id="verdict" id="power" id="summary" id="auroc" id="degenes" id="incremental" id="reference" id="battery" id="registry" id="files" ' ]
	grep -q 'the paired tests over perturbations have n = ' pert/report.html
	grep -q 'reference edges among the universe genes; the reference tests score' pert/report.html
	grep -q 'Median rank of the DE genes: <code>' pert/report.html
	gene=$(awk -F'\t' 'NR == 2 { print "<td class=\"t\">" $1 "</td><td class=\"t\">" $2 "</td>" }' pert/de_genes.tsv)
	grep -qF "$gene" pert/report.html
	grep -q '<figcaption>AUROC of each method (columns)' pert/report.html
	grep -q '<figcaption>Delta AUROC of each feature set' pert/report.html
	grep -q '<figcaption>Each edge table in the order given' pert/report.html
	grep -q '>delta_ci_lo</th>' pert/report.html
	grep -q '>auroc_ci_lo</th>' pert/report.html
	! sed '/id="battery"/,$d' pert/report.html | grep -q '>ci_lo</th>'
}

@test "report-perturbation: DE-gene ranks equal pandas' (min rank, descending); the incremental table split by kind of interval; battery.html included" {
	need_py pandas
	run "$PY" - <<-'PY'
	import numpy as np, pandas as pd
	s = pd.read_csv('pert/pert_scores.tsv.gz', sep='\t')
	de = pd.read_csv('pert/de.tsv.gz', sep='\t').set_index(['perturbation', 'gene'])
	got = pd.read_csv('pert/de_genes.tsv', sep='\t')
	methods = list(s.columns[3:])
	assert list(got.columns) == ['perturbation', 'gene', 'lfc', 'q', 'n_ranked'] + ['rank_' + m for m in methods], list(got.columns)
	want = []
	for p, g in s.groupby('perturbation', sort=False):
	    r = {m: g[m].rank(method='min', ascending=False) for m in methods}
	    for i in g.index[g.label == 1]:
	        row = {'perturbation': p, 'gene': g.gene[i], 'n_ranked': len(g)}
	        row.update({'rank_' + m: r[m][i] for m in methods})
	        want.append(row)
	want = pd.DataFrame(want)
	assert len(want) == len(got) and len(got) > 10, (len(want), len(got))
	m = got.merge(want, on=['perturbation', 'gene'], suffixes=('', '_w'))
	assert len(m) == len(got)
	for c in ['n_ranked'] + ['rank_' + x for x in methods]:
	    a, b = m[c].to_numpy(float), m[c + '_w'].to_numpy(float)
	    assert np.array_equal(np.isnan(a), np.isnan(b)) and np.allclose(a[~np.isnan(a)], b[~np.isnan(b)]), c
	for r in got.itertuples():
	    assert np.isclose(r.lfc, de.loc[(r.perturbation, r.gene), 'lfc'], rtol=1e-12)
	# incremental: deltas with the delta's interval, baselines with the AUROC's
	inc = pd.read_csv('pert/incremental.tsv', sep='\t')
	# the battery's long table: the paper's protocol rows are the report's
	inc = inc[(inc.split == 'perturbation') & (inc.model == 'logit') & (inc.metric == 'auroc')].reset_index(drop=True)
	d = pd.read_csv('pert/incremental_delta.tsv', sep='\t')
	b = pd.read_csv('pert/incremental_baselines.tsv', sep='\t')
	base = inc[inc.set == inc.baseline].set_index('set')
	rest = inc[inc.set != inc.baseline].reset_index(drop=True)
	assert list(d.feature_set) == list(rest.set) and list(b.feature_set) == list(base.index)
	assert np.allclose(d.delta_ci_lo, rest.ci_lo) and np.allclose(d.delta_ci_hi, rest.ci_hi)
	assert np.allclose(d.auroc_baseline, base.value[rest.baseline].to_numpy())
	assert np.allclose(b.auroc_ci_lo, base.ci_lo) and (b.auroc_ci_lo <= b.auroc).all() and (b.auroc <= b.auroc_ci_hi).all()
	print('ok', len(got), len(d), len(b))
	PY
	assert_success
	assert_output --regexp '^ok [0-9]+ [0-9]+ [0-9]+$'
	# the battery hook: a fragment in OUT is included (and the report remade)
	printf '<h2 id="battery-test">Battery</h2>\n<p>battery fragment</p>\n' > pert/battery.html
	run make --no-print-directory -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=ps/counts.mtx GENES=ps/genes.txt CELLS=ps/cells.tsv \
		REF=ps/grn.tsv REF_COLS=from,to EDGES="real=ps/edges_real.tsv confounded=ps/edges_confounded.tsv" HVG=1000 DRAWS=40 OUT=pert
	assert_success
	assert_output --partial 'report-perturbation report.html'
	grep -q '<p>battery fragment</p>' pert/report.html
	grep -q 'href="#battery"' pert/report.html
	rm pert/battery.html
}

@test "reports: status lines name each step, the run ends with the report's path, recipes only with V=1" {
	grep -q '^\[1/[0-9]*\] attn-topk alpha/cat1/topk/layer0$' within.log || grep -q '^\[[0-9]*/[0-9]*\] attn-topk alpha/cat1/topk/layer0$' within.log
	# N is the number of steps of the run: the last status line is [N/N]
	last=$(grep '^\[' within.log | sed 's/^\[\([0-9]*\)\/\([0-9]*\)\].*/\1 \2/' | sort -n | tail -1)
	[ "${last% *}" = "${last#* }" ]
	[ "$(tail -1 within.log)" = "report: within/report.html" ]
	[ "$(tail -1 pert.log)" = "report: pert/report.html" ]
	# a rerun after touching one layer: only what depends on it, counted from 1
	touch sim/gamma/resid/cat1/layer2.npy
	run bash -c "make --no-print-directory -f $TOP/pipelines/within-model.mk AK_BIN=$BIN MODELS='sim/alpha sim/alpha2 sim/beta sim/gamma' OUT=within KS='50 200' 2>&1 >/dev/null"
	assert_success
	assert_line --index 0 --regexp '^\[1/[0-9]+\] (attn-topk|rsa) gamma/cat1/'
	refute_output --partial 'alpha/'
	# V=1: the recipes too; AK_STATUS=0: make's own echo, no status line
	touch sim/gamma/resid/cat1/layer2.npy
	run bash -c "make --no-print-directory -f $TOP/pipelines/within-model.mk AK_BIN=$BIN MODELS='sim/alpha sim/alpha2 sim/beta sim/gamma' OUT=within KS='50 200' V=1 2>&1"
	assert_output --regexp '\[1/[0-9]+\] '
	assert_output --partial 'attn-topk --resid sim/gamma/resid/cat1/layer2.npy'
	touch sim/gamma/resid/cat1/layer2.npy
	run bash -c "make --no-print-directory -f $TOP/pipelines/within-model.mk AK_BIN=$BIN MODELS='sim/alpha sim/alpha2 sim/beta sim/gamma' OUT=within KS='50 200' AK_STATUS=0 2>&1"
	refute_output --regexp '^\[[0-9]+/'
	assert_output --partial 'attn-topk --resid sim/gamma/resid/cat1/layer2.npy'
}

@test "reports: early, named errors: a missing model directory, meta.tsv without tabs, filters not built" {
	run make --no-print-directory -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/nosuch" OUT=x
	assert_failure
	assert_output --partial 'model directory sim/nosuch: no such directory'
	cp -r sim/alpha spaced
	sed 's/\t/ /' sim/alpha/meta.tsv > spaced/meta.tsv
	run make --no-print-directory -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS="spaced" OUT=x
	assert_failure
	assert_output --partial 'spaced/meta.tsv: no tab-separated line'
	run env PATH=/usr/bin:/bin make --no-print-directory -f "$TOP/pipelines/within-model.mk" AK_BIN="$R/nobin" MODELS="sim/alpha" OUT=x
	assert_failure
	assert_output --partial 'run make first'
}

@test "reports: two models of one family: cross-model says coherence needs two families and finishes" {
	run make --no-print-directory -f "$TOP/pipelines/cross-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/alpha2" OUT=onefam K=30 -j2
	assert_success
	assert_output --partial 'report: onefam/report.html'
	grep -q 'Coherence needs at least two model families' onefam/report.html
	[ -s onefam/fig_coherence.png ]
}

@test "reports: byte-identical under SOURCE_DATE_EPOCH; dates from it" {
	# a copy of the run: other tests of this file remake within/ at the same
	# time (bats runs them in parallel), and two makes in one OUT race
	cp -a within sde
	for i in 1 2; do
		rm -f sde/report.html
		run make --no-print-directory -s -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/alpha2 sim/beta sim/gamma" OUT=sde KS="50 200"
		assert_success
		cp sde/report.html sde/report.$i
	done
	cmp sde/report.1 sde/report.2
	grep -q '2023-11-14 22:13 UTC' sde/report.html
}

@test "heatmap: rows and columns have their own labels; NA cells hatched; values printed; lower triangle for --sym" {
	printf 'method\tperturbation\tauroc\n' > t.tsv
	for m in coexpr real variance; do for p in TF01 TF02 TF03 TF04; do printf '%s\t%s\t0.%d\n' $m $p $((RANDOM % 9 + 1)); done; done >> t.tsv
	printf 'real\tTF05\tNA\n' >> t.tsv
	run "$TOP/pipelines/lib/heatmap" --x method --y perturbation --z auroc --range 0:1 --center 0.5 --values t.tsv fig
	assert_success
	[ -s fig.png ] && [ -s fig.svg ]
	# each label once: methods on x only, perturbations on y only (one shared
	# list put every label on both axes, leaving most of the plot blank)
	for l in coexpr real variance TF01 TF02 TF03 TF04 TF05; do
		n=$(grep -c ">$l<" fig.svg)
		[ "$n" -eq 1 ] || fail "label $l drawn $n times"
	done
	# NA: a hatch pattern, and the key text
	grep -q 'hatched: NA' fig.svg
	grep -qi 'pattern' fig.svg
	# 12 values printed in cells (format %.2f)
	v=$(grep -o '>0\.[0-9][0-9]<' fig.svg | wc -l)
	[ "$v" -ge 12 ]
	# --sym: the lower triangle only (3 layers: 6 of 9 cells carry values)
	printf 'a\tb\tr\n0\t1\t0.31\n0\t2\t0.32\n1\t2\t0.33\n' > s.tsv
	run "$TOP/pipelines/lib/heatmap" --sym --diag 1 --x a --y b --z r --center 0 --range -1:1 --values s.tsv sym
	assert_success
	[ "$(grep -c '>0\.3[123]<' sym.svg)" -eq 3 ]
	[ "$(grep -c '>1\.00<' sym.svg)" -eq 3 ]
}

@test "curves: categorical x, a chance line, an interval below 0 kept, all-NA data drawn as a note (no gnuplot error)" {
	printf 'index\tedges\tmeasure\tvalue\tlo\thi\n0\tlayer0\tA\t0.6\t-0.2\t0.9\n1\tlayer1\tA\t0.4\t0.1\t0.7\n' > c.tsv
	run "$TOP/pipelines/lib/curves" --x index --xtics edges --y value --lo lo --hi hi --by measure --chance 0.5 c.tsv cat
	assert_success
	grep -q '>layer1<' cat.svg
	grep -q 'chance = 0.5' cat.svg
	# --yhi: the axis ends there (AUROC: no tic above 1)
	printf 'i\tt\ts\tv\n0\tL0\ta\t1\n1\tL1\ta\t0.9\n0\tL0\tb\t1\n1\tL1\tb\t0.8\n' > y.tsv
	run "$TOP/pipelines/lib/curves" --x i --xtics t --y v --by s --ylo 0 --yhi 1 y.tsv yhi
	assert_success
	grep -q '> *1<' yhi.svg
	! grep -q '> *1\.2<' yhi.svg
	# the y axis reaches below 0 (the interval is not clipped)
	grep -q '>-0\.[0-9]*<' cat.svg
	printf 'query_model\tquery_layer\tcoherence\nalpha\t0\tnan\nalpha\t1\tnan\n' > n.tsv
	run "$TOP/pipelines/lib/curves" --x query_layer --y coherence --by query_model --empty "coherence needs at least two model families" n.tsv none
	assert_success
	assert_output --partial 'no value in coherence is a number'
	grep -q 'coherence needs at least two model families' none.svg
}

@test "median-over: groups in natural order (k = 1000, 5000, 10000, 50000)" {
	printf 'k\tlayer\tv\n' > m.tsv
	for k in 50000 10000 5000 1000; do for l in 10 2; do printf '%s\t%s\t1\n%s\t%s\t3\n' $k $l $k $l; done; done >> m.tsv
	run "$TOP/pipelines/lib/median-over" k,layer v < m.tsv
	assert_success
	[ "$(echo "$output" | cut -f1,2 | tr '\n' ' ')" = "k	layer 1000	2 1000	10 5000	2 5000	10 10000	2 10000	10 50000	2 50000	10 " ]
	assert_line --index 1 "1000	2	2	2"
}
