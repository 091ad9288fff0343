#!/usr/bin/env bash
# demo-skips.sh DATA: which real-data parts of `make demo` DATA (a
# ../shared/data) lets run; one "== skipped: PART: no FILE" line on stderr
# for each that cannot, and where to get the files. Exit 0 either way.
# Called by demo.sh before anything runs; tests call it alone.
set -euo pipefail
data=$1
skipped=0
for part in "pbmc160:CSSI and co-expression on 160 PBMCs" "papalexi2021:DE genes and the perturbation pipeline on the Papalexi 2021 screen" \
	"tinyfm:attention of a small trained model in the perturbation pipeline" "trrust_v2_human.tsv.gz:TRRUST reference for pbmc160 and papalexi2021" \
	"dorothea_hs_ABC.tsv.gz:DoRothEA reference for pbmc160"; do
	[ -e "$data/${part%%:*}" ] || { echo "== skipped: ${part#*:}: no $data/${part%%:*}" >&2; skipped=1; }
done
[ "$skipped" = 0 ] || echo "   (real public data; where each file comes from: README.md, 'Real data'. Set ATTNKIT_SHARED to its parent directory.)" >&2
[ "$skipped" = 1 ] || echo "== real data: $data (pbmc160, papalexi2021, tinyfm, TRRUST, DoRothEA)" >&2
