#!/usr/bin/env bash
# make demo: the main job on built-in example data, end to end. Four simulated
# models (fm-sim: planted shared, model-specific, early and noise structure)
# go through the within-model, cross-model and network pipelines; the
# reports show what was planted coming back out.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
out=${DEMO_OUT:-demo-out}
jobs=${DEMO_JOBS:-$(nproc)}
mkdir -p "$out"
start=$(date +%s)
# The real-data parts need ../shared/data (see README: real data); say which
# are skipped and why, before anything runs.
data=${ATTNKIT_SHARED:-$PWD/../shared}/data
examples/demo-skips.sh "$data"
echo "== simulating 4 models (fm-sim --seed 1) into $out/sim"
[ -f "$out/sim/families.tsv" ] || fm-sim --out "$out/sim" --seed 1
models="$out/sim/alpha $out/sim/alpha2 $out/sim/beta $out/sim/gamma"
echo "== within-model: top-K per layer, rank agreement, layer Spearman, rsa"
make --no-print-directory -s -f pipelines/within-model.mk -j"$jobs" MODELS="$models" \
	OUT="$out/within" KS="100 1000 10000"
echo "== cross-model: gene alignment (beta uses Ensembl ids), rank agreement, coherence"
make --no-print-directory -s -f pipelines/cross-model.mk -j"$jobs" MODELS="$models" \
	OUT="$out/cross" K=100 MAP="$out/sim/id_map.tsv"
echo
echo "Coherence with other model families (planted: middle layers of alpha, alpha2, beta):"
sort -t$'\t' -k3,3gr "$out/cross/coherence.median.tsv" | head -6 | column -t
echo "== network: each layer's top-100 pairs (from within-model) against the planted reference network"
make --no-print-directory -s -f pipelines/network.mk -j"$jobs" MODELS="$models" \
	OUT="$out/network" WITHIN="$out/within" K=100 REF="$out/sim/reference.tsv" REF_COLS=tf,target \
	MAP="$out/sim/id_map.tsv" COHERENCE="$out/cross/coherence.median.tsv"
echo
echo "Share of each layer's top-100 pairs that are reference edges (median over categories),"
echo "the vocabulary-matched null, and the smallest Fisher p over layers (planted: middle layers"
echo "of alpha, alpha2, beta; none in gamma):"
awk -F'\t' '
	NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	!($1 in seen) { seen[$1]; order[++n] = $1; null[$1] = $(c["null_fraction"]); minp[$1] = 1 }
	{ row[$1] = row[$1] sprintf("\t%.3f", $(c["true_fraction"])); if ($2 + 1 > nl) nl = $2 + 1
	  if ($(c["fisher_p"]) + 0 < minp[$1]) minp[$1] = $(c["fisher_p"]) + 0 }
	END { printf "model\tnull"; for (l = 0; l < nl; l++) printf "\tL%d", l; print "\tmin_p"
	      for (i = 1; i <= n; i++) { m = order[i]; printf "%s\t%.4f%s\t%.1e\n", m, null[m], row[m], minp[m] } }
' "$out/network/network.median.tsv" | column -t
echo
examples/demo-expr.sh "$out"
echo
echo "== CSSI: pooled vs cell-state stratified co-expression (grn-sim, 3 seeds; pbmc160 if present)"
make --no-print-directory -s -f pipelines/cssi.mk -j"$jobs" OUT="$out/cssi" STATES="2 4 8" SEEDS="1 2 3" \
	SHARED_DATA="$data"
cut -f1-7 "$out/cssi/cssi_synthetic_summary.tsv" | column -t
echo "  CSSI report: $out/cssi/report.html"
echo
examples/demo-perturbation.sh "$out"
echo
echo "demo finished in $(( $(date +%s) - start )) s. Reports:"
echo "  $out/within/report.html"
echo "  $out/cross/report.html"
echo "  $out/network/report.html"
echo "  $out/cssi/report.html"
echo "  $out/perturbation/sim-out/report.html"
