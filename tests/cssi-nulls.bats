#!/usr/bin/env bats
# The CSSI nulls and stability tools of pipelines/lib: topk-jaccard (top-K
# edge-set Jaccard between replicates) against numpy, permute-net (the
# gene-permuted labels null) against the properties that define it.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	LIB=$TOP/pipelines/lib
}

@test "topk-jaccard: every two files' top-K sets (|value|, nan skipped, ties by input order) vs numpy" {
	need_py numpy
	"$PY" - <<'PY'
import numpy as np, gzip
r = np.random.default_rng(2)
genes = [f"g{i}" for i in range(12)]
for f in range(4):
    rows = [(a, b) for a in genes for b in genes if a != b]
    v = np.round(r.normal(size=len(rows)), 1)          # many ties
    v[r.choice(len(rows), 10, replace=False)] = np.nan
    order = r.permutation(len(rows))
    text = "value\tto\tfrom\n" + "".join(f"{'nan' if np.isnan(v[i]) else repr(float(v[i]))}\t{rows[i][1]}\t{rows[i][0]}\n" for i in order)
    (gzip.open if f == 3 else open)(f"p{f}.tsv" + (".gz" if f == 3 else ""), "wt").write(text)
PY
	run "$LIB/topk-jaccard" 25 --abs p0.tsv p1.tsv p2.tsv p3.tsv.gz
	assert_success
	echo "$output" > j.tsv
	run "$PY" - <<'PY'
import numpy as np, pandas as pd
def top(f, k):
    t = pd.read_csv(f, sep="\t", keep_default_na=False, na_values=["nan"])
    t = t[~t.value.isna()]
    o = np.argsort(-np.abs(t.value.values), kind="stable")[:k]
    return set(zip(t["from"].values[o], t["to"].values[o]))
fs = ["p0.tsv", "p1.tsv", "p2.tsv", "p3.tsv.gz"]
j = pd.read_csv("j.tsv", sep="\t")
assert len(j) == 6
for _, row in j.iterrows():
    A, B = top(row.a, 25), top(row.b, 25)
    assert (row.k, row.common, row.union) == (25, len(A & B), len(A | B)), row
    assert abs(row.jaccard - len(A & B) / len(A | B)) < 1e-15
# not trivially equal sets: the check can fail
assert j.jaccard.max() < 1
print("ok")
PY
	assert_output ok
	# the same file twice: 1; without --abs the signed top differs
	run "$LIB/topk-jaccard" 25 p0.tsv p0.tsv
	assert_line --partial $'\t25\t25\t25\t1'
	# signed: only the largest positive values (these data have as many negative)
	"$LIB/topk-jaccard" 25 p0.tsv p0.tsv > /dev/null
	run "$PY" -c "
import pandas as pd, numpy as np
t = pd.read_csv('p0.tsv', sep='\t', keep_default_na=False, na_values=['nan']).dropna()
top = t.iloc[np.argsort(-t.value.values, kind='stable')[:25]]
print(int((top.value < 0).sum()), int((t.iloc[np.argsort(-np.abs(t.value.values), kind='stable')[:25]].value < 0).sum()))"
	[ "${lines[0]%% *}" -eq 0 ] && [ "${lines[0]##* }" -gt 0 ]
	[ "$("$LIB/topk-jaccard" 25 p0.tsv p1.tsv | awk 'NR == 2 { print $4 }')" != "$("$LIB/topk-jaccard" 25 --abs p0.tsv p1.tsv | awk 'NR == 2 { print $4 }')" ]
	run "$LIB/topk-jaccard" 0 p0.tsv p1.tsv
	assert_failure 2
	run "$LIB/topk-jaccard" 5 p0.tsv
	assert_failure 2
	printf 'x\ty\n1\t2\n' > bad.tsv
	run "$LIB/topk-jaccard" 5 p0.tsv bad.tsv
	assert_failure
	assert_output --partial "no from, to and value columns"
}

@test "permute-net: a bijection of the genes (sources onto sources) applied to both ends; seeded; uniform over seeds" {
	need_py numpy scipy
	"$PY" - <<'PY'
import numpy as np
r = np.random.default_rng(4)
genes = [f"G{i}" for i in range(30)]; src = genes[:6]
edges = {(src[r.integers(6)], genes[r.integers(30)]) for _ in range(60)}
edges = [e for e in edges if e[0] != e[1]] + [("OUT", "G3"), ("G1", "OUT")]
open("genes.txt", "w").write("\n".join(genes) + "\n")
open("src.txt", "w").write("\n".join(src) + "\n")
open("net.tsv", "w").write("score\tfrom\tto\n" + "".join(f"{i}\t{a}\t{b}\n" for i, (a, b) in enumerate(edges)))
PY
	PERMNET_MAP=map7.tsv "$LIB/permute-net" 7 genes.txt src.txt < net.tsv > p7.tsv
	PERMNET_MAP=map7b.tsv "$LIB/permute-net" 7 genes.txt src.txt < net.tsv > p7b.tsv
	cmp p7.tsv p7b.tsv
	for s in $(seq 1 40); do PERMNET_MAP=m$s.tsv "$LIB/permute-net" $s genes.txt src.txt < net.tsv > /dev/null; done
	run "$PY" - <<'PY'
import numpy as np, pandas as pd, scipy.stats as ss, collections
genes = open("genes.txt").read().split(); src = set(open("src.txt").read().split())
net = pd.read_csv("net.tsv", sep="\t"); p = pd.read_csv("p7.tsv", sep="\t")
m = dict(l.split("\t") for l in open("map7.tsv").read().splitlines())
assert sorted(m) == sorted(genes) and sorted(m.values()) == sorted(genes)        # a bijection
assert all((a in src) == (b in src) for a, b in m.items())                       # sources onto sources
assert sum(a != b for a, b in m.items()) > 10                                    # it moves genes
inside = net[net["from"].isin(genes) & net["to"].isin(genes)]
want = [(s, m[a], m[b]) for s, a, b in inside[["score", "from", "to"]].values]
assert list(p.columns) == ["score", "from", "to"] and [tuple(x) for x in p.values] == want
# degrees kept as multisets
deg = lambda t, c: sorted(collections.Counter(t[c]).values())
assert deg(p, "from") == deg(inside, "from") and deg(p, "to") == deg(inside, "to")
# over 40 seeds, where G0 (a source) and G10 (not) go is uniform within their class
maps = [dict(l.split("\t") for l in open(f"m{s}.tsv").read().splitlines()) for s in range(1, 41)]
assert len({tuple(sorted(x.items())) for x in maps}) == 40
c0 = collections.Counter(x["G0"] for x in maps); c10 = collections.Counter(x["G10"] for x in maps)
assert set(c0) <= {f"G{i}" for i in range(6)} and set(c10) <= {f"G{i}" for i in range(6, 30)}
p0 = ss.chisquare([c0.get(f"G{i}", 0) for i in range(6)]).pvalue
print(p0, len(c10))
assert p0 > 1e-3 and len(c10) >= 12
print("ok")
PY
	assert_success
	assert_line ok
	# without sources: any gene anywhere
	PERMNET_MAP=all.tsv "$LIB/permute-net" 7 genes.txt < net.tsv > /dev/null
	awk -F'\t' '{ a = substr($1, 2) + 0; b = substr($2, 2) + 0; if ((a < 6) != (b < 6)) x = 1 } END { exit !x }' all.tsv
	run "$LIB/permute-net" x genes.txt < net.tsv
	assert_failure 2
	printf 'a\tb\nG1\tG2\n' | { run "$LIB/permute-net" 1 genes.txt; assert_failure; assert_output --partial "no from and to columns"; }
}
