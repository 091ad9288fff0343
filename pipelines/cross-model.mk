# Cross-model attention analysis (the "Cross-model attention" analyses):
#
#   make -f pipelines/cross-model.mk MODELS="m/scgpt m/geneformer" OUT=out \
#        MAP=human_symbol_ensembl.tsv.gz
#
# Genes of all models are aligned on the intersection of their ids, after
# mapping every model to one id type (ID_TYPE, via MAP where a model's
# meta.tsv says another id_type). Attention is each model's own (softmax over
# its whole vocabulary); selection and ranks are over the directed pairs of
# aligned genes (attn-topk --subset). Then: the union of every model-layer's
# top-K, evaluated in every model-layer; the cross model x layer
# rank-agreement matrix; coherence of each model-layer with the other
# families; consensus attention per model (COMBINE over layers, exact over
# all pairs of aligned genes); figures, report.
#
# A category with its own vocabulary in some model (MODEL/resid/CATEGORY/
# genes.txt, the rows of its layerL.npy, in place of MODEL/genes.txt) is
# aligned on its own: OUT/CATEGORY/common_genes.txt, the genes every model
# has in that category; OUT/common_genes.txt stays the models' genes.txt.

include $(dir $(lastword $(MAKEFILE_LIST)))lib/preamble.mk

# ---- settings ----
MODELS     ?=
OUT        ?= cross-out
K          ?= 1000
TOPK_FLAGS ?=
CATEGORIES ?=
THREADS    ?= 2
# common id type and the map (TSV with a header) between id types
ID_TYPE    ?= symbol
MAP        ?=
# columns of MAP: FROM (the other id type) and TO (ID_TYPE)
MAP_COLS   ?= ensembl_gene,symbol
# how each pair's layer values combine into the consensus: sum, mean, max, absmax
COMBINE    ?= sum
# non-empty: the softmax runs over the aligned genes only (attn-topk
# --subset-softmax: attention among the aligned genes' residual rows, as
# napistu-torch computes it on an aligned subset); empty: each model's own
# softmax over its whole vocabulary [empty]
SUBSET_SOFTMAX ?=

ifeq ($(strip $(MODELS)),)
$(error MODELS is empty: give two or more model directories)
endif

meta = $(shell awk -F'\t' '$$1 == "$(2)" { print $$2 }' $(1)/meta.tsv)
name_of = $(notdir $(patsubst %/,%,$(1)))
# $(1) model dir, $(2) name, $(3) category: the category's genes (mapped to
# ID_TYPE); common_of: the genes all models share in category $(1)
cat_genes = $(if $(wildcard $(1)/resid/$(3)/genes.txt),$(OUT)/genes/$(2)/$(3).txt,$(OUT)/genes/$(2).txt)
common_of = $(if $(CAT_OWN_$(1)),$(OUT)/$(1)/common_genes.txt,$(OUT)/common_genes.txt)

SETTINGS := k=$(K) flags=$(TOPK_FLAGS) id=$(ID_TYPE) map=$(MAP) cols=$(MAP_COLS) combine=$(COMBINE) subset_softmax=$(SUBSET_SOFTMAX)
SUBSET_FLAG = $(if $(SUBSET_SOFTMAX),--subset-softmax)
STAMP := $(OUT)/.settings
$(shell mkdir -p $(OUT) && { [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" = "$(SETTINGS)" ] || printf '%s\n' "$(SETTINGS)" > $(STAMP); })

NAMES :=
TOPKS :=
# categories common to all models
CATS := $(or $(CATEGORIES),$(shell for d in $(MODELS); do ls $$d/resid; done | sort | uniq -c | awk -v n=$(words $(MODELS)) '$$1 == n { print $$2 }'))
ifeq ($(strip $(CATS)),)
$(error no cell category is present in every model's resid/)
endif

# $(1) model dir, $(2) name, $(3) layer, $(4) heads, $(5) category
define LAYER_RULES
$(OUT)/$(2)/$(5)/topk/layer$(3).tsv.gz: $(1)/resid/$(5)/layer$(3).npy $(1)/layer$(3).wq.npy $(1)/layer$(3).wk.npy $(call cat_genes,$(1),$(2),$(5)) $(call common_of,$(5)) $(STAMP)
	@mkdir -p $$(@D)
	attn-topk --resid $$< --wq $(1)/layer$(3).wq.npy --wk $(1)/layer$(3).wk.npy \
		$$(if $$(wildcard $(1)/layer$(3).bq.npy),--bq $(1)/layer$(3).bq.npy) \
		$$(if $$(wildcard $(1)/layer$(3).bk.npy),--bk $(1)/layer$(3).bk.npy) \
		--heads $(4) --top $(K) --genes $(call cat_genes,$(1),$(2),$(5)) --subset $(call common_of,$(5)) $(SUBSET_FLAG) \
		--threads $(THREADS) --label model=$(2) --label category=$(5) --label layer=$(3) $(TOPK_FLAGS) -o $$@

$(OUT)/$(2)/$(5)/at/layer$(3).tsv.gz: $(1)/resid/$(5)/layer$(3).npy $(1)/layer$(3).wq.npy $(1)/layer$(3).wk.npy $(call cat_genes,$(1),$(2),$(5)) $(call common_of,$(5)) $(OUT)/$(5)/union.tsv.gz $(STAMP)
	@mkdir -p $$(@D)
	attn-topk --resid $$< --wq $(1)/layer$(3).wq.npy --wk $(1)/layer$(3).wk.npy \
		$$(if $$(wildcard $(1)/layer$(3).bq.npy),--bq $(1)/layer$(3).bq.npy) \
		$$(if $$(wildcard $(1)/layer$(3).bk.npy),--bk $(1)/layer$(3).bk.npy) \
		--heads $(4) --at $(OUT)/$(5)/union.tsv.gz --genes $(call cat_genes,$(1),$(2),$(5)) --subset $(call common_of,$(5)) $(SUBSET_FLAG) \
		--threads $(THREADS) --label model=$(2) --label category=$(5) --label layer=$(3) $(TOPK_FLAGS) -o $$@

TOPKS_$(5) += $(OUT)/$(2)/$(5)/topk/layer$(3).tsv.gz
ATS_$(5) += $(OUT)/$(2)/$(5)/at/layer$(3).tsv.gz
endef

# Consensus attention (issue 21): every pair of aligned genes, its layer
# values combined by COMBINE, exact top-K and ranks (attn-topk --model); then
# every model's consensus rank of the union of all models' consensus top-K.
# Until issue 21 the consensus summed only the pairs that reached some
# model-layer's top-K: on tinyfm that missed 24% of the true top-1000 by sum
# (44% of the top-100), pairs strong in several layers but strongest in none.
# $(1) model dir, $(2) name, $(3) number of layers, $(4) heads, $(5) category
define CONSENSUS_RULES
_cin := $(foreach l,$(shell seq 0 $$(($(3) - 1))),$(1)/resid/$(5)/layer$(l).npy $(1)/layer$(l).wq.npy $(1)/layer$(l).wk.npy)
$(OUT)/$(2)/$(5)/consensus.tsv.gz: $$(_cin) $(call cat_genes,$(1),$(2),$(5)) $(call common_of,$(5)) $(STAMP)
	@mkdir -p $$(@D)
	attn-topk --model $(1) --category $(5) --combine $(COMBINE) --heads $(4) --top $(K) \
		--genes $(call cat_genes,$(1),$(2),$(5)) --subset $(call common_of,$(5)) $(SUBSET_FLAG) --threads $(THREADS) \
		--label model=$(2) --label category=$(5) $(TOPK_FLAGS) -o $$@
$(OUT)/$(2)/$(5)/consensus_at.tsv.gz: $$(_cin) $(call cat_genes,$(1),$(2),$(5)) $(call common_of,$(5)) $(OUT)/$(5)/consensus_union.tsv.gz $(STAMP)
	@mkdir -p $$(@D)
	attn-topk --model $(1) --category $(5) --combine $(COMBINE) --heads $(4) --at $(OUT)/$(5)/consensus_union.tsv.gz \
		--genes $(call cat_genes,$(1),$(2),$(5)) --subset $(call common_of,$(5)) $(SUBSET_FLAG) --threads $(THREADS) \
		--label model=$(2) --label category=$(5) $(TOPK_FLAGS) -o $$@
CONS_$(5) += $(OUT)/$(2)/$(5)/consensus.tsv.gz
CONSAT_$(5) += $(OUT)/$(2)/$(5)/consensus_at.tsv.gz
endef

# $(1) model dir, $(2) name, $(3) category with its own genes.txt, $(4) the
# model's id type
define CAT_GENES_RULE
$(OUT)/genes/$(2)/$(3).txt: $(1)/resid/$(3)/genes.txt $(if $(filter-out $(ID_TYPE),$(4)),$(MAP)) $(STAMP)
	@mkdir -p $$(@D)
	$(if $(filter $(ID_TYPE),$(4)),cp $$< $$@.tmp,$(PIPE_DIR)/lib/map-genes $(MAP) $(MAP_COLS) < $$< > $$@.tmp) && mv $$@.tmp $$@
endef

# $(1) model dir
define MODEL_RULES
$(eval _m := $(call name_of,$(1)))
$(eval _L := $(call meta,$(1),n_layers))
$(eval _H := $(call meta,$(1),n_heads))
$(eval _T := $(or $(call meta,$(1),id_type),$(ID_TYPE)))
$(if $(_L),,$(error $(1)/meta.tsv: no n_layers))
$(if $(_H),,$(error $(1)/meta.tsv: no n_heads))
$(if $(filter $(_m),$(NAMES)),$(error two models are named $(_m)))
$(eval NAMES += $(_m))
$(OUT)/genes/$(_m).txt: $(1)/genes.txt $(if $(filter-out $(ID_TYPE),$(_T)),$(MAP)) $(STAMP)
	@mkdir -p $$(@D)
	$(if $(filter $(ID_TYPE),$(_T)),cp $$< $$@.tmp,$(PIPE_DIR)/lib/map-genes $(MAP) $(MAP_COLS) < $$< > $$@.tmp) && mv $$@.tmp $$@
$(OUT)/families.tsv: $(1)/meta.tsv
$(foreach c,$(CATS),$(if $(wildcard $(1)/resid/$(c)/genes.txt),$(eval $(call CAT_GENES_RULE,$(1),$(_m),$(c),$(_T)))))
$(foreach c,$(CATS),$(eval CATGENES_$(c) += $(call cat_genes,$(1),$(_m),$(c))))
$(foreach c,$(CATS),$(foreach l,$(shell seq 0 $$(($(_L) - 1))),$(eval $(call LAYER_RULES,$(1),$(_m),$(l),$(_H),$(c)))))
$(foreach c,$(CATS),$(eval $(call CONSENSUS_RULES,$(1),$(_m),$(_L),$(_H),$(c))))
endef

# categories with their own vocabulary in some model, known before any rule
$(foreach c,$(CATS),$(eval CAT_OWN_$(c) := $(wildcard $(foreach d,$(MODELS),$(patsubst %/,%,$(d))/resid/$(c)/genes.txt))))
$(foreach d,$(MODELS),$(eval $(call MODEL_RULES,$(patsubst %/,%,$(d)))))

$(OUT)/common_genes.txt: $(foreach m,$(NAMES),$(OUT)/genes/$(m).txt)
	$(PIPE_DIR)/lib/intersect-lines $^ > $@.tmp && mv $@.tmp $@
	@echo "cross-model: $$(wc -l < $@) genes in common to $(words $(NAMES)) models" >&2

$(OUT)/families.tsv:
	{ printf 'model\tfamily\n'; for d in $(MODELS); do \
		printf '%s\t%s\n' "$$(basename $$d)" "$$(awk -F'\t' '$$1 == "family" { print $$2 }' $$d/meta.tsv)"; \
	done; } > $@.tmp && mv $@.tmp $@

# a category's own common genes; $(1) category
define CAT_COMMON_RULE
$(OUT)/$(1)/common_genes.txt: $(CATGENES_$(1))
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/intersect-lines $$^ > $$@.tmp && mv $$@.tmp $$@
	@echo "cross-model: $(1): $$$$(wc -l < $$@) genes in common to $(words $(NAMES)) models" >&2
endef
$(foreach c,$(CATS),$(if $(CAT_OWN_$(c)),$(eval $(call CAT_COMMON_RULE,$(c)))))

# $(1) category
define CATEGORY_RULES
$(OUT)/$(1)/union.tsv.gz: $$(TOPKS_$(1))
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/union-pairs $$^ > $$@.tmp && mv $$@.tmp $$@
$(OUT)/$(1)/eval.tsv.gz: $$(ATS_$(1))
	$(PIPE_DIR)/lib/cat-tsv $$^ | gzip -1 > $$@.tmp && mv $$@.tmp $$@
$(OUT)/$(1)/consensus_union.tsv.gz: $$(CONS_$(1))
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/union-pairs $$^ > $$@.tmp && mv $$@.tmp $$@
$(OUT)/$(1)/consensus_eval.tsv.gz: $$(CONSAT_$(1))
	$(PIPE_DIR)/lib/cat-tsv $$^ | gzip -1 > $$@.tmp && mv $$@.tmp $$@
endef
$(foreach c,$(CATS),$(eval $(call CATEGORY_RULES,$(c))))

EVALS := $(foreach c,$(CATS),$(OUT)/$(c)/eval.tsv.gz)

$(OUT)/rank_quantile.tsv: $(EVALS)
	rank-quantile --by model,layer --within category --top $(K) $^ -o $@
$(OUT)/rank_quantile.median.tsv: $(OUT)/rank_quantile.tsv
	$(PIPE_DIR)/lib/median-over query_model,query_layer,eval_model,eval_layer median_quantile < $< > $@.tmp && mv $@.tmp $@
$(OUT)/coherence.tsv: $(EVALS) $(OUT)/families.tsv
	rank-quantile --by model,layer --within category --top $(K) --families $(OUT)/families.tsv $(EVALS) -o $@
$(OUT)/coherence.median.tsv: $(OUT)/coherence.tsv
	$(PIPE_DIR)/lib/median-over query_model,query_layer coherence < $< > $@.tmp && mv $@.tmp $@
# consensus attention: per model and category, the exact consensus top-K
$(OUT)/consensus.tsv: $(foreach c,$(CATS),$(CONS_$(c)))
	$(PIPE_DIR)/lib/consensus $^ > $@.tmp && mv $@.tmp $@
# each model's consensus top-K ranked in every model's consensus (median quantile)
CONS_EVALS := $(foreach c,$(CATS),$(OUT)/$(c)/consensus_eval.tsv.gz)
$(OUT)/consensus_rank_quantile.tsv: $(CONS_EVALS)
	rank-quantile --by model --within category --top $(K) $^ -o $@

# cross model x layer matrix, within-model blocks masked
$(OUT)/cross.tsv: $(OUT)/rank_quantile.median.tsv
	awk -F'\t' 'BEGIN { OFS = "\t"; print "query", "eval", "median_quantile" } NR > 1 && $$1 != $$3 { print $$1 ":" $$2, $$3 ":" $$4, $$5 }' $< > $@.tmp && mv $@.tmp $@
$(OUT)/fig_cross.png: $(OUT)/cross.tsv
	$(PIPE_DIR)/lib/heatmap --x eval --y query --z median_quantile --flip --center 0.5 --range 0:1 --values \
		--title "Where each model-layer's top-$(K) pairs rank in the other models' layers: 1 - median quantile (1 = strongest, 0.5 = random; blocks of one model masked)" \
		--xlabel "eval model:layer" --ylabel "query model:layer" --cblabel "1 - median quantile" $< $(basename $@)
$(OUT)/fig_coherence.png: $(OUT)/coherence.median.tsv
	$(PIPE_DIR)/lib/curves --x query_layer --y coherence --by query_model --empty "coherence needs at least two model families" \
		--title "Coherence with other model families: mean -log10(2 min(q, 0.5)) over their layers (1 = median quantile 0.05)" \
		--xlabel "layer" --ylabel "coherence" $< $(basename $@)

$(OUT)/report.html: $(OUT)/fig_cross.png $(OUT)/fig_coherence.png $(OUT)/coherence.median.tsv $(OUT)/consensus.tsv $(OUT)/consensus_rank_quantile.tsv $(OUT)/common_genes.txt $(OUT)/families.tsv $(foreach c,$(CATS),$(call common_of,$(c)))
	$(PIPE_DIR)/lib/report-cross "$(OUT)" "$(NAMES)" "$(K)" "$(strip $(TOPK_FLAGS) $(SUBSET_FLAG))" "$(MODELS)" > $@.tmp && mv $@.tmp $@
	echo "report: $@" >&2

all: $(OUT)/report.html
.DEFAULT_GOAL := all
.PHONY: all
