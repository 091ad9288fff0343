/* Sorting and ranking of doubles with fixed tie-breaking, for statistics.
 * Equal values (and -0.0 == +0.0) keep their index order, so results never
 * depend on the sort algorithm. NaN must be filtered out by the caller
 * (here NaNs sort after +inf, in index order). */
#ifndef AK_RANK_H
#define AK_RANK_H

#include <stdint.h>

/* order[0..n) = indices of x in ascending order of value, ties by index
 * (a stable argsort). O(n) extra memory; radix sort for large n. */
void rank_argsort(const double *x, int64_t n, int64_t *order);
/* Same, descending by value, ties still by ascending index. */
void rank_argsort_desc(const double *x, int64_t n, int64_t *order);

/* Mid-ranks (1-based; tied values get the mean of the ranks they span), as
 * scipy.stats.rankdata(method='average'). Returns the tie term
 * sum over groups of tied values of (t^3 - t), which the tie corrections of
 * rank tests and of Spearman's coefficient need (0 when there is no tie). */
double rank_mid(const double *x, int64_t n, double *rank);

#endif
