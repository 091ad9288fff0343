# The evaluation framework of "attention captures co-expression rather than
# unique regulatory signal", perturbation first, as make targets:
#
#   make -f pipelines/perturbation.mk COUNTS=counts.mtx.gz GENES=genes.txt \
#        CELLS=cells.tsv.gz GROUP=target CONTROL=non-targeting \
#        REF=trrust_v2_human.tsv.gz REF_COLS=1,2 \
#        EDGES="layer0=attn0.tsv.gz layer3=attn3.tsv.gz" OUT=out
#
# The cells' labels: CELLS (GROUP column); or COUNTS=adata.h5ad (10x .h5,
# .loom) whose obs holds GROUP (GENE_COL: var column of the gene ids); or guide
# assignment from raw guide UMIs: GUIDE_COUNTS=guides.mtx.gz (guides x cells)
# GUIDE_NAMES (its row ids) GUIDE_TABLE (guide -> target group; GENE_TSS ->
# GENE) at GUIDE_MIN_UMI [5], GUIDE_MOI=high (a cell carries every group that
# passes) or low (exactly one group, multiplets out); unassigned cells out;
# guide_cells.tsv.gz, guide_summary.tsv (rows also in power.tsv).
# CONTROL=rest: each perturbation against all other cells; NON_TARGETING then
# names the non-targeting label. See attnkit(7).
#
# 1. gene-stats over the control cells; the HVG most variable genes, the
#    perturbed genes forced in, are the universe.
# 2. de-call: each perturbation against the control cells (the labels).
# 3. coexpr: Spearman over the same control cells (|rho| unless
#    COEXPR_SIGNED=1); every EDGES table (from to value) restricted to the
#    universe.
# 4. Perturbation-first AUROC: for each perturbation whose name is a universe
#    gene and that has >= MIN_DE DE genes, every edge type scores target ->
#    every other gene against the DE labels; the gene-level baselines
#    (variance, mean, detection = 1 - dropout) rank genes the same way for
#    every perturbation. Paired tests over perturbations.
# 5. Incremental value: logit-cv (BALANCED class weights), gene-level
#    features vs + each edge type (and + coexpr vs + coexpr + each EDGES),
#    GroupKFold and bootstrap by perturbation, over the perturbations with
#    >= MIN_DE DE genes; incremental_rows.tsv holds the rows and their folds.
#    The battery (#17): every model of BATTERY_MODELS (logit, gbdt: GBDT_*)
#    x split design of BATTERY_SPLITS (perturbation, gene, joint) x metric
#    (auroc, auprc, recall_at_k with RECALL_K); the propensity-matched
#    benchmark (match: MATCH_K, MATCH_CALIPER) and layer selection without
#    peeking (layer-select, the EDGES tables as layers). `make ... sensitivity`
#    (not part of all): the perturbation-first AUROCs over the grid
#    SENS_CONTROLS x SENS_HVG x SENS_LFC, one cached run per cell.
# 6. Reference recovery on REF_ENDPOINT (tf: sources with >= REF_MIN_TARGETS
#    targets in the universe x every other gene): AUROC raw and after
#    cross-fitted residualisation on RESID_COVARS (retained share), each
#    against a degree-preserving (curveball) null.
# 7. registry.tsv: every test as one row (family, kind, primary, note; q over
#    the confirmatory tests, q_all over all, q_primary over the primaries);
#    verdict.tsv: the paper's criteria (a)-(d); power.tsv; figures and
#    report.html, which opens with the verdict. A test the data cannot
#    support is an NA row with the reason, never a failed run.
#
# Outputs in OUT: perturbation_auroc.tsv (perturbation method n_pos n_neg
# auroc; NA below MIN_DE DE genes), method_summary.tsv, paired.tsv,
# incremental.tsv (split model metric baseline set value delta ci_lo ci_hi
# boot_p n_perturbations n_rows n_dropped folds note), incremental_rows.tsv,
# incremental_folds.tsv (split column group fold), matched.tsv (test metric
# baseline set value delta ci_lo ci_hi statistic p n_perturbations n_rows
# note), matched_rows.tsv.gz, matched_balance.tsv, layer_selection.tsv,
# layer_folds.tsv, sensitivity.tsv (controls hvg lfc method n_perturbations
# mean_auroc p p_t n_controls n_universe note; make ... sensitivity),
# reference.tsv,
# reference/NAME.pairs.tsv.gz, registry.tsv (analysis family hypothesis test
# statistic p effect n kind primary note q q_all q_primary significant),
# verdict.tsv (criterion claim result reason evidence), power.tsv (quantity
# value note), fig_*.png/svg, report.html. See attnkit(7) for the protocol
# variables.
# Edge tables should score every pair of the universe (attn-topk --top
# n(n-1)): a pair a table lacks scores NA, is left out of that table's
# AUROCs, and drops the row from logit-cv for every feature set.
#
# Make is the cache: a rerun does nothing; a changed setting re-runs what it
# affects (settings stamp); a failed step leaves nothing make would take as done.

include $(dir $(lastword $(MAKEFILE_LIST)))lib/preamble.mk

LIB       := $(PIPE_DIR)/lib

# ---- inputs ----
COUNTS   ?=
GENES    ?=
CELLS    ?=
GROUP    ?= target
CONTROL  ?= non-targeting
# HDF5 counts (.h5ad[:layers/NAME|:raw/X], 10x .h5, .loom): the var column
# of the gene ids [the var index]; the cells' GROUP comes from obs when no
# CELLS is given
GENE_COL ?=
# the label of the non-targeting cells (guides) when CONTROL=rest; with any
# other CONTROL, CONTROL is that label
NON_TARGETING ?= non-targeting
# guide assignment from raw guide UMI counts (pert-guides): GUIDE_COUNTS
# guides x cells .mtx[.gz] whose rows GUIDE_NAMES names, GUIDE_TABLE guide id
# -> target group (GENE_TSS maps to GENE); a guide is assigned at >=
# GUIDE_MIN_UMI UMIs; GUIDE_MOI=high: a cell carries every group that
# passes; low: only cells with exactly one group enter
GUIDE_COUNTS  ?=
GUIDE_NAMES   ?=
GUIDE_TABLE   ?=
GUIDE_MIN_UMI ?= 5
GUIDE_MOI     ?= high
# space-separated NAME=FILE edge tables (TSV with from, to, value)
EDGES    ?=
REF      ?= $(abspath $(PIPE_DIR)/../../shared/data/trrust_v2_human.tsv.gz)
REF_COLS ?= 1,2
# line 1 of REF is a header: auto (when a column is named, or line 1's ids occur on no other line), yes, no
REF_HEADER ?= auto
# optional id map (TSV with a header): MAP_COLS = expression id, reference id
MAP      ?=
MAP_COLS ?= ensembl_gene,symbol
OUT      ?= perturbation-out

# ---- settings ----
HVG       ?= 2000
LFC       ?= 0.5
ALPHA     ?= 0.05
TEST      ?= welch
FOLDS     ?= 5
DRAWS     ?= 200
SEED      ?= 1
MIN_CELLS ?= 30
# FDR level of the registry
FDR       ?= 0.05
COEXPR_SIGNED ?=
THREADS   ?= 2
# ---- protocol (defaults: the paper's rules) ----
# logit-cv with class weights balanced (1) or not (0)
BALANCED  ?= 1
# perturbations with fewer DE genes (among the universe) get no AUROC and
# enter neither the paired tests nor logit-cv
MIN_DE    ?= 3
# reference recovery on the TF endpoint (sources with >= REF_MIN_TARGETS
# reference targets in the universe x every other universe gene) or on all
# pairs the edge table scores (all)
REF_ENDPOINT    ?= tf
REF_MIN_TARGETS ?= 3
# covariates of the cross-fitted OLS residualisation (pert-pairs columns:
# mean_, var_, dropout_, det_ + from|to) and its number of folds
RESID_COVARS ?= mean_from,var_from,mean_to,var_to,dropout_to
RESID_FOLDS  ?= 5
# force the perturbed genes into the universe (1: the paper's RPE1
# protocol) or pure HVGs (0: its K562 protocol)
FORCE_PERTURBED ?= 1
# the pre-declared primary test of each analysis: edge table PRIMARY (default
# the last EDGES name, else coexpr) against baseline PRIMARY_BASELINE
PRIMARY          ?=
PRIMARY_BASELINE ?= variance
# ---- the battery's harder tests (#17) ----
# incremental.tsv: every model (logit, gbdt) x split design (perturbation,
# gene, joint) x metric (auroc, auprc, recall_at_k); GBDT_* are logit-cv's
# --gbdt-* options, RECALL_K its --recall-k
BATTERY_MODELS ?= logit gbdt
BATTERY_SPLITS ?= perturbation gene joint
RECALL_K       ?= 50
GBDT_ROUNDS    ?= 200
GBDT_DEPTH     ?= 4
GBDT_ETA       ?= 0.1
GBDT_SUBSAMPLE ?= 1
# the propensity-matched benchmark (match --k, --caliper)
MATCH_K        ?= 5
MATCH_CALIPER  ?= 0.2
# the sensitivity grid (make ... sensitivity): control cells subsampled,
# HVG, LFC
SENS_CONTROLS  ?= 500 1000 2000
SENS_HVG       ?= 1000 2000 5000
SENS_LFC       ?= 0.1 0.25 0.5

ifeq ($(strip $(COUNTS)),)
$(error COUNTS is empty: give the counts (10x .mtx[.gz] genes x cells; .h5ad, 10x .h5 or .loom; or .npy cells x genes))
endif
# HDF5 counts: the file (a member after ':' is no file make can see)
COUNTS_FILE := $(firstword $(subst :, ,$(COUNTS)))
COUNTS_H5   := $(filter %.h5ad %.h5 %.hdf5 %.loom,$(COUNTS_FILE))
ifneq ($(strip $(GENE_COL)),)
$(if $(COUNTS_H5),,$(error GENE_COL=$(GENE_COL) names a var column of HDF5 counts (.h5ad, 10x .h5, .loom); COUNTS=$(COUNTS) is not one: give GENES))
endif
ifneq ($(strip $(GUIDE_COUNTS)),)
$(foreach v,GUIDE_COUNTS GUIDE_NAMES GUIDE_TABLE,$(if $(strip $($(v))),,$(error GUIDE_COUNTS needs $(v) (see attnkit(7)))))
$(if $(filter low high,$(GUIDE_MOI)),,$(error GUIDE_MOI=$(GUIDE_MOI): low or high))
else ifeq ($(strip $(CELLS))$(COUNTS_H5),)
$(error CELLS is empty: give the cells table with the $(GROUP) column (or HDF5 counts, whose obs holds it, or GUIDE_COUNTS))
endif
ifeq ($(wildcard $(REF)),)
$(error REF=$(REF): no such file)
endif

BUILTIN := coexpr variance mean detection label gene perturbation chance
ENAMES  := $(foreach e,$(EDGES),$(firstword $(subst =, ,$(e))))
efile    = $(patsubst $(1)=%,%,$(filter $(1)=%,$(EDGES)))
$(foreach n,$(ENAMES),$(if $(filter $(n),$(BUILTIN)),$(error EDGES: name '$(n)' is reserved; choose another)))
$(foreach n,$(ENAMES),$(if $(wildcard $(call efile,$(n))),,$(error EDGES: $(n)=$(call efile,$(n)): no such file)))
ifneq ($(words $(ENAMES)),$(words $(sort $(ENAMES))))
$(error EDGES: names must be distinct)
endif
EDGE_METHODS := coexpr $(ENAMES)
PRIMARY_EFF  := $(or $(strip $(PRIMARY)),$(lastword coexpr $(ENAMES)))
$(if $(filter $(PRIMARY_EFF),$(EDGE_METHODS)),,$(error PRIMARY=$(PRIMARY_EFF) is not an edge table (coexpr $(ENAMES))))
$(if $(filter $(PRIMARY_BASELINE),variance mean detection),,$(error PRIMARY_BASELINE=$(PRIMARY_BASELINE): one of variance mean detection))
$(if $(filter tf all,$(REF_ENDPOINT)),,$(error REF_ENDPOINT=$(REF_ENDPOINT): tf or all))
$(if $(filter 0 1,$(BALANCED)),,$(error BALANCED=$(BALANCED): 0 or 1))
$(if $(filter 0 1,$(FORCE_PERTURBED)),,$(error FORCE_PERTURBED=$(FORCE_PERTURBED): 0 or 1))
BASELINES    := variance mean detection
GENE_FEATS   := mean,variance,detection
comma := ,

# The input files exist; CELLS has the GROUP column (read from its header
# before any work; with guide assignment CELLS only names the cells and
# ships labels)
$(foreach v,COUNTS_FILE $(if $(GUIDE_COUNTS),GUIDE_COUNTS GUIDE_NAMES GUIDE_TABLE) $(if $(CELLS),CELLS),$(if $(wildcard $($(v))),,$(error $(subst _FILE,,$(v))=$($(v)): no such file)))
ifneq ($(strip $(CELLS)),)
ifeq ($(strip $(GUIDE_COUNTS)),)
CELLS_HEAD := $(shell gzip -dcf '$(CELLS)' | head -1 | tr '\t\r' '  ')
$(if $(filter $(GROUP),$(CELLS_HEAD)),,$(error CELLS=$(CELLS) has no column '$(GROUP)' (GROUP); its columns: $(CELLS_HEAD)))
endif
endif

# The settings that change results; the stamp changes only when they do.
SETTINGS := counts=$(COUNTS) genes=$(GENES) cells=$(CELLS) group=$(GROUP) control=$(CONTROL) \
	genecol=$(GENE_COL) nt=$(NON_TARGETING) guides=$(GUIDE_COUNTS) gnames=$(GUIDE_NAMES) gtable=$(GUIDE_TABLE) \
	gmin=$(GUIDE_MIN_UMI) gmoi=$(GUIDE_MOI) \
	edges=$(EDGES) ref=$(REF) refcols=$(REF_COLS) refheader=$(REF_HEADER) map=$(MAP) mapcols=$(MAP_COLS) hvg=$(HVG) \
	lfc=$(LFC) alpha=$(ALPHA) test=$(TEST) folds=$(FOLDS) draws=$(DRAWS) seed=$(SEED) \
	mincells=$(MIN_CELLS) fdr=$(FDR) signed=$(COEXPR_SIGNED) balanced=$(BALANCED) minde=$(MIN_DE) \
	endpoint=$(REF_ENDPOINT) mintargets=$(REF_MIN_TARGETS) covars=$(RESID_COVARS) rfolds=$(RESID_FOLDS) \
	force=$(FORCE_PERTURBED) primary=$(PRIMARY_EFF) pbase=$(PRIMARY_BASELINE)
STAMP := $(OUT)/.settings
$(shell mkdir -p $(OUT)/edges $(OUT)/reference && { [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" = "$(SETTINGS)" ] || printf '%s\n' "$(SETTINGS)" > $(STAMP); })
# the battery's own settings stamp (and the grid's), beside the main one
BSETTINGS := models=$(BATTERY_MODELS) splits=$(BATTERY_SPLITS) recallk=$(RECALL_K) rounds=$(GBDT_ROUNDS) \
	depth=$(GBDT_DEPTH) eta=$(GBDT_ETA) subsample=$(GBDT_SUBSAMPLE) matchk=$(MATCH_K) caliper=$(MATCH_CALIPER)
BSTAMP := $(OUT)/.settings-battery
$(shell { [ -f $(BSTAMP) ] && [ "$$(cat $(BSTAMP))" = "$(BSETTINGS)" ] || printf '%s\n' "$(BSETTINGS)" > $(BSTAMP); })
$(foreach v,BATTERY_MODELS BATTERY_SPLITS,$(if $(strip $($(v))),,$(error $(v) is empty)))
$(foreach m,$(BATTERY_MODELS),$(if $(filter logit gbdt,$(m)),,$(error BATTERY_MODELS: '$(m)': logit or gbdt)))
$(foreach m,$(BATTERY_SPLITS),$(if $(filter perturbation gene joint,$(m)),,$(error BATTERY_SPLITS: '$(m)': perturbation, gene or joint)))

# The cells table: the guide assignment, CELLS, or (HDF5 counts) obs, which
# the filters read themselves; obs.tsv.gz, its copy, serves targets.txt.
NT_LABEL  := $(if $(filter rest,$(CONTROL)),$(NON_TARGETING),$(CONTROL))
CELLS_TAB := $(if $(GUIDE_COUNTS),$(OUT)/guide_cells.tsv.gz,$(or $(CELLS),$(OUT)/obs.tsv.gz))
CELLS_DESC := $(if $(GUIDE_COUNTS),the guide assignment $(CELLS_TAB),$(if $(CELLS),CELLS=$(CELLS),obs of COUNTS=$(COUNTS)))
EXPR := --counts $(COUNTS) $(if $(GENES),--genes $(GENES)) $(if $(GENE_COL),--gene-col $(GENE_COL)) \
	$(if $(GUIDE_COUNTS)$(CELLS),--cells $(CELLS_TAB)) $(if $(GUIDE_COUNTS),--where guide_use=1)
EXPR_DEPS := $(COUNTS_FILE) $(GENES) $(if $(GUIDE_COUNTS)$(CELLS),$(CELLS_TAB))
# the cells the baselines and co-expression see: the controls, or every
# (assigned) cell with CONTROL=rest
CTRL_WHERE := $(if $(filter rest,$(CONTROL)),,--where $(GROUP)=$(CONTROL))

all: $(OUT)/report.html
.DEFAULT_GOAL := all
.PHONY: all

# ---- 0. the cells table: guide assignment, or obs of HDF5 counts ----
$(OUT)/guide_cells.tsv.gz: $(GUIDE_COUNTS) $(GUIDE_NAMES) $(GUIDE_TABLE) $(CELLS) $(STAMP)
	$(LIB)/pert-guides $(GUIDE_COUNTS) $(GUIDE_NAMES) $(GUIDE_TABLE) $(GUIDE_MIN_UMI) $(GUIDE_MOI) '$(NT_LABEL)' \
		'$(GROUP)' $(or $(CELLS),$(if $(COUNTS_H5),$(OUT)/obs.tsv.gz)) | gzip -1 > $@.tmp && mv $@.tmp $@

# cells per assignment status, agreement with the labels the screen ships;
# its rows join power.tsv
$(OUT)/guide_summary.tsv: $(OUT)/guide_cells.tsv.gz
	$(LIB)/pert-guides-summary $< $(GUIDE_MIN_UMI) $(GUIDE_MOI) '$(GROUP)' > $@.tmp && mv $@.tmp $@
$(if $(GUIDE_COUNTS),$(OUT)/power.tsv: $(OUT)/guide_summary.tsv)
$(if $(GUIDE_COUNTS),$(if $(CELLS),,$(if $(COUNTS_H5),$(OUT)/guide_cells.tsv.gz: $(OUT)/obs.tsv.gz)))

$(OUT)/obs.tsv.gz: $(COUNTS_FILE) $(STAMP)
	mat obs $(COUNTS) -o $@ || { echo "perturbation.mk: COUNTS=$(COUNTS): no cells table (obs) to read GROUP=$(GROUP) from; give CELLS=cells.tsv (one row per cell, with a $(GROUP) column)" >&2; exit 1; }

# ---- 1. control-cell statistics, HVG universe (perturbed genes forced in) ----
$(OUT)/targets.txt: $(CELLS_TAB) $(STAMP)
	gzip -dcf $(CELLS_TAB) | awk -F'\t' -v G="$(GROUP)" -v C="$(CONTROL)" -v N="$(NT_LABEL)" ' \
		NR == 1 { sub(/\r$$/, ""); for (i = 1; i <= NF; i++) if ($$i == G) g = i; \
			if (!g) { print "perturbation.mk: $(CELLS_DESC) has no column " G " (GROUP); its columns: " $$0 > "/dev/stderr"; exit 1 } next } \
		{ sub(/\r$$/, ""); n = split($$g, a, ","); for (i = 1; i <= n; i++) if (a[i] != C && a[i] != N && a[i] != "") print a[i] }' \
		| sort -u > $@.tmp && mv $@.tmp $@

$(OUT)/gene_stats.tsv: $(EXPR_DEPS) $(OUT)/targets.txt $(STAMP)
	gene-stats $(EXPR) $(CTRL_WHERE) --hvg $(HVG) $(if $(filter 1,$(FORCE_PERTURBED)),--force $(OUT)/targets.txt) -o $@

# universe: HVG + forced genes that vary over the control cells
$(OUT)/universe.txt: $(OUT)/gene_stats.tsv
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; next } \
		$$(c["hvg_rank"]) != "NA" && $$(c["var"]) > 0 { print $$1 }' $< > $@.tmp && mv $@.tmp $@

$(OUT)/evaluable.txt: $(OUT)/targets.txt $(OUT)/universe.txt
	awk 'FNR == NR { u[$$1]; next } $$1 in u' $(OUT)/universe.txt $< > $@.tmp && mv $@.tmp $@

# ---- 2. DE per perturbation ----
$(OUT)/de.tsv.gz: $(EXPR_DEPS) $(STAMP) | $(OUT)/targets.txt
	de-call $(EXPR) --group $(GROUP) --control $(CONTROL) --test $(TEST) --lfc $(LFC) \
		--alpha $(ALPHA) --min-cells $(MIN_CELLS) -o $@

# ---- 3. edges over the universe ----
$(OUT)/coexpr_raw.tsv.gz: $(EXPR_DEPS) $(OUT)/universe.txt $(STAMP)
	coexpr $(EXPR) $(CTRL_WHERE) --genes-subset $(OUT)/universe.txt -o $@

$(OUT)/edges/coexpr.tsv.gz: $(OUT)/coexpr_raw.tsv.gz $(OUT)/universe.txt
	$(LIB)/edge-restrict $(OUT)/universe.txt $(if $(COEXPR_SIGNED),,--abs) $< | gzip -1 > $@.tmp && mv $@.tmp $@

define EDGE_RULE
$(OUT)/edges/$(1).tsv.gz: $(call efile,$(1)) $(OUT)/universe.txt $(STAMP)
	$(LIB)/edge-restrict $(OUT)/universe.txt $$< | gzip -1 > $$@.tmp && mv $$@.tmp $$@
endef
$(foreach n,$(ENAMES),$(eval $(call EDGE_RULE,$(n))))
EDGE_FILES := $(foreach m,$(EDGE_METHODS),$(OUT)/edges/$(m).tsv.gz)

# ---- 4. perturbation-first AUROC ----
$(OUT)/pert_scores.tsv.gz: $(OUT)/universe.txt $(OUT)/evaluable.txt $(OUT)/gene_stats.tsv $(OUT)/de.tsv.gz $(EDGE_FILES)
	$(LIB)/pert-table $(OUT)/universe.txt $(OUT)/evaluable.txt $(OUT)/gene_stats.tsv $(OUT)/de.tsv.gz \
		$(foreach m,$(EDGE_METHODS),$(m)=$(OUT)/edges/$(m).tsv.gz) | gzip -1 > $@.tmp && mv $@.tmp $@

# long form: perturbation method gene label score
$(OUT)/perturbation_auroc.tsv: $(OUT)/pert_scores.tsv.gz
	gzip -dc $< | awk -F'\t' -v OFS='\t' -v M="$(EDGE_METHODS) $(BASELINES)" ' \
		BEGIN { nm = split(M, m, " ") } \
		NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; print "perturbation", "method", "gene", "label", "score"; next } \
		{ for (k = 1; k <= nm; k++) print $$1, m[k], $$2, $$3, $$(c[m[k]]) }' \
	| auroc --by perturbation,method --score score --label label --min-pos $(MIN_DE) 2> $@.warn \
	| cut -f1-5 > $@.tmp || { cat $@.warn >&2; rm -f $@.warn $@.tmp; exit 1; }
	@# the filters' warnings (NA scores skipped: an edge table that lacks
	@# pairs, counted in power.tsv) are said, once each, not thrown away
	@sort -u $@.warn | sed 's|^|$(notdir $@): |' >&2; rm -f $@.warn; mv $@.tmp $@

$(OUT)/method_summary.tsv: $(OUT)/perturbation_auroc.tsv
	{ printf 'method\tn\tmean_auroc\tmedian_auroc\tmin_auroc\tmax_auroc\n'; \
	  awk -F'\t' 'NR > 1 && $$5 != "NA"' $< | datamash -s -g 2 count 5 mean 5 median 5 min 5 max 5 \
	  | sort -t$$'\t' -k3,3gr; } > $@.tmp && mv $@.tmp $@

# one row per perturbation, one column per method (+ chance = 0.5)
$(OUT)/perturbation_auroc_wide.tsv: $(OUT)/perturbation_auroc.tsv
	awk -F'\t' -v OFS='\t' -v M="$(EDGE_METHODS) $(BASELINES)" ' \
		BEGIN { nm = split(M, m, " ") } NR == 1 { next } \
		{ if (!($$1 in seen)) { seen[$$1]; p[++np] = $$1 } a[$$1, $$2] = $$5 } \
		END { h = "perturbation\tchance"; for (k = 1; k <= nm; k++) h = h OFS m[k]; print h; \
			for (i = 1; i <= np; i++) { l = p[i] OFS 0.5; for (k = 1; k <= nm; k++) l = l OFS a[p[i], m[k]]; print l } }' \
		$< > $@.tmp && mv $@.tmp $@

# DE genes (among the universe) of each evaluable perturbation; the powered ones
$(OUT)/de_counts.tsv: $(OUT)/pert_scores.tsv.gz
	{ printf 'perturbation\tn_de\n'; gzip -dc $< | awk -F'\t' -v OFS='\t' 'NR > 1 { if (!($$1 in n)) { o[++k] = $$1; n[$$1] = 0 } n[$$1] += $$3 } \
		END { for (i = 1; i <= k; i++) print o[i], n[o[i]] }'; } > $@.tmp && mv $@.tmp $@

$(OUT)/powered.txt: $(OUT)/de_counts.tsv
	awk -F'\t' 'NR > 1 && $$2 >= $(MIN_DE) { print $$1 }' $< > $@.tmp && mv $@.tmp $@

# every method vs chance; each edge type vs each baseline; each EDGES vs coexpr
# (no perturbation with an AUROC: one row per pair with n = 0 and NA)
PAIRS := $(foreach m,$(EDGE_METHODS) $(BASELINES),$(m):chance) \
	$(foreach m,$(EDGE_METHODS),$(foreach b,$(BASELINES),$(m):$(b))) \
	$(foreach m,$(ENAMES),$(m):coexpr)
$(OUT)/paired.tsv: $(OUT)/perturbation_auroc_wide.tsv
	first=1; for ab in $(PAIRS); do a=$${ab%%:*} b=$${ab#*:}; \
		{ if [ $$(wc -l < $<) -gt 1 ]; then paired-test --a $$a --b $$b $< 2>> $@.warn; else \
			printf 'n\tmean_a\tmean_b\tmean_diff\twilcoxon_stat\twilcoxon_p\tt_stat\tt_p\tcohen_d\n0\tNA\tNA\tNA\tNA\tNA\tNA\tNA\tNA\n'; fi; } | awk -F'\t' -v OFS='\t' -v a=$$a -v b=$$b -v f=$$first \
			'NR == 1 { if (f) print "a", "b", $$0; next } { print a, b, $$0 }'; first=0; \
	done > $@.tmp && mv $@.tmp $@
	@touch $@.warn; sort -u $@.warn | sed 's|^|$(notdir $@): |' >&2; rm -f $@.warn

# ---- 5. incremental value over gene-level features ----
# incremental_rows.tsv: the rows logit-cv fits, with each row's perturbation
# fold; incremental_folds.tsv: every split design's group folds
GBDT_OPTS = --gbdt-rounds $(GBDT_ROUNDS) --gbdt-depth $(GBDT_DEPTH) --gbdt-eta $(GBDT_ETA) \
	--gbdt-subsample $(GBDT_SUBSAMPLE) --threads $(THREADS)
$(OUT)/incremental.tsv: $(OUT)/pert_scores.tsv.gz $(OUT)/powered.txt $(BSTAMP)
	$(LIB)/pert-incremental --models "$(BATTERY_MODELS)" --splits "$(BATTERY_SPLITS)" --recall-k $(RECALL_K) \
		--model-opts "$(GBDT_OPTS)" --folds-out $(OUT)/incremental_folds.tsv \
		$< $(OUT)/powered.txt $(OUT)/incremental_rows.tsv $(FOLDS) $(DRAWS) $(SEED) \
		$(BALANCED) $(ENAMES) > $@.tmp && mv $@.tmp $@

# ---- 5b. the battery: propensity-matched benchmark, layer selection ----
# matched.tsv (test metric baseline set value delta ci_lo ci_hi statistic p
# n_perturbations n_rows note), matched_rows.tsv.gz, matched_balance.tsv
$(OUT)/matched.tsv: $(OUT)/incremental.tsv $(BSTAMP)
	$(LIB)/pert-matched $(OUT)/incremental_rows.tsv $(OUT) $(FOLDS) $(DRAWS) $(SEED) $(BALANCED) $(MIN_DE) \
		$(MATCH_K) $(MATCH_CALIPER) $(RECALL_K) "$(EDGE_METHODS)" "$(BASELINES)" $(ENAMES) > $@.tmp && mv $@.tmp $@

# the EDGES tables as layers; layer_folds.tsv: the outer folds
$(OUT)/layer_selection.tsv: $(OUT)/incremental.tsv
	$(LIB)/pert-layers $(OUT)/incremental_rows.tsv $(OUT)/layer_folds.tsv $(FOLDS) $(DRAWS) $(SEED) $(ENAMES) > $@.tmp && mv $@.tmp $@

# the sensitivity grid: one perturbation.mk run per cell (SENS_CONTROLS
# control cells drawn with SEED x SENS_HVG x SENS_LFC) in OUT/sens/cC_hH_lL,
# to its perturbation-first AUROCs; make caches each cell, -j runs them side
# by side. Not part of all: make ... sensitivity.
SENS_GRID := $(foreach c,$(SENS_CONTROLS),$(foreach h,$(SENS_HVG),$(foreach l,$(SENS_LFC),c$(c)_h$(h)_l$(l))))
SSTAMP := $(OUT)/sens/.grid
ifneq ($(filter sensitivity %sensitivity.tsv %fig_sensitivity.png,$(MAKECMDGOALS)),)
$(foreach v,$(SENS_CONTROLS) $(SENS_HVG),$(if $(shell expr 'x$(v)' : 'x[1-9][0-9]*$$' > /dev/null && echo y),,$(error SENS_CONTROLS or SENS_HVG: '$(v)' is not a positive integer)))
$(foreach v,$(SENS_LFC),$(if $(shell printf '%s\n' '$(v)' | grep -Eq '^([0-9]+[.]?[0-9]*|[.][0-9]+)$$' && echo y),,$(error SENS_LFC: '$(v)' is not a number >= 0)))
$(if $(strip $(SENS_CONTROLS)),,$(error SENS_CONTROLS is empty))$(if $(strip $(SENS_HVG)),,$(error SENS_HVG is empty))$(if $(strip $(SENS_LFC)),,$(error SENS_LFC is empty))
$(shell mkdir -p $(OUT)/sens && { [ -f $(SSTAMP) ] && [ "$$(cat $(SSTAMP))" = "$(SENS_GRID)" ] || printf '%s\n' "$(SENS_GRID)" > $(SSTAMP); })
endif

$(OUT)/sens/cells_%.tsv.gz: $(CELLS) $(STAMP)
	mkdir -p $(@D)
	$(LIB)/pert-subsample-controls $(CELLS) $(GROUP) $(CONTROL) $* $(SEED) | gzip -1 > $@.tmp && mv $@.tmp $@

define SENS_RULE
$(OUT)/sens/c$(1)_h$(2)_l$(3)/perturbation_auroc.tsv: $(OUT)/sens/cells_$(1).tsv.gz $(COUNTS) $(GENES) $(STAMP) \
		$(foreach n,$(ENAMES),$(call efile,$(n)))
	+$$(MAKE) -f $(PIPE_DIR)/perturbation.mk OUT=$(OUT)/sens/c$(1)_h$(2)_l$(3) \
		CELLS=$(OUT)/sens/cells_$(1).tsv.gz HVG=$(2) LFC=$(3) $$@
endef
$(foreach c,$(SENS_CONTROLS),$(foreach h,$(SENS_HVG),$(foreach l,$(SENS_LFC),$(eval $(call SENS_RULE,$(c),$(h),$(l))))))
.SECONDARY: $(foreach c,$(SENS_CONTROLS),$(OUT)/sens/cells_$(c).tsv.gz)

# controls hvg lfc method n_perturbations mean_auroc p p_t n_controls n_universe note
$(OUT)/sensitivity.tsv: $(foreach g,$(SENS_GRID),$(OUT)/sens/$(g)/perturbation_auroc.tsv) $(SSTAMP)
	$(LIB)/pert-sensitivity $(OUT)/sens $(GROUP) $(CONTROL) "$(EDGE_METHODS) $(BASELINES)" $(SENS_GRID) > $@.tmp && mv $@.tmp $@

$(OUT)/fig_sensitivity.png: $(OUT)/sensitivity.tsv
	@# panels numbered in SENS_LFC's order (a natural sort would put 0.5 before 0.25)
	awk -F'\t' -v OFS='\t' -v L="$(SENS_LFC)" 'BEGIN { n = split(L, l, " "); for (i = 1; i <= n; i++) o[l[i]] = i } \
		NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; print "setting", "lfc", "method", "mean_auroc"; next } \
		{ print $$(c["controls"]) " cells, " $$(c["hvg"]) " HVG", o[$$(c["lfc"])] ". LFC " $$(c["lfc"]), $$(c["method"]), $$(c["mean_auroc"]) }' $< > $@.in.tsv
	$(LIB)/heatmap --x setting --y method --z mean_auroc --facet lfc --range 0:1 --center 0.5 --values \
		--title "Sensitivity: mean perturbation-first AUROC over the grid (0.5 = chance)" \
		--xlabel "control cells, HVG" --ylabel "method" --cblabel "mean AUROC" $@.in.tsv $(basename $@)
	rm -f $@.in.tsv

sensitivity: $(OUT)/sensitivity.tsv $(OUT)/fig_sensitivity.png
.PHONY: sensitivity

# ---- 6. reference recovery ----
$(OUT)/reference/ref.tsv: $(REF) $(OUT)/universe.txt $(if $(MAP),$(MAP)) $(STAMP)
	@# ids that match nothing (edge-join's loud "0 of N genes") become an empty
	@# reference here: the tests that need one turn into NA rows with the reason.
	$(LIB)/ref-universe $(REF) $(REF_COLS) $(OUT)/universe.txt '$(MAP)' '$(MAP_COLS)' $(REF_HEADER) > $@.tmp 2> $@.err \
		|| { grep -q ' 0 of ' $@.err && : > $@.tmp; } || { cat $@.err >&2; rm -f $@.tmp $@.err; exit 1; }
	@cat $@.err >&2; rm -f $@.err; mv $@.tmp $@

# the reference edges the tests score (TF endpoint or all)
$(OUT)/reference/endpoint.tsv: $(OUT)/reference/ref.tsv $(STAMP)
	$(LIB)/pert-reference $< $(REF_ENDPOINT) $(REF_MIN_TARGETS) > $@.tmp && mv $@.tmp $@

# endpoint pairs with covariates, cross-fitted residual and fold (residual NA
# when too few complete pairs to cross-fit)
$(OUT)/reference/%.pairs.tsv.gz: $(OUT)/edges/%.tsv.gz $(OUT)/gene_stats.tsv $(OUT)/reference/endpoint.tsv $(OUT)/universe.txt
	$(LIB)/pert-pairs $(OUT)/gene_stats.tsv $(OUT)/reference/endpoint.tsv $(OUT)/universe.txt $(REF_ENDPOINT) $< > $@.in.tsv
	if ! residualize --y value --x $(RESID_COVARS) --folds $(RESID_FOLDS) --seed $(SEED) $@.in.tsv 2>$@.err | gzip -1 > $@.tmp; then \
		grep -q 'fewer than\|header only' $@.err || { cat $@.err >&2; exit 1; }; \
		awk -F'\t' -v OFS='\t' 'NR == 1 { print $$0, "fitted", "residual", "fold"; next } { print $$0, "NA", "NA", "NA" }' $@.in.tsv | gzip -1 > $@.tmp; fi
	rm -f $@.in.tsv $@.err; mv $@.tmp $@

# method n_sources n_ref n_pairs n_scored n_pos auroc_raw auroc_res retained,
# the curveball null of the raw and of the residual score (null_mean null_sd
# z p, each), note
$(OUT)/reference/%.tsv: $(OUT)/reference/%.pairs.tsv.gz $(OUT)/reference/endpoint.tsv $(OUT)/universe.txt
	$(LIB)/pert-refstats $* $< $(OUT)/reference/endpoint.tsv $(OUT)/universe.txt $(DRAWS) $(SEED) > $@.tmp && mv $@.tmp $@

# kept: they hold every endpoint pair's residual and fold
.SECONDARY: $(foreach m,$(EDGE_METHODS),$(OUT)/reference/$(m).pairs.tsv.gz)

$(OUT)/reference.tsv: $(foreach m,$(EDGE_METHODS),$(OUT)/reference/$(m).tsv)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@

# ---- 7. registry (BH three ways), power, verdict ----
$(OUT)/registry.tsv: $(OUT)/paired.tsv $(OUT)/incremental.tsv $(OUT)/reference.tsv $(OUT)/matched.tsv $(OUT)/layer_selection.tsv
	{ $(LIB)/pert-registry $(OUT) $(PRIMARY_EFF) $(PRIMARY_BASELINE) $(MIN_DE) $(FDR); $(LIB)/pert-registry-battery $(OUT); } \
		| $(LIB)/pert-bh $(FDR) > $@.tmp && mv $@.tmp $@

$(OUT)/power.tsv: $(OUT)/reference.tsv $(OUT)/powered.txt $(OUT)/de_counts.tsv $(OUT)/evaluable.txt
	$(LIB)/pert-power $(OUT) $(MIN_DE) $(REF_ENDPOINT) $(REF_MIN_TARGETS) $(EDGE_METHODS) > $@.tmp && mv $@.tmp $@
	$(if $(GUIDE_COUNTS),awk 'NR > 1' $(OUT)/guide_summary.tsv >> $@)

$(OUT)/verdict.tsv: $(OUT)/registry.tsv
	$(LIB)/pert-verdict $< $(FDR) $(PRIMARY_EFF) $(PRIMARY_BASELINE) > $@.tmp && mv $@.tmp $@

# ---- figures ----
$(OUT)/fig_pert_auroc.png: $(OUT)/perturbation_auroc.tsv
	$(LIB)/heatmap --x method --y perturbation --z auroc --range 0:1 --center 0.5 --values \
		--title "AUROC of each method for each perturbation's DE genes (0.5 = chance)" \
		--xlabel "method" --ylabel "perturbation" --cblabel "AUROC" $< $(basename $@)

$(OUT)/fig_delta.png: $(OUT)/incremental.tsv
	$(LIB)/errbars $< $(basename $@)

$(OUT)/layer_profile.tsv: $(OUT)/method_summary.tsv $(OUT)/incremental.tsv $(OUT)/reference.tsv
	{ printf 'index\tedges\tmeasure\tvalue\n'; i=0; for m in $(ENAMES); do \
		awk -F'\t' -v m=$$m -v i=$$i -v OFS='\t' \
			'FILENAME == ARGV[1] && $$1 == m { print i, m, "mean perturbation AUROC", $$3 } \
			 FILENAME == ARGV[2] && FNR == 1 { for (k = 1; k <= NF; k++) ic[$$k] = k } \
			 FILENAME == ARGV[2] && $$(ic["baseline"]) == "gene" && $$(ic["set"]) == "gene+" m && $$(ic["split"]) == "perturbation" \
				&& $$(ic["model"]) == "logit" && $$(ic["metric"]) == "auroc" { print i, m, "logit-cv AUROC, gene-level + edge", $$(ic["value"]) } \
			 FILENAME == ARGV[3] && FNR == 1 { for (k = 1; k <= NF; k++) rc[$$k] = k } \
			 FILENAME == ARGV[3] && $$1 == m { print i, m, "reference AUROC (raw)", $$(rc["auroc_raw"]); print i, m, "reference AUROC (residual)", $$(rc["auroc_res"]) }' \
			$(OUT)/method_summary.tsv $(OUT)/incremental.tsv $(OUT)/reference.tsv; i=$$((i + 1)); done; } > $@.tmp && mv $@.tmp $@

$(OUT)/fig_layers.png: $(OUT)/layer_profile.tsv
	$(LIB)/curves --x index --xtics edges --y value --by measure --chance 0.5 --chancetitle "chance (AUROC 0.5)" --ylo 0 --yhi 1.02 \
		--title "Edge tables in the order given ($(ENAMES)): four AUROCs each" \
		--xlabel "edge table" --ylabel "AUROC" $< $(basename $@)

FIGS := $(OUT)/fig_pert_auroc.png $(OUT)/fig_delta.png $(if $(word 2,$(ENAMES)),$(OUT)/fig_layers.png)

# the battery's section of the report (report-battery); the sensitivity grid
# joins it once made (make ... sensitivity), which remakes the report
$(OUT)/battery.html: $(OUT)/incremental.tsv $(OUT)/matched.tsv $(OUT)/layer_selection.tsv \
		$(wildcard $(OUT)/sensitivity.tsv $(OUT)/fig_sensitivity.png) $(LIB)/report-battery
	$(LIB)/report-battery "$(OUT)" > $@.tmp && mv $@.tmp $@

$(OUT)/report.html: $(OUT)/registry.tsv $(OUT)/verdict.tsv $(OUT)/power.tsv $(OUT)/method_summary.tsv $(OUT)/perturbation_auroc.tsv $(FIGS) \
		$(OUT)/pert_scores.tsv.gz $(OUT)/de.tsv.gz $(OUT)/incremental.tsv $(OUT)/reference.tsv $(OUT)/paired.tsv \
		$(OUT)/perturbation_auroc_wide.tsv $(LIB)/report-perturbation $(OUT)/battery.html
	$(LIB)/report-perturbation "$(OUT)" "$(ENAMES)" "$(FDR)" "$(SETTINGS)" > $@.tmp && mv $@.tmp $@
	echo "report: $@" >&2
