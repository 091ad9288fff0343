#!/usr/bin/env bats
# de-call: Welch t and Mann-Whitney U per perturbation against
# scipy.stats.ttest_ind(equal_var=False) and mannwhitneyu(method="asymptotic",
# use_continuity=True, scipy's default) to 1e-9 on p, BH against statsmodels,
# on generated counts (single labels and high-MOI comma lists, --control rest)
# and on all papalexi2021 perturbations; skipped groups; bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen() {
	"$PY" "$BATS_TEST_DIRNAME/expr_data.py"
}

# check OUT TEST COL CONTROL MINCELLS [LFC ALPHA]: the whole table against scipy.
check() {
	PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" - "$@" <<'PY'
import sys, warnings, numpy as np, scipy.stats as ss
from statsmodels.stats.multitest import multipletests
from expr_data import load, norm, read_tsv
warnings.simplefilter("ignore")
out, test, col, control, minc = sys.argv[1:6]
lfc_t = float(sys.argv[6]) if len(sys.argv) > 6 else 0.5
alpha = float(sys.argv[7]) if len(sys.argv) > 7 else 0.05
m, cells = load()
x = norm(m)
lists = [set(v for v in s.split(",") if v) for s in cells[col]]
perts = sorted(set().union(*lists) - ({control} if control != "rest" else set()))
t = read_tsv(out)
cols = "perturbation gene n_pert n_ctrl mean_pert mean_ctrl lfc stat p q de".split()
assert list(t.columns) == cols, list(t.columns)
done = []
for p in perts:
    a = np.array([p in s for s in lists])
    c = ~a if control == "rest" else np.array([s == {control} for s in lists])
    if a.sum() < int(minc) or c.sum() < int(minc):
        continue
    done.append(p)
    o = t[t.perturbation == p]
    assert list(o.gene) == [f"g{i}" for i in range(m.shape[1])]
    assert (o.n_pert == a.sum()).all() and (o.n_ctrl == c.sum()).all()
    np.testing.assert_allclose(o.mean_pert, x[a].mean(0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(o.mean_ctrl, x[c].mean(0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(o.lfc, x[a].mean(0) - x[c].mean(0), rtol=1e-10, atol=1e-14)
    if test == "welch":
        r = ss.ttest_ind(x[a], x[c], equal_var=False)
    else:
        r = ss.mannwhitneyu(x[a], x[c], method="asymptotic")
    pv, st = np.asarray(r.pvalue), np.asarray(r.statistic)
    assert np.array_equal(np.isnan(pv), np.isnan(o.p.values)), p
    ok = ~np.isnan(pv)
    np.testing.assert_allclose(o.p.values[ok], pv[ok], rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(o.stat.values[ok], st[ok], rtol=1e-9, atol=1e-12)
    q = np.full(len(pv), np.nan)
    q[ok] = multipletests(pv[ok], method="fdr_bh")[1]
    np.testing.assert_allclose(o.q.values[ok], q[ok], rtol=1e-9, atol=1e-300)
    assert np.isnan(o.q.values[~ok]).all()
    de = ok & (np.nan_to_num(q, nan=1) < alpha) & (np.abs(o.lfc.values) >= lfc_t)
    assert np.array_equal(o.de.values.astype(bool), de), p
assert sorted(set(t.perturbation)) == done, (sorted(set(t.perturbation)), done)
print("ok", " ".join(done), int(t.de.sum()))
PY
}

@test "de-call --help prints usage and exits 0" {
	run ak de-call --help
	assert_success
	assert_output --partial "usage: de-call"
}

@test "de-call: Welch vs scipy ttest_ind(equal_var=False), BH vs statsmodels; small groups skipped and reported" {
	need_py statsmodels
	gen
	run ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group target --control NT -o w.tsv
	assert_success
	assert_output "de-call: perturbation 'P3': 10 perturbed and 100 control cells (< --min-cells 30), skipped"
	run check w.tsv welch target NT 30
	assert_success
	assert_output --regexp "^ok P1 P2 P4 [1-9][0-9]*$"
}

@test "de-call: Mann-Whitney vs scipy mannwhitneyu(method='asymptotic'); --lfc, --alpha" {
	need_py statsmodels
	gen
	ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group target --control NT --test mwu \
		--min-cells 10 --lfc 0.2 --alpha 0.1 > u.tsv
	run check u.tsv mwu target NT 10 0.2 0.1
	assert_success
	assert_output --regexp "^ok P1 P2 P3 P4 [1-9][0-9]*$"
}

@test "de-call: high-MOI comma lists: control = cells whose list is only NT; --control rest" {
	need_py statsmodels
	gen
	ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group guides --control NT --min-cells 20 > h.tsv 2> h.err
	run check h.tsv welch guides NT 20
	assert_success
	assert_output --regexp "^ok Q1 Q2 Q3 [0-9]+$"
	ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group guides --control rest --test mwu > r.tsv 2> r.err
	run check r.tsv mwu guides rest 30
	assert_success
	assert_output --regexp "^ok NT Q1 Q2 [0-9]+$"
	run cat r.err
	assert_output "de-call: perturbation 'Q3': 27 perturbed and 273 control cells (< --min-cells 30), skipped"
}

@test "de-call: --where restricts the cells before grouping" {
	need_py statsmodels
	gen
	ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --where batch=b1 --group target --control NT \
		--min-cells 5 > b1.tsv 2>/dev/null
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import warnings, numpy as np, scipy.stats as ss
from expr_data import load, norm, read_tsv
warnings.simplefilter('ignore')
m, cells = load()
x = norm(m)
b = (cells.batch == 'b1').values
t = read_tsv('b1.tsv')
o = t[t.perturbation == 'P2']
a, c = b & (cells.target == 'P2').values, b & (cells.target == 'NT').values
r = ss.ttest_ind(x[a], x[c], equal_var=False)
ok = ~np.isnan(r.pvalue)
assert (o.n_pert == a.sum()).all() and (o.n_ctrl == c.sum()).all()
np.testing.assert_allclose(o.p.values[ok], r.pvalue[ok], rtol=1e-9)
print('ok')"
	assert_output ok
}

@test "de-call: zero-variance groups follow scipy (t = -inf, p = 0; all equal: nan)" {
	need_py statsmodels
	"$PY" -c "
import numpy as np
m = np.zeros((12, 3)); m[:6, 0] = 1; m[6:, 0] = 2; m[:, 1] = 5; m[:, 2] = np.arange(12) % 4
np.save('z.npy', m)
open('zg.txt', 'w').write('a\nb\nc\n')
open('zc.tsv', 'w').write('cell\tg\n' + ''.join(f'c{i}\t{\"P\" if i < 6 else \"C\"}\n' for i in range(12)))"
	ak de-call --counts z.npy --genes zg.txt --cells zc.tsv --no-normalize --group g --control C --min-cells 2 > z.tsv
	run cut -f2,8,9,10 z.tsv
	assert_line --index 1 "a	-inf	0	0"
	assert_line --index 2 "b	nan	nan	nan"
	run "$PY" -c "
import numpy as np, scipy.stats as ss, warnings
warnings.simplefilter('ignore')
m = np.load('z.npy')
r = ss.ttest_ind(m[:6], m[6:], equal_var=False)
print(r.statistic[:2], r.pvalue[:2])
t = np.genfromtxt('z.tsv', skip_header=1, usecols=(7, 8))
np.testing.assert_allclose(t[2], [r.statistic[2], r.pvalue[2]], rtol=1e-9)
print('ok')"
	assert_line --index 0 "[-inf  nan] [ 0. nan]"
	assert_line --index 1 ok
}

@test "de-call: file, stdin and gzipped stdin give the same bytes" {
	need_py numpy
	gen
	ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group target --control NT > a.tsv 2>/dev/null
	ak de-call --counts - --genes genes.txt --cells cells.tsv --group target --control NT < x.mtx > b.tsv 2>/dev/null
	gzip -c cells.tsv > cells.tsv.gz
	ak de-call --counts - --genes genes.txt --cells cells.tsv.gz --group target --control NT < x.mtx.gz > c.tsv 2>/dev/null
	ak de-call --counts x.npy --genes genes.txt --cells cells.tsv --group target --control NT -o d.tsv.gz 2>/dev/null
	cmp a.tsv b.tsv
	cmp a.tsv c.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np
from expr_data import read_tsv
a, d = read_tsv('a.tsv'), read_tsv('d.tsv.gz')
assert (a.gene == d.gene).all() and (a.de == d.de).all()
print('ok', np.nanmax(np.abs(a.p - d.p)) < 1e-12)"
	assert_output "ok True"
}

@test "de-call: papalexi2021, all 25 targets vs non-targeting (Welch all, Mann-Whitney five) vs scipy" {
	need_data papalexi2021/counts.mtx.gz
	need_py statsmodels
	d=$DATA/papalexi2021
	for t in welch mwu; do
		ak de-call --counts "$d/counts.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv.gz" \
			--group target --control non-targeting --test $t -o $t.tsv
	done
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import warnings, numpy as np, pandas as pd, scipy.stats as ss
from statsmodels.stats.multitest import multipletests
from expr_data import norm, read_tsv, read_mtx
warnings.simplefilter('ignore')
d = '$d'
x = norm(read_mtx(d + '/counts.mtx.gz'))
cells = pd.read_csv(d + '/cells.tsv.gz', sep='\t')
c = (cells.target == 'non-targeting').values
perts = sorted(set(cells.target) - {'non-targeting'})
W, U = read_tsv('welch.tsv'), read_tsv('mwu.tsv')
assert sorted(set(W.perturbation)) == perts == sorted(set(U.perturbation)) and len(perts) == 25
# Mann-Whitney in scipy is slow: every Welch result, the U results of five targets
for p in perts:
    a = (cells.target == p).values
    tests = [(W, ss.ttest_ind(x[a], x[c], equal_var=False))]
    if p in ('SPI1', 'MYC', 'CUL3', 'STAT1', 'IFNGR2'):
        tests.append((U, ss.mannwhitneyu(x[a], x[c], method='asymptotic')))
    for t, r in tests:
        o = t[t.perturbation == p]
        ok = ~np.isnan(r.pvalue)
        assert np.array_equal(np.isnan(o.p.values), ~ok)
        np.testing.assert_allclose(o.p.values[ok], r.pvalue[ok], rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(o.q.values[ok], multipletests(r.pvalue[ok], method='fdr_bh')[1], rtol=1e-9, atol=1e-300)
# the knocked-out measured genes are called DE in their own perturbation (Welch)
hits = W[(W.perturbation == W.gene) & (W.de == 1)].gene.tolist()
print('ok', len(W), ' '.join(sorted(hits)))"
	assert_success
	assert_output --regexp "^ok 7475 .*STAT1"
}

# ---- bad input ----

@test "bad: no control cell names the values present; unknown group column lists columns" {
	need_py numpy
	gen
	run ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group target --control ctrl -o out.tsv
	assert_data_error "cells.tsv: no control cell: no cell's 'target' is only 'ctrl' (values: "
	assert_output --partial "NT"
	[ ! -e out.tsv ]
	run ak de-call --counts x.mtx --genes genes.txt --cells cells.tsv --group perturbation --control NT -o out.tsv
	assert_data_error "cells.tsv: no column 'perturbation' (columns: barcode, type, batch, target, guides)"
	[ ! -e out.tsv ]
}

@test "bad: usage errors exit 2" {
	run ak de-call --counts x.mtx --genes genes.txt --group target --control NT
	assert_failure 2
	assert_output --partial "--cells FILE is required"
	run ak de-call --counts x.mtx --genes genes.txt --cells c.tsv --control NT
	assert_failure 2
	assert_output --partial "--group COL is required"
	run ak de-call --counts x.mtx --genes genes.txt --cells c.tsv --group target
	assert_failure 2
	run ak de-call --counts x.mtx --genes genes.txt --cells c.tsv --group target --control NT --test t
	assert_failure 2
	assert_output --partial "--test: 't' is not welch or mwu"
	run ak de-call --counts x.mtx --genes genes.txt --cells c.tsv --group target --control NT --alpha 2
	assert_failure 2
	run ak de-call --counts x.mtx --genes genes.txt --cells c.tsv --group target --control NT --min-cells 1
	assert_failure 2
	run ak de-call --counts x.mtx --genes genes.txt --cells c.tsv --group target --control NT --lfc abc
	assert_failure 2
}
