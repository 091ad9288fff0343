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
