#!/usr/bin/env bash
# The expression side of the demo: gene-level baselines, co-expression edges
# (pooled, stratified by cell type = CSSI, and the shuffled-strata null), and
# the genes each CRISPR perturbation changes. Runs on the tiny example, and on
# the real data sets when ../shared/data is present. Called by demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
out=${1:-demo-out}/expr
mkdir -p "$out"
data=${ATTNKIT_SHARED:-../shared}/data
ex=examples

echo "== expression: per-gene baselines of the example (T cells)"
gene-stats --counts $ex/expr.mtx --genes $ex/expr_genes.txt --cells $ex/expr_cells.tsv --where cell_type=T
echo "== strongest co-expression edges, pooled and within cell types (CSSI max)"
coexpr --counts $ex/expr.mtx --genes $ex/expr_genes.txt --top 4
coexpr --counts $ex/expr.mtx --genes $ex/expr_genes.txt --cells $ex/expr_cells.tsv \
	--strata cell_type --min-cells 10 --top 4
echo "== DE genes of each knockout against non-targeting cells"
de-call --counts $ex/expr.mtx --genes $ex/expr_genes.txt --cells $ex/expr_cells.tsv \
	--group target --control NT --min-cells 10 | awk -F'\t' 'NR == 1 || $11 == 1'

if [ -d "$data/pbmc160" ]; then
	d=$data/pbmc160
	echo "== pbmc160: 500 variable genes, Spearman pooled vs CSSI (8 cell types) vs shuffled strata"
	gene-stats --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --hvg 500 -o "$out/pbmc_stats.tsv"
	awk -F'\t' 'NR > 1 && $6 != "NA" {print $1}' "$out/pbmc_stats.tsv" > "$out/pbmc_hvg.txt"
	common=(--counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" --genes-subset "$out/pbmc_hvg.txt" --top 1000)
	coexpr "${common[@]}" -o "$out/pbmc_pooled.tsv"
	coexpr "${common[@]}" --strata cell_type --min-cells 20 -o "$out/pbmc_cssi_max.tsv"
	coexpr "${common[@]}" --strata cell_type --min-cells 20 --shuffle-strata --seed 1 -o "$out/pbmc_shuffled_max.tsv"
	cluster --counts "$d/matrix.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv" --k 8 -o "$out/pbmc_clusters.tsv"
	for f in pooled cssi_max shuffled_max; do
		echo "-- $f: strongest 3 of the top 1000 (full lists in $out/pbmc_$f.tsv)"
		sed -n '2,4p' "$out/pbmc_$f.tsv"
	done
	# Note: the max over 8 strata of 20 cells is inflated by noise even under
	# shuffled strata; CSSI is judged by recovery of a reference, with that null.
	echo "cell type x cluster (k-means on 20 PCs of 2,000 variable genes):"
	cut -f2,3 "$out/pbmc_clusters.tsv" | tail -n +2 | sort | uniq -c | sort -k2,2 -k1,1nr | awk '{print "  " $0}'
fi

if [ -d "$data/papalexi2021" ]; then
	d=$data/papalexi2021
	echo "== papalexi2021: DE genes per knockout (Welch, q < 0.05, |lfc| >= 0.5) vs non-targeting"
	de-call --counts "$d/counts.mtx.gz" --genes "$d/genes.txt" --cells "$d/cells.tsv.gz" \
		--group target --control non-targeting -o "$out/papalexi_de.tsv"
	awk -F'\t' 'NR > 1 {n[$1] += $11; if ($1 == $2) self[$1] = ($11 ? "yes" : "no")}
		END {for (p in n) printf "%s\t%d DE genes\ttarget itself DE: %s\n", p, n[p], (p in self ? self[p] : "not measured")}' \
		"$out/papalexi_de.tsv" | sort
fi
echo "expression demo output in $out/"
