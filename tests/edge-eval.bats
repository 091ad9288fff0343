#!/usr/bin/env bats
# edge-eval: top-k precision/recall/F1 (global and per source) and AUROC/AP of
# scored pairs against a truth set, checked against numpy + scikit-learn.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# Scored pairs with heavy ties (scores rounded to 1 decimal), negative scores,
# missing ones, and a truth with repeats, a header, and genes not among the pairs.
make_case() {
	"$PY" - "$1" <<'PY'
import numpy as np, sys
rng = np.random.default_rng(int(sys.argv[1]))
src = [f"T{i}" for i in range(6)]; tgt = [f"G{i}" for i in range(40)]
with open('pairs.tsv', 'w') as f:
    f.write('from\tto\tvalue\tother\n')
    for a in src:
        for b in tgt + src:
            if a == b: continue
            u = rng.random()
            v = 'nan' if u < 0.03 else ('NA' if u < 0.05 else f"{np.round(rng.normal(), 1)}")
            f.write(f"{a}\t{b}\t{v}\tx\n")
with open('truth.tsv', 'w') as f:
    f.write('tf\tconf\ttarget\n')
    for _ in range(50):
        a = src[rng.integers(6)]; b = tgt[rng.integers(40)] if rng.random() < 0.9 else "ZZ"
        f.write(f"{a}\tA\t{b}\n")
    f.write("G3\tA\tT1\n")   # reverse orientation: only true with --undirected
PY
}

ref() {
	"$PY" - "$@" <<'PY'
import numpy as np, sys
from sklearn.metrics import roc_auc_score, average_precision_score
args = sys.argv[1:]
absval = 'abs' in args; undirected = 'undirected' in args
top = next((int(a[4:]) for a in args if a.startswith('top=')), None)
ps = next((int(a[3:]) for a in args if a.startswith('ps=')), None)
rows = [l.split('\t') for l in open('pairs.tsv').read().split('\n')[1:] if l]
tr = [l.split('\t') for l in open('truth.tsv').read().split('\n')[1:] if l]
T = {(a, b) for a, _, b in tr} | ({(b, a) for a, _, b in tr} if undirected else set())
fr = np.array([r[0] for r in rows])
s = np.array([float('nan') if r[2] in ('NA', 'nan') else float(r[2]) for r in rows])
if absval: s = np.abs(s)
s = np.where(np.isnan(s), np.nanmin(s) - 1, s)       # missing ranks below all
y = np.array([(r[0], r[1]) in T for r in rows])
def hits(s, y, k):
    k = min(k, len(s)); o = np.sort(s)[::-1]; cut = o[k - 1]
    above = s > cut; tied = s == cut
    return y[above].sum() + y[tied].sum() * (k - above.sum()) / tied.sum()
npos = int(y.sum()); k = min(top or npos, len(s))
h = hits(s, y, k); p = h / k; r = h / npos
out = [len(s), npos, roc_auc_score(y, s), average_precision_score(y, s), k, p, r, 2 * p * r / (p + r)]
if ps:
    H = sum(hits(s[fr == a], y[fr == a], ps) for a in np.unique(fr))
    sel = sum(min(ps, (fr == a).sum()) for a in np.unique(fr))
    pp, pr = H / sel, H / npos
    out += [ps, sel, pp, pr, 2 * pp * pr / (pp + pr)]
print(' '.join(repr(float(v)) for v in out))
PY
}

# Compare edge-eval's data row with the reference, to 1e-12 relative.
check() {
	local want=$1 got=$2
	"$PY" -c "
import sys
w = [float(x) for x in sys.argv[1].split()]; g = [float(x) for x in sys.argv[2].split('\t')]
assert len(w) == len(g), (w, g)
for a, b in zip(w, g): assert abs(a - b) <= 1e-12 * max(1, abs(a)), (w, g)
" "$want" "$got"
}

@test "edge-eval: global and per-source top k, AUROC, AP match numpy/sklearn (ties, missing, abs)" {
	need_py sklearn
	for seed in 1 2 3; do
		make_case $seed
		run ak edge-eval --truth truth.tsv --truth-cols tf,target pairs.tsv
		assert_success
		[ "${lines[0]}" = $'n_pairs\tn_true\tauroc\tauprc\ttop_k\tprecision\trecall\tf1' ]
		check "$(ref)" "${lines[1]}"
		# by position: line 1 (tf, target) recurs nowhere, so auto reads it as a header, and says so
		run --separate-stderr ak edge-eval --truth truth.tsv --truth-cols 1,3 --abs --top 25 --per-source 3 pairs.tsv
		assert_success
		[[ $stderr == *"truth.tsv: line 1 (tf, target) read as a header"* ]]
		check "$(ref abs top=25 ps=3)" "${lines[1]}"
		run ak edge-eval --truth truth.tsv --truth-cols tf,target --undirected --per-source 50 pairs.tsv
		assert_success
		check "$(ref undirected ps=50)" "${lines[1]}"
	done
}

@test "edge-eval: F1 by hand on a tiny case; top k beyond the pairs; labels lead" {
	printf 'from\tto\tvalue\nA\tB\t0.9\nA\tC\t0.5\nA\tD\t0.5\nB\tC\t0.1\n' > p.tsv
	printf 'A\tC\nB\tC\nX\tY\n' > t.tsv
	run ak edge-eval --truth t.tsv --no-header --label method=pooled --label seed=3 --per-source 1 p.tsv
	assert_success
	# top 2 = A-B (false) then one of the tie A-C/A-D (half true): 0.5 hits;
	# per source: A's best is A-B (false), B's is B-C (true) -> 1 of 2
	# AUROC: of the 4 (true, false) pairs only A-C vs A-D scores a half (tie): 0.125
	assert_output "method	seed	n_pairs	n_true	auroc	auprc	top_k	precision	recall	f1	per_source_k	ps_selected	ps_precision	ps_recall	ps_f1
pooled	3	4	2	0.125	0.41666666666666663	2	0.25	0.25	0.25	1	2	0.5	0.5	0.5"
	run ak edge-eval --truth t.tsv --no-header --top 100 p.tsv
	assert_line --index 1 "4	2	0.125	0.41666666666666663	4	0.5	1	0.6666666666666666"
}

@test "edge-eval: stdin, gzip, -o; no true pair gives nan" {
	printf 'from\tto\tvalue\nA\tB\t0.9\nA\tC\t0.5\n' > p.tsv
	printf 'A\tC\n' > t.tsv
	gzip -c p.tsv > p.tsv.gz
	gzip -c t.tsv > t.tsv.gz
	a=$(ak edge-eval --truth t.tsv --no-header p.tsv)
	b=$(ak edge-eval --truth t.tsv.gz --no-header < p.tsv.gz)
	[ "$a" = "$b" ]
	ak edge-eval --truth t.tsv --no-header -o out.tsv.gz - < p.tsv
	[ "$(gzip -dc out.tsv.gz)" = "$a" ]
	printf 'Q\tR\n' > none.tsv
	run --separate-stderr ak edge-eval --truth none.tsv --no-header p.tsv
	assert_success
	assert_line --index 1 "2	0	nan	nan	0	nan	nan	nan"
	# fewer than 50 genes: the id check warns instead of failing
	[[ $stderr == *"none.tsv: 0 of 3 pair genes in the reference: Ensembl vs symbol? set MAP"* ]]
}

@test "edge-eval: bad input" {
	printf 'from\tto\tvalue\nA\tB\t0.9\nA\tC\t0.5\n' > p.tsv
	printf 'A\tC\n' > t.tsv
	run ak edge-eval --truth t.tsv --no-header --score weight p.tsv
	assert_data_error "column 'weight'"
	assert_output --partial "from"
	printf 'from\tto\tvalue\nA\tB\tabc\n' > bad.tsv
	run ak edge-eval --truth t.tsv --no-header -o out.tsv bad.tsv
	assert_data_error 'bad.tsv:2: column '"'"'value'"'"': "abc" is not a number'
	[ ! -e out.tsv ]
	printf 'from\tto\tvalue\nA\tB\tinf\n' > inf.tsv
	run ak edge-eval --truth t.tsv --no-header inf.tsv
	assert_data_error "not a finite number"
	printf 'from\tto\tvalue\nA\tB\t1\nA\tB\t2\n' > dup.tsv
	run ak edge-eval --truth t.tsv --no-header dup.tsv
	assert_data_error "dup.tsv:3: column 'from': pair A -> B occurs twice"
	printf 'from\tto\tvalue\nA\tB\n' > ragged.tsv
	run ak edge-eval --truth t.tsv --no-header ragged.tsv
	assert_failure 1
	assert_output --partial "ragged.tsv:2"
	printf 'from\tto\tvalue\n' > hdr.tsv
	run ak edge-eval --truth t.tsv --no-header hdr.tsv
	assert_data_error "header only"
	: > empty.tsv
	run ak edge-eval --truth t.tsv --no-header empty.tsv
	assert_failure 1
	run ak edge-eval --truth empty.tsv --no-header p.tsv
	assert_failure 1
	printf 'tf\ttarget\n' > th.tsv
	run ak edge-eval --truth th.tsv p.tsv
	assert_data_error "th.tsv: no reference edges (0 data rows)"
	run ak edge-eval --truth t.tsv --no-header --truth-cols 1,5 p.tsv
	assert_failure 1
	assert_output --partial "5"
}

@test "edge-eval: usage errors exit 2" {
	run ak edge-eval p.tsv
	assert_failure 2
	assert_output --partial "--ref REF (or --truth REF) is required"
	run ak edge-eval --truth t.tsv --top 0
	assert_failure 2
	run ak edge-eval --truth t.tsv --label novalue
	assert_failure 2
	run ak edge-eval --truth t.tsv a b
	assert_failure 2
	run ak edge-eval --help
	assert_success
	assert_output --partial "usage: edge-eval"
}
