#!/usr/bin/env bats
# examples/export_napistu.py: a napistu-torch store (pickled per-layer dict of
# W_q/W_k, residuals/*.npz with layer_0.., metadata.json) becomes a model
# directory, layers in numeric order (layer_10 after layer_9, not after layer_1).

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
	need_py numpy
}

make_store() {
	"$PY" - <<'PY'
import json, os, numpy as np
rng = np.random.default_rng(1)
n, d, L = 30, 16, 12
os.makedirs('store/residuals', exist_ok=True)
w = {f'layer_{l}': {'W_q': rng.standard_normal((d, d)).astype('f4'),
                    'W_k': rng.standard_normal((d, d)).astype('f4'),
                    'b_q': rng.standard_normal(d).astype('f4')} for l in range(L)}
np.savez('store/weights.npz', attention_weights=np.array(w, dtype=object))
for c in ['ctrl', 'stim']:
    np.savez(f'store/residuals/{c}.npz', **{f'layer_{l}': rng.standard_normal((n, d)).astype('f4') for l in range(L)})
json.dump({'model_name': 'toyfm', 'n_heads': 4, 'ordered_vocabulary': [f'G{i}' for i in range(n)],
           'ensembl_ids': [f'ENSG{i:011d}' for i in range(n)]}, open('store/metadata.json', 'w'))
np.save('w10.npy', w['layer_10']['W_q']); np.save('b2.npy', w['layer_2']['b_q'])
PY
}

@test "export_napistu: numeric layer order, Ensembl ids, biases, residuals; attn-topk runs on it" {
	make_store
	run "$PY" "$TOP/examples/export_napistu.py" store model --family T
	assert_success
	assert_output --partial "12 layers"
	[ -f model/layer11.wq.npy ] && [ -f model/resid/stim/layer11.npy ] && [ -f model/layer2.bq.npy ]
	run "$PY" -c "
import numpy as np
assert np.array_equal(np.load('model/layer10.wq.npy'), np.load('w10.npy')), 'layer 10 is not napistu layer_10'
assert np.array_equal(np.load('model/layer2.bq.npy'), np.load('b2.npy'))
z = np.load('store/residuals/ctrl.npz')
assert np.array_equal(np.load('model/resid/ctrl/layer10.npy'), z['layer_10'])
print('ok')"
	assert_output ok
	run head -1 model/genes.txt
	assert_output ENSG00000000000
	run grep -E '^(n_layers|n_heads|family|id_type)' model/meta.tsv
	assert_output "n_layers	12
n_heads	4
family	T
id_type	ensembl"
	run ak attn-topk --resid model/resid/ctrl/layer10.npy --wq model/layer10.wq.npy --wk model/layer10.wk.npy \
		--bq model/layer10.bq.npy --heads 4 --top 3 --genes model/genes.txt
	assert_success
	[ "${#lines[@]}" -eq 4 ]
}

@test "export_napistu: a layer without W_k and a missing head count are clear errors" {
	make_store
	"$PY" -c "
import numpy as np
w = np.load('store/weights.npz', allow_pickle=True)['attention_weights'].item()
del w['layer_3']['W_k']
np.savez('store/weights.npz', attention_weights=np.array(w, dtype=object))"
	run "$PY" "$TOP/examples/export_napistu.py" store model
	assert_failure
	assert_output --partial "layer 3 has no wk"
	make_store
	"$PY" -c "
import json; m = json.load(open('store/metadata.json')); del m['n_heads']; json.dump(m, open('store/metadata.json', 'w'))"
	run "$PY" "$TOP/examples/export_napistu.py" store model
	assert_failure
	assert_output --partial "give --n-heads"
}
