#!/usr/bin/env bash
# make demo: the main job on built-in example data, end to end. Four simulated
# models (fm-sim: planted shared, model-specific, early and noise structure)
# go through the within-model and cross-model pipelines; the reports show
# what was planted coming back out.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
out=${DEMO_OUT:-demo-out}
jobs=${DEMO_JOBS:-$(nproc)}
mkdir -p "$out"
start=$(date +%s)
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
echo
examples/demo-expr.sh "$out"
echo
examples/demo-perturbation.sh "$out"
echo
echo "demo finished in $(( $(date +%s) - start )) s. Reports:"
echo "  $out/within/report.html"
echo "  $out/cross/report.html"
echo "  $out/perturbation/sim-out/report.html"
