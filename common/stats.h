/* Statistics kernels shared by the filters: classification summaries
 * (AUROC, average precision, precision at k), multiple-testing adjustment
 * (Benjamini-Hochberg / -Yekutieli), the paired t-test, Welch's t and the
 * Mann-Whitney normal approximation from summaries, distribution functions
 * and numpy-compatible sums (the Wilcoxon signed-rank tests are
 * signrank.h's, quantiles select.h's). Plain arrays in, numbers out:
 * grouping, NA policy and I/O belong to the callers. */
#ifndef AK_STATS_H
#define AK_STATS_H

#include <stdint.h>

/* ---- sums and moments ---- */

/* Sum exactly as numpy's add.reduce does for a contiguous float64 array
 * (pieces of 8192 elements, each summed pairwise in 8-way unrolled blocks of
 * 128), so that means and variances agree with numpy/scipy bit for bit. */
double sum_pairwise(const double *x, int64_t n);
/* np.mean(x) */
double mean_np(const double *x, int64_t n);
/* np.var(x, ddof) computed as scipy.stats does (mean of squared deviations
 * from np.mean, times n/(n-ddof)); tmp needs n doubles. */
double var_np(const double *x, int64_t n, int ddof, double *tmp);

/* ---- binary classification over rows sorted by ascending score ----
 * s[0..n) ascending (ties = equal values), y[i] in {0, 1}, w[i] >= 0 row
 * weights or NULL for 1. The score orders rows: higher = more positive. */

/* AUROC = Mann-Whitney U / (W_pos W_neg), ties counted one half (mid-ranks).
 * With w == NULL, U is counted in 64-bit integers and divided once, so the
 * result is the correctly rounded exact value. NaN when a class is empty. */
double auroc_sorted(const double *s, const unsigned char *y, const double *w, int64_t n);
/* As auroc_sorted with w == NULL, also returning 2U exactly (for permutation
 * tests that compare statistics without rounding). */
double auroc_sorted_u2(const double *s, const unsigned char *y, int64_t n, int64_t *u2);
/* Average precision as scikit-learn's average_precision_score:
 * sum over distinct thresholds t (descending) of (R(t) - R(prev)) P(t).
 * NaN when there is no positive. */
double avgprec_sorted(const double *s, const unsigned char *y, const double *w, int64_t n);
/* Share of positives among the k highest scores; when a tie straddles the
 * cut, the tied rows count in proportion (the expected precision over random
 * orders of the tie). k is capped at n. NaN when n == 0 or k < 1. */
double precision_at_sorted(const double *s, const unsigned char *y, int64_t n, int64_t k);

/* Unsorted convenience: score[i], label[i] in {0,1}; sorts internally. */
double auroc(const double *score, const unsigned char *label, int64_t n);
double avgprec(const double *score, const unsigned char *label, int64_t n);

/* ---- multiple testing ---- */

enum { FDR_BH = 0, FDR_BY = 1 };
/* q-values for p[0..m) (no NaN; caller drops missing values), in the input
 * order: q_(i) = min_{j >= i} min(1, p_(j) / (j/m)) for BH, with j/m further
 * divided by sum_{k<=m} 1/k for BY (statsmodels' fdrcorrection arithmetic). */
void fdr_adjust(const double *p, int64_t m, int method, double *q);
/* As fdr_adjust, with NaN p allowed: they get NaN q and do not count in m. */
void fdr_adjust_nan(const double *p, int64_t n, int method, double *q);
/* Same, when order[] already sorts p ascending (saves the sort). */
void fdr_adjust_sorted(const double *p, const int64_t *order, int64_t m, int method, double *q);

/* ---- paired tests ---- */

typedef struct ttest_res {
	double mean, sd, t, p, df;
} ttest_res_t;
/* One-sample t-test of d against 0 (= paired t-test on differences), as
 * scipy.stats.ttest_rel: t = mean / (sd / sqrt(n)), sd with ddof 1, two-sided
 * p from Student's t with n-1 df. sd == 0 gives t = +-inf, p = 0 (or NaN
 * when the mean is 0 too); n < 2 gives NaN. */
ttest_res_t ttest_one(const double *d, int64_t n);

/* ---- two-sample tests ---- */

/* Welch's unequal-variance t-test, two-sided, from group means, sample
 * variances (ddof 1) and sizes. Follows scipy.stats.ttest_ind(equal_var=False):
 * 0/0 gives t = NaN (p NaN); an undefined df (both variances 0) is taken as 1. */
void welch_moments(double m1, double v1, double n1, double m2, double v2, double n2,
		   double *t, double *df, double *p);

/* Mann-Whitney U two-sided p by the tie-corrected normal approximation, as
 * scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=cont):
 * u1 = U of the first sample, tie = sum (t^3 - t) over the pooled sample. */
double mwu_p_normal(double u1, double n1, double n2, double tie, int cont);

/* ---- distributions ---- */

/* Standard normal upper tail P(Z > z), accurate far into the tail. */
double norm_sf(double z);
/* Student's t upper tail P(T > t) with df > 0 degrees of freedom. */
double t_sf(double t, double df);
/* Regularized incomplete beta I_x(a, b), with y = 1 - x given separately so
 * that callers can pass it without cancellation. a, b > 0. */
double betainc_reg(double a, double b, double x, double y);
/* log B(a, b), accurate also when one argument is large. */
double lbeta(double a, double b);

#endif
