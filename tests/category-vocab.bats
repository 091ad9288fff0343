#!/usr/bin/env bats
# Vocabularies that differ by category (issue #18; scFoundation keeps only the
# genes expressed in each cell type): MODEL/resid/CATEGORY/genes.txt, when
# present, is that category's vocabulary (the rows of its layerL.npy) in
# place of MODEL/genes.txt, in within-model.mk, network.mk and cross-model.mk
# (cross-model aligns per category). Simulated models (fm-sim) whose cat2
# keeps two genes in three, a different third per model; numbers checked
# against numpy and pandas.

setup_file() {
	load helper
	"$PY" -c "import numpy, pandas" 2>/dev/null || return 0
	cd "$BATS_FILE_TMPDIR"
	"$BIN/fm-sim" --out sim --genes 150 --layers 2 --categories 2 > /dev/null
	# cat2 of model k keeps the genes i with (i + k) % 3 != 0, rows sliced
	"$PY" - sim/alpha sim/gamma sim/beta <<'PY'
import sys, os, glob, numpy as np
for k, d in enumerate(sys.argv[1:]):
    genes = open(os.path.join(d, "genes.txt")).read().split()
    keep = [i for i in range(len(genes)) if (i + k) % 3 != 0]
    c = os.path.join(d, "resid", "cat2")
    for f in glob.glob(os.path.join(c, "layer*.npy")):
        np.save(f, np.load(f)[keep])
    open(os.path.join(c, "genes.txt"), "w").write("".join(genes[i] + "\n" for i in keep))
PY
}

setup() {
	load helper
	need_py pandas
	cd "$BATS_FILE_TMPDIR"
}

@test "category-vocab: within-model ranks each category over its own genes (numpy attention), rsa per category" {
	run make -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS=sim/alpha OUT=w KS="20 40" -j2 \
		w/alpha/cat1/eval.tsv.gz w/alpha/cat2/eval.tsv.gz w/alpha/cat2/rsa.tsv
	assert_success
	# cat2's top-K from sliced residuals and its own genes.txt, as numpy computes it;
	# N in the quantile is n(n - 1) of the category's vocabulary, not the model's
	"$PY" - <<'PY'
import numpy as np, pandas as pd
m, H = "sim/alpha", 4
for cat, genes in (("cat2", "sim/alpha/resid/cat2/genes.txt"), ("cat1", "sim/alpha/genes.txt")):
    g = open(genes).read().split()
    for L in range(2):
        X = np.load(f"{m}/resid/{cat}/layer{L}.npy").astype(float)
        WQ = np.load(f"{m}/layer{L}.wq.npy").astype(float); WK = np.load(f"{m}/layer{L}.wk.npy").astype(float)
        n, d = X.shape; dk = d // H
        assert n == len(g), (cat, n, len(g))
        Q, K = X @ WQ.T, X @ WK.T
        A = 0
        for h in range(H):
            S = Q[:, h*dk:(h+1)*dk] @ K[:, h*dk:(h+1)*dk].T / np.sqrt(dk)
            S = np.exp(S - S.max(1, keepdims=True)); A = A + S / S.sum(1, keepdims=True) / H
        np.fill_diagonal(A, -1)
        t = pd.read_csv(f"w/alpha/{cat}/topk/layer{L}.tsv.gz", sep="\t")
        assert set(t["category"]) == {cat}
        idx = {s: i for i, s in enumerate(g)}
        v = A[t["from"].map(idx).values, t["to"].map(idx).values]
        assert np.allclose(t["value"], v, rtol=1e-5, atol=1e-7), (cat, L)
        top = np.sort(A.ravel())[::-1][:len(t)]
        assert np.allclose(np.sort(t["value"].values)[::-1], top, rtol=1e-5, atol=1e-7), (cat, L)
        N = t["rank"] / t["quantile"]
        assert np.allclose(N, n * (n - 1)), (cat, L, N.iloc[0], n)
PY
	# the union of cat2 is evaluated at cat2's genes
	run "$PY" -c "
import pandas as pd
e = pd.read_csv('w/alpha/cat2/eval.tsv.gz', sep='\t')
g = set(open('sim/alpha/resid/cat2/genes.txt').read().split())
assert set(e['from']) | set(e['to']) <= g
print(len(e))"
	assert_success
	[ -s w/alpha/cat2/rsa.tsv ]
}

@test "category-vocab: network counts each category's null among its own genes (pandas)" {
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" MODELS=sim/alpha OUT=n K=25 \
		REF=sim/reference.tsv REF_COLS=tf,target -j2 n/alpha/summary.tsv
	assert_success
	"$PY" - <<'PY'
import pandas as pd
ref = pd.read_csv("sim/reference.tsv", sep="\t")
edges = set(zip(ref["tf"], ref["target"]))
s = pd.read_csv("n/alpha/summary.tsv", sep="\t", float_precision="round_trip")
assert sorted(set(s["category"])) == ["cat1", "cat2"], s
for cat, genes in (("cat1", "sim/alpha/genes.txt"), ("cat2", "sim/alpha/resid/cat2/genes.txt")):
    g = open(genes).read().split()
    gs = set(g)
    R = sum(1 for a, b in edges if a in gs and b in gs and a != b)
    null = R / (len(g) * (len(g) - 1))
    got = s.loc[s["category"] == cat, "null_fraction"]
    assert len(got) == 2 and (abs(got - null) <= 1e-15 * null).all(), (cat, got.tolist(), null)
    # the pairs counted are that category's top-K
    for L in range(2):
        t = pd.read_csv(f"n/alpha/{cat}/topk/layer{L}.tsv.gz", sep="\t").head(25)
        hit = sum((a, b) in edges for a, b in zip(t["from"], t["to"]))
        row = s[(s["category"] == cat) & (s["layer"] == L)]
        assert int(row["n_in_ref"].iloc[0]) == hit, (cat, L)
null1 = s.loc[s["category"] == "cat1", "null_fraction"].iloc[0]
null2 = s.loc[s["category"] == "cat2", "null_fraction"].iloc[0]
assert null1 != null2
PY
}

@test "category-vocab: network without category vocabularies keeps one summary over the model's genes" {
	rm -rf plain
	mkdir plain
	cp -r sim/alpha plain/alpha
	rm plain/alpha/resid/cat2/genes.txt
	# cat2 must then have the model's rows again
	cp -r "$BATS_FILE_TMPDIR/sim/alpha/resid/cat1/." plain/alpha/resid/cat2/
	run make -f "$TOP/pipelines/network.mk" AK_BIN="$BIN" MODELS=plain/alpha OUT=np K=25 \
		REF=sim/reference.tsv REF_COLS=tf,target -j2 np/alpha/summary.tsv
	assert_success
	[ ! -e np/alpha/cat1/summary.tsv ]
	run "$PY" -c "
import pandas as pd
s = pd.read_csv('np/alpha/summary.tsv', sep='\t')
assert s['null_fraction'].nunique() == 1 and len(s) == 4, s"
	assert_success
}

@test "category-vocab: cross-model aligns each category on the genes all models have in it (through MAP)" {
	run make -f "$TOP/pipelines/cross-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/beta" OUT=c K=20 \
		MAP=sim/id_map.tsv MAP_COLS=ensembl_gene,symbol -j2 c/cat1/eval.tsv.gz c/cat2/eval.tsv.gz c/report.html
	assert_success
	# the report says how many genes the category with its own vocabulary compares
	n2=$(wc -l < c/cat2/common_genes.txt)
	grep -q "Category <code>cat2</code> has its own vocabulary in every model: <b>$n2 genes in common</b>" c/report.html
	! grep -q "Category <code>cat1</code>" c/report.html
	"$PY" - <<'PY'
import pandas as pd
mp = pd.read_csv("sim/id_map.tsv", sep="\t")
to_sym = dict(zip(mp["ensembl_gene"], mp["symbol"]))
def vocab(m, cat):
    f = f"sim/{m}/resid/{cat}/genes.txt" if cat == "cat2" else f"sim/{m}/genes.txt"
    g = open(f).read().split()
    return [to_sym.get(x, x) for x in g] if m == "beta" else g
for cat in ("cat1", "cat2"):
    a, b = vocab("alpha", cat), vocab("beta", cat)
    common = [x for x in a if x in set(b)]
    f = "c/common_genes.txt" if cat == "cat1" else "c/cat2/common_genes.txt"
    got = open(f).read().split()
    # (intersect-lines keeps the order of its last list: compare as sets)
    assert sorted(got) == sorted(common), (cat, len(got), len(common))
    e = pd.read_csv(f"c/{cat}/eval.tsv.gz", sep="\t")
    assert set(e["from"]) | set(e["to"]) <= set(common), cat
    # every model-layer evaluated at every union pair: N = n(n - 1) of the common genes
    n = len(common)
    assert ((e["rank"] / e["quantile"]).round() == n * (n - 1)).all(), cat
assert len(open("c/cat2/common_genes.txt").read().split()) < len(open("c/common_genes.txt").read().split())
PY
}

@test "category-vocab: a category genes.txt that does not match its residual rows stops the run, naming both" {
	rm -rf bad
	mkdir bad
	cp -r sim/alpha bad/alpha
	head -5 bad/alpha/resid/cat2/genes.txt > bad/alpha/resid/cat2/g && mv bad/alpha/resid/cat2/g bad/alpha/resid/cat2/genes.txt
	run make -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS=bad/alpha OUT=wb KS=20 wb/alpha/cat2/topk/layer0.tsv.gz
	assert_failure
	assert_output --partial "bad/alpha/resid/cat2/genes.txt: 5 ids, but bad/alpha/resid/cat2/layer0.npy has"
}
