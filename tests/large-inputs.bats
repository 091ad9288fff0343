#!/usr/bin/env bats
# Large-input paths that are cheap to exercise (issue 12): lines longer than
# 1 MB through the TSV reader and the matrix reader, gzip streams made of
# several members (split mid-line, with empty members), and the 64-bit rank
# counts of attn-topk at unit level. The expensive ones (n = 50,000
# --keep-self, ranks beyond 2^31; a TSV over 2^31 bytes through gzip) are in
# bench/large_inputs.sh, run by hand.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "large: a 2.4 MB TSV line through the matrix reader (mat info, mat convert)" {
	need_py numpy
	# one row of 300,000 columns: header and data lines of about 2.4 MB each
	awk 'BEGIN { OFS = "\t"; n = 300000
		printf "row"; for (j = 0; j < n; j++) printf "\tcol%d", j; printf "\n"
		for (i = 0; i < 2; i++) { printf "r%d", i; for (j = 0; j < n; j++) printf "\t%d.5", (i + j) % 7; printf "\n" } }' > wide.tsv
	[ "$(head -1 wide.tsv | wc -c)" -gt 2000000 ]
	run ak mat info wide.tsv
	assert_success
	assert_line "shape	2 x 300000"
	gzip -c wide.tsv > wide.tsv.gz
	ak mat convert wide.tsv.gz wide.npy 2>/dev/null
	"$PY" -c '
import numpy as np
a = np.load("wide.npy")
j = np.arange(300000)
want = np.stack([(i + j) % 7 + 0.5 for i in range(2)])
assert a.shape == (2, 300000) and (a == want).all(), a[:, :5]'
}

@test "large: a 2 MB field is carried byte for byte (bh-fdr over gzip and stdin)" {
	big=$(head -c 1500000 /dev/zero | tr '\0' 'x')
	{
		printf 'id\tp\tnote\n'
		printf 'a\t0.01\t%s\n' "$big"
		printf 'b\t0.5\tshort\n'
		printf 'c\t0.02\t%s%s\n' "$big" "$big"
	} > long.tsv
	gzip -c long.tsv > long.tsv.gz
	ak bh-fdr --p p - < long.tsv.gz > out.tsv
	[ "$(wc -l < out.tsv)" -eq 4 ]
	# the carried column is unchanged (q itself is bh-fdr.bats' business)
	cut -f1-3 out.tsv | cmp - long.tsv
	assert_equal "$(cut -f5 out.tsv | tr '\n' ,)" "significant,1,0,1,"
}

@test "large: concatenated gzip members, split mid-line, with empty members" {
	printf 'from\tto\tp\n' > all.tsv
	awk 'BEGIN { for (i = 0; i < 5000; i++) printf "g%d\tg%d\t%.6f\n", i, (i * 7) % 5000, (i % 997) / 997 }' >> all.tsv
	# members: [0, 1000) bytes, an empty member, [1000, 40000), the rest
	head -c 1000 all.tsv | gzip -c > multi.gz
	gzip -c < /dev/null >> multi.gz
	tail -c +1001 all.tsv | head -c 39000 | gzip -c >> multi.gz
	tail -c +40001 all.tsv | gzip -1 -c >> multi.gz
	gzip -c < /dev/null >> multi.gz
	ak bh-fdr --p p all.tsv > plain.out
	ak bh-fdr --p p multi.gz > multi.out
	cmp plain.out multi.out
	[ "$(wc -l < multi.out)" -eq 5001 ]
	# and the same through stdin (detection by peeking works on a pipe)
	cat multi.gz | ak bh-fdr --p p > pipe.out
	cmp plain.out pipe.out
	# a matrix stream split across members
	ak mat convert "$TOP/examples/small.tsv" m.akm
	n=$(stat -c %s m.akm)
	{ head -c $((n / 2)) m.akm | gzip -c; tail -c +$((n / 2 + 1)) m.akm | gzip -c; } > m2.akm.gz
	ak mat convert m2.akm.gz back.tsv
	cmp back.tsv <(ak mat convert m.akm - --to tsv)
	# a truncated last member is still an error
	n=$(stat -c %s multi.gz)
	head -c $((n - 30)) multi.gz > cut.gz
	run ak bh-fdr --p p cut.gz
	assert_data_error "cut.gz"
}

