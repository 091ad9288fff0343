/* Order statistics of doubles: selection of the k-th smallest value, the
 * median, and quantiles with numpy's interpolation. Sorting and keys are
 * sort.h's. */
#ifndef AK_SELECT_H
#define AK_SELECT_H

#include <stddef.h>
#include <stdint.h>

/* k-th smallest (0-based) of a[0..n), n > k; a is reordered so that
 * a[i] <= a[k] for i < k and a[i] >= a[k] for i > k. Expected O(n). */
double select_f64(double *a, size_t n, size_t k);
/* Median (mean of the two middle values when n is even, as numpy), NaN
 * when n is 0; a is reordered. */
double median_f64(double *a, size_t n);

/* Quantile of sorted v[0..n) with linear interpolation between order
 * statistics (numpy's default, "type 7"): v[h] with h = (n-1) q. NaN when
 * n is 0. */
double quantile_sorted(const double *v, int64_t n, double q);
/* Percentile interval of v[0..n) (no NaN) at confidence level (0.95: the
 * 2.5% and 97.5% quantiles), as a bootstrap reports it; sorts v. */
void quantile_interval(double *v, int64_t n, double level, double *lo, double *hi);

#endif
