#!/usr/bin/env bats
# mat and the common readers/writers: round trips against numpy, and bad input.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

gen_npy() {
	"$PY" - <<'PY'
import numpy as np
rng = np.random.default_rng(7)
for dt in ["<f4", "<f8", "<i4", "<i8"]:
    a = (rng.standard_normal((7, 5)) * 1000).astype(dt)
    tag = dt[1:]
    np.save(f"c_{tag}.npy", a)
    np.save(f"f_{tag}.npy", np.asfortranarray(a))
    np.save(f"v_{tag}.npy", a[:, 0].copy())
    np.save(f"t_{tag}.npy", a.reshape(7, 5, 1))
# special values survive bit-exactly
np.save("special.npy", np.array([[np.nan, np.inf], [-np.inf, -0.0], [5e-324, 1.7976931348623157e308]]))
np.savez("z.npz", wq=rng.standard_normal((4, 4)).astype("f4"), b=np.arange(3, dtype="<i8"))
np.savez_compressed("zc.npz", wq=rng.standard_normal((64, 64)).astype("f4"), b=np.arange(3, dtype="<i8"))
PY
}

@test "mat --help prints usage and exits 0" {
	run ak mat --help
	assert_success
	assert_output --partial "usage: mat info"
}

@test "mat: npy of every dtype and order reads back bit-exactly (npy -> akm -> npy, numpy compares)" {
	need_py numpy
	gen_npy
	for f in c_* f_* v_* t_* special.npy; do
		ak mat convert "$f" "$f.akm"
		ak mat convert "$f.akm" "rt_$f"
	done
	run "$PY" - <<'PY'
import glob, numpy as np
bad = []
for f in glob.glob("[cfvt]_*.npy") + ["special.npy"]:
    a, b = np.load(f), np.load("rt_" + f)
    if a.dtype != b.dtype or a.shape != b.shape or a.tobytes(order="C") != np.ascontiguousarray(b).tobytes():
        bad.append(f)
print("bad:", bad)
assert not bad
PY
	assert_success
}

@test "mat: npz members, stored and deflated, read bit-exactly" {
	need_py numpy
	gen_npy
	for z in z zc; do
		ak mat convert "$z.npz:wq" "${z}_wq.npy"
		ak mat convert "$z.npz:b.npy" "${z}_b.npy"
	done
	run "$PY" -c "
import numpy as np
for z in ['z', 'zc']:
    d = np.load(z + '.npz')
    assert np.load(z + '_wq.npy').tobytes() == d['wq'].tobytes()
    assert np.load(z + '_b.npy').tobytes() == d['b'].tobytes() and np.load(z + '_b.npy').dtype == d['b'].dtype
print('ok')"
	assert_success
	assert_output ok
}

@test "mat: npz member missing lists the members present" {
	need_py numpy
	gen_npy
	run ak mat info zc.npz:nope
	assert_data_error "zc.npz: no member 'nope' (members: wq, b)"
}

@test "mat: file argument, stdin and gzipped stdin give the same info" {
	need_py numpy
	gen_npy
	ak mat convert c_f4.npy c.akm.gz
	a=$(ak mat info c_f4.npy | grep -v '^file')
	b=$(ak mat info - < c_f4.npy | grep -v '^file')
	c=$(ak mat info - < c.akm.gz | grep -v -e '^file' -e '^format')
	d=$(ak mat info c.akm.gz | grep -v -e '^file' -e '^format')
	[ "$a" = "$b" ]
	[ "$(echo "$a" | grep -v '^format')" = "$c" ]
	[ "$c" = "$d" ]
}

@test "mat: TSV and MatrixMarket round trips keep values (f64 shortest round-trip text)" {
	need_py numpy
	gen_npy
	ak mat convert c_f8.npy c.tsv
	ak mat convert c.tsv c_back.npy
	ak mat convert c_f8.npy c.mtx.gz
	ak mat convert c.mtx.gz c_back2.npy
	run "$PY" -c "
import numpy as np
a = np.load('c_f8.npy')
assert np.array_equal(np.load('c_back.npy'), a)
assert np.array_equal(np.load('c_back2.npy'), a)
print('ok')"
	assert_output ok
}

@test "mat: names attach, travel in .akm and .tsv" {
	need_py numpy
	gen_npy
	printf 'g%s\n' 1 2 3 4 5 6 7 > rows.txt
	printf 'd%s\n' 1 2 3 4 5 > cols.txt
	ak mat convert --row-names rows.txt --col-names cols.txt c_f4.npy named.akm
	ak mat convert named.akm named.tsv
	run head -2 named.tsv
	assert_line --index 0 "row	d1	d2	d3	d4	d5"
	assert_line --partial --index 1 "g1	"
	run ak mat info named.akm
	assert_line "row_names	yes, first g1"
	run ak mat convert --rows-names cols.txt c_f4.npy x.akm
	assert_data_error "cols.txt: 5 names, but c_f4.npy has 7 rows"
	[ ! -e x.akm ]
}

@test "mat: pbmc160 column sums equal scipy mmread's" {
	need_data pbmc160/matrix.mtx.gz
	need_py scipy
	ak mat info --col-sums "$DATA/pbmc160/matrix.mtx.gz" | cut -f3 | tail -n +2 > ours.txt
	run "$PY" -c "
import scipy.io, numpy as np, gzip
m = scipy.io.mmread(gzip.open('$DATA/pbmc160/matrix.mtx.gz')).tocsc()
s = np.asarray(m.sum(axis=0)).ravel()
ours = np.loadtxt('ours.txt')
assert len(ours) == len(s) == 160, (len(ours), len(s))
assert np.array_equal(ours, s), 'column sums differ'
print('ok', int(s.sum()))"
	assert_success
	assert_output --partial ok
}

# ---- bad input: exit 1, one line naming the file, no output file left ----

@test "bad: empty file" {
	: > empty.npy
	run ak mat convert empty.npy out.akm
	assert_data_error "empty.npy: empty input"
	[ ! -e out.akm ]
}

@test "bad: header-only TSV matrix" {
	printf 'row\ta\tb\n' > h.tsv
	run ak mat convert h.tsv out.npy
	assert_data_error "h.tsv: header only, no data rows"
	[ ! -e out.npy ]
}

@test "bad: truncated gzip" {
	printf 'row\ta\n0\t1\n1\t2\n' | gzip > t.tsv.gz
	head -c 20 t.tsv.gz > cut.tsv.gz
	run ak mat convert cut.tsv.gz out.npy
	assert_data_error "cut.tsv.gz: truncated gzip stream"
	[ ! -e out.npy ]
}

@test "bad: gzip of garbage" {
	printf '\037\213\010\000garbagegarbagegarbage' > g.gz
	run ak mat info g.gz
	assert_data_error "g.gz: corrupt gzip stream"
}

@test "bad: wrong magic in an .npy / .akm file" {
	printf 'this is not numpy at all' > w.npy
	run ak mat info w.npy
	assert_data_error "w.npy: not a npy file (wrong magic bytes)"
	printf 'neither an akm stream' > w.akm
	run ak mat info w.akm
	assert_data_error "w.akm: not a akm file"
}

@test "bad: truncated .akm stream (no trailer) and corrupted data" {
	need_py numpy
	gen_npy
	ak mat convert c_f4.npy c.akm
	size=$(stat -c %s c.akm)
	head -c $((size - 24)) c.akm > cut.akm
	run ak mat convert cut.akm out.npy
	assert_data_error "cut.akm: truncated .akm stream: the trailer is missing"
	[ ! -e out.npy ]
	# flip one data byte: the checksum catches it
	cp c.akm bad.akm
	printf '\377' | dd of=bad.akm bs=1 seek=60 conv=notrunc 2>/dev/null
	run ak mat info bad.akm
	assert_data_error "checksum mismatch"
}

@test "bad: object (pickled) and unsupported dtypes in .npy" {
	need_py numpy
	"$PY" -c "
import numpy as np
np.save('obj.npy', np.array([{'a': 1}, None], dtype=object), allow_pickle=True)
np.save('c16.npy', np.zeros(3, np.complex128))
np.save('u1.npy', np.zeros(3, np.uint8))"
	run ak mat info obj.npy
	assert_data_error "obj.npy: object arrays are not supported"
	run ak mat info c16.npy
	assert_data_error "c16.npy: unsupported dtype '<c16'"
	run ak mat info u1.npy
	assert_data_error "unsupported dtype '|u1'"
}

@test "bad: a 3 GB shape claim in a 1 kB file fails as truncation, fast" {
	need_py numpy
	"$PY" -c "
import numpy as np
h = b\"{'descr': '<f4', 'fortran_order': False, 'shape': (30000, 25000), }\"
h = h + b' ' * (117 - len(h)) + b'\n'
open('big.npy', 'wb').write(b'\x93NUMPY\x01\x00' + len(h).to_bytes(2, 'little') + h + b'\0' * 900)"
	run ak mat convert big.npy out.akm
	assert_data_error "big.npy: truncated .npy data: shape says 3000000000 bytes of data, found 900"
	[ ! -e out.akm ]
}

@test "bad: ragged TSV rows and non-numeric fields name file and line" {
	printf 'row\ta\tb\n0\t1\t2\n1\t3\n' > r.tsv
	run ak mat info r.tsv
	assert_data_error "r.tsv:3: expected 3 fields, found 2"
	printf 'row\ta\tb\n0\t1\tx1\n' > n.tsv
	run ak mat info n.tsv
	assert_data_error "n.tsv:2: column 'b': \"x1\" is not a number"
}

@test "bad: MatrixMarket with out-of-range index, and truncated" {
	printf '%%%%MatrixMarket matrix coordinate integer general\n3 3 2\n1 1 5\n4 1 2\n' > o.mtx
	run ak mat info o.mtx
	assert_data_error "o.mtx:4: row index 4 out of range 1..3"
	printf '%%%%MatrixMarket matrix coordinate integer general\n3 3 5\n1 1 5\n' > s.mtx
	run ak mat info s.mtx
	assert_data_error "s.mtx: truncated MatrixMarket file: 1 of 5 entries"
}

@test "bad: output to /dev/full is a write error, exit 1" {
	need_py numpy
	gen_npy
	run ak mat convert c_f4.npy - --to tsv > /dev/full
	run bash -c "'$BIN/mat' convert c_f4.npy - --to tsv > /dev/full"
	assert_data_error "write error: No space left on device"
}

@test "usage errors exit 2" {
	run ak mat
	assert_failure 2
	run ak mat frobnicate x
	assert_failure 2
	assert_output --partial "unknown command 'frobnicate'"
	run ak mat convert a.npy -
	assert_failure 2
	assert_output --partial "needs --to FMT"
	run ak mat convert --dtype f16 a.npy b.npy
	assert_failure 2
}

@test "refuses to write binary to a terminal" {
	command -v script >/dev/null || skip "script(1) missing"
	need_py numpy
	gen_npy
	run script -qec "'$BIN/mat' convert c_f4.npy - --to npy" /dev/null
	assert_output --partial "refusing to write binary npy data to a terminal"
}
