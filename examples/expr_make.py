# Writes the tiny expression example used by the gene-stats, coexpr and
# de-call man pages (deterministic: run it again and the files are the same):
#   expr.mtx        12 genes x 60 cells of UMI counts (MatrixMarket, genes x cells)
#   expr_genes.txt  gene names, one per line (the rows of expr.mtx)
#   expr_cells.tsv  one row per cell (the columns): barcode cell_type target guides
# Three cell types with their own programmes; KO1 cells lose GATA, KO2 cells
# lose MYB; guides holds comma-separated lists as in a high-MOI screen.
import numpy as np

rng = np.random.default_rng(2026)
genes = ["GATA", "MYB", "CD3E", "CD19", "LYZ", "ACTB", "NKG7", "MS4A1", "FOS", "JUN", "IL7R", "S100A8"]
types = np.repeat(["T", "B", "Mono"], 20)
target = np.tile(["NT", "NT", "KO1", "KO2"], 15)
prog = {"T": [2, 1, 6, 0.1, 0.2, 20, 1, 0.1, 3, 3, 5, 0.2],
        "B": [2, 1, 0.1, 6, 0.2, 20, 0.2, 5, 3, 3, 0.3, 0.2],
        "Mono": [2, 1, 0.1, 0.1, 8, 20, 0.2, 0.1, 4, 4, 0.2, 6]}
rate = np.array([prog[t] for t in types], float) * rng.gamma(4, 0.25, (60, 1))
rate[target == "KO1", 0] *= 0.05
rate[target == "KO2", 1] *= 0.05
rate[:, 8] += rate[:, 9]  # FOS follows JUN
m = rng.poisson(rate)
guides = []
for t in target:
    extra = rng.choice(["", ",KO3"], p=[0.8, 0.2])
    guides.append(("NT" if t == "NT" else t) + extra)
with open("expr_genes.txt", "w") as f:
    f.write("".join(g + "\n" for g in genes))
with open("expr_cells.tsv", "w") as f:
    f.write("barcode\tcell_type\ttarget\tguides\n")
    for i in range(60):
        f.write(f"cell{i + 1:02d}\t{types[i]}\t{target[i]}\t{guides[i]}\n")
gi, ci = np.nonzero(m.T)
with open("expr.mtx", "w") as f:
    f.write("%%MatrixMarket matrix coordinate integer general\n")
    f.write(f"{len(genes)} 60 {len(gi)}\n")
    order = np.lexsort((gi, ci))
    for k in order:
        f.write(f"{gi[k] + 1} {ci[k] + 1} {m[ci[k], gi[k]]}\n")
