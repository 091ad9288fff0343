#!/usr/bin/env bats
# coexpr: Spearman / Pearson pairs against scipy.stats.spearmanr and
# numpy.corrcoef (1e-9), on generated counts with many ties and constant genes
# and on pbmc160 / papalexi2021; subsets, sources, top K, CSSI strata
# aggregations against a numpy re-implementation; blocked products equal the
# single product; bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen() {
	"$PY" "$BATS_TEST_DIRNAME/expr_data.py"
}

# check OUT METHOD [SELECT] [GENES]: every pair of OUT against the reference
# over the selected cells (python expression on `cells`) and gene indices.
check() {
	PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" - "$@" <<'PY'
import sys, warnings, numpy as np, scipy.stats as ss
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter("ignore")
out, method = sys.argv[1], sys.argv[2]
m, cells = load()
s = eval(sys.argv[3]) if len(sys.argv) > 3 else np.ones(len(cells), bool)
genes = eval(sys.argv[4]) if len(sys.argv) > 4 else list(range(m.shape[1]))
x = norm(m)[s][:, genes]
ref = spearman(x) if method == "spearman" else np.corrcoef(x.T)
t = read_tsv(out)
assert list(t.columns) == ["from", "to", "value"], list(t.columns)
pos = {f"g{g}": i for i, g in enumerate(genes)}
fr, to = t["from"].map(pos).values, t["to"].map(pos).values
n = len(genes)
assert len(t) == n * (n - 1), (len(t), n)
assert (fr != to).all()
# order: from in gene order, then to in gene order
key = fr * n + to
assert (np.diff(key) > 0).all()
r = ref[fr, to]
assert np.array_equal(np.isnan(r), np.isnan(t.value.values)), "NaN pattern differs"
ok = ~np.isnan(r)
err = np.abs(r[ok] - t.value.values[ok]).max()
assert err < 1e-9, err
print("ok", len(t), "nan", int((~ok).sum()))
PY
}

@test "coexpr --help prints usage and exits 0" {
	run ak coexpr --help
	assert_success
	assert_output --partial "usage: coexpr"
}

@test "coexpr: Spearman all pairs vs scipy.stats.spearmanr (ties, constant genes give nan)" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt -o sp.tsv
	run check sp.tsv spearman
	assert_success
	# g0 is zero in every cell: its 2 x 39 pairs are nan
	assert_output "ok 1560 nan 78"
}

@test "coexpr: Pearson all pairs vs numpy.corrcoef; --where; dense input gives the same" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt --method pearson > pe.tsv
	run check pe.tsv pearson
	assert_success
	ak coexpr --counts x.npy --genes genes.txt --cells cells.tsv --where type=B --method pearson > peB.tsv
	run check peB.tsv pearson "(cells.type == 'B').values"
	assert_success
	assert_output --partial "ok 1560"
}

@test "coexpr --at: listed pairs in input order (repeats, self, constant gene) equal scipy/numpy and the all-pairs run; --where" {
	need_py scipy
	gen
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(4)
p = [(int(a), int(b)) for a, b in rng.integers(0, 40, (300, 2))] + [(3, 3), (0, 5), (7, 9), (7, 9)]
open('at.tsv', 'w').write('from\tto\tx\n' + ''.join(f'g{a}\tg{b}\t1\n' for a, b in p))"
	ak coexpr --counts x.mtx --genes genes.txt --at at.tsv -o at_sp.tsv
	ak coexpr --counts x.npy --genes genes.txt --cells cells.tsv --where type=B --method pearson --at at.tsv -o at_pe.tsv
	ak coexpr --counts x.mtx --genes genes.txt -o all_sp.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" - <<'PY'
import warnings, numpy as np, pandas as pd
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter("ignore")
m, cells = load()
at = pd.read_csv("at.tsv", sep="\t")
fr, to = at["from"].str[1:].astype(int).values, at["to"].str[1:].astype(int).values
for out, ref in (("at_sp.tsv", spearman(norm(m))), ("at_pe.tsv", np.corrcoef(norm(m)[(cells.type == "B").values].T))):
    t = read_tsv(out)
    assert list(t.columns) == ["from", "to", "value"] and len(t) == len(at)
    assert (t["from"].values == at["from"].values).all() and (t["to"].values == at["to"].values).all()
    r = ref[fr, to]
    assert np.array_equal(np.isnan(r), np.isnan(t.value.values)), out
    ok = ~np.isnan(r)
    assert np.abs(r[ok] - t.value.values[ok]).max() < 1e-12, out
# the same numbers as the all-pairs output (a blocked dgemm there, dot products here)
a = read_tsv("all_sp.tsv").set_index(["from", "to"]).value
t = read_tsv("at_sp.tsv")
d = [abs(v - a[(f, g)]) for f, g, v in zip(t["from"], t["to"], t.value) if f != g and not np.isnan(v)]
assert max(d) < 1e-12, max(d)
print("ok", len(t), int(np.isnan(read_tsv("at_sp.tsv").value).sum()))
PY
	echo "$output"
	assert_success
	assert_output --regexp '^ok 304 [1-9]'
	printf 'from\tto\ng1\tnope\n' > bad.tsv
	run ak coexpr --counts x.mtx --genes genes.txt --at bad.tsv
	assert_failure 1
	assert_output --partial 'nope'
	# a gene without counts among known ones: nan for its pairs, counted on stderr
	printf 'from\tto\ng1\tnope\ng1\tg2\n' > part.tsv
	run ak coexpr --counts x.mtx --genes genes.txt --at part.tsv
	assert_success
	assert_line --partial '1 of 2 pairs name a gene without counts'
	assert_line 'g1	nope	nan'
	run ak coexpr --counts x.mtx --genes genes.txt --at at.tsv --top 5
	assert_failure 2
}

@test "coexpr: --genes-subset, --hvg, and --sources rows" {
	need_py scipy
	gen
	printf 'g5\ng2\ng30\ng11\ng2\n' > sub.txt
	ak coexpr --counts x.mtx --genes genes.txt --genes-subset sub.txt > sub.tsv
	run check sub.tsv spearman "np.ones(300, bool)" "[2, 5, 11, 30]"
	assert_success
	assert_output "ok 12 nan 0"
	# --hvg 6: the six most variable genes (gene-stats --hvg agrees)
	ak gene-stats --counts x.mtx --genes genes.txt --hvg 6 | awk -F'\t' 'NR > 1 && $6 != "NA" {print substr($1, 2)}' | paste -sd, > hvg.txt
	ak coexpr --counts x.mtx --genes genes.txt --hvg 6 > hvg.tsv
	run check hvg.tsv spearman "np.ones(300, bool)" "[$(cat hvg.txt)]"
	assert_output "ok 30 nan 0"
	# sources: rows from g3 and g7 only, to every gene but themselves
	printf 'g7\ng3\n' > src.txt
	ak coexpr --counts x.mtx --genes genes.txt --sources src.txt > src.tsv
	ak coexpr --counts x.mtx --genes genes.txt > all.tsv
	awk -F'\t' 'NR == 1 || $1 == "g3" || $1 == "g7"' all.tsv > want.tsv
	[ "$(wc -l < src.tsv)" -eq 79 ]
	diff <(cut -f1,2 want.tsv) <(cut -f1,2 src.tsv)
	run "$PY" -c "
import numpy as np
a = np.genfromtxt('want.tsv', skip_header=1, usecols=2); b = np.genfromtxt('src.tsv', skip_header=1, usecols=2)
assert np.array_equal(np.isnan(a), np.isnan(b)) and np.isnan(a).sum() == 2
print('ok', np.nanmax(np.abs(a - b)) < 1e-14)"
	assert_output "ok True"
}

@test "coexpr: --top K is the K largest pairs, ties by from then to; --abs ranks by magnitude" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt > all.tsv
	ak coexpr --counts x.mtx --genes genes.txt --top 25 > top.tsv
	ak coexpr --counts x.mtx --genes genes.txt --top 25 --abs > topabs.tsv
	ak coexpr --counts x.mtx --genes genes.txt --top 100000 > topall.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np
from expr_data import read_tsv
a = read_tsv('all.tsv').dropna()
a['fi'] = a['from'].str[1:].astype(int); a['ti'] = a['to'].str[1:].astype(int)
for f, key, k in [('top.tsv', a.value, 25), ('topabs.tsv', a.value.abs(), 25), ('topall.tsv', a.value, len(a))]:
    want = a.assign(key=key).sort_values(['key', 'fi', 'ti'], ascending=[False, True, True]).head(k)
    got = read_tsv(f)
    assert list(got['from']) == list(want['from']) and list(got['to']) == list(want['to']), f
    assert np.array_equal(got.value.values, want.value.values), f
print('ok')"
	assert_output ok
	# ties: both directions of a pair have the same value, so from breaks the tie
	run sed -n '2,3p' top.tsv
	assert_line --index 0 --regexp "^g([0-9]+)	g([0-9]+)	"
}

@test "coexpr: row blocks (small ATTNKIT_BLOCK_BYTES) give the single-product values" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt > one.tsv
	ATTNKIT_BLOCK_BYTES=2000 ak coexpr --counts x.mtx --genes genes.txt > blk.tsv
	run check blk.tsv spearman
	assert_success
	run "$PY" -c "
import numpy as np
a = np.genfromtxt('one.tsv', skip_header=1, usecols=2); b = np.genfromtxt('blk.tsv', skip_header=1, usecols=2)
assert np.array_equal(np.isnan(a), np.isnan(b))
print('ok', np.nanmax(np.abs(a - b)) < 1e-14)"
	assert_output "ok True"
	ATTNKIT_BLOCK_BYTES=2000 ak coexpr --counts x.mtx --genes genes.txt --top 30 > blk30.tsv
	ak coexpr --counts x.mtx --genes genes.txt --top 30 > one30.tsv
	diff <(cut -f1,2 one30.tsv) <(cut -f1,2 blk30.tsv)
}

@test "coexpr: --strata aggregations (max, mean, wmean, range, deviation, max/mean/wmean --abs) vs numpy; skipped strata reported" {
	need_py scipy
	gen
	for a in max mean wmean range deviation; do
		run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg $a --min-cells 90 -o $a.tsv
		assert_success
		assert_output --partial "stratum type='C': 80 cells (< --min-cells 90), skipped"
	done
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg max --abs --min-cells 90 > maxabs.tsv 2>/dev/null
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg mean --abs --min-cells 90 > meanabs.tsv 2>/dev/null
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg wmean --abs --min-cells 90 > wmeanabs.tsv 2>/dev/null
	ATTNKIT_BLOCK_BYTES=5000 ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg wmean --min-cells 90 > wmeanblk.tsv 2>/dev/null
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import warnings, numpy as np, scipy.stats as ss
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter('ignore')
m, cells = load()
x = norm(m)
R = np.array([spearman(x[(cells.type == t).values]) for t in ['A', 'B']])
w = np.array([120.0, 100.0])[:, None, None]
P = spearman(x)
ok = ~np.isnan(R)
anyok = ok.any(0)
Rn = np.where(ok, R, 0)
mx = np.where(anyok, np.nanmax(R, 0), np.nan)
i = np.nanargmax(np.where(ok, np.abs(R), -1), 0)
mxabs = np.where(anyok, np.take_along_axis(R, i[None], 0)[0], np.nan)
wmean = np.where(anyok, (w * Rn).sum(0) / (w * ok).sum(0), np.nan)
wmeanabs = np.where(anyok, (w * np.abs(Rn)).sum(0) / (w * ok).sum(0), np.nan)
mean = np.where(anyok, np.nanmean(R, 0), np.nan)
meanabs = np.where(anyok, np.nanmean(np.abs(R), 0), np.nan)
rng = np.where(anyok, np.nanmax(R, 0) - np.nanmin(R, 0), np.nan)
dev = np.where(anyok & ~np.isnan(P), np.nanmax(np.abs(R - P), 0), np.nan)
for f, ref in [('max.tsv', mx), ('maxabs.tsv', mxabs), ('mean.tsv', mean), ('wmean.tsv', wmean), ('wmeanblk.tsv', wmean),
                ('meanabs.tsv', meanabs), ('wmeanabs.tsv', wmeanabs), ('range.tsv', rng), ('deviation.tsv', dev)]:
    t = read_tsv(f)
    fr, to = t['from'].str[1:].astype(int).values, t['to'].str[1:].astype(int).values
    r = ref[fr, to]
    assert len(t) == 40 * 39
    assert np.array_equal(np.isnan(r), np.isnan(t.value.values)), f
    e = np.nanmax(np.abs(r - t.value.values))
    assert e < 1e-9, (f, e)
print('ok')"
	assert_output ok
}

@test "coexpr: the thread count never changes the output bytes" {
	need_py numpy
	gen
	ATTNKIT_THREADS=1 ak coexpr --counts x.mtx --genes genes.txt > t1.tsv
	ATTNKIT_THREADS=3 ak coexpr --counts x.mtx --genes genes.txt > t3.tsv
	ATTNKIT_THREADS=3 ATTNKIT_BLOCK_BYTES=3000 ak coexpr --counts x.mtx --genes genes.txt --sources genes.txt > t3b.tsv
	ATTNKIT_THREADS=1 ATTNKIT_BLOCK_BYTES=3000 ak coexpr --counts x.mtx --genes genes.txt --sources genes.txt > t1b.tsv
	cmp t1.tsv t3.tsv
	cmp t1b.tsv t3b.tsv
	[ "$(wc -l < t1.tsv)" -eq 1561 ]
	# --threads N is ATTNKIT_THREADS=N, and wins over it (the variable is not read)
	ATTNKIT_THREADS=1 ak coexpr --threads 3 --counts x.mtx --genes genes.txt > t3o.tsv
	cmp t1.tsv t3o.tsv
	ATTNKIT_THREADS=many ak coexpr --threads 2 --counts x.mtx --genes genes.txt > t2o.tsv
	cmp t1.tsv t2o.tsv
	ATTNKIT_THREADS=many run ak coexpr --counts x.mtx --genes genes.txt
	assert_failure 1
	assert_output --partial "ATTNKIT_THREADS: 'many' is not a thread count"
	run ak coexpr --threads 0 --counts x.mtx --genes genes.txt
	assert_failure 2
	assert_output --partial "--threads: 0 is out of range (1..256)"
}

@test "coexpr: file, stdin and gzipped stdin give the same bytes; gzip output" {
	need_py numpy
	gen
	ak coexpr --counts x.mtx --genes genes.txt --top 50 > a.tsv
	ak coexpr --counts - --genes genes.txt --top 50 < x.mtx > b.tsv
	ak coexpr --counts - --genes genes.txt --top 50 < x.mtx.gz > c.tsv
	ak coexpr --counts x.mtx.gz --genes genes.txt --top 50 -o d.tsv.gz
	cmp a.tsv b.tsv
	cmp a.tsv c.tsv
	zcat d.tsv.gz | cmp a.tsv -
}

@test "coexpr: pbmc160, Spearman over 300 variable genes vs scipy, and CSSI max over cell types" {
	need_data pbmc160/matrix.mtx.gz
	need_py scipy
	d=$DATA/pbmc160
	ak gene-stats --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --hvg 300 | awk -F'\t' 'NR > 1 && $6 != "NA" {print $1}' > hvg.txt
	ak coexpr --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --genes-subset hvg.txt > sp.tsv
	ak coexpr --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" --genes-subset hvg.txt \
		--strata cell_type --agg max --min-cells 20 --top 2000 > cssi.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import warnings, numpy as np, pandas as pd, scipy.stats as ss
from expr_data import norm, read_tsv, read_mtx, spearman
warnings.simplefilter('ignore')
d = '$d'
m = read_mtx(d + '/matrix.mtx.gz')
genes = open(d + '/genes.txt').read().split()
cells = pd.read_csv(d + '/cells.tsv', sep='\t')
h = [l.strip() for l in open('hvg.txt')]
gi = [genes.index(g) for g in h]
x = norm(m)[:, gi]
pos = {g: i for i, g in enumerate(h)}
ref = ss.spearmanr(x).correlation
t = read_tsv('sp.tsv')
assert len(t) == 300 * 299
r = ref[t['from'].map(pos), t['to'].map(pos)]
assert np.array_equal(np.isnan(r), np.isnan(t.value.values))
assert np.nanmax(np.abs(r - t.value.values)) < 1e-9
R = np.array([spearman(x[(cells.cell_type == c).values]) for c in sorted(set(cells.cell_type))])
mx = np.nanmax(R, 0)
c = read_tsv('cssi.tsv')
assert len(c) == 2000
r = mx[c['from'].map(pos), c['to'].map(pos)]
assert np.abs(r - c.value.values).max() < 1e-9
np.fill_diagonal(mx, np.nan)
kth = np.sort(mx[~np.isnan(mx)])[::-1][1999]
assert abs(c.value.values[-1] - kth) < 1e-9
print('ok')"
	assert_output ok
}

@test "coexpr: papalexi2021 non-targeting cells, Pearson vs numpy.corrcoef" {
	need_data papalexi2021/counts.mtx.gz
	need_py scipy
	d=$DATA/papalexi2021
	ak coexpr --counts "$d/counts.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv.gz" \
		--where target=non-targeting --method pearson > pe.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import warnings, numpy as np, pandas as pd
from expr_data import norm, read_tsv, read_mtx
warnings.simplefilter('ignore')
d = '$d'
m = read_mtx(d + '/counts.mtx.gz')
genes = open(d + '/genes.txt').read().split()
cells = pd.read_csv(d + '/cells.tsv.gz', sep='\t')
x = norm(m)[(cells.target == 'non-targeting').values]
ref = np.corrcoef(x.T)
pos = {g: i for i, g in enumerate(genes)}
t = read_tsv('pe.tsv')
assert len(t) == 299 * 298
r = ref[t['from'].map(pos), t['to'].map(pos)]
assert np.array_equal(np.isnan(r), np.isnan(t.value.values))
print('ok', np.nanmax(np.abs(r - t.value.values)) < 1e-9)"
	assert_output "ok True"
}

# ---- bad input ----

@test "bad: --strata with an unknown column lists the columns; no stratum large enough" {
	need_py numpy
	gen
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata celltype -o out.tsv
	assert_data_error "cells.tsv: no column 'celltype' (columns: barcode, type, batch, target, guides)"
	[ ! -e out.tsv ]
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --min-cells 500 -o out.tsv
	assert_data_error "cells.tsv: no stratum of 'type' has --min-cells 500 cells or more"
	[ ! -e out.tsv ]
}

@test "bad: gene lists with unknown names warn; none known is an error" {
	need_py numpy
	gen
	printf 'g1\nnope\ng2\n' > part.txt
	run ak coexpr --counts x.mtx --genes genes.txt --genes-subset part.txt
	assert_success
	assert_output --partial "part.txt: 1 of 3 names are not genes of x.mtx (first: nope); ignored"
	printf 'nope\nzip\n' > none.txt
	run ak coexpr --counts x.mtx --genes genes.txt --sources none.txt -o out.tsv
	assert_data_error "none.txt: no gene of x.mtx listed"
	[ ! -e out.tsv ]
}

@test "bad: usage errors exit 2" {
	run ak coexpr --counts x.mtx --genes genes.txt --method kendall
	assert_failure 2
	assert_output --partial "--method: 'kendall' is not spearman or pearson"
	run ak coexpr --counts x.mtx --genes genes.txt --agg max
	assert_failure 2
	assert_output --partial "--agg needs --strata COL"
	run ak coexpr --counts x.mtx --genes genes.txt --strata type
	assert_failure 2
	assert_output --partial "--strata needs a cells table"
	run ak coexpr --counts x.mtx --genes genes.txt --genes-subset a --hvg 3
	assert_failure 2
	run ak coexpr --counts x.mtx --genes genes.txt --top -1
	assert_failure 2
	run ak coexpr --counts x.mtx --genes genes.txt --cells c.tsv --strata type --agg median
	assert_failure 2
}

@test "coexpr: --shuffle-strata permutes the labels with common/rng's stream (same sizes), per --seed" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg wmean --min-cells 90 \
		--shuffle-strata --seed 7 > s7.tsv 2>/dev/null
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg wmean --min-cells 90 \
		--shuffle-strata --seed 7 > s7b.tsv 2>/dev/null
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg wmean --min-cells 90 \
		--shuffle-strata --seed 8 > s8.tsv 2>/dev/null
	cmp s7.tsv s7b.tsv
	! cmp -s s7.tsv s8.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import warnings, numpy as np
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter('ignore')
M = (1 << 64) - 1
def splitmix(x):
    x = (x + 0x9e3779b97f4a7c15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return x, z ^ (z >> 31)
rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
class Rng:
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, v = splitmix(seed); self.s.append(v)
    def next(self):
        s = self.s
        out = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return out
    def below(self, n):  # Lemire's multiply-shift with rejection
        m = self.next() * n
        lo = m & M
        if lo < n:
            thresh = ((1 << 64) - n) % n
            while lo < thresh:
                m = self.next() * n
                lo = m & M
        return m >> 64
m, cells = load()
x = norm(m)
lab = cells.type.values.copy()
perm = list(range(len(lab)))
r = Rng(7)
for i in range(len(perm) - 1, 0, -1):
    j = r.below(i + 1); perm[i], perm[j] = perm[j], perm[i]
sh = lab[perm]
assert (np.sort(sh) == np.sort(lab)).all()
R = np.array([spearman(x[sh == t]) for t in ['A', 'B']])
w = np.array([120.0, 100.0])[:, None, None]
ok = ~np.isnan(R)
mean = np.where(ok.any(0), (w * np.where(ok, R, 0)).sum(0) / (w * ok).sum(0), np.nan)
t = read_tsv('s7.tsv')
fr, to = t['from'].str[1:].astype(int).values, t['to'].str[1:].astype(int).values
ref = mean[fr, to]
assert np.array_equal(np.isnan(ref), np.isnan(t.value.values))
print('ok', np.nanmax(np.abs(ref - t.value.values)) < 1e-9)"
	assert_output "ok True"
	run ak coexpr --counts x.mtx --genes genes.txt --shuffle-strata
	assert_failure 2
	assert_output --partial "--shuffle-strata needs --strata COL"
}

# common/rng's stream in Python (xoshiro256** seeded by splitmix64, Lemire's
# bounded integers), for the nulls' checks
RNGPY='
M = (1 << 64) - 1
def splitmix(x):
    x = (x + 0x9e3779b97f4a7c15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return x, z ^ (z >> 31)
rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M
class Rng:
    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, v = splitmix(seed); self.s.append(v)
    def next(self):
        s = self.s
        out = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return out
    def below(self, n):
        m = self.next() * n
        lo = m & M
        if lo < n:
            thresh = ((1 << 64) - n) % n
            while lo < thresh:
                m = self.next() * n
                lo = m & M
        return m >> 64
'

@test "coexpr: --agg mean is the unweighted mean over strata; --abs --agg mean the paper's CSSI-mean (+0.5, -0.5 -> 0, 0.5)" {
	need_py scipy
	# two strata of 200 cells; genes a, b correlated about +0.5 in S1 and -0.5 in S2
	"$PY" -c "
import numpy as np
rng = np.random.default_rng(5)
rows = []
for sign in (1, -1):
    z = rng.normal(size=(200, 2))
    a = z[:, 0]; b = sign * 0.5 * a + np.sqrt(0.75) * z[:, 1]
    rows.append(np.stack([np.exp(2 + a), np.exp(2 + b), np.full(200, 5e4)], 1))
m = np.rint(np.concatenate(rows) * 20).astype(np.int64)
np.save('pm.npy', m)
open('pm_genes.txt', 'w').write('a\nb\nc\n')
open('pm_cells.tsv', 'w').write('cell\ts\n' + ''.join(f'c{i}\tS{1 + (i >= 200)}\n' for i in range(400)))"
	for a in mean wmean max; do
		ak coexpr --counts pm.npy --genes pm_genes.txt --cells pm_cells.tsv --strata s --agg $a --sources <(echo a) --genes-subset <(printf 'a
b
') > $a.tsv
		ak coexpr --counts pm.npy --genes pm_genes.txt --cells pm_cells.tsv --strata s --agg $a --abs --sources <(echo a) --genes-subset <(printf 'a
b
') > $a.abs.tsv
	done
	run "$PY" -c "
import numpy as np, scipy.stats as ss
m = np.load('pm.npy').astype(float); x = np.log1p(m / m.sum(1, keepdims=True) * 1e4)
r = [ss.spearmanr(x[s, 0], x[s, 1])[0] for s in (slice(0, 200), slice(200, 400))]
v = lambda f: float(open(f).read().split()[-1])
assert abs(v('mean.tsv') - (r[0] + r[1]) / 2) < 1e-12
assert abs(v('mean.abs.tsv') - (abs(r[0]) + abs(r[1])) / 2) < 1e-12
assert abs(v('wmean.tsv') - v('mean.tsv')) < 1e-12      # equal strata: same as the weighted mean
r_max_abs = r[0] if abs(r[0]) >= abs(r[1]) else r[1]
assert abs(v('max.abs.tsv') - r_max_abs) < 1e-12
print(round(r[0], 1), round(r[1], 1), abs(round(v('mean.tsv'), 1)), round(v('mean.abs.tsv'), 1))"
	assert_output "0.5 -0.5 0.0 0.5"
}

@test "coexpr: --random-strata gives each cell a uniform random stratum (common/rng), re-checks --min-cells" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg mean --min-cells 20 \
		--random-strata --seed 3 > r3.tsv 2>/dev/null
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --agg mean --min-cells 20 \
		--random-strata --seed 3 > r3b.tsv 2>/dev/null
	cmp r3.tsv r3b.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "$RNGPY
import warnings, numpy as np
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter('ignore')
m, cells = load()
x = norm(m)
r = Rng(3)
lab = np.array([r.below(3) for _ in range(len(cells))])
sizes = np.bincount(lab)
assert sorted(sizes.tolist()) != [80, 100, 120]
R = np.array([spearman(x[lab == k]) for k in range(3)])
mean = np.where((~np.isnan(R)).any(0), np.nanmean(R, 0), np.nan)
t = read_tsv('r3.tsv')
fr, to = t['from'].str[1:].astype(int).values, t['to'].str[1:].astype(int).values
ref = mean[fr, to]
assert np.array_equal(np.isnan(ref), np.isnan(t.value.values))
print('ok', np.nanmax(np.abs(ref - t.value.values)) < 1e-9)"
	assert_output "ok True"
	# with 3 strata of about 100 cells, --min-cells 101 drops some random strata (reported)
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --min-cells 101 --random-strata --seed 3 -o /dev/null
	assert_success
	assert_output --partial "random stratum type="
	refute_output --partial "80 cells"
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --random-strata --shuffle-strata
	assert_failure 2
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --min-cells 2
	assert_failure 2
	assert_output --partial "at least 3 cells"
}

@test "coexpr: every value is written in the shortest form that reads back (Python repr agrees)" {
	need_py numpy
	gen
	ak coexpr --counts x.mtx --genes genes.txt --method pearson > p.tsv
	run "$PY" -c "
import math
n = 0
for line in list(open('p.tsv'))[1:]:
    v = line.rstrip('\n').split('\t')[2]
    if v == 'nan':
        continue
    assert v == repr(float(v)), v
    n += 1
print('ok', n)"
	assert_output "ok 1482"
}

# the strata permutations of --contrast-perm and the draw of --subsample in
# Python (common/rng's Fisher-Yates: j = below(i + 1) for i = n-1 .. 1)
PERMPY='
def perm_of(seed, n):
    p = list(range(n)); r = Rng(seed)
    for i in range(n - 1, 0, -1):
        j = r.below(i + 1); p[i], p[j] = p[j], p[i]
    return p
def maxabs(R):
    ok = ~np.isnan(R)
    i = np.nanargmax(np.where(ok, np.abs(R), -1), 0)
    return np.where(ok.any(0), np.take_along_axis(R, i[None], 0)[0], np.nan)
'

@test "coexpr: --contrast-perm p and q vs numpy with the same permutations; BH vs statsmodels; --top, blocks, --sources agree" {
	need_py scipy statsmodels
	gen
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --abs --min-cells 90 \
		--contrast-perm 19 --seed 5 > cp.tsv 2>/dev/null
	head -1 cp.tsv | grep -qx $'from\tto\tvalue\tpooled\tp\tq'
	# the value column is the plain CSSI-max
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --abs --min-cells 90 > mx.tsv 2>/dev/null
	cmp <(cut -f1-3 cp.tsv) mx.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "$RNGPY$PERMPY
import warnings, numpy as np
from statsmodels.stats.multitest import multipletests
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter('ignore')
m, cells = load()
x = norm(m)
lab = cells.type.values
obs = maxabs(np.array([spearman(x[lab == t]) for t in 'AB']))
P = spearman(x)
N, S = 19, 5
nge = np.zeros(obs.shape, int); near = np.zeros(obs.shape, bool)
for b in range(N):
    sh = lab[perm_of(S + b, len(lab))]
    nul = np.abs(maxabs(np.array([spearman(x[sh == t]) for t in 'AB'])))
    nge += np.isnan(nul) | (nul >= np.abs(obs))
    near |= np.abs(nul - np.abs(obs)) < 1e-9
t = read_tsv('cp.tsv')
fr, to = t['from'].str[1:].astype(int).values, t['to'].str[1:].astype(int).values
p = np.where(np.isnan(obs), np.nan, (1 + nge) / (N + 1))[fr, to]
assert np.array_equal(np.isnan(p), np.isnan(t.p.values)) and np.array_equal(np.isnan(p), np.isnan(t.q.values))
d = ~np.isnan(p)
assert np.abs(P[fr, to] - t.pooled.values)[d].max() < 1e-9
bad = d & (p != t.p.values) & ~near[fr, to]
assert not bad.any(), t[bad]
assert (t.p.values[d] < 0.2).sum() > 20 and len(set(t.p.values[d])) > 5   # not all one value
q = multipletests(t.p.values[d], method='fdr_bh')[1]
assert np.abs(q - t.q.values[d]).max() < 1e-12
print('ok', d.sum(), (p[d] == t.p.values[d]).mean())"
	assert_success
	assert_line --partial "ok 1482 1.0"
	# --top K: the K strongest rows with the p and q of the full run (BH over all pairs)
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --abs --min-cells 90 \
		--contrast-perm 19 --seed 5 --top 30 > cptop.tsv 2>/dev/null
	[ "$(wc -l < cptop.tsv)" -eq 31 ]
	awk -F'\t' 'NR == FNR { r[$1 FS $2] = $0; next } FNR > 1 && r[$1 FS $2] != $0 { print "differs:", $0; bad = 1 } END { exit bad }' cp.tsv cptop.tsv
	# row blocks rank the permuted strata again per block: the same bytes
	ATTNKIT_BLOCK_BYTES=3000 ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --abs --min-cells 90 \
		--contrast-perm 19 --seed 5 > cpblk.tsv 2>/dev/null
	[ "$(cut -f1,2,5,6 cpblk.tsv | md5sum)" = "$(cut -f1,2,5,6 cp.tsv | md5sum)" ]
	paste cp.tsv cpblk.tsv | awk -F'\t' 'NR > 1 && $3 != "nan" { d = $3 - $9; if (d < 0) d = -d; if (d > 1e-12) exit 1 }'
	# --sources: the same pairs' values and p; q over the fewer pairs tested
	printf 'g5\ng9\n' > src.txt
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --abs --min-cells 90 \
		--contrast-perm 19 --seed 5 --sources src.txt > cpsrc.tsv 2>/dev/null
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np
from statsmodels.stats.multitest import multipletests
from expr_data import read_tsv
a, s = read_tsv('cp.tsv'), read_tsv('cpsrc.tsv')
j = s.merge(a, on=['from', 'to'], suffixes=('', '_all'))
assert len(j) == len(s) == 2 * 39 and set(s['from']) == {'g5', 'g9'}
assert (j.p.fillna(-1) == j.p_all.fillna(-1)).all() and np.allclose(j.value, j.value_all, rtol=0, atol=1e-12, equal_nan=True)
d = ~np.isnan(s.p.values)
assert np.abs(multipletests(s.p.values[d], method='fdr_bh')[1] - s.q.values[d]).max() < 1e-12
print('ok')"
	assert_output ok
}

@test "coexpr: --contrast-perm p values are uniform for strata unrelated to the cells, small for planted state-specific pairs" {
	need_py scipy
	gen
	# batch is drawn independently of the counts: the null holds for every pair
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata batch --abs --contrast-perm 99 --seed 1 > nb.tsv 2>/dev/null
	# planted: genes 2k, 2k+1 share a latent factor in state A (k < 4) or in B (4 <= k < 8), never pooled-wide
	"$PY" -c "
import numpy as np
r = np.random.default_rng(5); n = 400; st = np.repeat(['A', 'B'], n // 2)
z = r.normal(size=(n, 8)); lam = np.exp(0.6 * r.normal(size=(n, 24)) + 1.0)
for k in range(8):
    on = (st == 'A') if k < 4 else (st == 'B')
    for g in (2 * k, 2 * k + 1):
        lam[on, g] *= np.exp(1.2 * z[on, k])
np.save('pl.npy', r.poisson(lam).astype(np.int64))
open('pl_genes.txt', 'w').write(''.join(f'g{i}\n' for i in range(24)))
open('pl_cells.tsv', 'w').write('barcode\tstate\n' + ''.join(f'c{i}\t{s}\n' for i, s in enumerate(st)))"
	ak coexpr --counts pl.npy --genes pl_genes.txt --cells pl_cells.tsv --strata state --abs --contrast-perm 99 --seed 1 > np.tsv
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "
import numpy as np, scipy.stats as ss
from expr_data import read_tsv
b, t = read_tsv('nb.tsv'), read_tsv('np.tsv')
pb = b.p.dropna().values[::2]   # one direction of each pair
# (1 + c) / 100 with c uniform on 0..99 under the null: mean 0.505
print('null', round(pb.mean(), 3), round((pb <= 0.05).mean(), 3))
assert 0.42 < pb.mean() < 0.58 and (pb <= 0.05).mean() < 0.1
assert ss.kstest(pb, 'uniform').statistic < 0.1
g = lambda c: t[c].str[1:].astype(int)
planted = (g('from') // 2 == g('to') // 2) & (g('from') < 16)
print('planted p', t.p[planted].max(), 'q', t.q[planted].max(), 'others p<=0.02', (t.p[~planted] <= 0.02).sum(), 'of', (~planted).sum())
# 99 permutations: p >= 0.01, so q >= 0.01 x 552 pairs / 32 planted at best
# (other pairs pick up state-specific compositional correlations: not asserted beyond the median)
assert (t.p[planted] <= 0.02).all() and t.q[planted].max() < 0.2 and t.p[~planted].median() > 0.1
print('ok')"
	assert_success
	assert_line ok
}

@test "coexpr: --subsample draws round(FRAC x cells) cells without replacement (common/rng), pooled and stratified, vs numpy" {
	need_py scipy
	gen
	ak coexpr --counts x.mtx --genes genes.txt --subsample 0.55 --seed 4 > sp.tsv
	ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --abs --min-cells 40 --subsample 0.55 --seed 4 > ss.tsv 2>/dev/null
	run env PYTHONPATH="$BATS_TEST_DIRNAME" "$PY" -c "$RNGPY$PERMPY
import warnings, numpy as np
from expr_data import load, norm, read_tsv, spearman
warnings.simplefilter('ignore')
m, cells = load()
x = norm(m)
keep = np.zeros(len(cells), bool); keep[perm_of(4, len(cells))[:165]] = True
lab = cells.type.values
refs = {'sp.tsv': spearman(x[keep]), 'ss.tsv': maxabs(np.array([spearman(x[keep & (lab == t)]) for t in 'ABC']))}
for f, ref in refs.items():
    t = read_tsv(f)
    fr, to = t['from'].str[1:].astype(int).values, t['to'].str[1:].astype(int).values
    r = ref[fr, to]
    assert np.array_equal(np.isnan(r), np.isnan(t.value.values)), f
    assert np.nanmax(np.abs(r - t.value.values)) < 1e-9, f
print('ok')"
	assert_output ok
	# FRAC 1 is every cell; seeds differ
	ak coexpr --counts x.mtx --genes genes.txt --subsample 1 --seed 9 | cmp - <(ak coexpr --counts x.mtx --genes genes.txt)
	! ak coexpr --counts x.mtx --genes genes.txt --subsample 0.55 --seed 5 | cmp -s - sp.tsv
	# strata that fall below --min-cells in the subsample are reported and skipped
	run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv --strata type --min-cells 60 --subsample 0.55 --seed 4 -o /dev/null
	assert_success
	assert_output --partial "subsampled stratum type='C'"
}

@test "bad: --contrast-perm and --subsample usage errors exit 2" {
	gen
	for args in "--contrast-perm 9" "--strata type --contrast-perm 0" "--strata type --contrast-perm 9 --shuffle-strata" \
		"--strata type --contrast-perm 9 --random-strata" "--subsample 0" "--subsample 1.5" "--subsample x" \
		"--strata type --subsample 0.5 --shuffle-strata" "--strata type --subsample 0.5 --contrast-perm 9"; do
		run ak coexpr --counts x.mtx --genes genes.txt --cells cells.tsv $args
		assert_failure 2
	done
	run ak coexpr --counts x.mtx --genes genes.txt --contrast-perm 9
	assert_output --partial "--contrast-perm needs --strata COL"
	run ak coexpr --counts x.mtx --genes genes.txt --subsample 2
	assert_output --partial "not a fraction in (0, 1]"
}
