#!/usr/bin/env bats
# The man pages say what the programs do: every long option a filter's
# --help lists is documented in man/FILTER.1, every option a page documents
# (its SYNOPSIS and its .It entries) exists in --help, and every file format
# and spec syntax --help names is described in the page. --help is the
# program's own list (the option table and its usage text are next to each
# other in the source), so a page that lags behind a new option fails here.

setup() {
	load helper
}

# Long options in a filter's --help, one per line: "--name" tokens, without
# families written "--gbdt-*" (their members are listed one by one).
help_opts() {
	"$BIN/$1" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9](-\*)?' | grep -v '\*$' | sort -u
}

# Long options written with mdoc's Fl on the macro lines of a page that
# match the awk condition $2 (all of them with 1): on a line holding Fl, every
# argument "\-name" (Fl adds one dash; \- is mdoc's minus) is a flag, as in
# ".Op Fl \-row\-sums | \-col\-sums" or ".Pf ( Fl \-counts , \-genes )".
man_opts() {
	awk -v want="$2" '
		/^\.Sh / { sec = $0 }
		function keep() {
			if (want == "It") return $1 == ".It"
			if (want == "SYNOPSIS") return sec == ".Sh SYNOPSIS"
			return 1
		}
		/^\./ && ($1 == ".Fl" || / Fl /) && keep() {
			gsub(/\\-/, "-")
			for (i = 2; i <= NF; i++)
				if ($i ~ /^-[a-z][a-z0-9-]*[a-z0-9]$/) print "-" $i
		}' "$(page "$1")" | sort -u
}

# man/NAME.1, or NAME itself when it is a path (the guard test's pages).
page() {
	case $1 in */*) echo "$1" ;; *) echo "$TOP/man/$1.1" ;; esac
}

# Whether man/PAGE.1 mentions X (".h5ad", "[a:b]") as a whole token.
mentions() {
	local re
	re=$(printf '%s' "$2" | sed -e 's/[.]/\\./g' -e 's/\[/\\[/g' -e 's/]/\\]/g')
	grep -qE -- "$re([^a-z0-9]|\$)" "$(page "$1")"
}

filters() {
	local f
	for f in "$TOP"/filters/*.c; do basename "$f" .c; done
}

@test "man-options: the extraction sees the options it must (guards the awk and grep above)" {
	run help_opts edge-join
	assert_line -- "--ref-cols"
	assert_line -- "--embedding-names"
	refute_line -- "--gbdt"
	run help_opts logit-cv
	assert_line -- "--gbdt-rounds"
	refute_line -- "--gbdt"
	run man_opts mat 1
	assert_line -- "--row-sums"
	assert_line -- "--col-sums"
	printf '%s\n' .Sh\ SYNOPSIS '.Fl \-alone' '.Op Fl \-a\-b | \-c\-d Ar x' .Sh\ OPTIONS \
		'.It Fl \-entry Ar n' 'text --prose' '.Pf ( Fl \-ee , \-ff )' > "$BATS_TEST_TMPDIR/t.1"
	run man_opts "$BATS_TEST_TMPDIR/t.1" 1
	assert_output "$(printf '%s\n' --a-b --alone --c-d --ee --entry --ff)"
	run man_opts "$BATS_TEST_TMPDIR/t.1" SYNOPSIS
	assert_output "$(printf '%s\n' --a-b --alone --c-d)"
	run man_opts "$BATS_TEST_TMPDIR/t.1" It
	assert_output -- "--entry"
	run man_opts gene-stats SYNOPSIS
	assert_line -- "--no-normalize"
	refute_line -- "--help"
	mentions mat .npy
	run mentions mat .np
	assert_failure
	run mentions mat .nosuch
	assert_failure
	run mentions mat '[x:y]'
	assert_failure
}

@test "man-options: every long option of --help is documented in the filter's man page" {
	local n missing bad=
	for n in $(filters); do
		missing=$(comm -23 <(help_opts "$n") <(man_opts "$n" 1) | tr '\n' ' ')
		[ -z "$missing" ] || bad+="$n.1 lacks: $missing"$'\n'
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "man-options: every option a man page documents (SYNOPSIS, .It entries) exists in --help" {
	local n extra bad=
	for n in $(filters); do
		extra=$(comm -13 <(help_opts "$n") <(sort -u <(man_opts "$n" It) <(man_opts "$n" SYNOPSIS)) | tr '\n' ' ')
		[ -z "$extra" ] || bad+="$n.1 documents options $n does not have: $extra"$'\n'
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "man-options: every file format and spec syntax --help names is described in the man page" {
	local n x bad=
	for n in $(filters); do
		# extensions (".h5ad", ".safetensors") and row ranges ("[a:b]")
		for x in $("$BIN/$n" --help 2>&1 | grep -oE '\.[a-z][a-z0-9]+|\[[a-z]:[a-z]\]' | sort -u); do
			mentions "$n" "$x" ||
				bad+="$n.1 does not mention $x"$'\n'
		done
	done
	[ -z "$bad" ] || fail "$bad"
}

@test "man-options: edge-eval, edge-join and edge-null share one REFERENCE NETWORKS section with every reference option" {
	local n sec first=
	for n in edge-eval edge-join edge-null; do
		sec=$(awk '/^\.Sh /{on = ($0 == ".Sh REFERENCE NETWORKS")} on' "$TOP/man/$n.1")
		[ -n "$sec" ] || fail "$n.1 has no REFERENCE NETWORKS section"
		if [ -z "$first" ]; then
			first=$sec
		else
			[ "$sec" = "$first" ] || fail "$n.1's REFERENCE NETWORKS differs from edge-eval.1's: $(diff <(echo "$first") <(echo "$sec"))"
		fi
	done
	# the options of common/refnet.h, each an entry of the section
	run awk '$1 == ".It" { gsub(/\\-/, "-"); print $2, $3 }' <<< "$first"
	for o in ref ref-cols ref-header no-header undirected map map-cols; do
		assert_line "Fl -$o"
	done
}
