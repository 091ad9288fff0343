#include "rankcorr.h"

#include <math.h>

double spearman_r2(uint64_t n, unsigned __int128 sab, unsigned __int128 saa, unsigned __int128 sbb)
{
	if (n < 2)
		return NAN;
	/* Doubled ranks sum to n(n+1) whatever the ties, so the centred sums
	 * are sum(ab) - n(n+1)^2 (and likewise for a, b), still exact. */
	unsigned __int128 c = (unsigned __int128)n * (n + 1) * (n + 1);
	__int128 sxy = (__int128)(sab - c);
	unsigned __int128 sxx = saa - c, syy = sbb - c;
	if (sxx == 0 || syy == 0)
		return NAN;
	/* double, not long double: the sums are exact, one rounding each is
	 * plenty, and valgrind does not emulate x87 extended precision. */
	double r = (double)sxy / sqrt((double)sxx * (double)syy);
	if (r > 1)
		r = 1;
	if (r < -1)
		r = -1;
	return r;
}

unsigned __int128 dot_u32(const uint32_t *x, const uint32_t *y, size_t n)
{
	unsigned __int128 s = 0;
	for (size_t i = 0; i < n; i++)
		s += (uint64_t)x[i] * y[i];
	return s;
}

