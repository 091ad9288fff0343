"""Independent numpy references for attn-topk with several layers
(tests/attn-consensus.bats). Two modes:

given OUT.tsv HOW K [abs] [self] [at=PAIRS.tsv] L0.npy L1.npy ...
    The layers are given matrices (n x n float32, or H x n x n averaged in
    float64): the consensus is recomputed exactly as DESIGN.md and
    attn-topk(1) define it (float32, layer order), as a full n x n matrix;
    its top-K under the tie rule (ranking value desc, then from, then to),
    values, ranks (1 + number strictly greater) and quantiles must match
    the output exactly, or, with at=, the value and rank of every pair.

computed OUT.tsv HOW K H [raw] [abs] [at=PAIRS.tsv] PREFIX0 PREFIX1 ...
    Layer l from PREFIX_X.npy, PREFIX_WQ.npy, PREFIX_WK.npy (+ PREFIX_bq.npy,
    PREFIX_bk.npy when present): float64 attention per layer, combined in
    float64. Values within 1e-5 relative (raw: + 1e-6 of the largest);
    ranks and the top-K set up to near-ties (float32 rounding).

With no arguments, one case per line of stdin (blank-separated words), so a
test starts Python once. Exit status 1 if any case fails."""
import os, sys, numpy as np, pandas as pd


def check(argv):
    mode, out, how, K = argv[0], argv[1], argv[2], int(argv[3])
    rest = argv[4:]
    H = None
    if mode == "computed":
        H, rest = int(rest[0]), rest[1:]
    flags = [a for a in rest if a in ("abs", "self", "raw")]
    kv = dict(a.split("=", 1) for a in rest if "=" in a)
    inputs = [a for a in rest if a not in flags and "=" not in a]

    def combine(stack, exact):
        if how in ("sum", "mean"):
            if exact:
                c = stack[0].copy()
                for a in stack[1:]:
                    c = c + a
                return c / np.float32(len(stack)) if how == "mean" else c
            return stack.sum(0) if how == "sum" else stack.mean(0)
        if how == "max":
            return np.max(stack, axis=0)
        # absmax: the value of largest |value|, sign kept; the first layer on ties
        idx = np.argmax(np.abs(stack), axis=0)
        return np.take_along_axis(stack, idx[None], 0)[0]


    def given_layer(f):
        a = np.load(f)
        if a.ndim == 3:
            a = a.astype(np.float64).mean(axis=0)
        return a.astype(np.float32)


    def computed_layer(p):
        X = np.load(f"{p}_X.npy").astype(np.float64)
        WQ = np.load(f"{p}_WQ.npy").astype(np.float64)
        WK = np.load(f"{p}_WK.npy").astype(np.float64)
        n, d = X.shape
        dk = d // H
        bq = np.load(f"{p}_bq.npy").astype(np.float64) if os.path.exists(f"{p}_bq.npy") else 0
        bk = np.load(f"{p}_bk.npy").astype(np.float64) if os.path.exists(f"{p}_bk.npy") else 0
        Q, Kx = X @ WQ.T + bq, X @ WK.T + bk
        A = 0
        for h in range(H):
            S = Q[:, h * dk:(h + 1) * dk] @ Kx[:, h * dk:(h + 1) * dk].T / np.sqrt(dk)
            if "raw" not in flags:
                S = np.exp(S - S.max(axis=1, keepdims=True))
                S /= S.sum(axis=1, keepdims=True)
            A = A + S
        return A / H


    exact = mode == "given"
    stack = np.stack([given_layer(p) if exact else computed_layer(p) for p in inputs])
    C = combine(stack, exact)
    n = C.shape[0]
    mask = np.ones((n, n), bool)
    if "self" not in flags:
        np.fill_diagonal(mask, False)
    N = int(mask.sum())
    R = (np.abs(C) if "abs" in flags else C).astype(np.float64)
    allv = np.sort(R[mask])
    o = pd.read_csv(out, sep="\t", float_precision="round_trip")
    f, g = o["from"].to_numpy(), o["to"].to_numpy()
    v, rk = o["value"].to_numpy(), o["rank"].to_numpy()
    bad = []
    if not np.array_equal(o["quantile"].to_numpy(), rk / N):
        bad.append("quantile != rank / N")
    if exact:
        def rank_of(x):
            return N - np.searchsorted(allv, x, side="right") + 1
        if "at" in kv:
            p = pd.read_csv(kv["at"], sep="\t")
            if not (np.array_equal(f, p["from"].to_numpy()) and np.array_equal(g, p["to"].to_numpy())):
                bad.append("--at pairs not echoed in order")
        else:
            fr, to = np.nonzero(mask)
            order = np.lexsort((to, fr, -R[fr, to]))[:min(K, N)]
            if not (np.array_equal(f, fr[order]) and np.array_equal(g, to[order])):
                bad.append("top-K pairs or their order differ from the dense reference")
        if not bad:
            if not np.array_equal(v.astype(np.float32), C[f, g]):
                bad.append("values not bit-equal to the float32 consensus")
            if not np.array_equal(rk, rank_of(R[f, g])):
                i = np.argmax(rk != rank_of(R[f, g]))
                bad.append(f"rank {rk[i]} of ({f[i]},{g[i]}), reference {rank_of(R[f, g])[i]}")
        ties = len(v) - len(np.unique(v))
        print(f"{out} {how} {' '.join(flags)}: exact: n {n}, {len(o)} rows, {ties} tied values among them; bad: {bad}")
    else:
        scale = np.abs(stack).max() * len(stack)
        tol = 3e-6 * scale
        err = np.abs(v - C[f, g]) - (1e-5 * np.abs(C[f, g]) + (1e-6 * scale if "raw" in flags else 0))
        if (err > 0).any():
            bad.append(f"value error {err.max()}")
        lo = N - np.searchsorted(allv, R[f, g] + tol, side="right") + 1
        hi = N - np.searchsorted(allv, R[f, g] - tol, side="right") + 1
        if not ((rk >= lo) & (rk <= hi)).all():
            bad.append("a rank outside its near-tie bounds")
        if "at" not in kv:
            k = min(K, N)
            if len(o) != k:
                bad.append(f"{len(o)} rows, expected {k}")
            kth = allv[N - k]
            ours = set(zip(f.tolist(), g.tolist()))
            fr, gr = np.nonzero(mask & (R > kth + tol))
            if set(zip(fr.tolist(), gr.tolist())) - ours:
                bad.append("clear top-K pairs missing")
            if any(R[q] < kth - tol for q in ours):
                bad.append("pairs clearly below the cut")
        print(f"{out} {how} {' '.join(flags)}: float64: n {n}, {len(o)} rows, max |value error| {np.abs(v - C[f, g]).max():.3g}; bad: {bad}")
    return not bad


ok = check(sys.argv[1:]) if len(sys.argv) > 1 else all([check(l.split()) for l in sys.stdin if l.strip()])
sys.exit(0 if ok else 1)
