#!/usr/bin/env bats
# edge-join: labels against independent pandas merges, the summary's counts
# and null against a brute-force n x n numpy enumeration, Fisher against
# scipy.stats.fisher_exact (and mpmath where scipy itself loses digits),
# cosines against numpy; real TRRUST / DoRothEA / symbol-Ensembl map; bad input.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	EX="$TOP/examples"
}

# Generated network on awkward ids (spreadsheet-damaged, NA-like, punctuation):
# ref.tsv (no header: a, b, mode, score; repeated and self edges), ref_h.tsv
# (same with a header), pairs.tsv (from, to, layer, model; duplicates, self
# pairs, genes absent from the reference), vocab.txt, and a many-to-many map
# map.tsv (eid -> symbol) with pairs_e.tsv / vocab_e.txt in its id type.
gen_small() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(11)
genes = ["G%d" % i for i in range(45)] + ["Sep-07", "1-Mar", "NA", "nan", "MARCH1", "-", "#N/A", "a b"]
n = len(genes)
rows = []
for _ in range(260):
    a, b = rng.integers(0, n, 2)
    if rng.random() < 0.04:
        b = a
    rows.append((genes[a], genes[b], rng.choice(["Activation", "Repression", "Unknown"]), "%.3f" % rng.random()))
rows += [rows[3][:2] + ("Repression", "0.5"), rows[10][:2] + ("Unknown", "0.25")]
rows.append(("Sep-07", "1-Mar", "Unknown", "0.125"))
rows.append(("OUTSIDE1", "OUTSIDE2", "Unknown", "0.0"))
with open("ref.tsv", "w") as f:
    for r in rows:
        f.write("\t".join(r) + "\n")
with open("ref_h.tsv", "w") as f:
    f.write("src\tmode\tdst\tscore\n")
    for r in rows:
        f.write("\t".join((r[0], r[2], r[1], r[3])) + "\n")
vocab = genes[:]
with open("vocab.txt", "w") as f:
    f.write("\n".join(vocab) + "\n")
with open("pairs.tsv", "w") as f:
    f.write("from\tto\tlayer\tmodel\n")
    for _ in range(700):
        if rng.random() < 0.35:
            r = rows[rng.integers(0, len(rows) - 1)]
            a, b = (r[0], r[1]) if rng.random() < 0.7 else (r[1], r[0])
        else:
            a, b = genes[rng.integers(0, n)], genes[rng.integers(0, n)]
        if rng.random() < 0.03:
            b = a
        f.write("%s\t%s\t%d\t%s\n" % (a, b, rng.integers(0, 4), rng.choice(["m1", "m2"])))
# many-to-many map: E ids -> symbols; some E map to 2-3 symbols, some symbols
# come from 2 E ids, some E ids map nowhere, some symbols are not in the ref
eids = ["E%03d" % i for i in range(60)]
with open("map.tsv", "w") as f:
    f.write("eid\tsymbol\n")
    for i, e in enumerate(eids):
        if i % 13 == 5:
            continue  # unmapped
        k = 1 + (i % 7 == 0) + (i % 11 == 0)
        for s in rng.choice(genes + ["NOTREF1", "NOTREF2"], size=k, replace=False):
            f.write("%s\t%s\n" % (e, s))
        if i % 17 == 0:
            f.write("%s\t%s\n" % (e, s))  # repeated row
with open("vocab_e.txt", "w") as f:
    f.write("\n".join(eids) + "\n")
with open("pairs_e.tsv", "w") as f:
    f.write("from\tto\tlayer\n")
    for _ in range(900):
        a, b = eids[rng.integers(0, 60)], eids[rng.integers(0, 60)]
        if rng.random() < 0.03:
            b = a
        f.write("%s\t%s\t%d\n" % (a, b, rng.integers(0, 3)))
PY
}

# Reference labels: pandas merges, carried values from the first matching
# reference row (for a map: the first over all mapped combinations).
check_labels_py='
import sys, numpy as np, pandas as pd
rd = lambda p, **k: pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, quoting=3, **k)
def first_rows(ref, a, b, undirected=False):
    ref = ref.assign(row=np.arange(len(ref)))
    ref = ref[(ref[a] != "") & (ref[b] != "")]
    e = ref.rename(columns={a: "x", b: "y"})
    if undirected:
        sw = ref.rename(columns={a: "y", b: "x"})
        e = pd.concat([e, sw]).sort_values("row", kind="stable")
    return ref, e.drop_duplicates(["x", "y"], keep="first")
def expected(pairs, e, mp=None):
    p = pairs.reset_index().rename(columns={"index": "pi"})
    if mp is None:
        x = p.assign(x=p["from"], y=p["to"])
    else:
        x = p.merge(mp.rename(columns={"F": "from", "T": "x"}), on="from").merge(
            mp.rename(columns={"F": "to", "T": "y"}), on="to")
    x = x.merge(e[["x", "y", "row"]], on=["x", "y"])
    return p["pi"].map(x.groupby("pi")["row"].min())
def compare(out, pairs, best, ref, carry):
    o = rd(out)
    assert list(o.columns[: len(pairs.columns)]) == list(pairs.columns)
    assert (o[pairs.columns] == pairs).all().all(), "input columns not passed through"
    exp_in = best.notna().astype(int)
    got = o["in_ref"].astype(int)
    assert (got == exp_in).all(), (o[got != exp_in].head(), pairs[got != exp_in].head())
    byrow = ref.set_index("row")
    for src, dst in carry:
        want = best.map(byrow[src]).fillna("")
        assert (o[dst] == want).all(), (dst, o[o[dst] != want].head())
    print("labels checked:", int(exp_in.sum()), "of", len(o), "in the reference")
'

@test "edge-join --help prints usage and exits 0; usage errors exit 2" {
	run ak edge-join --help
	assert_success
	assert_output --partial "usage: edge-join --ref REF"
	run ak edge-join pairs.tsv
	assert_failure 2
	assert_output --partial "--ref REF is required"
	run ak edge-join --ref x --summary
	assert_failure 2
	assert_output --partial "--summary needs --vocab"
	run ak edge-join --ref x --by layer
	assert_failure 2
	run ak edge-join --ref x --summary --vocab v --carry 3
	assert_failure 2
	run ak edge-join --ref x --embedding-names n
	assert_failure 2
	run ak edge-join --ref x --bogus
	assert_failure 2
}

@test "edge-join: labels and carried columns equal a pandas merge (header-less and header reference, damaged ids)" {
	need_py pandas
	gen_small
	ak edge-join --ref ref.tsv --no-header --carry 3,4 pairs.tsv > out1.tsv
	ak edge-join --ref ref_h.tsv --ref-cols src,dst --carry mode,score pairs.tsv > out2.tsv
	# positions work on a header too
	ak edge-join --ref ref_h.tsv --ref-cols 1,3 --carry 2 pairs.tsv > out3.tsv
	run "$PY" -c "$check_labels_py
pairs = rd('pairs.tsv')
ref, e = first_rows(rd('ref.tsv', header=None, names=['a', 'b', 'm', 's']), 'a', 'b')
best = expected(pairs, e)
assert best.notna().sum() > 100 and best.isna().sum() > 100
compare('out1.tsv', pairs, best, ref, [('m', 'ref_3'), ('s', 'ref_4')])
ref, e = first_rows(rd('ref_h.tsv'), 'src', 'dst')
compare('out2.tsv', pairs, best, ref, [('mode', 'mode'), ('score', 'score')])
compare('out3.tsv', pairs, best, ref, [('mode', 'mode')])
assert (rd('out1.tsv')['in_ref'] == rd('out2.tsv')['in_ref']).all()
"
	assert_success
	assert_output --partial "labels checked"
	run head -1 out1.tsv
	assert_output "$(printf 'from\tto\tlayer\tmodel\tin_ref\tref_3\tref_4')"
	# a damaged id matches only itself
	printf 'Sep-07\t1-Mar\tUnknown\nSEPT7\tNA\tActivation\n' > dref.tsv
	printf 'from\tto\nSep-07\t1-Mar\nSEPT7\t1-Mar\nSep-07\tMARCH1\n' > damaged.tsv
	run --separate-stderr ak edge-join --ref dref.tsv --no-header --carry 3 damaged.tsv
	assert_success
	assert_output "$(printf 'from\tto\tin_ref\tref_3\nSep-07\t1-Mar\t1\tUnknown\nSEPT7\t1-Mar\t0\t\nSep-07\tMARCH1\t0\t')"
}

@test "edge-join --undirected: an edge matches both orientations, carried row = first in the file" {
	need_py pandas
	gen_small
	ak edge-join --ref ref.tsv --no-header --undirected --carry 3,4 pairs.tsv > out.tsv
	run "$PY" -c "$check_labels_py
pairs = rd('pairs.tsv')
ref, e = first_rows(rd('ref.tsv', header=None, names=['a', 'b', 'm', 's']), 'a', 'b', undirected=True)
compare('out.tsv', pairs, expected(pairs, e), ref, [('m', 'ref_3'), ('s', 'ref_4')])
"
	assert_success
}

@test "edge-join --map: many-to-many map equals a pandas merge over all mapped combinations; unmapped count on stderr" {
	need_py pandas
	gen_small
	ak edge-join --ref ref.tsv --no-header --map map.tsv --map-cols eid,symbol --carry 3 pairs_e.tsv > out.tsv 2> err.txt
	run "$PY" -c "$check_labels_py
pairs = rd('pairs_e.tsv')
ref, e = first_rows(rd('ref.tsv', header=None, names=['a', 'b', 'm', 's']), 'a', 'b')
mp = rd('map.tsv').rename(columns={'eid': 'F', 'symbol': 'T'})
best = expected(pairs, e, mp)
assert best.notna().sum() > 20
compare('out.tsv', pairs, best, ref, [('m', 'ref_3')])
genes = set(pairs['from']) | set(pairs['to'])
un = len(genes - set(mp['F']))
msg = open('err.txt').read()
assert '%d of %d pair genes did not map' % (un, len(genes)) in msg, msg
print(un)
"
	assert_success
	# map columns by position give the same bytes
	ak edge-join --ref ref.tsv --no-header --map map.tsv --map-cols 1,2 --carry 3 pairs_e.tsv > out2.tsv 2>/dev/null
	cmp out.tsv out2.tsv
}

@test "edge-join --summary: counts, null fraction and Fisher equal a brute-force n x n enumeration + scipy (no map and many-to-many map)" {
	need_py scipy
	need_py pandas
	gen_small
	ak edge-join --summary --by model,layer --vocab vocab.txt --ref ref.tsv --no-header pairs.tsv > s1.tsv
	ak edge-join --summary --by layer --vocab vocab_e.txt --ref ref.tsv --no-header \
		--map map.tsv --map-cols eid,symbol pairs_e.tsv > s2.tsv 2> err2.txt
	ak edge-join --summary --by layer --vocab vocab_e.txt --ref ref.tsv --no-header --undirected \
		--map map.tsv --map-cols eid,symbol pairs_e.tsv > s3.tsv 2>/dev/null
	ak edge-join --summary --vocab vocab.txt --ref ref.tsv --no-header pairs.tsv > s4.tsv
	run "$PY" - <<'PY'
import numpy as np, pandas as pd, itertools
from scipy.stats import fisher_exact
rd = lambda p, **k: pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, quoting=3, **k)
ref = rd("ref.tsv", header=None, names=["a", "b", "m", "s"])
E = set(zip(ref.a, ref.b))
def check(out, pairs, vocab, by, mp=None, undirected=False):
    EE = E | {(y, x) for x, y in E} if undirected else E
    n = len(vocab)
    ids = {g: ([g] if mp is None else sorted(set(mp.get(g, [])))) for g in vocab}
    mapped = np.array([mp is None or g in mp for g in vocab])
    # brute force over all n^2 ordered pairs and all mapped combinations
    A = np.zeros((n, n), bool)
    for i, gi in enumerate(vocab):
        for j, gj in enumerate(vocab):
            A[i, j] = any((x, y) in EE for x in ids[gi] for y in ids[gj])
    np.fill_diagonal(A, False)
    m = int(mapped.sum())
    R = int(A[np.ix_(mapped, mapped)].sum())
    N = m * (m - 1)
    idx = {g: i for i, g in enumerate(vocab)}
    o = rd(out)
    keys = [tuple(r) for r in pairs[by].drop_duplicates().itertuples(index=False)] if by else [()]
    assert len(o) == len(keys), (len(o), len(keys))
    for row, key in zip(o.itertuples(index=False), keys):
        sub = pairs
        for c, v in zip(by, key):
            sub = sub[sub[c] == v]
            assert getattr(row, c) == v, "group order"
        P = {(idx[a], idx[b]) for a, b in zip(sub["from"], sub["to"]) if a != b}
        nm = [(i, j) for i, j in P if mapped[i] and mapped[j]]
        a = sum(A[i, j] for i, j in nm)
        b, c = len(nm) - a, R - a
        d = N - len(nm) - c
        assert int(row.n_pairs) == len(P) and int(row.n_mapped) == len(nm) and int(row.n_in_ref) == a
        tf = a / len(nm) if nm else float("nan")
        assert float(row.true_fraction) == tf or (np.isnan(tf) and row.true_fraction == "nan")
        assert float(row.null_fraction) == R / N
        res = fisher_exact([[a, b], [c, d]], alternative="greater")
        orr = float(row.odds_ratio)
        assert orr == res.statistic or (np.isnan(orr) and np.isnan(res.statistic)), (orr, res.statistic)
        p = float(row.fisher_p)
        assert abs(p - res.pvalue) <= 1e-9 * res.pvalue, (p, res.pvalue)
    return R, m
pairs = rd("pairs.tsv")
vocab = open("vocab.txt").read().split("\n")[:-1]
print(check("s1.tsv", pairs, vocab, ["model", "layer"]))
print(check("s4.tsv", pairs, vocab, []))
mpd = rd("map.tsv").groupby("eid")["symbol"].apply(list).to_dict()
pe = rd("pairs_e.tsv")
ve = open("vocab_e.txt").read().split()
print(check("s2.tsv", pe, ve, ["layer"], mpd))
print(check("s3.tsv", pe, ve, ["layer"], mpd, undirected=True))
un = sum(g not in mpd for g in ve)
assert "%d of %d vocabulary genes did not map" % (un, len(ve)) in open("err2.txt").read()
print("ok")
PY
	assert_success
	assert_output --partial "ok"
}

# Fisher kernel, directly: common/fisher.c through tests/unit/fisher.c, on
# thousands of tables from tiny to billions of counts.

@test "fisher: p and odds ratio equal scipy.stats.fisher_exact on 2500 tables up to millions of counts (rel 1e-9)" {
	need_py scipy
	[ -z "${AK_VALGRIND:-}" ] || skip "does not run a filter"
	drv=$(unit_bin fisher)
	run env DRV="$drv" "$PY" - <<'PY'
import numpy as np, subprocess, os
from scipy.stats import fisher_exact
rng = np.random.default_rng(3)
T = [(0, 0, 0, 0), (5, 0, 0, 5), (0, 5, 5, 0), (0, 0, 1, 1), (1, 0, 0, 0), (3, 1, 1, 3), (0, 10, 10, 1000),
     (1, 0, 0, 1000000), (0, 1, 1000000, 3000000), (2000000, 1, 1, 1)]
for scale in [10, 100, 1000, 10**4, 10**5, 10**6, 3 * 10**6]:
    for _ in range(350):
        N = int(rng.integers(2, scale + 2)); K = int(rng.integers(0, N + 1)); n = int(rng.integers(0, N + 1))
        lo, hi = max(0, n + K - N), min(n, K)
        mean = n * K / N
        sd = np.sqrt(max(mean * (1 - K / N) * (N - n) / max(N - 1, 1), 1e-9))
        a = int(rng.integers(lo, hi + 1)) if rng.random() < 0.2 else \
            int(min(hi, max(lo, round(mean + rng.normal(0, rng.choice([0.5, 2, 5, 12])) * sd))))
        T.append((a, n - a, K - a, N - K - n + a))
worst, tested, two = 0.0, 0, 0
# symmetric margins: mirror-image tables are equally likely (both tails count)
T += [(2, 8, 8, 2), (5, 5, 5, 5), (0, 10, 10, 0), (1, 9, 9, 1), (3, 7, 7, 3), (30, 70, 70, 30), (7, 3, 3, 7)]
out = subprocess.run([os.environ["DRV"]], input="".join("%d %d %d %d\n" % t for t in T),
                     capture_output=True, text=True, check=True).stdout.split("\n")
for t, line in zip(T, out):
    p, lp, orr, pl, p2 = map(float, line.split())
    r2 = fisher_exact(np.array(t).reshape(2, 2), alternative="two-sided").pvalue
    assert 0 <= p2 <= 1
    if r2 > 1e-290:
        assert abs(p2 - r2) <= 1e-9 * r2, (t, "two-sided", p2, r2)
        two += 1
    else:
        assert p2 <= 1e-280, (t, p2, r2)
    tab = np.array(t).reshape(2, 2)
    r = fisher_exact(tab, alternative="greater")
    rl = fisher_exact(tab, alternative="less")
    assert orr == r.statistic or (np.isnan(orr) and np.isnan(r.statistic)), (t, orr, r.statistic)
    assert 0 <= p <= 1 and 0 <= pl <= 1
    if r.pvalue > 1e-290:
        rel = abs(p - r.pvalue) / r.pvalue
        worst = max(worst, rel)
        assert rel <= 1e-9, (t, p, r.pvalue, rel)
        assert abs(np.exp(lp) - p) <= 1e-12 * p
        tested += 1
    else:
        assert p <= 1e-280
    if rl.pvalue > 1e-290:
        assert abs(pl - rl.pvalue) <= 1e-9 * rl.pvalue, (t, pl, rl.pvalue)
print("tables", len(T), "compared", tested, "two-sided", two, "worst rel", worst)
assert tested > 2000 and two > 2000
PY
	assert_success
	echo "$output" >&3
}

@test "fisher: exact against mpmath for counts up to 1e9 and p-values down to 1e-300 and below (scipy sane there)" {
	need_py scipy
	need_py mpmath
	[ -z "${AK_VALGRIND:-}" ] || skip "does not run a filter"
	drv=$(unit_bin fisher)
	run env DRV="$drv" "$PY" - <<'PY'
import numpy as np, subprocess, os, mpmath as mp
from scipy.stats import fisher_exact
mp.mp.dps = 30
eps = mp.mpf(10) ** -20
def log_sf(a, b, c, d):
    # log P(X >= a), summing the upper tail exactly in mpmath from a upward
    K, n, N = a + c, a + b, a + b + c + d
    lg = mp.loggamma
    lpmf = lambda x: (lg(K + 1) - lg(x + 1) - lg(K - x + 1) + lg(N - K + 1) - lg(n - x + 1)
                      - lg(N - K - n + x + 1) - lg(N + 1) + lg(n + 1) + lg(N - n + 1))
    t = s = mp.mpf(1)
    y, hi = a, min(n, K)
    while y < hi:
        t *= mp.mpf((K - y) * (n - y)) / ((y + 1) * (N - K - n + y + 1))
        s += t
        y += 1
        if t < s * eps:
            break
    return lpmf(a) + mp.log(s)
rng = np.random.default_rng(8)
T = [(60, 40, 200, 3999700), (120, 5, 80, 6000), (25, 0, 0, 25), (300, 700, 3000, 10**7),
     (2000, 100000, 50000, 10**8), (400, 400, 400, 4000000), (10**6, 10**6, 10**6, 10**9)]
for _ in range(30):
    # populations of 1e7..1e9 with up to 1e6 draws: scipy drifts here, and
    # the exact tail stays short enough (a few sd) for mpmath
    N = int(rng.integers(10**7, 10**9)); K = int(rng.integers(1, N)); n = int(rng.integers(1000, 10**6))
    mean = n * K / N
    sd = np.sqrt(mean * (1 - K / N) * (N - n) / (N - 1))
    a = int(min(min(n, K), max(max(0, n + K - N), round(mean + rng.choice([1.0, 3, 8]) * sd))))
    T.append((a, n - a, K - a, N - K - n + a))
out = subprocess.run([os.environ["DRV"]], input="".join("%d %d %d %d\n" % t for t in T),
                     capture_output=True, text=True, check=True).stdout.split("\n")
worst_s = 0.0
for t, line in zip(T, out):
    p, lp, orr, pl = map(float, line.split()[:4])
    ref = float(log_sf(*t))
    assert abs(lp - ref) <= 1e-11 * max(1.0, abs(ref)), (t, lp, ref)   # p to ~1e-11 relative
    sp = fisher_exact(np.array(t).reshape(2, 2), alternative="greater").pvalue
    if ref < -700:
        assert p == 0 and sp == 0          # below the double range: both underflow
    elif sp > 0:
        worst_s = max(worst_s, abs(sp - p) / sp)
# scipy 1.10 (Boost hypergeometric) drifts at these sizes; report how far
print("scipy vs exact, counts 1e7..1e9: worst rel %.2g" % worst_s)
assert worst_s < 1e-5
PY
	assert_success
	echo "$output" >&3
}

@test "edge-join --summary: Fisher through the filter on a 2000-gene vocabulary (N ~ 4e6) equals scipy" {
	need_py scipy
	[ -z "${AK_VALGRIND:-}" ] || skip "slow under valgrind"
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(21)
n = 2000
g = np.array(["g%04d" % i for i in range(n)])
open("v.txt", "w").write("\n".join(g) + "\n")
E = set()
while len(E) < 30000:
    a, b = rng.integers(0, n, 2)
    if a != b:
        E.add((int(a), int(b)))
E = sorted(E)
with open("r.tsv", "w") as f:
    f.write("tf\ttarget\n")
    for a, b in E:
        f.write("%s\t%s\n" % (g[a], g[b]))
El = np.array(E)
with open("p.tsv", "w") as f:
    f.write("from\tto\tk\n")
    for k, (size, frac) in enumerate([(10, 0.5), (200, 0.01), (5000, 0.0075), (20000, 0.02), (60000, 0.009),
                                      (3000, 0.3), (100000, 0.0074), (500, 0.0)]):
        ne = int(size * frac)
        pick = El[rng.choice(len(El), ne, replace=False)]
        rnd = rng.integers(0, n, (size - ne, 2))
        allp = np.vstack([pick, rnd]) if ne else rnd
        for a, b in allp:
            f.write("%s\t%s\t%d\n" % (g[a], g[b], k))
PY
	ak edge-join --summary --tails --by k --vocab v.txt --ref r.tsv --ref-cols tf,target p.tsv > s.tsv
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from scipy.stats import fisher_exact
r = pd.read_csv("r.tsv", sep="\t")
p = pd.read_csv("p.tsv", sep="\t")
n = 2000
N, R = n * (n - 1), len(r)
E = set(zip(r.tf, r.target))
o = pd.read_csv("s.tsv", sep="\t", float_precision="round_trip")
for row in o.itertuples():
    sub = p[p.k == row.k]
    P = {(a, b) for a, b in zip(sub["from"], sub["to"]) if a != b}
    a = sum((x in E) for x in P)
    tab = [[a, len(P) - a], [R - a, N - len(P) - (R - a)]]
    res = fisher_exact(tab, alternative="greater")
    assert row.n_pairs == len(P) and row.n_in_ref == a
    assert row.null_fraction == R / N
    assert row.odds_ratio == res.statistic or (np.isnan(row.odds_ratio) and np.isnan(res.statistic))
    assert abs(row.fisher_p - res.pvalue) <= 1e-9 * res.pvalue, (tab, row.fisher_p, res.pvalue)
    for col, alt in (("fisher_p_less", "less"), ("fisher_p_two", "two-sided")):
        e = fisher_exact(tab, alternative=alt).pvalue
        assert abs(getattr(row, col) - e) <= 1e-9 * e, (tab, col, getattr(row, col), e)
print("ok", len(o), o.fisher_p.min(), o.fisher_p_less.min(), o.fisher_p_two.min())
PY
	assert_success
	assert_output --partial "ok 8"
}

@test "edge-join --embeddings: cosine, median and O(n d) background equal numpy (zero vector, ids through the map)" {
	need_py pandas
	gen_small
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(4)
genes = open("vocab.txt").read().split("\n")[:-1]
names = genes[3:] + ["EXTRA1", "EXTRA2"]          # some vocabulary genes lack a vector
X = rng.standard_normal((len(names), 6)) + 0.3
X[5] = 0                                            # all-zero row: no direction
np.save("emb.npy", X)
open("emb_names.txt", "w").write("\n".join(names) + "\n")
PY
	ak edge-join --ref ref.tsv --no-header --embeddings emb.npy --embedding-names emb_names.txt pairs.tsv > lab.tsv
	ak edge-join --summary --by layer --vocab vocab.txt --ref ref.tsv --no-header \
		--embeddings emb.npy --embedding-names emb_names.txt pairs.tsv > sum.tsv
	# embedding named by the map's TO ids (symbols) while the pairs use eids
	ak edge-join --ref ref.tsv --no-header --map map.tsv --map-cols eid,symbol \
		--embeddings emb.npy --embedding-names emb_names.txt pairs_e.tsv > lab_e.tsv 2>/dev/null
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
rd = lambda p: pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, quoting=3)
X = np.load("emb.npy")
names = open("emb_names.txt").read().split("\n")[:-1]
row = {g: i for i, g in enumerate(names) if np.linalg.norm(X[i]) > 0}
def cos(a, b):
    if a not in row or b not in row:
        return None
    x, y = X[row[a]], X[row[b]]
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
o = rd("lab.tsv")
for f, t, c in zip(o["from"], o["to"], o["cosine"]):
    want = cos(f, t)
    assert (c == "") if want is None else abs(float(c) - want) <= 1e-13, (f, t, c, want)
assert (o["cosine"] == "").sum() > 10 and (o["cosine"] != "").sum() > 300
# summary: median over the group's distinct non-self pairs, background by brute force
vocab = open("vocab.txt").read().split("\n")[:-1]
V = [g for g in vocab if g in row]
U = np.array([X[row[g]] / np.linalg.norm(X[row[g]]) for g in V])
C = U @ U.T
bg = (C.sum() - np.trace(C)) / (len(V) * (len(V) - 1))
s = rd("sum.tsv")
for r in s.itertuples(index=False):
    sub = o[o.layer == r.layer]
    P = {(a, b) for a, b in zip(sub["from"], sub["to"]) if a != b}
    cs = [cos(a, b) for a, b in P if cos(a, b) is not None]
    assert abs(float(r.median_cosine) - float(np.median(cs))) <= 1e-13
    assert abs(float(r.background_cosine) - bg) <= 1e-13, (r.background_cosine, bg)
# through the map: the gene's own id is not a name, so its first mapped symbol (map order) with a vector
mp = rd("map.tsv")
first = {}
for e, s_ in zip(mp.eid, mp.symbol):
    if e not in first and s_ in row:
        first[e] = s_
oe = rd("lab_e.tsv")
for f, t, c in zip(oe["from"], oe["to"], oe["cosine"]):
    want = cos(first[f], first[t]) if f in first and t in first else None
    assert (c == "") if want is None else abs(float(c) - want) <= 1e-13, (f, t, c, want)
print("ok")
PY
	assert_success
	assert_output ok
}

@test "edge-join: file, stdin, gzipped stdin, gzipped file and -o OUT.gz give the same bytes (label, summary, map, embeddings)" {
	gen_small
	gzip -c ref.tsv > ref.tsv.gz
	cp "$EX/edge_pairs.tsv" "$EX/edge_emb.tsv" "$EX/edge_vocab.txt" .
	for mode in label summary map emb embsum; do
		in=pairs.tsv
		case $mode in
		label) args=(--ref ref.tsv --no-header --carry 3) ;;
		summary) args=(--summary --by layer --vocab vocab.txt --ref ref.tsv.gz --no-header) ;;
		map) args=(--ref ref.tsv --no-header --map map.tsv --map-cols eid,symbol); in=pairs_e.tsv ;;
		emb) args=(--ref ref.tsv --no-header --embeddings edge_emb.tsv); in=edge_pairs.tsv ;;
		embsum) args=(--summary --by layer --vocab edge_vocab.txt --ref ref.tsv --no-header --embeddings edge_emb.tsv)
			in=edge_pairs.tsv ;;
		esac
		gzip -c $in > in.gz
		ak edge-join "${args[@]}" $in > a.tsv 2>/dev/null
		ak edge-join "${args[@]}" < $in > b.tsv 2>/dev/null
		ak edge-join "${args[@]}" - < in.gz > c.tsv 2>/dev/null
		ak edge-join "${args[@]}" in.gz > d.tsv 2>/dev/null
		ak edge-join "${args[@]}" -o e.tsv.gz $in 2>/dev/null
		[ "$(head -c2 e.tsv.gz | od -An -tx1 | tr -d ' ')" = 1f8b ]
		zcat e.tsv.gz > e.tsv
		for f in b c d e; do cmp a.tsv $f.tsv; done
		[ "$(wc -l < a.tsv)" -gt 2 ]
	done
}

@test "edge-join: TRRUST (no header, damaged symbols) labels equal a pandas merge; carried mode and PMIDs" {
	need_data trrust_v2_human.tsv.gz
	need_py pandas
	"$PY" - "$DATA/trrust_v2_human.tsv.gz" <<'PY'
import sys, numpy as np, pandas as pd
t = pd.read_csv(sys.argv[1], sep="\t", header=None, dtype=str, keep_default_na=False, quoting=3)
rng = np.random.default_rng(2)
genes = np.array(sorted(set(t[0]) | set(t[1]) | {"Sep-07", "1-Mar", "NA", "MARCH1"}))
e = t.sample(3000, random_state=1)
rev = t.sample(1000, random_state=2)
rnd = rng.choice(genes, (4000, 2))
fr = np.concatenate([e[0], rev[1], rnd[:, 0], ["Sep-07", "NA", "AES"]])
to = np.concatenate([e[1], rev[0], rnd[:, 1], ["1-Mar", "NA", "NOV"]])
pd.DataFrame({"from": fr, "to": to, "value": np.arange(len(fr))}).to_csv("p.tsv", sep="\t", index=False)
PY
	ak edge-join --ref "$DATA/trrust_v2_human.tsv.gz" --ref-cols 1,2 --no-header --carry 3,4 p.tsv > out.tsv 2> err.txt
	grep -q "repeated edges" err.txt
	run "$PY" -c "$check_labels_py
pairs = rd('p.tsv')
ref, e = first_rows(rd('$DATA/trrust_v2_human.tsv.gz', header=None, names=['a', 'b', 'm', 'pm']), 'a', 'b')
best = expected(pairs, e)
assert best.notna().sum() >= 3000
compare('out.tsv', pairs, best, ref, [('m', 'ref_3'), ('pm', 'ref_4')])
"
	assert_success
}

@test "edge-join: DoRothEA (header tf, confidence, target, mor) labels and carried confidence, mor equal a pandas merge" {
	need_data dorothea_hs_ABC.tsv.gz
	need_py pandas
	"$PY" - "$DATA/dorothea_hs_ABC.tsv.gz" <<'PY'
import sys, numpy as np, pandas as pd
d = pd.read_csv(sys.argv[1], sep="\t", dtype=str, keep_default_na=False)
rng = np.random.default_rng(5)
genes = np.array(sorted(set(d.tf) | set(d.target)))
e = d.sample(4000, random_state=3)
rnd = rng.choice(genes, (6000, 2))
pd.DataFrame({"from": np.concatenate([e.tf, e.target[:500], rnd[:, 0]]),
              "to": np.concatenate([e.target, e.tf[:500], rnd[:, 1]])}).to_csv("p.tsv", sep="\t", index=False)
PY
	ak edge-join --ref "$DATA/dorothea_hs_ABC.tsv.gz" --ref-cols tf,target --carry confidence,mor p.tsv > out.tsv
	ak edge-join --ref "$DATA/dorothea_hs_ABC.tsv.gz" --ref-cols tf,target --undirected --carry mor p.tsv > und.tsv
	run "$PY" -c "$check_labels_py
pairs = rd('p.tsv')
ref, e = first_rows(rd('$DATA/dorothea_hs_ABC.tsv.gz'), 'tf', 'target')
compare('out.tsv', pairs, expected(pairs, e), ref, [('confidence', 'confidence'), ('mor', 'mor')])
ref, e = first_rows(rd('$DATA/dorothea_hs_ABC.tsv.gz'), 'tf', 'target', undirected=True)
compare('und.tsv', pairs, expected(pairs, e), ref, [('mor', 'mor')])
"
	assert_success
}

@test "edge-join: Ensembl pairs through the many-to-many symbol map vs TRRUST: labels, unmapped count, null and Fisher vs pandas + scipy" {
	need_data trrust_v2_human.tsv.gz human_symbol_ensembl.tsv.gz
	need_py scipy
	need_py pandas
	"$PY" - "$DATA" <<'PY'
import sys, numpy as np, pandas as pd
D = sys.argv[1]
rd = lambda p, **k: pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False, quoting=3, **k)
m = rd(D + "/human_symbol_ensembl.tsv.gz")
t = rd(D + "/trrust_v2_human.tsv.gz", header=None)
rng = np.random.default_rng(9)
tg = set(t[0]) | set(t[1])
ens_net = sorted(set(m.ensembl_gene[m.symbol.isin(tg)]))
ens_other = sorted(set(m.ensembl_gene) - set(ens_net))
vocab = list(rng.choice(ens_net, 1500, replace=False)) + list(rng.choice(ens_other, 1500, replace=False)) + \
        ["ENSG_FAKE%d" % i for i in range(40)]
open("v.txt", "w").write("\n".join(vocab) + "\n")
# pairs biased towards network edges, in two groups
s2e = m[m.ensembl_gene.isin(vocab)].groupby("symbol")["ensembl_gene"].apply(list).to_dict()
hits = [(rng.choice(s2e[a]), rng.choice(s2e[b])) for a, b in zip(t[0], t[1]) if a in s2e and b in s2e]
hits = [hits[i] for i in rng.permutation(len(hits))[:400]]
rnd = [tuple(rng.choice(vocab, 2)) for _ in range(3000)]
rows = [(a, b, "L%d" % (i % 2)) for i, (a, b) in enumerate(hits + rnd)]
pd.DataFrame(rows, columns=["from", "to", "layer"]).to_csv("p.tsv", sep="\t", index=False)
PY
	ak edge-join --ref "$DATA/trrust_v2_human.tsv.gz" --no-header --map "$DATA/human_symbol_ensembl.tsv.gz" \
		--map-cols ensembl_gene,symbol --carry 3 p.tsv > lab.tsv 2> err1.txt
	ak edge-join --summary --by layer --vocab v.txt --ref "$DATA/trrust_v2_human.tsv.gz" --no-header \
		--map "$DATA/human_symbol_ensembl.tsv.gz" --map-cols ensembl_gene,symbol p.tsv > sum.tsv 2> err2.txt
	run "$PY" -c "$check_labels_py
from scipy.stats import fisher_exact
D = '$DATA'
pairs = rd('p.tsv')
ref, e = first_rows(rd(D + '/trrust_v2_human.tsv.gz', header=None, names=['a', 'b', 'm', 'pm']), 'a', 'b')
mp = rd(D + '/human_symbol_ensembl.tsv.gz').rename(columns={'ensembl_gene': 'F', 'symbol': 'T'})
best = expected(pairs, e, mp)
compare('lab.tsv', pairs, best, ref, [('m', 'ref_3')])
genes = set(pairs['from']) | set(pairs['to'])
assert '%d of %d pair genes did not map' % (len(genes - set(mp.F)), len(genes)) in open('err1.txt').read()
# null, recomputed in pandas: reference edges expanded to vocabulary genes through the inverse map
vocab = open('v.txt').read().split()
mv = mp[mp.F.isin(vocab)].drop_duplicates()
n = mv.F.nunique()
ed = e[['x', 'y']].drop_duplicates()
ex = ed.merge(mv.rename(columns={'T': 'x', 'F': 'ea'}), on='x').merge(mv.rename(columns={'T': 'y', 'F': 'eb'}), on='y')
ex = ex[ex.ea != ex.eb].drop_duplicates(['ea', 'eb'])
R, N = len(ex), n * (n - 1)
refpairs = set(zip(ex.ea, ex.eb))
assert '%d of %d vocabulary genes did not map' % (len(vocab) - n, len(vocab)) in open('err2.txt').read()
s = pd.read_csv('sum.tsv', sep='\t', dtype={'layer': str}, float_precision='round_trip')
assert list(s.layer) == ['L0', 'L1']
mapped = set(mv.F)
for r in s.itertuples():
    sub = pairs[pairs.layer == r.layer]
    P = {(a, b) for a, b in zip(sub['from'], sub['to']) if a != b}
    nm = [x for x in P if x[0] in mapped and x[1] in mapped]
    a = sum(x in refpairs for x in nm)
    assert (r.n_pairs, r.n_mapped, r.n_in_ref) == (len(P), len(nm), a), (r, len(P), len(nm), a)
    assert r.null_fraction == R / N
    res = fisher_exact([[a, len(nm) - a], [R - a, N - len(nm) - (R - a)]], alternative='greater')
    assert r.odds_ratio == res.statistic
    assert abs(r.fisher_p - res.pvalue) <= 1e-9 * res.pvalue or (res.pvalue < 1e-290 and r.fisher_p < 1e-280), (r.fisher_p, res.pvalue)
    print(r.layer, a, len(nm), r.true_fraction, r.null_fraction, r.fisher_p)
"
	assert_success
	echo "$output" >&3
}

@test "edge-join --summary robustness: header-only pairs, only self pairs, one-gene vocabulary, no mapped genes" {
	gen_small
	printf 'from\tto\tlayer\n' > empty.tsv
	run ak edge-join --summary --by layer --vocab vocab.txt --ref ref.tsv --no-header empty.tsv
	assert_success
	assert_output "$(printf 'layer\tn_pairs\tn_mapped\tn_in_ref\ttrue_fraction\tnull_fraction\todds_ratio\tfisher_p')"
	# without --by: exactly one row even with no pairs
	run ak edge-join --summary --vocab vocab.txt --ref ref.tsv --no-header empty.tsv
	assert_success
	assert_line --index 1 --regexp "^0	0	0	nan	0\.[0-9]+	nan	1$"
	printf 'from\tto\tlayer\nG1\tG1\t1\nG2\tG2\t1\nG1\tG2\t2\nG1\tG2\t2\n' > selfs.tsv
	run ak edge-join --summary --by layer --vocab vocab.txt --ref ref.tsv --no-header selfs.tsv
	assert_success
	assert_line --index 1 --regexp "^1	0	0	0	nan	"
	assert_line --index 2 --regexp "^2	1	1	[01]	"
	printf 'G1\n' > one.txt
	printf 'from\tto\nG1\tG1\n' > one.tsv
	run ak edge-join --summary --vocab one.txt --ref ref.tsv --no-header one.tsv
	assert_success
	assert_line --index 1 "$(printf '0\t0\t0\tnan\tnan\tnan\t1')"
	# a map under which no vocabulary gene maps: a loud error (it was a row of nan)
	printf 'eid\tsymbol\nX1\tG1\n' > nomap.tsv
	run --separate-stderr ak edge-join --summary --vocab vocab_e.txt --ref ref.tsv --no-header --map nomap.tsv pairs_e.tsv
	assert_failure 1
	[[ $stderr == *"60 of 60 vocabulary genes did not map"* ]]
	[[ $stderr == *"ref.tsv: 0 of 60 vocabulary genes map to an id of the reference"* ]]
	# the reference entirely outside a vocabulary of 50 or more genes: a loud error
	printf 'X\tY\n' > far.tsv
	run ak edge-join --summary --vocab vocab.txt --ref far.tsv --no-header pairs.tsv
	assert_data_error "far.tsv: 0 of 53 vocabulary genes in the reference: Ensembl vs symbol? set MAP"
	# ... of fewer: a warning, and null 0, p 1
	printf 'G1\nG2\nG3\n' > three.txt
	printf 'from\tto\nG1\tG2\n' > three.tsv
	run --separate-stderr ak edge-join --summary --vocab three.txt --ref far.tsv --no-header three.tsv
	assert_success
	assert_line --index 1 --regexp "	0	0	nan	1$"
	[[ $stderr == *"far.tsv: 0 of 3 vocabulary genes in the reference"* ]]
}

@test "edge-join --summary robustness: interleaved groups, shuffled rows, repeats and CRLF give the same rows" {
	gen_small
	ak edge-join --summary --by layer,model --vocab vocab.txt --ref ref.tsv --no-header pairs.tsv > a.tsv
	# rows sorted by group (contiguous groups), every row repeated, CRLF line ends
	{ head -1 pairs.tsv; tail -n +2 pairs.tsv | sort -t $'\t' -k3,3 -k4,4 -k1,1 -k2,2 | awk '{ print; print }'; } |
		sed 's/$/\r/' > sorted.tsv
	ak edge-join --summary --by layer,model --vocab vocab.txt --ref ref.tsv --no-header sorted.tsv > b.tsv
	# same rows per group whatever the order in which the groups first appear
	head -1 a.tsv > a.sorted; tail -n +2 a.tsv | sort >> a.sorted
	head -1 b.tsv > b.sorted; tail -n +2 b.tsv | sort >> b.sorted
	cmp a.sorted b.sorted
	[ "$(wc -l < a.tsv)" -eq 9 ]
	# label mode: CRLF input gives LF output with the same fields
	ak edge-join --ref ref.tsv --no-header pairs.tsv > l1.tsv
	sed 's/$/\r/' pairs.tsv | ak edge-join --ref ref.tsv --no-header > l2.tsv
	cmp l1.tsv l2.tsv
}

@test "edge-join: the man page example network gives the documented summary" {
	run ak edge-join --summary --by layer --vocab "$EX/edge_vocab.txt" --ref "$EX/edge_ref.tsv" --no-header "$EX/edge_pairs.tsv"
	assert_success
	# 14 genes, 10 distinct directed edges among them (Sep-07 is outside): null 10/182
	assert_line --index 1 --regexp "^1	4	4	2	0\.5	0\.054945054945054944	"
	assert_line --index 2 --regexp "^2	5	5	4	0\.8	0\.054945054945054944	"
}

@test "edge-join bad input: reference missing columns, empty reference, map missing column, embedding rows != names" {
	gen_small
	run ak edge-join --ref ref_h.tsv --ref-cols src,target pairs.tsv
	assert_data_error "ref_h.tsv: no column 'target' (columns: src, mode, dst, score)"
	run ak edge-join --ref ref.tsv --no-header --ref-cols 1,7 pairs.tsv
	assert_data_error "ref.tsv: no column 7: the table has 4 columns"
	run ak edge-join --ref ref.tsv --no-header --ref-cols tf,target pairs.tsv
	assert_data_error "no column 'tf' (columns: 1, 2, 3, 4)"
	run ak edge-join --ref ref.tsv --no-header --carry 9 pairs.tsv
	assert_data_error "no column 9"
	run ak edge-join --ref ref.tsv --no-header --ref-cols 1,2,3 pairs.tsv
	assert_data_error "--ref-cols needs two columns, source and target (got '1,2,3')"
	run ak edge-join --ref ref.tsv --no-header --ref-cols 1, pairs.tsv
	assert_data_error "empty column name in '1,'"
	run ak edge-join --ref ref.tsv --no-header --map map.tsv --map-cols eid pairs_e.tsv
	assert_data_error "map.tsv: map columns must be two, FROM,TO (got 'eid')"
	: > empty.tsv
	run ak edge-join --ref empty.tsv --no-header pairs.tsv
	assert_data_error "empty.tsv: empty input"
	run ak edge-join --ref empty.tsv pairs.tsv
	assert_data_error "empty.tsv: empty input"
	printf 'tf\ttarget\n' > hdr.tsv
	run ak edge-join --ref hdr.tsv --ref-cols tf,target pairs.tsv
	assert_data_error "hdr.tsv: no reference edges"
	printf '\tA\nB\t\n' > blank.tsv
	run ak edge-join --ref blank.tsv --no-header pairs.tsv
	assert_data_error "no reference edges (2 data rows, all with an empty id)"
	run ak edge-join --ref ref.tsv --no-header --map map.tsv --map-cols eid,ensembl pairs_e.tsv
	assert_data_error "map.tsv: no column 'ensembl' (columns: eid, symbol)"
	printf 'eid\tsymbol\n' > hdrmap.tsv
	run ak edge-join --ref ref.tsv --no-header --map hdrmap.tsv pairs_e.tsv
	assert_data_error "hdrmap.tsv: the map has no rows"
	"$PY" -c "import numpy as np; np.save('e.npy', np.ones((5, 3)))"
	printf 'a\nb\nc\n' > n3.txt
	run ak edge-join --ref ref.tsv --no-header --embeddings e.npy --embedding-names n3.txt pairs.tsv
	assert_data_error "e.npy: 5 rows, but n3.txt has 3 names"
	run ak edge-join --ref ref.tsv --no-header --embeddings e.npy pairs.tsv
	assert_data_error "e.npy: no row names: give --embedding-names"
	"$PY" -c "import numpy as np; a = np.ones((3, 2)); a[1, 1] = np.nan; np.save('nan.npy', a)"
	run ak edge-join --ref ref.tsv --no-header --embeddings nan.npy --embedding-names n3.txt pairs.tsv
	assert_failure 1
	"$PY" -c "import numpy as np; np.save('e3.npy', np.ones((3, 2, 2)))"
	run ak edge-join --ref ref.tsv --no-header --embeddings e3.npy --embedding-names n3.txt pairs.tsv
	assert_data_error "e3.npy: embeddings must be a 2-D genes x d matrix"
}

@test "edge-join bad input: pairs without from/to, ragged rows, genes outside the vocabulary, truncated gzip; -o leaves nothing" {
	gen_small
	printf 'source\tto\nA\tB\n' > nofrom.tsv
	run ak edge-join --ref ref.tsv --no-header -o out.tsv nofrom.tsv
	assert_data_error "nofrom.tsv: no column 'from' (columns: source, to)"
	[ ! -e out.tsv ]
	printf 'from\tto\tx\nA\tB\t1\nA\tB\n' > ragged.tsv
	run ak edge-join --ref ref.tsv --no-header -o out.tsv ragged.tsv
	assert_data_error "ragged.tsv:3: expected 3 fields, found 2"
	[ ! -e out.tsv ]
	printf 'from\tto\tlayer\nG1\tG2\t1\nG1\tZZZ\t1\n' > outside.tsv
	run ak edge-join --summary --by layer --vocab vocab.txt --ref ref.tsv --no-header -o out.tsv outside.tsv
	assert_data_error "outside.tsv:3: column 'to': gene 'ZZZ' is not in the vocabulary vocab.txt"
	[ ! -e out.tsv ]
	run ak edge-join --summary --by nope --vocab vocab.txt --ref ref.tsv --no-header pairs.tsv
	assert_data_error "no column 'nope' (columns: from, to, layer, model)"
	printf 'G1\nG2\nG1\n' > dupv.txt
	# not through valgrind: common strtab_read_lines loses its table when it dies
	run "$BIN/edge-join" --summary --vocab dupv.txt --ref ref.tsv --no-header pairs.tsv
	assert_data_error "dupv.txt:3: duplicate id 'G1'"
	gzip -c pairs.tsv | head -c 900 > trunc.tsv.gz
	run ak edge-join --ref ref.tsv --no-header -o out.tsv trunc.tsv.gz
	assert_data_error "truncated gzip"
	[ ! -e out.tsv ]
	printf 'from\tto\tin_ref\nA\tB\t1\n' > again.tsv
	run ak edge-join --ref ref.tsv --no-header again.tsv
	assert_data_error "already have a column 'in_ref'"
	run ak edge-join --ref ref.tsv --no-header /nonexistent.tsv
	assert_data_error "cannot open '/nonexistent.tsv'"
}
