#!/usr/bin/env bats
# HDF5 input (common/h5*.c): AnnData .h5ad (dense float32/float64/int64 X,
# CSR and CSC with int32 and int64 indices, layers, raw, obsm, obs/var with
# categoricals in the current and the anndata 0.7 layout, bool, nullable and
# float columns), 10x .h5 and .loom, all written by anndata/h5py
# (tests/h5_data.py). Every filter's output must equal, byte for byte, its
# output on the same data as MatrixMarket + genes.txt + cells.tsv (pandas'
# to_csv of obs) or as .npy; errors name what the file holds.

setup_file() {
	load helper
	"$PY" -c "import anndata, h5py, scipy, pandas" 2>/dev/null || return 0
	"$PY" "$BATS_TEST_DIRNAME/h5_data.py" "$BATS_FILE_TMPDIR/fx"
}

setup() {
	load helper
	need_py anndata
	need_py h5py
	cd "$BATS_FILE_TMPDIR/fx"
	REF=(--counts counts.mtx --genes genes.txt --cells cells.tsv)
}

# same CMD ARGS... -- the output of `CMD "${REF[@]}" ARGS` and of each
# `CMD --counts SPEC ARGS` for the SPECs in $SPECS are identical.
same() {
	local f=$1 spec
	shift
	ak "$f" "${REF[@]}" "$@" > ref.out.$$
	for spec in $SPECS; do
		run ak "$f" --counts "$spec" "$@"
		assert_success
		[ "$output" = "$(cat ref.out.$$)" ] || { echo "$f --counts $spec $* differs from the mtx path"; diff <(echo "$output") ref.out.$$ | head; return 1; }
	done
}

ALL="dense_f32.h5ad dense_f64.h5ad dense_i64.h5ad csr.h5ad csc.h5ad csr_f64.h5ad csr_i64.h5ad
csc_i64.h5ad layers.h5ad:layers/counts layers.h5ad:layers/dense_counts layers.h5ad:raw/X
nox.h5ad:layers/counts"

@test "h5: gene-stats on every h5ad encoding equals the mtx path" {
	SPECS=$ALL same gene-stats --hvg 5
}

@test "h5: 10x .h5 and .loom (genes x cells) equal the mtx path" {
	SPECS="tenx.h5 data.loom" same gene-stats --cells cells.tsv --where perturbation=ctrl
	SPECS="old.h5ad" same gene-stats --where perturbation=KO_A
}

@test "h5: non-integer float32 X, dense and CSR, and a loom layer equal the .npy path" {
	ak gene-stats --counts norm.npy --genes genes.txt --no-normalize > "$BATS_TEST_TMPDIR/ref.out"
	for spec in layers.h5ad data.loom:layers/norm; do
		run ak gene-stats --counts "$spec" --no-normalize
		assert_success
		[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref.out")" ]
	done
}

@test "h5: obs serves as the cells table: --where on categorical, string, int, float, bool, nullable columns" {
	# (gene-stats needs 2 cells: each value is held by at least two)
	for w in perturbation=ctrl batch=b2 n_genes=5 frac=0.452 is_good=True is_good=False \
		score=1e+16 score=0.30000000000000004 f32=0.33333334 n_na=3; do
		SPECS="csr.h5ad csc_i64.h5ad" same gene-stats --where "$w"
	done
	REF=(--counts counts.mtx --genes genes.txt --cells cells_old.tsv)
	for w in perturbation=ctrl batch=b2 is_good=True score=1e-05; do
		SPECS="old.h5ad" same gene-stats --where "$w"
	done
}

@test "h5: obs values are written as pandas writes them (cluster prints the cells table)" {
	SPECS="csr.h5ad dense_f32.h5ad" same cluster --k 3 --hvg 10 --pcs 3
	REF=(--counts counts.mtx --genes genes.txt --cells cells_old.tsv)
	SPECS="old.h5ad" same cluster --k 3 --hvg 10 --pcs 3
}

@test "h5: de-call --group from obs (no --cells), coexpr, equal the mtx path" {
	SPECS="csr.h5ad csc.h5ad layers.h5ad:raw/X old.h5ad" same de-call --group perturbation --control ctrl --min-cells 5
	SPECS="csr.h5ad dense_f64.h5ad" same de-call --group perturbation --control rest --test mwu --min-cells 5
	SPECS="csc_i64.h5ad tenx.h5 data.loom" same coexpr --method pearson --top 20
	SPECS="csr.h5ad" same coexpr --strata batch --min-cells 5
}

@test "h5: --gene-col picks a var column (h5ad), features/name (10x), a row attribute (loom)" {
	REF=(--counts counts.mtx --genes symbols.txt --cells cells.tsv)
	ak gene-stats "${REF[@]}" > "$BATS_TEST_TMPDIR/ref.out"
	for a in "csr.h5ad gene_symbols" "old.h5ad gene_symbols" "tenx.h5 name" "data.loom Symbol"; do
		set -- $a
		run ak gene-stats --counts "$1" --gene-col "$2"
		assert_success
		[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref.out")" ]
	done
	run ak gene-stats --counts csr.h5ad
	assert_line --index 1 --partial "ENSG0000	"
}

@test "h5: cluster --embedding reads obsm, with obs as the cells table" {
	ak cluster --embedding pca.npy --cells cells.tsv --k 3 > "$BATS_TEST_TMPDIR/ref.out"
	run ak cluster --embedding layers.h5ad:obsm/X_pca --k 3
	assert_success
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/ref.out")" ]
}

@test "h5: mat info lists matrices, datasets and obs/var columns with shapes and dtypes" {
	run ak mat info layers.h5ad
	assert_success
	assert_line --index 0 "path	kind	shape	dtype"
	assert_line "/	h5ad (cells x genes: X)	60 x 14	float32"
	assert_line "X	csr_matrix	60 x 14	float32"
	assert_line "layers/dense_counts	dataset	60 x 14	int64"
	assert_line "raw/X	csr_matrix	60 x 14	float32"
	assert_line "obsm/X_pca	dataset	60 x 3	float64"
	assert_line "obs	dataframe	60 x 8	"
	assert_line "obs/cell_id	index	60	string"
	assert_line "obs/perturbation	column	60	category (3)"
	assert_line "obs/is_good	column	60	bool"
	assert_line "var/gene_symbols	column	14	string"
	run ak mat info old.h5ad
	assert_line "obs/perturbation	column	60	category (3)"
	assert_line "obs/index	index	60	string"
	run ak mat info csc_i64.h5ad
	assert_line "X	csc_matrix	60 x 14	float32"
	run ak mat info tenx.h5
	assert_line "/	10x-h5 (cells x genes: matrix)	60 x 14	int32"
	assert_line "matrix	csc_matrix	14 x 60	int32"
	assert_line "matrix/features/name	dataset	14	string"
	run ak mat info data.loom
	assert_line "/	loom (cells x genes: matrix)	60 x 14	float32"
	assert_line "layers/norm	dataset	14 x 60	float32"
	run ak mat info layers.h5ad:layers/counts
	assert_line "shape	60 x 14"
	assert_line "row_names	yes, first AAAC000-1"
	assert_line "col_names	yes, first ENSG0000"
}

@test "h5: mat convert writes every encoding cells x genes, equal to numpy" {
	for spec in csr.h5ad csc_i64.h5ad dense_i64.h5ad old.h5ad tenx.h5 data.loom layers.h5ad:raw/X; do
		run ak mat convert "$spec" out.npy
		assert_success
		"$PY" -c "import numpy as np, sys; a = np.load('out.npy'); b = np.load('counts.npy'); sys.exit(not (a.shape == b.shape and (a == b).all()))" ||
			{ echo "$spec"; return 1; }
	done
	ak mat convert layers.h5ad:obsm/X_pca pca2.npy
	"$PY" -c "import numpy as np, sys; sys.exit(not (np.load('pca2.npy') == np.load('pca.npy')).all())"
	ak mat convert tenx.h5 t.tsv
	run head -c 40 t.tsv
	assert_output --partial "row	ENSG0000	ENSG0001"
	run sed -n 2p t.tsv
	assert_output --partial "AAAC000-1	"
}

# 10x files of several feature types (tenx_multi.h5: antibodies and guides
# between the genes, with counts of their own; tenx_guides.h5: guides after
# them): the expression filters read the Gene Expression rows, as
# scanpy.read_10x_h5(gex_only=True) does, and say on stderr what they left out.
@test "h5: a 10x file of several feature types is read as its Gene Expression rows (not contiguous), the rest named on stderr" {
	# outputs in the test's own directory: the tests of this file run in parallel in fx/
	local t=$BATS_TEST_TMPDIR spec
	for spec in tenx_multi.h5 tenx_guides.h5 tenx_multi.h5:matrix "tenx_multi.h5:Gene Expression"; do
		# library sizes (CP10k) include no guide or antibody counts: equal to the genes-only mtx
		ak gene-stats "${REF[@]}" --hvg 5 > "$t/ref"
		ak gene-stats --counts "$spec" --hvg 5 > "$t/out" 2> /dev/null
		cmp "$t/out" "$t/ref" || { echo "$spec"; diff "$t/out" "$t/ref" | head; return 1; }
		ak de-call "${REF[@]}" --group perturbation --control ctrl --min-cells 5 > "$t/ref"
		ak de-call --counts "$spec" --cells cells.tsv --group perturbation --control ctrl --min-cells 5 > "$t/out" 2> /dev/null
		cmp "$t/out" "$t/ref" || { echo "de-call $spec"; return 1; }
		ak coexpr "${REF[@]}" --method pearson --top 20 > "$t/ref"
		ak coexpr --counts "$spec" --cells cells.tsv --method pearson --top 20 > "$t/out" 2> /dev/null
		cmp "$t/out" "$t/ref" || { echo "coexpr $spec"; return 1; }
	done
	# the note names what was left out, once; naming the type explicitly is silent
	ak gene-stats --counts tenx_multi.h5 > /dev/null 2> "$t/err"
	run cat "$t/err"
	assert_output "gene-stats: tenx_multi.h5: reading the 14 Gene Expression features of 18; left out 2 Antibody Capture, 2 CRISPR Guide Capture (read those as 'tenx_multi.h5:TYPE')"
	ak gene-stats --counts tenx_guides.h5 > /dev/null 2> "$t/err"
	grep -qF "reading the 14 Gene Expression features of 16; left out 2 CRISPR Guide Capture" "$t/err"
	ak gene-stats --counts "tenx_multi.h5:Gene Expression" > /dev/null 2> "$t/err"
	[ ! -s "$t/err" ]
	ak gene-stats --counts tenx.h5 > /dev/null 2> "$t/err"
	[ ! -s "$t/err" ]
	# --gene-col reads features/name of the same rows
	ak gene-stats --counts counts.mtx --genes symbols.txt --cells cells.tsv > "$t/ref"
	ak gene-stats --counts tenx_multi.h5 --gene-col name > "$t/out" 2> /dev/null
	cmp "$t/out" "$t/ref"
}

@test "h5: FILE.h5:TYPE[,TYPE] reads other feature types, equal to numpy; mat info lists the types" {
	local t=$BATS_TEST_TMPDIR
	ak mat convert tenx_multi.h5 "$t/gex.npy" 2> /dev/null
	ak mat convert "tenx_multi.h5:CRISPR Guide Capture" "$t/g.npy" 2> /dev/null
	ak mat convert "tenx_multi.h5:Antibody Capture,CRISPR Guide Capture" "$t/ag.npy" 2> /dev/null
	"$PY" - "$t" <<'PY'
import numpy as np, h5py, scipy.sparse as sp, sys, os
d = sys.argv[1]
# independent of the fixture's own arrays: the file's rows by feature_type, via h5py + scipy
with h5py.File("tenx_multi.h5") as f:
    g = f["matrix"]
    m = sp.csc_matrix((g["data"][...], g["indices"][...], g["indptr"][...]), shape=tuple(g["shape"][...])).toarray().T
    t = np.array([x.decode() for x in g["features/feature_type"][...]])
for got, want in (("gex.npy", m[:, t == "Gene Expression"]), ("g.npy", m[:, t == "CRISPR Guide Capture"]),
                  ("ag.npy", m[:, np.isin(t, ["Antibody Capture", "CRISPR Guide Capture"])])):
    a = np.load(os.path.join(d, got))
    if a.shape != want.shape or not (a == want).all():
        sys.exit(f"{got}: {a.shape} differs from {want.shape}")
assert (np.load(os.path.join(d, "gex.npy")) == np.load("counts.npy")).all()
assert (np.load(os.path.join(d, "g.npy")) == np.load("guides.npy")).all()
PY
	# the guides by name, as a filter reads them
	run ak mat convert "tenx_multi.h5:CRISPR Guide Capture" - --to tsv
	assert_success
	assert_line --index 0 "row	sgA-1	sgB-1"
	run ak gene-stats --counts "tenx_multi.h5:CRISPR Guide Capture" --no-normalize
	assert_success
	assert_line --index 1 --partial "sgA-1	"
	assert_line --index 2 --partial "sgB-1	"
	run ak mat info tenx_multi.h5
	assert_success
	assert_line "/	10x-h5 (cells x genes: matrix, Gene Expression)	60 x 14	int32"
	assert_line "CRISPR Guide Capture	10x feature type (cells x features)	60 x 2	int32"
	assert_line "Antibody Capture	10x feature type (cells x features)	60 x 2	int32"
	assert_line "matrix	csc_matrix	18 x 60	int32"
	run ak mat info tenx.h5
	refute_line --partial "10x feature type"
}

@test "h5: missing layers, columns and matrices are named with what exists" {
	run ak gene-stats --counts layers.h5ad:layers/nope
	assert_data_error "layers.h5ad: no matrix 'layers/nope' (layers/ holds: counts, dense_counts)"
	run ak gene-stats --counts csr.h5ad --gene-col symbol
	assert_data_error "no column 'symbol' (there are: _index, gene_symbols, highly_variable)"
	run ak gene-stats --counts csr.h5ad --where target=KO_A
	assert_data_error "csr.h5ad:obs: no column 'target' (columns: cell_id, perturbation, batch"
	run ak de-call --counts tenx.h5 --group perturbation --control ctrl
	assert_data_error "tenx.h5:matrix: no column 'perturbation' (columns: barcodes)"
	run ak gene-stats --counts nox.h5ad
	assert_data_error "nox.h5ad: no X (an AnnData file written with X=None): name a layer"
	run ak gene-stats --counts layers.h5ad:obsm/X_pca
	assert_data_error "obsm/X_pca is an embedding"
	run ak gene-stats --counts tenx.h5:other
	assert_data_error "tenx.h5: no features of type 'other' (the file has: Gene Expression (14); the member of a 10x file is 'matrix' or feature types"
	run ak gene-stats --counts "tenx_multi.h5:Gene Expression,nope"
	assert_data_error "tenx_multi.h5: no features of type 'nope' (the file has: Antibody Capture (2), Gene Expression (14), CRISPR Guide Capture (2);"
	run ak gene-stats --counts tenx_noge.h5
	assert_data_error "tenx_noge.h5: no Gene Expression features (the file has: CRISPR Guide Capture (2)): name the type to read, as 'tenx_noge.h5:CRISPR Guide Capture'"
	run ak gene-stats --counts csr.h5ad:obs
	assert_data_error "obs is a group with encoding 'dataframe', not a matrix"
	run ak gene-stats --counts csr.h5ad --gene-col highly_variable
	assert_data_error "duplicate gene name 'True'"
	run ak gene-stats --counts counts.mtx --genes genes.txt --gene-col x
	assert_failure 2
	assert_output --partial "--gene-col needs HDF5 counts"
}

@test "h5: damaged and unsupported input fails with a clear message" {
	echo "not hdf5" > bad.h5ad
	run ak gene-stats --counts bad.h5ad
	assert_data_error "bad.h5ad: cannot open as HDF5"
	run ak mat info bad.h5ad
	assert_data_error "bad.h5ad: cannot open as HDF5"
	run ak gene-stats --counts - < csr.h5ad
	assert_data_error "HDF5 needs a file name"
	run ak mat info - < csr.h5ad
	assert_data_error "HDF5 needs a file name"
	run ak gene-stats --counts missing.h5ad
	assert_data_error "missing.h5ad: No such file"
	cp csr.h5ad broken.h5ad
	"$PY" - <<'PY'
import h5py, numpy as np
with h5py.File("broken.h5ad", "r+") as f:
    ip = f["X/indptr"][...]
    del f["X/indptr"]
    f["X"].create_dataset("indptr", data=ip[:-1])
with h5py.File("badidx.h5ad", "w") as g, h5py.File("csr.h5ad") as f:
    for k in ("obs", "var"):
        f.copy(k, g)
    f.copy("X", g)
    i = g["X/indices"][...]
    i[3] = 99
    g["X/indices"][...] = i
with h5py.File("plain.h5", "w") as f:
    f.create_dataset("m", data=np.arange(6.0).reshape(2, 3))
PY
	run ak gene-stats --counts broken.h5ad
	assert_data_error "X: indptr has 60 entries, the CSR shape 60 x 14 needs 61"
	run ak gene-stats --counts badidx.h5ad
	assert_data_error "X/indices: 99 at entry 3 is outside 0..13"
	run ak mat info plain.h5
	assert_line "m	dataset	2 x 3	float64"
	run ak mat convert plain.h5 - --to tsv
	assert_data_error "not AnnData, 10x or loom: name the matrix as plain.h5:PATH"
	run ak mat convert plain.h5:m - --to tsv
	assert_success
	assert_line --index 1 "0	0	1	2"
	run ak mat convert csr.h5ad out.h5ad
	assert_data_error "writing .h5ad is not supported"
}
