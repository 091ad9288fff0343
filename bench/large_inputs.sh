#!/usr/bin/env bash
# The 64-bit paths of issue 12 that are too slow for the test suite; run by
# hand (minutes, a few GB of temporary disk, about 1 GB of memory):
#   nice bash bench/large_inputs.sh            (both parts)
#   nice bash bench/large_inputs.sh ranks      (only part 1)
#   nice bash bench/large_inputs.sh gzip       (only part 2)
# 1. attn-topk with n = 50,000 genes and --keep-self: N = n^2 = 2.5e9 > 2^31
#    pairs. Inputs are small integers and --raw, so every score is exact in
#    float32 and numpy (float64) can count "entries strictly greater" exactly:
#    the ranks of --at pairs (many beyond 2^31) are checked against it.
# 2. A TSV over 2^31 bytes (uncompressed) through gzip: edge-join streams it;
#    every line must come out, and the last pair's label must be right.
# Exits non-zero on any mismatch. TMPDIR picks the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."
B=$PWD/bin
PY=/usr/bin/python3
what=${1:-all}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ak-large.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

if [ "$what" = all ] || [ "$what" = ranks ]; then
	echo "== 1. attn-topk n = 50,000 --keep-self --raw: ranks beyond 2^31"
	$PY - <<-'EOF'
	import numpy as np
	r = np.random.default_rng(50000)
	n, d = 50000, 16
	np.save("X.npy", r.integers(-3, 4, size=(n, d)).astype(np.float32))
	np.save("WQ.npy", r.integers(-2, 3, size=(d, d)).astype(np.float32))
	np.save("WK.npy", r.integers(-2, 3, size=(d, d)).astype(np.float32))
	open("genes.txt", "w").write("".join("g%d\n" % i for i in range(n)))
	with open("at.tsv", "w") as f:
	    f.write("from\tto\n")
	    for a, b in r.integers(0, n, size=(60, 2)):
	        f.write("g%d\tg%d\n" % (a, b))
	EOF
	s=$(date +%s.%N)
	"$B/attn-topk" --resid X.npy --wq WQ.npy --wk WK.npy --heads 1 --raw --keep-self \
		--genes genes.txt --at at.tsv -o at.out
	e=$(date +%s.%N)
	echo "attn-topk --at over 2.5e9 pairs: $(echo "$e - $s" | bc) s"
	$PY - <<-'EOF'
	import numpy as np, csv
	X = np.load("X.npy").astype(np.float64)
	Q = X @ np.load("WQ.npy").astype(np.float64).T
	K = X @ np.load("WK.npy").astype(np.float64).T
	n = X.shape[0]
	N = n * n
	rows = list(csv.DictReader(open("at.out"), delimiter="\t"))
	vals = np.array([(Q[int(x["from"][1:])] @ K[int(x["to"][1:])]) / 4.0 for x in rows])
	# Scores are integers / 4 (d_k = 16): count them exactly with a histogram
	# of the integer numerators, then "strictly greater" is a suffix sum.
	Qi, Ki = Q.astype(np.int64), K.astype(np.int64)
	lim = int(np.abs(Qi).max(axis=0) @ np.abs(Ki).max(axis=0)) + 1
	hist = np.zeros(2 * lim + 1, dtype=np.int64)
	for i in range(0, n, 1000):
	    S = (Q[i:i + 1000] @ K.T).ravel().astype(np.int64)  # exact: integers < 2^53
	    hist += np.bincount(S + lim, minlength=2 * lim + 1)
	above = np.concatenate([np.cumsum(hist[::-1])[::-1][1:], [0]])
	greater = np.array([above[int(v * 4) + lim] for v in vals])
	bad = 0
	for x, v, g in zip(rows, vals, greater):
	    rank = int(x["rank"])
	    if float(x["value"]) != v or rank != g + 1 or float(x["quantile"]) != rank / N:
	        print("MISMATCH", x, v, g + 1)
	        bad += 1
	big = sum(int(x["rank"]) > 2**31 for x in rows)
	print("pairs checked: %d, ranks beyond 2^31: %d, max rank %d of N = %d, mismatches: %d"
	      % (len(rows), big, max(int(x["rank"]) for x in rows), N, bad))
	raise SystemExit(1 if bad or big == 0 else 0)
	EOF
fi

if [ "$what" = all ] || [ "$what" = gzip ]; then
	echo "== 2. a TSV over 2^31 bytes through gzip (edge-join, streaming)"
	printf 'g1\tg2\ng5\tg7\n' > ref.tsv
	# 56 M lines of 40 bytes: 2.24e9 bytes > 2^31; the last pair is in the reference
	awk 'BEGIN { print "from\tto\tvalue"
		for (i = 0; i < 56000000; i++) printf "g%d\tg%d\t0.12345678901234567890123456\n", i % 1000, (i * 7) % 1000
		print "g5\tg7\t1" }' | gzip -1 > big.tsv.gz
	bytes=$(gzip -dc big.tsv.gz | wc -c)
	echo "uncompressed bytes: $bytes ($(echo "$bytes > 2^31" | bc) means > 2^31)"
	s=$(date +%s.%N)
	out=$("$B/edge-join" --ref ref.tsv --no-header big.tsv.gz | awk 'END { print NR; print $0 }')
	e=$(date +%s.%N)
	echo "edge-join over it: $(echo "$e - $s" | bc) s"
	lines=$(echo "$out" | head -1)
	last=$(echo "$out" | tail -1)
	echo "output lines: $lines (want 56000002), last: $last"
	[ "$lines" -eq 56000002 ] && [ "$(echo "$last" | cut -f4)" = 1 ] || { echo "MISMATCH" >&2; exit 1; }
fi
echo "large inputs: ok"
