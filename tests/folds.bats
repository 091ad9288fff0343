#!/usr/bin/env bats
# common/folds.c: logit-cv --group and residualize --group assign the folds
# scikit-learn's GroupKFold assigns, row for row, on groups with many equal
# sizes (where the tie order of NumPy's unstable argsort decides).

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# NG groups, sizes drawn from a few values (many ties), names in random order
# and of varying length (np.unique's byte order differs from first appearance)
gen() {
	"$PY" - "$@" <<'PY'
import sys
import numpy as np
ng, nsz, seed = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
sizes = rng.integers(1, nsz + 1, ng)
names = [f"g{rng.integers(0, 10**rng.integers(1, 6))}_{i}" for i in range(ng)]
g = np.repeat(np.arange(ng), sizes)
rng.shuffle(g)
n = len(g)
x = rng.standard_normal(n)
y = (rng.random(n) < 1 / (1 + np.exp(-x))).astype(int)
y[:2] = [0, 1]
with open("d.tsv", "w") as f:
    f.write("grp\ty\tx\n")
    for i in range(n):
        f.write(f"{names[g[i]]}\t{y[i]}\t{x[i]!r}\n")
PY
}

check() {
	run "$PY" - "$1" <<'PY'
import sys
import numpy as np, pandas as pd
from sklearn.model_selection import GroupKFold
K = int(sys.argv[1])
d = pd.read_csv("d.tsv", sep="\t", dtype={"grp": str})
sk = np.empty(len(d), int)
for k, (_, te) in enumerate(GroupKFold(K).split(d, groups=d.grp.to_numpy())):
    sk[te] = k
f = pd.read_csv("f.tsv", sep="\t", dtype={"group": str}).set_index("group").fold
lc = d.grp.map(f).to_numpy()
r = pd.read_csv("r.tsv", sep="\t", dtype={"grp": str}).fold.to_numpy()
assert np.array_equal(sk, lc), ("logit-cv", np.flatnonzero(sk != lc)[:10])
assert np.array_equal(sk, r), ("residualize", np.flatnonzero(sk != r)[:10])
# the ties matter: a stable order by (size desc, name) would differ
sizes = d.grp.value_counts()
print("ok", len(sizes), sizes.value_counts().max())
PY
}

@test "folds: GroupKFold equal to scikit-learn on 2000 groups of sizes 1..3 (ties decided by NumPy's introsort), K=5 and 3" {
	need_py sklearn
	for K in 5 3; do
		gen 2000 3 7
		ak logit-cv --label y --group grp --set a=x --folds $K --folds-out f.tsv d.tsv > /dev/null
		ak residualize --y x --x y --group grp --folds $K d.tsv > r.tsv 2>/dev/null
		check $K
		assert_success
		assert_output --partial ok
	done
}

@test "folds: GroupKFold equal to scikit-learn on small and mid-size group sets (insertion-sort and partition paths)" {
	need_py sklearn
	for spec in "7 2 1" "17 2 2" "18 1 3" "40 4 4" "300 6 5" "5000 40 6"; do
		set -- $spec
		gen "$@"
		ak logit-cv --label y --group grp --set a=x --folds 5 --folds-out f.tsv d.tsv > /dev/null
		ak residualize --y x --x y --group grp --folds 5 d.tsv > r.tsv 2>/dev/null
		check 5
		assert_success
		assert_output --partial ok
	done
}

@test "folds: the tie order is not first appearance nor name order (the test above can fail)" {
	need_py sklearn
	gen 300 2 9
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from sklearn.model_selection import GroupKFold
d = pd.read_csv("d.tsv", sep="\t", dtype={"grp": str})
sk = np.empty(len(d), int)
for k, (_, te) in enumerate(GroupKFold(5).split(d, groups=d.grp.to_numpy())):
    sk[te] = k
# the rule of a stable sort: size descending, then name
u, inv = np.unique(d.grp.to_numpy(), return_inverse=True)
size = np.bincount(inv)
order = sorted(range(len(u)), key=lambda g: (-size[g], g))
load, gf = np.zeros(5), np.empty(len(u), int)
for g in order:
    f = int(np.argmin(load)); gf[g] = f; load[f] += size[g]
print("differs" if not np.array_equal(gf[inv], sk) else "same")
PY
	assert_output differs
}
