# Included first by every pipeline: bash with pipefail, the C locale, make's
# error hygiene, the filters on PATH (AK_BIN, default the checkout's bin/),
# checks that fail early with a clear message, and status lines (ak-step).
.DELETE_ON_ERROR:
.SUFFIXES:
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
export LC_ALL := C

# This file is pipelines/lib/preamble.mk: the pipelines are one level up.
PIPE_DIR  := $(patsubst %/lib/,%,$(dir $(lastword $(MAKEFILE_LIST))))
AK_BIN    ?= $(abspath $(PIPE_DIR)/../bin)
export PATH := $(AK_BIN):$(PATH)

# ---- SCHED: where the heavy recipes run (issue 20; attnkit(7)) ----
# SCHED=local (default) runs every recipe here. SCHED=slurm puts
# lib/slurm/bin first on PATH: there attn-topk, rsa, coexpr, de-call,
# logit-cv, edge-null, residualize, cluster and gene-stats are symlinks to
# lib/slurm-step, which runs the real filter from AK_BIN through srun with
# THREADS CPUs and a memory request that fits it; light recipes (awk, the
# report, figures) stay local. Make stays the dependency graph and the cache.
SCHED ?= local
ifeq ($(SCHED),slurm)
ifeq ($(shell command -v srun),)
$(error SCHED=slurm: srun not found on PATH; run make on a SLURM login node or inside salloc (Debian: slurm-client))
endif
export PATH := $(abspath $(PIPE_DIR)/lib/slurm/bin):$(PATH)
export AK_BIN
export AK_THREADS = $(THREADS)
export SLURM_ARGS
else ifneq ($(SCHED),local)
$(error SCHED=$(SCHED): unknown scheduler; use SCHED=local (default) or SCHED=slurm)
endif

# ---- early checks: a clear message before any work ----
# The filters: built in AK_BIN, or installed on PATH.
AK_FILTERS := attn-topk auroc bh-fdr cluster coexpr de-call edge-eval edge-join edge-null \
	gene-stats grn-sim logit-cv mat paired-test rank-quantile residualize rsa
AK_MISSING := $(shell for t in $(AK_FILTERS); do [ -x '$(AK_BIN)'/$$t ] || PATH='$(PATH)' command -v $$t >/dev/null || printf '%s ' $$t; done)
ifneq ($(strip $(AK_MISSING)),)
$(error filters not built: $(strip $(AK_MISSING)) (not in $(AK_BIN) nor on PATH): run make first, in the checkout)
endif
# Model directories: each exists and has a tab-separated meta.tsv.
$(foreach d,$(MODELS),$(if $(wildcard $(d)/.),,$(error MODELS: model directory $(d): no such directory)))
$(foreach d,$(MODELS),$(if $(wildcard $(d)/meta.tsv),,$(error model $(d): no $(d)/meta.tsv (lines key<TAB>value: n_layers, n_heads, family, id_type; see attnkit(7)))))
$(foreach d,$(MODELS),$(if $(shell grep -q '	' $(d)/meta.tsv && echo tab),,$(error $(d)/meta.tsv: no tab-separated line: write key<TAB>value (a TAB, not spaces), e.g. printf 'n_layers\t12\n')))

# ---- status lines: one per target on stderr, recipes only with V=1 ----
# ak-step is make's shell: it prints [n/N] TOOL TARGET as a target starts.
# N comes from a dry run (make -n --trace) of the same goals, done once by
# the top-level make ($$(shell) sees no MAKEFLAGS: the command line's
# variables are passed as MAKEOVERRIDES). AK_STATUS=0 turns it off (make echoes recipes again).
AK_STATUS ?= 1
ifneq ($(AK_STATUS),0)
# The top-level pipeline make counts; its sub-makes (the sensitivity grid)
# inherit AK_TOTAL. Not MAKELEVEL: a pipeline run from another make (make
# check, a user's own Makefile) is a top level too.
ifneq ($(origin AK_TOTAL),environment)
AK_TOPLEVEL := 1
AK_TOTAL := $(shell $(MAKE) --no-print-directory -n --trace -f $(firstword $(MAKEFILE_LIST)) $(MAKECMDGOALS) $(MAKEOVERRIDES) AK_STATUS=0 2>&1 | grep -c "update target")
export AK_TOTAL
endif
export AK_BIN
export AK_LIB := $(PIPE_DIR)/lib
export AK_OUT = $(OUT)
export AK_STEP_DIR = $(OUT)/.ak-step
SHELL := $(PIPE_DIR)/lib/ak-step
.SHELLFLAGS = --target=$@ -eo pipefail -c
# Recipes only with V=1 (#19: "the full recipes only with V=1"); .SILENT
# also drops make's "Nothing to be done" (a run with nothing to do is quiet).
ifneq ($(V),1)
.SILENT:
# .SILENT also silences make's own "Nothing to be done": said here when the
# dry run found no step
ifeq ($(AK_TOPLEVEL)$(AK_TOTAL),10)
$(info Nothing to be done: every output in $(OUT) is up to date.)
endif
endif
endif
