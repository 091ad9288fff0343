/* Per-group ranking metrics over one score column: the "perturbation-first"
 * views (each perturbation's genes ranked on their own), shared by logit-cv,
 * layer-select and match. */
#ifndef AK_METRICS_H
#define AK_METRICS_H

#include <stdint.h>

/* Rows s[0..n) sorted by ascending score with labels y and group ids
 * g[i] in 0..ng-1. For every group: recall at k = the share of the group's
 * positives among its k highest scores (k capped at the group's size; a tie
 * straddling the cut counts in proportion, as precision_at_sorted), NaN for
 * a group without positives. r has ng entries. */
void recall_at_k_groups(const double *s, const unsigned char *y, const int64_t *g, int64_t n,
			int64_t ng, int64_t k, double *r);

/* Same layout: each group's AUROC (NaN when the group lacks a class). */
void auroc_groups(const double *s, const unsigned char *y, const int64_t *g, int64_t n, int64_t ng,
		  double *a);

/* Mean of v[0..n) over its non-NaN entries weighted by w (NULL: 1);
 * NaN when no weight falls on a non-NaN entry. */
double mean_weighted_nonan(const double *v, const double *w, int64_t n);

#endif
