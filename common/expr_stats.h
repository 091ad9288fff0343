/* Statistical kernels for the expression filters: average ranks with ties
 * (dense vectors and vectors with an implicit block of zeros), Benjamini-
 * Hochberg, Welch's t-test, the Mann-Whitney U normal approximation, and the
 * distribution functions they need. No filter policy here. */
#ifndef AK_EXPR_STATS_H
#define AK_EXPR_STATS_H

#include <stdint.h>

/* Average ranks (1-based; tied values share the mean of their positions) of
 * x[0..n-1] into rank[0..n-1]. Returns the tie term sum over tie groups of
 * (t^3 - t). x must hold no NaN. */
double xs_rank_avg(const double *x, int64_t n, double *rank);

/* Ranks within a vector of length n of which only the k entries x[0..k-1] are
 * stored and the other n - k are zeros (x holds no zeros and no NaN). Writes
 * the ranks of the stored entries into rank[0..k-1] and returns the shared
 * rank of the zeros (0 when k == n) in *zero_rank. Returns the tie term
 * (zeros included as one tie group). */
double xs_rank_avg_sparse(const double *x, int64_t k, int64_t n, double *rank, double *zero_rank);

/* Benjamini-Hochberg: q_(i) = min_{j>=i} min(1, m p_(j) / j) with m the
 * number of non-NaN p; NaN p give NaN q. q may alias p. */
void xs_bh(const double *p, int64_t n, double *q);

/* Upper tail of the standard normal, P(Z > z). */
double xs_norm_sf(double z);
/* Upper tail of Student's t with df degrees of freedom, P(T > t). */
double xs_t_sf(double t, double df);
/* Regularised incomplete beta I_x(a, b). */
double xs_beta_inc(double a, double b, double x);

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
