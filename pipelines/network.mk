# Network grounding (the "are high-attention pairs known interactions?"
# analyses of the cross-model blog post), as make targets:
#
#   make -f pipelines/network.mk MODELS="m/scgpt m/geneformer" OUT=net \
#        REF=trrust_v2_human.tsv.gz REF_NO_HEADER=1 \
#        MAP=human_symbol_ensembl.tsv.gz WITHIN=within-out
#
# For every model x category x layer: the top-K directed pairs, labelled with
# the reference network (edge-join), then per group the true fraction (share
# of the pairs that are reference edges) against the vocabulary-matched null
# (reference edges among the model's mapped genes / n(n-1)) with Fisher's
# exact test; optionally the median of a carried numeric reference column
# over the matched pairs (CARRY) and the median endpoint cosine in a network
# embedding (EMB). Medians over categories, figures (true fraction per layer
# grouped by model with the null and the range across categories; cross-model
# coherence against true fraction), an HTML report.
#
# The top-K pairs come from within-model.mk's OUT when WITHIN is given (the
# first K rows of its MODEL/CATEGORY/topk/layerL.tsv.gz, which hold the top
# max(KS); no attention is computed twice), else they are computed here with
# attn-topk in the same layout under OUT.
#
# Outputs under OUT: MODEL/labels.tsv.gz (the top-K pairs with in_ref and
# carried columns), MODEL/summary.tsv, network.tsv (one row per model, layer,
# category), network.median.tsv (per model and layer: medians over
# categories, the true fraction's min and max, coherence), fig_fraction,
# fig_coherence (COHERENCE), fig_cosine (EMB) as .png and .svg, report.html.
#
# A category with its own vocabulary (MODEL/resid/CATEGORY/genes.txt, the rows
# of its layerL.npy, in place of MODEL/genes.txt) has its attention ranked over
# those genes and its null counted among them (one summary per category).
#
# Make is the cache: a second run does nothing; a changed setting re-runs
# only what it affects (settings stamps).

include $(dir $(lastword $(MAKEFILE_LIST)))lib/preamble.mk

# ---- settings (override on the command line) ----
MODELS     ?=
OUT        ?= network-out
# top pairs per model x category x layer
K          ?= 1000
# within-model.mk's OUT to take the top-K pairs from (K <= its largest KS);
# empty: run attn-topk here
WITHIN     ?=
# attn-topk options when computing here (with WITHIN, within-model's own apply)
TOPK_FLAGS ?=
# categories to use (default: every MODEL/resid/*)
CATEGORIES ?=
THREADS    ?= 2
# the reference network: a TSV, plain or gzipped, one edge per row
REF        ?=
# source and target columns of REF: header names or 1-based positions
REF_COLS   ?= 1,2
# line 1 of REF is a header: auto (when a column is named, or line 1's ids
# occur on no other line), yes, no; REF_NO_HEADER=1 is the same as no
REF_HEADER ?= auto
REF_NO_HEADER ?=
# non-empty: reference edges match in both directions
REF_UNDIRECTED ?=
# id type of REF; a model whose meta.tsv id_type differs goes through MAP
REF_ID_TYPE ?= symbol
MAP        ?=
# columns of MAP: FROM (the model's id type), TO (REF_ID_TYPE)
MAP_COLS   ?= ensembl_gene,symbol
# numeric REF columns (names or positions, comma-separated) whose median over
# each group's matched pairs is reported, e.g. DoRothEA's mor [none]
CARRY      ?=
# a network embedding (genes x d: .npy, .akm, .tsv with row names) and its row
# ids (one per line; not needed when EMB names its rows) [none]
EMB        ?=
EMB_NAMES  ?=
# cross-model.mk's coherence.median.tsv, for the coherence scatter [none]
COHERENCE  ?=
# non-empty: the layer-auroc target is part of the run and of the report
# (else `make ... layer-auroc` builds it alone): per model x category x
# layer the exact all-pairs AUROC and AUPRC against each of AUROC_REFS
# (scopes all and sources), per head, the Spearman trend over depth, the
# references' profile correlation, the head ranking, and Fisher enrichment
# and depletion of each layer's top-K in every reference with BH. Off by
# default: it costs 2 + (number of references) attention passes per layer
# and category, against the one pass of the top-K [empty]
LAYER_AUROC ?=
# reference networks for layer-auroc [REF]; each is read with REF_COLS,
# REF_HEADER, REF_UNDIRECTED unless REF_COLS_NAME, REF_HEADER_NAME,
# REF_UNDIRECTED_NAME (NAME: the file name without directory, .gz and one
# more extension, e.g. trrust_v2_human) say otherwise
AUROC_REFS ?= $(REF)
# layer-auroc's partial correlation of attention with reference membership
# controlling for co-expression, when expression is given: COUNTS (as
# coexpr --counts reads it; gene names = the models' ids), COUNTS_GENES
# (its gene names when the file has none), CELLS (cells table) and
# CATEGORY_COL (the CELLS column whose value is the category: each
# category's own cells; empty: all cells for every category) [none]
COUNTS       ?=
COUNTS_GENES ?=
CELLS        ?=
CATEGORY_COL ?=
# coexpr options (e.g. --method pearson) [Spearman of log1p CP10k]
COEXPR_FLAGS ?=
# the sample: every reference edge among the vocabulary plus PCOR_NEG
# random non-edge pairs per reference (seeded by PCOR_SEED)
PCOR_NEG     ?= 20000
PCOR_SEED    ?= 1

ifeq ($(strip $(MODELS)),)
$(error MODELS is empty: give one or more model directories, e.g. MODELS="models/scgpt")
endif
ifeq ($(strip $(REF)),)
$(error REF is empty: give a reference network, e.g. REF=trrust_v2_human.tsv.gz REF_NO_HEADER=1)
endif
ifeq ($(wildcard $(REF)),)
$(error REF=$(REF): no such file)
endif
ifneq ($(shell [[ "$(K)" =~ ^[1-9][0-9]*$$ ]] && echo ok),ok)
$(error K=$(K): not a positive integer)
endif
ifneq ($(strip $(EMB_NAMES)),)
ifeq ($(strip $(EMB)),)
$(error EMB_NAMES is set but EMB is empty)
endif
endif

comma := ,
# stdout to $@ through a temporary name; no temporary is left on failure
to_target = > $@.tmp && mv $@.tmp $@ || { rm -f $@.tmp; exit 1; }

meta = $(shell awk -F'\t' '$$1 == "$(2)" { print $$2 }' $(1)/meta.tsv)
name_of = $(notdir $(patsubst %/,%,$(1)))
# a category's vocabulary: MODEL/resid/CATEGORY/genes.txt, else MODEL/genes.txt
genes_of = $(or $(wildcard $(1)/resid/$(2)/genes.txt),$(1)/genes.txt)

# Reuse within-model's top-K: it must hold at least K pairs per layer.
ifneq ($(strip $(WITHIN)),)
WITHIN := $(patsubst %/,%,$(WITHIN))
ifeq ($(abspath $(WITHIN)),$(abspath $(OUT)))
$(error OUT=$(OUT) is within-model's output directory: give network.mk its own OUT)
endif
WITHIN_SETTINGS := $(shell cat $(WITHIN)/.settings 2>/dev/null)
ifeq ($(WITHIN_SETTINGS),)
$(error WITHIN=$(WITHIN): no within-model output there ($(WITHIN)/.settings); run pipelines/within-model.mk first)
endif
WITHIN_KMAX := $(patsubst kmax=%,%,$(filter kmax=%,$(WITHIN_SETTINGS)))
WITHIN_FLAGS := $(patsubst flags=%,%,$(filter-out kmax=%,$(WITHIN_SETTINGS)))
ifneq ($(shell [ "$(K)" -le "$(WITHIN_KMAX)" ] && echo ok),ok)
$(error K=$(K) but $(WITHIN) holds the top $(WITHIN_KMAX) pairs per layer: run within-model.mk with a KS up to $(K), or lower K)
endif
ifneq ($(strip $(TOPK_FLAGS)),)
ifneq ($(strip $(TOPK_FLAGS)),$(strip $(WITHIN_FLAGS)))
$(error TOPK_FLAGS=$(TOPK_FLAGS) but $(WITHIN) was computed with '$(WITHIN_FLAGS)': with WITHIN, within-model's settings apply)
endif
endif
TOPK_DIR := $(WITHIN)
TOPK_DESC := the first $(K) rows of $(WITHIN)'s top-$(WITHIN_KMAX) (attn-topk options: $(or $(WITHIN_FLAGS),none))
else
TOPK_DIR := $(OUT)
TOPK_DESC := attn-topk --top $(K) $(TOPK_FLAGS)
endif

REF_ARGS := --ref $(REF) --ref-cols $(REF_COLS) --ref-header $(if $(REF_NO_HEADER),no,$(REF_HEADER)) $(if $(REF_UNDIRECTED),--undirected)
EMB_ARGS := $(if $(EMB),--embeddings $(EMB) $(if $(EMB_NAMES),--embedding-names $(EMB_NAMES)))
MAP_ARGS := --map $(MAP) --map-cols $(MAP_COLS)

# Settings stamps: each file changes only when its settings do, so a changed
# setting re-runs what depends on it and nothing else.
define stamp
$(shell mkdir -p $(OUT) && { [ -f $(OUT)/.settings.$(1) ] && [ "$$(cat $(OUT)/.settings.$(1))" = "$(2)" ] || printf '%s\n' "$(2)" > $(OUT)/.settings.$(1); })$(OUT)/.settings.$(1)
endef
ifeq ($(strip $(WITHIN)),)
STAMP_TOPK := $(call stamp,topk,k=$(K) flags=$(TOPK_FLAGS))
endif
STAMP_PAIRS := $(call stamp,pairs,k=$(K) within=$(WITHIN))
STAMP_REF := $(call stamp,ref,ref=$(REF) cols=$(REF_COLS) noheader=$(REF_NO_HEADER) header=$(REF_HEADER) undirected=$(REF_UNDIRECTED) idtype=$(REF_ID_TYPE) map=$(MAP) mapcols=$(MAP_COLS) carry=$(CARRY) emb=$(EMB) names=$(EMB_NAMES))
STAMP_COH := $(call stamp,coherence,coherence=$(COHERENCE))

# $(1) model dir, $(2) model name, $(3) category, $(4) layer, $(5) heads
define TOPK_RULE
$(OUT)/$(2)/$(3)/topk/layer$(4).tsv.gz: $(1)/resid/$(3)/layer$(4).npy $(1)/layer$(4).wq.npy $(1)/layer$(4).wk.npy $(call genes_of,$(1),$(3)) $(STAMP_TOPK)
	@mkdir -p $$(@D)
	attn-topk --resid $$< --wq $(1)/layer$(4).wq.npy --wk $(1)/layer$(4).wk.npy \
		$$(if $$(wildcard $(1)/layer$(4).bq.npy),--bq $(1)/layer$(4).bq.npy) \
		$$(if $$(wildcard $(1)/layer$(4).bk.npy),--bk $(1)/layer$(4).bk.npy) \
		--heads $(5) --top $(K) --genes $(call genes_of,$(1),$(3)) --threads $(THREADS) \
		--label model=$(2) --label category=$(3) --label layer=$(4) $(TOPK_FLAGS) -o $$@
endef

# With WITHIN, its top-K files are inputs this makefile never writes: a
# missing or stale one (older than what within-model.mk builds it from) stops
# the run here rather than giving results for old attention.
define WITHIN_RULE
$(WITHIN)/$(2)/$(3)/topk/layer$(4).tsv.gz: $(1)/resid/$(3)/layer$(4).npy $(1)/layer$(4).wq.npy $(1)/layer$(4).wk.npy $(call genes_of,$(1),$(3)) $(WITHIN)/.settings
	@echo "network: $$@ is missing or older than its inputs: run pipelines/within-model.mk first (same MODELS, CATEGORIES; OUT=$(WITHIN))" >&2; exit 1
endef

# $(1) model dir
define MODEL_RULES
$(eval _m := $(call name_of,$(1)))
$(eval _L := $(call meta,$(1),n_layers))
$(eval _H := $(call meta,$(1),n_heads))
$(eval _T := $(or $(call meta,$(1),id_type),$(REF_ID_TYPE)))
$(if $(_L),,$(error $(1)/meta.tsv: no n_layers))
$(if $(_H),,$(error $(1)/meta.tsv: no n_heads))
$(if $(filter $(_m),$(NAMES)),$(error two models are named $(_m)))
$(eval _map := $(if $(filter-out $(REF_ID_TYPE),$(_T)),$(or $(MAP),$(error model $(_m) has id_type $(_T), the reference $(REF_ID_TYPE): give MAP (columns MAP_COLS=FROM,TO)))))
$(eval _layers := $(shell seq 0 $$(($(_L) - 1))))
$(eval _cats := $(or $(CATEGORIES),$(notdir $(wildcard $(1)/resid/*))))
$(if $(_cats),,$(error $(1)/resid/: no categories))
$(eval NAMES += $(_m))
$(foreach c,$(_cats),$(foreach l,$(_layers),$(eval $(call $(if $(WITHIN),WITHIN_RULE,TOPK_RULE),$(1),$(_m),$(c),$(l),$(_H)))))
$(eval _own := $(wildcard $(foreach c,$(_cats),$(1)/resid/$(c)/genes.txt)))
$(eval $(call MODEL_FILES,$(1),$(_m),$(foreach l,$(_layers),$(foreach c,$(_cats),$(TOPK_DIR)/$(_m)/$(c)/topk/layer$(l).tsv.gz)),$(if $(_map),$(MAP_ARGS)),$(_cats),$(_own)))
$(if $(_own),$(foreach c,$(_cats),$(eval $(call CATEGORY_SUMMARY,$(1),$(_m),$(c),$(if $(_map),$(MAP_ARGS)),$(foreach l,$(_layers),$(TOPK_DIR)/$(_m)/$(c)/topk/layer$(l).tsv.gz)))))
endef

# A category's own summary, against its own vocabulary (when some category
# of the model has one): $(1) model dir, $(2) name, $(3) category, $(4) map
# options, $(5) its top-K files
define CATEGORY_SUMMARY
$(OUT)/$(2)/$(3)/summary.tsv: $(5) $(call genes_of,$(1),$(3)) $(REF) $(if $(4),$(MAP)) $(EMB) $(EMB_NAMES) $(STAMP_PAIRS) $(STAMP_REF)
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/cat-tsv --rows $(K) $(5) \
		| edge-join --summary --by model,layer,category --vocab $(call genes_of,$(1),$(3)) $(REF_ARGS) $(4) $(EMB_ARGS) -o $$@
endef

# $(1) model dir, $(2) name, $(3) top-K files (layer-major), $(4) map options,
# $(5) categories, $(6) their own vocabularies (then one summary per category)
define MODEL_FILES
# the top-K pairs of every layer and category, labelled (in_ref, carried
# columns, endpoint cosine)
$(OUT)/$(2)/labels.tsv.gz: $(3) $(REF) $(if $(4),$(MAP)) $(EMB) $(EMB_NAMES) $(STAMP_PAIRS) $(STAMP_REF)
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/cat-tsv --rows $(K) $(3) \
		| edge-join $(REF_ARGS) $(4) $(if $(CARRY),--carry $(CARRY)) $(EMB_ARGS) -o $$@
$(OUT)/$(2)/summary.tsv: $(OUT)/$(2)/labels.tsv.gz $(if $(6),$(foreach c,$(5),$(OUT)/$(2)/$(c)/summary.tsv),$(1)/genes.txt)
	$(if $(6),$(PIPE_DIR)/lib/cat-tsv $(foreach c,$(5),$(OUT)/$(2)/$(c)/summary.tsv) $$(to_target),edge-join --summary --by model$(comma)layer$(comma)category --vocab $(1)/genes.txt $(REF_ARGS) $(4) $(EMB_ARGS) $$< -o $$@)
$(OUT)/$(2)/carry.tsv: $(OUT)/$(2)/labels.tsv.gz
	$(PIPE_DIR)/lib/carry-medians $$< $$(to_target)
$(OUT)/$(2)/network.tsv: $(OUT)/$(2)/summary.tsv $(if $(CARRY),$(OUT)/$(2)/carry.tsv)
	$(if $(CARRY),$(PIPE_DIR)/lib/join-tsv model$(comma)layer$(comma)category $$^,cat $$<) $$(to_target)
endef

NAMES :=
$(foreach d,$(MODELS),$(eval $(call MODEL_RULES,$(patsubst %/,%,$(d)))))

$(OUT)/network.tsv: $(foreach m,$(NAMES),$(OUT)/$(m)/network.tsv)
	$(PIPE_DIR)/lib/cat-tsv $^ $(to_target)

# ---- layer-auroc: continuous AUROC per layer, per head, per reference ----
# a reference's name: trrust_v2_human.tsv.gz -> trrust_v2_human
refname = $(basename $(basename $(notdir $(1))))
# its own setting NAME_<name> when defined, else the common one
refset = $(if $(filter undefined,$(origin $(1)_$(call refname,$(2)))),$(3),$($(1)_$(call refname,$(2))))
# NAME|PATH|COLS|HEADER|UNDIRECTED for lib/layer-auroc
refspec = $(call refname,$(1))|$(1)|$(call refset,REF_COLS,$(1),$(REF_COLS))|$(call refset,REF_HEADER,$(1),$(if $(REF_NO_HEADER),no,$(REF_HEADER)))|$(filter-out 0,$(call refset,REF_UNDIRECTED,$(1),$(REF_UNDIRECTED)))
refargs = --ref $(1) --ref-cols $(call refset,REF_COLS,$(1),$(REF_COLS)) --ref-header $(call refset,REF_HEADER,$(1),$(if $(REF_NO_HEADER),no,$(REF_HEADER))) $(if $(filter-out 0,$(call refset,REF_UNDIRECTED,$(1),$(REF_UNDIRECTED))),--undirected)
AUROC_NAMES := $(foreach r,$(AUROC_REFS),$(call refname,$(r)))
ifneq ($(strip $(LAYER_AUROC))$(filter layer-auroc,$(MAKECMDGOALS)),)
ifeq ($(strip $(AUROC_REFS)),)
$(error AUROC_REFS is empty: give the reference networks for layer-auroc, or LAYER_AUROC= to skip it)
endif
$(foreach r,$(AUROC_REFS),$(if $(wildcard $(r)),,$(error AUROC_REFS: $(r): no such file)))
ifneq ($(words $(AUROC_NAMES)),$(words $(sort $(AUROC_NAMES))))
$(error AUROC_REFS: two references have the same name ($(AUROC_NAMES)): rename one)
endif
endif
AUROC_FLAGS := $(if $(WITHIN),$(WITHIN_FLAGS),$(TOPK_FLAGS))
STAMP_AUROC := $(call stamp,auroc,$(foreach r,$(AUROC_REFS),$(call refspec,$(r))) map=$(MAP) mapcols=$(MAP_COLS) idtype=$(REF_ID_TYPE) flags=$(AUROC_FLAGS) k=$(K) within=$(WITHIN))
AUROC_SPECS = $(foreach r,$(AUROC_REFS),'$(call refspec,$(r))')
STAMP_PCOR := $(call stamp,pcor,counts=$(COUNTS) genes=$(COUNTS_GENES) cells=$(CELLS) col=$(CATEGORY_COL) flags=$(COEXPR_FLAGS) neg=$(PCOR_NEG) seed=$(PCOR_SEED))
ifneq ($(strip $(COUNTS)),)
ifeq ($(wildcard $(firstword $(subst :, ,$(COUNTS)))),)
$(error COUNTS=$(COUNTS): no such file)
endif
endif
ifneq ($(shell [[ "$(PCOR_NEG)" =~ ^[1-9][0-9]*$$ ]] && echo ok),ok)
$(error PCOR_NEG=$(PCOR_NEG): not a positive integer)
endif

# $(1) model dir, $(2) name, $(3) category, $(4) layer, $(5) map options
define AUROC_RULE
$(OUT)/$(2)/$(3)/auroc/layer$(4).tsv: $(1)/resid/$(3)/layer$(4).npy $(1)/layer$(4).wq.npy $(1)/layer$(4).wk.npy $(call genes_of,$(1),$(3)) $(AUROC_REFS) $(if $(5),$(MAP)) $(STAMP_AUROC)
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/layer-auroc --threads $(THREADS) $(5) --flags '$(AUROC_FLAGS)' $(1) $(3) $(4) $(call genes_of,$(1),$(3)) $(AUROC_SPECS) $$(to_target)
$(OUT)/$(2)/$(3)/auroc/layer$(4).heads.tsv: $(1)/resid/$(3)/layer$(4).npy $(1)/layer$(4).wq.npy $(1)/layer$(4).wk.npy $(call genes_of,$(1),$(3)) $(AUROC_REFS) $(if $(5),$(MAP)) $(STAMP_AUROC)
	@mkdir -p $$(@D)
	$(PIPE_DIR)/lib/layer-auroc --per-head --threads $(THREADS) $(5) --flags '$(AUROC_FLAGS)' $(1) $(3) $(4) $(call genes_of,$(1),$(3)) $(AUROC_SPECS) $$(to_target)
endef

# Fisher of each layer's top-K in every reference, enrichment, depletion and
# two-sided, against the category's vocabulary: $(1) model dir, $(2) name,
# $(3) category, $(4) map options, $(5) its top-K files
define FISHER_RULE
$(OUT)/$(2)/$(3)/fisher.tsv: $(5) $(call genes_of,$(1),$(3)) $(AUROC_REFS) $(if $(4),$(MAP)) $(STAMP_PAIRS) $(STAMP_AUROC)
	@mkdir -p $$(@D)
	$(foreach r,$(AUROC_REFS),$(PIPE_DIR)/lib/cat-tsv --rows $(K) $(5) | edge-join --summary --tails --by model$(comma)layer$(comma)category --vocab $(call genes_of,$(1),$(3)) $(call refargs,$(r)) $(4) | awk -F'\t' -v OFS='\t' 'NR == 1 { print $$$$0$(comma) "reference"; next } { print $$$$0$(comma) "$(call refname,$(r))" }' > $$@.$(call refname,$(r)).tmp &&) \
	$(PIPE_DIR)/lib/cat-tsv $(foreach r,$(AUROC_REFS),$$@.$(call refname,$(r)).tmp) > $$@.tmp && mv $$@.tmp $$@ && rm -f $$@.*.tmp || { rm -f $$@.*tmp; exit 1; }
endef

# Partial correlation on a sample of pairs (no n x n matrix): $(1) model
# dir, $(2) name, $(3) category, $(4) map options, $(5) layers
define PCOR_RULES
$(OUT)/$(2)/$(3)/pcor/sample.tsv: $(call genes_of,$(1),$(3)) $(AUROC_REFS) $(if $(4),$(MAP)) $(STAMP_AUROC) $(STAMP_PCOR)
	@mkdir -p $$(@D)
	$(foreach r,$(AUROC_REFS),edge-join --edges $(call refargs,$(r)) --among $(call genes_of,$(1),$(3)) $(4) -o $$@.$(call refname,$(r)).tmp &&) \
	$(PIPE_DIR)/lib/pcor-sample $(PCOR_SEED) $(PCOR_NEG) $(call genes_of,$(1),$(3)) $(foreach r,$(AUROC_REFS),$(call refname,$(r))=$$@.$(call refname,$(r)).tmp) > $$@.tmp && mv $$@.tmp $$@ && rm -f $$@.*.tmp || { rm -f $$@.*tmp; exit 1; }
$(OUT)/$(2)/$(3)/pcor/coexpr.tsv: $(OUT)/$(2)/$(3)/pcor/sample.tsv $(firstword $(subst :, ,$(COUNTS))) $(COUNTS_GENES) $(CELLS) $(STAMP_PCOR)
	coexpr --counts $(COUNTS) $(if $(COUNTS_GENES),--genes $(COUNTS_GENES)) $(if $(CELLS),--cells $(CELLS)) \
		$(if $(CATEGORY_COL),--where $(CATEGORY_COL)=$(3)) $(COEXPR_FLAGS) --at $$< -o $$@
$(foreach l,$(5),
$(OUT)/$(2)/$(3)/pcor/layer$(l).tsv: $(OUT)/$(2)/$(3)/pcor/sample.tsv $(OUT)/$(2)/$(3)/pcor/coexpr.tsv $(1)/resid/$(3)/layer$(l).npy $(1)/layer$(l).wq.npy $(1)/layer$(l).wk.npy
	attn-topk --model $(1) --category $(3) --layers $(l) --genes $(call genes_of,$(1),$(3)) --threads $(THREADS) $(AUROC_FLAGS) \
		--at $(OUT)/$(2)/$(3)/pcor/sample.tsv --label model=$(2) --label category=$(3) --label layer=$(l) -o $$@.attn.tmp && \
	$(PIPE_DIR)/lib/pcor-join $(OUT)/$(2)/$(3)/pcor/sample.tsv $$@.attn.tmp $(OUT)/$(2)/$(3)/pcor/coexpr.tsv \
		| paired-test --corr --a value --b in_ref --control coexpr --by model$(comma)category$(comma)layer$(comma)reference > $$@.tmp \
		&& mv $$@.tmp $$@ && rm -f $$@.attn.tmp || { rm -f $$@.attn.tmp $$@.tmp; exit 1; }
)
endef

# $(1) model dir
define AUROC_MODEL
$(eval _m := $(call name_of,$(1)))
$(eval _T := $(or $(call meta,$(1),id_type),$(REF_ID_TYPE)))
$(eval _mapo := $(if $(filter-out $(REF_ID_TYPE),$(_T)),$(MAP_ARGS)))
$(eval _layers := $(shell seq 0 $$(($(call meta,$(1),n_layers) - 1))))
$(eval _cats := $(or $(CATEGORIES),$(notdir $(wildcard $(1)/resid/*))))
$(foreach c,$(_cats),$(foreach l,$(_layers),$(eval $(call AUROC_RULE,$(1),$(_m),$(c),$(l),$(_mapo)))))
$(foreach c,$(_cats),$(eval $(call FISHER_RULE,$(1),$(_m),$(c),$(_mapo),$(foreach l,$(_layers),$(TOPK_DIR)/$(_m)/$(c)/topk/layer$(l).tsv.gz))))
$(eval AUROC_FILES += $(foreach c,$(_cats),$(foreach l,$(_layers),$(OUT)/$(_m)/$(c)/auroc/layer$(l).tsv)))
$(eval HEAD_FILES += $(foreach c,$(_cats),$(foreach l,$(_layers),$(OUT)/$(_m)/$(c)/auroc/layer$(l).heads.tsv)))
$(eval FISHER_FILES += $(foreach c,$(_cats),$(OUT)/$(_m)/$(c)/fisher.tsv))
$(if $(COUNTS),$(foreach c,$(_cats),$(eval $(call PCOR_RULES,$(1),$(_m),$(c),$(_mapo),$(_layers)))))
$(if $(COUNTS),$(eval PCOR_FILES += $(foreach c,$(_cats),$(foreach l,$(_layers),$(OUT)/$(_m)/$(c)/pcor/layer$(l).tsv))))
endef
AUROC_FILES :=
PCOR_FILES :=
HEAD_FILES :=
FISHER_FILES :=
$(foreach d,$(MODELS),$(eval $(call AUROC_MODEL,$(patsubst %/,%,$(d)))))

$(OUT)/layer_auroc.tsv: $(AUROC_FILES)
	$(PIPE_DIR)/lib/cat-tsv $^ $(to_target)
$(OUT)/layer_auroc.heads.tsv: $(HEAD_FILES)
	$(PIPE_DIR)/lib/cat-tsv $^ $(to_target)
# medians over categories, with the range across them (the figure)
$(OUT)/layer_auroc.median.tsv: $(OUT)/layer_auroc.tsv
	$(PIPE_DIR)/lib/group-stats model,reference,scope,layer auroc=median:auroc auroc_min=min:auroc \
		auroc_max=max:auroc auprc=median:auprc n_pos=median:n_pos n_categories=count:auroc < $< $(to_target)
# the trend over depth: Spearman of AUROC against the layer index
$(OUT)/auroc_trend.tsv: $(OUT)/layer_auroc.tsv
	paired-test --corr --a layer --b auroc --by model,category,reference,scope $< $(to_target)
# every head of every layer ranked by AUROC, per model, category, reference
$(OUT)/head_ranking.tsv: $(OUT)/layer_auroc.heads.tsv
	$(PIPE_DIR)/lib/head-ranking $< $(to_target)
# the references' layer profiles correlated over layers (pairs of references)
$(OUT)/ref_correlation.tsv: $(OUT)/layer_auroc.tsv
	$(PIPE_DIR)/lib/ref-pairs $< | paired-test --corr --a auroc_a --b auroc_b \
		--by model,category,scope,reference_a,reference_b $(to_target)
# Fisher per layer x reference, long (one row per tail), BH over layers x
# references within each model, category and tail
$(OUT)/layer_fisher.tsv: $(FISHER_FILES)
	$(PIPE_DIR)/lib/cat-tsv $^ | $(PIPE_DIR)/lib/fisher-long | bh-fdr --p p --by model,category,tail $(to_target)
# attention vs reference membership net of co-expression, per layer x reference
$(OUT)/layer_pcor.tsv: $(PCOR_FILES)
	$(PIPE_DIR)/lib/cat-tsv $^ $(to_target)
$(OUT)/fig_layer_auroc.png: $(OUT)/layer_auroc.median.tsv
	$(PIPE_DIR)/lib/auroc-series $< > $(basename $@).series.tmp && \
	$(PIPE_DIR)/lib/curves --x layer --y auroc --lo auroc_min --hi auroc_max --by series \
		--chance 0.5 --chancetitle "chance (AUROC 0.5)" --yhi 1 \
		--title "exact all-pairs AUROC of each layer's attention against each reference (median over categories)" \
		--xlabel "layer" --ylabel "AUROC (all pairs)" $(basename $@).series.tmp $(basename $@) && rm -f $(basename $@).series.tmp \
		|| { rm -f $(basename $@).series.tmp; exit 1; }

LAYER_AUROC_OUT := $(OUT)/layer_auroc.tsv $(OUT)/layer_auroc.median.tsv $(OUT)/auroc_trend.tsv $(OUT)/head_ranking.tsv \
	$(OUT)/layer_fisher.tsv $(OUT)/fig_layer_auroc.png $(if $(word 2,$(AUROC_REFS)),$(OUT)/ref_correlation.tsv) \
	$(if $(COUNTS),$(OUT)/layer_pcor.tsv)
layer-auroc: $(LAYER_AUROC_OUT)
.PHONY: layer-auroc

# medians over categories (+ coherence of the model-layer, when given)
$(OUT)/network.median.tsv: $(OUT)/network.tsv $(COHERENCE) $(STAMP_COH)
	$(PIPE_DIR)/lib/network-medians $< \
		$(if $(COHERENCE),| $(PIPE_DIR)/lib/join-tsv model=query_model$(comma)layer=query_layer - $(COHERENCE) coherence) \
		$(to_target)

# ---- figures (gnuplot; PNG and SVG) ----
$(OUT)/fig_fraction.png: $(OUT)/network.median.tsv
	$(PIPE_DIR)/lib/bars --group model --x layer --y true_fraction \
		--lo true_fraction_min --hi true_fraction_max --rangetitle "range across categories" \
		--ref null_fraction --reftitle "null (vocabulary-matched)" \
		--title "share of each layer's top-$(K) pairs that are reference edges (median over categories)" \
		--xlabel "layer, grouped by model" --ylabel "true fraction" $< $(basename $@)
$(OUT)/fig_cosine.png: $(OUT)/network.median.tsv
	$(PIPE_DIR)/lib/bars --group model --x layer --y median_cosine \
		--ref background_cosine --reftitle "vocabulary background (mean)" \
		--title "median endpoint cosine of the top-$(K) pairs in the network embedding" \
		--xlabel "layer, grouped by model" --ylabel "median cosine" $< $(basename $@)
$(OUT)/fig_coherence.png: $(OUT)/network.median.tsv
	$(PIPE_DIR)/lib/scatter --x coherence --y true_fraction --by model --label layer \
		--ref null_fraction --reftitle "null (dashed)" \
		--title "cross-model coherence vs true fraction per model-layer (labels: layer)" \
		--xlabel "coherence with other model families" --ylabel "true fraction (median over categories)" $< $(basename $@)

FIGS := $(OUT)/fig_fraction.png $(if $(EMB),$(OUT)/fig_cosine.png) $(if $(COHERENCE),$(OUT)/fig_coherence.png)

$(OUT)/report.html: $(FIGS) $(OUT)/network.median.tsv $(OUT)/network.tsv $(if $(LAYER_AUROC),$(LAYER_AUROC_OUT))
	$(PIPE_DIR)/lib/report-network "$(OUT)" "$(NAMES)" "$(K)" "$(TOPK_DESC)" \
		"$(REF) (columns $(REF_COLS)$(if $(REF_NO_HEADER), no header)$(if $(REF_UNDIRECTED), undirected), $(REF_ID_TYPE) ids$(if $(MAP),; map $(MAP) $(MAP_COLS)))" \
		"$(CARRY)" "$(EMB)" "$(COHERENCE)" "$(MODELS)" "$(if $(LAYER_AUROC),$(AUROC_NAMES))" $(to_target)
	echo "report: $@" >&2

all: $(OUT)/report.html
.DEFAULT_GOAL := all
.PHONY: all
