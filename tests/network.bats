#!/usr/bin/env bats
# pipelines/network.mk end to end: the reference network fm-sim plants is
# recovered (enrichment in the middle layers of the converging models, not in
# gamma), every number agrees with an independent pandas/scipy recomputation,
# within-model's top-K is reused rather than recomputed, make is the cache,
# and real TRRUST / DoRothEA runs on the tinyfm export are sane.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	# V=1: recipes echoed, so the tests see which steps ran (status lines alone name only targets)
	PIPE="make -f $TOP/pipelines/network.mk AK_BIN=$BIN V=1"
	SIMNET="MODELS=sim/alpha sim/alpha2 sim/beta sim/gamma"
}

sim() {
	ak fm-sim --out sim --genes 200 --layers 4
}

# reference with a numeric column: 2 for planted shared pairs, 0.5 otherwise
score_ref() {
	awk -F'\t' 'BEGIN { OFS = "\t" } NR == FNR { s[$1 "\t" $2]; next }
		FNR == 1 { print $0, "score"; next } { print $0, (($1 "\t" $2) in s) ? 2 : 0.5 }' \
		sim/shared_pairs.tsv sim/reference.tsv > ref_score.tsv
}

# a random 5-d embedding of the symbols (TSV matrix with row names)
embedding() {
	awk 'BEGIN { srand(7); printf "gene\td1\td2\td3\td4\td5\n"
		for (i = 1; i <= 200; i++) { printf "SIM%04d", i; for (j = 0; j < 5; j++) printf "\t%.6f", rand() - 0.5; print "" } }' > emb.tsv
}

@test "network: planted reference enrichment recovered; every number matches pandas/scipy" {
	need_py scipy
	sim
	score_ref
	embedding
	# a cross-model coherence table for the scatter (middle layers high)
	{ printf 'query_model\tquery_layer\tcoherence\tn\n'
	  for m in alpha alpha2 beta gamma; do for l in 0 1 2 3; do
		c=0.02; [ $m != gamma ] && { [ $l = 1 ] || [ $l = 2 ]; } && c=0.9
		printf '%s\t%s\t%s\t2\n' $m $l $c; done; done; } > coherence.tsv
	run $PIPE "$SIMNET" OUT=out K=60 REF=ref_score.tsv REF_COLS=tf,target MAP=sim/id_map.tsv \
		CARRY=score EMB=emb.tsv COHERENCE=coherence.tsv -j2
	assert_success
	for f in network.tsv network.median.tsv fig_fraction.png fig_fraction.svg fig_coherence.png \
		fig_coherence.svg fig_cosine.png fig_cosine.svg report.html; do
		[ -s out/$f ] || fail "missing out/$f"
	done
	for m in alpha alpha2 beta gamma; do [ -s out/$m/labels.tsv.gz ] || fail "missing out/$m/labels.tsv.gz"; done
	# the figure is embedded (data: URI); its SVG is linked by name
	grep -q 'href="fig_coherence.svg"' out/report.html
	# 4 models x 4 layers x 2 categories, each with its K pairs
	run awk -F'\t' 'NR > 1 && $4 != 60 { print "n_pairs: " $0 } END { if (NR != 33) print "rows: " NR }' out/network.tsv
	assert_output ""
	# planted: middle layers (1, 2) of alpha, alpha2, beta >> null and >> gamma; Fisher p tiny there
	awk -F'\t' 'NR > 1' out/network.median.tsv
	run awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ tf = $(c["true_fraction"]); nul = $(c["null_fraction"]); p = $(c["fisher_p"]) }
		$1 != "gamma" && ($2 == 1 || $2 == 2) { if (mid == "" || tf < mid) mid = tf; if (p > pmax) pmax = p; if (nulmax < nul) nulmax = nul
			if ($(c["median_score"]) != 2) print "median_score " $0 }
		$1 == "gamma" { if (tf > g) g = tf; if (gp == "" || p < gp) gp = p }
		END { if (!(mid > 30 * nulmax)) print "mid " mid " vs null " nulmax
		      if (!(mid > 10 * g && mid > 0.3)) print "mid " mid " vs gamma " g
		      if (!(pmax < 1e-30)) print "p " pmax
		      if (!(gp > 0.01)) print "gamma p " gp }' out/network.median.tsv
	assert_output ""
	# fractions and p-values in [0, 1]
	run awk -F'\t' 'NR > 1 && !($7 >= 0 && $7 <= 1 && $8 > 0 && $8 < 1 && $10 >= 0 && $10 <= 1) { print }' out/network.tsv
	assert_output ""
	# independent recomputation from the top-K files, the reference, the map and the embedding
	run "$PY" - <<'PY'
import gzip, numpy as np, pandas as pd
from scipy.stats import fisher_exact
ref = pd.read_csv("ref_score.tsv", sep="\t", dtype=str)
edge = {}
for t, g, s in zip(ref.tf, ref.target, ref.score):
    edge.setdefault((t, g), float(s))
idm = pd.read_csv("sim/id_map.tsv", sep="\t", dtype=str)
emb = pd.read_csv("emb.tsv", sep="\t", index_col=0)
net = pd.read_csv("out/network.tsv", sep="\t", dtype={"layer": int})
bad = []
def close(a, b, what):
    if (np.isnan(a) and np.isnan(b)) or abs(a - b) <= 1e-9 * max(1.0, abs(b)) or (np.isinf(a) and a == b):
        return
    bad.append(f"{what}: pipeline {a} reference {b}")
for m in ["alpha", "alpha2", "beta", "gamma"]:
    genes = open(f"sim/{m}/genes.txt").read().split()
    meta = dict(l.split("\t") for l in open(f"sim/{m}/meta.tsv").read().splitlines())
    if meta["id_type"] == "ensembl":
        mp = {}
        for s, e in zip(idm.symbol, idm.ensembl_gene):
            mp.setdefault(e, []).append(s)
    else:
        mp = {g: [g] for g in genes}
    mapped = [g for g in genes if g in mp]
    n = len(mapped)
    def inref(a, b):
        hits = [edge[(x, y)] for x in mp.get(a, []) for y in mp.get(b, []) if (x, y) in edge]
        return hits[0] if hits else None   # carried score of the first matching row
    R = sum(1 for a in mapped for b in mapped if a != b and inref(a, b) is not None)
    def vec(g):
        for i in [g] + mp.get(g, []):
            if i in emb.index:
                return emb.loc[i].to_numpy(float)
    for cat in ["cat1", "cat2"]:
        for layer in range(4):
            with gzip.open(f"out/{m}/{cat}/topk/layer{layer}.tsv.gz", "rt") as f:
                top = pd.read_csv(f, sep="\t", dtype={"from": str, "to": str}).head(60)
            pairs = [(a, b) for a, b in zip(top["from"], top["to"]) if a != b]
            mp_pairs = [p for p in pairs if p[0] in mp and p[1] in mp]
            hits = [inref(*p) for p in mp_pairs]
            a = sum(h is not None for h in hits)
            nm = len(mp_pairs)
            c = R - a
            d = n * (n - 1) - nm - c
            odds, p = fisher_exact([[a, nm - a], [c, d]], alternative="greater")
            cos = []
            for x, y in pairs:
                u, v = vec(x), vec(y)
                if u is not None and v is not None:
                    cos.append(u @ v / np.linalg.norm(u) / np.linalg.norm(v))
            row = net[(net.model == m) & (net.category == cat) & (net.layer == layer)]
            assert len(row) == 1, (m, cat, layer)
            row = row.iloc[0]
            if row.n_in_ref != a or row.n_mapped != nm or row.n_pairs != len(pairs):
                bad.append(f"{m} {cat} {layer}: counts {row.n_pairs} {row.n_mapped} {row.n_in_ref} vs {len(pairs)} {nm} {a}")
            close(row.true_fraction, a / nm, f"{m} {cat} {layer} true_fraction")
            close(row.null_fraction, R / (n * (n - 1)), f"{m} null")
            close(row.odds_ratio, odds, f"{m} {cat} {layer} odds")
            close(row.fisher_p, p, f"{m} {cat} {layer} p")
            scores = [h for h in hits if h is not None]
            close(row.median_score, float(np.median(scores)) if scores else np.nan, f"{m} {cat} {layer} score")
            close(row.median_cosine, float(np.median(cos)), f"{m} {cat} {layer} cosine")
# medians over categories, range, coherence join
med = pd.read_csv("out/network.median.tsv", sep="\t")
g = net.groupby(["model", "layer"], sort=False)
exp = pd.DataFrame({"true_fraction": g.true_fraction.median(), "lo": g.true_fraction.min(),
                    "hi": g.true_fraction.max(), "p": g.fisher_p.median(), "cos": g.median_cosine.median()}).reset_index()
if list(zip(med.model, med.layer)) != list(zip(exp.model, exp.layer)):
    bad.append("model-layer order")
for (_, r), (_, e) in zip(med.iterrows(), exp.iterrows()):
    close(r.true_fraction, e.true_fraction, "median tf")
    close(r.true_fraction_min, e.lo, "min tf")
    close(r.true_fraction_max, e.hi, "max tf")
    close(r.fisher_p, e.p, "median p")
    close(r.median_cosine, e.cos, "median cosine")
    close(r.coherence, 0.9 if r.model != "gamma" and r.layer in (1, 2) else 0.02, "coherence")
print("\n".join(bad))
PY
	assert_success
	assert_output ""
}

@test "network: make is the cache (no-op rerun; changed settings re-run only what they affect)" {
	sim
	score_ref
	$PIPE "$SIMNET" OUT=out K=40 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv -j2 >/dev/null 2>&1
	run $PIPE "$SIMNET" OUT=out K=40 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv
	assert_success
	assert_output --partial "Nothing to be done"
	# another reference and a carried column: labels and summaries again, no attention
	run $PIPE "$SIMNET" OUT=out K=40 REF=ref_score.tsv REF_COLS=tf,target MAP=sim/id_map.tsv CARRY=score -j2
	assert_success
	! grep -q '^attn-topk' <<< "$output"
	[ "$(grep -c 'edge-join --summary' <<< "$output")" -eq 4 ]
	head -1 out/network.tsv | grep -q median_score
	# undirected matching finds every directed hit and more
	cp out/network.tsv directed.tsv
	run $PIPE "$SIMNET" OUT=out K=40 REF=ref_score.tsv REF_COLS=tf,target MAP=sim/id_map.tsv CARRY=score REF_UNDIRECTED=1 -j2
	assert_success
	! grep -q '^attn-topk' <<< "$output"
	run awk -F'\t' 'NR == FNR { d[FNR] = $6; n[FNR] = $8; next } FNR > 1 && !($6 >= d[FNR] && $8 > n[FNR]) { print }' directed.tsv out/network.tsv
	assert_output ""
	run $PIPE "$SIMNET" OUT=out K=40 REF=ref_score.tsv REF_COLS=tf,target MAP=sim/id_map.tsv CARRY=score -j2
	assert_success
	cmp directed.tsv out/network.tsv
	# touching one residual re-runs its layer's top-K and that model's tables only
	sleep 1
	touch sim/gamma/resid/cat2/layer1.npy
	run $PIPE "$SIMNET" OUT=out K=40 REF=ref_score.tsv REF_COLS=tf,target MAP=sim/id_map.tsv CARRY=score
	assert_success
	[ "$(grep -c '^attn-topk' <<< "$output")" -eq 1 ]
	[ "$(grep -c 'edge-join --summary' <<< "$output")" -eq 1 ]
	grep -q 'gamma/summary.tsv' <<< "$output"
	# a new K re-runs the attention (computed here, not from within-model)
	run $PIPE "$SIMNET" OUT=out K=50 REF=ref_score.tsv REF_COLS=tf,target MAP=sim/id_map.tsv CARRY=score -n
	[ "$(grep -c '^attn-topk' <<< "$output")" -eq 32 ]
	! ls out/*/ out | grep -q tmp
}

@test "network: reuses within-model's top-K (same results, no attention recomputed; stale input stops)" {
	sim
	# within-model's top-K files only (its other outputs are not needed here)
	targets=$(for m in alpha beta; do for c in cat1 cat2; do for l in 0 1 2 3; do echo w/$m/$c/topk/layer$l.tsv.gz; done; done; done)
	make -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/beta" OUT=w KS="30 200" $targets -j2 >/dev/null 2>&1
	run $PIPE MODELS="sim/alpha sim/beta" OUT=reuse WITHIN=w K=60 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv -j2
	assert_success
	! grep -q '^attn-topk' <<< "$output"
	[ ! -e reuse/alpha/cat1/topk ]
	run $PIPE MODELS="sim/alpha sim/beta" OUT=own K=60 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv -j2
	assert_success
	# the first 60 of within's top-200 are exactly attn-topk --top 60
	cmp reuse/network.tsv own/network.tsv
	cmp reuse/network.median.tsv own/network.median.tsv
	# more pairs than within-model kept: refused before anything runs
	run $PIPE MODELS="sim/alpha sim/beta" OUT=reuse WITHIN=w K=500 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv
	assert_failure
	assert_output --partial "holds the top 200 pairs"
	# a residual newer than within's top-K: stop, keep within's file, say what to do
	sleep 1
	touch sim/beta/resid/cat1/layer2.npy
	run $PIPE MODELS="sim/alpha sim/beta" OUT=reuse WITHIN=w K=60 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv
	assert_failure
	assert_output --partial "run pipelines/within-model.mk first"
	[ -s w/beta/cat1/topk/layer2.tsv.gz ]
	# after within-model catches up, only beta's tables are redone
	make -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/beta" OUT=w KS="30 200" $targets >/dev/null 2>&1
	run $PIPE MODELS="sim/alpha sim/beta" OUT=reuse WITHIN=w K=60 REF=sim/reference.tsv REF_COLS=tf,target MAP=sim/id_map.tsv
	assert_success
	grep -q 'beta/summary.tsv' <<< "$output"
	! grep -q 'alpha/summary.tsv' <<< "$output"
}

@test "network: bad settings and bad references fail clearly and leave nothing make would take as done" {
	sim
	run $PIPE MODELS="sim/alpha sim/beta" OUT=out K=40 REF=sim/reference.tsv REF_COLS=tf,target
	assert_failure
	assert_output --partial "model beta has id_type ensembl"
	run $PIPE MODELS="sim/alpha" OUT=out K=40 REF=nothere.tsv
	assert_failure
	assert_output --partial "REF=nothere.tsv: no such file"
	run $PIPE MODELS="sim/alpha" OUT=out K=0 REF=sim/reference.tsv
	assert_failure
	assert_output --partial "not a positive integer"
	run $PIPE MODELS="sim/alpha" OUT=out WITHIN=nowhere REF=sim/reference.tsv
	assert_failure
	assert_output --partial "run pipelines/within-model.mk first"
	mkdir -p w && echo 'kmax=100 flags=' > w/.settings
	run $PIPE MODELS="sim/alpha" OUT=w/ WITHIN=w K=10 REF=sim/reference.tsv
	assert_failure
	assert_output --partial "give network.mk its own OUT"
	# a reference without the named column: edge-join names it; no labels, no temporaries
	run $PIPE MODELS="sim/alpha" OUT=out K=40 REF=sim/reference.tsv REF_COLS=tf,gene
	assert_failure
	assert_output --partial "gene"
	[ -s out/alpha/cat1/topk/layer0.tsv.gz ]
	[ ! -e out/alpha/labels.tsv.gz ]
	! find out -name '*tmp*' | grep -q .
	# a carried column that is not a number
	printf 'tf\ttarget\tconf\n' > ref_conf.tsv
	awk -F'\t' 'NR > 1 { print $1 "\t" $2 "\tA" }' sim/reference.tsv >> ref_conf.tsv
	run $PIPE MODELS="sim/alpha" OUT=out K=40 REF=ref_conf.tsv REF_COLS=tf,target CARRY=conf
	assert_failure
	assert_output --partial '"A" is not a number'
	[ ! -e out/alpha/carry.tsv ] && [ ! -e out/network.tsv ]
	! find out -name '*tmp*' | grep -q .
}

@test "network: real tinyfm export against TRRUST (no header) and DoRothEA (header, carried mor)" {
	need_data tinyfm/meta.tsv trrust_v2_human.tsv.gz dorothea_hs_ABC.tsv.gz
	run $PIPE MODELS="$DATA/tinyfm" OUT=out K=1000 CATEGORIES="non-targeting IFNGR1" \
		REF="$DATA/trrust_v2_human.tsv.gz" REF_COLS=1,2 REF_NO_HEADER=1 -j2
	assert_success
	cat out/network.tsv
	check() {
		# 4 layers x 2 categories, K pairs each, fractions and p in [0, 1], one null
		run awk -F'\t' 'NR > 1 { n++; if ($4 != 1000 || $5 != 1000) print "n: " $0
			if (!($7 >= 0 && $7 <= 1 && $8 > 0 && $8 < 1 && $10 >= 0 && $10 <= 1)) print "range: " $0
			nul[$8] } END { if (n != 8) print "rows " n; if (length(nul) != 1) print "nulls" }' out/network.tsv
		assert_output ""
		run awk 'NR > 1' out/network.median.tsv
		[ "${#lines[@]}" -eq 4 ]
		[ -s out/fig_fraction.png ] && [ -s out/report.html ]
	}
	check
	run $PIPE MODELS="$DATA/tinyfm" OUT=out K=1000 CATEGORIES="non-targeting IFNGR1" \
		REF="$DATA/dorothea_hs_ABC.tsv.gz" REF_COLS=tf,target CARRY=mor -j2
	assert_success
	! grep -q '^attn-topk' <<< "$output"
	cat out/network.tsv
	check
	# mor is +1 / -1: its medians lie in [-1, 1] or are nan (no matched pair)
	run awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ v = $(c["median_mor"]); if (v != "nan" && !(v >= -1 && v <= 1)) print }' out/network.tsv
	assert_output ""
}
