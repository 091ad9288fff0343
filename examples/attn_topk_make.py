#!/usr/bin/env python3
"""Writes the tiny inputs of attn-topk(1)'s EXAMPLES (deterministic, seed 1):
a 40-gene x 16-d residual stream, W_Q, W_K, b_Q (2 heads of d_k = 8), gene
ids, and a few pairs for --at. Run from examples/: python3 attn_topk_make.py"""
import numpy as np

rng = np.random.default_rng(1)
n, d = 40, 16
np.save("attn_topk_resid.npy", rng.standard_normal((n, d)).astype("<f4"))
np.save("attn_topk_wq.npy", (rng.standard_normal((d, d)) / 2).astype("<f4"))
np.save("attn_topk_wk.npy", (rng.standard_normal((d, d)) / 2).astype("<f4"))
np.save("attn_topk_bq.npy", (rng.standard_normal(d) / 4).astype("<f4"))
with open("attn_topk_genes.txt", "w") as f:
    f.write("".join(f"G{i:02d}\n" for i in range(n)))
with open("attn_topk_pairs.tsv", "w") as f:
    f.write("from\tto\nG00\tG01\nG07\tG31\nG39\tG00\n")
