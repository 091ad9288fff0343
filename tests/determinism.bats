#!/usr/bin/env bats
# Determinism (issue 12): every filter's output is byte-identical across repeated
# runs, across --threads 1/2 (filters that have it) and across
# OPENBLAS_NUM_THREADS=1/2, on small generated inputs.
#
# One row per filter invocation: filter | command (OUT = the output path).
# Outputs that are directories (fm-sim) are compared file by file.
# Adding a filter = one row.
ROWS=(
	"attn-topk     |attn-topk --resid X.npy --wq WQ.npy --wk WK.npy --heads 4 --top 400 -o OUT"
	"attn-topk     |attn-topk --resid X.npy --wq WQ.npy --wk WK.npy --heads 4 --top 50 --per-head --abs --keep-self -o OUT"
	"attn-topk     |attn-topk --resid X.npy --wq WQ.npy --wk WK.npy --heads 4 --raw --genes genes.txt --subset subset.txt --top 60 -o OUT"
	"attn-topk     |attn-topk --resid X.npy --wq WQ.npy --wk WK.npy --heads 4 --genes genes.txt --at at.tsv -o OUT"
	"attn-topk     |attn-topk --layer --resid X.npy --wq WQ.npy --wk WK.npy --layer --resid X2.npy --wq WQ.npy --wk WK.npy --layer --resid X3.npy --wq WK.npy --wk WQ.npy --heads 4 --combine sum --top 400 -o OUT"
	"attn-topk     |attn-topk --layer --resid X.npy --wq WQ.npy --wk WK.npy --layer --resid X3.npy --wq WK.npy --wk WQ.npy --heads 4 --raw --combine absmax --genes genes.txt --at at.tsv -o OUT"
	"attn-topk     |attn-topk --resid X.npy --wq WQ.npy --wk WK.npy --heads 4 --per-head --genes genes.txt --ref at.tsv --ref-cols from,to -o OUT"
	"rsa           |rsa -o OUT X.npy X2.npy X3.npy"
	"rsa           |rsa --sample 2000 --seed 5 -o OUT X.npy X2.npy X3.npy"
	"mat           |mat convert X.npy OUT --to tsv"
	"mat           |mat info --row-sums -o OUT X.npy"
	"rank-quantile |rank-quantile --by layer --top 2 -o OUT rank_quantile_example.tsv"
	"rank-quantile |rank-quantile --by layer --spearman -o OUT rank_quantile_example.tsv"
	"edge-join     |edge-join --summary --by layer --vocab edge_vocab.txt --ref edge_ref.tsv --no-header --embeddings edge_emb.tsv -o OUT edge_pairs.tsv"
	"auroc         |auroc --score score --label label --by tf --min-pos 1 --min-neg 1 --bootstrap 200 --perm 200 --seed 3 -o OUT auroc_scores.tsv"
	"bh-fdr        |bh-fdr --p p --method by -o OUT bh-fdr_pvalues.tsv"
	"paired-test   |paired-test --a attention --b coexpr --by category -o OUT paired-test_methods.tsv"
	"residualize   |residualize --y score --x mean_from,mean_to --folds 3 --seed 4 -o OUT residualize_scores.tsv"
	"logit-cv      |logit-cv --label label --group tf --set base=degree,coexpr --set attn=degree,coexpr,attention --folds 4 --bootstrap 100 --seed 2 -o OUT logit-cv_edges.tsv"
	"logit-cv      |logit-cv --label label --group tf --model gbdt --gbdt-rounds 20 --set base=degree,coexpr --set attn=degree,coexpr,attention --folds 4 --bootstrap 100 --seed 2 -o OUT logit-cv_edges.tsv"
	"match         |match --label label --group tf --x degree,coexpr -o OUT logit-cv_edges.tsv"
	"layer-select  |layer-select --label label --group tf --layers coexpr,attention --folds 2 --seed 2 -o OUT logit-cv_edges.tsv"
	"edge-null     |edge-null --score attention --ref edge-null_ref.tsv --ref-cols tf,target --universe edge-null_genes.txt --method curveball --draws 50 --seed 3 -o OUT edge-null_pairs.tsv"
	"edge-null     |edge-null --score attention --ref edge-null_ref.tsv --ref-cols tf,target --universe edge-null_genes.txt --method shuffle --draws 50 --seed 3 -o OUT edge-null_pairs.tsv"
	"fm-sim        |fm-sim --out OUT --seed 2 --genes 120 --layers 2 --categories 1 --code 12"
	"gene-stats    |gene-stats --counts expr.mtx --genes expr_genes.txt --cells expr_cells.tsv --hvg 10 -o OUT"
	"coexpr        |coexpr --counts expr.mtx --genes expr_genes.txt -o OUT"
	"coexpr        |coexpr --counts expr.mtx --genes expr_genes.txt --cells expr_cells.tsv --strata cell_type --agg deviation --min-cells 10 --shuffle-strata --seed 4 -o OUT"
	"de-call       |de-call --counts expr.mtx --genes expr_genes.txt --cells expr_cells.tsv --group target --control NT --min-cells 10 --test mwu -o OUT"
	"cluster       |cluster --counts expr.mtx --genes expr_genes.txt --k 3 --pcs 5 --seed 2 -o OUT"
	"edge-eval     |edge-eval --truth edge_ref.tsv --no-header --score value --per-source 2 -o OUT edge_pairs.tsv"
	"grn-sim       |grn-sim --out OUT --states 2 --cells 200 --genes 40 --tfs 5 --edges 10 --seed 3"
	"ps-sim        |ps-sim --out OUT --genes 40 --tfs 4 --targets 3 --cells 200 --control 50 --seed 3"
)

setup() {
	load helper
	need_py numpy
	cd "$BATS_TEST_TMPDIR"
	cp "$TOP"/examples/*.tsv "$TOP"/examples/*.txt "$TOP"/examples/*.mtx .
	# 300 genes x d = 32 with 4 heads: enough rows for several row blocks per
	# thread, and exact ties (rounded values) so tie-breaking is exercised.
	"$PY" - <<-'EOF'
	import numpy as np
	r = np.random.default_rng(12)
	n, d = 300, 32
	X = np.round(r.normal(size=(n, d)), 1).astype(np.float32)
	for name, M in (("X", X), ("X2", X + r.normal(size=(n, d)).astype(np.float32)),
	                ("X3", np.round(r.normal(size=(n, d)), 1).astype(np.float32)),
	                ("WQ", np.round(r.normal(size=(d, d)) / 4, 2).astype(np.float32)),
	                ("WK", np.round(r.normal(size=(d, d)) / 4, 2).astype(np.float32))):
	    np.save(name + ".npy", M)
	genes = ["g%03d" % i for i in range(n)]
	open("genes.txt", "w").write("\n".join(genes) + "\n")
	open("subset.txt", "w").write("\n".join(genes[::3]) + "\n")
	with open("at.tsv", "w") as f:
	    f.write("from\tto\n")
	    for i in range(0, n, 7):
	        f.write("%s\t%s\n" % (genes[i], genes[(i * 13 + 5) % n]))
	EOF
}

# run_all TAG [ENV...] [-- EXTRA]: every row once, output in TAG/<row>; with
# THREADS set, filters that have --threads get it.
run_all() {
	local tag=$1 row i=0 filter cmd w args
	shift
	mkdir -p "$tag"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r filter cmd <<< "$row"
		filter=${filter// /}
		i=$((i + 1))
		args=()
		for w in $cmd; do
			[ "$w" = OUT ] && w=$tag/$i.out
			args+=("$w")
		done
		if [ -n "${THREADS:-}" ] && "$BIN/$filter" --help | grep -q -- '--threads'; then
			args+=(--threads "$THREADS")
		fi
		ak "${args[@]}" 2> "$tag/$i.err" || fail "$filter: ${args[*]}: $(cat "$tag/$i.err")"
	done
}

# Every row's outputs in directories A and B are identical.
same_outputs() {
	local a=$1 b=$2 i diffs=()
	for ((i = 1; i <= ${#ROWS[@]}; i++)); do
		[ -e "$a/$i.out" ] || fail "row $i: no output"
		diff -r "$a/$i.out" "$b/$i.out" > /dev/null || diffs+=("${ROWS[i - 1]}")
	done
	[ ${#diffs[@]} -eq 0 ] || fail "outputs differ ($a vs $b): $(printf '\n  %s' "${diffs[@]}")"
}

@test "determinism: repeated runs give identical bytes" {
	run_all a
	run_all b
	same_outputs a b
	# and the comparison sees a difference when there is one
	echo x >> a/1.out
	run same_outputs a b
	assert_failure
}

@test "determinism: --threads 1 and 2 give identical bytes" {
	THREADS=1 run_all t1
	THREADS=2 run_all t2
	same_outputs t1 t2
}

@test "determinism: OPENBLAS_NUM_THREADS=1 and 2 give identical bytes" {
	OPENBLAS_NUM_THREADS=1 run_all b1
	OPENBLAS_NUM_THREADS=2 run_all b2
	same_outputs b1 b2
}

@test "determinism: every filter has a row" {
	local f missing=()
	for f in "$TOP"/filters/*.c; do
		f=$(basename "$f" .c)
		printf '%s\n' "${ROWS[@]}" | grep -q "^$f " || missing+=("$f")
	done
	[ ${#missing[@]} -eq 0 ] || fail "filters without a determinism row: ${missing[*]}"
}
