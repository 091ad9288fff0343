"""Fixtures for tests/h5.bats, written by the real libraries (anndata,
h5py, scipy): one small data set in every HDF5 encoding attnkit reads, and
the same data as MatrixMarket + genes.txt + cells.tsv and as .npy, so that
each encoding can be compared with those paths bit for bit.

usage: h5_data.py DIR"""
import sys, os, warnings
import numpy as np, pandas as pd, scipy.sparse as sp, scipy.io, h5py, anndata as ad

warnings.simplefilter("ignore")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
P = lambda n: os.path.join(out, n)
rng = np.random.default_rng(7)
nc, ng = 60, 14
counts = rng.poisson(rng.gamma(0.6, 2.0, size=ng), size=(nc, ng)).astype(np.int64)
counts[:, 3] = 0                       # a gene never seen
counts[counts.sum(1) == 0, 0] = 1      # every cell has a count
genes = [f"ENSG{i:04d}" for i in range(ng)]
symbols = [f"SYM{i}" for i in range(ng)]
cells = [f"AAAC{i:03d}-1" for i in range(nc)]
pert = np.array(["ctrl", "KO_A", "KO_B"])[rng.integers(0, 3, nc)]
obs = pd.DataFrame({
    "perturbation": pd.Categorical(pert),
    "batch": np.array(["b1", "b2"])[np.arange(nc) % 2],
    "n_genes": (counts > 0).sum(1).astype(np.int64),
    "frac": np.round(rng.random(nc), 3),
    "is_good": np.arange(nc) % 3 != 0,
    # floats as pandas writes them (repr), NaN as ""
    "score": np.resize([1e-05, 1e16, 123456789.0, 0.1 + 0.2, np.nan, -2.5, 1e300], nc),
    "f32": np.resize(np.array([0.1, 1 / 3, 7], dtype=np.float32), nc),
    "n_na": pd.array(np.resize([1, None, 3], nc), dtype="Int64"),
}, index=pd.Index(cells, name="cell_id"))
var = pd.DataFrame({"gene_symbols": symbols, "highly_variable": np.arange(ng) % 2 == 0},
                   index=pd.Index(genes))
X = counts.astype(np.float32)
norm = (counts / counts.sum(1, keepdims=True) * 1e4).astype(np.float32)  # non-integers

# the reference paths
scipy.io.mmwrite(P("counts.mtx"), sp.coo_matrix(counts.T), field="integer")
open(P("genes.txt"), "w").write("\n".join(genes) + "\n")
open(P("symbols.txt"), "w").write("\n".join(symbols) + "\n")
obs.to_csv(P("cells.tsv"), sep="\t")
np.save(P("norm.npy"), norm)
np.save(P("counts.npy"), counts)

def h5ad(name, x, **kw):
    a = ad.AnnData(X=x, obs=obs.copy(), var=var.copy(), **kw)
    a.write_h5ad(P(name))
    return a

h5ad("dense_f32.h5ad", X)
h5ad("dense_f64.h5ad", counts.astype(np.float64))
h5ad("dense_i64.h5ad", counts)
h5ad("csr.h5ad", sp.csr_matrix(X))
h5ad("csc.h5ad", sp.csc_matrix(X))
h5ad("csr_f64.h5ad", sp.csr_matrix(counts.astype(np.float64)))
# int64 indices and indptr (scipy keeps int32 for small matrices)
h5ad("csr_i64.h5ad", sp.csr_matrix(X))
h5ad("csc_i64.h5ad", sp.csc_matrix(X))
for n in ("csr_i64.h5ad", "csc_i64.h5ad"):
    with h5py.File(P(n), "r+") as f:
        for k in ("indices", "indptr"):
            v = f["X"][k][...].astype(np.int64)
            del f["X"][k]
            f["X"].create_dataset(k, data=v)
        assert f["X/indices"].dtype == np.int64
# X normalised, counts in a layer and in raw, a PCA in obsm
a = ad.AnnData(X=sp.csr_matrix(norm), obs=obs.copy(), var=var.copy(),
               layers={"counts": sp.csr_matrix(X), "dense_counts": counts},
               obsm={"X_pca": rng.standard_normal((nc, 3))})
a.raw = ad.AnnData(X=sp.csr_matrix(X), obs=obs.copy(), var=var.copy())
a.write_h5ad(P("layers.h5ad"))
np.save(P("pca.npy"), a.obsm["X_pca"])
# no X at all
b = ad.AnnData(obs=obs.copy(), var=var.copy(), layers={"counts": sp.csr_matrix(X)})
b.X = None
b.write_h5ad(P("nox.h5ad"))

def strings(g, name, vals):
    g.create_dataset(name, data=np.array(vals, dtype=object), dtype=h5py.string_dtype())

# anndata 0.7's layout: categorical codes with categories in __categories,
# the index named by _index, column-order; written by hand with h5py
old_obs = obs.drop(columns=["n_na"])   # nullable columns came later
old_obs.to_csv(P("cells_old.tsv"), sep="\t", index_label="index")
with h5py.File(P("old.h5ad"), "w") as f:
    f.create_dataset("X", data=X)
    for gname, df in (("obs", old_obs), ("var", var)):
        g = f.create_group(gname)
        g.attrs["_index"] = "index"
        g.attrs["encoding-type"] = "dataframe"
        g.attrs["encoding-version"] = "0.1.0"
        g.attrs["column-order"] = np.array(list(df.columns), dtype=object)
        strings(g, "index", list(df.index))
        cg = g.create_group("__categories")
        for col in df.columns:
            v = df[col]
            if isinstance(v.dtype, pd.CategoricalDtype):
                strings(cg, col, list(v.cat.categories))
                d = g.create_dataset(col, data=v.cat.codes.to_numpy())
                d.attrs["categories"] = cg[col].ref
            elif v.dtype == object:
                strings(g, col, list(v))
            else:
                g.create_dataset(col, data=v.to_numpy())

# 10x Genomics filtered_feature_bc_matrix.h5 (CellRanger 3+): CSC features x
# cells, features/id (and name, feature_type when given); genome and
# _all_tag_keys, library_ids as CellRanger writes them where asked
def tenx(name, m, ids, names=None, types=None, genome=False, library=False):
    with h5py.File(P(name), "w") as f:
        g = f.create_group("matrix")
        g.create_dataset("data", data=m.data)
        g.create_dataset("indices", data=m.indices.astype(np.int64))
        g.create_dataset("indptr", data=m.indptr.astype(np.int64))
        g.create_dataset("shape", data=np.array(m.shape, dtype=np.int32))
        g.create_dataset("barcodes", data=np.array(cells, dtype="S"))
        ft = g.create_group("features")
        ft.create_dataset("id", data=np.array(ids, dtype="S"))
        if names is not None:
            ft.create_dataset("name", data=np.array(names, dtype="S"))
        ft.create_dataset("feature_type", data=np.array(types, dtype="S"))
        if genome:
            ft.create_dataset("genome", data=np.array(["GRCh38"] * len(ids), dtype="S"))
            ft.create_dataset("_all_tag_keys", data=np.array(["genome"], dtype="S"))
        if library:
            f.attrs["library_ids"] = np.array(["lib"], dtype="S")

m = sp.csc_matrix(counts.T.astype(np.int32))
tenx("tenx.h5", m, genes, symbols, ["Gene Expression"] * ng, genome=True, library=True)

# the same with two guide-capture features appended (CellRanger multi-modal)
mg = sp.vstack([m, sp.csc_matrix(np.ones((2, m.shape[1]), dtype=np.int32))]).tocsc()
tenx("tenx_guides.h5", mg, list(genes) + ["sgA-1", "sgA-2"], list(symbols) + ["sgA-1", "sgA-2"],
     ["Gene Expression"] * ng + ["CRISPR Guide Capture"] * 2)

# several feature types with the Gene Expression rows not contiguous: an
# antibody first, guides and antibodies between the genes, random counts (so
# that they would change library sizes if they were read as genes); the
# guides' own counts (cells x guides) for the explicit FILE.h5:TYPE path
extra = {"AB-CD3": "Antibody Capture", "sgA-1": "CRISPR Guide Capture",
         "AB-CD4": "Antibody Capture", "sgB-1": "CRISPR Guide Capture"}
order = ["AB-CD3"] + genes[:5] + ["sgA-1"] + genes[5:10] + ["AB-CD4", "sgB-1"] + genes[10:]
xc = {n: rng.poisson(5.0, size=nc).astype(np.int32) for n in extra}
rows = [xc[n] if n in extra else counts[:, genes.index(n)].astype(np.int32) for n in order]
mm = sp.csc_matrix(np.array(rows))
sym = dict(zip(genes, symbols))
tenx("tenx_multi.h5", mm, order, [sym.get(n, n) for n in order],
     [extra.get(n, "Gene Expression") for n in order], genome=True)
np.save(P("guides.npy"), np.stack([xc["sgA-1"], xc["sgB-1"]], axis=1).astype(np.int32))
np.save(P("antibodies_guides.npy"), np.stack([xc[n] for n in ["AB-CD3", "sgA-1", "AB-CD4", "sgB-1"]], axis=1).astype(np.int32))
# a guide-only file: no Gene Expression at all
tenx("tenx_noge.h5", sp.csc_matrix(np.array([xc["sgA-1"], xc["sgB-1"]])), ["sgA-1", "sgB-1"],
     types=["CRISPR Guide Capture"] * 2)

# loom: genes x cells dense, row_attrs / col_attrs, a layer
with h5py.File(P("data.loom"), "w") as f:
    f.create_dataset("matrix", data=counts.T.astype(np.float32), chunks=(4, 16))
    ra, ca = f.create_group("row_attrs"), f.create_group("col_attrs")
    strings(ra, "Gene", genes)
    strings(ra, "Symbol", symbols)
    strings(ca, "CellID", cells)
    strings(ca, "perturbation", list(pert))
    f.create_group("layers").create_dataset("norm", data=norm.T)
    f.create_group("col_graphs")
    f.create_group("row_graphs")
    f.attrs["LOOM_SPEC_VERSION"] = "3.0.0"
