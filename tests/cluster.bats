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

# canonical labels: 1.. by decreasing size, ties by the first cell (as cluster numbers them)
CANON='
import numpy as np
def canon(m):
    m = np.asarray(m)
    ids = sorted(set(m.tolist()), key=lambda c: (-(m == c).sum(), int(np.argmax(m == c))))
    r = {c: i + 1 for i, c in enumerate(ids)}
    return np.array([r[c] for c in m.tolist()])
'

@test "cluster --method leiden: the partition python-igraph's community_leiden gives on the same graph and seed" {
	need_py igraph
	"$PY" -c "import numpy as np; np.save('u.npy', np.random.default_rng(1).uniform(size=(300, 5)))"
	# uniform points: no clear structure, so every seed gives another partition
	for a in "modularity 1 -1" "modularity 1 2" "modularity 2.5 -1" "cpm 0.05 2"; do
		set -- $a
		for s in 1 2 3; do
			ak cluster --method leiden --embedding u.npy --knn 10 --objective $1 --resolution $2 \
				--iterations $3 --seed $s --graph-out "g.$1.$2.$3.$s.tsv" --stats "st.$1.$2.$3.$s.tsv" \
				-o "o.$1.$2.$3.$s.tsv"
		done
	done
	run "$PY" -c "$CANON
import random, igraph as ig, pandas as pd
distinct = 0
for a in ['modularity 1 -1', 'modularity 1 2', 'modularity 2.5 -1', 'cpm 0.05 2']:
    obj, res, it = a.split()
    parts = set()
    for s in (1, 2, 3):
        tag = f'{obj}.{res}.{it}.{s}'
        e = pd.read_csv(f'g.{tag}.tsv', sep='\t')
        g = ig.Graph(n=300, edges=list(zip(e['from'], e['to'])))
        assert g.maxdegree() >= 10 and min(g.degree()) >= 10 and not g.has_multiple()
        random.seed(s)
        cl = g.community_leiden(objective_function='CPM' if obj == 'cpm' else 'modularity',
                                resolution_parameter=float(res), n_iterations=int(it), beta=0.01)
        ours = pd.read_csv(f'o.{tag}.tsv', sep='\t').cluster.values
        assert (canon(cl.membership) == ours).all(), tag
        st = pd.read_csv(f'st.{tag}.tsv', sep='\t').iloc[0]
        assert st.communities == ours.max() and st.edges == g.ecount()
        assert abs(st.modularity - g.modularity(cl.membership)) < 1e-12, tag
        parts.add(tuple(ours))
    distinct += len(parts) > 1
print('ok', distinct)"
	assert_output "ok 4"
}

@test "cluster --method leiden: the kNN graph is scikit-learn's, symmetrised; blobs recovered; leidenalg's modularity" {
	need_py sklearn
	need_py leidenalg
	blobs
	ak cluster --method leiden --embedding emb.npy --cells cells.tsv --knn 15 --graph-out g.tsv --stats st.tsv > out.tsv
	run "$PY" -c "
import numpy as np, pandas as pd, igraph as ig, leidenalg
from sklearn.neighbors import NearestNeighbors
from sklearn.metrics import adjusted_rand_score as ari
x = np.load('emb.npy')
nn = NearestNeighbors(n_neighbors=16).fit(x).kneighbors(x, return_distance=False)[:, 1:]
want = sorted({(min(i, j), max(i, j)) for i in range(len(x)) for j in nn[i]})
e = pd.read_csv('g.tsv', sep='\t')
assert list(zip(e['from'], e['to'])) == want
t = pd.read_csv('out.tsv', sep='\t')
g = ig.Graph(n=len(x), edges=want)
la = leidenalg.find_partition(g, leidenalg.ModularityVertexPartition, seed=1, n_iterations=-1)
st = pd.read_csv('st.tsv', sep='\t').iloc[0]
print(ari(t.truth, t.cluster), ari(la.membership, t.cluster), abs(st.modularity - la.modularity) < 1e-9,
      t.cluster.value_counts().sort_index().tolist())"
	assert_output "1.0 1.0 True [120, 100, 90, 60, 30]"
}

@test "cluster --method leiden: pbmc160 communities follow the cell types; same seed, same bytes" {
	need_data pbmc160/matrix.mtx.gz
	need_py sklearn
	d=$DATA/pbmc160
	ak cluster --method leiden --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" \
		--hvg 2000 --seed 1 --stats st.tsv > a.tsv
	ak cluster --method leiden --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" \
		--hvg 2000 --seed 1 > b.tsv
	cmp a.tsv b.tsv
	run "$PY" -c "
import pandas as pd
from sklearn.metrics import adjusted_rand_score as ari
t = pd.read_csv('a.tsv', sep='\t'); st = pd.read_csv('st.tsv', sep='\t').iloc[0]
print('ok', ari(t.cell_type, t.cluster) > 0.4, st.communities == t.cluster.nunique(), 0.4 < st.modularity < 0.8)"
	assert_output "ok True True True"
}

@test "bad: cluster --method leiden usage and input errors" {
	need_py numpy
	blobs
	run ak cluster --method leiden --k 3 --embedding emb.npy
	assert_failure 2
	assert_output --partial "--k is for --method kmeans"
	run ak cluster --k 3 --knn 10 --embedding emb.npy
	assert_failure 2
	assert_output --partial "need --method leiden"
	run ak cluster --method louvain --embedding emb.npy
	assert_failure 2
	run ak cluster --method leiden --iterations 0 --embedding emb.npy
	assert_failure 2
	run ak cluster --method leiden --resolution -1 --embedding emb.npy
	assert_failure 2
	run ak cluster --method leiden --embedding emb.npy --cells cells.tsv --where truth=4 --knn 30
	assert_data_error "emb.npy: --knn 30 needs more than 30 selected cells"
}
