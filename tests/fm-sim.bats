#!/usr/bin/env bats
# fm-sim: layout, determinism, and that the planted structure is really in
# the attention (checked with numpy's dense attention, not with attnkit).

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "fm-sim: writes the model-directory layout" {
	ak fm-sim --out s --layers 3 --categories 2
	for m in alpha alpha2 beta gamma; do
		[ -f s/$m/meta.tsv ] && [ -f s/$m/genes.txt ]
		for l in 0 1 2; do
			[ -f s/$m/layer$l.wq.npy ] && [ -f s/$m/layer$l.wk.npy ]
			[ -f s/$m/resid/cat1/layer$l.npy ] && [ -f s/$m/resid/cat2/layer$l.npy ]
		done
	done
	run grep -c . s/alpha/genes.txt
	assert_output 285
	run grep ENSSIMG s/beta/genes.txt
	assert_success
	run ak mat info s/beta/resid/cat1/layer0.npy
	assert_line "shape	285 x 128"
}

@test "fm-sim: same seed, same bytes; another seed, other bytes" {
	ak fm-sim --out a --seed 3 --layers 2
	ak fm-sim --out b --seed 3 --layers 2
	ak fm-sim --out c --seed 4 --layers 2
	diff -r a b
	run diff -rq a c
	assert_failure
}

@test "fm-sim: shared pairs dominate middle layers of converging models only (numpy attention)" {
	need_py numpy
	ak fm-sim --out s --seed 1
	run "$PY" - <<'PY'
import numpy as np
base = 's'
rows = [l.split('\t') for l in open(f'{base}/shared_pairs.tsv').read().split('\n')[1:] if l]
shared = set(map(tuple, rows))
ens2sym = {e: s for s, e in (l.split('\t') for l in open(f'{base}/id_map.tsv').read().split('\n')[1:] if l)}
def attn(X, WQ, WK, H=4):
    n, d = X.shape; dk = d // H; A = np.zeros((n, n))
    for h in range(H):
        s = (X @ WQ[h*dk:(h+1)*dk].T) @ (X @ WK[h*dk:(h+1)*dk].T).T / np.sqrt(dk)
        s = np.exp(s - s.max(1, keepdims=True)); A += s / s.sum(1, keepdims=True) / H
    return A
def hit(m, L):
    genes = [ens2sym.get(g, g) for g in open(f'{base}/{m}/genes.txt').read().split()]
    A = attn(np.load(f'{base}/{m}/resid/cat1/layer{L}.npy').astype(float),
             np.load(f'{base}/{m}/layer{L}.wq.npy'), np.load(f'{base}/{m}/layer{L}.wk.npy'))
    np.fill_diagonal(A, -1)
    n = len(genes)
    top = {(genes[i // n], genes[i % n]) for i in np.argsort(-A, axis=None)[:len(shared)]}
    return len(top & shared) / len(shared)
for m in ['alpha', 'alpha2', 'beta']:
    mid, first, last = hit(m, 3), hit(m, 0), hit(m, 5)
    print(m, first, mid, last)
    assert mid > 0.4 and first < 0.1 and last < 0.1
g = max(hit('gamma', L) for L in range(6))
print('gamma', g)
assert g < 0.05
PY
	assert_success
}

@test "fm-sim: usage errors exit 2" {
	run ak fm-sim
	assert_failure 2
	assert_output --partial "--out DIR is required"
	run ak fm-sim --out x --code 3
	assert_failure 2
	run ak fm-sim --out x --genes 50
	assert_failure 1
	assert_output --partial "--genes must be at least 120"
}
