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

@test "cross-model SUBSET_SOFTMAX=1: attention renormalised over the aligned genes (= attn-topk on the sliced residuals); re-runs the attention" {
	need_py numpy
	ak fm-sim --out sim --genes 120 --layers 2 --categories 1
	# gamma keeps two genes in three: the aligned set is smaller than alpha's vocabulary
	"$PY" -c "
import numpy as np
g = open('sim/gamma/genes.txt').read().split()
keep = [i for i in range(len(g)) if i % 3]
open('sim/gamma/genes.txt', 'w').write(''.join(g[i] + '\n' for i in keep))
for l in (0, 1):
    np.save(f'sim/gamma/resid/cat1/layer{l}.npy', np.load(f'sim/gamma/resid/cat1/layer{l}.npy')[keep])"
	T="out/alpha/cat1/topk/layer1.tsv.gz out/alpha/cat1/consensus.tsv.gz"
	run $PIPE MODELS="sim/alpha sim/gamma" OUT=out K=30 $T
	assert_success
	zcat out/alpha/cat1/topk/layer1.tsv.gz > whole.tsv
	run $PIPE MODELS="sim/alpha sim/gamma" OUT=out K=30 SUBSET_SOFTMAX=1 $T
	assert_success
	grep -q -- '--subset-softmax' <<< "$output"
	[ "$(grep -c '^attn-topk' <<< "$output")" -eq 2 ]
	zcat out/alpha/cat1/topk/layer1.tsv.gz > renorm.tsv
	! cmp -s whole.tsv renorm.tsv
	# the same as attn-topk on alpha's residual rows of the aligned genes
	"$PY" -c "
import numpy as np
g = open('sim/alpha/genes.txt').read().split()
common = set(open('out/common_genes.txt').read().split())
keep = [i for i, x in enumerate(g) if x in common]
np.save('x1.npy', np.load('sim/alpha/resid/cat1/layer1.npy')[keep])
open('kept.txt', 'w').write(''.join(g[i] + '\n' for i in keep))"
	H=$(awk -F'\t' '$1 == "n_heads" { print $2 }' sim/alpha/meta.tsv)
	ak attn-topk --resid x1.npy --wq sim/alpha/layer1.wq.npy --wk sim/alpha/layer1.wk.npy --heads "$H" --top 30 \
		--genes kept.txt --label model=alpha --label category=cat1 --label layer=1 -o direct.tsv
	cmp direct.tsv renorm.tsv
	[ "$(wc -l < out/common_genes.txt)" -lt 100 ]
}
