# Layer-wise attention analysis of one or more models (the "Architecture and
# layer-wise attention" analyses), as make targets:
#
#   make -f pipelines/within-model.mk MODELS="path/to/modelA path/to/modelB" OUT=out
#
# A model directory holds meta.tsv (n_layers, n_heads, ...), genes.txt,
# layerL.wq.npy, layerL.wk.npy (+ optional .bq/.bk), and resid/CATEGORY/layerL.npy
# (see attnkit(7)); resid/CATEGORY/genes.txt, when present, is that category's
# vocabulary (the rows of its layerL.npy) in place of genes.txt. For every model x category x layer: the top-K pairs, the
# union of all layers' pairs evaluated in every layer, then rank agreement
# between layers for each K in KS, layer Spearman, consecutive-layer curves,
# residual-stream geometry (rsa), medians over categories, figures and a report.
#
# Make is the cache: a second run does nothing; touching one residual file
# re-runs only what depends on it; changing a setting re-runs what it affects.

include $(dir $(lastword $(MAKEFILE_LIST)))lib/preamble.mk

# ---- settings (override on the command line) ----
MODELS     ?=
OUT        ?= within-out
KS         ?= 1000 5000 10000 50000
# K whose rank agreement is drawn in the heatmap (default: the smallest)
KFIG       ?= $(firstword $(shell printf '%s\n' $(KS) | sort -n))
# extra attn-topk options, e.g. --raw, --abs
TOPK_FLAGS ?=
# categories to use (default: every MODEL/resid/*)
CATEGORIES ?=
THREADS    ?= 2
# rsa: exact up to this many genes, else --sample RSA_SAMPLE pairs
RSA_SAMPLE ?= 10000000
RSA_EXACT_MAX ?= 8000

ifeq ($(strip $(MODELS)),)
$(error MODELS is empty: give one or more model directories, e.g. MODELS="models/scgpt")
endif

KMAX := $(lastword $(shell printf '%s\n' $(KS) | sort -n))
meta = $(shell awk -F'\t' '$$1 == "$(2)" { print $$2 }' $(1)/meta.tsv)
name_of = $(notdir $(patsubst %/,%,$(1)))
# a category's vocabulary: MODEL/resid/CATEGORY/genes.txt, else MODEL/genes.txt
genes_of = $(or $(wildcard $(1)/resid/$(2)/genes.txt),$(1)/genes.txt)

# The settings that change results; a stamp file changes only when they do.
SETTINGS := kmax=$(KMAX) flags=$(TOPK_FLAGS)
STAMP := $(OUT)/.settings
$(shell mkdir -p $(OUT) && { [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" = "$(SETTINGS)" ] || printf '%s\n' "$(SETTINGS)" > $(STAMP); })

ALL :=

# $(1) model dir, $(2) model name, $(3) category, $(4) layer, $(5) heads
define LAYER_RULES
$(OUT)/$(2)/$(3)/topk/layer$(4).tsv.gz: $(1)/resid/$(3)/layer$(4).npy $(1)/layer$(4).wq.npy $(1)/layer$(4).wk.npy $(call genes_of,$(1),$(3)) $(STAMP)
	@mkdir -p $$(@D)
	attn-topk --resid $$< --wq $(1)/layer$(4).wq.npy --wk $(1)/layer$(4).wk.npy \
		$$(if $$(wildcard $(1)/layer$(4).bq.npy),--bq $(1)/layer$(4).bq.npy) \
		$$(if $$(wildcard $(1)/layer$(4).bk.npy),--bk $(1)/layer$(4).bk.npy) \
		--heads $(5) --top $(KMAX) --genes $(call genes_of,$(1),$(3)) --threads $(THREADS) \
		--label model=$(2) --label category=$(3) --label layer=$(4) $(TOPK_FLAGS) -o $$@

$(OUT)/$(2)/$(3)/at/layer$(4).tsv.gz: $(1)/resid/$(3)/layer$(4).npy $(1)/layer$(4).wq.npy $(1)/layer$(4).wk.npy $(call genes_of,$(1),$(3)) $(OUT)/$(2)/$(3)/union.tsv.gz $(STAMP)
	@mkdir -p $$(@D)
	attn-topk --resid $$< --wq $(1)/layer$(4).wq.npy --wk $(1)/layer$(4).wk.npy \
		$$(if $$(wildcard $(1)/layer$(4).bq.npy),--bq $(1)/layer$(4).bq.npy) \
		$$(if $$(wildcard $(1)/layer$(4).bk.npy),--bk $(1)/layer$(4).bk.npy) \
		--heads $(5) --at $(OUT)/$(2)/$(3)/union.tsv.gz --genes $(call genes_of,$(1),$(3)) --threads $(THREADS) \
		--label model=$(2) --label category=$(3) --label layer=$(4) $(TOPK_FLAGS) -o $$@
endef

# $(1) model dir, $(2) model name, $(3) category, $(4) layers
define CATEGORY_RULES
$(OUT)/$(2)/$(3)/union.tsv.gz: $(foreach l,$(4),$(OUT)/$(2)/$(3)/topk/layer$(l).tsv.gz)
	$(PIPE_DIR)/lib/union-pairs $$^ > $$@.tmp && mv $$@.tmp $$@

$(OUT)/$(2)/$(3)/eval.tsv.gz: $(foreach l,$(4),$(OUT)/$(2)/$(3)/at/layer$(l).tsv.gz)
	$(PIPE_DIR)/lib/cat-tsv $$^ | gzip -1 > $$@.tmp && mv $$@.tmp $$@

$(OUT)/$(2)/$(3)/rsa.tsv: $(foreach l,$(4),$(1)/resid/$(3)/layer$(l).npy)
	@mkdir -p $$(@D)
	rsa $(foreach l,$(4),--label $(l)) \
		$$$$([ $$$$(grep -c . $(call genes_of,$(1),$(3))) -le $(RSA_EXACT_MAX) ] || echo --sample $(RSA_SAMPLE)) \
		$$^ -o $$@
endef

# $(1) model dir
define MODEL_RULES
$(eval _m := $(call name_of,$(1)))
$(eval _L := $(call meta,$(1),n_layers))
$(eval _H := $(call meta,$(1),n_heads))
$(if $(_L),,$(error $(1)/meta.tsv: no n_layers))
$(if $(_H),,$(error $(1)/meta.tsv: no n_heads))
$(eval _layers := $(shell seq 0 $$(($(_L) - 1))))
$(eval _cats := $(or $(CATEGORIES),$(notdir $(wildcard $(1)/resid/*))))
$(if $(_cats),,$(error $(1)/resid/: no categories))
$(foreach c,$(_cats),$(foreach l,$(_layers),$(eval $(call LAYER_RULES,$(1),$(_m),$(c),$(l),$(_H)))))
$(foreach c,$(_cats),$(eval $(call CATEGORY_RULES,$(1),$(_m),$(c),$(_layers))))
$(eval $(call MODEL_SUMMARY,$(1),$(_m),$(_cats)))
endef

# $(1) model name, $(2) categories, $(3) K
define RQ_RULE
$(OUT)/$(1)/rank_quantile.$(3).tsv: $(foreach c,$(2),$(OUT)/$(1)/$(c)/eval.tsv.gz)
	rank-quantile --by model,layer --within category --top $(3) $$^ -o $$@
endef

# $(1) model dir, $(2) model name, $(3) categories
define MODEL_SUMMARY
$(foreach k,$(KS),$(eval $(call RQ_RULE,$(2),$(3),$(k))))

$(OUT)/$(2)/spearman.tsv: $(foreach c,$(3),$(OUT)/$(2)/$(c)/eval.tsv.gz)
	rank-quantile --by model,layer --within category --spearman $$^ -o $$@

$(OUT)/$(2)/consecutive.tsv: $(foreach c,$(3),$(OUT)/$(2)/$(c)/eval.tsv.gz)
	for k in $(KS); do \
		rank-quantile --by model,layer --within category --top $$$$k --consecutive $$^ \
		| awk -F'\t' -v k=$$$$k 'BEGIN { OFS = "\t" } NR == 1 { print $$$$0, "k"; next } { print $$$$0, k }' \
		| if [ $$$$k = $(firstword $(KS)) ]; then cat; else tail -n +2; fi; \
	done > $$@.tmp && mv $$@.tmp $$@

$(OUT)/$(2)/rsa.tsv: $(foreach c,$(3),$(OUT)/$(2)/$(c)/rsa.tsv)
	for c in $(3); do awk -F'\t' -v c=$$$$c 'BEGIN { OFS = "\t" } NR == 1 { print "category", $$$$0; next } { print c, $$$$0 }' \
		$(OUT)/$(2)/$$$$c/rsa.tsv | if [ $$$$c = $(firstword $(3)) ]; then cat; else tail -n +2; fi; done > $$@.tmp && mv $$@.tmp $$@

ALL += $(foreach k,$(KS),$(OUT)/$(2)/rank_quantile.$(k).median.tsv) \
	$(OUT)/$(2)/spearman.median.tsv $(OUT)/$(2)/consecutive.median.tsv $(OUT)/$(2)/rsa.median.tsv \
	$(OUT)/$(2)/fig_spearman.png $(OUT)/$(2)/fig_quantile.png $(OUT)/$(2)/fig_consecutive.png \
	$(OUT)/$(2)/fig_rsa.png
MODEL_NAMES += $(2)
endef

MODEL_NAMES :=
$(foreach d,$(MODELS),$(eval $(call MODEL_RULES,$(patsubst %/,%,$(d)))))

# ---- medians over categories (GNU datamash) ----
$(OUT)/%/spearman.median.tsv: $(OUT)/%/spearman.tsv
	$(PIPE_DIR)/lib/median-over a_model,a_layer,b_model,b_layer spearman < $< > $@.tmp && mv $@.tmp $@
$(OUT)/%/consecutive.median.tsv: $(OUT)/%/consecutive.tsv
	$(PIPE_DIR)/lib/median-over k,query_model,query_layer,eval_model,eval_layer median_quantile < $< > $@.tmp && mv $@.tmp $@
$(OUT)/%/rsa.median.tsv: $(OUT)/%/rsa.tsv
	$(PIPE_DIR)/lib/median-over a,b spearman < $< > $@.tmp && mv $@.tmp $@
$(OUT)/%.median.tsv: $(OUT)/%.tsv
	$(PIPE_DIR)/lib/median-over query_model,query_layer,eval_model,eval_layer median_quantile < $< > $@.tmp && mv $@.tmp $@

# ---- figures (gnuplot; PNG and SVG; style: lib/style.gp) ----
# Rank agreement as 1 - quantile (1 = strongest, 0.5 = random at white),
# Spearman centred on 0; fixed colour ranges, so models compare.
$(OUT)/%/fig_spearman.png: $(OUT)/%/spearman.median.tsv
	$(PIPE_DIR)/lib/heatmap --sym --x a_layer --y b_layer --z spearman --diag 1 --center 0 --range -1:1 --values \
		--title "$*: Spearman of attention between layers (median over categories)" \
		--xlabel "layer" --ylabel "layer" --cblabel "Spearman" $< $(basename $@)
$(OUT)/%/fig_quantile.png: $(OUT)/%/rank_quantile.$(KFIG).median.tsv
	$(PIPE_DIR)/lib/heatmap --x eval_layer --y query_layer --z median_quantile --flip --center 0.5 --range 0:1 --values \
		--title "$*: where the query layer's top-$(KFIG) pairs rank in the eval layer (1 - median quantile; 1 = strongest, 0.5 = random)" \
		--xlabel "eval layer" --ylabel "query layer" --cblabel "1 - median quantile" $< $(basename $@)
$(OUT)/%/fig_rsa.png: $(OUT)/%/rsa.median.tsv
	$(PIPE_DIR)/lib/heatmap --sym --x a --y b --z spearman --diag 1 --center 0 --range -1:1 --values \
		--title "$*: residual-stream geometry, Spearman of gene cosine similarities" \
		--xlabel "layer" --ylabel "layer" --cblabel "Spearman" $< $(basename $@)
$(OUT)/%/fig_consecutive.png: $(OUT)/%/consecutive.median.tsv
	$(PIPE_DIR)/lib/curves --x query_layer --y agreement --by k --ylo 0 --chance 0.5 --chancetitle "random pairs (0.5)" \
		--title "$*: layer L's top-K pairs in layer L+1 (1 - median quantile; 1 = strongest)" \
		--xlabel "query layer L" --ylabel "1 - median quantile in L+1" \
		<(awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { print $$0, "agreement"; next } { print $$0, ($$6 == "NA" ? "NA" : 1 - $$6) }' $<) $(basename $@)

# all models side by side (small multiples, one colour scale)
$(OUT)/quantile_all.tsv: $(foreach m,$(MODEL_NAMES),$(OUT)/$(m)/rank_quantile.$(KFIG).median.tsv)
	$(PIPE_DIR)/lib/cat-tsv $^ > $@.tmp && mv $@.tmp $@
$(OUT)/spearman_all.tsv: $(foreach m,$(MODEL_NAMES),$(OUT)/$(m)/spearman.median.tsv)
	$(PIPE_DIR)/lib/cat-tsv $^ > $@.tmp && mv $@.tmp $@
$(OUT)/rsa_all.tsv: $(foreach m,$(MODEL_NAMES),$(OUT)/$(m)/rsa.median.tsv)
	for m in $(MODEL_NAMES); do awk -F'\t' -v m=$$m 'BEGIN { OFS = "\t" } NR == 1 { print "model", $$0; next } { print m, $$0 }' \
		$(OUT)/$$m/rsa.median.tsv | if [ $$m = $(firstword $(MODEL_NAMES)) ]; then cat; else tail -n +2; fi; done > $@.tmp && mv $@.tmp $@
$(OUT)/fig_quantile_all.png: $(OUT)/quantile_all.tsv
	$(PIPE_DIR)/lib/heatmap --facet query_model --x eval_layer --y query_layer --z median_quantile --flip --center 0.5 --range 0:1 --values \
		--title "Where each layer's top-$(KFIG) pairs rank in the other layers: 1 - median quantile (1 = strongest, 0.5 = random)" \
		--xlabel "eval layer" --ylabel "query layer" --cblabel "1 - median quantile" $< $(basename $@)
$(OUT)/fig_spearman_all.png: $(OUT)/spearman_all.tsv
	$(PIPE_DIR)/lib/heatmap --facet a_model --sym --x a_layer --y b_layer --z spearman --diag 1 --center 0 --range -1:1 --values \
		--title "Spearman of attention between layers (median over categories)" \
		--xlabel "layer" --ylabel "layer" --cblabel "Spearman" $< $(basename $@)
$(OUT)/fig_rsa_all.png: $(OUT)/rsa_all.tsv
	$(PIPE_DIR)/lib/heatmap --facet model --sym --x a --y b --z spearman --diag 1 --center 0 --range -1:1 --values \
		--title "Residual-stream geometry: Spearman of gene cosine similarities between layers" \
		--xlabel "layer" --ylabel "layer" --cblabel "Spearman" $< $(basename $@)
ALL += $(OUT)/fig_quantile_all.png $(OUT)/fig_spearman_all.png $(OUT)/fig_rsa_all.png

$(OUT)/report.html: $(ALL)
	$(PIPE_DIR)/lib/report-within "$(OUT)" "$(MODEL_NAMES)" "$(KS)" "$(KFIG)" "$(TOPK_FLAGS)" "$(MODELS)" > $@.tmp && mv $@.tmp $@
	echo "report: $@" >&2

all: $(OUT)/report.html
.DEFAULT_GOAL := all
.PHONY: all
