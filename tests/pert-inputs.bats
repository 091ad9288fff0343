#!/usr/bin/env bats
# perturbation.mk's inputs: HDF5 counts with the groups in obs (.h5ad, loom),
# guide assignment from raw guide UMI counts (GUIDE_*), CONTROL=rest, and
# bad input that fails before any work.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	PIPE="make -s -f $TOP/pipelines/perturbation.mk AK_BIN=$BIN AK_STATUS=0"
	FIX="$PY $TOP/tests/pert_inputs_data.py"
}

# ps-sim's screen (the one tests/ps-sim.bats runs) and the settings both routes share
screen() {
	ak ps-sim --out s --seed 3
	COMMON=(REF=s/grn.tsv REF_COLS=from,to "EDGES=real=s/edges_real.tsv confounded=s/edges_confounded.tsv"
		HVG=1000 DRAWS=20 FOLDS=3)
	MTX=(COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv)
}

col() {   # col FILE NAME: a TSV column by name (gzip or not)
	gzip -dcf "$1" | awk -F'\t' -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; if (!c) exit 1; next } { print $c }'
}

@test "pert-inputs: COUNTS=adata.h5ad GROUP from obs, GENE_COL from var: registry and verdict byte-identical to the mtx route" {
	need_py anndata
	screen
	$FIX h5ad s s.h5ad
	run $PIPE "${MTX[@]}" "${COMMON[@]}" OUT=a -j2 a/registry.tsv a/verdict.tsv
	assert_success
	run $PIPE COUNTS=s.h5ad GROUP=target GENE_COL=gene_symbols "${COMMON[@]}" OUT=b -j2 b/registry.tsv b/verdict.tsv
	assert_success
	for f in registry.tsv verdict.tsv de.tsv.gz gene_stats.tsv targets.txt; do
		cmp a/$f b/$f || fail "$f differs between the mtx and the h5ad route"
	done
	# the registry is not trivially empty: the planted real edges are significant
	[ "$(col b/registry.tsv significant | grep -c 1)" -ge 2 ]
	# obs as mat obs writes it: pandas' obs, index first
	run "$PY" - <<'PY'
import anndata as ad, pandas as pd
a = ad.read_h5ad("s.h5ad")
t = pd.read_csv("b/obs.tsv.gz", sep="\t", dtype=str)
assert list(t.columns) == ["barcode", "target"], t.columns
assert (t.barcode.to_numpy() == a.obs_names.to_numpy()).all() and (t.target.to_numpy() == a.obs.target.astype(str).to_numpy()).all()
print("ok")
PY
	assert_success
	assert_output ok
	# a rerun does nothing (without -s: make would echo any recipe it ran)
	run ${PIPE/ -s / } COUNTS=s.h5ad GROUP=target GENE_COL=gene_symbols "${COMMON[@]}" OUT=b b/registry.tsv b/verdict.tsv
	assert_success
	refute_output --partial "mat obs"
	assert_output --partial "'b/registry.tsv' is up to date"
	# guide assignment with .h5ad counts and no CELLS: obs names the cells and ships the labels
	$FIX guides s g
	run $PIPE COUNTS=s.h5ad GENE_COL=gene_symbols GUIDE_COUNTS=g/guide_counts.mtx GUIDE_NAMES=g/guide_names.txt \
		GUIDE_TABLE=g/guide_table.tsv "${COMMON[@]}" OUT=c c/guide_summary.tsv
	assert_success
	diff <(col c/guide_cells.tsv.gz cell) <(col s/cells.tsv barcode)
	grep -q $'^guide_shipped_agreement\t1.000000\t1360 of 1360 ' c/guide_summary.tsv
}

@test "pert-inputs: COUNTS=.loom with the group in col_attrs: DE and gene statistics identical to the mtx route" {
	need_py h5py
	screen
	$FIX loom s s.loom
	run $PIPE "${MTX[@]}" "${COMMON[@]}" OUT=a -j2 a/de.tsv.gz a/gene_stats.tsv
	assert_success
	run $PIPE COUNTS=s.loom GROUP=target "${COMMON[@]}" OUT=b -j2 b/de.tsv.gz b/gene_stats.tsv
	assert_success
	cmp a/de.tsv.gz b/de.tsv.gz
	cmp a/gene_stats.tsv b/gene_stats.tsv
}

@test "pert-inputs: guide counts that encode the labels (GENE_TSS groups, shuffled rows) give the labels' DE; high MOI keeps multi-guide cells" {
	need_py scipy
	screen
	$FIX guides s g
	G=(GUIDE_COUNTS=g/guide_counts.mtx GUIDE_NAMES=g/guide_names.txt GUIDE_TABLE=g/guide_table.tsv)
	run $PIPE "${MTX[@]}" "${COMMON[@]}" OUT=a -j2 a/de.tsv.gz a/gene_stats.tsv
	assert_success
	# no CELLS: cells are numbered; the labels come from the guides alone
	run $PIPE COUNTS=s/counts.mtx GENES=s/genes.txt "${G[@]}" "${COMMON[@]}" OUT=b -j2 b/de.tsv.gz b/gene_stats.tsv b/guide_summary.tsv
	assert_success
	cmp a/de.tsv.gz b/de.tsv.gz
	cmp a/gene_stats.tsv b/gene_stats.tsv
	[ "$(col b/guide_cells.tsv.gz cell | head -1)" = cell1 ]
	diff <(col b/guide_cells.tsv.gz target) <(col s/cells.tsv target)
	[ "$(awk -F'\t' '$1 == "guide_cells_used" { print $2 }' b/guide_summary.tsv)" = "$(($(wc -l < s/cells.tsv) - 1))" ]
	# a second guide on every 8th cell: GUIDE_MOI=high gives it both groups
	# and keeps it; low leaves it out; checked against pandas/scipy
	"$PY" - <<'PY'
import scipy.io, scipy.sparse as sp, numpy as np
C = scipy.io.mmread("g/guide_counts.mtx").toarray()
C[0, ::8] = 7             # row 0 of guide_names.txt: NT_g3
scipy.io.mmwrite("g/multi.mtx", sp.coo_matrix(C), field="integer")
PY
	for moi in high low; do
		run $PIPE COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv GUIDE_COUNTS=g/multi.mtx GUIDE_NAMES=g/guide_names.txt \
			GUIDE_TABLE=g/guide_table.tsv GUIDE_MOI=$moi "${COMMON[@]}" OUT=$moi $moi/guide_summary.tsv
		assert_success
		$FIX assign g/multi.mtx g/guide_names.txt g/guide_table.tsv 5 $moi non-targeting > ref.tsv
		diff <(paste <(col $moi/guide_cells.tsv.gz guide_targets) <(col $moi/guide_cells.tsv.gz guide_status) <(col $moi/guide_cells.tsv.gz guide_use)) \
			<(paste <(col ref.tsv groups) <(col ref.tsv status) <(col ref.tsv use))
	done
	nm=$(col ref.tsv status | grep -c multiple)
	[ "$nm" -ge 100 ]
	[ "$(awk -F'\t' '$1 == "guide_cells_multiple" { print $2 }' high/guide_summary.tsv)" = "$nm" ]
	# high: the multi-guide cells carry both groups (non-targeting too, so none is a control)
	[ "$(col high/guide_cells.tsv.gz target | grep -c ',non-targeting')" -ge 100 ]
	# the shipped labels agree on every kept cell but the multi-guide controls
	awk -F'\t' '$1 == "guide_shipped_agreement" { split($3, w, " "); exit !(w[1] < w[3] && $2 < 1) }' high/guide_summary.tsv
	awk -F'\t' '$1 == "guide_shipped_agreement" { exit !($2 == "1.000000") }' low/guide_summary.tsv
}

@test "pert-inputs: Papalexi 2021 guide counts at GUIDE_MIN_UMI=5 vs an independent numpy assignment and the shipped labels" {
	need_data papalexi2021/guide_counts.mtx.gz papalexi2021/guides.tsv papalexi2021/cells.tsv.gz trrust_v2_human.tsv.gz
	need_py pandas
	P=$DATA/papalexi2021
	$FIX papalexi-names "$P" names.txt
	for moi in low high; do
		run $PIPE COUNTS=$P/counts.mtx.gz GENES=$P/genes.txt CELLS=$P/cells.tsv.gz GUIDE_COUNTS=$P/guide_counts.mtx.gz \
			GUIDE_NAMES=names.txt GUIDE_TABLE=$P/guides.tsv GUIDE_MOI=$moi REF=$DATA/trrust_v2_human.tsv.gz OUT=$moi $moi/guide_summary.tsv
		assert_success
		$FIX assign $P/guide_counts.mtx.gz names.txt $P/guides.tsv 5 $moi non-targeting > ref_$moi.tsv
		diff <(paste <(col $moi/guide_cells.tsv.gz guide_targets) <(col $moi/guide_cells.tsv.gz guide_status) <(col $moi/guide_cells.tsv.gz guide_use)) \
			<(paste <(col ref_$moi.tsv groups) <(col ref_$moi.tsv status) <(col ref_$moi.tsv use))
	done
	# the shipped label is each cell's top guide: every cell one guide
	# group passes agrees with it; multiplets are what the threshold adds
	run "$PY" - <<'PY'
import pandas as pd
s = dict(pd.read_csv("low/guide_summary.tsv", sep="\t", dtype=str).set_index("quantity").value)
r = pd.read_csv("ref_low.tsv", sep="\t", dtype=str, keep_default_na=False)
assert int(s["guide_cells"]) == len(r) == 20729
assert int(s["guide_cells_multiple"]) == (r.status == "multiple").sum() > 0
assert int(s["guide_cells_control"]) == (r.status == "control").sum()
assert int(s["guide_cells_used"]) == r.use.astype(int).sum()
assert s["guide_shipped_agreement"] == "1.000000", s["guide_shipped_agreement"]
print("ok", s["guide_cells_used"], s["guide_cells_multiple"])
PY
	assert_success
	assert_output --partial ok
}

@test "pert-inputs: CONTROL=rest: the non-targeting label is no perturbation, controls are all other cells, baselines over every cell" {
	need_py numpy
	screen
	run $PIPE "${MTX[@]}" CONTROL=rest "${COMMON[@]}" OUT=r -j2 r/de.tsv.gz r/gene_stats.tsv
	assert_success
	[ "$(grep -cx 'non-targeting\|rest' r/targets.txt)" = 0 ]
	[ "$(wc -l < r/targets.txt)" -eq 12 ]
	run "$PY" - <<'PY'
import numpy as np, pandas as pd, scipy.io
X = scipy.io.mmread("s/counts.mtx").T.toarray().astype(float)
L = np.log1p(X / X.sum(1, keepdims=True) * 1e4)
cells = pd.read_csv("s/cells.tsv", sep="\t")
genes = [l.strip() for l in open("s/genes.txt")]
gs = pd.read_csv("r/gene_stats.tsv", sep="\t").set_index("gene")
assert (gs.n_cells == len(cells)).all()
assert np.allclose(gs.loc[genes, "mean"], L.mean(0), rtol=1e-12, atol=1e-14)
de = pd.read_csv("r/de.tsv.gz", sep="\t")
for p, d in de.groupby("perturbation"):
    n = (cells.target == p).sum()
    assert (d.n_pert == n).all() and (d.n_ctrl == len(cells) - n).all(), p
    m = (cells.target != p).to_numpy()
    g = d.gene.iloc[0]
    assert abs(d.mean_ctrl.iloc[0] - L[m, genes.index(g)].mean()) < 1e-12
print("ok")
PY
	assert_success
	assert_output ok
}

@test "pert-inputs: bad input fails before any work with a clear message and leaves nothing make takes as done" {
	need_py anndata
	screen
	$FIX h5ad s s.h5ad
	# GROUP column missing: CELLS (at parse time), obs of an .h5ad
	run $PIPE "${MTX[@]}" GROUP=perturbation "${COMMON[@]}" OUT=e1
	assert_failure
	assert_output --partial "CELLS=s/cells.tsv has no column 'perturbation' (GROUP); its columns: barcode target"
	[ ! -e e1 ]
	run $PIPE COUNTS=s.h5ad GROUP=perturbation GENE_COL=gene_symbols "${COMMON[@]}" OUT=e2 -j2
	assert_failure
	assert_output --partial "obs of COUNTS=s.h5ad has no column perturbation (GROUP)"
	[ ! -e e2/targets.txt ] && [ ! -e e2/de.tsv.gz ] && [ ! -e e2/gene_stats.tsv ]
	# an .h5ad without obs
	"$PY" -c "import shutil, h5py; shutil.copy('s.h5ad', 'noobs.h5ad'); f = h5py.File('noobs.h5ad', 'a'); del f['obs']; f.close()"
	run $PIPE COUNTS=noobs.h5ad GENE_COL=gene_symbols "${COMMON[@]}" OUT=e3 -j2
	assert_failure
	assert_output --partial "COUNTS=noobs.h5ad: no cells table (obs) to read GROUP=target from; give CELLS="
	[ ! -e e3/obs.tsv.gz ] && [ ! -e e3/de.tsv.gz ]
	# an obs label TSV cannot carry
	"$PY" -c "
import anndata as ad
a = ad.read_h5ad('s.h5ad'); a.obs['target'] = a.obs.target.astype(str); a.obs.iloc[5, 0] = 'TF01\tTF02'; a.write_h5ad('tab.h5ad')"
	run ak mat obs tab.h5ad -o tab.tsv
	assert_data_error "tab.h5ad:obs: column target, row 6 holds a TAB or a line break"
	[ ! -e tab.tsv ]
	# a guide table naming guides the counts do not have
	$FIX guides s g
	{ cat g/guide_table.tsv; printf 'XX_g1\tXX\nXX_g2\tXX\n'; } > bad_table.tsv
	G=(COUNTS=s/counts.mtx GENES=s/genes.txt GUIDE_COUNTS=g/guide_counts.mtx GUIDE_NAMES=g/guide_names.txt)
	run $PIPE "${G[@]}" GUIDE_TABLE=bad_table.tsv "${COMMON[@]}" OUT=e4 -j2
	assert_failure
	assert_output --partial "bad_table.tsv: 2 guide(s) not among the 27 guides of g/guide_names.txt (the rows of g/guide_counts.mtx): XX_g1, XX_g2"
	[ ! -e e4/guide_cells.tsv.gz ] && [ ! -e e4/de.tsv.gz ]
	# a guide of the counts without a target group
	grep -v '^TF03_g2' g/guide_table.tsv > short_table.tsv
	run $PIPE "${G[@]}" GUIDE_TABLE=short_table.tsv "${COMMON[@]}" OUT=e5
	assert_failure
	assert_output --partial "short_table.tsv: 1 guide(s) of g/guide_names.txt have no target group: TF03_g2"
	# names that do not match the counts' rows; cells that do not match its columns
	head -5 g/guide_names.txt > few.txt
	run $PIPE COUNTS=s/counts.mtx GENES=s/genes.txt GUIDE_COUNTS=g/guide_counts.mtx GUIDE_NAMES=few.txt GUIDE_TABLE=g/guide_table.tsv "${COMMON[@]}" OUT=e6
	assert_failure
	assert_output --partial "not among the 5 guides of few.txt"
	head -50 s/cells.tsv > few_cells.tsv
	run $PIPE "${G[@]}" GUIDE_TABLE=g/guide_table.tsv CELLS=few_cells.tsv "${COMMON[@]}" OUT=e7
	assert_failure
	assert_output --partial "few_cells.tsv: 49 cells (rows after the header), but g/guide_counts.mtx has 1360 columns (cells)"
	[ ! -e e7/guide_cells.tsv.gz ]
	# settings checked at parse time
	run $PIPE "${G[@]}" "${COMMON[@]}" OUT=e8
	assert_failure
	assert_output --partial "GUIDE_COUNTS needs GUIDE_TABLE"
	run $PIPE "${G[@]}" GUIDE_TABLE=g/guide_table.tsv GUIDE_MOI=medium "${COMMON[@]}" OUT=e9
	assert_failure
	assert_output --partial "GUIDE_MOI=medium: low or high"
	run $PIPE "${MTX[@]}" GENE_COL=gene_symbols "${COMMON[@]}" OUT=e10
	assert_failure
	assert_output --partial "GENE_COL=gene_symbols names a var column of HDF5 counts"
	run $PIPE COUNTS=s.h5ad GENE_COL=symbol "${COMMON[@]}" OUT=e11 e11/gene_stats.tsv
	assert_failure
	assert_output --partial "no column 'symbol' (there are: _index, gene_symbols)"
	[ ! -e e11/gene_stats.tsv ]
}
