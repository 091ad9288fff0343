#!/usr/bin/env python3
"""Export a PyTorch transformer encoder into attnkit's model directory, with
the model's own attention for `attn-topk --check`.

    export_torch.py OUT [--genes N] [--layers L] [--heads H] [--d-model D]
                    [--categories K] [--cells C] [--norm-first] [--seed S]

The model here is a small random single-cell transformer (a gene-token
embedding plus a projection of each gene's log expression, then
nn.TransformerEncoder), built from the seed: a stand-in for your own. The
export itself (export(), below) needs only the encoder layers, the cells'
input tensors per category and the gene ids, and works the same for any
stack of nn.TransformerEncoderLayer / nn.MultiheadAttention:

  1. A forward pre-hook on every layer's self_attn records the tensor the
     attention really receives (the query argument): the residual stream for
     a post-LN layer (norm_first=False), LayerNorm of it for a pre-LN one.
     That is what attn-topk's --resid wants, so no LayerNorm is applied
     afterwards. PyTorch's fused fast path skips the module (and its hooks)
     in inference mode, so the forward pass runs with autograd on, and the
     script stops if a hook did not fire.
  2. Per category, the attention inputs are averaged over the category's
     cells: resid/CATEGORY/layerL.npy (genes x d, float32).
  3. W_Q, W_K and their biases are rows [0:d] and [d:2d] of the fused
     in_proj_weight (3d x d) and in_proj_bias (3d), PyTorch's Linear layout
     (out x in), which is attn-topk's: layerL.wq.npy, layerL.wk.npy,
     layerL.bq.npy, layerL.bk.npy.
  4. meta.tsv (tab-separated "key value" lines with a header: n_layers,
     n_heads, d_model, family, id_type), genes.txt (one id per line, the row
     order of every resid file).
  5. model.safetensors: the state dict as it is (fused in_proj_weight), so
     attn-topk can also take W_Q as
     'model.safetensors:encoder.layers.0.self_attn.in_proj_weight[0:D]'.
  6. check/CATEGORY/layerL.attn.npy: the model's own per-head attention
     (H x n x n) on the averaged input, from the layer's self_attn module
     (need_weights, average_attn_weights=False). attn-topk --check compares
     what it computes from the exported files with this, to 1e-4.

Run with Debian's python3-torch (no safetensors package needed: the file is
written by hand, an 8-byte little-endian header length, a JSON header, the
raw tensors)."""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn


class TinyCellModel(nn.Module):
    """Genes as tokens; a cell's input is each gene's embedding plus a
    projection of its log expression."""

    def __init__(self, n_genes, d, heads, layers, norm_first):
        super().__init__()
        self.gene = nn.Embedding(n_genes, d)
        self.value = nn.Linear(1, d)
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=2 * d, dropout=0.0,
                                           batch_first=True, norm_first=norm_first)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, values):                      # values: cells x genes
        x = self.gene.weight.unsqueeze(0) + self.value(values.unsqueeze(-1))
        return self.encoder(x)


def simulate_cells(n_genes, categories, cells, rng):
    """log1p counts per category: each category its own mean profile."""
    out = {}
    for k in range(categories):
        rate = rng.gamma(0.8, 2.0, n_genes)
        out[f"cat{k + 1}"] = np.log1p(rng.poisson(rate, (cells, n_genes))).astype(np.float32)
    return out


def save_safetensors(path, tensors):
    """HuggingFace safetensors: header length (u64 LE), JSON header, data."""
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + a.nbytes]}
        blobs.append(a.tobytes())
        off += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)                     # the data start 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def attention_inputs(model, layers, values):
    """The query tensor each layer's self_attn receives: list of (cells x
    genes x d) arrays, one per layer."""
    seen = [None] * len(layers)

    def hook(i):
        def pre(module, args):
            seen[i] = args[0].detach().clone()
        return pre

    handles = [l.self_attn.register_forward_pre_hook(hook(i)) for i, l in enumerate(layers)]
    try:
        with torch.enable_grad():                   # keeps PyTorch off its fused fast path
            model(torch.from_numpy(values))
    finally:
        for h in handles:
            h.remove()
    missing = [i for i, s in enumerate(seen) if s is None]
    if missing:
        sys.exit(f"export_torch.py: layers {missing}: self_attn was not called (a fused path "
                 "bypassed the hooks); run the forward pass with autograd enabled")
    return [s.numpy() for s in seen]


def qk(layer, d):
    """W_Q, W_K, b_Q, b_K of an nn.MultiheadAttention (fused or separate)."""
    a = layer.self_attn
    if a.in_proj_weight is not None:
        w = a.in_proj_weight.detach()
        wq, wk = w[:d], w[d:2 * d]
    else:
        wq, wk = a.q_proj_weight.detach(), a.k_proj_weight.detach()
    b = a.in_proj_bias.detach() if a.in_proj_bias is not None else torch.zeros(3 * d)
    return [t.numpy().astype(np.float32) for t in (wq, wk, b[:d], b[d:2 * d])]


def export(model, layers, heads, genes, cells_by_category, out, family="torch", id_type="symbol"):
    d = layers[0].self_attn.embed_dim
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "meta.tsv"), "w") as f:
        f.write("key\tvalue\n")
        for k, v in (("n_layers", len(layers)), ("n_heads", heads), ("d_model", d),
                     ("family", family), ("id_type", id_type)):
            f.write(f"{k}\t{v}\n")
    with open(os.path.join(out, "genes.txt"), "w") as f:
        f.write("".join(g + "\n" for g in genes))
    for i, layer in enumerate(layers):
        for name, a in zip(("wq", "wk", "bq", "bk"), qk(layer, d)):
            np.save(os.path.join(out, f"layer{i}.{name}.npy"), a)
    save_safetensors(os.path.join(out, "model.safetensors"), model.state_dict())
    for cat, values in cells_by_category.items():
        inputs = attention_inputs(model, layers, values)
        for i, (layer, x) in enumerate(zip(layers, inputs)):
            mean = x.astype(np.float64).mean(axis=0).astype(np.float32)   # genes x d
            os.makedirs(os.path.join(out, "resid", cat), exist_ok=True)
            np.save(os.path.join(out, "resid", cat, f"layer{i}.npy"), mean)
            # the model's own attention on that input, per head
            with torch.no_grad():
                t = torch.from_numpy(mean).unsqueeze(0)
                _, w = layer.self_attn(t, t, t, need_weights=True, average_attn_weights=False)
            os.makedirs(os.path.join(out, "check", cat), exist_ok=True)
            np.save(os.path.join(out, "check", cat, f"layer{i}.attn.npy"),
                    w[0].numpy().astype(np.float32))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out")
    p.add_argument("--genes", type=int, default=60)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--d-model", type=int, default=32)
    p.add_argument("--categories", type=int, default=2)
    p.add_argument("--cells", type=int, default=40)
    p.add_argument("--norm-first", action="store_true", help="pre-LN layers")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    if a.d_model % a.heads:
        sys.exit("export_torch.py: --heads must divide --d-model")
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    model = TinyCellModel(a.genes, a.d_model, a.heads, a.layers, a.norm_first)
    # PyTorch starts in_proj_bias at zero: random biases, so that their
    # export is tested too
    with torch.no_grad():
        for layer in model.encoder.layers:
            layer.self_attn.in_proj_bias.normal_(0, 0.2)
    model.eval()
    genes = [f"G{i:04d}" for i in range(a.genes)]
    cells = simulate_cells(a.genes, a.categories, a.cells, rng)
    export(model, list(model.encoder.layers), a.heads, genes, cells, a.out)
    print(f"export_torch.py: {a.out}: {a.layers} layers, {a.heads} heads, d {a.d_model}, "
          f"{a.genes} genes, categories {', '.join(cells)}", file=sys.stderr)


if __name__ == "__main__":
    main()
