#!/usr/bin/env bats
# examples/export_torch.py (issue #18, "Verify an export"): a small random
# PyTorch transformer encoder exported to attnkit's model directory, post-LN
# and pre-LN; attn-topk --check against the model's own attention passes for
# every category and layer, from the .npy files and from the fused
# in_proj_weight in model.safetensors; a broken export fails the check; the
# exported attention input of layer 0 equals numpy's from the state dict.

setup_file() {
	load helper
	"$PY" -c "import torch, numpy" 2>/dev/null || return 0
	cd "$BATS_FILE_TMPDIR"
	"$PY" "$TOP/examples/export_torch.py" post --seed 3 2> /dev/null
	"$PY" "$TOP/examples/export_torch.py" pre --norm-first --seed 4 2> /dev/null
}

setup() {
	load helper
	need_py torch
	cd "$BATS_FILE_TMPDIR"
}

# topk DIR CAT L [ARGS...]: attn-topk on the exported npy files of layer L
topk() {
	local m=$1 c=$2 l=$3
	shift 3
	ak attn-topk --resid $m/resid/$c/layer$l.npy --wq $m/layer$l.wq.npy --wk $m/layer$l.wk.npy \
		--bq $m/layer$l.bq.npy --bk $m/layer$l.bk.npy --heads 4 --genes $m/genes.txt --top 20 "$@"
}

@test "export-torch: attn-topk --check passes for every category and layer, post-LN and pre-LN" {
	local m c l
	for m in post pre; do
		for c in cat1 cat2; do
			for l in 0 1; do
				run topk $m $c $l --check $m/check/$c/layer$l.attn.npy
				assert_success
				assert_output --partial "top-100 pairs shared 100 of 100: ok"
			done
		done
	done
}

@test "export-torch: per-head check, and the fused in_proj_weight in model.safetensors gives the same bytes" {
	run topk post cat2 1 --per-head --check post/check/cat2/layer1.attn.npy
	assert_success
	[ "$(grep -c ': ok' <<< "$output")" -eq 4 ]
	local st=post/model.safetensors:encoder.layers.1.self_attn
	topk post cat2 1 > npy.tsv 2> /dev/null
	run ak attn-topk --resid post/resid/cat2/layer1.npy --wq "$st.in_proj_weight[0:32]" --wk "$st.in_proj_weight[32:64]" \
		--bq "$st.in_proj_bias[0:32]" --bk "$st.in_proj_bias[32:64]" --heads 4 --genes post/genes.txt --top 20 \
		--check post/check/cat2/layer1.attn.npy -o st.tsv
	assert_success
	assert_output --partial ": ok"
	cmp npy.tsv st.tsv
}

@test "export-torch: a wrong export fails the check (transposed W_Q, no biases, wrong --heads)" {
	"$PY" -c "import numpy as np; np.save('wqT.npy', np.load('post/layer0.wq.npy').T.copy())"
	run ak attn-topk --resid post/resid/cat1/layer0.npy --wq wqT.npy --wk post/layer0.wk.npy \
		--bq post/layer0.bq.npy --bk post/layer0.bk.npy --heads 4 --check post/check/cat1/layer0.attn.npy
	assert_failure 1
	assert_output --partial "FAILED"
	assert_output --partial "check the export"
	run ak attn-topk --resid post/resid/cat1/layer0.npy --wq post/layer0.wq.npy --wk post/layer0.wk.npy \
		--heads 4 --check post/check/cat1/layer0.attn.npy
	assert_failure 1
	assert_output --partial "FAILED"
	run topk post cat1 0 --heads 2 --check post/check/cat1/layer0.attn.npy
	assert_failure 1
	assert_output --partial "the forward pass has 4 heads, --heads says 2"
}

@test "export-torch: layer 0's exported input is the mean of the cells' embeddings (LayerNorm'd when pre-LN), by numpy" {
	# the model's weights read from model.safetensors by plain json + numpy,
	# the cells regenerated as the script draws them
	"$PY" - <<'PY'
import json, struct, numpy as np
def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], "<f4").reshape(v["shape"])
            for k, v in h.items()}
for m, seed, pre in (("post", 3, False), ("pre", 4, True)):
    W = load(f"{m}/model.safetensors")
    rng = np.random.default_rng(seed)
    n = len(open(f"{m}/genes.txt").read().split())
    for k in range(2):
        rate = rng.gamma(0.8, 2.0, n)
        v = np.log1p(rng.poisson(rate, (40, n))).astype(np.float64)
        x = W["gene.weight"][None] + v[..., None] * W["value.weight"][:, 0] + W["value.bias"]
        if pre:
            mu = x.mean(-1, keepdims=True); var = x.var(-1, keepdims=True)
            x = (x - mu) / np.sqrt(var + 1e-5) * W["encoder.layers.0.norm1.weight"] + W["encoder.layers.0.norm1.bias"]
        got = np.load(f"{m}/resid/cat{k + 1}/layer0.npy")
        assert got.shape == (n, 32) and np.allclose(got, x.mean(0), atol=1e-5), (m, k, np.abs(got - x.mean(0)).max())
    # W_Q, W_K: rows of the fused in_proj_weight
    w = W["encoder.layers.1.self_attn.in_proj_weight"]
    assert np.array_equal(np.load(f"{m}/layer1.wq.npy"), w[:32]) and np.array_equal(np.load(f"{m}/layer1.wk.npy"), w[32:64])
PY
}

@test "export-torch: meta.tsv is tab-separated and the pipelines accept the directory" {
	run awk -F'\t' 'NF != 2 { print "not two tab-separated fields: " $0 }' post/meta.tsv
	assert_output ""
	for k in n_layers n_heads d_model family id_type; do
		grep -q "^$k	" post/meta.tsv || fail "meta.tsv lacks $k"
	done
	run make -n -f "$TOP/pipelines/within-model.mk" AK_BIN="$BIN" MODELS="post pre" OUT=w KS=10
	assert_success
	assert_output --partial "--genes post/genes.txt"
}
