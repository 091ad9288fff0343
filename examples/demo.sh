#!/usr/bin/env bash
# make demo: the main job on built-in example data, end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/bin:$PATH"
out=demo-out
mkdir -p "$out"
echo "== what the example matrix holds"
mat info examples/small.tsv
echo "== to the akm stream (with names) and back"
printf 'TP53\nMYC\nSTAT1\n' > "$out/genes.txt"
mat convert --row-names "$out/genes.txt" --dtype f32 examples/small.tsv "$out/small.akm.gz"
mat convert "$out/small.akm.gz" - --to tsv
echo "demo output in $out/"
