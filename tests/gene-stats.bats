#!/usr/bin/env bats
# gene-stats: per-gene mean, sample variance, dropout of log1p(CP10k) against
# numpy, on generated counts (ties, an all-zero gene, a cell without counts)
# and on pbmc160 / papalexi2021; the shared expression input conventions
# (MatrixMarket or dense, --where, --no-normalize) and their errors.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen() {
	"$PY" "$BATS_TEST_DIRNAME/expr_data.py"
}

# numpy reference for a gene-stats table: check.py OUT SELECT(python expr on cells) NORMALISE
check() {
	PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" - "$@" <<'PY'
import sys, numpy as np
from expr_data import load, norm, read_tsv
out, sel, normalise = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
m, cells = load()
s = eval(sel)
x = (norm(m) if normalise else m.astype(float))[s]
t = read_tsv(out)
assert list(t.columns[:5]) == ["gene", "mean", "var", "dropout", "n_cells"], list(t.columns)
assert list(t.gene) == [f"g{i}" for i in range(m.shape[1])]
np.testing.assert_allclose(t["mean"], x.mean(0), rtol=1e-12, atol=1e-15)
np.testing.assert_allclose(t["var"], x.var(0, ddof=1), rtol=1e-12, atol=1e-15)
np.testing.assert_array_equal(t.dropout, (m[s] == 0).mean(0))
assert (t.n_cells == s.sum()).all()
print("ok", s.sum())
PY
}

@test "gene-stats --help prints usage and exits 0" {
	run ak gene-stats --help
	assert_success
	assert_output --partial "usage: gene-stats"
}

@test "gene-stats: all cells, MatrixMarket (shuffled, duplicate entries) vs numpy" {
	need_py numpy
	gen
	ak gene-stats --counts x.mtx --genes genes.txt -o out.tsv
	run check out.tsv "np.ones(len(cells), bool)" 1
	assert_success
	assert_output "ok 300"
	# the all-zero gene: mean 0, var 0, dropout 1
	run grep -P '^g0\t' out.tsv
	assert_output "g0	0	0	1	300"
}

@test "gene-stats: --where (one and two conditions) vs numpy" {
	need_py numpy
	gen
	ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where type=B > b.tsv
	run check b.tsv "(cells.type == 'B').values" 1
	assert_output "ok 100"
	ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where type=A --where batch=b2 > ab.tsv
	run check ab.tsv "((cells.type == 'A') & (cells.batch == 'b2')).values" 1
	assert_success
	assert_output --partial "ok "
}

@test "gene-stats: dense .npy (cells x genes) equals the MatrixMarket result; --no-normalize vs numpy" {
	need_py numpy
	gen
	ak gene-stats --counts x.npy --genes genes.txt > d.tsv
	run check d.tsv "np.ones(len(cells), bool)" 1
	assert_output "ok 300"
	ak gene-stats --counts x.npy --genes genes.txt --no-normalize > raw.tsv
	run check raw.tsv "np.ones(len(cells), bool)" 0
	assert_output "ok 300"
}

@test "gene-stats: file, stdin and gzipped stdin give the same bytes" {
	need_py numpy
	gen
	ak gene-stats --counts x.mtx --genes genes.txt > a.tsv
	ak gene-stats --counts - --genes genes.txt < x.mtx > b.tsv
	ak gene-stats --counts - --genes genes.txt < x.mtx.gz > c.tsv
	ak gene-stats --counts x.mtx.gz --genes genes.txt -o d.tsv.gz
	cmp a.tsv b.tsv
	cmp a.tsv c.tsv
	zcat d.tsv.gz | cmp a.tsv -
	gzip -c cells.tsv > cells.tsv.gz
	ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv.gz --where type=C > e.tsv
	ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where type=C > f.tsv
	cmp e.tsv f.tsv
}

@test "gene-stats: --hvg N ranks by variance, --force adds genes, others NA" {
	need_py numpy
	gen
	printf 'g0\ng3\nnot_a_gene\n' > force.txt
	run ak gene-stats --counts x.mtx --genes genes.txt --hvg 5 --force force.txt -o h.tsv
	assert_success
	assert_output --partial "force.txt: 1 of 3 names are not genes of x.mtx (first: not_a_gene)"
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np
from expr_data import load, norm, read_tsv
m, cells = load()
v = norm(m).var(0, ddof=1)
order = sorted(range(len(v)), key=lambda g: (-v[g], g))
rank = {g: i + 1 for i, g in enumerate(order)}
t = read_tsv('h.tsv')
want = {g: rank[g] for g in order[:5]}
want[0] = rank[0]; want[3] = rank[3]
got = {int(r.gene[1:]): int(r.hvg_rank) for r in t.itertuples() if not np.isnan(r.hvg_rank)}
assert got == want, (got, want)
print('ok', len(got))"
	assert_output "ok 7"
}

@test "gene-stats: pbmc160, every cell type vs numpy" {
	need_data pbmc160/matrix.mtx.gz
	need_py scipy
	d=$DATA/pbmc160
	for t in B NK "CD14+ Mono"; do
		ak gene-stats --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" \
			--where "cell_type=$t" > "out_${t// /_}.tsv"
	done
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np, pandas as pd
from expr_data import norm, read_tsv, read_mtx
d = '$d'
m = read_mtx(d + '/matrix.mtx.gz')
cells = pd.read_csv(d + '/cells.tsv', sep='\t')
x = norm(m)
for t in ['B', 'NK', 'CD14+ Mono']:
    s = (cells.cell_type == t).values
    o = read_tsv('out_' + t.replace(' ', '_') + '.tsv')
    np.testing.assert_allclose(o['mean'], x[s].mean(0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(o['var'], x[s].var(0, ddof=1), rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(o.dropout, (m[s] == 0).mean(0))
print('ok', m.shape)"
	assert_output "ok (160, 8674)"
}

@test "gene-stats: papalexi2021 non-targeting cells vs numpy" {
	need_data papalexi2021/counts.mtx.gz
	need_py scipy
	d=$DATA/papalexi2021
	ak gene-stats --counts "$d/counts.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv.gz" \
		--where target=non-targeting > nt.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np, pandas as pd
from expr_data import norm, read_tsv, read_mtx
d = '$d'
m = read_mtx(d + '/counts.mtx.gz')
cells = pd.read_csv(d + '/cells.tsv.gz', sep='\t')
s = (cells.target == 'non-targeting').values
x = norm(m)[s]
o = read_tsv('nt.tsv')
np.testing.assert_allclose(o['mean'], x.mean(0), rtol=1e-12, atol=1e-15)
np.testing.assert_allclose(o['var'], x.var(0, ddof=1), rtol=1e-12, atol=1e-15)
np.testing.assert_array_equal(o.dropout, (m[s] == 0).mean(0))
print('ok', s.sum(), len(o))"
	assert_output "ok 2386 299"
}

# ---- bad input ----

@test "bad: gene names and MatrixMarket rows disagree" {
	need_py numpy
	gen
	head -39 genes.txt > g39.txt
	run ak gene-stats --counts x.mtx --genes g39.txt -o out.tsv
	assert_data_error "g39.txt: 39 genes, but x.mtx has 40 rows (MatrixMarket counts are genes x cells)"
	[ ! -e out.tsv ]
}

@test "bad: cells table and MatrixMarket columns disagree; header-only cells table" {
	need_py numpy
	gen
	head -300 cells.tsv > c299.tsv
	run ak gene-stats --counts x.mtx --genes genes.txt --cells c299.tsv -o out.tsv
	assert_data_error "c299.tsv: 299 cells (rows after the header), but x.mtx has 300 cells (columns of the genes x cells MatrixMarket)"
	[ ! -e out.tsv ]
	head -1 cells.tsv > h.tsv
	run ak gene-stats --counts x.mtx --genes genes.txt --cells h.tsv
	assert_data_error "h.tsv: header only, no cells"
	: > e.tsv
	run ak gene-stats --counts x.mtx --genes genes.txt --cells e.tsv
	assert_data_error "e.tsv: empty input"
}

@test "bad: dense counts with the wrong orientation say it looks transposed" {
	need_py numpy
	gen
	"$PY" -c "import numpy as np; np.save('t.npy', np.load('x.npy')[:, :39])"
	run ak gene-stats --counts t.npy --genes genes.txt
	assert_data_error "genes.txt: 40 genes, but t.npy has 39 columns (dense counts are cells x genes)"
	"$PY" -c "import numpy as np; np.save('t.npy', np.load('x.npy').T)"
	run ak gene-stats --counts t.npy --genes genes.txt
	assert_data_error "has 300 columns (dense counts are cells x genes; this one looks transposed)"
}

@test "bad: --where with an unknown column lists the columns; no match; malformed" {
	need_py numpy
	gen
	run ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where celltype=A -o out.tsv
	assert_data_error "cells.tsv: no column 'celltype' (columns: barcode, type, batch, target, guides)"
	[ ! -e out.tsv ]
	run ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where type=Z
	assert_data_error "cells.tsv: no cell matches --where type=Z"
	run ak gene-stats --counts x.mtx --genes genes.txt --cells cells.tsv --where type
	assert_failure 2
	assert_output --partial "--where: 'type' is not COL=VALUE"
	run ak gene-stats --counts x.mtx --genes genes.txt --where type=A
	assert_failure 2
	assert_output --partial "--where needs a cells table"
}

@test "bad: empty counts, ragged cells table, negative or non-finite counts" {
	need_py numpy
	gen
	: > empty.mtx
	run ak gene-stats --counts empty.mtx --genes genes.txt
	assert_data_error "empty.mtx: empty input"
	sed '5s/\tb[12]\t/\t/' cells.tsv > ragged.tsv
	run ak gene-stats --counts x.mtx --genes genes.txt --cells ragged.tsv
	assert_data_error "ragged.tsv:5: expected 5 fields, found 4"
	"$PY" -c "
import numpy as np
m = np.load('x.npy').astype(float); m[3, 4] = -1; np.save('neg.npy', m)
m[3, 4] = np.nan; np.save('nan.npy', m)"
	run ak gene-stats --counts neg.npy --genes genes.txt
	assert_data_error "neg.npy: gene 'g4', cell 4: negative count -1"
	ak gene-stats --counts neg.npy --genes genes.txt --no-normalize > /dev/null
	run ak gene-stats --counts nan.npy --genes genes.txt
	assert_data_error "nan.npy"
	assert_output --partial "NaN"
	sed '4s/ [0-9]*$/ x/' x.mtx > bad.mtx
	run ak gene-stats --counts bad.mtx --genes genes.txt
	assert_data_error "bad.mtx:4: value \"x\" is not a number"
}

@test "bad: duplicate gene names; usage errors exit 2" {
	need_py numpy
	gen
	sed '3s/.*/g0/' genes.txt > dup.txt
	run ak gene-stats --counts x.mtx --genes dup.txt
	assert_data_error "dup.txt:3: duplicate id 'g0' (first on line 1)"
	run ak gene-stats --genes genes.txt
	assert_failure 2
	assert_output --partial "--counts FILE is required"
	run ak gene-stats --counts x.mtx
	assert_failure 2
	assert_output --partial "--genes FILE is needed"
	run ak gene-stats --counts x.mtx --genes genes.txt --hvg 0
	assert_failure 2
	run ak gene-stats --counts x.mtx --genes genes.txt --force genes.txt
	assert_failure 2
	assert_output --partial "--force needs --hvg N"
}
