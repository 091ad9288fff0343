"""Fixtures and independent references for tests/pert-inputs.bats, written
with the real libraries (anndata, h5py, scipy, pandas).

usage:
  pert_inputs_data.py h5ad SIM OUT.h5ad     ps-sim screen -> AnnData (CSR X,
                                            categorical obs target, var index
                                            ENSG-like ids + gene_symbols)
  pert_inputs_data.py loom SIM OUT.loom     the same as a loom file
  pert_inputs_data.py guides SIM OUTDIR     guide UMI counts that encode
                                            ps-sim's labels (see below)
  pert_inputs_data.py papalexi-names DATA OUT
                                            the row names of Papalexi's
                                            guide_counts.mtx.gz (see below)
  pert_inputs_data.py assign COUNTS NAMES TABLE MIN MOI NT
                                            guide assignment, written
                                            independently of pert-guides:
                                            cell index, groups, status, use
"""
import sys, os, warnings
import numpy as np, pandas as pd, scipy.io, scipy.sparse as sp

warnings.simplefilter("ignore")


def sim(d):
    X = scipy.io.mmread(os.path.join(d, "counts.mtx")).T.tocsr()   # cells x genes
    cells = pd.read_csv(os.path.join(d, "cells.tsv"), sep="\t", dtype=str)
    genes = [l.strip() for l in open(os.path.join(d, "genes.txt"))]
    return X, cells, genes


def h5ad(d, out):
    import anndata as ad
    X, cells, genes = sim(d)
    obs = cells.set_index("barcode")
    obs["target"] = obs["target"].astype("category")
    var = pd.DataFrame({"gene_symbols": genes}, index=[f"ENSG{i:011d}" for i in range(len(genes))])
    ad.AnnData(X=X.astype(np.float32), obs=obs, var=var).write_h5ad(out)


def loom(d, out):
    import h5py
    X, cells, genes = sim(d)
    s = lambda g, n, v: g.create_dataset(n, data=np.array(v, dtype=object), dtype=h5py.string_dtype())
    with h5py.File(out, "w") as f:
        f.create_dataset("matrix", data=X.T.toarray().astype(np.float32))
        ra, ca = f.create_group("row_attrs"), f.create_group("col_attrs")
        s(ra, "Gene", genes)
        s(ca, "CellID", list(cells.barcode))
        s(ca, "target", list(cells.target))
        f.attrs["LOOM_SPEC_VERSION"] = "3.0.0"


def guides(d, out):
    """Two guides per target group (named GROUP_TSS in the table, as
    promoter groups of high-MOI screens are), three non-targeting guides;
    each cell carries one guide of its label at 5..60 UMIs and background
    at 0..4 UMIs on a few others, so that GUIDE_MIN_UMI=5 gives back the
    labels exactly. The names file lists the rows in an order unlike the
    table's."""
    rng = np.random.default_rng(11)
    _, cells, _ = sim(d)
    groups = sorted(set(cells.target) - {"non-targeting"})
    table = [(f"{g}_g{k}", f"{g}_TSS") for g in groups for k in (1, 2)]
    table += [(f"NT_g{k}", "non-targeting") for k in (1, 2, 3)]
    names = [t[0] for t in table][::-1]
    row = {n: i for i, n in enumerate(names)}
    by = {}
    for gid, grp in table:
        by.setdefault(grp.replace("_TSS", "") if grp != "non-targeting" else grp, []).append(gid)
    C = np.zeros((len(names), len(cells)), dtype=np.int64)
    for j, t in enumerate(cells.target):
        C[row[rng.choice(by[t])], j] = rng.integers(5, 61)
        for i in rng.choice(len(names), 3, replace=False):
            if C[i, j] == 0:
                C[i, j] = rng.integers(0, 5)
    os.makedirs(out, exist_ok=True)
    scipy.io.mmwrite(os.path.join(out, "guide_counts.mtx"), sp.coo_matrix(C), field="integer")
    open(os.path.join(out, "guide_names.txt"), "w").write("".join(n + "\n" for n in names))
    pd.DataFrame(table, columns=["guide", "target"]).to_csv(os.path.join(out, "guide_table.tsv"), sep="\t", index=False)


def papalexi_names(data, out):
    """The shared guide_counts.mtx.gz has no row names, and its guides.tsv
    is sorted by target (sceptre's data-raw script arranges the table by
    group, not in the matrix's row order). Each row is the top guide of the
    cells of exactly one shipped guide label; the three rows no cell has as
    top guide are, by elimination, the three guides no cell is labelled
    with (PDL1g1-3, all targeting CD274, so targets do not depend on their
    order)."""
    G = scipy.io.mmread(os.path.join(data, "guide_counts.mtx.gz")).tocsc()
    gt = pd.read_csv(os.path.join(data, "guides.tsv"), sep="\t")
    cells = pd.read_csv(os.path.join(data, "cells.tsv.gz"), sep="\t")
    top = np.asarray(G.argmax(0)).ravel()
    ct = pd.crosstab(top, cells.guide.values)
    assert ((ct > 0).sum(1) == 1).all(), "a row is the top guide of two labels"
    m = dict(zip(ct.index, ct.idxmax(1)))
    free = [i for i in range(G.shape[0]) if i not in m]
    left = sorted(set(gt.grna_id) - set(m.values()))
    assert len(free) == len(left)
    m.update(zip(free, left))
    open(out, "w").write("".join(m[i] + "\n" for i in range(G.shape[0])))


def assign(counts, names, table, mn, moi, nt):
    C = scipy.io.mmread(counts).tocsc()
    nm = [l.rstrip("\n").split("\t")[0] for l in open(names)]
    t = pd.read_csv(table, sep="\t", header=None, dtype=str).iloc[:, :2]
    if t.iloc[0, 0] not in set(nm):
        t = t.iloc[1:]
    tg = dict(zip(t.iloc[:, 0], t.iloc[:, 1].where(t.iloc[:, 1] == nt, t.iloc[:, 1].str.replace(r"_TSS$", "", regex=True))))
    grp = np.array([tg[n] for n in nm])
    P = (C >= float(mn)).tocsc()
    print("cell\tgroups\tstatus\tuse")
    for j in range(C.shape[1]):
        rows = P.indices[P.indptr[j]:P.indptr[j + 1]][P.data[P.indptr[j]:P.indptr[j + 1]]]
        g = sorted(set(grp[rows]))
        st = "unassigned" if not g else "multiple" if len(g) > 1 else "control" if g == [nt] else "single"
        use = int(st in ("control", "single") or (st == "multiple" and moi == "high"))
        print(f"{j + 1}\t{','.join(g)}\t{st}\t{use}")


cmd = sys.argv[1]
if cmd == "h5ad":
    h5ad(sys.argv[2], sys.argv[3])
elif cmd == "loom":
    loom(sys.argv[2], sys.argv[3])
elif cmd == "guides":
    guides(sys.argv[2], sys.argv[3])
elif cmd == "papalexi-names":
    papalexi_names(sys.argv[2], sys.argv[3])
elif cmd == "assign":
    assign(*sys.argv[2:8])
else:
    sys.exit(__doc__)
