#!/usr/bin/env bats
# SCHED=slurm (issue 20) against a real one-node SLURM cluster (slurmctld +
# slurmd + munged on loopback ports, started here by tests/slurm-cluster):
# the pipelines give byte-identical outputs to a local run, every heavy recipe
# is a SLURM job (jobcomp/filetxt lists them), a cancelled job leaves nothing
# make takes as done, and SCHED's errors are clear. One cluster run is
# enough: the sanitizer passes of make check (AK_SAN_PASS=1) skip the file.

setup_file() {
	export BATS_NO_PARALLELIZE_WITHIN_FILE=true
	[ -z "${AK_SAN_PASS:-}${AK_VALGRIND:-}" ] || return 0
	CL=$BATS_FILE_TMPDIR/cluster
	local rc=0
	"$BATS_TEST_DIRNAME/slurm-cluster" start "$CL" > "$BATS_FILE_TMPDIR/cluster.out" 2>&1 || rc=$?
	echo "$rc" > "$BATS_FILE_TMPDIR/cluster.rc"
}

teardown_file() {
	[ -z "${AK_SAN_PASS:-}${AK_VALGRIND:-}" ] || return 0
	"$BATS_TEST_DIRNAME/slurm-cluster" stop "$BATS_FILE_TMPDIR/cluster" || true
}

setup() {
	load helper
	[ -z "${AK_SAN_PASS:-}" ] || skip "one cluster run is enough (not under the sanitizer passes)"
	[ -z "${AK_VALGRIND:-}" ] || skip "one cluster run is enough (not under valgrind)"
	cd "$BATS_TEST_TMPDIR"
	command -v datamash >/dev/null || skip "datamash missing"
	command -v gnuplot >/dev/null || skip "gnuplot missing"
	CL=$BATS_FILE_TMPDIR/cluster
	export SOURCE_DATE_EPOCH=1700000000
	WM="make -f $TOP/pipelines/within-model.mk AK_BIN=$BIN"
	PM="make -f $TOP/pipelines/perturbation.mk AK_BIN=$BIN"
}

# Skip unless the cluster came up (exit 3 of slurm-cluster: not available here).
need_cluster() {
	local rc
	rc=$(cat "$BATS_FILE_TMPDIR/cluster.rc")
	[ "$rc" -eq 3 ] && skip "no local SLURM cluster: $(tail -1 "$BATS_FILE_TMPDIR/cluster.out")"
	[ "$rc" -eq 0 ] || fail "slurm-cluster start failed: $(cat "$BATS_FILE_TMPDIR/cluster.out")"
	export SLURM_CONF=$CL/slurm.conf
	JC=$CL/jobcomp.txt
	touch "$JC"
	JC0=$(wc -l < "$JC")
}

# jobcomp records since need_cluster: "name state tres", one per finished job.
jobs_since() {
	tail -n +$((JC0 + 1)) "$JC" | sed -n 's/.* Name=\([^ ]*\) JobState=\([^ ]*\) .* Tres=\([^ ]*\) .*/\1 \2 \3/p'
}

# The within-model data and its local run, made once for the file (both
# within-model tests compare against it): 2 categories x 2 layers. Local
# runs use the BLAS threads the SLURM jobs get (THREADS).
WM_ARGS=(MODELS=sim/alpha KS="20 80" THREADS=1)
wm_local() {
	local ref=$BATS_FILE_TMPDIR/wm
	if [ ! -e "$ref/local/report.html" ]; then
		mkdir -p "$ref"
		(cd "$ref" && ak fm-sim --out sim --genes 120 --layers 2 --categories 2 &&
			OPENBLAS_NUM_THREADS=1 ATTNKIT_THREADS=1 $WM "${WM_ARGS[@]}" OUT=local -j2 > local.log 2>&1) || { cat "$ref/local.log"; false; }
	fi
	ln -s "$ref/sim" "$ref/local" .
}

# Count of jobs named $1 in state $2.
njobs() {
	jobs_since | awk -v n="$1" -v s="$2" '$1 == n && $2 == s' | wc -l
}

@test "slurm: within-model, SCHED=slurm -j4 is byte-identical to local; every attn-topk and rsa is a SLURM job" {
	need_cluster
	wm_local
	[ "$(jobs_since | wc -l)" -eq 0 ]
	run $WM "${WM_ARGS[@]}" OUT=slurm SCHED=slurm -j4
	assert_success
	# .ak-step: the status lines' per-run counters, not an output
	run diff -r -x .ak-step local slurm
	assert_success
	[ -s slurm/report.html ]
	# 2 categories x 2 layers x (top-K + --at) and one rsa per category; nothing else
	jobs_since
	[ "$(njobs ak:attn-topk COMPLETED)" -eq 8 ]
	[ "$(njobs ak:rsa COMPLETED)" -eq 2 ]
	[ "$(jobs_since | wc -l)" -eq 10 ]
	# resources: 1 CPU (THREADS); memory from n, d, H and K (slurm-step: 256 MB +
	# 16 n d + 4 cpus (H + 1) 256 n + 48 K bytes; a --at pass, its table instead of K)
	read -r n d < <("$PY" -c 'import numpy as np, sys; print(*np.load(sys.argv[1]).shape)' sim/alpha/resid/cat1/layer0.npy)
	h=$(awk -F'\t' '$1 == "n_heads" { print $2 }' sim/alpha/meta.tsv)
	want=$((256 + (16 * n * d + 4 * (h + 1) * 256 * n + 48 * 80 + 1048575) / 1048576))
	run bash -c "grep ' Name=ak:attn-topk ' '$JC' | tail -n 8 | grep -o 'Tres=cpu=[0-9]*,mem=[0-9]*M' | sort | uniq -c"
	assert_output --regexp "^ *8 Tres=cpu=1,mem=($want|$((want + 1)))M$"
	# rsa: 256 MB + 6 x its inputs
	b=$(cat sim/alpha/resid/cat1/layer*.npy | wc -c)
	jobs_since | grep -q "^ak:rsa COMPLETED cpu=1,mem=$((256 + (6 * b + 1048575) / 1048576))M,"
	# make is still the cache
	run $WM "${WM_ARGS[@]}" OUT=slurm SCHED=slurm
	assert_output --partial "Nothing to be done"
}

@test "slurm: perturbation (ps-sim), SCHED=slurm -j4 is byte-identical to local; each heavy filter is a SLURM job" {
	need_cluster
	ak ps-sim --out s --genes 40 --tfs 2 --targets 5 --cells 40 --control 80
	args=(COUNTS=s/counts.mtx GENES=s/genes.txt CELLS=s/cells.tsv REF=s/grn.tsv REF_COLS=from,to
		"EDGES=real=s/edges_real.tsv" DRAWS=10 FOLDS=3)
	# the BLAS threads a SLURM job gets (THREADS, default 2): coexpr's
	# products change in the last bits with OpenBLAS's thread count
	OPENBLAS_NUM_THREADS=2 ATTNKIT_THREADS=2 $PM "${args[@]}" OUT=local -j2 > local.log 2>&1 || { cat local.log; false; }
	run $PM "${args[@]}" OUT=slurm SCHED=slurm -j4
	assert_success
	run diff -r -x .ak-step local slurm
	assert_success
	[ -s slurm/report.html ] && [ -s slurm/registry.tsv ]
	got=$(jobs_since | awk '{ print $1, $2 }' | sort | uniq -c | awk '{ print $2, $3, $1 }')
	echo "$got"
	# edge types coexpr and real: a residualisation each, two curveball nulls each;
	# logit-cv: the protocol's fits and the battery's (models x splits, matched)
	[ "$got" = "$(printf '%s\n' 'ak:coexpr COMPLETED 1' 'ak:de-call COMPLETED 1' 'ak:edge-null COMPLETED 4' \
		'ak:gene-stats COMPLETED 1' 'ak:logit-cv COMPLETED 14' 'ak:residualize COMPLETED 2')" ]
}

@test "slurm: a cancelled job leaves nothing make takes as done; the rerun submits only what is missing" {
	need_cluster
	wm_local
	# every task waits 2 s before it starts: time to see it running and cancel it
	printf '#!/bin/sh\nsleep 2\n' > slow.sh
	chmod +x slow.sh
	$WM "${WM_ARGS[@]}" OUT=slurm SCHED=slurm SLURM_ARGS="--task-prolog=$PWD/slow.sh" -j2 > first.log 2>&1 &
	mpid=$!
	id=
	for _ in $(seq 300); do
		id=$(squeue -h -t R -n ak:attn-topk -o %i | head -1)
		[ -n "$id" ] && break
		sleep 0.1
	done
	[ -n "$id" ] || { kill "$mpid"; fail "no running attn-topk job seen"; }
	scancel "$id"
	st=0
	wait "$mpid" || st=$?
	cat first.log
	[ "$st" -ne 0 ]
	jobs_since
	[ "$(jobs_since | grep -c '^ak:attn-topk CANCELLED')" -eq 1 ]
	done1=$(jobs_since | grep -c ' COMPLETED ' || true)
	# what exists is complete and right; the report is not there
	[ ! -e slurm/report.html ]
	n=0
	while read -r f; do
		cmp "$f" "local/${f#slurm/}"
		n=$((n + 1))
	done < <(find slurm -path slurm/.ak-step -prune -o -type f ! -name .settings -print)
	[ "$n" -lt "$(find local/ -type f ! -name .settings | wc -l)" ]
	JC0=$(wc -l < "$JC")
	run $WM "${WM_ARGS[@]}" OUT=slurm SCHED=slurm -j2
	assert_success
	run diff -r -x .ak-step local slurm
	assert_success
	# the 10 jobs of the pipeline: the rerun ran those that had not completed
	[ "$(jobs_since | wc -l)" -eq $((10 - done1)) ]
	[ "$(jobs_since | grep -vc ' COMPLETED ' || true)" -eq 0 ]
}

@test "slurm: Ctrl-C on make cancels its running jobs (srun --quit-on-interrupt); nothing is left as done" {
	need_cluster
	ak fm-sim --out sim --genes 120 --layers 2 --categories 1
	printf '#!/bin/sh\nsleep 30\n' > slow.sh
	chmod +x slow.sh
	# its own process group, as a terminal's foreground job would be
	setsid $WM MODELS=sim/alpha KS=20 THREADS=1 OUT=out SCHED=slurm SLURM_ARGS="--task-prolog=$PWD/slow.sh" \
		-j2 > make.log 2>&1 &
	mpid=$!
	for _ in $(seq 300); do
		[ "$(squeue -h -t R -n ak:attn-topk | wc -l)" -eq 2 ] && break
		sleep 0.1
	done
	[ "$(squeue -h -t R -n ak:attn-topk | wc -l)" -eq 2 ] || { kill -- -"$mpid"; fail "jobs not running"; }
	kill -INT -- -"$mpid"
	st=0
	wait "$mpid" || st=$?
	cat make.log
	[ "$st" -ne 0 ]
	# well before the prologs' 30 s: both jobs are gone, no output exists
	for _ in $(seq 100); do
		[ "$(squeue -h -n ak:attn-topk | wc -l)" -eq 0 ] && break
		sleep 0.1
	done
	[ "$(squeue -h -n ak:attn-topk | wc -l)" -eq 0 ]
	[ -z "$(find out -path out/.ak-step -prune -o -type f ! -name .settings -print)" ]
}

@test "slurm: SCHED other than local or slurm is an error naming it" {
	ak fm-sim --out sim --genes 120 --layers 2 --categories 1
	run $WM MODELS=sim/alpha OUT=out SCHED=pbs
	assert_failure
	assert_output --partial "SCHED=pbs: unknown scheduler"
	[ ! -e out/report.html ]
}

@test "slurm: SCHED=slurm without srun on PATH is a clear error before anything runs" {
	ak fm-sim --out sim --genes 120 --layers 2 --categories 1
	# a PATH with make and the shell, no srun
	mkdir nosrun
	ln -s "$(command -v make)" "$(command -v bash)" "$(command -v sh)" nosrun/
	run env PATH="$PWD/nosrun" $WM MODELS=sim/alpha OUT=out SCHED=slurm
	assert_failure
	assert_output --partial "SCHED=slurm: srun not found on PATH"
	[ ! -e out/alpha ]
}

@test "slurm-step: srun's resources from the filter's arguments (n, d, H, K; inputs), the environment overrides" {
	need_py
	# a fake srun on PATH: prints its arguments and the thread variables
	mkdir fake
	printf '#!/bin/sh\nfor a; do echo "$a"; done\necho "threads=$ATTNKIT_THREADS,$OPENBLAS_NUM_THREADS"\n' > fake/srun
	chmod +x fake/srun
	ln -s "$TOP/pipelines/lib/slurm/bin/attn-topk" "$TOP/pipelines/lib/slurm/bin/rsa" fake/
	"$PY" -c 'import numpy as np; np.save("x.npy", np.zeros((3000, 256), np.float32))'
	head -c 1000000 /dev/urandom > a.bin
	head -c 500000 /dev/urandom > b.bin
	export PATH=$PWD/fake:$PATH AK_BIN=$BIN AK_THREADS=3
	run attn-topk --resid x.npy --wq w --wk w --heads 8 --top 10000 --threads 2 -o out.tsv
	assert_success
	want=$("$PY" -c 'import math; n, d, h, k, c = 3000, 256, 8, 10000, 2; print(256 + math.ceil((16*n*d + 4*c*(h+1)*256*n + 48*k) / 2**20))')
	assert_output "$(printf '%s\n' --ntasks=1 --cpus-per-task=2 "--mem=$want" --time=4:00:00 --job-name=ak:attn-topk --quiet --quit-on-interrupt \
		"$BIN/attn-topk" --resid x.npy --wq w --wk w --heads 8 --top 10000 --threads 2 -o out.tsv threads=2,2)"
	# no --threads: AK_THREADS (the pipeline's THREADS); inputs: 256 MB + 6 x their size
	run rsa a.bin --label x b.bin
	assert_success
	assert_line --index 1 --cpus-per-task=3
	assert_line --index 2 "--mem=$((256 + (6 * 1500000 + 1048575) / 1048576))"
	assert_line "threads=3,3"
	# overrides, and SLURM_ARGS split into options before the filter
	SLURM_MEM=5G SLURM_TIME=10 SLURM_CPUS=4 SLURM_ARGS="--partition=big --qos=low" run rsa a.bin
	assert_output "$(printf '%s\n' --ntasks=1 --cpus-per-task=4 --mem=5G --time=10 --job-name=ak:rsa --quiet --quit-on-interrupt \
		--partition=big --qos=low "$BIN/rsa" a.bin threads=4,4)"
	# no AK_BIN: a clear error, not a recursion into itself
	AK_BIN= run rsa a.bin
	assert_failure 2
	assert_output --partial "AK_BIN is not set"
}
