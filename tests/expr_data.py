# Small expression data sets for the expression filters' tests, written to the
# current directory, deterministically, plus the reference normalisation
# (imported by the tests' Python checks):
#   x.mtx       genes x cells counts (MatrixMarket, entries shuffled, one entry
#               split into two duplicates that add up), x.mtx.gz
#   x.npy       the same counts, dense cells x genes (int64)
#   genes.txt   40 names; cells.tsv  barcode type batch target guides
# Ties are frequent (small counts); gene g0 is all zero, g1 is the same
# count in every cell, cell c7 has no counts at all.
import gzip, sys
import numpy as np

G, C = 40, 300


def make():
    rng = np.random.default_rng(11)
    types = np.repeat(["A", "B", "C"], [120, 100, 80])
    batch = np.array(["b1", "b2"])[rng.integers(0, 2, C)]
    target = np.array(["NT"] * 100 + ["P1"] * 60 + ["P2"] * 50 + ["P3"] * 10 + ["P4"] * 80)
    rng.shuffle(target)
    lists = []
    for i in range(C):
        k = rng.integers(0, 4)
        lists.append(",".join(sorted(set(rng.choice(["NT", "Q1", "Q2", "Q3"], size=k + 1, p=[0.5, 0.25, 0.2, 0.05])))))
    # counts: per-type programme, so strata differ; perturbations shift genes 2-5
    base = rng.gamma(0.7, 1.0, (3, G)) * 2
    ti = np.searchsorted(["A", "B", "C"], types)
    rate = base[ti] * rng.gamma(2.0, 0.5, (C, 1))
    for j, p in enumerate(["P1", "P2", "P4"]):
        rate[target == p, 2 + j] *= 4.0
    rate[target == "P4", 5] *= 0.1
    m = rng.poisson(rate).astype(np.int64)
    m[:, 0] = 0
    m[:, 1] = 2
    m[7, :] = 0
    return m, types, batch, target, lists


def write():
    m, types, batch, target, lists = make()
    np.save("x.npy", m)
    with open("genes.txt", "w") as f:
        f.write("".join(f"g{i}\n" for i in range(G)))
    with open("cells.tsv", "w") as f:
        f.write("barcode\ttype\tbatch\ttarget\tguides\n")
        for i in range(C):
            f.write(f"c{i}\t{types[i]}\t{batch[i]}\t{target[i]}\t{lists[i]}\n")
    gi, ci = np.nonzero(m.T)
    vals = m.T[gi, ci]
    order = np.random.default_rng(3).permutation(len(vals))
    ent = [(gi[k] + 1, ci[k] + 1, vals[k]) for k in order]
    # split one entry in two duplicates (readers must add them)
    a, b, v = ent[0]
    ent[0] = (a, b, v - 1) if v > 1 else ent[0]
    if v > 1:
        ent.append((a, b, 1))
    body = "".join(f"{a} {b} {v}\n" for a, b, v in ent)
    text = f"%%MatrixMarket matrix coordinate integer general\n% test data\n{G} {C} {len(ent)}\n" + body
    open("x.mtx", "w").write(text)
    with gzip.open("x.mtx.gz", "wt") as f:
        f.write(text)


def norm(m):
    """log1p(counts / cell total * 1e4), zero for cells without counts."""
    m = np.asarray(m, dtype=float)
    tot = m.sum(1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        x = np.log1p(m / tot * 1e4)
    return np.where(tot > 0, x, 0.0)


def load():
    import pandas as pd
    return np.load("x.npy"), pd.read_csv("cells.tsv", sep="\t", keep_default_na=False)


def read_tsv(path):
    import pandas as pd
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=["nan", "NA"], float_precision="round_trip")


def read_mtx(path):
    """MatrixMarket counts (genes x cells) -> dense cells x genes, fast."""
    import pandas as pd
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        line = f.readline()
        while line.startswith("%"):
            line = f.readline()
        g, c, _ = map(int, line.split())
        t = pd.read_csv(f, sep=" ", header=None, comment="%").values
    m = np.zeros((c, g))
    np.add.at(m, (t[:, 1] - 1, t[:, 0] - 1), t[:, 2])
    return m


if __name__ == "__main__":
    write()


def spearman(x):
    """scipy.stats.spearmanr over the columns of x; it gives up (one nan)
    when any column is constant, so constant columns are set aside and get
    nan, as coexpr reports them."""
    import scipy.stats as ss
    n = x.shape[1]
    keep = np.ptp(x, axis=0) > 0
    r = np.full((n, n), np.nan)
    k = np.flatnonzero(keep)
    if len(k) >= 2:
        sub = ss.spearmanr(x[:, k]).correlation
        r[np.ix_(k, k)] = sub if len(k) > 2 else np.array([[1.0, sub], [sub, 1.0]])
    return r
