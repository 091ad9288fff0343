#!/usr/bin/env bats
# The state-dict names attnkit(7)'s EXPORTING A MODEL gives for published
# models (scGPT with and without flash attention, scPRINT and scPRINT-2,
# Geneformer), in a synthetic safetensors file written by numpy: addressed as
# the page says (row ranges [0:d] and [d:2d] of a fused Wqkv / in_proj_weight
# and its bias; BERT's separate query and key), W_Q and W_K give the attention
# numpy computes from the unfused matrices (--check: exit 0, every top pair
# shared), the same bytes under every name; the key rows taken as the query
# fail the check.

setup_file() {
	load helper
	"$PY" -c "import numpy" 2>/dev/null || return 0
	cd "$BATS_FILE_TMPDIR"
	PYTHONPATH="$TOP/tests" "$PY" - <<'PY'
import numpy as np
from safetensors_write import write
rng = np.random.default_rng(11)
n, d, H = 12, 16, 4
dk = d // H
X = rng.standard_normal((n, d)).astype("<f4")
Wq, Wk, Wv = (rng.standard_normal((d, d)).astype("<f4") / 2 for _ in range(3))
bq, bk, bv = (rng.standard_normal(d).astype("<f4") / 4 for _ in range(3))
# flash-attn's Wqkv and PyTorch's in_proj_weight: rows (three, heads, dk)
W = np.concatenate([Wq, Wk, Wv])
b = np.concatenate([bq, bk, bv])
t = {}
for p in ("transformer_encoder.layers.0.self_attn.Wqkv",        # scGPT, flash-attn 1.x
          "transformer_encoder.layers.0.self_attn._impl.Wqkv",  # scGPT, flash_attn_compat
          "transformer.blocks.0.mixer.Wqkv"):                    # scPRINT, scPRINT-2
    t[p + ".weight"], t[p + ".bias"] = W, b
t["transformer_encoder.layers.0.self_attn.in_proj_weight"] = W   # scGPT without flash
t["transformer_encoder.layers.0.self_attn.in_proj_bias"] = b
s = "bert.encoder.layer.0.attention.self."                       # Geneformer
t[s + "query.weight"], t[s + "query.bias"], t[s + "key.weight"], t[s + "key.bias"] = Wq, bq, Wk, bk
write("m.safetensors", t)
np.save("X.npy", X)
# the model's attention per head, from the unfused matrices (float64)
Q = (X.astype(float) @ Wq.T + bq).reshape(n, H, dk).transpose(1, 0, 2)
K = (X.astype(float) @ Wk.T + bk).reshape(n, H, dk).transpose(1, 0, 2)
S = Q @ K.transpose(0, 2, 1) / np.sqrt(dk)
A = np.exp(S - S.max(-1, keepdims=True))
np.save("attn.npy", (A / A.sum(-1, keepdims=True)).astype("<f4"))
open("genes.txt", "w").write("".join(f"g{i}\n" for i in range(n)))
PY
}

setup() {
	load helper
	need_py
	cd "$BATS_FILE_TMPDIR"
}

# fused NAME: attn-topk on the fused projection NAME.weight/.bias, split by rows
fused() {
	local st=m.safetensors:$1
	shift
	ak attn-topk --resid X.npy --wq "$st.weight[0:16]" --wk "$st.weight[16:32]" --bq "$st.bias[0:16]" \
		--bk "$st.bias[16:32]" --heads 4 --genes genes.txt --top 100 --check attn.npy "$@"
}

@test "model-names: scGPT's and scPRINT's fused Wqkv / in_proj_weight, split [0:d] [d:2d], give numpy's attention" {
	local p
	for p in transformer_encoder.layers.0.self_attn.Wqkv transformer_encoder.layers.0.self_attn._impl.Wqkv \
		transformer.blocks.0.mixer.Wqkv; do
		run fused "$p" -o "$p.tsv"
		assert_success
		assert_output --partial "top-100 pairs shared 100 of 100: ok"
	done
	# PyTorch's names: in_proj_weight and in_proj_bias
	local st=m.safetensors:transformer_encoder.layers.0.self_attn.in_proj_
	run ak attn-topk --resid X.npy --wq "${st}weight[0:16]" --wk "${st}weight[16:32]" --bq "${st}bias[0:16]" \
		--bk "${st}bias[16:32]" --heads 4 --genes genes.txt --top 100 --check attn.npy -o torch.tsv
	assert_success
	assert_output --partial "shared 100 of 100: ok"
	for p in transformer_encoder.layers.0.self_attn._impl.Wqkv transformer.blocks.0.mixer.Wqkv; do
		cmp transformer_encoder.layers.0.self_attn.Wqkv.tsv "$p.tsv"
	done
	cmp transformer_encoder.layers.0.self_attn.Wqkv.tsv torch.tsv
}

@test "model-names: Geneformer's separate query and key give the same pairs as the fused split" {
	local s=m.safetensors:bert.encoder.layer.0.attention.self
	run ak attn-topk --resid X.npy --wq "$s.query.weight" --wk "$s.key.weight" --bq "$s.query.bias" \
		--bk "$s.key.bias" --heads 4 --genes genes.txt --top 100 --check attn.npy -o bert.tsv
	assert_success
	assert_output --partial "shared 100 of 100: ok"
	fused transformer.blocks.0.mixer.Wqkv -o fused.tsv 2> /dev/null
	cmp bert.tsv fused.tsv
}

@test "model-names: the key rows taken as the query (a wrong split) fail the check" {
	local st=m.safetensors:transformer.blocks.0.mixer.Wqkv
	run ak attn-topk --resid X.npy --wq "$st.weight[16:32]" --wk "$st.weight[0:16]" --bq "$st.bias[16:32]" \
		--bk "$st.bias[0:16]" --heads 4 --genes genes.txt --top 100 --check attn.npy -o /dev/null
	assert_failure 1
	refute_output --partial ": ok"
	# the value rows as the key
	run ak attn-topk --resid X.npy --wq "$st.weight[0:16]" --wk "$st.weight[32:48]" --bq "$st.bias[0:16]" \
		--bk "$st.bias[32:48]" --heads 4 --genes genes.txt --top 100 --check attn.npy -o /dev/null
	assert_failure 1
}
