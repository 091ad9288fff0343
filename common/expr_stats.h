/* Statistical kernels of the expression filters that stats.h does not have:
 * average ranks of a sparse vector (an implicit block of zeros), Welch's
 * t-test from group moments, and the Mann-Whitney U normal approximation.
 * Ranks, BH and the distribution functions are rank.h's and stats.h's. */
#ifndef AK_EXPR_STATS_H
#define AK_EXPR_STATS_H

#include <stdint.h>

/* Ranks within a vector of length n of which only the k entries x[0..k-1] are
 * stored and the other n - k are zeros (x holds no zeros and no NaN). Writes
 * the ranks of the stored entries into rank[0..k-1] and returns the shared
 * rank of the zeros (0 when k == n) in *zero_rank. Returns the tie term
 * (zeros included as one tie group). */
double xs_rank_avg_sparse(const double *x, int64_t k, int64_t n, double *rank, double *zero_rank);

/* Welch's unequal-variance t-test, two-sided, from group means, sample
 * variances (ddof 1) and sizes. Follows scipy.stats.ttest_ind(equal_var=False):
 * 0/0 gives t = NaN (p NaN); an undefined df (both variances 0) is taken as 1. */
void xs_welch(double m1, double v1, double n1, double m2, double v2, double n2,
	      double *t, double *df, double *p);

/* Mann-Whitney U two-sided p by the tie-corrected normal approximation, as
 * scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=cont):
 * u1 = U of the first sample, tie = sum (t^3 - t) over the pooled sample. */
double xs_mwu_p(double u1, double n1, double n2, double tie, int cont);

#endif
