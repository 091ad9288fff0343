#!/usr/bin/env bats
# edge-null: observed AUROC against scikit-learn, curveball draws keep every
# degree exactly and really mix (checked independently from the draws'
# edges), the shuffle null permutes within sources, p/z from the draws;
# TRRUST as a real reference; bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(8)
G = [f"g{i}" for i in range(150)]
open("univ.txt", "w").write("\n".join(G) + "\n")
# heavy-tailed out-degrees over 30 sources, plus a duplicate, a self edge and
# an edge to a gene outside the universe (all dropped)
edges = set()
for s in range(30):
    k = int(min(60, rng.pareto(1.2) * 4 + 1))
    for t in rng.choice(150, k, replace=False):
        if t != s: edges.add((s, int(t)))
with open("ref.tsv", "w") as f:
    f.write("tf\ttarget\tmode\n")
    for s, t in sorted(edges): f.write(f"g{s}\tg{t}\tact\n")
    f.write("g0\tg0\tact\ng1\tnotagene\tact\n")
    s, t = sorted(edges)[0]; f.write(f"g{s}\tg{t}\trep\n")
with open("pairs.tsv", "w") as f:
    f.write("from\tto\tscore\tsrcscore\n")
    for s in range(40):
        for t in rng.choice(150, 40, replace=False):
            if t == s: continue
            y = (s, int(t)) in edges
            f.write(f"g{s}\tg{t}\t{rng.standard_normal() + 0.8 * y:.6f}\t{s % 7}\n")
    f.write("g3\tg4\tNA\t1\n")
PY
}

@test "edge-null: observed AUROC equals scikit-learn; curveball keeps degrees exactly, mixes, and p/z follow from the draws" {
	need_py sklearn
	gen
	ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method curveball --draws 30 --seed 3 --null-out null.tsv --edges-out edges.tsv pairs.tsv > o.tsv 2> err.txt
	run cat err.txt
	assert_line --partial "dropped 1 with a gene outside the universe, 1 self edges, 1 duplicates"
	assert_line --partial "pairs.tsv: 1 rows with NA score skipped"
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
from sklearn.metrics import roc_auc_score
ref = pd.read_csv("ref.tsv", sep="\t")
univ = set(open("univ.txt").read().split())
ref = ref[ref.tf.isin(univ) & ref.target.isin(univ) & (ref.tf != ref.target)][["tf", "target"]].drop_duplicates()
E0 = set(map(tuple, ref.to_numpy()))
p = pd.read_csv("pairs.tsv", sep="\t", float_precision="round_trip").dropna()
y = np.array([(a, b) in E0 for a, b in zip(p["from"], p["to"])])
o = pd.read_csv("o.tsv", sep="\t", float_precision="round_trip")
assert abs(o.auroc_obs[0] - roc_auc_score(y, p.score)) < 1e-12
out0, in0 = ref.tf.value_counts().sort_index(), ref.target.value_counts().sort_index()
e = pd.read_csv("edges.tsv", sep="\t")
nl = pd.read_csv("null.tsv", sep="\t", float_precision="round_trip")
assert len(nl) == 30 and list(nl.draw) == list(range(30))
prev = None
for d, g in e.groupby("draw"):
    assert (g["from"] != g["to"]).all(), "self edge"
    assert not g.duplicated(["from", "to"]).any(), "duplicate edge"
    assert g["from"].value_counts().sort_index().equals(out0), f"out-degrees changed in draw {d}"
    assert g["to"].value_counts().sort_index().equals(in0), f"in-degrees changed in draw {d}"
    Ed = set(zip(g["from"], g["to"]))
    changed = 1 - len(Ed & E0) / len(E0)
    assert abs(changed - nl.changed_fraction[d]) < 1e-12, (d, changed)
    assert changed > 0.5, f"draw {d} moved only {changed:.2f} of the edges"
    assert Ed != prev, "two draws identical"
    prev = Ed
    yd = np.array([(a, b) in Ed for a, b in zip(p["from"], p["to"])])
    assert abs(nl.auroc[d] - roc_auc_score(yd, p.score)) < 1e-12, d
null = nl.auroc.to_numpy()
assert abs(o.null_mean[0] - null.mean()) < 1e-12 and abs(o.null_sd[0] - null.std(ddof=1)) < 1e-12
assert abs(o.z[0] - (o.auroc_obs[0] - null.mean()) / null.std(ddof=1)) < 1e-9
assert o.p[0] == (1 + (null >= o.auroc_obs[0]).sum()) / 31
print("ok", nl.changed_fraction.min())
PY
	assert_success
	assert_output --partial "ok"
}

@test "edge-null: shuffle permutes within sources (a source-level score is invariant), seeds reproduce" {
	need_py numpy
	gen
	ak edge-null --score srcscore --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method shuffle --draws 50 --seed 2 --null-out n1.tsv pairs.tsv > a.tsv 2>/dev/null
	run "$PY" -c "
import pandas as pd
o = pd.read_csv('a.tsv', sep='\t'); n = pd.read_csv('n1.tsv', sep='\t')
assert (n.auroc == o.auroc_obs[0]).all(), 'within-source shuffle changed a source-level AUROC'
assert o.p[0] == 1.0 and (n.changed_fraction > 0).any()
print('ok')"
	assert_output ok
	ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method shuffle --draws 50 --seed 2 pairs.tsv > b1.tsv 2>/dev/null
	ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method shuffle --draws 50 --seed 2 < pairs.tsv > b2.tsv 2>/dev/null
	ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method shuffle --draws 50 --seed 9 pairs.tsv > b3.tsv 2>/dev/null
	cmp b1.tsv b2.tsv
	! cmp -s b1.tsv b3.tsv
	ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method curveball --draws 5 --seed 2 pairs.tsv > c1.tsv 2>/dev/null
	gzip -c pairs.tsv > pairs.tsv.gz
	ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt \
		--method curveball --draws 5 --seed 2 -o c2.tsv.gz pairs.tsv.gz 2>/dev/null
	zcat c2.tsv.gz | cmp - c1.tsv
}

@test "edge-null: TRRUST (headerless, by position) as the reference: degrees kept, most edges moved" {
	need_data trrust_v2_human.tsv.gz
	need_py numpy
	"$PY" - "$DATA/trrust_v2_human.tsv.gz" <<'PY'
import sys, gzip, numpy as np
ref = [tuple(l.split("\t")[:2]) for l in gzip.open(sys.argv[1], "rt")]
genes = sorted({g for e in ref for g in e})
open("tu.txt", "w").write("\n".join(genes) + "\n")
rs, rng = set(ref), np.random.default_rng(1)
with open("tp.tsv", "w") as f:
    f.write("from\tto\tscore\n")
    for tf in sorted({a for a, b in ref})[:300]:
        for b in sorted(set(b for a, b in ref if a == tf) | set(rng.choice(genes, 20))):
            if b != tf:
                f.write(f"{tf}\t{b}\t{rng.standard_normal() + 0.5 * ((tf, b) in rs):.4f}\n")
PY
	ak edge-null --score score --ref "$DATA/trrust_v2_human.tsv.gz" --ref-cols 1,2 --universe tu.txt \
		--method curveball --draws 3 --seed 1 --null-out n.tsv --edges-out e.tsv tp.tsv > o.tsv 2>/dev/null
	run "$PY" - "$DATA/trrust_v2_human.tsv.gz" <<'PY'
import sys, gzip, pandas as pd
ref = pd.read_csv(sys.argv[1], sep="\t", header=None, usecols=[0, 1], names=["a", "b"])
ref = ref[ref.a != ref.b].drop_duplicates()
e, n = pd.read_csv("e.tsv", sep="\t"), pd.read_csv("n.tsv", sep="\t")
for d, g in e.groupby("draw"):
    assert len(g) == len(ref) and not g.duplicated(["from", "to"]).any() and (g["from"] != g["to"]).all()
    assert (g["from"].value_counts().sort_index() == ref.a.value_counts().sort_index()).all()
    assert (g["to"].value_counts().sort_index() == ref.b.value_counts().sort_index()).all()
assert (n.changed_fraction > 0.8).all(), n
print("ok", len(ref), "edges, changed", list(n.changed_fraction.round(3)))
PY
	assert_success
	assert_output --partial "ok"
}

@test "bad: empty, header only, gene outside the universe, no positives, missing column, non-numeric" {
	gen
	: > e.tsv
	run ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt --method shuffle --draws 2 -o out.tsv e.tsv
	assert_data_error "e.tsv: empty input"
	[ ! -e out.tsv ]
	printf 'from\tto\tscore\n' > h.tsv
	run ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt --method shuffle --draws 2 h.tsv
	assert_data_error "h.tsv: header only, no data rows"
	printf 'from\tto\tscore\ng1\tXYZ\t0.5\n' > u.tsv
	run ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt --method shuffle --draws 2 u.tsv
	assert_data_error "u.tsv:2: column 'to': gene 'XYZ' is not in the universe univ.txt"
	printf 'from\tto\tscore\ng149\tg148\t0.5\ng148\tg147\t1\n' > n.tsv
	run ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt --method shuffle --draws 2 n.tsv
	assert_data_error "n.tsv: 0 of 2 scored pairs are reference edges"
	# no --ref-cols: from,to when line 1 names them, else 1,2 (here tf, target: the same edges)
	a=$(ak edge-null --score score --ref ref.tsv --universe univ.txt --method shuffle --draws 2 pairs.tsv 2>/dev/null)
	b=$(ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt --method shuffle --draws 2 pairs.tsv 2>/dev/null)
	[ "$a" = "$b" ]
	run ak edge-null --score score --ref ref.tsv --ref-cols from,to --universe univ.txt --method shuffle --draws 2 pairs.tsv
	assert_data_error "ref.tsv: no column 'from' (columns: tf, target, mode)"
	printf 'from\tto\tscore\ng1\tg2\tx\n' > x.tsv
	run ak edge-null --score score --ref ref.tsv --ref-cols tf,target --universe univ.txt --method shuffle --draws 2 x.tsv
	assert_data_error "x.tsv:2: column 'score': \"x\" is not a number"
}

@test "usage errors exit 2; --help exits 0" {
	run ak edge-null --help
	assert_success
	assert_output --partial "usage: edge-null"
	run ak edge-null --score s --ref r --universe u --draws 3
	assert_failure 2
	run ak edge-null --score s --ref r --universe u --method swap --draws 3
	assert_failure 2
	assert_output --partial "--method: unknown method 'swap' (curveball, shuffle)"
	run ak edge-null --score s --ref r --universe u --method shuffle --draws 3 --edges-out e.tsv
	assert_failure 2
}
