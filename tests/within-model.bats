#!/usr/bin/env bats
# pipelines/within-model.mk end to end: on simulated models (planted structure
# recovered, make as the cache) and on the real tinyfm export.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	# V=1: recipes echoed, so the tests see which steps ran (status lines alone name only targets)
	PIPE="make -f $TOP/pipelines/within-model.mk AK_BIN=$BIN V=1"
}

sim() {
	ak fm-sim --out sim --genes 150 --layers 4 --categories 2
}

@test "within-model: complete, sane outputs on simulated models" {
	sim
	run $PIPE MODELS="sim/alpha sim/gamma" OUT=out KS="50 200" -j2
	assert_success
	for m in alpha gamma; do
		for f in rank_quantile.50.median.tsv rank_quantile.200.median.tsv spearman.median.tsv \
			consecutive.median.tsv rsa.median.tsv fig_spearman.png fig_spearman.svg fig_quantile.png \
			fig_consecutive.png fig_rsa.png; do
			[ -s out/$m/$f ] || fail "missing out/$m/$f"
		done
		# every ordered pair of the 4 layers, in both categories
		run awk 'NR > 1' out/$m/rank_quantile.50.median.tsv
		[ "${#lines[@]}" -eq 12 ]
	done
	[ -s out/report.html ]
	# quantiles in (0, 1], Spearman in [-1, 1]
	run awk -F'\t' 'FNR > 1 && !($5 > 0 && $5 <= 1) { print "bad quantile: " $0 }' out/*/rank_quantile.*.median.tsv
	assert_output ""
	run awk -F'\t' 'FNR > 1 && !($5 >= -1 && $5 <= 1) { print "bad spearman: " $0 }' out/*/spearman.median.tsv
	assert_output ""
}

@test "within-model: planted structure shows (adjacent layers agree; early pairs fade)" {
	sim
	$PIPE MODELS="sim/alpha" OUT=out KS="50 200" -j2 >/dev/null 2>&1
	# layer 0's top-50 (early structure) ranks poorly in layer 3, well in layer 1
	q01=$(awk -F'\t' '$2 == 0 && $4 == 1 { print $5 }' out/alpha/rank_quantile.50.median.tsv)
	q03=$(awk -F'\t' '$2 == 0 && $4 == 3 { print $5 }' out/alpha/rank_quantile.50.median.tsv)
	echo "q(0->1)=$q01 q(0->3)=$q03"
	awk -v a="$q01" -v b="$q03" 'BEGIN { exit !(a < 0.05 && b > 0.2) }'
}

@test "within-model: make is the cache (no-op rerun; a touched input re-runs only its dependants)" {
	sim
	$PIPE MODELS="sim/alpha sim/gamma" OUT=out KS="50 200" -j2 >/dev/null 2>&1
	run $PIPE MODELS="sim/alpha sim/gamma" OUT=out KS="50 200"
	assert_output --partial "Nothing to be done"
	sleep 1
	touch sim/gamma/resid/cat2/layer1.npy
	run $PIPE MODELS="sim/alpha sim/gamma" OUT=out KS="50 200"
	assert_success
	# one top-K of that layer, then the 4 layers of gamma/cat2 at the new union; alpha untouched
	[ "$(grep -c '^attn-topk' <<< "$output")" -eq 5 ]
	! grep -q 'sim/alpha' <<< "$(grep '^attn-topk' <<< "$output")"
	# a changed setting re-runs what it affects
	run $PIPE MODELS="sim/alpha" OUT=out KS="50 200" TOPK_FLAGS=--raw -n
	[ "$(grep -c '^attn-topk' <<< "$output")" -eq 16 ]
}

@test "within-model: a failed step leaves no output make would take as done" {
	sim
	cp -r sim/alpha broken
	printf 'garbage' > broken/resid/cat1/layer2.npy
	run $PIPE MODELS="broken" OUT=out KS="50"
	assert_failure
	[ ! -e out/broken/cat1/topk/layer2.tsv.gz ]
	ls out/broken/cat1/topk/ | grep -v tmp
	! ls out/broken/cat1/topk/ | grep -q tmp
}

@test "within-model: real tinyfm export (two categories, 4 layers)" {
	need_data tinyfm/meta.tsv
	run $PIPE MODELS="$DATA/tinyfm" OUT=out KS="100 1000" CATEGORIES="non-targeting IFNGR1" -j2
	assert_success
	for l in 0 1 2 3; do
		[ -s out/tinyfm/non-targeting/at/layer$l.tsv.gz ] && [ -s out/tinyfm/IFNGR1/at/layer$l.tsv.gz ]
	done
	run awk -F'\t' 'FNR > 1 && !($5 > 0 && $5 <= 1) { print }' out/tinyfm/rank_quantile.1000.median.tsv
	assert_output ""
	run awk 'NR > 1' out/tinyfm/rank_quantile.1000.median.tsv
	[ "${#lines[@]}" -eq 12 ]
	run awk -F'\t' 'FNR > 1 && !($5 >= -1 && $5 <= 1) { print }' out/tinyfm/spearman.median.tsv
	assert_output ""
	[ -s out/report.html ]
}
