#!/usr/bin/env bats
# The report page itself in headless Chromium (Debian chromium), on a small
# fixture made with html-lib.sh: numbers sort as numbers (k = 1000, 5000,
# 10000, 50000; p in e-notation; NA together at one end), the filter box
# keeps the matching rows, the embedded figure decodes, no JavaScript error.
# Each check is shown to fail on a page that breaks it (a script error, a
# broken image, tablesort's own number sort, which reads 1e-05 as 1).

setup_file() {
	load helper
	command -v chromium >/dev/null || skip "chromium missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	cd "$BATS_FILE_TMPDIR"
	{
		printf 'gene\tk\tp\tauroc\n'
		printf 'GATA1\t1000\t3e-12\t0.91\nSPI1\t10000\t0.002\t0.52\nCEBPA\t5000\t1e-05\tNA\nTAL1\t50000\t0.04\t0.33\n'
		printf 'KLF1\t2000\tNA\t0.71\nIKZF1\t20000\t2.5e-07\t0.64\nRUNX1\t100\t0.5\t0.12\nMYB\t500\t1\tNA\nFLI1\t200000\t0.0009\t0.88\n'
	} > t.tsv
	printf 'x\tseries\ty\n0\ta\t0.2\n1\ta\t0.5\n2\ta\t0.9\n' > c.tsv
	"$TOP/pipelines/lib/curves" --x x --y y --by series c.tsv fig
	(
		. "$TOP/pipelines/lib/html-lib.sh"
		html_head "fixture"
		html_say "One sentence."
		html_figure "$PWD" "$PWD/fig.png" "A figure."
		html_table "$PWD" "$PWD/t.tsv" 100
		html_tail
	) > page.html
}

setup() {
	load helper
	load reports-browser
	command -v chromium >/dev/null || skip "chromium missing"
	cd "$BATS_FILE_TMPDIR"
}

@test "reports-browser: numbers sort as numbers (NA at one end), the filter box filters, the figure decodes, no JavaScript error" {
	grep -q 'data-sort-method="num"' page.html
	check=$(browser_check page.html)
	echo "$check"
	[ -n "$check" ] || fail "no result from the browser (JavaScript did not run?)"
	[[ $check == *'"errors":0,'* ]]
	[[ $check == *'"imgs":1,"broken":0,'* ]]
	[[ $check == *'"headers":4,"filters":1,'* ]]
	[[ $check == *'"sortcols":3,"sorted":"yes"'* ]]
	[[ $check == *'"filter":"yes"'* ]]
}

@test "reports-browser: the check fails on a script error, a broken image, and on tablesort's own number sort" {
	sed 's|</h1>|</h1><script>no_such_function();</script>|' page.html > err.html
	check=$(browser_check err.html)
	echo "$check"
	[[ $check == *'"errors":1,'* ]]
	[[ $check == *'no_such_function'* ]]
	sed 's|src="data:image/png;base64,[^"]*"|src="data:image/png;base64,AAAA"|' page.html > img.html
	check=$(browser_check img.html)
	echo "$check"
	[[ $check == *'"broken":1,'* ]]
	# tablesort.number.js strips the "e" of 1e-05 (it sorts as 1.05)
	sed 's/data-sort-method="num"/data-sort-method="number"/g' page.html > number.html
	check=$(browser_check number.html)
	echo "$check"
	[[ $check == *'"sorted":"no: '* ]]
}
