#!/usr/bin/env python3
"""Convert a napistu-torch FoundationModelStore into attnkit's model directory.

    export_napistu.py STORE OUT [--family NAME] [--id-type ensembl|symbol]
                      [--n-heads H] [--float32]

STORE holds what napistu-torch's ETL saves for one model:
  weights.npz     the attention weights per layer (W_q, W_k, optionally b_q,
                  b_k), possibly as one pickled dict (hence allow_pickle:
                  only run this on stores you made or trust)
  residuals/*.npz one file per cell category, members layer_0, layer_1, ...
                  (genes x d residual streams)
  metadata.json   the vocabulary (gene ids in row order), Ensembl ids,
                  and model settings such as the number of heads

OUT becomes the layout of attnkit(7): meta.tsv, genes.txt, layerL.wq.npy,
layerL.wk.npy (+ .bq/.bk), resid/CATEGORY/layerL.npy.

Layers are ordered by their NUMBER: napistu keys them by string, so a plain
sort puts layer_10 before layer_2; that would silently mislabel every layer
from 10 on. Key names are found by pattern (W_q / Wq / q_proj / query, any
nesting), since stores differ between napistu-torch versions; the script
says what it found and stops if a layer lacks W_q or W_k.
"""
import argparse
import json
import os
import re
import sys

import numpy as np

KINDS = {
    "wq": re.compile(r"(^|[^a-z])(w_?q|q_?proj|query)(_?weight)?($|[^a-z])", re.I),
    "wk": re.compile(r"(^|[^a-z])(w_?k|k_?proj|key)(_?weight)?($|[^a-z])", re.I),
    "bq": re.compile(r"(^|[^a-z])(b_?q|q_?proj_?bias|query_?bias)($|[^a-z])", re.I),
    "bk": re.compile(r"(^|[^a-z])(b_?k|k_?proj_?bias|key_?bias)($|[^a-z])", re.I),
}
LAYER = re.compile(r"layers?[_.\-/ ]?(\d+)", re.I)


def die(msg):
    sys.exit(f"export_napistu: {msg}")


def walk(obj, path=""):
    """Yield (path, array) for every array inside nested dicts/lists/npz objects."""
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        yield from walk(obj.item(), path)
    elif isinstance(obj, np.ndarray):
        yield path, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from walk(v, f"{path}/layer_{i}" if not LAYER.search(path) else f"{path}/{i}")
    elif hasattr(obj, "detach"):  # a torch tensor in a pickled dict
        yield path, obj.detach().cpu().numpy()


def kind_of(path):
    leaf = path.rsplit("/", 1)[-1]
    # biases first: "q_proj_bias" must not count as the weight
    for kind in ("bq", "bk", "wq", "wk"):
        if KINDS[kind].search(leaf) or (kind[0] == "w" and KINDS[kind].search(path) and leaf in ("weight", "w")):
            return kind
    return None


def read_weights(path):
    with np.load(path, allow_pickle=True) as z:
        found = {}
        for name in z.files:
            for p, a in walk(z[name], name):
                m = LAYER.search(p)
                k = kind_of(p)
                if m is None or k is None:
                    continue
                key = (int(m.group(1)), k)
                if key in found:
                    die(f"{path}: layer {key[0]} has two {k} arrays ({found[key][0]} and {p})")
                found[key] = (p, np.asarray(a, dtype=np.float32))
    if not found:
        die(f"{path}: no per-layer W_q/W_k arrays found")
    layers = sorted({l for l, _ in found})
    for l in layers:
        for k in ("wq", "wk"):
            if (l, k) not in found:
                die(f"{path}: layer {l} has no {k}")
    return layers, {key: a for key, (_, a) in found.items()}


def pick(meta, names):
    for n in names:
        if n in meta and meta[n] is not None:
            return meta[n]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("store")
    ap.add_argument("out")
    ap.add_argument("--family", default=None, help="model family [the model name]")
    ap.add_argument("--id-type", choices=["ensembl", "symbol"], default=None,
                    help="which ids genes.txt holds [ensembl when the store has them]")
    ap.add_argument("--n-heads", type=int, default=None, help="heads [from metadata.json]")
    a = ap.parse_args()

    meta_path = os.path.join(a.store, "metadata.json")
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    vocab = pick(meta, ["ordered_vocabulary", "vocabulary", "gene_ids", "genes", "ordered_gene_ids"])
    ensembl = pick(meta, ["ensembl_ids", "ensembl_gene", "ensembl_gene_ids", "ordered_ensembl_ids"])
    heads = a.n_heads or pick(meta, ["n_heads", "num_heads", "nhead", "n_head", "num_attention_heads"])
    name = pick(meta, ["model_name", "name"]) or os.path.basename(os.path.normpath(a.store))
    if heads is None:
        die("number of heads not in metadata.json: give --n-heads")
    id_type = a.id_type or ("ensembl" if ensembl is not None else "symbol")
    genes = ensembl if id_type == "ensembl" else vocab
    if genes is None:
        die(f"{meta_path}: no {'Ensembl ids' if id_type == 'ensembl' else 'vocabulary'} found")
    genes = [str(g) for g in genes]
    if len(set(genes)) != len(genes):
        die("gene ids are not unique")

    layers, w = read_weights(os.path.join(a.store, "weights.npz"))
    d = w[(layers[0], "wq")].shape[0]
    if d % int(heads):
        die(f"d = {d} is not divisible by {heads} heads")
    os.makedirs(a.out, exist_ok=True)
    # Layers renumbered 0..L-1 in numeric order of napistu's keys.
    for new, old in enumerate(layers):
        for k in ("wq", "wk", "bq", "bk"):
            if (old, k) in w:
                np.save(os.path.join(a.out, f"layer{new}.{k}.npy"), w[(old, k)])
    rdir = os.path.join(a.store, "residuals")
    cats = sorted(f[:-4] for f in os.listdir(rdir) if f.endswith(".npz")) if os.path.isdir(rdir) else []
    if not cats:
        die(f"{rdir}: no residual .npz files")
    for c in cats:
        with np.load(os.path.join(rdir, c + ".npz"), allow_pickle=False) as z:
            by_layer = {}
            for m in z.files:
                mm = LAYER.search(m)
                if mm:
                    by_layer[int(mm.group(1))] = m
            if sorted(by_layer) != layers:
                die(f"{rdir}/{c}.npz: layers {sorted(by_layer)} differ from the weights' {layers}")
            os.makedirs(os.path.join(a.out, "resid", c), exist_ok=True)
            for new, old in enumerate(layers):
                x = np.asarray(z[by_layer[old]], dtype=np.float32)
                if x.shape != (len(genes), d):
                    die(f"{rdir}/{c}.npz:{by_layer[old]}: shape {x.shape}, expected ({len(genes)}, {d})")
                np.save(os.path.join(a.out, "resid", c, f"layer{new}.npy"), x)
    with open(os.path.join(a.out, "genes.txt"), "w") as f:
        f.write("".join(g + "\n" for g in genes))
    with open(os.path.join(a.out, "meta.tsv"), "w") as f:
        f.write(f"key\tvalue\nn_layers\t{len(layers)}\nn_heads\t{int(heads)}\nd_model\t{d}\n"
                f"family\t{a.family or name}\nid_type\t{id_type}\nmodel\t{name}\n")
    print(f"export_napistu: {name}: {len(layers)} layers (napistu keys {layers[0]}..{layers[-1]} "
          f"in numeric order), {heads} heads, d = {d}, {len(genes)} genes ({id_type}), "
          f"{len(cats)} categories -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
