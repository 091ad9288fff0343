#!/usr/bin/env bats
# ps-sim: a simulated screen with a known GRN; the perturbation pipeline
# recovers what was planted.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "ps-sim: outputs, shapes, same seed same bytes, another seed differs" {
	ak ps-sim --out a --genes 60 --tfs 3 --targets 6 --cells 40 --control 100
	ak ps-sim --out b --genes 60 --tfs 3 --targets 6 --cells 40 --control 100
	ak ps-sim --out c --genes 60 --tfs 3 --targets 6 --cells 40 --control 100 --seed 2
	for f in counts.mtx genes.txt cells.tsv grn.tsv edges_real.tsv edges_confounded.tsv; do
		cmp a/$f b/$f
	done
	! cmp -s a/counts.mtx c/counts.mtx
	[ "$(wc -l < a/genes.txt)" -eq 60 ]
	[ "$(sed -n 2p a/counts.mtx)" = "60 220 $(($(wc -l < a/counts.mtx) - 2))" ]
	[ "$(tail -n +2 a/grn.tsv | wc -l)" -eq 18 ]
	[ "$(tail -n +2 a/edges_real.tsv | wc -l)" -eq $((60 * 59)) ]
	run bash -c "tail -n +2 a/cells.tsv | cut -f2 | LC_ALL=C sort | uniq -c | awk '{print \$1, \$2}'"
	assert_output $'40 TF01\n40 TF02\n40 TF03\n100 non-targeting'
	# readable by the expression filters
	ak gene-stats --counts a/counts.mtx --genes a/genes.txt > /dev/null
}

@test "ps-sim: knockdowns move the planted targets in the weight's direction (numpy on the counts)" {
	need_py numpy
	ak ps-sim --out s --genes 80 --tfs 4 --targets 8 --cells 150 --control 300 --dropout 0.05
	run "$PY" - <<'PY'
import numpy as np
g = [l.strip() for l in open("s/genes.txt")]
cells = [l.rstrip("\n").split("\t") for l in open("s/cells.tsv")][1:]
lines = open("s/counts.mtx").read().split("\n")[2:]
X = np.zeros((len(g), len(cells)))
for l in lines:
    if l:
        i, j, v = l.split(); X[int(i) - 1, int(j) - 1] = float(v)
Y = np.log1p(X / X.sum(0) * 1e4)
t = np.array([c[1] for c in cells])
ok = tot = 0
for l in open("s/grn.tsv").read().split("\n")[1:]:
    if not l: continue
    a, b, w = l.split("\t")
    d = Y[g.index(b), t == a].mean() - Y[g.index(b), t == "non-targeting"].mean()
    tot += 1; ok += (np.sign(d) == -np.sign(float(w)))
# and the knocked-down TF itself falls
for k in range(4):
    name = g[k]
    assert Y[k, t == name].mean() < Y[k, t == "non-targeting"].mean() - 0.5, name
assert ok / tot > 0.9, (ok, tot)
print("ok", ok, tot)
PY
	assert_success
	assert_output --partial ok
}

@test "ps-sim + perturbation.mk: real edges add incremental value, confounded ones do not; reference recovered" {
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	ak ps-sim --out s --seed 3
	run make -f "$TOP/pipelines/perturbation.mk" AK_BIN="$BIN" COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv \
		REF=s/grn.tsv REF_COLS=from,to "EDGES=real=s/edges_real.tsv confounded=s/edges_confounded.tsv" \
		HVG=1000 DRAWS=60 OUT=out -j2
	assert_success
	# columns by name: the registry grew columns once already and a test
	# that indexed by position read an empty field
	sig() { awk -F'\t' -v h="$1" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["hypothesis"] == h { print $c["significant"] }' out/registry.tsv; }
	[ "$(sig 'gene+coexpr+real predicts DE better than gene+coexpr')" = 1 ]
	[ "$(sig 'gene+real predicts DE better than gene')" = 1 ]
	[ "$(sig 'gene+coexpr+confounded predicts DE better than gene+coexpr')" = 0 ]
	[ "$(sig 'real recovers the reference net of expression covariates')" = 1 ]
	[ "$(sig 'confounded recovers the reference beyond a degree-preserving null')" = 0 ]
	# per-perturbation AUROC: real beats every gene-level baseline on average
	awk -F'\t' '$1 == "real" { r = $3 } $1 ~ /^(mean|variance|detection)$/ && $3 > m { m = $3 } END { exit !(r > m) }' out/method_summary.tsv
}

@test "ps-sim: usage errors exit 2" {
	run ak ps-sim
	assert_failure 2
	run ak ps-sim --out x --tfs 300
	assert_failure 2
	run ak ps-sim --out x --dropout 1
	assert_failure 2
	run ak ps-sim --help
	assert_success
	assert_output --partial "usage: ps-sim"
}
