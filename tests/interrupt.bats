#!/usr/bin/env bats
# A step killed midway leaves nothing make would reuse (issue 12): a filter
# killed by a signal removes its temporary output and never leaves the final
# name; a pipeline killed midway reruns to the same results as a clean run.

setup() {
	load helper
	cd "$BATS_TEST_TMPDIR"
}

@test "interrupt: attn-topk killed by SIGTERM/SIGINT leaves neither the output nor a temporary" {
	need_py numpy
	"$PY" -c "
import numpy as np
r = np.random.default_rng(0)
np.save('X.npy', r.standard_normal((6000, 64), dtype=np.float32))
np.save('W.npy', r.standard_normal((64, 64)).astype(np.float32))"
	for sig in TERM INT; do
		"$BIN/attn-topk" --resid X.npy --wq W.npy --wk W.npy --heads 4 --top 100000 --threads 1 -o out.tsv.gz &
		pid=$!
		# kill once the temporary output exists (it is created before the pass)
		for _ in $(seq 100); do ls out.tsv.gz.tmp.* >/dev/null 2>&1 && break; sleep 0.05; done
		kill -s "$sig" "$pid"
		# wait in this shell (bats' run would wait in a subshell, which cannot:
		# it returned at once, and ls could race the dying process)
		st=0
		wait "$pid" || st=$?
		[ "$st" -ne 0 ] || skip "the run finished before the signal (machine too fast for n = 6000)"
		[ "$st" -gt 128 ] # killed by the signal, not failed otherwise
		[ ! -e out.tsv.gz ]
		run ls
		refute_output --partial ".tmp."
	done
}

@test "interrupt: within-model pipeline killed midway reruns to the results of a clean run" {
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	ak fm-sim --out sim --genes 150 --layers 4 --categories 2
	PIPE="make -f $TOP/pipelines/within-model.mk AK_BIN=$BIN MODELS=sim/alpha KS=50"
	$PIPE OUT=clean >/dev/null 2>&1
	# kill the whole make process group once some top-K files exist
	setsid $PIPE OUT=cut -j2 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 200); do
		[ "$(ls cut/alpha/*/topk/*.tsv.gz 2>/dev/null | wc -l)" -ge 3 ] && break
		sleep 0.02
	done
	kill -TERM -- -"$pid" 2>/dev/null || true
	wait "$pid" || true
	# whatever is left under its final name is complete
	for f in $(find cut -name '*.gz' 2>/dev/null); do gzip -t "$f" || fail "partial file $f"; done
	# (a recipe's own NAME.tmp may remain; make never takes it for a target,
	# and the rerun overwrites it)
	run $PIPE OUT=cut
	assert_success
	for f in alpha/rank_quantile.50.median.tsv alpha/spearman.median.tsv alpha/consecutive.median.tsv; do
		cmp clean/$f cut/$f || fail "$f differs after the interrupted run"
	done
}
