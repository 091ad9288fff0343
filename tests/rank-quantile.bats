#!/usr/bin/env bats
# rank-quantile: rank agreement, Wilcoxon, Spearman, consecutive layers and
# coherence against independent numpy/scipy/pandas computations on generated
# multi-layer models with ties; stdin/gzip; bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# Generated "models": per (category, model, layer) a dense n x n attention
# matrix rounded to 1 decimal (many ties); exact rank = 1 + #strictly greater
# off-diagonal entries, quantile = rank / (n(n-1)); top-K with the (from, to)
# tie rule; the union of all top-K sets evaluated in every partition; rows
# shuffled. Written by numpy directly, not through any attnkit code.
gen() { # seed n K [drop [nap]]
	"$PY" - "$@" <<'PY'
import sys, numpy as np
seed, n, K = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
drop = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
# nap: no rounding (generic data), and also nap.tsv whose quantiles are
# napistu-torch style: rank in the whole n x n matrix (diagonal included) / n^2.
# The rank column stays ours, so both tables have the same query sets.
nap = len(sys.argv) > 5 and sys.argv[5] == "nap"
nrows = []
rng = np.random.default_rng(seed)
models, layers, cats = ["mA", "mB", "mC"], [0, 1, 2, 10], ["c1", "c2"]
genes = [f"G{i}" for i in range(n)]
off = ~np.eye(n, dtype=bool)
idx = np.argwhere(off)
rows = []
for c in cats:
    base = rng.standard_normal((n, n))
    mats = {}
    for m in models:
        drift = rng.standard_normal((n, n))
        for l in layers:
            drift = drift + 0.7 * rng.standard_normal((n, n))
            a = base * rng.uniform(0, 1.5) + drift
            mats[(m, l)] = a if nap else np.round(a, 1)
    union = set()
    for a in mats.values():
        v = a[off]
        order = np.lexsort((idx[:, 1], idx[:, 0], -v))[:K]
        union.update(map(tuple, idx[order]))
    union = sorted(union)
    for (m, l), a in mats.items():
        sv = np.sort(a[off]); N = sv.size
        for (i, j) in union:
            if drop and rng.uniform() < drop:
                continue
            rank = N - np.searchsorted(sv, a[i, j], side="right") + 1
            rows.append((genes[i], genes[j], repr(float(a[i, j])), str(rank), repr(rank / N), m, c, str(l)))
            if nap:
                rk = int((a > a[i, j]).sum()) + 1
                nrows.append(rows[-1][:4] + (repr(rk / n**2),) + rows[-1][5:])
with open("in.tsv", "w") as f:
    f.write("from\tto\tvalue\trank\tquantile\tmodel\tcategory\tlayer\n")
    for k in rng.permutation(len(rows)):
        f.write("\t".join(rows[k]) + "\n")
if nap:
    with open("nap.tsv", "w") as f:
        f.write("from\tto\tvalue\trank\tquantile\tmodel\tcategory\tlayer\n")
        for r in nrows:
            f.write("\t".join(r) + "\n")
PY
}

# The reference: pandas joins on (from, to), numpy statistics, scipy tests.
# Modes: agree K | spearman [K] | consecutive K | families K FAMFILE
check() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np, pandas as pd
from scipy import stats
rd = lambda f: pd.read_csv(f, sep="\t", keep_default_na=False, float_precision="round_trip")
df, out, mode = rd("in.tsv"), rd("out.tsv"), sys.argv[1]
K = int(sys.argv[2]) if len(sys.argv) > 2 else None
worst = 0.0
def close(a, b, what, tol=1e-12):
    global worst
    a, b = float(a), float(b)
    if np.isnan(a) and np.isnan(b):
        return
    d = abs(a - b) / max(1.0, abs(b)); worst = max(worst, d)
    assert d <= tol, (what, a, b)
fam = None
if mode == "families":
    f = pd.read_csv(sys.argv[3], sep="\t"); fam = dict(zip(f.model, f.family))
nrow = 0
for c in sorted(df.category.unique()):
    sub = df[df.category == c]
    ps = sorted({(m, l) for m, l in zip(sub.model, sub.layer)})
    tab = {p: sub[(sub.model == p[0]) & (sub.layer == p[1])].set_index(["from", "to"]) for p in ps}
    top = {p: tab[p][tab[p]["rank"] <= K].index for p in ps} if K else None
    if mode == "spearman" and K:
        uni = top[ps[0]]
        for p in ps[1:]: uni = uni.union(top[p])
    for i, P in enumerate(ps):
        coh = []
        for j, E in enumerate(ps):
            if mode in ("agree", "consecutive", "families"):
                if P == E: continue
                if mode == "consecutive":
                    nxt = [e for e in ps if e[0] == P[0] and e[1] > P[1]]
                    if not nxt or E != min(nxt, key=lambda e: e[1]): continue
                if mode == "families" and fam[P[0]] == fam[E[0]]: continue
                q = tab[E].loc[tab[E].index.intersection(top[P]), "quantile"].to_numpy()
                if mode == "families":
                    if len(q): coh.append(-np.log10(2 * min(np.median(q), 0.5)))
                    continue
                r = out[(out.category == c) & (out.query_model == P[0]) & (out.query_layer == P[1])
                        & (out.eval_model == E[0]) & (out.eval_layer == E[1])]
                assert len(r) == 1, (c, P, E); r = r.iloc[0]
                assert r.n == len(q), (r.n, len(q))
                close(r.mean_quantile, q.mean(), "mean"); close(r.median_quantile, np.median(q), "median")
                close(r.min_quantile, q.min(), "min"); close(r.max_quantile, q.max(), "max")
                w = stats.wilcoxon(q - 0.5, zero_method="wilcox", correction=False, method="approx")
                close(r.wilcoxon_p, w.pvalue, "p")
                close(abs(r.wilcoxon_z), abs(w.zstatistic), "|z|")
                d = q - 0.5; d = d[d != 0]; rk = stats.rankdata(np.abs(d))
                assert np.sign(r.wilcoxon_z) == np.sign(rk[d > 0].sum() - len(d) * (len(d) + 1) / 4)
                nrow += 1
            elif mode == "spearman":
                if j <= i: continue
                a, b = tab[P]["value"], tab[E]["value"]
                ix = a.index.intersection(b.index)
                if K: ix = ix.intersection(uni)
                rho = stats.spearmanr(a.loc[ix], b.loc[ix]).correlation
                r = out[(out.category == c) & (out.a_model == P[0]) & (out.a_layer == P[1])
                        & (out.b_model == E[0]) & (out.b_layer == E[1])]
                assert len(r) == 1 and r.iloc[0].n == len(ix), (c, P, E)
                close(r.iloc[0].spearman, rho, "rho")
                nrow += 1
        if mode == "families":
            r = out[(out.category == c) & (out.query_model == P[0]) & (out.query_layer == P[1])]
            assert len(r) == 1 and r.iloc[0].n_eval == len(coh)
            close(r.iloc[0].coherence, np.mean(coh), "coherence")
            nrow += 1
assert nrow == len(out), (nrow, len(out))
print("ok", nrow, "rows, worst relative difference", worst)
PY
}

@test "rank-quantile --help prints usage and exits 0" {
	run ak rank-quantile --help
	assert_success
	assert_output --partial "usage: rank-quantile"
}

@test "rank-quantile: agreement and Wilcoxon match numpy/scipy on generated layers with ties" {
	need_py scipy
	gen 11 24 30
	ak rank-quantile --by model,layer --within category --top 30 in.tsv > out.tsv
	head -1 out.tsv | grep -qx $'category\tquery_model\tquery_layer\teval_model\teval_layer\tn\tmean_quantile\tmedian_quantile\tmin_quantile\tmax_quantile\twilcoxon_z\twilcoxon_p'
	run check agree 30
	assert_success
	assert_output --partial "ok 264 rows"
	# a smaller K over the same union table
	ak rank-quantile --by model,layer --within category --top 7 in.tsv > out.tsv
	run check agree 7
	assert_success
}

@test "rank-quantile: real attention (tinyfm, the model's own forward pass, 4 layers) matches numpy/scipy" {
	need_py scipy
	need_data tinyfm/single_cell/layer3.attention.npy
	# exact ranks of every off-diagonal entry, top-500 per layer (float32 ties
	# are real here), union evaluated in every layer
	"$PY" - "$DATA/tinyfm" <<'PY'
import sys, numpy as np
d = sys.argv[1]
genes = open(f"{d}/genes.txt").read().split()
A = [np.load(f"{d}/single_cell/layer{l}.attention.npy").astype(np.float64) for l in range(4)]
n = len(genes); off = ~np.eye(n, dtype=bool); idx = np.argwhere(off); K = 500
union = set()
for a in A:
    o = np.lexsort((idx[:, 1], idx[:, 0], -a[off]))[:K]
    union.update(map(tuple, idx[o]))
with open("in.tsv", "w") as f:
    f.write("from\tto\tvalue\trank\tquantile\tmodel\tcategory\tlayer\n")
    for l, a in enumerate(A):
        sv = np.sort(a[off]); N = sv.size
        for (i, j) in sorted(union):
            r = N - np.searchsorted(sv, a[i, j], side="right") + 1
            f.write(f"{genes[i]}\t{genes[j]}\t{a[i, j]!r}\t{r}\t{r / N!r}\ttinyfm\tsingle_cell\t{l}\n")
PY
	ak rank-quantile --by model,layer --within category --top 500 in.tsv > out.tsv
	run check agree 500
	assert_success
	assert_output --partial "ok 12 rows"
	ak rank-quantile --by model,layer --within category --spearman in.tsv > out.tsv
	run check spearman
	assert_success
	assert_output --partial "ok 6 rows"
}

@test "rank-quantile: layers sort numerically, rows in key order, row order of the input is irrelevant" {
	gen 12 16 10
	ak rank-quantile --by model,layer --within category --top 10 in.tsv > a.tsv
	cut -f 2,3 a.tsv | uniq | head -6 | tr '\t\n' ' ;' > order.txt
	assert_equal "$(cat order.txt)" "query_model query_layer;mA 0;mA 1;mA 2;mA 10;mB 0;"
	(head -1 in.tsv; tail -n +2 in.tsv | sort -r) > rev.tsv
	ak rank-quantile --by model,layer --within category --top 10 rev.tsv > b.tsv
	cmp a.tsv b.tsv
}

@test "rank-quantile --spearman matches scipy.stats.spearmanr, also with missing pairs and --top" {
	need_py scipy
	gen 13 20 25 0.1
	ak rank-quantile --by model,layer --within category --spearman in.tsv > out.tsv
	head -1 out.tsv | grep -qx $'category\ta_model\ta_layer\tb_model\tb_layer\tn\tspearman'
	run check spearman
	assert_success
	assert_output --partial "ok 132 rows"
	ak rank-quantile --by model,layer --within category --spearman --top 8 in.tsv > out.tsv
	run check spearman 8
	assert_success
	# complete tables take the shortcut (ranks reused); same numbers as scipy
	gen 14 20 25
	ak rank-quantile --by model,layer --within category --spearman in.tsv > out.tsv
	run check spearman
	assert_success
}

@test "rank-quantile --consecutive: next layer of the same model only, for agreement and Spearman" {
	need_py scipy
	gen 15 20 20
	ak rank-quantile --by model,layer --within category --top 20 --consecutive in.tsv > out.tsv
	run check consecutive 20
	assert_success
	assert_output --partial "ok 18 rows"
	# the same rows as the full table
	ak rank-quantile --by model,layer --within category --top 20 in.tsv > full.tsv
	while IFS= read -r line; do grep -qxF "$line" full.tsv || fail "not in full table: $line"; done < <(tail -n +2 out.tsv)
	ak rank-quantile --by model,layer --within category --spearman --consecutive in.tsv > sp.tsv
	assert_equal "$(tail -n +2 sp.tsv | cut -f 2-5 | sort -u | tr '\t\n' ' ;')" \
		"mA 0 mA 1;mA 1 mA 2;mA 2 mA 10;mB 0 mB 1;mB 1 mB 2;mB 2 mB 10;mC 0 mC 1;mC 1 mC 2;mC 2 mC 10;"
}

@test "rank-quantile --families: coherence = mean over other-family layers of -log10(2 min(median, 0.5))" {
	need_py scipy
	gen 16 20 20
	printf 'model\tfamily\nmA\tgpt\nmB\tgpt\nmC\tbert\n' > fam.tsv
	ak rank-quantile --by model,layer --within category --top 20 --families fam.tsv in.tsv > out.tsv
	head -1 out.tsv | grep -qx $'category\tquery_model\tquery_layer\tn_eval\tcoherence'
	run check families 20 fam.tsv
	assert_success
	assert_output --partial "ok 24 rows"
}

@test "rank-quantile: Wilcoxon drops quantiles equal to 0.5 (zero_method wilcox); all zeros give nan" {
	need_py scipy
	{
		printf 'from\tto\tvalue\trank\tquantile\tlayer\n'
		i=0
		for q in 0.1 0.5 0.5 0.9 0.25 0.75 0.3 0.5 0.05 0.6 0.2; do
			i=$((i + 1))
			printf 'a\tg%d\t1\t1\t0.01\t0\n' "$i"
			printf 'a\tg%d\t1\t1\t%s\t1\n' "$i" "$q"
		done
	} > z.tsv
	run ak rank-quantile --by layer --top 1 z.tsv
	assert_success
	line=$(echo "$output" | awk -F'\t' '$1 == 0')
	run "$PY" -W ignore -c "
import sys, numpy as np
from scipy import stats
q = np.array([0.1, 0.5, 0.5, 0.9, 0.25, 0.75, 0.3, 0.5, 0.05, 0.6, 0.2])
w = stats.wilcoxon(q - 0.5, zero_method='wilcox', correction=False, method='approx')
f = '$line'.split('\t')
assert int(f[2]) == 11 and abs(float(f[8]) - w.pvalue) < 1e-14 and abs(abs(float(f[7])) - abs(w.zstatistic)) < 1e-14, (f, w)
print('ok')"
	assert_success
	printf 'from\tto\trank\tquantile\tlayer\na\tb\t1\t0.5\t0\na\tb\t1\t0.5\t1\n' > zz.tsv
	run ak rank-quantile --by layer --top 1 zz.tsv
	assert_success
	assert_line --index 1 $'0\t1\t1\t0.5\t0.5\t0.5\t0.5\tnan\tnan'
}

@test "rank-quantile: napistu-torch style quantiles (diagonal in, / n^2) move medians by < 1/n on generic data" {
	need_py scipy
	gen 21 120 40 0 nap
	ak rank-quantile --by model,layer --within category --top 40 in.tsv > ours.tsv
	ak rank-quantile --by model,layer --within category --top 40 nap.tsv > nap_out.tsv
	run "$PY" -c "
import pandas as pd, numpy as np
a = pd.read_csv('ours.tsv', sep='\t'); b = pd.read_csv('nap_out.tsv', sep='\t')
d = (a.median_quantile - b.median_quantile).abs().max()
dz = (a.wilcoxon_z - b.wilcoxon_z).abs().max()
assert (a.n == b.n).all() and d < 1 / 120 and dz < 0.05, (d, dz)
print('ok', d, dz)"
	assert_success
}

@test "rank-quantile: file, stdin, gzipped stdin and several files give the same bytes" {
	gen 17 12 8
	ak rank-quantile --by model,layer --within category --top 8 in.tsv > a.tsv
	ak rank-quantile --by model,layer --within category --top 8 < in.tsv > b.tsv
	gzip -c in.tsv | ak rank-quantile --by model,layer --within category --top 8 - > c.tsv
	head -1 in.tsv > p1.tsv; (head -1 in.tsv; tail -n +2 in.tsv | awk 'NR % 2') > p1.tsv
	(head -1 in.tsv | awk -F'\t' -v OFS='\t' '{print $8, $1, $2, $3, $4, $5, $6, $7}'
	 tail -n +2 in.tsv | awk -F'\t' -v OFS='\t' 'NR % 2 == 0 {print $8, $1, $2, $3, $4, $5, $6, $7}') | gzip > p2.tsv.gz
	ak rank-quantile --by model,layer --within category --top 8 -o d.tsv.gz p1.tsv p2.tsv.gz
	cmp a.tsv b.tsv
	cmp a.tsv c.tsv
	gzip -dc d.tsv.gz | cmp a.tsv -
}

@test "rank-quantile: the man page's worked example gives the numbers derived by hand" {
	cp "$TOP/examples/rank_quantile_example.tsv" .
	run ak rank-quantile --by layer --top 2 rank_quantile_example.tsv
	assert_success
	assert_line --index 1 $'0\t1\t2\t0.41666666666666663\t0.41666666666666663\t0.16666666666666666\t0.6666666666666666\t-0.4472135954999579\t0.654720846018577'
	run ak rank-quantile --by layer --spearman rank_quantile_example.tsv
	assert_success
	assert_line --index 1 $'0\t1\t3\t-0.5'
}

@test "rank-quantile: bad input exits 1 naming the problem; no output file left behind" {
	gen 18 8 4
	printf '' > empty.tsv
	run ak rank-quantile --by model,layer --top 4 empty.tsv
	assert_data_error "empty.tsv: empty input"
	head -1 in.tsv > hdr.tsv
	run ak rank-quantile --by model,layer --top 4 -o o.tsv hdr.tsv
	assert_data_error "no data rows"
	[ ! -e o.tsv ]
	run ak rank-quantile --by model,layr --top 4 -o o.tsv in.tsv
	assert_data_error "no column 'layr' (columns: from, to, value, rank, quantile, model, category, layer)"
	[ ! -e o.tsv ]
	cut -f 1-4,6- in.tsv > noq.tsv
	run ak rank-quantile --by model,layer --top 4 noq.tsv
	assert_data_error "no column 'quantile'"
	awk -F'\t' -v OFS='\t' 'NR == 5 {$5 = "abc"} 1' in.tsv > bad.tsv
	run ak rank-quantile --by model,layer --top 4 bad.tsv
	assert_data_error "bad.tsv:5: column 'quantile': \"abc\" is not a number"
	for q in 0 1.5 -0.1 nan inf; do
		awk -F'\t' -v OFS='\t' -v q=$q 'NR == 3 {$5 = q} 1' in.tsv > bad.tsv
		run ak rank-quantile --by model,layer --top 4 bad.tsv
		assert_data_error "bad.tsv:3: column 'quantile': quantile \"$q\" is not in (0, 1]"
	done
	awk -F'\t' -v OFS='\t' 'NR == 4 {$3 = "NaN"} 1' in.tsv > bad.tsv
	run ak rank-quantile --by model,layer --top 4 bad.tsv
	assert_data_error "bad.tsv:4: column 'value': \"NaN\" is not a finite number"
	run ak rank-quantile --by model,layer --spearman bad.tsv
	assert_data_error "bad.tsv:4: column 'value'"
	awk -F'\t' -v OFS='\t' 'NR == 6 {$4 = "0"} 1' in.tsv > bad.tsv
	run ak rank-quantile --by model,layer --top 4 bad.tsv
	assert_data_error "bad.tsv:6: column 'rank': rank 0 is not >= 1"
	awk -F'\t' -v OFS='\t' 'NR == 6 {NF = 7} 1' in.tsv > bad.tsv
	run ak rank-quantile --by model,layer --top 4 bad.tsv
	assert_data_error "bad.tsv:6: expected 8 fields, found 7"
	awk -F'\t' -v OFS='\t' 'NR == 6 {$6 = ""} 1' in.tsv > bad.tsv
	run ak rank-quantile --by model,layer --top 4 bad.tsv
	assert_data_error "bad.tsv:6: column 'model': empty key value"
}

@test "rank-quantile: duplicate pair, partition with no rows, no query pairs are errors" {
	gen 19 8 4
	(cat in.tsv; sed -n 2p in.tsv) > dup.tsv
	f=$(sed -n 2p in.tsv | cut -f 1); t=$(sed -n 2p in.tsv | cut -f 2)
	run ak rank-quantile --by model,layer --within category --top 4 -o o.tsv dup.tsv
	assert_data_error "duplicate pair (from $f, to $t)"
	[ ! -e o.tsv ]
	# model mB layer 2 has no rows in category c2
	awk -F'\t' '!($6 == "mB" && $7 == "c2" && $8 == 2)' in.tsv > hole.tsv
	run ak rank-quantile --by model,layer --within category --top 4 hole.tsv
	assert_data_error "category=c2: partition with no rows: category=c1, model=mB, layer=2"
	# a partition whose rows all have rank > K: its query set is empty
	awk -F'\t' -v OFS='\t' '$6 == "mC" && $8 == 1 && NR > 1 {$4 = 1000000} 1' in.tsv > nok.tsv
	run ak rank-quantile --by model,layer --within category --top 4 nok.tsv
	assert_data_error "model=mC, layer=1: no rows with rank <= 4"
	printf 'model\tfamily\nmA\tx\n' > fam.tsv
	run ak rank-quantile --by model,layer --within category --top 4 --families fam.tsv in.tsv
	assert_data_error "fam.tsv: no family for model 'mB'"
	awk -F'\t' -v OFS='\t' '$8 == 2 {$8 = "2b"} 1' in.tsv > lay.tsv
	run ak rank-quantile --by model,layer --within category --top 4 --consecutive lay.tsv
	assert_data_error "layer \"2b\" is not an integer"
}

@test "rank-quantile: usage errors exit 2" {
	run ak rank-quantile --top 4
	assert_failure 2
	assert_output --partial "--by COLS is required"
	run ak rank-quantile --by layer
	assert_failure 2
	assert_output --partial "--top K is required"
	run ak rank-quantile --by model --top 3 --consecutive
	assert_failure 2
	assert_output --partial "--consecutive needs a column 'layer' in --by"
	run ak rank-quantile --by layer --top 0
	assert_failure 2
	run ak rank-quantile --by layer,quantile --top 3
	assert_failure 2
	assert_output --partial "'quantile' cannot be a key column"
}
