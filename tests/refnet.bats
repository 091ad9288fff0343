#!/usr/bin/env bats
# common/refnet: one reader of reference networks behind edge-join, edge-null,
# edge-eval and pipelines/lib/ref-universe. Every way of naming a reference
# (header or not, columns by name or position, auto header, undirected,
# through an id map) must give the edges an independent reading (Python:
# csv + explicit rules) gives, and all three filters must agree with it.

bats_require_minimum_version 1.5.0

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# The reference's edges among a universe as the three filters see them:
# edge-join --edges (sorted from/to), edge-eval's n_true over all ordered
# pairs of the universe, edge-null's kept edges (--edges-out of one draw
# is a permutation: its count must equal).
python_edges() {
	# $1 ref, $2 cols (a,b names or 1-based), $3 header yes|no, $4 universe,
	# [$5 undirected 0/1] [$6 map] [$7 mapcols]
	"$PY" - "$@" <<'PY'
import sys, gzip, csv
ref, cols, header, uni = sys.argv[1:5]
und = len(sys.argv) > 5 and sys.argv[5] == "1"
mp = sys.argv[6] if len(sys.argv) > 6 else ""
mcols = sys.argv[7].split(",") if len(sys.argv) > 7 else None
op = gzip.open if ref.endswith(".gz") else open
rows = [r for r in csv.reader(op(ref, "rt"), delimiter="\t")]
a, b = cols.split(",")
if header == "yes":
    h = rows[0]; rows = rows[1:]
    ia = h.index(a) if a in h else int(a) - 1
    ib = h.index(b) if b in h else int(b) - 1
else:
    ia, ib = int(a) - 1, int(b) - 1
U = [l.rstrip("\n") for l in open(uni)]
Us = set(U)
# gene -> reference ids
if mp:
    mr = list(csv.reader(open(mp), delimiter="\t")); mh = mr[0]
    f, t = mh.index(mcols[0]), mh.index(mcols[1])
    g2r = {}
    for r in mr[1:]:
        if r[f] in Us and r[t]: g2r.setdefault(r[f], set()).add(r[t])
else:
    g2r = {g: {g} for g in U}
r2g = {}
for g, rs in g2r.items():
    for x in rs: r2g.setdefault(x, set()).add(g)
E = set()
for r in rows:
    s, t = r[ia], r[ib]
    if not s or not t: continue
    for x, y in [(s, t)] + ([(t, s)] if und else []):
        for gs in r2g.get(x, ()):
            for gt in r2g.get(y, ()):
                if gs != gt: E.add((gs, gt))
print("from\tto")
for s, t in sorted(E): print(f"{s}\t{t}")
PY
}

# Every ordered pair of distinct universe genes, with a random score.
all_pairs() {
	"$PY" - "$1" <<'PY'
import sys, random
random.seed(7)
U = [l.strip() for l in open(sys.argv[1])]
print("from\tto\tvalue")
for a in U:
    for b in U:
        if a != b: print(f"{a}\t{b}\t{random.random():.6f}")
PY
}

# The three filters against the Python edges: $1 expected edges file, then
# the reference options; universe u.txt, pairs pairs.tsv.
agree() {
	local want=$1
	shift
	ak edge-join --edges "$@" --among u.txt > got.tsv 2> err1.txt
	diff "$want" got.tsv
	local n=$(($(wc -l < "$want") - 1))
	run --separate-stderr ak edge-eval "$@" pairs.tsv
	assert_success
	[ "$(cut -f2 <<< "${lines[1]}")" = "$n" ]
	ak edge-join "$@" pairs.tsv 2> /dev/null | awk -F'\t' 'NR > 1 && $4 == 1 { print $1 "\t" $2 }' | sort > lab.tsv
	tail -n +2 "$want" | sort | diff - lab.tsv
	ak edge-null --score value "$@" --universe u.txt --method curveball --draws 1 --edges-out e.tsv pairs.tsv > /dev/null 2>&1
	[ "$(($(wc -l < e.tsv) - 1))" = "$n" ]
}

gen_refs() {
	printf 'A\nB\nC\nD\nE\nF\n' > u.txt
	all_pairs u.txt > pairs.tsv
	# no header; line 1's A recurs: auto reads line 1 as an edge
	printf 'A\tB\tx\nA\tC\ty\nB\tD\tz\nE\tE\tw\nF\tA\tv\nA\tB\tdup\nQ\tA\tout\n' > nohdr.tsv
	# a header with the columns elsewhere, names never recurring
	printf 'mode\ttf\ttarget\nx\tA\tB\ny\tA\tC\nz\tB\tD\nv\tF\tA\n' > hdr.tsv
	# from,to named: the default columns
	printf 'weight\tfrom\tto\n1\tC\tD\n2\tD\tE\n' > fromto.tsv
}

@test "refnet: header or not, columns by name or position, auto header, default columns: edges equal a Python reading in all three filters" {
	gen_refs
	python_edges nohdr.tsv 1,2 no u.txt > want1.tsv
	agree want1.tsv --ref nohdr.tsv --ref-cols 1,2
	agree want1.tsv --ref nohdr.tsv --no-header
	agree want1.tsv --ref nohdr.tsv --ref-header no
	agree want1.tsv --ref nohdr.tsv
	gzip -k nohdr.tsv
	agree want1.tsv --ref nohdr.tsv.gz --ref-cols 1,2
	[ ! -s err1.txt ]   # an edge on line 1: nothing announced
	python_edges hdr.tsv tf,target yes u.txt > want2.tsv
	agree want2.tsv --ref hdr.tsv --ref-cols tf,target
	agree want2.tsv --ref hdr.tsv --ref-cols tf,3
	agree want2.tsv --ref hdr.tsv --ref-cols 2,3 --ref-header yes
	[ ! -s err1.txt ]
	# by position, auto: line 1 (tf, target) recurs nowhere: a header, announced
	agree want2.tsv --ref hdr.tsv --ref-cols 2,3
	grep -q "hdr.tsv: line 1 (tf, target) read as a header" err1.txt
	python_edges fromto.tsv from,to yes u.txt > want3.tsv
	agree want3.tsv --ref fromto.tsv
	# --ref-header yes on a header-less file loses line 1, as asked
	printf 'A\tD\nA\tC\nC\tD\n' > three.tsv
	python_edges three.tsv 1,2 yes u.txt > want4.tsv
	agree want4.tsv --ref three.tsv --ref-header yes
	[ "$(wc -l < want4.tsv)" -eq 3 ]
	python_edges three.tsv 1,2 no u.txt > want5.tsv
	agree want5.tsv --ref three.tsv
	[ "$(wc -l < want5.tsv)" -eq 4 ]
}

@test "refnet: --undirected and --map (many-to-many) equal the Python reading in all three filters" {
	gen_refs
	python_edges nohdr.tsv 1,2 no u.txt 1 > want.tsv
	agree want.tsv --ref nohdr.tsv --undirected
	# the universe in other ids: e1..e6, A -> e1 and e7 (two ids), e2 and e8 -> B
	printf 'e1\ne2\ne3\ne4\ne5\ne6\ne7\ne8\n' > ue.txt
	printf 'eid\tsym\ne1\tA\ne7\tA\ne2\tB\ne8\tB\ne3\tC\ne4\tD\ne5\tE\ne6\tF\ne1\tZ\n' > map.tsv
	cp ue.txt u.txt
	all_pairs u.txt > pairs.tsv
	python_edges nohdr.tsv 1,2 no u.txt 0 map.tsv eid,sym > wantm.tsv
	[ "$(wc -l < wantm.tsv)" -gt 5 ]
	agree wantm.tsv --ref nohdr.tsv --map map.tsv --map-cols eid,sym
	python_edges hdr.tsv tf,target yes u.txt 1 map.tsv eid,sym > wantmu.tsv
	agree wantmu.tsv --ref hdr.tsv --ref-cols tf,target --undirected --map map.tsv --map-cols 1,2
}

@test "refnet: TRRUST (no header) and DoRothEA (header, columns 1 and 3) equal the Python reading; ref-universe equals edge-join --edges" {
	need_data trrust_v2_human.tsv.gz dorothea_hs_ABC.tsv.gz
	# a universe of every third reference gene plus a gene of no network
	{ gzip -dc "$DATA/trrust_v2_human.tsv.gz" | cut -f1,2; gzip -dc "$DATA/dorothea_hs_ABC.tsv.gz" | cut -f1,3; } \
		| tr '\t' '\n' | LC_ALL=C sort -u | awk 'NR % 3 == 0' > u.txt
	echo NOTAGENE >> u.txt
	python_edges "$DATA/trrust_v2_human.tsv.gz" 1,2 no u.txt > want_t.tsv
	ak edge-join --edges --ref "$DATA/trrust_v2_human.tsv.gz" --ref-cols 1,2 --among u.txt > got_t.tsv
	diff want_t.tsv got_t.tsv
	"$TOP/pipelines/lib/ref-universe" "$DATA/trrust_v2_human.tsv.gz" 1,2 u.txt > ru.tsv
	diff want_t.tsv ru.tsv
	python_edges "$DATA/dorothea_hs_ABC.tsv.gz" tf,target yes u.txt > want_d.tsv
	ak edge-join --edges --ref "$DATA/dorothea_hs_ABC.tsv.gz" --ref-cols 1,3 --among u.txt > got_d.tsv 2> err.txt
	diff want_d.tsv got_d.tsv
	grep -q "line 1 (tf, target) read as a header" err.txt
	ak edge-join --edges --ref "$DATA/dorothea_hs_ABC.tsv.gz" --ref-cols tf,target --among u.txt > got_d2.tsv
	diff want_d.tsv got_d2.tsv
	[ "$(wc -l < want_t.tsv)" -gt 100 ] && [ "$(wc -l < want_d.tsv)" -gt 100 ]
}

@test "refnet: TRRUST through the symbol-Ensembl map equals the Python reading; Ensembl ids without MAP fail loudly" {
	need_data trrust_v2_human.tsv.gz human_symbol_ensembl.tsv.gz
	gzip -dc "$DATA/human_symbol_ensembl.tsv.gz" > map.tsv
	awk -F'\t' 'NR > 1 && NR % 4 == 0 { print $2 }' map.tsv | LC_ALL=C sort -u | head -4000 > u.txt
	python_edges "$DATA/trrust_v2_human.tsv.gz" 1,2 no u.txt 0 map.tsv ensembl_gene,symbol > want.tsv
	ak edge-join --edges --ref "$DATA/trrust_v2_human.tsv.gz" --map map.tsv --map-cols ensembl_gene,symbol --among u.txt > got.tsv
	diff want.tsv got.tsv
	[ "$(wc -l < want.tsv)" -gt 50 ]
	run ak edge-join --edges --ref "$DATA/trrust_v2_human.tsv.gz" --among u.txt
	assert_data_error "0 of 4000 genes of --among in the reference: Ensembl vs symbol? set MAP"
	printf 'from\tto\tvalue\n' > p.tsv
	awk 'NR <= 60 { print }' u.txt | paste - - | awk -v OFS='\t' '{ print $1, $2, NR }' >> p.tsv
	run ak edge-eval --ref "$DATA/trrust_v2_human.tsv.gz" p.tsv
	assert_data_error "0 of 60 pair genes in the reference: Ensembl vs symbol? set MAP"
	run ak edge-null --score value --ref "$DATA/trrust_v2_human.tsv.gz" --universe u.txt --method shuffle --draws 2 p.tsv
	assert_data_error "0 of 4000 universe genes in the reference: Ensembl vs symbol? set MAP"
	# the map's columns the wrong way round: nothing maps, said so
	run ak edge-join --edges --ref "$DATA/trrust_v2_human.tsv.gz" --map map.tsv --map-cols symbol,ensembl_gene --among u.txt
	assert_data_error "check --map-cols FROM,TO"
}

@test "refnet: few genes matching warns; bad --ref-header, --ref-cols and header-only references fail clearly" {
	gen_refs
	# 60 genes, 1 of them in a 60-gene reference: fewer than 10%, a warning
	seq 1 60 | sed 's/^/g/' > u60.txt
	seq 1 60 | awk '{ print "r" $1 "\tr" ($1 % 60) + 1 }' > r60.tsv
	printf 'g1\tr2\n' >> r60.tsv
	run --separate-stderr ak edge-join --edges --ref r60.tsv --among u60.txt
	assert_success
	[[ $stderr == *"only 1 of 60 genes of --among in the reference (61 reference genes): id types differ? set MAP"* ]]
	run ak edge-eval --ref nohdr.tsv --ref-header maybe pairs.tsv
	assert_failure 2
	assert_output --partial "--ref-header: expected auto, yes or no (got 'maybe')"
	run ak edge-eval --ref nohdr.tsv --ref-cols 1,2,3 pairs.tsv
	assert_data_error "--ref-cols needs two columns, source and target (got '1,2,3')"
	run ak edge-eval --ref hdr.tsv --ref-cols tf,gene pairs.tsv
	assert_data_error "hdr.tsv: no column 'gene' (columns: mode, tf, target)"
	run ak edge-eval --ref nohdr.tsv --ref-header no --ref-cols tf,target pairs.tsv
	assert_data_error "no column 'tf' (columns: 1, 2, 3)"
	printf 'tf\ttarget\n' > only.tsv
	run ak edge-null --score value --ref only.tsv --universe u.txt --method shuffle --draws 2 pairs.tsv
	assert_data_error "only.tsv: no reference edges (0 data rows)"
	run ak edge-join --edges --ref nohdr.tsv pairs.tsv
	assert_failure 2
	run ak edge-join --edges --ref nohdr.tsv
	assert_failure 2
	assert_output --partial "--edges needs --among GENES"
}
