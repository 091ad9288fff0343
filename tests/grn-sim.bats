#!/usr/bin/env bats
# grn-sim: layout, determinism, and that the planted state-specific edges are
# really in the counts (checked with numpy/scipy, not with attnkit).

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "grn-sim: layout, shapes, balanced states, truth per state" {
	ak grn-sim --out g --states 3 --cells 301 --genes 50 --tfs 5 --edges 7 --shared-edges 2
	for f in counts.mtx genes.txt tfs.txt cells.tsv truth.tsv; do [ -s g/$f ] || fail "no g/$f"; done
	run sed -n 2p g/counts.mtx
	assert_output --regexp '^50 301 [0-9]+$'
	[ "$(grep -c . g/genes.txt)" -eq 50 ]
	[ "$(head -5 g/genes.txt | tr '\n' ' ')" = "TF1 TF2 TF3 TF4 TF5 " ]
	diff <(head -5 g/genes.txt) g/tfs.txt
	run bash -c "tail -n +2 g/cells.tsv | cut -f2 | sort | uniq -c | awk '{print \$2, \$1}'"
	assert_output $'s1 101\ns2 100\ns3 100'
	head -1 g/truth.tsv | grep -qx $'from\tto\tstate\tweight'
	# 7 own + 2 shared edges per state, distinct within a state, TF -> target
	run bash -c "tail -n +2 g/truth.tsv | cut -f3 | sort | uniq -c | awk '{print \$1}' | sort -u"
	assert_output 9
	run bash -c "tail -n +2 g/truth.tsv | cut -f1-3 | sort | uniq -d"
	assert_output ""
	run awk -F'\t' 'NR > 1 && ($1 !~ /^TF/ || $2 !~ /^G/ || ($4 < 0 ? -$4 : $4) < 0.5 || ($4 < 0 ? -$4 : $4) >= 1)' g/truth.tsv
	assert_output ""
	# shared edges are in all three states
	[ "$(tail -n +2 g/truth.tsv | cut -f1,2 | sort | uniq -c | awk '$1 == 3' | wc -l)" -ge 2 ]
}

@test "grn-sim: same seed, same bytes; another seed, other bytes" {
	ak grn-sim --out a --seed 5 --states 2 --cells 200
	ak grn-sim --out b --seed 5 --states 2 --cells 200
	ak grn-sim --out c --seed 6 --states 2 --cells 200
	diff -r a b
	run diff -q a/counts.mtx c/counts.mtx
	assert_failure
	run diff -q a/truth.tsv c/truth.tsv
	assert_failure
}

@test "grn-sim: depth and dropout as asked; planted edges correlate within their state only (scipy)" {
	need_py scipy
	ak grn-sim --out g --states 4 --cells 1200 --genes 120 --tfs 10 --edges 15 --depth 3000 --dropout 0.2 --seed 2
	run "$PY" - <<'PY'
import numpy as np
from scipy.io import mmread
from scipy.stats import spearmanr
X = mmread('g/counts.mtx').toarray()            # genes x cells
genes = open('g/genes.txt').read().split()
gi = {g: i for i, g in enumerate(genes)}
st = np.array([l.split('\t')[1] for l in open('g/cells.tsv').read().split('\n')[1:] if l])
lib = X.sum(0)
# mean library ~ depth * (1 - dropout) (dropout removes a share of the non-zero counts)
print('mean counts per cell', lib.mean())
assert 0.75 * 3000 * 0.8 < lib.mean() < 1.1 * 3000 * 0.8
L = np.log1p(X / lib * 1e4)
truth = [l.split('\t') for l in open('g/truth.tsv').read().split('\n')[1:] if l]
own, other = [], []
for f, t, s, w in truth:
    i, j = gi[f], gi[t]
    for u in np.unique(st):
        m = st == u
        r = spearmanr(L[i, m], L[j, m])[0] * np.sign(float(w))
        (own if u == s else other).append(r)
print('own', np.mean(own), 'other', np.mean(other))
assert np.mean(own) > 0.2 and abs(np.mean(other)) < 0.1
PY
	assert_success
}

@test "grn-sim: usage errors exit 2" {
	run ak grn-sim
	assert_failure 2
	assert_output --partial "--out DIR is required"
	run ak grn-sim --out x --tfs 30 --genes 30
	assert_failure 2
	assert_output --partial "--tfs (30) must be below --genes (30)"
	run ak grn-sim --out x --states 5 --cells 4
	assert_failure 2
	run ak grn-sim --out x --dropout 1
	assert_failure 2
	run ak grn-sim --out x --genes 10 --tfs 2 --edges 9
	assert_failure 2
	assert_output --partial "at most half"
	run ak grn-sim --out x --seed abc
	assert_failure 2
	[ ! -e x ]
}

@test "grn-sim: an output directory that cannot be made is an error (exit 1)" {
	touch plain
	run ak grn-sim --out plain/g
	assert_failure 1
	assert_output --partial "plain/g"
}
