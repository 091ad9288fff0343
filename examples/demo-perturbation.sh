#!/usr/bin/env bash
# The perturbation part of the demo: a simulated Perturb-seq screen with a
# known GRN (ps-sim) through pipelines/perturbation.mk, where edges that carry
# regulation should add incremental value and co-expression-only edges should
# not; then, when ../shared/data is present, the real Papalexi 2021 screen
# with TRRUST and the tinyfm attention of every layer. Called by demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
out=${1:-demo-out}/perturbation
jobs=${DEMO_JOBS:-$(nproc)}
data=${ATTNKIT_SHARED:-../shared}/data
mkdir -p "$out"
show() {
	echo "-- incremental value (delta AUROC over the baseline set, bootstrap CI over perturbations):"
	cut -f1,2,5-8 "$1/incremental.tsv" | column -t
	echo "-- registry tests surviving FDR: $(awk -F'\t' 'NR > 1 && $9 == 1' "$1/registry.tsv" | wc -l) of $(($(wc -l < "$1/registry.tsv") - 1))"
	awk -F'\t' 'NR > 1 && $1 != "perturbation_auroc" { printf "   %-3s q=%-10.3g %s\n", ($9 == 1 ? "yes" : "no"), $8, $2 }' "$1/registry.tsv"
}
echo "== perturbation: simulated screen with a known GRN (ps-sim --seed 1: 200 genes, 12 TF knockdowns)"
[ -f "$out/sim/grn.tsv" ] || ps-sim --out "$out/sim" --seed 1
s=$out/sim
make --no-print-directory -s -f pipelines/perturbation.mk -j"$jobs" COUNTS=$s/counts.mtx GENES=$s/genes.txt \
	CELLS=$s/cells.tsv REF=$s/grn.tsv REF_COLS=from,to \
	EDGES="real=$s/edges_real.tsv confounded=$s/edges_confounded.tsv" HVG=1000 OUT="$out/sim-out"
echo "Planted: 'real' carries the GRN beyond co-expression, 'confounded' only co-expression."
show "$out/sim-out"
if [ -d "$data/papalexi2021" ] && [ -d "$data/tinyfm" ]; then
	d=$data/papalexi2021 t=$data/tinyfm
	echo "== perturbation: papalexi2021 (THP-1 knockouts) with TRRUST and tinyfm attention, layers 0-3"
	mkdir -p "$out/tinyfm"
	edges=
	for l in 0 1 2 3; do
		f=$out/tinyfm/layer$l.tsv.gz
		[ -f "$f" ] || attn-topk --resid $t/resid/non-targeting/layer$l.npy --wq $t/layer$l.wq.npy \
			--wk $t/layer$l.wk.npy --bq $t/layer$l.bq.npy --bk $t/layer$l.bk.npy --heads 4 \
			--top 89102 --genes $t/genes.txt -o "$f"
		edges+="${edges:+ }layer$l=$f"
	done
	make --no-print-directory -s -f pipelines/perturbation.mk -j"$jobs" COUNTS=$d/counts.mtx.gz GENES=$d/genes.txt \
		CELLS=$d/cells.tsv.gz GROUP=target CONTROL=non-targeting REF=$data/trrust_v2_human.tsv.gz REF_COLS=1,2 \
		EDGES="$edges" OUT="$out/papalexi-out"
	echo "-- mean AUROC over perturbations with >= 3 DE genes, per method:"
	column -t "$out/papalexi-out/method_summary.tsv"
	show "$out/papalexi-out"
fi
echo "perturbation reports: $out/sim-out/report.html$([ -f "$out/papalexi-out/report.html" ] && echo " $out/papalexi-out/report.html")"
