#!/usr/bin/env bats
# The bad-input matrix (issue 12): every filter x every class of bad input that
# applies to it. A bad input must end with exit status 1 (2 for a usage error),
# exactly one line on stderr naming the bad file (and the line for errors
# inside a TSV), never a signal, and no output file (nor temporary) left behind.
#
# One row per (filter, input slot):
#   filter | valid base file for the slot | column to spoil | classes | command
# In the command, @ is the (bad) file and OUT the output path. Column: a header
# name, a 1-based position for headerless files, or - . Adding a filter = one row.
# Not listed on purpose: "header" for pair lists that map row to row (attn-topk
# --at, edge-join pairs): no pairs in, a header-only table out, is an answer;
# "dup" for --families: a repeated identical model line is harmless; a
# conflicting one ("conflict") is an error.
# Classes (see mkbad): empty header truncgz garbagegz ragged nonnum nan dup
# conflict missing shape magic truncakm truncnpy absurd dir noent devfull.
ROWS=(
	"mat           |m.npy            |-         |empty truncgz garbagegz magic truncakm truncnpy absurd dir noent devfull |mat info -o OUT @"
	"mat           |m.tsv            |c1        |empty header ragged nonnum |mat convert @ OUT --to tsv"
	"mat           |names6.txt       |-         |empty shape dir noent |mat convert --row-names @ X.npy OUT --to tsv"
	"attn-topk     |X.npy            |-         |empty truncgz garbagegz magic truncakm absurd nan shape dir noent devfull |attn-topk --resid @ --wq W.npy --wk W.npy --heads 2 --top 3 -o OUT"
	"attn-topk     |W.npy            |-         |empty magic truncnpy nan shape noent |attn-topk --resid X.npy --wq @ --wk W.npy --heads 2 --top 3 -o OUT"
	"attn-topk     |names6.txt       |-         |empty shape dup dir noent |attn-topk --resid X.npy --wq W.npy --wk W.npy --heads 2 --top 3 --genes @ -o OUT"
	"attn-topk     |at.tsv           |from      |empty ragged missing truncgz garbagegz noent |attn-topk --resid X.npy --wq W.npy --wk W.npy --heads 2 --genes names6.txt --at @ -o OUT"
	"attn-topk     |X.npy            |-         |empty truncgz magic nan shape noent |attn-topk --resid X.npy --wq W.npy --wk W.npy --layer --resid @ --wq W.npy --wk W.npy --heads 2 --combine mean --top 3 -o OUT"
	"auroc         |auroc_scores.tsv |score     |empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |auroc --score score --label label -o OUT @"
	"bh-fdr        |bh-fdr_pvalues.tsv|p        |empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |bh-fdr --p p -o OUT @"
	"paired-test   |paired-test_methods.tsv|attention|empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |paired-test --a attention --b coexpr -o OUT @"
	"residualize   |residualize_scores.tsv|score|empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |residualize --y score --x mean_from,mean_to --folds 2 -o OUT @"
	"logit-cv      |logit-cv_edges.tsv|degree   |empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |logit-cv --label label --group tf --set base=degree --folds 2 -o OUT @"
	"match         |logit-cv_edges.tsv|degree   |empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |match --label label --group tf --x degree,coexpr -o OUT @"
	"layer-select  |logit-cv_edges.tsv|coexpr   |empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |layer-select --label label --group tf --layers coexpr,attention --folds 2 -o OUT @"
	"rank-quantile |rank_quantile_example.tsv|rank|empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |rank-quantile --by layer --top 2 -o OUT @"
	"rank-quantile |families.tsv     |family    |empty header ragged missing conflict noent |rank-quantile --by model,layer --top 2 --families @ -o OUT rq_models.tsv"
	"edge-join     |edge_pairs.tsv   |from      |empty ragged missing truncgz garbagegz dir noent devfull |edge-join --ref edge_ref.tsv --no-header -o OUT @"
	"edge-join     |edge_ref.tsv     |-         |empty ragged truncgz garbagegz dir noent |edge-join --ref @ --no-header -o OUT edge_pairs.tsv"
	"edge-join     |edge_vocab.txt   |-         |empty dup noent |edge-join --summary --vocab @ --ref edge_ref.tsv --no-header -o OUT edge_pairs.tsv"
	"edge-join     |edge_map.tsv     |symbol    |empty header ragged missing noent |edge-join --ref edge_ref.tsv --no-header --map @ --map-cols ensembl_gene,symbol -o OUT edge_pairs_ensembl.tsv"
	"edge-join     |edge_emb.tsv     |d1        |empty header ragged nonnum nan noent |edge-join --ref edge_ref.tsv --no-header --embeddings @ -o OUT edge_pairs.tsv"
	"edge-null     |edge-null_pairs.tsv|attention|empty header ragged nonnum nan missing truncgz garbagegz dir noent devfull |edge-null --score attention --ref edge-null_ref.tsv --ref-cols tf,target --universe edge-null_genes.txt --method shuffle --draws 5 -o OUT @"
	"edge-null     |edge-null_ref.tsv|target    |empty header ragged missing noent |edge-null --score attention --ref @ --ref-cols tf,target --universe edge-null_genes.txt --method shuffle --draws 5 -o OUT edge-null_pairs.tsv"
	"edge-null     |edge-null_genes.txt|-       |empty dup noent |edge-null --score attention --ref edge-null_ref.tsv --ref-cols tf,target --universe @ --method shuffle --draws 5 -o OUT edge-null_pairs.tsv"
	"rsa           |X.npy            |-         |empty truncgz garbagegz magic truncakm absurd nan shape dir noent devfull |rsa -o OUT X2.npy @"
	"fm-sim        |-                |-         |devfull |fm-sim --out OUT --genes 120 --layers 1 --categories 1 --code 12"
	"gene-stats    |expr.mtx         |-         |empty truncgz garbagegz dir noent devfull |gene-stats --counts @ --genes expr_genes.txt -o OUT"
	"gene-stats    |expr_genes.txt   |-         |empty dup shape noent |gene-stats --counts expr.mtx --genes @ -o OUT"
	"coexpr        |expr.mtx         |-         |empty truncgz garbagegz dir noent devfull |coexpr --counts @ --genes expr_genes.txt --top 4 -o OUT"
	"coexpr        |expr_cells.tsv   |cell_type |empty ragged missing noent |coexpr --counts expr.mtx --genes expr_genes.txt --cells @ --strata cell_type --min-cells 10 --top 4 -o OUT"
	"de-call       |expr.mtx         |-         |empty truncgz garbagegz dir noent devfull |de-call --counts @ --genes expr_genes.txt --cells expr_cells.tsv --group target --control NT --min-cells 10 -o OUT"
	"de-call       |expr_cells.tsv   |target    |empty header ragged missing noent |de-call --counts expr.mtx --genes expr_genes.txt --cells @ --group target --control NT --min-cells 10 -o OUT"
	"cluster       |expr.mtx         |-         |empty truncgz garbagegz dir noent devfull |cluster --counts @ --genes expr_genes.txt --k 2 --pcs 3 -o OUT"
	"edge-eval     |edge_pairs.tsv   |from      |empty ragged missing truncgz garbagegz dir noent devfull |edge-eval --truth edge_ref.tsv --no-header --score value -o OUT @"
	"edge-eval     |edge_ref.tsv     |-         |empty ragged truncgz garbagegz dir noent |edge-eval --truth @ --no-header --score value -o OUT edge_pairs.tsv"
	"grn-sim       |-                |-         |devfull |grn-sim --out OUT --states 2 --cells 200 --genes 40 --tfs 5 --edges 10"
	"ps-sim        |-                |-         |devfull |ps-sim --out OUT --genes 40 --tfs 4 --targets 3 --cells 200 --control 50"
)

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	cp "$TOP"/examples/*.tsv "$TOP"/examples/*.txt "$TOP"/examples/*.mtx .
	# Small matrices: X 6 x 4 genes x d, X2 the same shape, W 4 x 4, m 2 x 3.
	printf 'g\td0\td1\td2\td3\n' > X.tsv
	printf 'g%d\t%d.5\t%d\t-%d\t0.%d\n' 1 1 2 3 4 2 3 1 5 6 3 0 4 2 7 4 2 2 1 9 5 1 5 0 3 6 7 3 3 1 >> X.tsv
	printf 'g\td0\td1\td2\td3\n' > X2.tsv
	printf 'g%d\t%d\t%d.25\t%d\t-%d\n' 1 4 2 0 2 2 1 3 5 3 3 2 2 2 4 4 0 1 1 5 5 5 0 2 6 6 1 1 3 2 >> X2.tsv
	printf 'g\td0\td1\td2\td3\n' > W.tsv
	printf 'r%d\t%d\t0.%d\t-%d\t%d\n' 1 1 2 0 3 2 0 1 1 2 3 2 3 1 0 4 1 1 0 1 >> W.tsv
	# (.npy drops the row names, with a warning)
	ak mat convert X.tsv X.npy 2>/dev/null
	ak mat convert X2.tsv X2.npy 2>/dev/null
	ak mat convert W.tsv W.npy 2>/dev/null
	cp small.tsv m.tsv
	sed -i '1s/.*/row\tc0\tc1\tc2/' m.tsv
	ak mat convert m.tsv m.npy 2>/dev/null
	printf 'g%d\n' 1 2 3 4 5 6 > names6.txt
	printf 'from\tto\ng1\tg2\ng3\tg1\n' > at.tsv
	printf 'model\tfamily\nm1\tA\nm2\tB\n' > families.tsv
	printf 'from\tto\trank\tquantile\tmodel\tlayer\n' > rq_models.tsv
	printf '%s\tb\t%d\t0.%d\t%s\t%d\n' a 1 1 m1 0 c 2 2 m1 0 a 1 1 m1 1 c 2 2 m1 1 a 1 1 m2 0 c 2 2 m2 0 >> rq_models.tsv
	[ -s X.npy ] && [ -s m.npy ] && [ -s edge_pairs.tsv ]
}

# Column position (1-based) of $col in headerless/headed TSV $f.
colpos() {
	local f=$1 col=$2
	if [[ $col =~ ^[0-9]+$ ]]; then echo "$col"; return; fi
	head -1 "$f" | tr '\t' '\n' | grep -nx -- "$col" | cut -d: -f1
}

# Replace field $pos of line $ln in $f with $val.
setfield() {
	awk -F'\t' -v OFS='\t' -v l="$2" -v p="$3" -v v="$4" 'NR == l { $p = v } { print }' "$1"
}

# mkbad CLASS BASE COL OUT: write a bad input of CLASS derived from BASE.
mkbad() {
	local class=$1 base=$2 col=$3 out=$4 n
	case $class in
	empty) : > "$out" ;;
	header) head -1 "$base" > "$out" ;;
	truncgz) # complete deflate data, trailer cut: a stream that ends early
		gzip -nc "$base" > t.gz; n=$(stat -c %s t.gz); head -c $((n - 5)) t.gz > "$out" ;;
	garbagegz) { printf '\037\213\010\000'; printf 'this is not deflate data at all %.0s' 1 2 3; } > "$out" ;;
	ragged) { cat "$base"; sed -n 2p "$base" | cut -f1; } > "$out" ;;
	nonnum) setfield "$base" 2 "$(colpos "$base" "$col")" abc > "$out" ;;
	nan) # a matrix with NaN, or a TSV with an infinite value
		if [[ $base == *.npy ]]; then
			sed '3s/\t[^\t]*$/\tnan/' "${base%.npy}.tsv" > t.tsv; ak mat convert t.tsv "$out" --to npy 2>/dev/null
		else
			setfield "$base" 2 "$(colpos "$base" "$col")" inf > "$out"
		fi ;;
	dup) { cat "$base"; sed -n 2p "$base"; } > "$out" ;;
	conflict) # the first data line again, with another value in its last field
		{ cat "$base"; sed -n 2p "$base" | awk -F'\t' -v OFS='\t' '{ $NF = "zz_other"; print }'; } > "$out" ;;
	missing) sed "1s/\(^\|\t\)$col\(\t\|\$\)/\1zz_$col\2/" "$base" > "$out" ;;
	shape) # one row and one column too many (matrices), one line too few (lists)
		if [[ $base == *.npy ]]; then
			awk -F'\t' -v OFS='\t' '{ $(NF + 1) = (NR == 1 ? "extra" : 1) } { print } END { $1 = "extra"; print }' \
				"${base%.npy}.tsv" > t.tsv
			ak mat convert t.tsv "$out" --to npy 2>/dev/null
		elif [[ $base == *.tsv ]]; then
			cut -f1-2 "$base" > "$out"
		else
			sed '$d' "$base" > "$out"
		fi ;;
	magic) { printf 'NOTMAGIC'; tail -c +9 "$base"; } > "$out" ;;
	truncakm) ak mat convert "$base" t.akm; n=$(stat -c %s t.akm); head -c $((n - 3)) t.akm > "$out" ;;
	truncnpy) n=$(stat -c %s "$base"); head -c $((n - 3)) "$base" > "$out" ;;
	absurd) # a valid .npy header claiming 4e9 x 4e9 floats, 12 bytes of data
		local h="{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000), }"
		while (((10 + ${#h} + 1) % 64)); do h+=' '; done
		{ printf '\223NUMPY\001\000'; printf "\\$(printf %03o $(((${#h} + 1) % 256)))\\$(printf %03o $(((${#h} + 1) / 256)))"
		  printf '%s\n' "$h"; printf 'abcdefghijkl'; } > "$out" ;;
	dir) mkdir "$out" ;;
	noent) : ;;
	*) echo "unknown class $class" >&2; return 1 ;;
	esac
}

# Build the argument vector of a row's command: @ -> $1, OUT -> $2.
words() {
	local bad=$1 out=$2 w
	args=()
	for w in $cmd; do
		case $w in
		@) args+=("$bad") ;;
		OUT) args+=("$out") ;;
		*) args+=("$w") ;;
		esac
	done
}

parse_row() {
	IFS='|' read -r filter base col classes cmd <<< "$1"
	filter=${filter// /} base=${base// /} col=${col// /}
}

# Run every row that lists CLASS; collect every violation, fail once with all.
check_class() {
	local class=$1 row i=0 bad out st nerr errs=() name
	for row in "${ROWS[@]}"; do
		parse_row "$row"
		[[ " $classes " == *" $class "* ]] || continue
		i=$((i + 1))
		mkdir -p "c$i/out"
		name=bad_$class.$i.${base##*.}
		[ "$class" = truncgz ] || [ "$class" = garbagegz ] && name+=.gz
		bad=c$i/$name
		[ "$class" = devfull ] || [ "$class" = noent ] || mkbad "$class" "$base" "$col" "$bad"
		[ "$class" = devfull ] && bad=$base
		out=c$i/out/o.tsv
		[ "$class" = devfull ] && out=/dev/full
		words "$bad" "$out"
		st=0
		# shellcheck disable=SC2086
		timeout 20 ${AK_VALGRIND:+valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite} \
			"$BIN/${args[0]}" "${args[@]:1}" > "c$i/stdout" 2> "c$i/stderr" || st=$?
		# valgrind's own report lines (==PID==, make valgrind) are not the filter's
		nerr=$(grep -vc '^==[0-9]*==' "c$i/stderr")
		local what="[$filter: $class: ${args[*]}]"
		# under make check's sanitizers an error report exits 1 (ASAN_OPTIONS)
		if grep -q 'runtime error:\|Sanitizer' "c$i/stderr"; then errs+=("$what sanitizer report: $(head -c 600 "c$i/stderr")")
		elif [ "$st" -eq 0 ]; then errs+=("$what exit 0")
		elif [ "$st" -gt 2 ]; then errs+=("$what exit $st (signal/timeout/valgrind): $(head -c 300 "c$i/stderr")")
		elif [ "$st" -eq 2 ]; then
			# usage errors print a hint line after the message
			[ "$nerr" -eq 2 ] && grep -q "^$filter: .*--help" "c$i/stderr" ||
				errs+=("$what usage error with $nerr lines: $(cat "c$i/stderr")")
		elif [ "$nerr" -ne 1 ]; then errs+=("$what $nerr lines on stderr: $(head -c 300 "c$i/stderr")")
		fi
		if [ "$class" = devfull ]; then
			grep -q '/dev/full' "c$i/stderr" || errs+=("$what message does not name /dev/full: $(cat "c$i/stderr")")
		else
			grep -qF "$name" "c$i/stderr" || errs+=("$what message does not name $name: $(cat "c$i/stderr")")
		fi
		# errors inside a TSV say where: file:line
		case $class in ragged | nonnum | nan | dup | conflict)
			[[ $base == *.npy ]] || grep -Eq "$name(:[0-9]|: row [0-9])" "c$i/stderr" ||
				errs+=("$what message has no line number: $(cat "c$i/stderr")") ;;
		esac
		[ -z "$(ls -A "c$i/out")" ] || errs+=("$what left output: $(ls -A "c$i/out")")
	done
	[ "$i" -gt 0 ] || fail "no row lists class $class"
	if [ ${#errs[@]} -gt 0 ]; then
		printf '%s\n' "${errs[@]}"
		return 1
	fi
}

@test "bad-input table: every row's valid invocation succeeds" {
	local row i=0 errs=()
	for row in "${ROWS[@]}"; do
		parse_row "$row"
		i=$((i + 1))
		mkdir -p "v$i"
		words "$base" "v$i/o.tsv"
		ak "${args[@]}" > "v$i/stdout" 2> "v$i/stderr" || errs+=("$filter: ${args[*]}: $(cat "v$i/stderr")")
		[ -e "v$i/o.tsv" ] || errs+=("$filter: ${args[*]}: no output written")
	done
	if [ ${#errs[@]} -gt 0 ]; then
		printf '%s\n' "${errs[@]}"
		return 1
	fi
}

@test "bad input: every filter has a row" {
	local f missing=()
	for f in "$TOP"/filters/*.c; do
		f=$(basename "$f" .c)
		printf '%s\n' "${ROWS[@]}" | grep -q "^$f " || missing+=("$f")
	done
	[ ${#missing[@]} -eq 0 ] || fail "filters without a bad-input row: ${missing[*]}"
}

@test "bad input: empty file" { check_class empty; }
@test "bad input: header only" { check_class header; }
@test "bad input: truncated gzip" { check_class truncgz; }
@test "bad input: garbage gzip" { check_class garbagegz; }
@test "bad input: ragged rows" { check_class ragged; }
@test "bad input: non-numeric field" { check_class nonnum; }
@test "bad input: NaN/Inf where not allowed" { check_class nan; }
@test "bad input: duplicate ids" { check_class dup; }
@test "bad input: conflicting duplicate" { check_class conflict; }
@test "bad input: missing column" { check_class missing; }
@test "bad input: shape mismatch" { check_class shape; }
@test "bad input: wrong magic" { check_class magic; }
@test "bad input: truncated .akm stream" { check_class truncakm; }
@test "bad input: truncated .npy" { check_class truncnpy; }
@test "bad input: absurd shape claim" { check_class absurd; }
@test "bad input: a directory instead of a file" { check_class dir; }
@test "bad input: nonexistent file" { check_class noent; }
@test "bad input: output to /dev/full" { check_class devfull; }
