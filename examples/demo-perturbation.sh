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
# columns by name: the registry and the incremental table grow columns
show() {
	echo "-- verdict (the paper's criteria, on their primary tests):"
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		{ printf "   (%s) %-5s %s\n", $(c["criterion"]), $(c["result"]), $(c["claim"]) }' "$1/verdict.tsv"
	echo "-- incremental value (delta AUROC over the baseline set, 95% bootstrap interval over perturbations):"
	awk -F'\t' -v OFS='\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "feature_set", "baseline", "delta_auroc", "interval", "q"; next }
		{ printf "%s\t%s\t%+.3f\t[%.3f, %.3f]\t%.3g\n", $(c["feature_set"]), $(c["baseline"]), $(c["delta_auroc"]), $(c["delta_ci_lo"]), $(c["delta_ci_hi"]), $(c["q"]) }' \
		"$1/incremental_delta.tsv" | column -t -s$'\t'
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$(c["kind"]) == "confirmatory" { n++; if ($(c["significant"]) == 1) s++ }
		END { printf "-- confirmatory registry tests surviving FDR: %d of %d\n", s, n }' "$1/registry.tsv"
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
		$(c["kind"]) == "confirmatory" && $(c["analysis"]) != "perturbation_auroc" {
			printf "   %-3s q=%-10.3g %s\n", ($(c["significant"]) == 1 ? "yes" : "no"), $(c["q"]), $(c["hypothesis"]) }' "$1/registry.tsv"
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
