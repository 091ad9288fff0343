#!/usr/bin/env bats
# Loud, early errors a new user meets first (#19): a genes file with more
# than one column (a 10x features.tsv.gz), co-expression over fewer than 3
# cells, a variance over fewer than 2; the values at the smallest accepted
# size checked against numpy/scipy.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	# 4 genes x 3 cells (MatrixMarket: genes are rows), no zero-total cell
	cat > x.mtx <<-'MTX'
	%%MatrixMarket matrix coordinate integer general
	4 3 10
	1 1 5
	2 1 1
	3 1 2
	1 2 2
	2 2 7
	4 2 3
	1 3 9
	2 3 4
	3 3 1
	4 3 6
	MTX
	printf 'ENSG01\tA1\tGene Expression\nENSG02\tB2\tGene Expression\nENSG03\tC3\tGene Expression\nENSG04\tD4\tGene Expression\n' > features.tsv
	gzip -c features.tsv > features.tsv.gz
	cut -f2 features.tsv > genes.txt
	printf 'cell\tgroup\nc1\tone\nc2\ttwo\nc3\ttwo\n' > cells.tsv
}

@test "genes file with three columns (10x features.tsv.gz) refused by name, line and column count; one column works" {
	for f in gene-stats coexpr; do
		run ak $f --counts x.mtx --genes features.tsv.gz
		assert_data_error "features.tsv.gz:1: 3 tab-separated columns"
		assert_output --partial 'cut -f2'
		[ "${#lines[@]}" -eq 1 ]
	done
	run ak de-call --counts x.mtx --genes features.tsv --cells cells.tsv --group group --control two
	assert_data_error "features.tsv:1: 3 tab-separated columns"
	# the same genes as one column: a well-formed table, symbols as ids
	run ak gene-stats --counts x.mtx --genes genes.txt
	assert_success
	[ "$(echo "$output" | awk -F'\t' '{ print NF }' | sort -u)" = 5 ]
	[ "$(echo "$output" | cut -f1 | tr '\n' ' ')" = "gene A1 B2 C3 D4 " ]
}

@test "coexpr refuses fewer than 3 cells; at 3 cells its Spearman equals scipy's" {
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --where group=one
	assert_data_error 'x.mtx: 1 cell selected; a correlation needs at least 3 cells'
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --where group=two
	assert_data_error 'x.mtx: 2 cells selected; a correlation needs at least 3 cells'
	need_py scipy
	ak coexpr --counts x.mtx --genes genes.txt -o r.tsv
	run "$PY" -c "
import numpy as np, pandas as pd
from scipy.stats import spearmanr
from scipy.io import mmread
X = mmread('x.mtx').toarray().astype(float)   # genes x cells
L = np.log1p(X / X.sum(0) * 1e4)
g = ['A1', 'B2', 'C3', 'D4']
t = pd.read_csv('r.tsv', sep='\t')
assert len(t) == 12, len(t)
for r in t.itertuples():
    e = spearmanr(L[g.index(r[1])], L[g.index(r[2])]).statistic
    assert abs(e - r.value) < 1e-12, (r, e)
print('ok', len(t))"
	assert_success
	assert_output "ok 12"
}

@test "gene-stats refuses a single cell (variance needs 2); at 2 cells its variance equals numpy's (ddof 1)" {
	run ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where group=one
	assert_data_error 'x.mtx: 1 cell selected; variance (and the HVG ranking) needs at least 2 cells'
	need_py pandas
	ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where group=two -o s.tsv
	run "$PY" -c "
import numpy as np, pandas as pd
from scipy.io import mmread
X = mmread('x.mtx').toarray().astype(float)[:, 1:]   # cells c2, c3
L = np.log1p(X / X.sum(0) * 1e4)
t = pd.read_csv('s.tsv', sep='\t')
assert (t.n_cells == 2).all()
assert np.allclose(t['var'].values, L.var(1, ddof=1), rtol=1e-12, atol=1e-14), (t['var'].values, L.var(1, ddof=1))
assert np.allclose(t['mean'].values, L.mean(1), rtol=1e-12)
print('ok')"
	assert_success
	assert_output ok
}

@test "make demo says which real-data parts it skips and why, before anything runs; nothing skipped with ../shared/data" {
	run "$TOP/examples/demo-skips.sh" "$BATS_TEST_TMPDIR/nodata"
	assert_success
	[ "$(grep -c '^== skipped: ' <<< "$output")" -eq 5 ]
	assert_line "== skipped: CSSI and co-expression on 160 PBMCs: no $BATS_TEST_TMPDIR/nodata/pbmc160"
	assert_output --partial "README.md, 'Real data'"
	# demo.sh calls it before its first step
	a=$(grep -n 'demo-skips.sh' "$TOP/examples/demo.sh" | head -1 | cut -d: -f1)
	b=$(grep -n 'fm-sim --out' "$TOP/examples/demo.sh" | head -1 | cut -d: -f1)
	[ -n "$a" ] && [ "$a" -lt "$b" ]
	need_data pbmc160 papalexi2021 tinyfm trrust_v2_human.tsv.gz dorothea_hs_ABC.tsv.gz
	run "$TOP/examples/demo-skips.sh" "$DATA"
	assert_success
	refute_output --partial 'skipped'
}

@test "README: a provenance line (source and licence) for every file of ../shared/data" {
	need_data
	sec=$(awk '/^## Real data/ { on = 1; next } on && /^## / { exit } on' "$TOP/README.md")
	n=0
	for f in "$DATA"/*; do
		b=$(basename "$f")
		[ "$b" != README.md ] || continue
		line=$(grep -F -- "- \`$b" <<< "$sec") || fail "README 'Real data' has no line for $b"
		grep -Eq 'github|Debian|trained for this project' <<< "$line" || fail "$b: no source in: $line"
		n=$((n + 1))
	done
	[ "$n" -ge 5 ]
}
