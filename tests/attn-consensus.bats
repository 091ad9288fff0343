#!/usr/bin/env bats
# attn-topk with several layers (--layer, --model, --combine): the exact
# all-pairs consensus against numpy's full n x n matrices (tests/consensus_ref.py),
# on given float32 layers with exact ties (bit-exact values, ranks, tie rule),
# on computed layers (float64 reference), and on the tinyfm model, where the
# old top-K-union consensus is shown to miss pairs.

setup() {
	load helper
	need_py pandas
	cd "$BATS_TEST_TMPDIR"
	REF=$TOP/tests/consensus_ref.py
}

# gen_given PREFIX N L [heads=H] [ties] [signed]: L attention-like float32
# matrices PREFIX0.npy ..; ties: multiples of 1/8, so many pairs tie within
# and across layers (and sums of them stay exact).
gen_given() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np
pre, n, L = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
fl = sys.argv[4:]
kv = dict(a.split("=", 1) for a in fl if "=" in a)
H = int(kv.get("heads", 0))
rng = np.random.default_rng(n * 10 + L)
for l in range(L):
    S = rng.standard_normal((H, n, n) if H else (n, n))
    if "ties" in fl:
        S = np.round(S * 2) / 8
    elif "signed" not in fl:
        S = np.exp(S); S /= S.sum(axis=-1, keepdims=True)
    np.save(f"{pre}{l}.npy", S.astype(np.float32))
PY
}

# gen_computed PREFIX N D L: layer l's X, WQ, WK, bq, bk as PREFIX{l}_*.npy
gen_computed() {
	"$PY" - "$@" <<'PY'
import sys, numpy as np
pre, n, d, L = sys.argv[1], *map(int, sys.argv[2:5])
for l in range(L):
    rng = np.random.default_rng(100 * l + n)
    np.save(f"{pre}{l}_X.npy", rng.standard_normal((n, d)).astype("f4"))
    for m in ("WQ", "WK"):
        np.save(f"{pre}{l}_{m}.npy", (rng.standard_normal((d, d)) / np.sqrt(d) * 2).astype("f4"))
    for b in ("bq", "bk"):
        np.save(f"{pre}{l}_{b}.npy", rng.standard_normal(d).astype("f4"))
PY
}

# layers_given PREFIX L: the --attn groups
layers_given() {
	local l
	for ((l = 0; l < $2; l++)); do printf -- '--layer\n--attn\n%s%d.npy\n' "$1" "$l"; done
}

@test "given layers with exact ties: every --combine, --abs, --keep-self: bit-exact top-K, order, ranks vs numpy" {
	gen_given t 40 3 ties
	mapfile -t L < <(layers_given t 3)
	: > cases
	for how in sum mean max absmax; do
		ak attn-topk "${L[@]}" --combine $how --top 200 -o t.$how.tsv
		ak attn-topk "${L[@]}" --combine $how --abs --keep-self --top 300 -o ta.$how.tsv
		echo "given t.$how.tsv $how 200 t0.npy t1.npy t2.npy" >> cases
		echo "given ta.$how.tsv $how 300 abs self t0.npy t1.npy t2.npy" >> cases
	done
	run "$PY" "$REF" < cases
	echo "$output"
	assert_success
	# ties are really exercised: most of the 200 values are shared
	[[ "${lines[0]}" =~ ,\ ([0-9]+)\ tied ]] && [ "${BASH_REMATCH[1]}" -gt 100 ]
}

@test "given layers: softmax rows, signed H x n x n heads files; K beyond N" {
	gen_given s 50 3
	gen_given h 30 2 heads=4 signed
	mapfile -t S < <(layers_given s 3)
	mapfile -t Hd < <(layers_given h 2)
	: > cases
	for how in sum mean max absmax; do
		ak attn-topk "${S[@]}" --combine $how --top 100 -o s.$how.tsv
		ak attn-topk "${Hd[@]}" --combine $how --abs --top 1000 -o h.$how.tsv
		[ "$(($(wc -l < h.$how.tsv) - 1))" -eq 870 ]   # N = 30 * 29 < K
		echo "given s.$how.tsv $how 100 s0.npy s1.npy s2.npy" >> cases
		echo "given h.$how.tsv $how 1000 abs h0.npy h1.npy" >> cases
	done
	run "$PY" "$REF" < cases
	echo "$output"
	assert_success
}

@test "--at: consensus value and exact rank of given pairs, deep in the distribution (ties)" {
	gen_given t 40 3 ties
	mapfile -t L < <(layers_given t 3)
	"$PY" -c "
import numpy as np
r = np.random.default_rng(1); f = r.integers(0, 40, 500); g = r.integers(0, 40, 500); m = f != g
open('pairs.tsv', 'w').write('from\tto\n' + ''.join(f'{a}\t{b}\n' for a, b in zip(f[m], g[m])))"
	: > cases
	for how in sum mean max absmax; do
		for abs in "" abs; do
			ak attn-topk "${L[@]}" --combine $how ${abs:+--abs} --top 5 --at pairs.tsv -o at.$how$abs.tsv
			echo "given at.$how$abs.tsv $how 5 $abs at=pairs.tsv t0.npy t1.npy t2.npy" >> cases
		done
	done
	run "$PY" "$REF" < cases
	echo "$output"
	assert_success
}

@test "computed layers (biases; softmax and --raw; H=4): every --combine vs float64 numpy" {
	gen_computed c 120 32 3
	args=()
	for l in 0 1 2; do
		args+=(--layer --resid c${l}_X.npy --wq c${l}_WQ.npy --wk c${l}_WK.npy --bq c${l}_bq.npy --bk c${l}_bk.npy)
	done
	: > cases
	for how in sum mean max absmax; do
		for raw in "" raw; do
			ak attn-topk "${args[@]}" --heads 4 ${raw:+--raw} --combine $how --top 500 -o c.$how$raw.tsv
			echo "computed c.$how$raw.tsv $how 500 4 $raw c0 c1 c2" >> cases
		done
	done
	# odd blocks and small column chunks (tiles folded per block, rows cut in chunks)
	AK_ATTN_BLOCK=7 AK_ATTN_CHUNK=16 ak attn-topk "${args[@]}" --heads 4 --combine mean --top 500 -o odd.tsv
	AK_ATTN_BLOCK=7 AK_ATTN_CHUNK=16 ak attn-topk "${args[@]}" --heads 4 --combine sum --top 20 --at c.sum.tsv -o oddat.tsv
	echo "computed odd.tsv mean 500 4 c0 c1 c2" >> cases
	echo "computed oddat.tsv sum 500 4 at=c.sum.tsv c0 c1 c2" >> cases
	run "$PY" "$REF" < cases
	echo "$output"
	assert_success
}

@test "one layer: --combine changes nothing; a trailing or leading --layer is harmless" {
	gen_computed o 60 16 1
	one=(--resid o0_X.npy --wq o0_WQ.npy --wk o0_WK.npy --heads 2 --top 50)
	ak attn-topk "${one[@]}" -o plain.tsv
	for how in sum mean max absmax; do
		ak attn-topk --layer "${one[@]}" --layer --combine $how -o c.tsv
		cmp plain.tsv c.tsv
	done
}

@test "tinyfm: --model equals --layer groups, matches float64 numpy; --layers picks layers" {
	need_data tinyfm/meta.tsv tinyfm/resid/non-targeting/layer3.npy
	T=$DATA/tinyfm
	args=()
	for l in 0 1 2 3; do
		ln -s "$T/resid/non-targeting/layer$l.npy" m${l}_X.npy
		ln -s "$T/layer$l.wq.npy" m${l}_WQ.npy
		ln -s "$T/layer$l.wk.npy" m${l}_WK.npy
		ln -s "$T/layer$l.bq.npy" m${l}_bq.npy
		ln -s "$T/layer$l.bk.npy" m${l}_bk.npy
		args+=(--layer --resid m${l}_X.npy --wq m${l}_WQ.npy --wk m${l}_WK.npy --bq m${l}_bq.npy --bk m${l}_bk.npy)
	done
	: > cases
	for how in sum absmax; do
		ak attn-topk --model "$T" --category non-targeting --combine $how --top 1000 -o model.$how.tsv
		ak attn-topk "${args[@]}" --heads 4 --combine $how --top 1000 -o groups.tsv
		cmp model.$how.tsv groups.tsv
		echo "computed model.$how.tsv $how 1000 4 m0 m1 m2 m3" >> cases
	done
	ak attn-topk --model "$T" --category non-targeting --layers 1,3 --combine max --raw --top 300 -o sub.tsv
	echo "computed sub.tsv max 300 4 raw m1 m3" >> cases
	run "$PY" "$REF" < cases
	echo "$output"
	assert_success
	# names and labels as in a single-layer run
	ak attn-topk --model "$T" --category non-targeting --genes "$T/genes.txt" --top 5 --label model=tinyfm -o named.tsv
	run awk -F'\t' 'NR == 1 { print $1, $2, $NF } NR == 2 { print ($1 ~ /^[0-9]+$/) }' named.tsv
	assert_output "from to model
0"
}

@test "tinyfm: the old top-K-union consensus misses true consensus pairs (sum), never for max" {
	need_data tinyfm/meta.tsv tinyfm/resid/non-targeting/layer3.npy
	T=$DATA/tinyfm
	for l in 0 1 2 3; do
		ak attn-topk --resid "$T/resid/non-targeting/layer$l.npy" --wq "$T/layer$l.wq.npy" --wk "$T/layer$l.wk.npy" \
			--bq "$T/layer$l.bq.npy" --bk "$T/layer$l.bk.npy" --heads 4 --top 1000 -o l$l.tsv
	done
	for how in sum max; do
		ak attn-topk --model "$T" --category non-targeting --combine $how --top 1000 -o cons.$how.tsv
	done
	run "$PY" - <<'PY'
import pandas as pd
u = set()
for l in range(4):
    t = pd.read_csv(f"l{l}.tsv", sep="\t"); u |= set(zip(t["from"], t["to"]))
for how in ("sum", "max"):
    c = pd.read_csv(f"cons.{how}.tsv", sep="\t")
    cs = set(zip(c["from"], c["to"]))
    print(how, len(cs - u))
PY
	echo "$output"
	# a pair strongest in no layer can be strongest in sum: the union missed a
	# large share of the true top-1000 (239 here); the max of the layers'
	# values reaches the top-K only through some layer's top-K: none missed
	[[ "${lines[0]}" =~ ^sum\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" -gt 100 ]
	[ "${lines[1]}" = "max 0" ]
}

@test "bad: layers disagree on genes, mixed --attn and --resid, --per-head or --check with layers, --combine, --model" {
	gen_computed b 20 8 2
	"$PY" -c "import numpy as np; np.save('short.npy', np.load('b1_X.npy')[:15])"
	run ak attn-topk --layer --resid b0_X.npy --wq b0_WQ.npy --wk b0_WK.npy --layer --resid short.npy --wq b1_WQ.npy --wk b1_WK.npy --heads 2 -o out.tsv
	assert_data_error "short.npy: 15 genes, but layer 0 (b0_X.npy) has 20"
	[ ! -e out.tsv ]
	gen_given g 20 1
	run ak attn-topk --resid b0_X.npy --wq b0_WQ.npy --wk b0_WK.npy --layer --attn g0.npy --heads 2
	assert_failure 2
	assert_output --partial "layer 1: every layer is given either by --attn or by --resid"
	run ak attn-topk --resid b0_X.npy --wq b0_WQ.npy --wk b0_WK.npy --resid b1_X.npy --heads 2
	assert_failure 2
	assert_output --partial "--resid given twice for one layer"
	run ak attn-topk --resid b0_X.npy --wq b0_WQ.npy --wk b0_WK.npy --layer --resid b1_X.npy --wq b1_WQ.npy --wk b1_WK.npy --heads 2 --per-head
	assert_failure 2
	assert_output --partial "--per-head with several layers"
	run ak attn-topk --resid b0_X.npy --wq b0_WQ.npy --wk b0_WK.npy --layer --resid b1_X.npy --wq b1_WQ.npy --wk b1_WK.npy --heads 2 --combine median
	assert_failure 2
	assert_output --partial "'median' is not one of sum, mean, max, absmax"
	run ak attn-topk --resid b0_X.npy --wq b0_WQ.npy --wk b0_WK.npy --layer --resid b1_X.npy --wq b1_WQ.npy --heads 2
	assert_failure 2
	assert_output --partial "layer 1: --resid, --wq and --wk are required"
	mkdir -p mdl/resid/c
	printf 'key\tvalue\nn_heads\t2\n' > mdl/meta.tsv
	run ak attn-topk --model mdl --category c
	assert_data_error "mdl/meta.tsv: no n_layers"
	printf 'key\tvalue\nn_layers\t2\nn_heads\t2\n' > mdl/meta.tsv
	run ak attn-topk --model mdl --category c --layers 0,5
	assert_failure 2
	assert_output --partial "outside the model's layers 0..1"
	run ak attn-topk --model mdl
	assert_failure 2
	assert_output --partial "--model needs --category"
	run ak attn-topk --model mdl --category c
	assert_failure 1
	assert_output --partial "mdl/layer0.wq.npy"
}

@test "cross-model.mk: consensus.tsv is attn-topk's exact consensus; consensus ranks across models; the old union missed pairs" {
	ak fm-sim --out sim --genes 120 --layers 3 --categories 1
	run make -f "$TOP/pipelines/cross-model.mk" AK_BIN="$BIN" MODELS="sim/alpha sim/beta" OUT=out \
		MAP=sim/id_map.tsv K=40 -j2 out/consensus.tsv out/consensus_rank_quantile.tsv out/cat1/union.tsv.gz
	assert_success
	# alpha's rows are attn-topk --model over the aligned genes
	ak attn-topk --model sim/alpha --category cat1 --combine sum --top 40 --genes out/genes/alpha.txt \
		--subset out/common_genes.txt -o direct.tsv
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$c["model"] == "alpha" { print $c["from"], $c["to"], $c["value"], $c["rank"], $c["quantile"] }' out/consensus.tsv > piped.txt
	awk -F'\t' 'NR > 1 { print $1, $2, $3, $4, $5 }' direct.tsv > direct.txt
	[ "$(wc -l < direct.txt)" -eq 40 ]
	cmp direct.txt piped.txt
	# each model's consensus top-K ranked in the other's consensus
	run awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next } { print $c["query_model"], $c["eval_model"], $c["n"] }' \
		out/consensus_rank_quantile.tsv
	assert_output "alpha beta 40
beta alpha 40"
	# the old consensus only had the union of the model-layers' top-K pairs:
	# some true consensus pairs are outside it (8 of 80 here)
	run "$PY" -c "
import pandas as pd
u = pd.read_csv('out/cat1/union.tsv.gz', sep='\t'); us = set(zip(u['from'], u['to']))
c = pd.read_csv('out/consensus.tsv', sep='\t')
print(sum(p not in us for p in zip(c['from'], c['to'])))"
	echo "missed by the union: $output"
	[ "$output" -gt 0 ]
}
