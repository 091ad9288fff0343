#!/usr/bin/env bats
# .safetensors weights (files written here by numpy with a hand-built header,
# as the format specifies: the safetensors Python package is not installed),
# row ranges for fused projections, and the formats that are refused by name
# (PyTorch checkpoints made by torch.save, pickles, HDF5, unknown binaries).

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

# st_write: model.safetensors with F32, F16, BF16, F64, I64 and I8 tensors,
# a fused in_proj (3d x d) and its bias, and each tensor's exact float
# value as REF_NAME.npy (float16 and bfloat16 widened by numpy itself).
st_write() {
	PYTHONPATH="$TOP/tests" "$PY" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(7)
d = 8
W = rng.standard_normal((3 * d, d)).astype("<f4")
b = rng.standard_normal(3 * d).astype("<f4")
H = np.concatenate([rng.standard_normal(10), [65504, -65504, 6e-8, 1e-5, 0.0, -0.0]]).astype("<f2").reshape(4, 4)
bf = (rng.standard_normal((5, 3)).astype("<f4").view("<u4") >> 16).astype("<u2")
D = rng.standard_normal((2, 3, 2))
tensors = {
    "enc.layers.0.self_attn.in_proj_weight": ("F32", W),
    "enc.layers.0.self_attn.in_proj_bias": ("F32", b),
    "h16": ("F16", H),
    "b16": ("BF16", bf),
    "f64": ("F64", D.astype("<f8")),
    "ids": ("I64", np.arange(6, dtype="<i8")),
    "mask": ("I8", np.ones(3, "i1")),
}
write("model.safetensors", tensors)
np.save("REF_W.npy", W)
np.save("REF_b.npy", b)
np.save("REF_h16.npy", H.astype("<f4"))
np.save("REF_b16.npy", (bf.astype("<u4") << 16).view("<f4"))
np.save("REF_f64.npy", D)
PY
}

# same A B: two .npy files hold the same shape and bit-identical values
same() {
	"$PY" -c "
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
assert a.shape == b.shape, (a.shape, b.shape)
assert a.dtype == b.dtype, (a.dtype, b.dtype)
assert np.array_equal(a.view('u1'), b.view('u1')), 'values differ'
" "$1" "$2"
}

@test "mat info lists every tensor with its dtype and shape, in header order" {
	need_py
	st_write
	run ak mat info model.safetensors
	assert_success
	assert_output "$(printf 'tensor\tdtype\tshape
enc.layers.0.self_attn.in_proj_weight\tF32\t24 x 8
enc.layers.0.self_attn.in_proj_bias\tF32\t24
h16\tF16\t4 x 4
b16\tBF16\t5 x 3
f64\tF64\t2 x 3 x 2
ids\tI64\t6
mask\tI8\t3')"
	run ak mat info model.safetensors:h16
	assert_success
	assert_line --partial "format	safetensors"
	assert_line "shape	4 x 4"
}

@test "F32, F16, BF16, F64 load bit-identical to numpy's own widening" {
	need_py
	st_write
	ak mat convert model.safetensors:enc.layers.0.self_attn.in_proj_weight W.npy
	same W.npy REF_W.npy
	ak mat convert model.safetensors:h16 h16.npy
	same h16.npy REF_h16.npy
	ak mat convert model.safetensors:b16 b16.npy
	same b16.npy REF_b16.npy
	ak mat convert model.safetensors:f64 f64.npy
	same f64.npy REF_f64.npy
	# F16's extremes and subnormals survive exactly
	run ak mat info model.safetensors:h16
	assert_line "max	65504"
	assert_line "min	-65504"
}

@test "row ranges split fused projections: [a:b] on safetensors and on .npy" {
	need_py
	st_write
	local W=model.safetensors:enc.layers.0.self_attn.in_proj_weight
	ak mat convert "$W[8:16]" k.npy
	ak mat convert "$W[16:]" v.npy
	ak mat convert 'REF_W.npy[:8]' q.npy
	ak mat convert 'model.safetensors:enc.layers.0.self_attn.in_proj_bias[8:16]' bk.npy
	"$PY" -c "
import numpy as np
W, b = np.load('REF_W.npy'), np.load('REF_b.npy')
assert np.array_equal(np.load('q.npy'), W[:8])
assert np.array_equal(np.load('k.npy'), W[8:16])
assert np.array_equal(np.load('v.npy'), W[16:])
assert np.array_equal(np.load('bk.npy'), b[8:16])
"
	run ak mat info "$W[20:30]"
	assert_data_error "row range [20:30] is outside its 24 rows"
	run ak mat info "$W[5:5]"
	assert_data_error "empty row range"
}

@test "attn-topk takes W_Q, W_K and biases from one safetensors file, as from .npy" {
	need_py
	st_write
	"$PY" -c "
import numpy as np
np.save('X.npy', np.random.default_rng(3).standard_normal((30, 8)).astype('f4'))
W, b = np.load('REF_W.npy'), np.load('REF_b.npy')
np.save('wq.npy', W[:8]); np.save('wk.npy', W[8:16]); np.save('bq.npy', b[:8]); np.save('bk.npy', b[8:16])
"
	local P=model.safetensors:enc.layers.0.self_attn.in_proj_
	ak attn-topk --resid X.npy --wq "${P}weight[0:8]" --wk "${P}weight[8:16]" \
		--bq "${P}bias[0:8]" --bk "${P}bias[8:16]" --heads 2 --top 50 -o st.tsv
	ak attn-topk --resid X.npy --wq wq.npy --wk wk.npy --bq bq.npy --bk bk.npy --heads 2 --top 50 -o npy.tsv
	[ "$(wc -l < st.tsv)" -eq 51 ]
	cmp st.tsv npy.tsv
	# the whole fused matrix is not a d x d W_Q
	run ak attn-topk --resid X.npy --wq "${P}weight" --wk wk.npy --heads 2
	assert_failure
	assert_output --partial "24 x 8"
}

@test "a missing tensor, an unsupported dtype, a file of several tensors: named" {
	need_py
	st_write
	run ak mat info model.safetensors:nope
	assert_data_error "no tensor 'nope'"
	assert_output --partial "enc.layers.0.self_attn.in_proj_weight"
	run ak mat info model.safetensors:mask
	assert_data_error "tensor 'mask' has dtype I8"
	run ak mat convert model.safetensors x.npy
	assert_data_error "a safetensors file with 7 tensors: name one as model.safetensors:NAME"
	gzip -k model.safetensors
	run ak mat info model.safetensors.gz
	assert_data_error "a safetensors file, which is read by offset"
}

# bad HEADER_JSON [DATA_BYTES] [LENGTH_OVERRIDE]: a file with that header
bad() {
	"$PY" -c "
import struct, sys
h = sys.argv[1].encode(); n = int(sys.argv[2]); ln = int(sys.argv[3]) if len(sys.argv) > 3 else len(h)
open('bad.safetensors', 'wb').write(struct.pack('<Q', ln) + h + bytes(n))
" "$@"
}

@test "malformed headers: clean errors naming the file and the reason" {
	need_py
	bad '{"a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}}' 8
	run ak mat info bad.safetensors:a
	assert_data_error "outside the 8 bytes of data (truncated file?)"
	bad '{"a": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 16]}}' 16
	run ak mat info bad.safetensors:a
	assert_data_error "shape and dtype F32 need 24 bytes, data_offsets give 16"
	bad '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}' 4
	run ak mat info bad.safetensors
	assert_data_error "tensor 'a' appears twice"
	bad '{"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 4]}}' 4
	run ak mat info bad.safetensors
	assert_data_error "unknown dtype"
	bad '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}' 4
	run ak mat info bad.safetensors
	assert_data_error "bad safetensors header"
	bad '{"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}' 4
	run ak mat info bad.safetensors
	assert_data_error "expected a non-negative integer"
	bad '{}' 0 4000
	run ak mat info bad.safetensors
	assert_data_error "truncated safetensors file"
	bad '{"a": {"dtype": "F32", "shape": [99999999999, 99999999999, 99999999999], "data_offsets": [0, 4]}}' 4
	run ak mat info bad.safetensors
	assert_data_error "need 18446744073709551615 bytes"
}

@test "PyTorch checkpoints and pickles are refused with the way to export" {
	need_py torch
	"$PY" -c "
import pickle, torch
sd = {'w': torch.zeros(3, 3)}
torch.save(sd, 'model.pt')
torch.save(sd, 'legacy.pth', _use_new_zipfile_serialization=False)
torch.save(sd, 'renamed.npz')   # a zip: must not be taken for numpy's
pickle.dump({'w': [1.0]}, open('obj.pkl', 'wb'))
"
	for f in model.pt legacy.pth renamed.npz obj.pkl; do
		run ak mat convert "$f" out.npy
		assert_data_error "which attnkit does not load"
		assert_output --partial "safetensors.torch.save_file"
		assert_output --partial "numpy.save"
		refute_output --partial "corner label"
		refute_output --partial "npz:MEMBER"
	done
	run ak attn-topk --resid model.pt --wq model.pt --wk model.pt --heads 1
	assert_data_error "model.pt: a PyTorch checkpoint"
}

@test "HDF5 and unknown binary formats are named, never parsed as TSV" {
	need_py h5py
	"$PY" -c "
import h5py, numpy as np
with h5py.File('a.h5ad', 'w') as f: f['X'] = np.zeros((2, 2))
open('blob.dat', 'wb').write(bytes(range(256)) * 4)
"
	printf 'PAR1\0\0\0' > t.parquet
	# HDF5 is read (common/h5mat.c), but not from a pipe: named, not parsed as TSV
	run ak mat info a.h5ad
	assert_success
	assert_output --partial "dataset"
	run bash -c "cat a.h5ad | '$ATTNKIT_BIN/mat' info -"
	assert_failure
	assert_output --partial "HDF5 needs a file name"
	refute_output --partial "corner label"
	run ak mat info blob.dat
	assert_data_error "an unrecognised binary format (first bytes 00 01 02 03)"
	refute_output --partial "corner label"
	run ak mat info t.parquet
	assert_data_error "a Parquet file"
	gzip -c blob.dat > blob.gz
	run ak mat info blob.gz
	assert_data_error "an unrecognised binary format"
	# text still goes to the TSV reader (and its own messages)
	printf 'a\tb\n' > t.tsv
	run ak mat info t.tsv
	assert_failure
	refute_output --partial "binary"
}
