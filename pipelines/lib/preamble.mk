# Included first by every pipeline: bash with pipefail, the C locale, make's
# error hygiene, and the filters on PATH (AK_BIN, default the checkout's bin/).
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
