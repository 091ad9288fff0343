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
# the true states (oracle), clusters of the cells (CLUSTER=leiden: Leiden
# communities of the kNN graph, KNN neighbours, RESOLUTION; CLUSTER=kmeans:
# k-means, k = the number of states) and three nulls as strata: shuffled states
# (coexpr --shuffle-strata), random labels (--random-strata) and the true
# states scored against gene-permuted labels (the truth's genes permuted,
# pipelines/lib/permute-net; pooled F1 against the same permuted truth).
#   $(OUT)/cssi_synthetic.tsv          states cells strata seed f1_pooled f1_cssi ratio
#   $(OUT)/cssi_synthetic_summary.tsv  per (states, strata): n, mean, sd, 95% t interval,
#                                      ratio_of_means = mean f1_cssi / mean f1_pooled (Table S5's
#                                      ratio; ratio_mean is the mean of per-seed ratios)
#   $(OUT)/cssi_synthetic_contrast.tsv per population: coexpr --contrast-perm CONTRAST_PERM
#                                      (oracle CSSI-max against shuffled strata), pairs at
#                                      q < CONTRAST_Q and how many are true (0: off)
#   $(OUT)/cssi_synthetic_boot.tsv     per population and scoring: mean and min Jaccard of
#                                      the top BOOT_K pairs over BOOT subsamples of
#                                      BOOT_FRAC of the cells (0: off)
#   $(OUT)/cssi_synthetic_metrics.tsv  every edge-eval row (AUROC, AP, per-source F1)
#   $(OUT)/fig_cssi_ratio.png/.svg     ratio against states, one line per strata type
# Real population (when $(PBMC) exists): pbmc160, 8 cell types of 20 cells,
# the same comparison against TRRUST and DoRothEA:
#   $(OUT)/cssi_pbmc.tsv, $(OUT)/cssi_pbmc_summary.tsv, cssi_pbmc_contrast.tsv, cssi_pbmc_boot.tsv
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
# smallest stratum scored: coexpr's default is 20, the paper's code 5; 10 here
# (pbmc160 has 20 cells per type, and a subsample of 80% of them must pass)
MIN_CELLS       ?= 10
# strata from the cells: leiden (kNN graph, igraph) or kmeans
CLUSTER         ?= leiden
KNN             ?= 15
RESOLUTION      ?= 1.0
# per-pair permutation test of CSSI-max against pooled: permutations (0: off),
# q threshold; p >= 1/(N+1), so BH over the ~4,000 synthetic pairs needs ~1,000
CONTRAST_PERM   ?= 999
CONTRAST_Q      ?= 0.05
# stability of the top-k set over cells: subsamples (0: off), fraction, k
BOOT            ?= 10
BOOT_FRAC       ?= 0.8
BOOT_K          ?= 100
PER_SOURCE      ?= 5
SHARED_DATA     ?= $(abspath $(PIPE_DIR)/../../shared/data)
PBMC            ?= $(SHARED_DATA)/pbmc160
TRRUST          ?= $(SHARED_DATA)/trrust_v2_human.tsv.gz
DOROTHEA        ?= $(SHARED_DATA)/dorothea_hs_ABC.tsv.gz
PBMC_COLUMN     ?= cell_type
PBMC_K          ?= 8
PBMC_HVG        ?= 2000
PBMC_SEEDS      ?= $(SEEDS)

ifeq ($(filter $(CLUSTER),leiden kmeans),)
$(error CLUSTER=$(CLUSTER): leiden or kmeans)
endif
# the cluster options; $(1) the k of k-means
cluster_opts = $(if $(filter leiden,$(CLUSTER)),--method leiden --knn $(KNN) --resolution $(RESOLUTION),--k $(1))

STRATA := oracle clustered shuffled random_labels gene_permuted
BOOT_SEEDS := $(if $(filter-out 0,$(BOOT)),$(shell seq 1 $(BOOT)))
cells_of = $(shell s=$$(( $(CELLS_PER_STATE) * $(1) )); [ $$s -lt $(CELLS_MIN) ] && s=$(CELLS_MIN); [ $$s -gt $(CELLS_MAX) ] && s=$(CELLS_MAX); echo $$s)

# Settings stamps: rewritten only when their settings change, so that make
# re-runs exactly what a change affects.
stamp = $(shell mkdir -p $(OUT) && { [ -f $(OUT)/.$(1) ] && [ "$$(cat $(OUT)/.$(1))" = "$(2)" ] || printf '%s\n' "$(2)" > $(OUT)/.$(1); })$(OUT)/.$(1)
SIM_STAMP   := $(call stamp,sim,cps=$(CELLS_PER_STATE) min=$(CELLS_MIN) max=$(CELLS_MAX) g=$(GENES) t=$(TFS) e=$(EDGES) $(SIM_FLAGS))
SCORE_STAMP := $(call stamp,score,$(METHOD) min=$(MIN_CELLS) ps=$(PER_SOURCE))
PBMC_STAMP  := $(call stamp,pbmc,col=$(PBMC_COLUMN) k=$(PBMC_K) hvg=$(PBMC_HVG))
CLUSTER_STAMP := $(call stamp,cluster,$(CLUSTER) knn=$(KNN) res=$(RESOLUTION))
CONTRAST_STAMP := $(call stamp,contrast,$(CONTRAST_PERM) q=$(CONTRAST_Q))
BOOT_STAMP  := $(call stamp,boot,$(BOOT) frac=$(BOOT_FRAC) k=$(BOOT_K))

SYN := $(OUT)/synthetic
ROWS :=
EVALS :=
CONTRASTS :=
BOOTS :=

# ---- synthetic: one population per (states, seed) ----
# $(1) states, $(2) seed, $(3) cells
define SIM_RULES
$(SYN)/s$(1)/seed$(2)/data/counts.mtx: $(SIM_STAMP)
	@mkdir -p $$(@D)/..
	rm -rf $$(@D).tmp
	grn-sim --out $$(@D).tmp --states $(1) --cells $(3) --genes $(GENES) --tfs $(TFS) \
		--edges $(EDGES) --seed $(2) $(SIM_FLAGS)
	rm -rf $$(@D) && mv $$(@D).tmp $$(@D)

$(SYN)/s$(1)/seed$(2)/clusters.tsv: $(SYN)/s$(1)/seed$(2)/data/counts.mtx $(CLUSTER_STAMP)
	cluster --counts $$< --genes $$(<D)/genes.txt --cells $$(<D)/cells.tsv $$(call cluster_opts,$(1)) --seed $(2) -o $$@

# the gene-permuted labels null: the truth with its genes permuted (regulators
# among regulators), oracle and pooled pairs scored against it
$(SYN)/s$(1)/seed$(2)/truth.gene_permuted.tsv: $(SYN)/s$(1)/seed$(2)/data/counts.mtx
	$(LIB)/permute-net $(2) $$(<D)/genes.txt $$(<D)/tfs.txt < $$(<D)/truth.tsv > $$@.tmp && mv $$@.tmp $$@
$(SYN)/s$(1)/seed$(2)/eval.gene_permuted.tsv: $(SYN)/s$(1)/seed$(2)/pairs.oracle.tsv.gz $(SYN)/s$(1)/seed$(2)/truth.gene_permuted.tsv
	edge-eval --ref $$(@D)/truth.gene_permuted.tsv --ref-cols from,to --abs --per-source $(PER_SOURCE) \
		--label states=$(1) --label cells=$(3) --label seed=$(2) --label scoring=gene_permuted $$< -o $$@
$(SYN)/s$(1)/seed$(2)/eval.gene_permuted_pooled.tsv: $(SYN)/s$(1)/seed$(2)/pairs.pooled.tsv.gz $(SYN)/s$(1)/seed$(2)/truth.gene_permuted.tsv
	edge-eval --ref $$(@D)/truth.gene_permuted.tsv --ref-cols from,to --abs --per-source $(PER_SOURCE) \
		--label states=$(1) --label cells=$(3) --label seed=$(2) --label scoring=gene_permuted_pooled $$< -o $$@

$(SYN)/s$(1)/seed$(2)/eval.%.tsv: $(SYN)/s$(1)/seed$(2)/pairs.%.tsv.gz
	edge-eval --ref $$(@D)/data/truth.tsv --ref-cols from,to --abs --per-source $(PER_SOURCE) \
		--label states=$(1) --label cells=$(3) --label seed=$(2) --label scoring=$$* $$< -o $$@

# gene_permuted's pooled F1 is the pooled pairs' against the same permuted truth
$(SYN)/s$(1)/seed$(2)/rows.tsv: $(foreach s,pooled gene_permuted_pooled $(STRATA),$(SYN)/s$(1)/seed$(2)/eval.$(s).tsv)
	$(LIB)/cat-tsv $$^ | awk -F'\t' 'BEGIN { OFS = "\t" } \
		NR == 1 { for (i = 1; i <= NF; i++) c[$$$$i] = i; print "states", "cells", "strata", "seed", "f1_pooled", "f1_cssi", "ratio"; next } \
		{ f[$$$$c["scoring"]] = $$$$c["f1"] } \
		END { ns = split("$(STRATA)", s, " "); for (j = 1; j <= ns; j++) { p = f[s[j] == "gene_permuted" ? "gene_permuted_pooled" : "pooled"]; \
			print $(1), $(3), s[j], $(2), p, f[s[j]], (p > 0 ? f[s[j]] / p : "nan") } }' > $$@.tmp && mv $$@.tmp $$@

# the contrast test: pairs at q < CONTRAST_Q, how many true
$(SYN)/s$(1)/seed$(2)/contrast.tsv: $(SYN)/s$(1)/seed$(2)/pairs.contrast.tsv.gz
	gzip -dc $$< | $(LIB)/contrast-count $$(@D)/data/truth.tsv $(CONTRAST_Q) states=$(1) cells=$(3) seed=$(2) > $$@.tmp && mv $$@.tmp $$@
$(SYN)/s$(1)/seed$(2)/pairs.contrast.tsv.gz: $(SYN)/s$(1)/seed$(2)/data/counts.mtx $(SCORE_STAMP) $(CONTRAST_STAMP)
	$$(COEXPR_SYN) --cells $$(<D)/cells.tsv --strata state --agg max --min-cells $(MIN_CELLS) \
		--contrast-perm $(CONTRAST_PERM) --seed $(2) -o $$@

ROWS += $(SYN)/s$(1)/seed$(2)/rows.tsv
EVALS += $(foreach s,pooled gene_permuted_pooled $(STRATA),$(SYN)/s$(1)/seed$(2)/eval.$(s).tsv)
CONTRASTS += $(SYN)/s$(1)/seed$(2)/contrast.tsv
BOOTS += $(foreach s,pooled oracle,$(SYN)/s$(1)/seed$(2)/boot.$(s).tsv)
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
$(SYN)/%/pairs.random_labels.tsv.gz: $(SYN)/%/data/counts.mtx $(SCORE_STAMP)
	$(COEXPR_SYN) --cells $(<D)/cells.tsv --strata state --agg max --min-cells $(MIN_CELLS) \
		--random-strata --seed $(patsubst seed%,%,$(notdir $*)) -o $@

# stability: the top BOOT_K pairs of BOOT subsamples (seeds 1..BOOT, kept in
# FILE.d/SEED.tsv), Jaccard of every two; one row: the labels $(2) ("name=value ..."), then boot frac k
# jaccard_mean jaccard_min. $(1) the coexpr command.
define BOOT_RECIPE
	rm -rf $@.d && mkdir -p $@.d
	for b in $(BOOT_SEEDS); do $(1) --subsample $(BOOT_FRAC) --seed $$b --top $(BOOT_K) -o $@.d/$$b.tsv || exit 1; done
	$(LIB)/topk-jaccard $(BOOT_K) --abs $(addprefix $@.d/,$(addsuffix .tsv,$(BOOT_SEEDS))) \
		| awk -F'\t' -v L="$(2)" 'BEGIN { OFS = "\t" } NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; next } \
			{ n++; s += $$(c["jaccard"]); if (n == 1 || $$(c["jaccard"]) < m) m = $$(c["jaccard"]); k = $$(c["k"]) } \
			END { nl = split(L, l, " "); h = v = ""; for (i = 1; i <= nl; i++) { split(l[i], kv, "="); h = h kv[1] "\t"; v = v kv[2] "\t" } \
				print h "boot\tfrac\tk\tjaccard_mean\tjaccard_min"; print v $(BOOT), $(BOOT_FRAC), k, s / n, m }' > $@.tmp
	mv $@.tmp $@
endef
syn_labels = states=$(patsubst s%,%,$(firstword $(subst /, ,$*))) cells=$(call cells_of,$(patsubst s%,%,$(firstword $(subst /, ,$*)))) seed=$(patsubst seed%,%,$(notdir $*))
$(SYN)/%/boot.pooled.tsv: $(SYN)/%/data/counts.mtx $(SCORE_STAMP) $(BOOT_STAMP)
	$(call BOOT_RECIPE,$(COEXPR_SYN),$(syn_labels) scoring=pooled)
$(SYN)/%/boot.oracle.tsv: $(SYN)/%/data/counts.mtx $(SCORE_STAMP) $(BOOT_STAMP)
	$(call BOOT_RECIPE,$(COEXPR_SYN) --cells $(<D)/cells.tsv --strata state --agg max --min-cells $(MIN_CELLS),$(syn_labels) scoring=oracle)

$(OUT)/cssi_synthetic.tsv: $(ROWS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
$(OUT)/cssi_synthetic_metrics.tsv: $(EVALS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
# ratio_of_means: mean F1 CSSI over mean F1 pooled (Table S5's ratio), beside
# ratio_mean, the mean of the per-seed ratios
RATIO_OF_MEANS = awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; print $$0, "ratio_of_means"; next } \
	{ p = $$(c["f1_pooled_mean"]); print $$0, (p > 0 ? $$(c["f1_cssi_mean"]) / p : "nan") }'
$(OUT)/cssi_synthetic_summary.tsv: $(OUT)/cssi_synthetic.tsv
	$(LIB)/mean-ci states,strata ratio,f1_pooled,f1_cssi < $< | $(RATIO_OF_MEANS) > $@.tmp && mv $@.tmp $@
# the figure: ratios of the strata scored against the true network (the
# gene-permuted null's F1 is near 0 for both scorings: its ratio is noise)
$(OUT)/fig_cssi_ratio.png: $(OUT)/cssi_synthetic_summary.tsv
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i } NR == 1 || $$(c["strata"]) != "gene_permuted"' $< > $(OUT)/.fig_cssi_ratio.tsv
	$(LIB)/curves --x states --y ratio_mean --lo ratio_lo --hi ratio_hi --by strata --chance 1 --chancetitle "ratio 1: CSSI = pooled" \
		--title "CSSI-max / pooled F1 of top-k edges (mean, 95% CI over $(words $(SEEDS)) seeds)" \
		--xlabel "cell states" --ylabel "F1 ratio (CSSI-max / pooled)" $(OUT)/.fig_cssi_ratio.tsv $(basename $@)

ALL := $(OUT)/cssi_synthetic.tsv $(OUT)/cssi_synthetic_metrics.tsv \
	$(OUT)/cssi_synthetic_summary.tsv $(OUT)/fig_cssi_ratio.png

ifneq ($(CONTRAST_PERM),0)
$(OUT)/cssi_synthetic_contrast.tsv: $(CONTRASTS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
ALL += $(OUT)/cssi_synthetic_contrast.tsv
endif
ifneq ($(BOOT),0)
$(OUT)/cssi_synthetic_boot.tsv: $(BOOTS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
$(OUT)/cssi_synthetic_boot_summary.tsv: $(OUT)/cssi_synthetic_boot.tsv
	$(LIB)/mean-ci states,scoring jaccard_mean < $< > $@.tmp && mv $@.tmp $@
ALL += $(OUT)/cssi_synthetic_boot.tsv $(OUT)/cssi_synthetic_boot_summary.tsv
endif

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

$(PB)/clusters.seed%.tsv: $(PBMC)/matrix.mtx.gz $(PBMC_STAMP) $(CLUSTER_STAMP)
	@mkdir -p $(@D)
	cluster $(PBMC_IN) --cells $(PBMC)/cells.tsv $(call cluster_opts,$(PBMC_K)) --seed $* -o $@

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
$(PB)/pairs.random_labels.seed%.tsv.gz: $(PB)/sources.txt $(SCORE_STAMP)
	$(COEXPR_PB) --cells $(PBMC)/cells.tsv --strata $(PBMC_COLUMN) --min-cells $(MIN_CELLS) \
		--random-strata --seed $* -o $@
# gene-permuted labels: each reference's genes permuted among the variable
# genes (its regulators among the sources)
# $(1) reference, $(2) seed
define PB_PERMUTED
$(PB)/ref.$(1).gene_permuted.seed$(2).tsv: $(PB)/ref.$(1).tsv $(PB)/hvg.txt $(PB)/sources.txt
	$(LIB)/permute-net $(2) $(PB)/hvg.txt $(PB)/sources.txt < $$< > $$@.tmp && mv $$@.tmp $$@
endef
$(foreach r,$(REFS),$(foreach s,$(PBMC_SEEDS),$(eval $(call PB_PERMUTED,$(r),$(s)))))
$(PB)/pairs.contrast.tsv.gz: $(PB)/sources.txt $(SCORE_STAMP) $(CONTRAST_STAMP)
	$(COEXPR_PB) --cells $(PBMC)/cells.tsv --strata $(PBMC_COLUMN) --min-cells $(MIN_CELLS) \
		--contrast-perm $(CONTRAST_PERM) -o $@
$(PB)/boot.pooled.tsv: $(PB)/sources.txt $(SCORE_STAMP) $(BOOT_STAMP)
	$(call BOOT_RECIPE,$(COEXPR_PB),scoring=pooled)
$(PB)/boot.oracle.tsv: $(PB)/sources.txt $(SCORE_STAMP) $(BOOT_STAMP)
	$(call BOOT_RECIPE,$(COEXPR_PB) --cells $(PBMC)/cells.tsv --strata $(PBMC_COLUMN) --min-cells $(MIN_CELLS),scoring=oracle)

# Evaluate each reference on the pairs from its own regulators only.
# $(1) reference, $(2) scoring name (file part), $(3) strata label, $(4) seed
# label, $(5) the reference file's name part [$(1)], $(6) the eval file's name part [$(2)]
define PB_EVAL
$(PB)/eval.$(1).$(or $(6),$(2)).tsv: $(PB)/pairs.$(2).tsv.gz $(PB)/ref.$(or $(5),$(1)).tsv
	gzip -dc $$< | awk -F'\t' 'FNR == NR { if (FNR > 1) t[$$$$1]; next } FNR == 1 || ($$$$1 in t)' $(PB)/ref.$(or $(5),$(1)).tsv - \
		| edge-eval --ref $(PB)/ref.$(or $(5),$(1)).tsv --ref-cols from,to --abs --per-source $(PER_SOURCE) \
			--label reference=$(1) --label strata=$(3) --label seed=$(4) -o $$@
PB_EVALS += $(PB)/eval.$(1).$(or $(6),$(2)).tsv
endef
PB_EVALS :=
$(foreach r,$(REFS),$(eval $(call PB_EVAL,$(r),pooled,pooled,NA)) \
	$(eval $(call PB_EVAL,$(r),oracle,oracle,NA)) \
	$(foreach s,$(PBMC_SEEDS),$(eval $(call PB_EVAL,$(r),clustered.seed$(s),clustered,$(s))) \
		$(eval $(call PB_EVAL,$(r),shuffled.seed$(s),shuffled,$(s))) \
		$(eval $(call PB_EVAL,$(r),random_labels.seed$(s),random_labels,$(s))) \
		$(eval $(call PB_EVAL,$(r),oracle,gene_permuted,$(s),$(r).gene_permuted.seed$(s),gene_permuted.seed$(s))) \
		$(eval $(call PB_EVAL,$(r),pooled,gene_permuted_pooled,$(s),$(r).gene_permuted.seed$(s),gene_permuted_pooled.seed$(s)))))

# the contrast test per reference, on the pairs of its own regulators
$(PB)/contrast.%.tsv: $(PB)/pairs.contrast.tsv.gz $(PB)/ref.%.tsv
	gzip -dc $< | awk -F'\t' 'FNR == NR { if (FNR > 1) t[$$1]; next } FNR == 1 || ($$1 in t)' $(PB)/ref.$*.tsv - \
		| $(LIB)/contrast-count $(PB)/ref.$*.tsv $(CONTRAST_Q) reference=$* > $@.tmp && mv $@.tmp $@

$(OUT)/cssi_pbmc_metrics.tsv: $(PB_EVALS)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
# pooled F1 and AUROC next to each stratified run of the same reference (for
# gene_permuted: the pooled pairs against the same permuted reference)
$(OUT)/cssi_pbmc.tsv: $(OUT)/cssi_pbmc_metrics.tsv
	awk -F'\t' 'BEGIN { OFS = "\t" } NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; \
			print "reference", "strata", "seed", "n_pairs", "n_true", "f1_pooled", "f1_cssi", "ratio", "auroc_pooled", "auroc_cssi"; next } \
		{ s = $$(c["strata"]); k = $$(c["reference"]) SUBSEP (s ~ /^gene_permuted/ ? $$(c["seed"]) : "NA") } \
		s == "pooled" || s == "gene_permuted_pooled" { f[k] = $$(c["f1"]); a[k] = $$(c["auroc"]); next } \
		{ r[++n] = $$0; key[n] = k } \
		END { for (j = 1; j <= n; j++) { split(r[j], x, "\t"); k = key[j]; \
			print x[c["reference"]], x[c["strata"]], x[c["seed"]], x[c["n_pairs"]], x[c["n_true"]], f[k], x[c["f1"]], \
				(f[k] > 0 ? x[c["f1"]] / f[k] : "nan"), a[k], x[c["auroc"]] } }' $< > $@.tmp && mv $@.tmp $@
$(OUT)/cssi_pbmc_summary.tsv: $(OUT)/cssi_pbmc.tsv
	$(LIB)/mean-ci reference,strata ratio,f1_pooled,f1_cssi,auroc_cssi < $< | $(RATIO_OF_MEANS) > $@.tmp && mv $@.tmp $@

ALL += $(OUT)/cssi_pbmc.tsv $(OUT)/cssi_pbmc_summary.tsv
ifneq ($(CONTRAST_PERM),0)
$(OUT)/cssi_pbmc_contrast.tsv: $(foreach r,$(REFS),$(PB)/contrast.$(r).tsv)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
ALL += $(OUT)/cssi_pbmc_contrast.tsv
endif
ifneq ($(BOOT),0)
$(OUT)/cssi_pbmc_boot.tsv: $(PB)/boot.pooled.tsv $(PB)/boot.oracle.tsv
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@
ALL += $(OUT)/cssi_pbmc_boot.tsv
endif
PBMC_DONE := 1
endif

$(OUT)/report.html: $(ALL) $(CLUSTER_STAMP) $(CONTRAST_STAMP) $(BOOT_STAMP)
	$(LIB)/report-cssi "$(OUT)" "$(STATES)" "$(SEEDS)" "$(METHOD)" "$(MIN_CELLS)" "$(PBMC_DONE)" \
		"$(CELLS_PER_STATE) cells per state in [$(CELLS_MIN), $(CELLS_MAX)], $(GENES) genes, $(TFS) regulators, $(EDGES) edges per state $(SIM_FLAGS)" \
		"$(if $(filter leiden,$(CLUSTER)),Leiden communities of the kNN graph: $(KNN) neighbours; resolution $(RESOLUTION),k-means: k = the number of states; $(PBMC_K) on pbmc160)" \
		"$(CONTRAST_PERM) $(CONTRAST_Q)" "$(BOOT) $(BOOT_FRAC) $(BOOT_K)" \
		> $@.tmp && mv $@.tmp $@
	echo "report: $@" >&2

all: $(OUT)/report.html
synthetic: $(OUT)/cssi_synthetic_summary.tsv $(OUT)/fig_cssi_ratio.png
.DEFAULT_GOAL := all
.PHONY: all synthetic
