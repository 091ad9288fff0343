#!/usr/bin/env bats
# cluster: k-means strata from counts (PCA of the variable genes) or from an
# embedding; planted clusters recovered exactly, agreement with scikit-learn's
# KMeans on separated blobs, pbmc160 cell types, determinism, bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

blobs() {
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(4)
centres = rng.normal(0, 10, (5, 4))
truth = np.repeat(np.arange(5), [120, 100, 90, 60, 30])
x = centres[truth] + rng.normal(0, 1, (400, 4))
np.save('emb.npy', x)
open('cells.tsv', 'w').write('barcode\ttruth\n' + ''.join(f'c{i}\t{t}\n' for i, t in enumerate(truth)))"
}

@test "cluster --help prints usage and exits 0" {
	run ak cluster --help
	assert_success
	assert_output --partial "usage: cluster"
}

@test "cluster: embedding blobs give the planted partition, as sklearn KMeans does; numbered by size" {
	need_py sklearn
	blobs
	ak cluster --embedding emb.npy --cells cells.tsv --k 5 > out.tsv
	run "$PY" -c "
import pandas as pd, numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score as ari
t = pd.read_csv('out.tsv', sep='\t')
assert list(t.columns) == ['barcode', 'truth', 'cluster']
sk = KMeans(5, n_init=10, random_state=0).fit_predict(np.load('emb.npy'))
sizes = t.cluster.value_counts().sort_index().tolist()
print(ari(t.truth, t.cluster), ari(sk, t.cluster), sizes)"
	assert_output "1.0 1.0 [120, 100, 90, 60, 30]"
}

@test "cluster: counts with planted cell types: PCA + k-means recovers them; --where leaves NA" {
	need_py sklearn
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(9)
truth = np.repeat(np.arange(3), [80, 60, 40])
prog = rng.gamma(0.5, 2.0, (3, 200)) * 3
m = rng.poisson(prog[truth] * rng.gamma(5, 0.2, (180, 1)))
np.save('x.npy', m)
open('genes.txt', 'w').write(''.join(f'g{i}\n' for i in range(200)))
open('cells.tsv', 'w').write('barcode\ttruth\tbatch\n' + ''.join(f'c{i}\t{t}\t{\"b\" + str(i % 2)}\n' for i, t in enumerate(truth)))"
	ak cluster --counts x.npy --genes genes.txt --cells cells.tsv --k 3 --hvg 100 --pcs 10 --scores pcs.npy > all.tsv
	ak cluster --counts x.npy --genes genes.txt --cells cells.tsv --where batch=b0 --k 3 --pcs 5 -o b0.tsv
	run "$PY" -c "
import pandas as pd
from sklearn.metrics import adjusted_rand_score as ari
a = pd.read_csv('all.tsv', sep='\t')
b = pd.read_csv('b0.tsv', sep='\t', keep_default_na=False)
assert len(b) == 180 and (b.cluster[b.batch == 'b1'] == 'NA').all()
s = b[b.batch == 'b0']
print(ari(a.truth, a.cluster), ari(s.truth, s.cluster.astype(int)))"
	assert_output "1.0 1.0"
	# the scores are sklearn's PCA of the z-scored 100 most variable genes (signs aside)
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np
from sklearn.decomposition import PCA
from expr_data import norm
x = norm(np.load('x.npy'))
v = x.var(0, ddof=1)
idx = sorted(sorted(range(len(v)), key=lambda g: (-v[g], g))[:100])
z = x[:, idx]
z = (z - z.mean(0)) / z.std(0, ddof=1)
ref = PCA(10, svd_solver='full').fit_transform(z)
ours = np.load('pcs.npy')
assert ours.shape == (180, 10)
print('ok', np.abs(np.abs(ours) - np.abs(ref)).max() < 1e-8)"
	assert_output "ok True"
}

@test "cluster: pbmc160 clusters follow the cell types; same seed, same bytes, whatever the threads" {
	need_data pbmc160/matrix.mtx.gz
	need_py sklearn
	d=$DATA/pbmc160
	ak cluster --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" --k 8 --seed 3 --hvg 300 > a.tsv
	OPENBLAS_NUM_THREADS=1 ak cluster --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" \
		--k 8 --seed 3 --hvg 300 > b.tsv
	cmp a.tsv b.tsv
	run "$PY" -c "
import pandas as pd
from sklearn.metrics import adjusted_rand_score as ari
t = pd.read_csv('a.tsv', sep='\t')
print('ok', ari(t.cell_type, t.cluster) > 0.45, t.cluster.nunique())"
	assert_output "ok True 8"
}

@test "cluster: without a cells table, 'cell cluster' in input order; stdin embedding" {
	need_py numpy
	blobs
	ak cluster --embedding - --k 5 < emb.npy > out.tsv
	run head -2 out.tsv
	assert_line --index 0 "cell	cluster"
	assert_line --index 1 --regexp "^1	[1-5]$"
	[ "$(wc -l < out.tsv)" -eq 401 ]
}

@test "bad: cluster input errors and usage" {
	need_py numpy
	blobs
	head -300 cells.tsv > c299.tsv
	run ak cluster --embedding emb.npy --cells c299.tsv --k 3 -o out.tsv
	assert_data_error "c299.tsv: 299 cells (rows after the header), but emb.npy has 400 cells (rows)"
	[ ! -e out.tsv ]
	run ak cluster --embedding emb.npy --cells cells.tsv --k 3 --column truth
	assert_data_error "cells.tsv: already has a column 'truth' (choose another with --column)"
	run ak cluster --embedding emb.npy --cells cells.tsv --where truth=4 --k 31
	assert_data_error "emb.npy: --k 31 is more than the 30 selected cells"
	run ak cluster --embedding emb.npy --counts x.mtx --k 3
	assert_failure 2
	run ak cluster --embedding emb.npy
	assert_failure 2
	assert_output --partial "--k K is required"
	"$PY" -c "import numpy as np; x = np.load('emb.npy'); x[5, 1] = np.nan; np.save('nan.npy', x)"
	run ak cluster --embedding nan.npy --k 3
	assert_data_error "nan.npy"
}
