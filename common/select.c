#include "select.h"

#include <math.h>
#include <stdlib.h>

#include "sort.h"

double select_f64(double *a, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	/* Quickselect with a median-of-three pivot; after too many rounds
	 * (adversarial input) the remaining range is sorted: O(n log n) worst. */
	int budget = 64;
	while (hi > lo) {
		if (--budget == 0) {
			sort_f64(a + lo, (size_t)(hi - lo + 1));
			return a[kk];
		}
		ptrdiff_t mid = lo + (hi - lo) / 2;
		double x = a[lo], y = a[mid], z = a[hi];
		double p = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p)
				i++;
			while (a[j] > p)
				j--;
			if (i <= j) {
				double t = a[i];
				a[i++] = a[j];
				a[j--] = t;
			}
		}
		/* [lo, j] <= p, [i, hi] >= p, and anything between equals p. */
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return a[kk];
	}
	return a[kk];
}

double median_f64(double *a, size_t n)
{
	if (n == 0)
		return NAN;
	size_t h = n / 2;
	double hi = select_f64(a, n, h);
	if (n % 2)
		return hi;
	/* After selecting h, a[0..h) holds the h smallest: the lower middle is their max. */
	double lo = a[0];
	for (size_t i = 1; i < h; i++)
		lo = a[i] > lo ? a[i] : lo;
	return (lo + hi) / 2;
}

double quantile_sorted(const double *v, int64_t n, double q)
{
	if (n <= 0)
		return NAN;
	double h = (double)(n - 1) * q;
	int64_t lo = (int64_t)floor(h);
	if (lo < 0)
		lo = 0;
	if (lo >= n - 1)
		return v[n - 1];
	double f = h - (double)lo;
	return v[lo] + f * (v[lo + 1] - v[lo]);
}

void quantile_interval(double *v, int64_t n, double level, double *lo, double *hi)
{
	sort_f64(v, (size_t)n);
	double tail = (1 - level) / 2;
	*lo = quantile_sorted(v, n, tail);
	*hi = quantile_sorted(v, n, 1 - tail);
}
