/* Fisher's exact test on 2x2 tables and the hypergeometric distribution
 * behind it, exact for counts in the billions: the probability mass is
 * computed with Loader's saddle-point expansion (stirlerr + deviance, as R's
 * dhyper) rather than differences of log-gamma values, which lose about
 * log10(count) digits, and tails are summed outward from the requested
 * point by the ratio of successive terms, with the leading term factored
 * out in log space, so p-values far below 1e-300 keep their relative
 * precision in the log version. */
#ifndef AK_FISHER_H
#define AK_FISHER_H

#include <stdint.h>

/* Hypergeometric X: draws n from a population of N holding K successes.
 * log P(X = x); -inf outside the support. Requires 0 <= K, n <= N. */
double hyper_logpmf(int64_t x, int64_t K, int64_t n, int64_t N);
/* log P(X >= x) and log P(X <= x). */
double hyper_logsf_ge(int64_t x, int64_t K, int64_t n, int64_t N);
double hyper_logcdf(int64_t x, int64_t K, int64_t n, int64_t N);

/* Table [[a, b], [c, d]]: rows = in the group / not, columns = has the
 * property / not. One-sided p of enrichment, P(X >= a) with the margins
 * fixed (scipy.stats.fisher_exact(alternative='greater')). When a row or a
 * column sums to 0 the p-value is 1, as scipy's. */
double fisher_greater(int64_t a, int64_t b, int64_t c, int64_t d);
/* Its natural log (finite where the double p-value underflows to 0). */
double fisher_greater_log(int64_t a, int64_t b, int64_t c, int64_t d);
/* One-sided p of depletion, P(X <= a). */
double fisher_less(int64_t a, int64_t b, int64_t c, int64_t d);

/* Two-sided p: the tables no more likely than the observed one (scipy's
 * alternative='two-sided'; probabilities within relative 1e-7 tie). */
double fisher_two_sided(int64_t a, int64_t b, int64_t c, int64_t d);

/* Sample odds ratio a d / (b c) exactly as scipy.stats.fisher_exact reports
 * it: NaN when a row or column sums to 0, +inf when b or c is 0. */
double fisher_odds_ratio(int64_t a, int64_t b, int64_t c, int64_t d);

#endif
