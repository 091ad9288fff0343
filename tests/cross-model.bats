#!/usr/bin/env bats
# pipelines/cross-model.mk end to end: gene alignment across id types, the
# cross model x layer matrix, and the planted shared pairs giving the highest
# cross-family coherence.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	# V=1: recipes echoed, so the tests see which steps ran (status lines alone name only targets)
	PIPE="make -f $TOP/pipelines/cross-model.mk AK_BIN=$BIN V=1"
}

@test "cross-model: planted shared pairs give the highest coherence (middle layers of converging models)" {
	ak fm-sim --out sim --genes 200 --layers 4
	run $PIPE MODELS="sim/alpha sim/alpha2 sim/beta sim/gamma" OUT=out MAP=sim/id_map.tsv K=60 -j2
	assert_success
	for f in rank_quantile.median.tsv coherence.median.tsv consensus.tsv cross.tsv fig_cross.png \
		fig_cross.svg fig_coherence.png report.html common_genes.txt; do
		[ -s out/$f ] || fail "missing out/$f"
	done
	# beta (Ensembl ids) was mapped: common genes are symbols, and most survive
	n=$(wc -l < out/common_genes.txt)
	[ "$n" -gt 150 ]
	! grep -q ENSSIMG out/common_genes.txt
	# the top coherence rows are middle layers (1, 2 of 0..3) of alpha, alpha2, beta;
	# gamma (no shared pairs) is below every one of them
	run awk -F'\t' 'NR > 1' out/coherence.median.tsv
	echo "$output"
	best=$(awk -F'\t' 'NR > 1 { print $3 "\t" $1 "\t" $2 }' out/coherence.median.tsv | sort -gr | head -6 | cut -f2,3 | sort | tr '\n' ' ')
	[ "$best" = "alpha	1 alpha	2 alpha2	1 alpha2	2 beta	1 beta	2 " ]
	gmax=$(awk -F'\t' '$1 == "gamma" { if ($3 > m) m = $3 } END { print m }' out/coherence.median.tsv)
	mid_min=$(awk -F'\t' '$1 != "gamma" && ($2 == 1 || $2 == 2) { if (m == "" || $3 < m) m = $3 } END { print m }' out/coherence.median.tsv)
	awk -v g="$gmax" -v m="$mid_min" 'BEGIN { exit !(m > 5 * g) }'
	# within-model blocks are masked in the cross matrix
	run awk -F'\t' 'NR > 1 { split($1, a, ":"); split($2, b, ":"); if (a[1] == b[1]) print }' out/cross.tsv
	assert_output ""
	# make is the cache
	run $PIPE MODELS="sim/alpha sim/alpha2 sim/beta sim/gamma" OUT=out MAP=sim/id_map.tsv K=60
	assert_output --partial "Nothing to be done"
}

@test "cross-model: real tinyfm against a copy of itself in another family" {
	need_data tinyfm/meta.tsv
	mkdir -p a/tinyfm b/copy
	for f in "$DATA"/tinyfm/*; do
		[ "$(basename "$f")" = meta.tsv ] && continue
		ln -s "$f" a/tinyfm/ && ln -s "$f" b/copy/
	done
	awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "family" { next } { print } END { print "family", "A" }' "$DATA/tinyfm/meta.tsv" > a/tinyfm/meta.tsv
	awk -F'\t' 'BEGIN { OFS = "\t" } $1 == "family" { next } { print } END { print "family", "B" }' "$DATA/tinyfm/meta.tsv" > b/copy/meta.tsv
	run $PIPE MODELS="a/tinyfm b/copy" OUT=out K=100 CATEGORIES=non-targeting -j2
	assert_success
	[ "$(wc -l < out/common_genes.txt)" -eq 299 ]
	run awk 'NR > 1' out/coherence.median.tsv
	[ "${#lines[@]}" -eq 8 ]
	# identical attention: each layer's top pairs are the copy's same layer's top pairs
	run awk -F'\t' 'NR > 1 && $1 != $3 { k = $1 ":" $2; if (!(k in best) || $5 < best[k]) { best[k] = $5; at[k] = $4 } }
		END { for (k in at) { split(k, p, ":"); if (at[k] != p[2]) print "layer " k " agrees most with " at[k] } }' out/rank_quantile.median.tsv
	assert_output ""
	run awk -F'\t' 'NR > 1 && !($5 > 0 && $5 <= 1) { print }' out/rank_quantile.median.tsv
	assert_output ""
}
