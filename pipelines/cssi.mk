# Cell-State Stratified Interpretability (CSSI), the paper's check: does
# scoring co-expression within cell states, then taking the maximum over
# states (coexpr --strata --agg max), recover regulatory edges better than
# scoring the pooled cells? And does it stay honest when the strata carry no
# biology (shuffled labels)?
#
#   make -f pipelines/cssi.mk OUT=cssi-out -j2
#
# Synthetic benchmark: grn-sim populations with 2..12 states, each state with
# its own planted network; for every (states, seed), F1 of the top-k pairs
# (k = the number of true pairs) of pooled and CSSI-max co-expression, with
# the true states (oracle), k-means clusters of the cells (cluster, k = the
# number of states) and shuffled states (coexpr --shuffle-strata) as strata.
#   $(OUT)/cssi_synthetic.tsv          states cells strata seed f1_pooled f1_cssi ratio
#   $(OUT)/cssi_synthetic_summary.tsv  per (states, strata): n, mean, sd, 95% t interval
#   $(OUT)/cssi_synthetic_metrics.tsv  every edge-eval row (AUROC, AP, per-source F1)
#   $(OUT)/fig_cssi_ratio.png/.svg     ratio against states, one line per strata type
# Real population (when $(PBMC) exists): pbmc160, 8 cell types of 20 cells,
# the same comparison against TRRUST and DoRothEA:
#   $(OUT)/cssi_pbmc.tsv, $(OUT)/cssi_pbmc_summary.tsv
# and $(OUT)/report.html with all of it.
#
# Make is the cache: a second run does nothing; changing a setting re-runs what
# it affects (settings stamps).

include $(dir $(lastword $(MAKEFILE_LIST)))lib/preamble.mk
# keep every intermediate (pairs, clusters): they are the cache too
.SECONDARY:

LIB := $(PIPE_DIR)/lib

# ---- settings (override on the command line) ----
OUT             ?= cssi-out
STATES          ?= 2 4 6 8 10 12
SEEDS           ?= 1 2 3 4 5 6 7 8 9 10
# cells = CELLS_PER_STATE x states, clamped to [CELLS_MIN, CELLS_MAX]
CELLS_PER_STATE ?= 125
CELLS_MIN       ?= 200
CELLS_MAX       ?= 1500
GENES           ?= 200
TFS             ?= 20
EDGES           ?= 30
# extra grn-sim options (--shift, --noise, --depth, --dropout, --shared-edges)
SIM_FLAGS       ?=
METHOD          ?= spearman
MIN_CELLS       ?= 10
PER_SOURCE      ?= 5
SHARED_DATA     ?= $(abspath $(PIPE_DIR)/../../shared/data)
PBMC            ?= $(SHARED_DATA)/pbmc160
TRRUST          ?= $(SHARED_DATA)/trrust_v2_human.tsv.gz
DOROTHEA        ?= $(SHARED_DATA)/dorothea_hs_ABC.tsv.gz
PBMC_COLUMN     ?= cell_type
PBMC_K          ?= 8
PBMC_HVG        ?= 2000
PBMC_SEEDS      ?= $(SEEDS)

STRATA := oracle clustered shuffled
cells_of = $(shell s=$$(( $(CELLS_PER_STATE) * $(1) )); [ $$s -lt $(CELLS_MIN) ] && s=$(CELLS_MIN); [ $$s -gt $(CELLS_MAX) ] && s=$(CELLS_MAX); echo $$s)

# Settings stamps: rewritten only when their settings change, so that make
# re-runs exactly what a change affects.
stamp = $(shell mkdir -p $(OUT) && { [ -f $(OUT)/.$(1) ] && [ "$$(cat $(OUT)/.$(1))" = "$(2)" ] || printf '%s\n' "$(2)" > $(OUT)/.$(1); })$(OUT)/.$(1)
SIM_STAMP   := $(call stamp,sim,cps=$(CELLS_PER_STATE) min=$(CELLS_MIN) max=$(CELLS_MAX) g=$(GENES) t=$(TFS) e=$(EDGES) $(SIM_FLAGS))
SCORE_STAMP := $(call stamp,score,$(METHOD) min=$(MIN_CELLS) ps=$(PER_SOURCE))
PBMC_STAMP  := $(call stamp,pbmc,col=$(PBMC_COLUMN) k=$(PBMC_K) hvg=$(PBMC_HVG))

SYN := $(OUT)/synthetic
ROWS :=
EVALS :=

# ---- synthetic: one population per (states, seed) ----
# $(1) states, $(2) seed, $(3) cells
define SIM_RULES
$(SYN)/s$(1)/seed$(2)/data/counts.mtx: $(SIM_STAMP)
	@mkdir -p $$(@D)/..
	rm -rf $$(@D).tmp
	grn-sim --out $$(@D).tmp --states $(1) --cells $(3) --genes $(GENES) --tfs $(TFS) \
		--edges $(EDGES) --seed $(2) $(SIM_FLAGS)
	rm -rf $$(@D) && mv $$(@D).tmp $$(@D)

$(SYN)/s$(1)/seed$(2)/clusters.tsv: $(SYN)/s$(1)/seed$(2)/data/counts.mtx
	cluster --counts $$< --genes $$(<D)/genes.txt --cells $$(<D)/cells.tsv --k $(1) --seed $(2) -o $$@

$(SYN)/s$(1)/seed$(2)/eval.%.tsv: $(SYN)/s$(1)/seed$(2)/pairs.%.tsv.gz
	edge-eval --ref $$(@D)/data/truth.tsv --ref-cols from,to --abs --per-source $(PER_SOURCE) \
		--label states=$(1) --label cells=$(3) --label seed=$(2) --label scoring=$$* $$< -o $$@

$(SYN)/s$(1)/seed$(2)/rows.tsv: $(foreach s,pooled $(STRATA),$(SYN)/s$(1)/seed$(2)/eval.$(s).tsv)
	$(LIB)/cat-tsv $$^ | awk -F'\t' 'BEGIN { OFS = "\t" } \
		NR == 1 { for (i = 1; i <= NF; i++) c[$$$$i] = i; print "states", "cells", "strata", "seed", "f1_pooled", "f1_cssi", "ratio"; next } \
		{ f[$$$$c["scoring"]] = $$$$c["f1"] } \
		END { split("$(STRATA)", s, " "); for (j = 1; j <= 3; j++) \
			print $(1), $(3), s[j], $(2), f["pooled"], f[s[j]], (f["pooled"] > 0 ? f[s[j]] / f["pooled"] : "nan") }' > $$@.tmp && mv $$@.tmp $$@

ROWS += $(SYN)/s$(1)/seed$(2)/rows.tsv
EVALS += $(foreach s,pooled $(STRATA),$(SYN)/s$(1)/seed$(2)/eval.$(s).tsv)
endef
$(foreach S,$(STATES),$(eval _cells := $(call cells_of,$(S)))$(foreach r,$(SEEDS),$(eval $(call SIM_RULES,$(S),$(r),$(_cells)))))

COEXPR_SYN = coexpr --counts $(<D)/counts.mtx --genes $(<D)/genes.txt --sources $(<D)/tfs.txt \
	--method $(METHOD) --abs

$(SYN)/%/pairs.pooled.tsv.gz: $(SYN)/%/data/counts.mtx $(SCORE_STAMP)
	$(COEXPR_SYN) -o $@
$(SYN)/%/pairs.oracle.tsv.gz: $(SYN)/%/data/counts.mtx $(SCORE_STAMP)
	$(COEXPR_SYN) --cells $(<D)/cells.tsv --strata state --agg max --min-cells $(MIN_CELLS) -o $@
$(SYN)/%/pairs.shuffled.tsv.gz: $(SYN)/%/data/counts.mtx $(SCORE_STAMP)
	$(COEXPR_SYN) --cells $(<D)/cells.tsv --strata state --agg max --min-cells $(MIN_CELLS) \
		--shuffle-strata --seed $(patsubst seed%,%,$(notdir $*)) -o $@
$(SYN)/%/pairs.clustered.tsv.gz: $(SYN)/%/data/counts.mtx $(SYN)/%/clusters.tsv $(SCORE_STAMP)
	$(COEXPR_SYN) --cells $(SYN)/$*/clusters.tsv --strata cluster --agg max --min-cells $(MIN_CELLS) -o $@

$(OUT)/cssi_synthetic.tsv: $(ROWS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
$(OUT)/cssi_synthetic_metrics.tsv: $(EVALS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
$(OUT)/cssi_synthetic_summary.tsv: $(OUT)/cssi_synthetic.tsv
	$(LIB)/mean-ci states,strata ratio,f1_pooled,f1_cssi < $< > $@.tmp && mv $@.tmp $@
$(OUT)/fig_cssi_ratio.png: $(OUT)/cssi_synthetic_summary.tsv
	$(LIB)/curves --x states --y ratio_mean --lo ratio_lo --hi ratio_hi --by strata --chance 1 --chancetitle "ratio 1: CSSI = pooled" \
		--title "CSSI-max / pooled F1 of top-k edges (mean, 95% CI over $(words $(SEEDS)) seeds)" \
		--xlabel "cell states" --ylabel "F1 ratio (CSSI-max / pooled)" $< $(basename $@)

ALL := $(OUT)/cssi_synthetic.tsv $(OUT)/cssi_synthetic_metrics.tsv \
	$(OUT)/cssi_synthetic_summary.tsv $(OUT)/fig_cssi_ratio.png

# ---- real population: pbmc160 against TRRUST and DoRothEA ----
PB := $(OUT)/pbmc
REFS := $(if $(wildcard $(TRRUST)),trrust) $(if $(wildcard $(DOROTHEA)),dorothea)
ifneq ($(and $(wildcard $(PBMC)/matrix.mtx.gz),$(REFS)),)
PBMC_IN := --counts $(PBMC)/matrix.mtx.gz --genes $(PBMC)/genes.txt

$(PB)/hvg.txt: $(PBMC)/matrix.mtx.gz $(PBMC_STAMP)
	@mkdir -p $(@D)
	gene-stats $(PBMC_IN) --hvg $(PBMC_HVG) | awk -F'\t' 'NR > 1 && $$6 != "NA" { print $$1 }' > $@.tmp && mv $@.tmp $@
# references as from/to, one edge per line
$(PB)/ref.trrust.tsv: $(TRRUST)
	@mkdir -p $(@D)
	{ printf 'from\tto\n'; gzip -dcf $< | awk -F'\t' '$$1 != "" && $$2 != "" { print $$1 "\t" $$2 }'; } > $@.tmp && mv $@.tmp $@
$(PB)/ref.dorothea.tsv: $(DOROTHEA)
	@mkdir -p $(@D)
	{ printf 'from\tto\n'; gzip -dcf $< | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; next } \
		{ print $$(c["tf"]) "\t" $$(c["target"]) }'; } > $@.tmp && mv $@.tmp $@
# sources: the references' regulators among the variable genes
$(PB)/sources.txt: $(PB)/hvg.txt $(foreach r,$(REFS),$(PB)/ref.$(r).tsv)
	awk 'FNR == NR { h[$$1]; next } FNR > 1 && ($$1 in h) { print $$1 }' $^ | sort -u > $@.tmp && mv $@.tmp $@

$(PB)/clusters.seed%.tsv: $(PBMC)/matrix.mtx.gz $(PBMC_STAMP)
	@mkdir -p $(@D)
	cluster $(PBMC_IN) --cells $(PBMC)/cells.tsv --k $(PBMC_K) --seed $* -o $@

COEXPR_PB = coexpr $(PBMC_IN) --genes-subset $(PB)/hvg.txt --sources $(PB)/sources.txt \
	--method $(METHOD) --abs
$(PB)/pairs.pooled.tsv.gz: $(PB)/sources.txt $(SCORE_STAMP)
	$(COEXPR_PB) -o $@
$(PB)/pairs.oracle.tsv.gz: $(PB)/sources.txt $(SCORE_STAMP)
	$(COEXPR_PB) --cells $(PBMC)/cells.tsv --strata $(PBMC_COLUMN) --min-cells $(MIN_CELLS) -o $@
$(PB)/pairs.shuffled.seed%.tsv.gz: $(PB)/sources.txt $(SCORE_STAMP)
	$(COEXPR_PB) --cells $(PBMC)/cells.tsv --strata $(PBMC_COLUMN) --min-cells $(MIN_CELLS) \
		--shuffle-strata --seed $* -o $@
$(PB)/pairs.clustered.seed%.tsv.gz: $(PB)/clusters.seed%.tsv $(PB)/sources.txt $(SCORE_STAMP)
	$(COEXPR_PB) --cells $< --strata cluster --min-cells $(MIN_CELLS) -o $@

# Evaluate each reference on the pairs from its own regulators only.
# $(1) reference, $(2) scoring name (file part), $(3) strata label, $(4) seed label
define PB_EVAL
$(PB)/eval.$(1).$(2).tsv: $(PB)/pairs.$(2).tsv.gz $(PB)/ref.$(1).tsv
	gzip -dc $$< | awk -F'\t' 'FNR == NR { if (FNR > 1) t[$$$$1]; next } FNR == 1 || ($$$$1 in t)' $(PB)/ref.$(1).tsv - \
		| edge-eval --ref $(PB)/ref.$(1).tsv --ref-cols from,to --abs --per-source $(PER_SOURCE) \
			--label reference=$(1) --label strata=$(3) --label seed=$(4) -o $$@
PB_EVALS += $(PB)/eval.$(1).$(2).tsv
endef
PB_EVALS :=
$(foreach r,$(REFS),$(eval $(call PB_EVAL,$(r),pooled,pooled,NA)) \
	$(eval $(call PB_EVAL,$(r),oracle,oracle,NA)) \
	$(foreach s,$(PBMC_SEEDS),$(eval $(call PB_EVAL,$(r),clustered.seed$(s),clustered,$(s))) \
		$(eval $(call PB_EVAL,$(r),shuffled.seed$(s),shuffled,$(s)))))

$(OUT)/cssi_pbmc_metrics.tsv: $(PB_EVALS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
# pooled F1 and AUROC next to each stratified run of the same reference
$(OUT)/cssi_pbmc.tsv: $(OUT)/cssi_pbmc_metrics.tsv
	awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; \
			print "reference", "strata", "seed", "n_pairs", "n_true", "f1_pooled", "f1_cssi", "ratio", "auroc_pooled", "auroc_cssi"; next } \
		$$(c["strata"]) == "pooled" { f[$$(c["reference"])] = $$(c["f1"]); a[$$(c["reference"])] = $$(c["auroc"]); next } \
		{ r[++n] = $$0 } \
		END { for (j = 1; j <= n; j++) { split(r[j], x, "\t"); ref = x[c["reference"]]; \
			print ref, x[c["strata"]], x[c["seed"]], x[c["n_pairs"]], x[c["n_true"]], f[ref], x[c["f1"]], \
				(f[ref] > 0 ? x[c["f1"]] / f[ref] : "nan"), a[ref], x[c["auroc"]] } }' $< > $@.tmp && mv $@.tmp $@
$(OUT)/cssi_pbmc_summary.tsv: $(OUT)/cssi_pbmc.tsv
	$(LIB)/mean-ci reference,strata ratio,f1_cssi,auroc_cssi < $< > $@.tmp && mv $@.tmp $@

ALL += $(OUT)/cssi_pbmc.tsv $(OUT)/cssi_pbmc_summary.tsv
PBMC_DONE := 1
endif

$(OUT)/report.html: $(ALL)
	$(LIB)/report-cssi "$(OUT)" "$(STATES)" "$(SEEDS)" "$(METHOD)" "$(MIN_CELLS)" "$(PBMC_DONE)" \
		"$(CELLS_PER_STATE) cells per state in [$(CELLS_MIN), $(CELLS_MAX)], $(GENES) genes, $(TFS) regulators, $(EDGES) edges per state $(SIM_FLAGS)" \
		> $@.tmp && mv $@.tmp $@
	echo "report: $@" >&2

all: $(OUT)/report.html
synthetic: $(OUT)/cssi_synthetic_summary.tsv $(OUT)/fig_cssi_ratio.png
.DEFAULT_GOAL := all
.PHONY: all synthetic
