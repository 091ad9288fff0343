# The evaluation framework of "attention captures co-expression rather than
# unique regulatory signal", perturbation first, as make targets:
#
#   make -f pipelines/perturbation.mk COUNTS=counts.mtx.gz GENES=genes.txt \
#        CELLS=cells.tsv.gz GROUP=target CONTROL=non-targeting \
#        REF=trrust_v2_human.tsv.gz REF_COLS=1,2 \
#        EDGES="layer0=attn0.tsv.gz layer3=attn3.tsv.gz" OUT=out
#
# 1. gene-stats over the control cells; the HVG most variable genes, the
#    perturbed genes forced in, are the universe.
# 2. de-call: each perturbation against the control cells (the labels).
# 3. coexpr: Spearman over the same control cells (|rho| unless
#    COEXPR_SIGNED=1); every EDGES table (from to value) restricted to the
#    universe.
# 4. Perturbation-first AUROC: for each perturbation whose name is a universe
#    gene, every edge type scores target -> every other gene against the DE
#    labels; the gene-level baselines (variance, mean, detection = 1 - dropout)
#    rank genes the same way for every perturbation. Paired tests over
#    perturbations.
# 5. Incremental value: logit-cv, gene-level features vs + each edge type
#    (and + coexpr vs + coexpr + each EDGES), folds and bootstrap by
#    perturbation.
# 6. Reference recovery: AUROC of each edge type against REF over the
#    universe's pairs, raw and after cross-fitted residualisation on both
#    genes' expression covariates (retained fraction), each against a
#    degree-preserving (curveball) null.
# 7. registry.tsv: every test as one row, BH over the whole registry; figures
#    and report.html.
#
# Outputs in OUT: perturbation_auroc.tsv (perturbation method n_pos n_neg
# auroc; NA below 3 DE genes), method_summary.tsv, paired.tsv,
# incremental.tsv, reference.tsv, registry.tsv (analysis hypothesis test
# statistic p effect n q significant), fig_*.png/svg, report.html.
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
# space-separated NAME=FILE edge tables (TSV with from, to, value)
EDGES    ?=
REF      ?= $(abspath $(PIPE_DIR)/../../shared/data/trrust_v2_human.tsv.gz)
REF_COLS ?= 1,2
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

ifeq ($(strip $(COUNTS)),)
$(error COUNTS is empty: give the counts (10x .mtx[.gz] genes x cells, or .npy cells x genes))
endif
ifeq ($(strip $(CELLS)),)
$(error CELLS is empty: give the cells table with the $(GROUP) column)
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
BASELINES    := variance mean detection
GENE_FEATS   := mean,variance,detection
comma := ,

# The settings that change results; the stamp changes only when they do.
SETTINGS := counts=$(COUNTS) genes=$(GENES) cells=$(CELLS) group=$(GROUP) control=$(CONTROL) \
	edges=$(EDGES) ref=$(REF) refcols=$(REF_COLS) map=$(MAP) mapcols=$(MAP_COLS) hvg=$(HVG) \
	lfc=$(LFC) alpha=$(ALPHA) test=$(TEST) folds=$(FOLDS) draws=$(DRAWS) seed=$(SEED) \
	mincells=$(MIN_CELLS) fdr=$(FDR) signed=$(COEXPR_SIGNED)
STAMP := $(OUT)/.settings
$(shell mkdir -p $(OUT)/edges $(OUT)/reference && { [ -f $(STAMP) ] && [ "$$(cat $(STAMP))" = "$(SETTINGS)" ] || printf '%s\n' "$(SETTINGS)" > $(STAMP); })

EXPR := --counts $(COUNTS) $(if $(GENES),--genes $(GENES)) --cells $(CELLS)

all: $(OUT)/report.html
.DEFAULT_GOAL := all
.PHONY: all

# ---- 1. control-cell statistics, HVG universe (perturbed genes forced in) ----
$(OUT)/targets.txt: $(CELLS) $(STAMP)
	gzip -dcf $(CELLS) | awk -F'\t' -v G="$(GROUP)" -v C="$(CONTROL)" ' \
		NR == 1 { for (i = 1; i <= NF; i++) if ($$i == G) g = i; \
			if (!g) { print "perturbation.mk: $(CELLS) has no column " G > "/dev/stderr"; exit 1 } next } \
		{ sub(/\r$$/, ""); n = split($$g, a, ","); for (i = 1; i <= n; i++) if (a[i] != C && a[i] != "") print a[i] }' \
		| sort -u > $@.tmp && mv $@.tmp $@

$(OUT)/gene_stats.tsv: $(COUNTS) $(GENES) $(CELLS) $(OUT)/targets.txt $(STAMP)
	gene-stats $(EXPR) --where $(GROUP)=$(CONTROL) --hvg $(HVG) --force $(OUT)/targets.txt -o $@

# universe: HVG + forced genes that vary over the control cells
$(OUT)/universe.txt: $(OUT)/gene_stats.tsv
	awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; next } \
		$$(c["hvg_rank"]) != "NA" && $$(c["var"]) > 0 { print $$1 }' $< > $@.tmp && mv $@.tmp $@

$(OUT)/evaluable.txt: $(OUT)/targets.txt $(OUT)/universe.txt
	awk 'FNR == NR { u[$$1]; next } $$1 in u' $(OUT)/universe.txt $< > $@.tmp && mv $@.tmp $@

# ---- 2. DE per perturbation ----
$(OUT)/de.tsv.gz: $(COUNTS) $(GENES) $(CELLS) $(STAMP)
	de-call $(EXPR) --group $(GROUP) --control $(CONTROL) --test $(TEST) --lfc $(LFC) \
		--alpha $(ALPHA) --min-cells $(MIN_CELLS) -o $@

# ---- 3. edges over the universe ----
$(OUT)/coexpr_raw.tsv.gz: $(COUNTS) $(GENES) $(CELLS) $(OUT)/universe.txt $(STAMP)
	coexpr $(EXPR) --where $(GROUP)=$(CONTROL) --genes-subset $(OUT)/universe.txt -o $@

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
	| auroc --by perturbation,method --score score --label label \
	| cut -f1-5 > $@.tmp && mv $@.tmp $@

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

# every method vs chance; each edge type vs each baseline; each EDGES vs coexpr
PAIRS := $(foreach m,$(EDGE_METHODS) $(BASELINES),$(m):chance) \
	$(foreach m,$(EDGE_METHODS),$(foreach b,$(BASELINES),$(m):$(b))) \
	$(foreach m,$(ENAMES),$(m):coexpr)
$(OUT)/paired.tsv: $(OUT)/perturbation_auroc_wide.tsv
	first=1; for ab in $(PAIRS); do a=$${ab%%:*} b=$${ab#*:}; \
		paired-test --a $$a --b $$b $< | awk -F'\t' -v OFS='\t' -v a=$$a -v b=$$b -v f=$$first \
			'NR == 1 { if (f) print "a", "b", $$0; next } { print a, b, $$0 }'; first=0; \
	done > $@.tmp && mv $@.tmp $@

# ---- 5. incremental value over gene-level features ----
FOLDS_EFF = $$(n=$$(awk 'NR > 1' $(OUT)/perturbation_auroc_wide.tsv | wc -l); [ $$n -lt $(FOLDS) ] && echo $$n || echo $(FOLDS))
$(OUT)/incremental.tsv: $(OUT)/pert_scores.tsv.gz $(OUT)/perturbation_auroc_wide.tsv
	k=$(FOLDS_EFF); \
	{ logit-cv --label label --group perturbation --set gene=$(GENE_FEATS) \
		$(foreach m,$(EDGE_METHODS),--set gene+$(m)=$(GENE_FEATS),$(m)) \
		--folds $$k --bootstrap $(DRAWS) --seed $(SEED) --boot-p $< \
		| awk -F'\t' -v OFS='\t' 'NR == 1 { print "baseline", $$0; next } { print "gene", $$0 }'; \
	  if [ -n "$(ENAMES)" ]; then logit-cv --label label --group perturbation --set gene+coexpr=$(GENE_FEATS),coexpr \
		$(foreach m,$(ENAMES),--set gene+coexpr+$(m)=$(GENE_FEATS),coexpr,$(m)) \
		--folds $$k --bootstrap $(DRAWS) --seed $(SEED) --boot-p $< \
		| awk -F'\t' -v OFS='\t' 'NR > 1 { print "gene+coexpr", $$0 }'; fi; \
	} > $@.tmp && mv $@.tmp $@

# ---- 6. reference recovery ----
$(OUT)/reference/ref.tsv: $(REF) $(OUT)/universe.txt $(if $(MAP),$(MAP)) $(STAMP)
	$(LIB)/ref-universe $(REF) $(REF_COLS) $(OUT)/universe.txt $(MAP) $(if $(MAP),$(MAP_COLS)) > $@.tmp && mv $@.tmp $@

$(OUT)/reference/%.pairs.tsv.gz: $(OUT)/edges/%.tsv.gz $(OUT)/gene_stats.tsv $(OUT)/reference/ref.tsv
	$(LIB)/pair-covars $(OUT)/gene_stats.tsv $(OUT)/reference/ref.tsv $< \
	| residualize --y value --x mean_from,var_from,det_from,mean_to,var_to,det_to --folds $(FOLDS) --seed $(SEED) \
	| gzip -1 > $@.tmp && mv $@.tmp $@

# method n_pairs n_ref auroc_raw auroc_res retained, then the curveball null
# of the raw and of the residual score (null_mean null_sd z p, each)
$(OUT)/reference/%.tsv: $(OUT)/reference/%.pairs.tsv.gz $(OUT)/reference/ref.tsv $(OUT)/universe.txt
	set -- $$(auroc --score value --label in_ref --min-pos 1 --min-neg 1 $< | awk -F'\t' 'NR == 2 { print $$1, $$2, $$3 }') \
	       $$(auroc --score residual --label in_ref --min-pos 1 --min-neg 1 $< | awk -F'\t' 'NR == 2 { print $$3 }'); \
	npos=$$1 nneg=$$2 raw=$$3 res=$$4; \
	nul() { edge-null --score $$1 --ref $(OUT)/reference/ref.tsv --ref-cols from,to --universe $(OUT)/universe.txt \
		--method curveball --draws $(DRAWS) --seed $(SEED) $< | awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) c[$$i] = i; next } \
		{ print $$(c["null_mean"]), $$(c["null_sd"]), $$(c["z"]), $$(c["p"]) }'; }; \
	if [ $$npos -gt 0 ] && [ $$nneg -gt 0 ]; then a=$$(nul value); b=$$(nul residual); else a="NA NA NA NA" b="NA NA NA NA"; fi; \
	{ printf 'method\tn_pairs\tn_ref\tauroc_raw\tauroc_res\tretained\tnull_mean\tnull_sd\tz\tp\tnull_mean_res\tnull_sd_res\tz_res\tp_res\n'; \
	  echo "$* $$((npos + nneg)) $$npos $$raw $$res $$a $$b" | awk -v OFS='\t' '{ r = ($$4 == "NA" || $$5 == "NA" || $$4 == 0.5) ? "NA" : sprintf("%.17g", ($$5 - 0.5) / ($$4 - 0.5)); \
		print $$1, $$2, $$3, $$4, $$5, r, $$6, $$7, $$8, $$9, $$10, $$11, $$12, $$13 }'; } > $@.tmp && mv $@.tmp $@

$(OUT)/reference.tsv: $(foreach m,$(EDGE_METHODS),$(OUT)/reference/$(m).tsv)
	$(LIB)/cat-tsv $^ > $@.tmp && mv $@.tmp $@

# ---- 7. registry, BH over all of it ----
$(OUT)/registry.tsv: $(OUT)/paired.tsv $(OUT)/incremental.tsv $(OUT)/reference.tsv
	$(LIB)/pert-registry $(OUT) | bh-fdr --p p --alpha $(FDR) -o $@

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
			 FILENAME == ARGV[2] && $$1 == "gene" && $$2 == "gene+" m { print i, m, "logit-cv AUROC, gene-level + edge", $$3 } \
			 FILENAME == ARGV[3] && $$1 == m { print i, m, "reference AUROC (raw)", $$4; print i, m, "reference AUROC (residual)", $$5 }' \
			$(OUT)/method_summary.tsv $(OUT)/incremental.tsv $(OUT)/reference.tsv; i=$$((i + 1)); done; } > $@.tmp && mv $@.tmp $@

$(OUT)/fig_layers.png: $(OUT)/layer_profile.tsv
	$(LIB)/curves --x index --xtics edges --y value --by measure --chance 0.5 --chancetitle "chance (AUROC 0.5)" \
		--title "Edge tables in the order given ($(ENAMES)): profiles" \
		--xlabel "edge table" --ylabel "AUROC" $< $(basename $@)

FIGS := $(OUT)/fig_pert_auroc.png $(OUT)/fig_delta.png $(if $(word 2,$(ENAMES)),$(OUT)/fig_layers.png)

$(OUT)/report.html: $(OUT)/registry.tsv $(OUT)/method_summary.tsv $(OUT)/perturbation_auroc.tsv $(FIGS)
	$(LIB)/report-perturbation "$(OUT)" "$(ENAMES)" "$(FDR)" "$(SETTINGS)" > $@.tmp && mv $@.tmp $@
	echo "report: $@" >&2
