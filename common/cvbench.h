/* logit-cv's benchmark engine: the same cross-validated comparison of
 * feature sets, with a choice of model (L2 logistic or XGBoost), of split
 * design and of metric. logit-cv hands over to it when --model, --split,
 * --long, --pred-out or --recall-k is given.
 *
 * Split designs (row fold = -1: the row takes no part):
 *   perturbation  GroupKFold by --group
 *   gene          GroupKFold by --group2
 *   joint         GroupKFold of --group into P_0..P_k-1 and of --group2 into
 *                 G_0..G_k-1; fold f tests the rows in P_f x G_f and trains
 *                 on the rows of the other P_j x G_j, whose perturbation and
 *                 gene are both outside fold f; rows in P_i x G_j (i != j)
 *                 are dropped and counted.
 * Metrics, each with a bootstrap over --group (perturbations):
 *   auroc, auprc (average precision, scikit-learn's), recall_at_k (per
 *   perturbation the share of its positives among its k highest predictions,
 *   averaged over perturbations with a positive). */
#ifndef AK_CVBENCH_H
#define AK_CVBENCH_H

#include <stdint.h>

#include "gbdt.h"
#include "strtab.h"
#include "tsv.h"

enum { SPLIT_PERTURBATION = 0, SPLIT_GENE, SPLIT_JOINT };

typedef struct cvbench {
	const char *label, *group, *group2, *out, *foldsout, *predout;
	int nset;
	char **name;       /* nset set names */
	const char **cols; /* nset comma-separated column lists */
	int folds, balanced, verbose, bootp, split, longout;
	int64_t recall_k;
	double C, level;
	int64_t boot;
	uint64_t seed;
	model_opt_t model;
} cvbench_t;

/* The rows of a grouped cross-validation table, as logit-cv and
 * layer-select read them: a 0/1 label, a group (and optionally a second
 * group), nf numeric columns. A row with a missing value (NA, empty) in any
 * of the columns is skipped and counted; a non-finite number is an error. */
typedef struct cvrows {
	int64_t n, total, skipped;
	int nf;
	double *X;           /* n x nf */
	unsigned char *y;
	int64_t *row;        /* 0-based data row in the input */
	int64_t *gid, *g2id; /* g2id NULL without a second group */
	strtab_t *groups, *groups2;
} cvrows_t;

/* Reads t to the end: label column cl, group cg, second group cg2 (< 0:
 * none), value columns fcol[0..nf). Dies on a header-only table; warns
 * "N rows with a missing WHAT skipped". */
void cvrows_read(tsv_t *t, int cl, int cg, int cg2, const int *fcol, int nf, const char *what, cvrows_t *d);
void cvrows_free(cvrows_t *d);
/* GroupKFold (folds.h, scikit-learn's) of the groups (second = 1: of the
 * second groups) into k folds: fold of each group id. Dies naming FILE and
 * COL when there are fewer groups than folds. */
int *cvrows_group_folds(const cvrows_t *d, int second, int k, const char *file, const char *col);
/* Writes "group<TAB>fold" lines (header included) to PATH. */
void cvrows_write_folds(const char *path, const strtab_t *groups, const int *gfold);

/* --split's argument to SPLIT_*, or a usage error. */
int cvbench_split(const char *arg);
void cvbench_run(const cvbench_t *c, const char *path);

#endif
